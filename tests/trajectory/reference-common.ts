/**
 * Shared pieces of the float64 reference used by the trajectory tests: the parameter container,
 * the modular-addition examples built from a split, the mean cross-entropy and its gradient, and a
 * small seeded generator for the gradient check. Written apart from src/models and src/optim on
 * purpose: the trajectory test compares groklens against this code, so it must not share any of it.
 */

/** Named float64 tensors, row-major, with their shapes. */
export interface Tensor64 {
  shape: number[];
  data: Float64Array;
}
export type Params64 = Record<string, Tensor64>;

/** A float64 reference model: loss and hand-derived gradient of every trained tensor. */
export interface RefModel {
  /** Names of the trained tensors (what the optimiser updates and decays), in a fixed order. */
  trained: string[];
  /** Mean cross-entropy over the batch and ∂loss/∂θ for every name in `trained`. */
  lossAndGrad(params: Params64, batch: Batch): { loss: number; grads: Record<string, Float64Array> };
  /** The loss alone (for central differences). */
  loss(params: Params64, batch: Batch): number;
}

/** Examples of a+b mod p: operands and labels (tokens are [a, b, p], '=' being token p). */
export interface Batch {
  p: number;
  a: Int32Array; // [n]
  b: Int32Array; // [n]
  y: Int32Array; // [n]
}

/** Example index n of a-major pair order is (a, b) = (n div p, n mod p); the label is a+b mod p. */
export function additionBatch(p: number, indices: ArrayLike<number>): Batch {
  const n = indices.length;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = Math.floor(indices[i] / p);
    b[i] = indices[i] % p;
    y[i] = (a[i] + b[i]) % p;
  }
  return { p, a, b, y };
}

/**
 * Cross-entropy of one example's logits against class y, in float64 with the max subtracted,
 * and its gradient softmax − onehot scaled by `scale` (1/N for a mean over N examples),
 * written into dLogits.
 */
export function crossEntropyRow(logits: Float64Array, y: number, scale: number, dLogits: Float64Array | null): number {
  let max = -Infinity;
  for (let c = 0; c < logits.length; c++) max = Math.max(max, logits[c]);
  let z = 0;
  for (let c = 0; c < logits.length; c++) z += Math.exp(logits[c] - max);
  const logZ = Math.log(z) + max;
  if (dLogits) {
    for (let c = 0; c < logits.length; c++) dLogits[c] = scale * (Math.exp(logits[c] - logZ) - (c === y ? 1 : 0));
  }
  return logZ - logits[y];
}

/** mulberry32: a tiny seeded uniform generator, enough for random test weights. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box–Muller from a uniform generator. */
export function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Random float64 tensors with the given shapes, N(0, scale²). */
export function randomParams(shapes: Record<string, number[]>, seed: number, scale = 0.5): Params64 {
  const g = normal(uniform(seed));
  const out: Params64 = {};
  for (const [k, shape] of Object.entries(shapes)) {
    const data = new Float64Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < data.length; i++) data[i] = scale * g();
    out[k] = { shape, data };
  }
  return out;
}
