/**
 * Grids over the (a, b) inputs at a chosen subset of checkpoints, for the report's checkpoint
 * explorer: the neuron-frequency clusters, the activation of the strongest neuron of each key
 * frequency over every input pair, and the attention of the last position to a and to b per head
 * of the last layer. analysis.json keeps these in its optional `checkpoint_grids` field (version
 * CHECKPOINT_GRIDS_VERSION); files without it still load, and the report then has no per-checkpoint
 * grids.
 *
 * Which checkpoints: about GRID_CHECKPOINTS of them — log-spaced over the run, plus the checkpoints
 * on either side of T_mem, T_grok and every phase boundary, plus the first and always the last
 * (selectGridSteps). Quantised: each p × p grid to uint8 with its own range, value ≈ lo + code·(hi −
 * lo)/254, code 255 for a cell with no value (a pair outside the task); the round-trip error is at
 * most (hi − lo)/508 (quantiseGrid). Stored as base64 of the p² codes in a-major order [a][b].
 */
import type { Model } from '../src/models/types.ts';
import type { Dataset } from '../src/tasks/index.ts';
import { forwardAll } from './forward.ts';
import { neuronFrequencies } from './frequencies.ts';
import type { GroupGrid } from './group-view.ts';
import type { CheckpointGrids, CheckpointGridsEntry, NeuronCluster, QuantisedGrid } from './types.ts';

export const CHECKPOINT_GRIDS_VERSION = 1;
/** Checkpoints that carry grids when the run has more (the phase-boundary neighbours included). */
export const GRID_CHECKPOINTS = 24;
/** Quantisation levels 0…254; 255 marks a missing cell. */
export const GRID_LEVELS = 254;
export const GRID_GAP = 255;
/** Neuron grids at most (one per key frequency, the strongest first). */
export const MAX_GRID_NEURONS = 6;

export interface GridMarks {
  t_mem?: number | null;
  t_grok_95?: number | null;
  t_grok_99?: number | null;
  boundaries?: number[];
}

/**
 * The checkpoints that carry grids, ascending, a subset of `steps` (ascending): every checkpoint
 * when there are at most `count`; otherwise the last, the first, the checkpoint at or after each
 * mark and its two neighbours, and log-spaced checkpoints (in log(1 + step)) up to `count` in all.
 */
export function selectGridSteps(steps: readonly number[], marks: GridMarks = {}, count = GRID_CHECKPOINTS): number[] {
  const n = steps.length;
  if (n === 0) return [];
  if (n <= count) return [...steps];
  const chosen = new Set<number>([n - 1, 0]);
  const points = [marks.t_mem, marks.t_grok_95, marks.t_grok_99, ...(marks.boundaries ?? [])].filter(
    (m): m is number => typeof m === 'number' && Number.isFinite(m),
  );
  for (const m of points) {
    let i = steps.findIndex((s) => s >= m);
    if (i < 0) i = n - 1;
    for (const j of [i - 1, i, i + 1]) if (j >= 0 && j < n) chosen.add(j);
  }
  const u = steps.map((s) => Math.log1p(Math.max(0, s)));
  const rest = count - chosen.size;
  if (rest > 0) {
    // Targets spread evenly in log(1 + step) between the first and the last checkpoint; each takes
    // the nearest checkpoint not yet chosen.
    for (let t = 1; t <= rest; t++) {
      const target = u[0] + ((u[n - 1] - u[0]) * t) / (rest + 1);
      let best = -1;
      for (let i = 0; i < n; i++) {
        if (chosen.has(i)) continue;
        if (best < 0 || Math.abs(u[i] - target) < Math.abs(u[best] - target)) best = i;
      }
      if (best >= 0) chosen.add(best);
    }
  }
  return [...chosen].sort((a, b) => a - b).map((i) => steps[i]);
}

/** A 7-significant-digit number ≤ x (down) or ≥ x (up): what analysis.json's rounding keeps unchanged. */
function round7(x: number, dir: 'down' | 'up'): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  let r = Number(x.toPrecision(7));
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(r))) - 6);
  if (dir === 'down' && r > x) r = Number((r - unit).toPrecision(7));
  if (dir === 'up' && r < x) r = Number((r + unit).toPrecision(7));
  return r;
}

/**
 * Quantise a grid to codes 0…254 over [lo, hi] (default: the finite min and max, widened to
 * 7-digit numbers so that analysis.json stores them exactly); a non-finite value gets GRID_GAP.
 * dequantise(quantiseGrid(v)) is within (hi − lo)/508 of every finite v inside [lo, hi] (values
 * outside a given range are clamped to it).
 */
export function quantiseGrid(
  values: ArrayLike<number>,
  range?: [number, number],
): { lo: number; hi: number; codes: Uint8Array } {
  let lo = Infinity;
  let hi = -Infinity;
  if (range) [lo, hi] = range;
  else {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) lo = hi = 0; // nothing finite
    lo = round7(lo, 'down');
    hi = round7(hi, 'up');
  }
  const codes = new Uint8Array(values.length);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) codes[i] = GRID_GAP;
    else codes[i] = span > 0 ? Math.max(0, Math.min(GRID_LEVELS, Math.round(((v - lo) / span) * GRID_LEVELS))) : 0;
  }
  return { lo, hi, codes };
}

/** The values back from codes (NaN for GRID_GAP). */
export function dequantiseGrid(lo: number, hi: number, codes: ArrayLike<number>): Float64Array {
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++)
    out[i] = codes[i] === GRID_GAP ? NaN : lo + (codes[i] * (hi - lo)) / GRID_LEVELS;
  return out;
}

export const gridToJson = (q: { lo: number; hi: number; codes: Uint8Array }): QuantisedGrid => ({
  lo: q.lo,
  hi: q.hi,
  data: Buffer.from(q.codes).toString('base64'),
});

/** The codes of a stored grid; throws RangeError when the data do not hold exactly `cells` codes. */
export function gridCodes(g: QuantisedGrid, cells: number): Uint8Array {
  const codes = new Uint8Array(Buffer.from(g.data, 'base64'));
  if (codes.length !== cells) throw new RangeError(`a grid of ${cells} cells, got ${codes.length} codes`);
  return codes;
}

/**
 * The neurons the explorer follows: for each key frequency (as found on the key-frequency
 * checkpoint), the neuron of that frequency whose variance in the frequency's block is largest
 * (explained fraction × centred variance). acts [rows, d]; frequency / explained from
 * neuronFrequencies. Strongest first, at most `max`.
 */
export function strongestNeurons(
  acts: ArrayLike<number>,
  d: number,
  nf: { frequency: ArrayLike<number>; explained: ArrayLike<number> },
  keys: readonly number[],
  max = MAX_GRID_NEURONS,
): { neuron: number; frequency: number; explained: number }[] {
  const rows = acts.length / d;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let t = 0; t < d; t++) mean[t] += acts[r * d + t];
  for (let t = 0; t < d; t++) mean[t] /= rows;
  for (let r = 0; r < rows; r++) for (let t = 0; t < d; t++) sq[t] += (acts[r * d + t] - mean[t]) ** 2;
  const out: { neuron: number; frequency: number; explained: number; power: number }[] = [];
  for (const k of keys) {
    let best = -1;
    let power = -1;
    for (let t = 0; t < d; t++) {
      if (nf.frequency[t] !== k) continue;
      const w = nf.explained[t] * sq[t];
      if (w > power) ((best = t), (power = w));
    }
    if (best >= 0) out.push({ neuron: best, frequency: k, explained: nf.explained[best], power });
  }
  return out
    .sort((x, y) => y.power - x.power)
    .slice(0, max)
    .sort((x, y) => x.frequency - y.frequency)
    .map(({ neuron, frequency, explained }) => ({ neuron, frequency, explained }));
}

/**
 * One checkpoint's grids from its forward pass. `operands` give each example's (a, b); neuron
 * activations [N, width], attention [N, heads, n_ctx] (the last query's weights on positions 0
 * and 1 are read). Cells no example covers are gaps.
 */
export function checkpointGridsEntry(args: {
  step: number;
  p: number;
  operands: { a: ArrayLike<number>; b: ArrayLike<number> };
  n: number; // examples
  neurons: ArrayLike<number> | null;
  width: number;
  follow: readonly { neuron: number }[];
  attention: ArrayLike<number> | null;
  heads: number;
  clusters: { clusters: NeuronCluster[]; unclustered: number };
}): CheckpointGridsEntry {
  const { p, operands, n } = args;
  const cells = p * p;
  const grid = (value: (e: number) => number) => {
    const g = new Float64Array(cells).fill(NaN);
    for (let e = 0; e < n; e++) g[operands.a[e] * p + operands.b[e]] = value(e);
    return g;
  };
  const neurons = args.neurons
    ? args.follow.map(({ neuron }) => gridToJson(quantiseGrid(grid((e) => args.neurons![e * args.width + neuron]))))
    : [];
  const attention: CheckpointGridsEntry['attention'] = [];
  if (args.attention && args.heads > 0) {
    const T = args.attention.length / (n * args.heads);
    for (let h = 0; h < args.heads; h++) {
      const at = (pos: number) => (e: number) => args.attention![(e * args.heads + h) * T + pos];
      attention.push({
        to_a: gridToJson(quantiseGrid(grid(at(0)), [0, 1])),
        to_b: gridToJson(quantiseGrid(grid(at(1)), [0, 1])),
      });
    }
  }
  return {
    step: args.step,
    neuron_clusters: args.clusters.clusters,
    unclustered_neurons: args.clusters.unclustered,
    neurons,
    attention,
  };
}

/**
 * The run's checkpoint_grids, brought up to date: the grid checkpoints chosen from `steps` and the
 * transition marks, the neurons followed chosen on the key-frequency checkpoint, and each grid
 * checkpoint's forward pass (entries of `previous` with the same plan are kept). Returns undefined
 * when no checkpoint can be read; a checkpoint that cannot be is left out.
 */
export function updateCheckpointGrids(args: {
  model: Model;
  dataset: Dataset;
  grid: GroupGrid;
  steps: readonly number[];
  marks: GridMarks;
  keyFrequencies: readonly number[];
  keyStep: number | null;
  previous: CheckpointGrids | undefined;
  load: (step: number) => Record<string, Float32Array> | null;
  warn: (step: number, problem: string) => void;
}): CheckpointGrids | undefined {
  const { model, dataset, grid } = args;
  const ops = dataset.operands;
  if (!ops) return undefined;
  const p = ops.size;
  const attention = model.attention !== null;
  const chosen = selectGridSteps(args.steps, args.marks);
  const pass = (step: number) => {
    const params = args.load(step);
    if (!params) return null;
    try {
      const fw = forwardAll(model, params, dataset.tokens, dataset.n, { neurons: true, attention });
      const nf = neuronFrequencies(fw.neurons!, grid.n, fw.width, { rowOfCell: grid.exampleOfCell });
      return { fw, nf };
    } catch (e) {
      args.warn(step, (e instanceof Error ? e.message : String(e)).split('\n')[0]);
      return null;
    }
  };
  const keyStep = args.keyStep !== null && args.steps.includes(args.keyStep) ? args.keyStep : args.steps.at(-1)!;
  // The neurons followed depend only on the key-frequency checkpoint: kept while it stays the same.
  let follow =
    args.previous?.version === CHECKPOINT_GRIDS_VERSION && args.previous.neurons_step === keyStep
      ? args.previous.neurons
      : null;
  let cached: { step: number; r: NonNullable<ReturnType<typeof pass>> } | null = null;
  if (!follow) {
    const r = pass(keyStep);
    if (!r) return undefined;
    cached = { step: keyStep, r };
    follow = strongestNeurons(r.fw.neurons!, r.fw.width, r.nf, args.keyFrequencies);
  }
  const reuse =
    args.previous &&
    args.previous.version === CHECKPOINT_GRIDS_VERSION &&
    args.previous.p === p &&
    JSON.stringify(args.previous.neurons.map((x) => x.neuron)) === JSON.stringify(follow.map((x) => x.neuron))
      ? new Map(args.previous.checkpoints.map((c) => [c.step, c]))
      : new Map<number, CheckpointGridsEntry>();
  const entries: CheckpointGridsEntry[] = [];
  let heads = args.previous?.heads ?? [];
  for (const step of chosen) {
    const old = reuse.get(step);
    if (old) {
      entries.push(old);
      continue;
    }
    const r = cached?.step === step ? cached.r : pass(step);
    if (!r) continue;
    const { fw, nf } = r;
    const layer = model.attention?.layer ?? 0;
    if (fw.attention) heads = Array.from({ length: fw.heads }, (_, head) => ({ layer, head }));
    entries.push(
      checkpointGridsEntry({
        step,
        p,
        operands: ops,
        n: fw.n,
        neurons: fw.neurons,
        width: fw.width,
        follow,
        attention: fw.attention,
        heads: fw.heads,
        clusters: { clusters: nf.clusters, unclustered: nf.unclustered },
      }),
    );
  }
  if (!entries.length) return undefined;
  return {
    version: CHECKPOINT_GRIDS_VERSION,
    p,
    quantisation: 'uint8',
    selection: `${entries.length} of ${args.steps.length} checkpoints: log-spaced over the run, the checkpoints around T_mem, T_grok and each phase boundary, and the last`,
    neurons: follow,
    neurons_step: keyStep,
    heads: attention ? heads : [],
    checkpoints: entries,
  };
}
