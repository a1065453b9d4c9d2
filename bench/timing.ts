import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../src/config/types.ts';
import { createModel, trainedSpecs } from '../src/models/index.ts';
import { createOptimizer } from '../src/optim/index.ts';
import { Rng } from '../src/rng.ts';
import { lossTensor, makeLabelTensors } from '../src/run/objective.ts';
import { withShapes } from '../src/run/open.ts';
import { modelVariables } from '../src/run/train.ts';
import { buildDataset } from '../src/tasks/index.ts';
import { makeSplit } from '../src/tasks/split.ts';

/**
 * Timing for micro-benchmarks on a shared machine. Other processes steal cores, so we report the
 * median wall time (robust to the odd descheduled rep) and the process CPU time per rep, whose
 * ratio to wall time shows whether a kernel used more than one core.
 */
export interface Timing {
  medianMs: number;
  minMs: number;
  cpuPerWall: number; // process CPU time / wall time over the timed reps (all threads)
  reps: number;
}

export interface TimeOptions {
  minTotalMs?: number; // keep repeating until this much wall time has passed… (default 400)
  minReps?: number; // …and at least this many reps (default 5)
  warmup?: number; // untimed reps first (default 2)
}

/** Time `f`, which returns a tensor (or tensors); the result is read back and disposed every rep. */
export function timeKernel(f: () => tf.Tensor | tf.Tensor[], opts: TimeOptions = {}): Timing {
  const { minTotalMs = 400, minReps = 5, warmup = 2 } = opts;
  const once = () => {
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync();
    tf.dispose(list);
  };
  for (let i = 0; i < warmup; i++) once();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  while (times.length < minReps || performance.now() - start < minTotalMs) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
  }
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return {
    medianMs: times[times.length >> 1],
    minMs: times[0],
    cpuPerWall: (cpu.user + cpu.system) / 1000 / wall,
    reps: times.length,
  };
}

export function fmtMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** Left-aligned first column, right-aligned others. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

/** The first `batchSize` train examples (all of them for null): tokens [n, n_ctx] and labels [n]. */
export function firstBatch(
  dataset: { n_ctx: number; tokens: Int32Array; labels: Int32Array },
  train: Int32Array,
  batchSize: number | null,
): { tokens: Int32Array; labels: Int32Array; n: number } {
  const rows = batchSize === null ? train : train.slice(0, batchSize);
  const tokens = new Int32Array(rows.length * dataset.n_ctx);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    tokens.set(dataset.tokens.subarray(r * dataset.n_ctx, (r + 1) * dataset.n_ctx), i * dataset.n_ctx);
    labels[i] = dataset.labels[r];
  });
  return { tokens, labels, n: rows.length };
}

/**
 * One full optimiser step of `cfg`'s model on the first batch of its train split (the batch size
 * given, else the config's), set up once: what bench/train.ts, bench/step.ts and
 * bench/profile-step.ts time. `step()` ends with a read-back so that each call is complete.
 * `onStep` sees the loss and gradients inside the step's tidy (e.g. the divergence watch).
 */
export function benchTrainingStep(
  cfg: RunConfig,
  opts: {
    seed?: number;
    batchSize?: number | null;
    onStep?: (loss: tf.Scalar, grads: Record<string, tf.Tensor>) => void;
  } = {},
): { step: () => void; rows: number; nCtx: number; tensors: number; kind: string } {
  const dataset = buildDataset(cfg.task);
  const split = makeSplit(dataset.n, cfg.split);
  const { tokens, labels, n } = firstBatch(
    dataset,
    split.train,
    opts.batchSize === undefined ? cfg.training.batch_size : opts.batchSize,
  );
  const model = createModel(cfg.model, {
    d_vocab: dataset.d_vocab,
    n_ctx: dataset.n_ctx,
    d_vocab_out: dataset.d_vocab_out,
  });
  const { vars, varList } = modelVariables(model, withShapes(model, model.init(new Rng(opts.seed ?? 0))));
  const optimizer = createOptimizer(cfg.optimizer, trainedSpecs(model.specs));
  const input = model.prepare(tokens, n);
  const lt = makeLabelTensors(labels, dataset.d_vocab_out, cfg);
  const step = () => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossTensor(model, vars, input, lt, cfg), varList);
      opts.onStep?.(value, grads);
      optimizer.apply(vars, grads);
    });
    vars[model.specs[0].name].dataSync();
  };
  return { step, rows: n, nCtx: dataset.n_ctx, tensors: model.specs.length, kind: cfg.model.kind };
}
