/**
 * The training loop. Deterministic given (config, resume state): minibatch order is derived from
 * the seed and the epoch number alone, so a run killed at any point and resumed from its last
 * resume point replays exactly the same updates and writes bit-identical checkpoints.
 */
import { THRESHOLDS } from '../grokking.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../config/types.ts';
import { trainedSpecs, type Model, type PreparedInput } from '../models/types.ts';
import type { Optimizer } from '../optim/types.ts';
import { Rng } from '../rng.ts';
import type { Dataset, Split } from '../tasks/types.ts';
import { DivergenceWatch, firstNonFinite, type Divergence, type DivergenceRecord } from './divergence.ts';
import { CheckpointSchedule } from './schedule.ts';
import type { MetricsRow, NamedTensors, RunStore } from './store.ts';
import { lossTensor, evaluate, type LabelTensors, makeLabelTensors } from './objective.ts';

export interface Progress {
  step: number;
  total: number;
  stepsPerSec: number;
  last: MetricsRow | null;
}

export interface TrainArgs {
  store: RunStore;
  config: RunConfig;
  model: Model;
  optimizer: Optimizer;
  dataset: Dataset;
  split: Split;
  /** Weights to start from (fresh init, or restored from resume state). */
  params: NamedTensors;
  startStep: number;
  /** Metric rows already on disk (resume), used to restore the early-stop clock. */
  priorMetrics: MetricsRow[];
  wallTimeOffset: number;
  onProgress?: (p: Progress) => void;
  /** Polled between steps; true → save a checkpoint and stop (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Clock in seconds; injected so the core never reads the wall clock itself. */
  now: () => number;
  /**
   * When the loss, a gradient or the weights stop being finite: 'stop' (default) ends the run
   * there, keeping the last finite checkpoint and resume state; 'continue' records it and trains
   * on, writing whatever the weights become.
   */
  onDivergence?: OnDivergence;
  /** A divergence recorded before a resume (status.json), kept when continuing through it. */
  priorDivergence?: DivergenceRecord | null;
}

export type OnDivergence = 'stop' | 'continue';

export interface TrainResult {
  state: 'finished' | 'interrupted' | 'diverged';
  step: number; // last step saved (checkpoint and resume state on disk)
  /** The first non-finite loss, gradient or weights; null if none. */
  divergence: Divergence | null;
  lastFiniteCheckpoint: number | null;
  firstGrokStep: number | null; // first eval step with test accuracy ≥ 0.95
  memStep: number | null; // first eval step with train accuracy ≥ 0.99
}

/** Gather rows of a [n, width] row-major Int32Array. */
function takeRows(src: Int32Array, width: number, idx: Int32Array | number[]): Int32Array {
  const out = new Int32Array(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i] * width, (idx[i] + 1) * width), i * width);
  return out;
}

interface Batch {
  input: PreparedInput;
  labels: LabelTensors;
  dispose(): void;
}

function makeBatch(model: Model, ds: Dataset, cfg: RunConfig, idx: Int32Array | number[]): Batch {
  const input = model.prepare(takeRows(ds.tokens, ds.n_ctx, idx), idx.length);
  const labels = makeLabelTensors(takeRows(ds.labels, 1, idx), ds.d_vocab_out, cfg);
  return {
    input,
    labels,
    dispose: () => {
      input.dispose();
      labels.dispose();
    },
  };
}

/** Minibatch b of epoch e: a slice of a permutation derived from (seed, e) only — no carried state. */
export function batchIndices(train: Int32Array, batchSize: number, seed: number, step: number): Int32Array {
  const perEpoch = Math.ceil(train.length / batchSize);
  const epoch = Math.floor(step / perEpoch);
  const b = step % perEpoch;
  const perm = Rng.derive(seed, `batches/epoch-${epoch}`).shuffle(Int32Array.from(train));
  return perm.subarray(b * batchSize, Math.min((b + 1) * batchSize, perm.length));
}

export async function train(a: TrainArgs): Promise<TrainResult> {
  const { store, config, model, optimizer, dataset, split } = a;
  const { steps, batch_size, early_stop_after_grok, eval_every, seed } = config.training;
  const schedule = new CheckpointSchedule(config.checkpoints.every, config.checkpoints.log_spaced);
  const { vars, varList } = modelVariables(model, a.params);
  const onDivergence = a.onDivergence ?? 'stop';
  const configJson = JSON.stringify(config); // in every resume state: an edited run.json is noticed
  const watch = new DivergenceWatch();
  if (a.priorDivergence) watch.note(a.priorDivergence);

  const trainSet = makeBatch(model, dataset, config, split.train);
  const testSet = makeBatch(model, dataset, config, split.test);
  const fullBatch = batch_size === null || batch_size >= split.train.length;

  let firstGrokStep: number | null = null;
  let memStep: number | null = null;
  const note = (row: MetricsRow) => {
    if (firstGrokStep === null && row.test_acc >= THRESHOLDS.grokAcc95) firstGrokStep = row.step;
    if (memStep === null && row.train_acc >= THRESHOLDS.memAcc) memStep = row.step;
  };
  a.priorMetrics.forEach(note);
  let last: MetricsRow | null = a.priorMetrics.at(-1) ?? null;
  const t0 = a.now();
  const wall = () => a.wallTimeOffset + (a.now() - t0);

  const snapshot = (): NamedTensors => {
    const out: NamedTensors = {};
    for (const { name, shape } of model.specs) out[name] = { shape, data: vars[name].dataSync() as Float32Array };
    return out;
  };
  let lastFinite: number | null = null; // last checkpoint step known to hold finite weights
  /** Write checkpoint + resume state; false (nothing written) when stopping at a divergence. */
  const save = (step: number, checkpoints: number[]): boolean => {
    const params = snapshot();
    const bad = firstNonFinite(params);
    if (bad !== null)
      watch.note({ step, what: 'weights', detail: `the weights after step ${step} are not finite (${bad})` });
    if (stopAt()) return false;
    if (bad === null) lastFinite = step;
    store.writeCheckpoint(step, params, model.specs);
    store.writeResume(
      { step, params, optimizer: optimizer.getState(), wall_time: wall(), config_json: configJson },
      model.specs,
    );
    if (!checkpoints.includes(step)) checkpoints.push(step);
    return true;
  };
  /** A divergence seen so far, when the run is to stop at it. */
  const stopAt = (): Divergence | null => (onDivergence === 'stop' ? watch.check() : null);
  const record = (step: number) => {
    const m = evaluate(model, vars, trainSet, testSet, config);
    const bad = (Object.entries(m) as [string, number][]).find(([, v]) => !Number.isFinite(v));
    if (bad) watch.note({ step, what: 'evaluation', detail: `${bad[0]} after step ${step} is ${bad[1]}` });
    if (stopAt()) return; // the row would only say NaN; status.json says what happened
    const row: MetricsRow = { step, ...m, lr: optimizer.currentLr(), wall_time: round(wall(), 3) };
    store.appendMetrics(row);
    note(row);
    last = row;
  };
  const statusFields = () => {
    const d = watch.check();
    return d ? { divergence: { ...d, last_finite_checkpoint: lastFinite, on_divergence: onDivergence } } : {};
  };
  // A divergence on record is re-found by the watch (prior, or replayed), never carried blindly.
  const { divergence: _previous, ...status } = store.status();
  void _previous;
  const checkpoints = status.checkpoints.filter((s) => s <= a.startStep);
  if (a.startStep > 0) lastFinite = a.priorDivergence ? a.priorDivergence.last_finite_checkpoint : a.startStep;

  try {
    let step = a.startStep;
    if (step === 0) {
      record(0);
      save(0, checkpoints);
      store.writeStatus({ ...status, state: 'running', step: 0, checkpoints, updated_at: new Date().toISOString() });
    }
    let lastTick = a.now();
    let lastTickStep = step;
    let stepsPerSec = 0;
    let state: TrainResult['state'] = 'finished';
    let lastYield = a.now();
    while (step < steps) {
      // The step loop is synchronous; yield to the event loop every ~50 ms so that signal
      // handlers (Ctrl-C → shouldStop) and timers run while training.
      if (a.now() - lastYield >= 0.05) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = a.now();
        if (stopAt()) break; // a cheap read, at most every 50 ms
      }
      if (a.shouldStop?.()) {
        state = 'interrupted';
        break;
      }
      tf.tidy(() => {
        const batch = fullBatch
          ? null
          : makeBatch(model, dataset, config, batchIndices(split.train, batch_size!, seed, step));
        const { input, labels } = batch ?? trainSet;
        const { value, grads } = tf.variableGrads(() => lossTensor(model, vars, input, labels, config), varList);
        watch.observe(value, grads, step);
        optimizer.apply(vars, grads);
        batch?.dispose();
      });
      step++;
      let evaluated = false;
      if (step % eval_every === 0 || schedule.has(step) || step === steps) {
        record(step);
        evaluated = true;
      }
      const done =
        step === steps ||
        (early_stop_after_grok !== null && firstGrokStep !== null && step >= firstGrokStep + early_stop_after_grok);
      if (done && !evaluated) record(step);
      if (schedule.has(step) || done) {
        if (!save(step, checkpoints)) break;
        store.writeStatus({
          ...status,
          state: 'running',
          step,
          checkpoints,
          ...statusFields(),
          updated_at: new Date().toISOString(),
        });
      }
      if (stopAt()) break;
      const t = a.now();
      if (t - lastTick >= 0.5 || done) {
        stepsPerSec = (step - lastTickStep) / Math.max(t - lastTick, 1e-9);
        lastTick = t;
        lastTickStep = step;
        a.onProgress?.({ step, total: steps, stepsPerSec, last });
      }
      if (done) break;
    }
    if (state === 'interrupted' && !checkpoints.includes(step)) {
      if (last?.step !== step) record(step);
      save(step, checkpoints);
    }
    const divergence = watch.check();
    const stopped = divergence !== null && onDivergence === 'stop';
    const saved = stopped ? (checkpoints.at(-1) ?? 0) : step; // stopping: what is on disk
    if (divergence) state = state === 'interrupted' && !stopped ? 'interrupted' : 'diverged';
    store.writeStatus({
      ...status,
      state,
      step: saved,
      final_step: state === 'finished' || (state === 'diverged' && !stopped) ? step : null,
      checkpoints,
      ...statusFields(),
      updated_at: new Date().toISOString(),
    });
    return { state, step: saved, firstGrokStep, memStep, divergence, lastFiniteCheckpoint: lastFinite };
  } finally {
    watch.dispose();
    trainSet.dispose();
    testSet.dispose();
    for (const v of Object.values(vars)) v.dispose();
  }
}

/**
 * One tf.Variable per stored tensor, named after it; `varList` holds the trained ones only, in
 * spec order — what gradients are taken of. A frozen tensor (e.g. the attention biases without
 * model.attn_bias) is a non-trainable variable: the forward pass reads it, nothing updates it.
 */
export function modelVariables(
  model: Model,
  params: NamedTensors,
): { vars: Record<string, tf.Variable>; varList: tf.Variable[] } {
  const vars: Record<string, tf.Variable> = {};
  for (const { name, frozen } of model.specs) {
    const init = tf.tensor(params[name].data, params[name].shape);
    vars[name] = tf.variable(init, frozen !== true, name);
    init.dispose(); // the variable holds its own reference to the data
  }
  return { vars, varList: trainedSpecs(model.specs).map((s) => vars[s.name]) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
