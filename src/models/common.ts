/**
 * Small pieces the three models share: parameter bookkeeping, seeded init, token checks, one-hot
 * uploads, activations (tfjs and float64), and LayerNorm. Kept free of any one architecture.
 */
import type { Linearisation } from './linearisation.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import type { ParamSpec, PreparedInput } from './types.ts';

/** Number of entries of a tensor of this shape. */
export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** Total number of scalar parameters in a spec list. */
export function countParams(specs: readonly ParamSpec[]): number {
  let total = 0;
  for (const s of specs) total += sizeOf(s.shape);
  return total;
}

/** Throw a ConfigError unless `value` is an integer ≥ `min`. */
export function requireInt(key: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError('model config', key, `expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
}

/** Throw a ConfigError unless `value` is a finite positive number (the init scale α). */
export function requirePositive(key: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError('model config', key, `expected a finite number > 0, got ${JSON.stringify(value)}`);
  }
}

/**
 * How a parameter is initialised. 'normal' draws N(0, std²) from the generator (std already
 * includes α); 'zeros' and 'ones' draw nothing, so the stream only advances on matrices.
 */
export type InitRule = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

/** Draw every parameter in spec order. */
export function initParams(
  specs: readonly ParamSpec[],
  rule: (name: string) => InitRule,
  rng: Rng,
): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const { name, shape } of specs) {
    const r = rule(name);
    const size = sizeOf(shape);
    if (r.kind === 'normal') out[name] = rng.normalArray(size, r.std);
    else if (r.kind === 'ones') out[name] = new Float32Array(size).fill(1);
    else out[name] = new Float32Array(size);
  }
  return out;
}

/** Check a token batch: length n·n_ctx, every token an integer in [0, d_vocab). */
export function checkTokens(model: string, tokens: Int32Array, n: number, nCtx: number, dVocab: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${model}.prepare: n must be a positive integer, got ${n}`);
  if (tokens.length !== n * nCtx) {
    throw new RangeError(`${model}.prepare: expected ${n}×${nCtx} = ${n * nCtx} tokens, got ${tokens.length}`);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t < 0 || t >= dVocab) {
      throw new RangeError(
        `${model}.prepare: token ${t} at example ${Math.floor(i / nCtx)}, position ${i % nCtx} is outside [0, ${dVocab})`,
      );
    }
  }
}

/** A PreparedInput owning `tensors`; dispose() frees them once (later calls do nothing). */
export function preparedInput(n: number, tensors: Record<string, tf.Tensor>): PreparedInput {
  let disposed = false;
  return {
    n,
    tensors,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const t of Object.values(tensors)) t.dispose();
    },
  };
}

/** An uploaded input tensor, checked against the shape this model's prepare() gives it. */
export function inputTensor<R extends tf.Rank>(
  model: string,
  input: PreparedInput,
  name: string,
  shape: number[],
): tf.Tensor<R> {
  const t = input.tensors[name];
  if (t === undefined || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    const got = t === undefined ? 'nothing' : `[${t.shape}]`;
    throw new RangeError(
      `${model}.forward: input '${name}' should be [${shape}] (from this model's prepare()), got ${got}`,
    );
  }
  return t as tf.Tensor<R>;
}

/** Fetch a named parameter or fail with the name that is missing. */
export function param<R extends tf.Rank = tf.Rank>(params: Record<string, tf.Tensor>, name: string): tf.Tensor<R> {
  const t = params[name];
  if (t === undefined) throw new RangeError(`forward: missing parameter '${name}'`);
  return t as tf.Tensor<R>;
}

/** Fetch a named float64 parameter (reference passes) or fail with its name. */
export function param64(params: Record<string, Float64Array>, name: string, size: number): Float64Array {
  const t = params[name];
  if (t === undefined) throw new RangeError(`reference: missing parameter '${name}'`);
  if (t.length !== size)
    throw new RangeError(`reference: parameter '${name}' has ${t.length} entries, expected ${size}`);
  return t;
}

const SQRT1_2 = Math.SQRT1_2;

/**
 * Elementwise activation. 'gelu' is the exact erf form 0.5·x·(1 + erf(x/√2)) (PyTorch's
 * F.gelu default, not TransformerLens' tanh 'gelu_new'); tfjs has an Erf kernel and gradient.
 */
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1));
    case 'quadratic':
      return tf.square(x);
    case 'tanh':
      return tf.tanh(x);
    case 'linear':
      return x;
  }
}

/** Float64 twin of `activate`, for the reference passes. */
export function activate64(x: number, act: Activation): number {
  switch (act) {
    case 'relu':
      return x > 0 ? x : 0;
    case 'gelu':
      return 0.5 * x * (1 + erf64(x * SQRT1_2));
    case 'quadratic':
      return x * x;
    case 'tanh':
      return Math.tanh(x);
    case 'linear':
      return x;
  }
}

/**
 * erf in float64 to ~1e-15 relative: Maclaurin series for |x| < 3, continued fraction for erfc
 * beyond (both smooth, which finite differences need).
 */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf x = 2/√π · Σ (-1)^k x^(2k+1) / (k! (2k+1))
    const x2 = x * x;
    let term = x; // (-1)^k x^(2k+1) / k!
    let sum = x;
    for (let k = 1; k < 200; k++) {
      term *= -x2 / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 27) return Math.sign(x); // erfc underflows
  // erfc x = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const LN_EPS = 1e-5;

/** TransformerLens LayerNorm over the last axis: centre, divide by √(var + 1e-5), × w + b. */
export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, LN_EPS))), w), b);
}

/** Float64 LayerNorm of `x` (length d) into a new array. */
export function layerNorm64(x: Float64Array, w: Float64Array, b: Float64Array): Float64Array {
  const d = x.length;
  let mean = 0;
  for (let i = 0; i < d; i++) mean += x[i];
  mean /= d;
  let variance = 0;
  for (let i = 0; i < d; i++) variance += (x[i] - mean) ** 2;
  variance /= d;
  const inv = 1 / Math.sqrt(variance + LN_EPS);
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) out[i] = (x[i] - mean) * inv * w[i] + b[i];
  return out;
}

/** y[c] = Σ_r x[r]·W[r, c] + b[c] in float64, W row-major [rows, cols]; b optional. */
export function vecMat64(x: Float64Array, W: Float64Array, rows: number, cols: number, b?: Float64Array): Float64Array {
  const y = new Float64Array(cols);
  if (b) y.set(b);
  for (let r = 0; r < rows; r++) {
    const xr = x[r];
    if (xr === 0) continue;
    const off = r * cols;
    for (let c = 0; c < cols; c++) y[c] += xr * W[off + c];
  }
  return y;
}

/** LayerNorm as layerNorm above computes it, with the affine part registered. */
export function linearisedLayerNorm(
  lin: Linearisation,
  params: Record<string, tf.Tensor>,
  x: tf.Tensor2D,
  prefix: string,
  sites: number,
): tf.Tensor2D {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const xhat = tf.mul(centred, tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), LN_EPS))) as tf.Tensor2D;
  return lin.affine(
    xhat,
    param(params, `${prefix}.w`),
    `${prefix}.w`,
    param(params, `${prefix}.b`),
    `${prefix}.b`,
    sites,
  );
}
