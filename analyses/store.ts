/**
 * Reading and writing runs/NAME/analysis.json. The file is rewritten atomically after every few
 * analysed checkpoints, so an interrupted `groklens analyze` loses nothing already computed and the
 * next invocation only analyses what is missing.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson } from '../src/config/json.ts';
import { FormatError } from '../src/errors.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { checkJson, preview, readJsonFile } from '../src/io/json-file.ts';
import { PACKAGE_VERSION, READABLE_ANALYSIS_FORMAT_VERSIONS } from '../src/version.ts';
import { AnalysisFileSchema } from './schema.ts';
import { ANALYSIS_FORMAT_VERSION, type AnalysisFile } from './types.ts';

export const analysisPath = (runDir: string): string => join(runDir, 'analysis.json');

/** analysis.json of a format version newer than this groklens reads: never overwritten. */
export class NewerAnalysisError extends FormatError {
  override name = 'NewerAnalysisError';
}

/** The run's analysis.json, or null when there is none. A file of another format or version is an error. */
export function readAnalysis(runDir: string): AnalysisFile | null {
  const file = analysisPath(runDir);
  if (!existsSync(file)) return null;
  return checkAnalysisValue(readJsonFile(file, AFRESH), file);
}

const AFRESH = '; delete it to analyse the run afresh';

export function parseAnalysis(text: string, file: string): AnalysisFile {
  const parsed = parseJson(text);
  if (!parsed.ok)
    throw new FormatError(
      file,
      `not valid JSON at line ${parsed.error.line}, column ${parsed.error.column}: ${parsed.error.reason}${AFRESH}`,
    );
  return checkAnalysisValue(parsed.value, file);
}

/**
 * A parsed analysis.json checked: format, version (a newer one is a NewerAnalysisError), the
 * schema (./schema.ts), then what the schema cannot say — ascending checkpoint steps and key
 * frequencies within the group's range 1…⌊n/2⌋.
 */
export function checkAnalysisValue(a: unknown, file: string): AnalysisFile {
  const top = a !== null && typeof a === 'object' && !Array.isArray(a) ? (a as Record<string, unknown>) : null;
  if (top === null || top.format !== 'groklens-analysis') {
    throw new FormatError(file, `format: expected "groklens-analysis", got ${preview(top === null ? a : top.format)}`);
  }
  const v = top.format_version;
  if (!READABLE_ANALYSIS_FORMAT_VERSIONS.includes(v as number)) {
    if (typeof v === 'number' && Number.isInteger(v) && v > ANALYSIS_FORMAT_VERSION) {
      throw new NewerAnalysisError(
        file,
        `format_version: the file is version ${v}, written by a newer groklens; this groklens (${PACKAGE_VERSION}) reads version ${ANALYSIS_FORMAT_VERSION} and leaves the file as it is: upgrade groklens, or move the file away to analyse the run afresh`,
      );
    }
    throw new FormatError(
      file,
      `format_version: this groklens reads versions ${READABLE_ANALYSIS_FORMAT_VERSIONS.join(' and ')}, the file is version ${preview(v)}${AFRESH}`,
    );
  }
  const out = checkJson(AnalysisFileSchema, v === 1 ? upgradeVersion1(top) : a, file) as unknown as AnalysisFile;
  out.format_version = ANALYSIS_FORMAT_VERSION;
  let prev = -1;
  out.checkpoints.forEach((c, i) => {
    if (c.step <= prev)
      throw new FormatError(
        file,
        `checkpoints[${i}].step: ${c.step} is not allowed; expected steps in strictly ascending order (checkpoints[${i - 1}] has step ${prev})`,
      );
    prev = c.step;
  });
  const K = out.group.kind !== 'none' && out.group.n > 0 ? Math.floor(out.group.n / 2) : null;
  out.key_frequencies.forEach((k, i) => {
    if (K !== null && k > K)
      throw new FormatError(
        file,
        `key_frequencies[${i}]: ${k} is not allowed; expected a frequency in 1…${K} (the group has order ${out.group.n})`,
      );
  });
  return out;
}

/**
 * Version 1 → 2: summary.contraction.v_post became v_fit_end, and v_at_grok is new: taken from
 * the T_grok checkpoint's norms when the file has them, else null (`analyze` fills it in).
 */
function upgradeVersion1(top: Record<string, unknown>): Record<string, unknown> {
  const summary = top.summary as Record<string, unknown> | undefined;
  const fit =
    summary && typeof summary === 'object' ? (summary.contraction as Record<string, unknown> | null | undefined) : null;
  if (!fit || typeof fit !== 'object' || !('v_post' in fit)) return top;
  const { v_post, ...rest } = fit;
  const tGrok = summary!.t_grok_95;
  const cps = Array.isArray(top.checkpoints)
    ? (top.checkpoints as { step?: unknown; norms?: { sq_norm_total?: unknown } }[])
    : [];
  const atGrok = cps.find((c) => c && c.step === tGrok)?.norms?.sq_norm_total;
  return {
    ...top,
    summary: {
      ...summary,
      contraction: { ...rest, v_at_grok: typeof atGrok === 'number' ? atGrok : null, v_fit_end: v_post },
    },
  };
}

/**
 * What `analyze` starts from: the run's analysis.json, or null when there is none. A newer
 * format version is refused (NewerAnalysisError) and left untouched. An older, foreign or damaged
 * file is moved aside to analysis.json.bak (or .bak.2, .bak.3, … if taken) — never destroyed —
 * and the analysis starts afresh; `log` says so.
 */
export function readAnalysisForUpdate(runDir: string, log: (line: string) => void): AnalysisFile | null {
  const file = analysisPath(runDir);
  if (!existsSync(file)) return null;
  try {
    return readAnalysis(runDir);
  } catch (e) {
    if (!(e instanceof FormatError) || e instanceof NewerAnalysisError) throw e;
    let kept = `${file}.bak`;
    for (let i = 2; existsSync(kept); i++) kept = `${file}.bak.${i}`;
    try {
      renameSync(file, kept);
    } catch (err) {
      throw new FormatError(
        file,
        `${e.problem.replace(AFRESH, '')}; cannot move it aside to ${kept} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): delete it to analyse the run afresh`,
      );
    }
    log(`${e.message.replace(AFRESH, '')}: moved it to ${kept}, starting afresh`);
    return null;
  }
}

export function writeAnalysis(runDir: string, a: AnalysisFile): void {
  writeFileAtomic(analysisPath(runDir), JSON.stringify(a, roundReplacer) + '\n');
}

/** 7 significant digits: float32 inputs carry no more, and it keeps the file small and diff-able. */
function roundReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return Number(v.toPrecision(7));
  return v;
}
