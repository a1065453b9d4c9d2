/** Dense reference arithmetic the fast transforms are checked against (not a test file itself). */
import { Rng } from '../../../src/rng.ts';

/** A [length] vector of N(0, 1) draws from a seeded generator. */
export function randomVector(seed: number, length: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal();
  return out;
}

/** C = A·B for A [m, k], B [k, n] row-major. */
export function matmul(A: ArrayLike<number>, B: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      const a = A[i * k + t];
      if (a === 0) continue;
      for (let j = 0; j < n; j++) C[i * n + j] += a * B[t * n + j];
    }
  }
  return C;
}

/** Aᵀ for A [m, n]. */
export function transpose(A: ArrayLike<number>, m: number, n: number): Float64Array {
  const T = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) T[j * m + i] = A[i * n + j];
  return T;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as the max
  }
  return m;
}

export function l2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}
