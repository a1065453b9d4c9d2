/** Columns out of analysis.json and metrics.jsonl: one x array and one y array per quantity, NaN for gaps. */
import type { AnalysisFile, CheckpointResult, PassName } from '../analyses/types.ts';
import type { MetricsRow } from '../src/run/store.ts';
import { num } from './input.ts';

export interface Column {
  x: number[];
  y: number[];
}

export function fromCheckpoints(a: AnalysisFile, pick: (c: CheckpointResult) => number | null | undefined): Column {
  return { x: a.checkpoints.map((c) => c.step), y: a.checkpoints.map((c) => num(pick(c))) };
}

export function fromRows(rows: MetricsRow[], key: keyof MetricsRow): Column {
  return { x: rows.map((r) => r.step), y: rows.map((r) => num(r[key] as number | null)) };
}

export const hasData = (c: Column): boolean => c.y.some((v) => Number.isFinite(v));

/** Did this pass run: listed in options.passes and present on at least one checkpoint? */
export function passRan(a: AnalysisFile, pass: PassName): boolean {
  if (pass === 'trajectory') return a.options.passes.includes(pass) && a.trajectory !== undefined;
  return a.options.passes.includes(pass) && a.checkpoints.some((c) => c[pass] !== undefined);
}

/** The sentence a chart shows in place of itself when its pass did not run. */
export function missingPassNote(a: AnalysisFile, passes: PassName[], runLabel: string): string {
  const missing = passes.filter((p) => !passRan(a, p));
  const which = missing.map((p) => `'${p}'`).join(' and ');
  const listed = a.options.passes.length ? a.options.passes.join(', ') : 'none';
  return `Not drawn: the ${which} pass${missing.length > 1 ? 'es were' : ' was'} not run on ${runLabel} (analysis.json lists: ${listed}). Run \`groklens analyze\` with ${missing.length > 1 ? 'them' : 'it'} to fill this chart.`;
}

/** The x (step) domain shared by every timeline chart of a run. */
export function timelineDomain(a: AnalysisFile, rows: MetricsRow[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of [...a.checkpoints.map((c) => c.step), ...rows.map((r) => r.step)]) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  if (!(hi > lo)) return [Number.isFinite(lo) ? lo : 0, Number.isFinite(lo) ? lo + 1 : 1];
  return [Math.min(0, lo), hi];
}
