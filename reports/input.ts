/**
 * What a report is drawn from: the run's run.json (RunMeta), its metrics.jsonl rows and its
 * analysis.json — plain data, never a model. Checked here, where the data enters the renderers, so
 * a malformed file fails with its name, the key and the value instead of a broken chart.
 */
import type { AnalysisFile, CheckpointResult } from '../analyses/types.ts';
import { FormatError } from '../src/errors.ts';
import type { MetricsRow, RunMeta } from '../src/run/store.ts';

/**
 * Attention of the last ('=') position of one head, over all p² inputs [a, b, =]: analysis.json's
 * optional `attention` (AttentionMaps in analyses/types.ts), drawn when present.
 */
export interface AttentionHead {
  layer: number;
  head: number;
  to_a: number[][]; // [p, p] indexed [a][b]: weight on position 0 (token a)
  to_b: number[][]; // [p, p] indexed [a][b]: weight on position 1 (token b)
}

export interface AttentionPatterns {
  step: number; // the checkpoint the patterns come from
  p: number; // operands 0 … p − 1
  heads: AttentionHead[];
}

export interface RunReportInput {
  meta: RunMeta;
  metrics: MetricsRow[]; // denser than the checkpoints; may be empty
  analysis: AnalysisFile;
  attention?: AttentionPatterns | null;
  /** Where the inputs came from, for error messages and the report's footer. */
  files?: { run?: string; metrics?: string; analysis?: string };
}

/** A number from JSON: NaN and ±∞ arrive as null (JSON has no NaN); both count as a gap. */
export const isNumeric = (v: unknown): v is number | null => v === null || typeof v === 'number';
/** The value as a number, NaN for a gap. */
export const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

/** Highest frequency index K = ⌊n/2⌋ of the analysis' group, or null when it has none. */
export function maxFrequency(a: AnalysisFile): number | null {
  return a.group && a.group.kind !== 'none' && a.group.n > 0 ? Math.floor(a.group.n / 2) : null;
}

/** Validate the renderer input; throws FormatError naming the file, the key and the value. */
export function checkReportInput(input: RunReportInput): void {
  const files = input.files ?? {};
  checkMeta(input.meta, files.run ?? 'run.json');
  checkMetrics(input.metrics, files.metrics ?? 'metrics.jsonl');
  checkAnalysis(input.analysis, files.analysis ?? 'analysis.json');
  if (input.attention) checkAttention(input.attention, files.analysis ?? 'attention');
}

function fail(file: string, key: string, expected: string, got: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(got);
  } catch {
    shown = String(got);
  }
  if (shown === undefined) shown = 'nothing';
  if (shown.length > 80) shown = shown.slice(0, 77) + '...';
  throw new FormatError(file, `${key}: expected ${expected}, got ${shown}`);
}

function checkMeta(meta: RunMeta, file: string): void {
  if (!meta || typeof meta !== 'object') fail(file, '(root)', 'an object', meta);
  if (typeof meta.name !== 'string') fail(file, 'name', 'a string', meta.name);
  if (!meta.config || typeof meta.config !== 'object') fail(file, 'config', 'an object', meta.config);
  if (!meta.dataset || typeof meta.dataset !== 'object') fail(file, 'dataset', 'an object', meta.dataset);
}

function checkMetrics(rows: MetricsRow[], file: string): void {
  if (!Array.isArray(rows)) fail(file, '(rows)', 'an array of rows', rows);
  let prev = -Infinity;
  rows.forEach((r, i) => {
    if (!r || typeof r.step !== 'number' || !Number.isFinite(r.step)) fail(file, `row ${i + 1}: step`, 'a number', r?.step);
    if (r.step < prev) fail(file, `row ${i + 1}: step`, `steps in ascending order (previous ${prev})`, r.step);
    prev = r.step;
    for (const k of ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'sq_norm'] as const) {
      if (r[k] !== undefined && !isNumeric(r[k])) fail(file, `row ${i + 1}: ${k}`, 'a number', r[k]);
    }
  });
}

function checkNumbers(file: string, key: string, v: unknown, length?: number): void {
  if (!Array.isArray(v) || !v.every(isNumeric)) fail(file, key, 'an array of numbers', v);
  if (length !== undefined && v.length !== length) fail(file, key, `${length} numbers`, `${v.length} numbers`);
}

export function checkAnalysis(a: AnalysisFile, file: string): void {
  if (!a || typeof a !== 'object') fail(file, '(root)', 'an object', a);
  if (a.format !== 'groklens-analysis') fail(file, 'format', '"groklens-analysis"', a.format);
  if (!a.run || typeof a.run !== 'object') fail(file, 'run', 'an object', a.run);
  const d = a.run.divergence;
  if (d !== undefined) {
    if (!d || typeof d !== 'object') fail(file, 'run.divergence', 'an object', d);
    if (!Number.isInteger(d.step) || d.step < 0) fail(file, 'run.divergence.step', 'a non-negative integer', d.step);
    if (typeof d.detail !== 'string') fail(file, 'run.divergence.detail', 'a string', d.detail);
    if (d.last_finite_checkpoint !== null && !Number.isInteger(d.last_finite_checkpoint)) fail(file, 'run.divergence.last_finite_checkpoint', 'an integer or null', d.last_finite_checkpoint);
  }
  if (!a.options || !Array.isArray(a.options.passes)) fail(file, 'options.passes', 'an array of pass names', a.options?.passes);
  if (!Array.isArray(a.checkpoints)) fail(file, 'checkpoints', 'an array', a.checkpoints);
  if (!a.summary || typeof a.summary !== 'object') fail(file, 'summary', 'an object', a.summary);
  if (!Array.isArray(a.summary.phases)) fail(file, 'summary.phases', 'an array', a.summary.phases);
  if (!Array.isArray(a.summary.boundaries)) fail(file, 'summary.boundaries', 'an array', a.summary.boundaries);
  const K = maxFrequency(a);
  if (!Array.isArray(a.key_frequencies)) fail(file, 'key_frequencies', 'an array', a.key_frequencies);
  a.key_frequencies.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 1 || (K !== null && k > K)) fail(file, `key_frequencies[${i}]`, `an integer in 1…${K ?? 'K'}`, k);
  });
  let prev = -1;
  a.checkpoints.forEach((c: CheckpointResult, i) => {
    const at = `checkpoints[${i}]`;
    if (!c || !Number.isInteger(c.step) || c.step < 0) fail(file, `${at}.step`, 'a non-negative integer', c?.step);
    if (c.step <= prev) fail(file, `${at}.step`, `steps in strictly ascending order (previous ${prev})`, c.step);
    prev = c.step;
    if (c.fourier) {
      const len = K === null ? undefined : K + 1;
      checkNumbers(file, `${at}.fourier.embed_norms`, c.fourier.embed_norms, len);
      checkNumbers(file, `${at}.fourier.logit_map_norms`, c.fourier.logit_map_norms, len);
    }
    if (c.circuit) {
      checkNumbers(file, `${at}.circuit.excluded_loss_per_key`, c.circuit.excluded_loss_per_key, a.key_frequencies.length);
    }
  });
  const b = a.summary.boundaries;
  b.forEach((x, i) => {
    if (!x || typeof x.step !== 'number' || typeof x.reason !== 'string') fail(file, `summary.boundaries[${i}]`, '{from, to, step, reason}', x);
  });
  if (!Array.isArray(a.neuron_clusters)) fail(file, 'neuron_clusters', 'an array', a.neuron_clusters);
  // the renderer lists them (a file read from disk has been through analyses/schema.ts already)
  if (a.warnings !== undefined) {
    if (!Array.isArray(a.warnings)) fail(file, 'warnings', 'a list of {file, problem}', a.warnings);
    a.warnings.forEach((w, i) => {
      if (!w || typeof w.file !== 'string' || typeof w.problem !== 'string') fail(file, `warnings[${i}]`, '{file, problem}, two strings', w);
    });
  }
  checkNewPasses(a, file);
  checkGrids(a, file);
}

/** checkpoint_grids: every entry has one grid per neuron followed and per head, each of p² codes. */
function checkGrids(a: AnalysisFile, file: string): void {
  const g = a.checkpoint_grids;
  if (g === undefined) return;
  if (!g || !Number.isInteger(g.p) || g.p < 1 || !Array.isArray(g.checkpoints) || !Array.isArray(g.neurons) || !Array.isArray(g.heads)) fail(file, 'checkpoint_grids', '{p, neurons, heads, checkpoints}', g);
  const cells = g.p * g.p;
  const codes = (q: { data?: unknown } | undefined, at: string) => {
    const n = q && typeof q.data === 'string' ? Buffer.from(q.data, 'base64').length : -1;
    if (n !== cells) fail(file, `${at}.data`, `base64 of ${cells} codes (p = ${g.p})`, n < 0 ? q : `${n} codes`);
  };
  let prev = -1;
  g.checkpoints.forEach((c, i) => {
    const at = `checkpoint_grids.checkpoints[${i}]`;
    if (!c || !Number.isInteger(c.step) || c.step <= prev) fail(file, `${at}.step`, `a step above ${prev}`, c?.step);
    prev = c.step;
    if (!Array.isArray(c.neurons) || c.neurons.length !== g.neurons.length) fail(file, `${at}.neurons`, `${g.neurons.length} grids (one per neuron followed)`, Array.isArray(c.neurons) ? `${c.neurons.length} grids` : c.neurons);
    if (!Array.isArray(c.attention) || c.attention.length !== g.heads.length) fail(file, `${at}.attention`, `${g.heads.length} heads`, Array.isArray(c.attention) ? `${c.attention.length} heads` : c.attention);
    c.neurons.forEach((q, j) => codes(q, `${at}.neurons[${j}]`));
    c.attention.forEach((h, j) => (codes(h?.to_a, `${at}.attention[${j}].to_a`), codes(h?.to_b, `${at}.attention[${j}].to_b`)));
    if (!Array.isArray(c.neuron_clusters)) fail(file, `${at}.neuron_clusters`, 'an array', c.neuron_clusters);
  });
}

export function checkAttention(att: AttentionPatterns, file: string): void {
  const p = att.p;
  if (!Number.isInteger(p) || p < 1) fail(file, 'attention.p', 'a positive integer', p);
  if (!Array.isArray(att.heads)) fail(file, 'attention.heads', 'an array', att.heads);
  att.heads.forEach((h, i) => {
    for (const key of ['to_a', 'to_b'] as const) {
      const m = h[key];
      const where = `attention.heads[${i}].${key}`;
      if (!Array.isArray(m) || m.length !== p) fail(file, where, `${p} rows (one per a)`, Array.isArray(m) ? `${m.length} rows` : m);
      m.forEach((row, a) => checkNumbers(file, `${where}[${a}]`, row, p));
    }
  });
}

/** The llc results and the trajectory: the arrays each chart pairs up must have matching lengths. */
function checkNewPasses(a: AnalysisFile, file: string): void {
  a.checkpoints.forEach((c, i) => {
    if (!c.llc) return;
    const at = `checkpoints[${i}].llc`;
    if (!Array.isArray(c.llc.chains)) fail(file, `${at}.chains`, 'an array of chains', c.llc.chains);
    c.llc.chains.forEach((ch, k) => {
      checkNumbers(file, `${at}.chains[${k}].trace`, ch?.trace);
      if (!Number.isInteger(ch.trace_every) || ch.trace_every < 1) fail(file, `${at}.chains[${k}].trace_every`, 'a positive integer', ch.trace_every);
    });
  });
  const t = a.trajectory;
  if (t === undefined) return;
  if (!t || typeof t !== 'object' || !Array.isArray(t.steps)) fail(file, 'trajectory.steps', 'an array of steps', t?.steps);
  const views: [string, typeof t][] = [['trajectory', t], ...Object.entries(t.per_tensor ?? {}).map(([n, v]) => [`trajectory.per_tensor.${n}`, v as typeof t] as [string, typeof t])];
  for (const [at, v] of views) {
    if (!Array.isArray(v.coords) || v.coords.length !== t.steps.length) fail(file, `${at}.coords`, `${t.steps.length} rows (one per step)`, Array.isArray(v.coords) ? `${v.coords.length} rows` : v.coords);
    v.coords.forEach((row, i) => checkNumbers(file, `${at}.coords[${i}]`, row));
    checkNumbers(file, `${at}.explained_variance_ratio`, v.explained_variance_ratio);
    checkNumbers(file, `${at}.window_effective_dim`, v.window_effective_dim, t.window_steps.length);
  }
}
