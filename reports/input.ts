/**
 * What a report is drawn from: the run's run.json (RunMeta), its metrics.jsonl rows and its
 * analysis.json — plain, typed data, never a model. Each file has one reader, which validates it
 * once and names the file, the key and the value: run.json and metrics.jsonl by src/run/store.ts,
 * analysis.json by analyses/store.ts (its zod schema, analyses/schema.ts, plus ascending steps and
 * the key-frequency range). What is left here is what only the charts need: arrays that they pair
 * up must have matching lengths (checkReportInput).
 */
import type { AnalysisFile, AttentionMaps } from '../analyses/types.ts';
import { FormatError } from '../src/errors.ts';
import { preview } from '../src/io/json-file.ts';
import type { MetricsRow, RunMeta } from '../src/run/store.ts';

export interface RunReportInput {
  meta: RunMeta;
  metrics: MetricsRow[]; // denser than the checkpoints; may be empty
  analysis: AnalysisFile;
  /** analysis.json's optional `attention`, drawn when present. */
  attention?: AttentionMaps | null;
  /** Where the inputs came from, for error messages and the report's footer. */
  files?: { run?: string; metrics?: string; analysis?: string };
}

/** The value as a number, NaN for a gap (NaN and ±∞ arrive as null: JSON has no NaN). */
export const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

/** Highest frequency index K = ⌊n/2⌋ of the analysis' group, or null when it has none. */
export function maxFrequency(a: AnalysisFile): number | null {
  return a.group && a.group.kind !== 'none' && a.group.n > 0 ? Math.floor(a.group.n / 2) : null;
}

/**
 * What the charts need beyond the files' own checks: arrays they pair up have matching lengths.
 * Throws FormatError naming the file, the key and the value.
 */
export function checkReportInput(input: RunReportInput): void {
  const file = input.files?.analysis ?? 'analysis.json';
  checkCheckpoints(input.analysis, file);
  checkTrajectory(input.analysis, file);
  checkGrids(input.analysis, file);
  if (input.attention) checkAttention(input.attention, input.files?.analysis ?? 'attention');
}

function fail(file: string, key: string, expected: string, got: unknown): never {
  throw new FormatError(file, `${key}: expected ${expected}, got ${preview(got)}`);
}

function checkLength(
  file: string,
  key: string,
  v: readonly unknown[],
  length: number,
  what = 'numbers',
  which = '',
): void {
  if (v.length !== length) fail(file, key, `${length} ${what}${which}`, `${v.length} ${what}`);
}

/** Per checkpoint: K + 1 Fourier norms (k = 0 … K), one excluded loss per key frequency. */
function checkCheckpoints(a: AnalysisFile, file: string): void {
  const K = maxFrequency(a);
  a.checkpoints.forEach((c, i) => {
    const at = `checkpoints[${i}]`;
    if (c.fourier && K !== null) {
      checkLength(file, `${at}.fourier.embed_norms`, c.fourier.embed_norms, K + 1);
      checkLength(file, `${at}.fourier.logit_map_norms`, c.fourier.logit_map_norms, K + 1);
    }
    if (c.circuit)
      checkLength(
        file,
        `${at}.circuit.excluded_loss_per_key`,
        c.circuit.excluded_loss_per_key,
        // with --key-freqs per-checkpoint, aligned with this checkpoint's own key set
        (c.fourier?.key_frequencies ?? a.key_frequencies).length,
      );
  });
}

/** checkpoint_grids: ascending steps, one grid per neuron followed and per head, each of p² codes. */
function checkGrids(a: AnalysisFile, file: string): void {
  const g = a.checkpoint_grids;
  if (g === undefined) return;
  const cells = g.p * g.p;
  const codes = (q: { data: string }, at: string) => {
    const n = Buffer.from(q.data, 'base64').length;
    if (n !== cells) fail(file, `${at}.data`, `base64 of ${cells} codes (p = ${g.p})`, `${n} codes`);
  };
  let prev = -1;
  g.checkpoints.forEach((c, i) => {
    const at = `checkpoint_grids.checkpoints[${i}]`;
    if (c.step <= prev) fail(file, `${at}.step`, `a step above ${prev}`, c.step);
    prev = c.step;
    if (c.neurons.length !== g.neurons.length)
      fail(file, `${at}.neurons`, `${g.neurons.length} grids (one per neuron followed)`, `${c.neurons.length} grids`);
    if (c.attention.length !== g.heads.length)
      fail(file, `${at}.attention`, `${g.heads.length} heads`, `${c.attention.length} heads`);
    c.neurons.forEach((q, j) => codes(q, `${at}.neurons[${j}]`));
    c.attention.forEach(
      (h, j) => (codes(h.to_a, `${at}.attention[${j}].to_a`), codes(h.to_b, `${at}.attention[${j}].to_b`)),
    );
  });
}

/** attention: p rows (one per a) of p weights (one per b) for each head. */
export function checkAttention(att: AttentionMaps, file: string): void {
  const p = att.p;
  att.heads.forEach((h, i) => {
    for (const key of ['to_a', 'to_b'] as const) {
      const where = `attention.heads[${i}].${key}`;
      checkLength(file, where, h[key], p, 'rows', ' (one per a)');
      h[key].forEach((row, a) => checkLength(file, `${where}[${a}]`, row, p));
    }
  });
}

/** trajectory: one row of coordinates per step, one window dimension per window step. */
function checkTrajectory(a: AnalysisFile, file: string): void {
  const t = a.trajectory;
  if (t === undefined) return;
  const views: [string, typeof t][] = [
    ['trajectory', t],
    ...Object.entries(t.per_tensor).map(
      ([n, v]) => [`trajectory.per_tensor.${n}`, v as typeof t] as [string, typeof t],
    ),
  ];
  for (const [at, v] of views) {
    checkLength(file, `${at}.coords`, v.coords, t.steps.length, 'rows', ' (one per step)');
    checkLength(file, `${at}.window_effective_dim`, v.window_effective_dim, t.window_steps.length);
  }
}
