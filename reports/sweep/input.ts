/**
 * What a sweep report is drawn from: the sweep's manifest (base config, every run's id, settings
 * and config diff), its aggregate (analyses/sweep/aggregate.ts: transition times, fits, predictor) and,
 * per run, the rows of its metrics.jsonl and whether it has a report of its own. Plain data only;
 * the CLI (cli/commands/sweep.ts) reads the files. Checked here, where the data enters the
 * renderers, so a malformed file fails with its name, the key and the value.
 */
import { FormatError } from '../../src/errors.ts';
import type { SweepAggregate } from '../../analyses/sweep/types.ts';
import type { SweepManifest } from '../../src/sweep/store.ts';

/** The columns of a metrics.jsonl row the sweep report draws (a MetricsRow has them all). */
export interface SweepMetricsRow {
  step: number;
  test_acc?: number | null; // null or absent: a gap (NaN is null in JSON)
  train_acc?: number | null;
}

export interface SweepReportRun {
  id: string;
  rows: SweepMetricsRow[]; // ascending steps; empty when the run never logged a row
  /** runs/ID/report.html exists: the table links to it. */
  hasReport: boolean;
}

export interface SweepReportInput {
  manifest: SweepManifest;
  aggregate: SweepAggregate;
  runs: SweepReportRun[];
  /** Where the inputs came from, for error messages and the footer. */
  files?: { manifest?: string; aggregate?: string; metrics?: (id: string) => string };
}

function shown(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = String(v);
  }
  if (s === undefined) return 'nothing';
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

const fail = (file: string, key: string, expected: string, got: unknown): never => {
  throw new FormatError(file, `${key}: expected ${expected}, got ${shown(got)}`);
};

/** Validate the renderer input; throws FormatError naming the file, the key and the value. */
export function checkSweepReportInput(input: SweepReportInput): void {
  const mFile = input.files?.manifest ?? 'manifest.json';
  const aFile = input.files?.aggregate ?? 'aggregate.json';
  const rowsFile = input.files?.metrics ?? ((id: string) => `runs/${id}/metrics.jsonl`);
  const { manifest: m, aggregate: a } = input;
  if (!m || typeof m !== 'object') fail(mFile, '(root)', 'an object', m);
  if (typeof m.name !== 'string') fail(mFile, 'name', 'a string', m.name);
  if (!m.base?.config || typeof m.base.config !== 'object') fail(mFile, 'base.config', 'an object', m.base?.config);
  if (!Array.isArray(m.runs)) fail(mFile, 'runs', 'an array', m.runs);
  m.runs.forEach((r, i) => {
    if (!r || typeof r.id !== 'string') fail(mFile, `runs[${i}].id`, 'a string', r?.id);
    if (!r.settings || typeof r.settings !== 'object') fail(mFile, `runs[${i}].settings`, 'an object', r.settings);
    if (!Array.isArray(r.diff)) fail(mFile, `runs[${i}].diff`, 'an array', r.diff);
  });
  if (!a || typeof a !== 'object') fail(aFile, '(root)', 'an object', a);
  if (a.format !== 'groklens-sweep-aggregate') fail(aFile, 'format', '"groklens-sweep-aggregate"', a.format);
  if (!Array.isArray(a.runs)) fail(aFile, 'runs', 'an array', a.runs);
  if (!Array.isArray(a.fits)) fail(aFile, 'fits', 'an array', a.fits);
  if (!a.predictor || !Array.isArray(a.predictor.rows)) fail(aFile, 'predictor.rows', 'an array', a.predictor?.rows);
  const inManifest = new Set(m.runs.map((r) => r.id));
  a.runs.forEach((r, i) => {
    if (!r || typeof r.id !== 'string') fail(aFile, `runs[${i}].id`, 'a string', r?.id);
    if (!inManifest.has(r.id)) fail(aFile, `runs[${i}].id`, `a run of the manifest ${mFile}`, r.id);
  });
  if (!Array.isArray(input.runs)) fail('metrics', '(runs)', 'an array', input.runs);
  for (const run of input.runs) {
    if (!inManifest.has(run.id)) fail(mFile, 'runs', `an entry for run ${shown(run.id)}`, 'none');
    const file = rowsFile(run.id);
    if (!Array.isArray(run.rows)) fail(file, '(rows)', 'an array of rows', run.rows);
    let prev = -Infinity;
    run.rows.forEach((row, i) => {
      if (!row || typeof row.step !== 'number' || !Number.isFinite(row.step))
        fail(file, `row ${i + 1}: step`, 'a number', row?.step);
      if (row.step < prev) fail(file, `row ${i + 1}: step`, `steps in ascending order (previous ${prev})`, row.step);
      prev = row.step;
      if (row.test_acc != null && typeof row.test_acc !== 'number')
        fail(file, `row ${i + 1}: test_acc`, 'a number', row.test_acc);
    });
  }
}
