/**
 * Shared test machinery for the models: random parameters, the float64 loss, and a gradient check
 * of the tfjs backward pass against central finite differences of the float64 reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { Rng } from '../../src/rng.ts';
import type { Model } from '../../src/models/types.ts';

/** The wasm backend, as the CLI uses it (useBackend also makes sure gradients are registered). */
export async function setupTf(): Promise<void> {
  await useBackend('wasm');
  expect(tf.getGradient('BatchMatMul'), 'tfjs gradients registered').toBeDefined();
}

/** All p² pairs of Z_p as [a, b, =] (a-major), labels (a + b) mod p. */
export function modularBatch(p: number): { tokens: Int32Array; labels: Int32Array; n: number } {
  const n = p * p;
  const tokens = new Int32Array(n * 3);
  const labels = new Int32Array(n);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      const i = a * p + b;
      tokens.set([a, b, p], i * 3);
      labels[i] = (a + b) % p;
    }
  }
  return { tokens, labels, n };
}

/** n random sequences of n_ctx tokens from [0, d_vocab) with random labels in [0, d_vocab_out). */
export function randomBatch(
  model: Model,
  n: number,
  seed: number,
): { tokens: Int32Array; labels: Int32Array; n: number } {
  const rng = new Rng(seed);
  const { d_vocab, n_ctx, d_vocab_out } = model.dims;
  const tokens = Int32Array.from({ length: n * n_ctx }, () => rng.int(d_vocab));
  const labels = Int32Array.from({ length: n }, () => rng.int(d_vocab_out));
  return { tokens, labels, n };
}

/**
 * The model's own init plus N(0, 0.2²) on every entry, so biases and LayerNorm parameters are
 * non-trivial and every path of the forward is exercised.
 */
export function randomParams(model: Model, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const params = model.init(rng);
  for (const name of Object.keys(params)) {
    const t = params[name];
    for (let i = 0; i < t.length; i++) t[i] += 0.2 * rng.normal();
  }
  return params;
}

export function to64(params: Record<string, Float32Array>): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(params)) out[k] = Float64Array.from(v);
  return out;
}

export function toTensors(model: Model, params: Record<string, Float32Array>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const { name, shape } of model.specs) out[name] = tf.tensor(params[name], shape);
  return out;
}

/** Mean cross-entropy in float64 of row-major logits [n, c]. */
export function crossEntropy64(logits: Float64Array, labels: Int32Array, c: number): number {
  const n = labels.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(logits[i * c + j] - max);
    total += max + Math.log(s) - logits[i * c + labels[i]];
  }
  return total / n;
}

/** Mean cross-entropy with tf ops, differentiable. */
export function crossEntropyTf(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1))) as tf.Scalar;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Expect |a - b| ≤ atol + rtol·|b| entrywise, reporting the worst entry. */
export function expectClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) expect.fail(`${what}: entry ${worst}: ${a[worst]} vs ${b[worst]} (rtol ${rtol}, atol ${atol})`);
}

/**
 * Gradient check. The tfjs gradient of mean cross-entropy w.r.t. every parameter tensor is
 * compared, on `perTensor` random entries of each, with central differences (step h) of the
 * float64 reference loss. Tolerance per entry: rtol·|fd| + atol·(largest |fd| sampled in that
 * tensor, floored at 1e-3), so tiny entries are judged on the tensor's own scale.
 * Returns the worst relative error seen, for the test log.
 */
export function checkGradients(
  model: Model,
  params: Record<string, Float32Array>,
  batch: { tokens: Int32Array; labels: Int32Array; n: number },
  opts: { perTensor?: number; h?: number; rtol?: number; atol?: number; seed?: number } = {},
): number {
  const { perTensor = 8, h = 1e-6, rtol = 2e-3, atol = 2e-4, seed = 99 } = opts;
  const c = model.dims.d_vocab_out;
  const input = model.prepare(batch.tokens, batch.n);
  const names = model.specs.map((s) => s.name);
  const tensors = model.specs.map((s) => tf.tensor(params[s.name], s.shape));
  const gradsTf = tf.tidy(() => {
    const f = (...xs: tf.Tensor[]) => {
      const rec: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => (rec[n] = xs[i]));
      return crossEntropyTf(model.forward(rec, input).logits, batch.labels);
    };
    return tf.grads(f)(tensors);
  });
  const grads = gradsTf.map((g) => g.dataSync() as Float32Array);
  tf.dispose([...gradsTf, ...tensors]);
  input.dispose();

  const p64 = to64(params);
  const loss = () => crossEntropy64(model.reference(p64, batch.tokens, batch.n), batch.labels, c);
  const rng = new Rng(seed);
  let worst = 0;
  names.forEach((name, k) => {
    const t = p64[name];
    const idx = t.length <= perTensor ? [...t.keys()] : Array.from({ length: perTensor }, () => rng.int(t.length));
    const fd = idx.map((j) => {
      const v = t[j];
      t[j] = v + h;
      const up = loss();
      t[j] = v - h;
      const down = loss();
      t[j] = v;
      return (up - down) / (2 * h);
    });
    const scale = Math.max(1e-3, maxAbs(fd));
    idx.forEach((j, m) => {
      const err = Math.abs(grads[k][j] - fd[m]);
      worst = Math.max(worst, err / (Math.abs(fd[m]) + scale * 1e-2));
      if (!(err <= rtol * Math.abs(fd[m]) + atol * scale)) {
        expect.fail(`${name}[${j}]: tfjs gradient ${grads[k][j]} vs finite difference ${fd[m]} (scale ${scale})`);
      }
    });
  });
  return worst;
}

/**
 * tf.memory().numTensors is unchanged by: a cached forward inside tf.tidy; a forward outside tidy
 * whose outputs are then disposed; a gradient computation whose gradients are disposed; and
 * prepare() followed by dispose() (twice: idempotent).
 */
export function expectNoLeaks(
  model: Model,
  params32: Record<string, Float32Array>,
  batch: { tokens: Int32Array; n: number },
): void {
  const params = toTensors(model, params32);
  const start = tf.memory().numTensors;
  const input = model.prepare(batch.tokens, batch.n);
  const afterPrepare = tf.memory().numTensors;
  expect(afterPrepare).toBe(start + Object.keys(input.tensors).length);
  tf.tidy(() => {
    model.forward(params, input, { cache: true });
  });
  expect(tf.memory().numTensors, 'forward in tidy').toBe(afterPrepare);
  const out = model.forward(params, input, { cache: true });
  expect(Object.keys(out.cache).length).toBeGreaterThan(0);
  tf.dispose([out.logits, ...Object.values(out.cache)]);
  expect(tf.memory().numTensors, 'forward, outputs disposed').toBe(afterPrepare);
  const names = model.specs.map((s) => s.name);
  const grads = tf.grads((...xs: tf.Tensor[]) => {
    const rec: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => (rec[n] = xs[i]));
    return tf.sum(model.forward(rec, input).logits);
  })(names.map((n) => params[n]));
  expect(grads.length).toBe(names.length);
  tf.dispose(grads);
  expect(tf.memory().numTensors, 'gradients disposed').toBe(afterPrepare);
  input.dispose();
  input.dispose();
  expect(tf.memory().numTensors, 'input disposed').toBe(start);
  tf.dispose(Object.values(params));
}
