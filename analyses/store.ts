/**
 * Reading and writing runs/NAME/analysis.json. The file is rewritten atomically after every few
 * analysed checkpoints, so an interrupted `groklens analyze` loses nothing already computed and the
 * next invocation only analyses what is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../src/errors.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { ANALYSIS_FORMAT_VERSION, type AnalysisFile } from './types.ts';

export const analysisPath = (runDir: string): string => join(runDir, 'analysis.json');

/** The run's analysis.json, or null when there is none. A file of another format or version is an error. */
export function readAnalysis(runDir: string): AnalysisFile | null {
  const file = analysisPath(runDir);
  if (!existsSync(file)) return null;
  return parseAnalysis(readFileSync(file, 'utf8'), file);
}

export function parseAnalysis(text: string, file: string): AnalysisFile {
  let a: AnalysisFile;
  try {
    a = JSON.parse(text) as AnalysisFile;
  } catch (e) {
    throw new FormatError(file, `not valid JSON (${(e as Error).message}); delete it to analyse the run afresh`);
  }
  if (a === null || typeof a !== 'object' || a.format !== 'groklens-analysis') {
    throw new FormatError(file, `format: expected "groklens-analysis", got ${JSON.stringify((a as { format?: unknown } | null)?.format)}`);
  }
  if (a.format_version !== ANALYSIS_FORMAT_VERSION) {
    throw new FormatError(file, `format_version: this groklens reads version ${ANALYSIS_FORMAT_VERSION}, the file is version ${JSON.stringify(a.format_version)}; delete it to analyse the run afresh`);
  }
  if (!Array.isArray(a.checkpoints)) throw new FormatError(file, 'checkpoints: expected an array');
  for (const [i, c] of a.checkpoints.entries()) {
    if (!c || !Number.isInteger(c.step) || c.step < 0) throw new FormatError(file, `checkpoints[${i}].step: expected a non-negative integer, got ${JSON.stringify(c?.step)}`);
  }
  if (!Array.isArray(a.key_frequencies)) throw new FormatError(file, 'key_frequencies: expected an array');
  return a;
}

export function writeAnalysis(runDir: string, a: AnalysisFile): void {
  writeFileAtomic(analysisPath(runDir), JSON.stringify(a, roundReplacer) + '\n');
}

/** 7 significant digits: float32 inputs carry no more, and it keeps the file small and diff-able. */
function roundReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return Number(v.toPrecision(7));
  return v;
}
