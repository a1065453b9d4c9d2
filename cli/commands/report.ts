/**
 * `groklens report runs/NAME [-o FILE]`: the run's report as one self-contained HTML file
 * (default runs/NAME/report.html). Reads run.json, metrics.jsonl and analysis.json; never a model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analysisPath, readAnalysis } from '../../analyses/store.ts';
import type { RunReportInput } from '../../reports/input.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import { UserError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { RunStore } from '../../src/run/store.ts';

/**
 * Everything a report needs from a run directory, each file from its one reader (RunStore for
 * run.json and metrics.jsonl, analyses/store.ts for analysis.json), which validates it and names
 * the file, the key and the value of a malformed one.
 */
export function loadReportInput(runDir: string): RunReportInput {
  const store = RunStore.open(runDir);
  const meta = store.meta();
  const metricsFile = store.path('metrics.jsonl');
  const metrics = existsSync(metricsFile) ? store.metrics() : [];
  const file = analysisPath(runDir);
  if (!existsSync(file)) throw new UserError(`${file}: not found; run \`groklens analyze ${runDir}\` first`);
  const analysis = readAnalysis(runDir)!; // checked: format, version, schema, ascending steps, key-frequency range
  return {
    meta,
    metrics,
    analysis,
    attention: analysis.attention ?? null,
    files: { run: store.path('run.json'), metrics: metricsFile, analysis: file },
  };
}

/** Render and write the report; returns the path written. */
export function writeRunReport(runDir: string, output?: string): string {
  const out = output ?? join(runDir, 'report.html');
  const html = renderRunReport(loadReportInput(runDir), { source: runDir });
  writeFileAtomic(out, html);
  return out;
}

export const sizeText = (bytes: number): string =>
  bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`;

export async function reportCommand(runDir: string, opts: { output?: string }): Promise<void> {
  const out = writeRunReport(runDir, opts.output);
  process.stdout.write(`wrote ${out} (${sizeText(readFileSync(out).length)})\n`);
}
