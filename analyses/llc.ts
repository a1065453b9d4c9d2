/**
 * `llc` pass: the local learning coefficient λ̂ of a checkpoint (Lau et al. 2023; docs/measures.md#local-learning-coefficient),
 * SGLD localised at the checkpoint's weights w* on minibatches of the training split. The sampler
 * is ./sgld.ts; this file supplies the network's loss and gradient through tfjs (the model's own
 * forward pass, the run's training loss without the ℓ∞ penalty) and the per-chain minibatches.
 *
 * Only the trained tensors are sampled (a frozen tensor, e.g. the attention biases without
 * model.attn_bias, stays at its stored zeros). Minibatches: chain c draws epoch-wise shuffles of
 * the train split from Rng.derive(seed, `llc/batches/c`), as training does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../src/config/types.ts';
import { trainedSpecs, type Model } from '../src/models/types.ts';
import { crossEntropy, mse } from '../src/optim/loss.ts';
import { UserError } from '../src/errors.ts';
import { Rng } from '../src/rng.ts';
import { makeLabelTensors, type LabelTensors } from '../src/run/objective.ts';
import { batchIndices } from '../src/run/train.ts';
import type { Dataset, Split } from '../src/tasks/index.ts';
import type { MetricsRow } from '../src/run/store.ts';
import { locateTransition } from './transition.ts';
import type { LlcOptions, LlcResult, TransitionSummary } from './types.ts';
import { estimateLlc, validateSgldSettings, type ChainResult, type LossGradFn, type SgldSettings } from './sgld.ts';

/** The settings that decide whether a stored λ̂ still stands: all but `checkpoints`. */
export const SAMPLER_KEYS = [
  'epsilon',
  'gamma',
  'nbeta',
  'chains',
  'draws',
  'burnin',
  'seed',
  'trace_points',
  'batch_size',
  'n',
  'nbeta_rule',
] as const;

/**
 * Defaults (README, "Local learning coefficient"). checkpoints = 24: λ̂ costs ≈ 20 s CPU per
 * checkpoint at nanda-2023 size (bench/llc.ts), so every one of a 400-checkpoint run would take
 * over two hours; 24 log-spaced checkpoints (first and last included) plus the three around each
 * phase boundary, T_mem and T_grok (26–31 in all on our demo and nanda-size runs, ≈ 10 min CPU
 * at nanda size) resolve the rise in memorisation and the fall at grokking. checkpoints=all
 * computes every checkpoint (the behaviour before the setting existed). The sampler settings:
 * devinterp's SGLD defaults to γ = 0 and nβ = 1 with warnings; its examples and Lau et al. localise with γ = 100 and take β = 1/ln n (what
 * docs/measures.md#llc-defaults prescribes, so nβ = n/ln n). ε = 1e-4 keeps the drift step ε·nβ/2 ≈ 0.02 at
 * nanda-2023 size (n = 3,830); no chain diverged on the 60 checkpoints of our demo run (nβ = 160)
 * nor at nanda-2023 size, and the loss traces level off within the 100 burn-in steps there; at
 * ε = 1e-3 every chain of the demo's final checkpoint diverges. 4 chains × (100 burn-in + 200 draws)
 * on minibatches of 256 (devinterp's grokking example: 128–512).
 */
export const LLC_DEFAULTS = {
  epsilon: 1e-4,
  gamma: 100,
  chains: 4,
  draws: 200,
  burnin: 100,
  batch_size: 256,
  trace_points: 40,
  checkpoints: 24,
} as const;

export type LlcOverrides = Partial<
  Pick<
    LlcOptions,
    | 'epsilon'
    | 'gamma'
    | 'nbeta'
    | 'chains'
    | 'draws'
    | 'burnin'
    | 'batch_size'
    | 'seed'
    | 'trace_points'
    | 'checkpoints'
  >
>;

/** The full settings for a run with n training examples; seed defaults to the run's training seed. */
export function llcOptions(n: number, trainingSeed: number, o: LlcOverrides = {}): LlcOptions {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`llc: needs at least 2 training examples, got ${n}`);
  const nbeta = o.nbeta ?? n / Math.log(n);
  const opts: LlcOptions = {
    epsilon: o.epsilon ?? LLC_DEFAULTS.epsilon,
    gamma: o.gamma ?? LLC_DEFAULTS.gamma,
    nbeta,
    chains: o.chains ?? LLC_DEFAULTS.chains,
    draws: o.draws ?? LLC_DEFAULTS.draws,
    burnin: o.burnin ?? LLC_DEFAULTS.burnin,
    seed: o.seed ?? trainingSeed,
    trace_points: o.trace_points ?? LLC_DEFAULTS.trace_points,
    batch_size: Math.min(o.batch_size ?? LLC_DEFAULTS.batch_size, n),
    n,
    nbeta_rule: o.nbeta === undefined ? 'n/ln n' : 'given',
    checkpoints: o.checkpoints ?? LLC_DEFAULTS.checkpoints,
  };
  if (!(opts.checkpoints === 'all' || (Number.isInteger(opts.checkpoints) && opts.checkpoints! >= 1))) {
    throw new UserError(`llc.checkpoints: expected a positive integer or 'all', got ${JSON.stringify(o.checkpoints)}`);
  }
  try {
    validateSgldSettings(opts);
  } catch (e) {
    throw new UserError((e as Error).message); // a setting from --llc: bad input, not a bug
  }
  if (!(Number.isInteger(opts.batch_size) && opts.batch_size >= 1))
    throw new UserError(`llc.batch_size: expected a positive integer, got ${JSON.stringify(o.batch_size)}`);
  return opts;
}

export interface LlcInput {
  model: Model;
  config: RunConfig;
  dataset: Dataset;
  split: Split;
  params: Record<string, Float32Array>;
  options: LlcOptions;
}

export function llcResult(c: LlcInput): LlcResult {
  const net = networkLoss(c);
  try {
    const est = estimateLlc(net.lossGrad, net.wStar, net.initLoss, c.options);
    return {
      llc: est.llc,
      llc_std: est.llc_std,
      init_loss: est.init_loss,
      diverged_chains: est.diverged_chains,
      chains: est.chains,
    };
  } finally {
    net.dispose();
  }
}

/**
 * The network's training loss as a model-free LossGradFn over the flattened trained parameters
 * (spec order), plus w* and the exact full-batch loss there. Call dispose() when done.
 */
export function networkLoss(c: LlcInput): {
  lossGrad: LossGradFn;
  wStar: Float64Array;
  initLoss: number;
  dispose(): void;
} {
  const { model, config, dataset, split, params, options } = c;
  const trained = trainedSpecs(model.specs);
  const sizes = trained.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const d = sizes.reduce((a, b) => a + b, 0);
  const wStar = new Float64Array(d);
  trained.forEach((s, i) => wStar.set(params[s.name], offsets[i]));
  const frozen: Record<string, tf.Tensor> = {};
  for (const s of model.specs) if (s.frozen) frozen[s.name] = tf.tensor(params[s.name], s.shape, 'float32');
  const train = split.train;
  const loss = (logits: tf.Tensor2D, labels: LabelTensors) =>
    config.training.loss === 'mse' ? mse(logits, labels.target!) : crossEntropy(logits, labels.mask);
  const batchOf = (idx: Int32Array) => {
    const tokens = new Int32Array(idx.length * dataset.n_ctx);
    const labels = new Int32Array(idx.length);
    idx.forEach((e, r) => {
      tokens.set(dataset.tokens.subarray(e * dataset.n_ctx, (e + 1) * dataset.n_ctx), r * dataset.n_ctx);
      labels[r] = dataset.labels[e];
    });
    const input = model.prepare(tokens, idx.length);
    const lab = makeLabelTensors(labels, dataset.d_vocab_out, config);
    return { input, labels: lab, dispose: () => (input.dispose(), lab.dispose()) };
  };
  const full = batchOf(train);
  const fullBatch = options.batch_size >= train.length;
  const chainSeeds = Array.from({ length: options.chains }, (_, k) =>
    Rng.derive(options.seed, `llc/batches/${k}`).nextU32(),
  );
  const f32 = new Float32Array(d);
  const grad = new Float64Array(d);
  const evaluate = (w: ArrayLike<number>, batch: ReturnType<typeof batchOf>, withGrad: boolean): number => {
    f32.set(w);
    const xs = trained.map((s, i) => tf.tensor(f32.subarray(offsets[i], offsets[i] + sizes[i]), s.shape, 'float32'));
    try {
      const lossOf = (...ts: tf.Tensor[]) => {
        const vars: Record<string, tf.Tensor> = { ...frozen };
        trained.forEach((s, i) => (vars[s.name] = ts[i]));
        return loss(model.forward(vars, batch.input).logits, batch.labels);
      };
      if (!withGrad) return tf.tidy(() => lossOf(...xs).dataSync()[0]);
      const { value, grads } = tf.valueAndGrads(lossOf)(xs);
      try {
        grads.forEach((g, i) => grad.set(g.dataSync() as Float32Array, offsets[i]));
        return value.dataSync()[0];
      } finally {
        value.dispose();
        tf.dispose(grads);
      }
    } finally {
      tf.dispose(xs);
    }
  };
  const initLoss = evaluate(wStar, full, false);
  const lossGrad: LossGradFn = (w, chain, step) => {
    if (fullBatch) return { loss: evaluate(w, full, true), grad };
    const batch = batchOf(batchIndices(train, options.batch_size, chainSeeds[chain], step));
    try {
      return { loss: evaluate(w, batch, true), grad };
    } finally {
      batch.dispose();
    }
  };
  return {
    lossGrad,
    wStar,
    initLoss,
    dispose: () => {
      full.dispose();
      tf.dispose(Object.values(frozen));
    },
  };
}

const OVERRIDE_KEYS = [
  'epsilon',
  'gamma',
  'nbeta',
  'chains',
  'draws',
  'burnin',
  'batch_size',
  'seed',
  'trace_points',
  'checkpoints',
] as const;

/** `--llc epsilon=1e-4,gamma=100,checkpoints=24,…`: the settings to override, each checked by llcOptions. */
export function parseLlcSettings(text: string): LlcOverrides {
  const out: Record<string, number | 'all'> = {};
  for (const part of text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [key, value, ...rest] = part.split('=').map((x) => x.trim());
    if (value === undefined || rest.length)
      throw new UserError(`--llc: expected key=value pairs with keys ${OVERRIDE_KEYS.join(', ')}, got '${part}'`);
    if (!(OVERRIDE_KEYS as readonly string[]).includes(key))
      throw new UserError(`--llc: unknown key '${key}' (in '${part}'); keys: ${OVERRIDE_KEYS.join(', ')}`);
    if (key === 'checkpoints') {
      const n = Number(value);
      if (value === 'all') out[key] = 'all';
      else if (value !== '' && Number.isInteger(n) && n >= 1) out[key] = n;
      else throw new UserError(`--llc: checkpoints must be a positive integer or 'all', got '${value}'`);
      continue;
    }
    const v = Number(value);
    if (value === '' || !Number.isFinite(v)) throw new UserError(`--llc: ${key} must be a number, got '${value}'`);
    out[key] = v;
  }
  return out as LlcOverrides;
}

/**
 * The checkpoints that get λ̂ under `checkpoints` = count (analysis steps, ascending): every one
 * when there are no more than count (or count is 'all'); else count of them spread evenly in
 * u = ln(1 + step), the first and last included (count 1: the last alone) — each target u takes
 * its nearest checkpoint, and where several targets share one (checkpoints sparser than the targets, early in a run) the rest
 * are filled with the checkpoints farthest in u from those already chosen — plus, for each phase
 * boundary (and T_mem, T_grok: llcBoundarySteps), the checkpoint nearest it and its neighbours on
 * either side. Deterministic: ties go to
 * the earlier step.
 */
export function llcCheckpointSteps(
  steps: readonly number[],
  count: number | 'all' | undefined,
  boundaries: readonly number[] = [],
): number[] {
  const sorted = [...new Set(steps)].sort((a, b) => a - b);
  if (count === undefined || count === 'all' || sorted.length <= count) return sorted;
  const u = sorted.map((s) => Math.log1p(Math.max(0, s)));
  const chosen = new Set<number>(); // indices into sorted
  const nearest = (target: number): number => {
    let best = 0;
    for (let i = 1; i < u.length; i++) if (Math.abs(u[i] - target) < Math.abs(u[best] - target)) best = i;
    return best;
  };
  const lo = u[0];
  const hi = u.at(-1)!;
  chosen.add(u.length - 1);
  if (count >= 2) chosen.add(0);
  for (let j = 1; j < count - 1; j++) chosen.add(nearest(lo + ((hi - lo) * j) / (count - 1)));
  while (chosen.size < count) {
    let best = -1;
    let bestGap = -1;
    for (let i = 0; i < u.length; i++) {
      if (chosen.has(i)) continue;
      let gap = Infinity;
      for (const c of chosen) gap = Math.min(gap, Math.abs(u[i] - u[c]));
      if (gap > bestGap) ((best = i), (bestGap = gap));
    }
    chosen.add(best);
  }
  for (const b of boundaries) {
    if (!Number.isFinite(b)) continue;
    let i = 0;
    for (let k = 1; k < sorted.length; k++) if (Math.abs(sorted[k] - b) < Math.abs(sorted[i] - b)) i = k;
    for (const k of [i - 1, i, i + 1]) if (k >= 0 && k < sorted.length) chosen.add(k);
  }
  return [...chosen].sort((a, b) => a - b).map((i) => sorted[i]);
}

/**
 * The steps the checkpoint subset is refined around: the phase boundaries, T_mem and T_grok (95 %)
 * of the previous analysis when it found a boundary (its summary uses every pass), else of the
 * rule of analyses/transition.ts on the accuracies, losses and ‖θ‖² training logged in
 * metrics.jsonl (so that a first `analyze` with llc already has them); none when neither gives any.
 */
export function llcBoundarySteps(
  previous: Pick<TransitionSummary, 'boundaries' | 't_mem' | 't_grok_95'> | undefined,
  rows: readonly MetricsRow[],
  opts: { lr: number; weightDecay: number },
): number[] {
  const marks = (t: Pick<TransitionSummary, 'boundaries' | 't_mem' | 't_grok_95'>) =>
    [
      ...new Set(
        [...t.boundaries.map((b) => b.step), t.t_mem, t.t_grok_95].filter((x): x is number => typeof x === 'number'),
      ),
    ].sort((a, b) => a - b);
  if (previous?.boundaries.length) return marks(previous);
  const series = rows.filter((r) =>
    [r.train_acc, r.test_acc, r.train_loss, r.test_loss, r.sq_norm].every(
      (v) => typeof v === 'number' && Number.isFinite(v),
    ),
  );
  if (series.length < 2) return [];
  try {
    return marks(locateTransition(series, opts));
  } catch {
    return []; // e.g. steps out of order in a hand-edited metrics.jsonl: no refinement
  }
}

/**
 * The settings of this analysis: the previous analysis.json's (so that a later `analyze` keeps
 * them), then the overrides. An nβ that the file records as n/ln n is derived again, never taken
 * from the file (which holds 7 digits).
 */
export function llcSettingsFor(
  n: number,
  trainingSeed: number,
  previous: LlcOptions | undefined,
  o: LlcOverrides = {},
): LlcOptions {
  const base: LlcOverrides = {};
  if (previous) {
    for (const k of OVERRIDE_KEYS)
      if (typeof previous[k] === 'number') (base as Record<string, unknown>)[k] = previous[k];
    if (previous.checkpoints === 'all') base.checkpoints = 'all';
    if (previous.nbeta_rule !== 'given') delete base.nbeta;
  }
  return llcOptions(n, trainingSeed, { ...base, ...o });
}

/**
 * Same sampler settings (SAMPLER_KEYS), up to the 7 significant digits analysis.json keeps: λ̂
 * computed under a still stands. The checkpoint subset is not compared.
 */
export function sameLlcSettings(a: LlcOptions | null | undefined, b: LlcOptions | null | undefined): boolean {
  if (!a || !b) return a === b;
  const r = (x: unknown) => (typeof x === 'number' ? Number(x.toPrecision(7)) : x);
  return SAMPLER_KEYS.every((k) => r(a[k]) === r(b[k]));
}
