/**
 * Plain-JS float64 oracles for the backend tests: a dense batched product with numpy batch
 * broadcasting, and seeded random operands.
 */
import { Rng } from '../../src/rng.ts';

export interface Dense {
  shape: number[];
  data: Float64Array; // row-major
}

/** Seeded standard-normal operand of the given shape. */
export function randomDense(shape: number[], seed: number): Dense {
  const size = shape.reduce((p, s) => p * s, 1);
  return { shape, data: Float64Array.from(new Rng(seed).normalArray(size)) };
}

/**
 * op(a)·op(b) in float64, where op transposes the last two axes when its flag is set and the
 * leading (batch) axes broadcast numpy-style: [2,1,m,k]·[3,k,n] → [2,3,m,n].
 */
export function denseMatMul(a: Dense, b: Dense, transposeA: boolean, transposeB: boolean): Dense {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) throw new Error(`oracle: inner dims ${k} and ${kb} differ`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pa = [...Array(rank - batchA.length).fill(1), ...batchA];
  const pb = [...Array(rank - batchB.length).fill(1), ...batchB];
  const outBatch = pa.map((x, i) => {
    if (x !== pb[i] && x !== 1 && pb[i] !== 1)
      throw new Error(`oracle: batch dims [${batchA}] and [${batchB}] do not broadcast`);
    return Math.max(x, pb[i]);
  });
  const total = outBatch.reduce((p, s) => p * s, 1);
  const out = new Float64Array(total * m * n);
  for (let t = 0; t < total; t++) {
    // Flat batch index of each operand for output batch entry t.
    let rem = t;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outBatch[d];
      rem = (rem - idx) / outBatch[d];
      ia += (pa[d] === 1 ? 0 : idx) * strideA;
      ib += (pb[d] === 1 ? 0 : idx) * strideB;
      strideA *= pa[d];
      strideB *= pb[d];
    }
    const offA = ia * m * k;
    const offB = ib * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a.data[offA + (transposeA ? p * m + i : i * k + p)];
          const bv = b.data[offB + (transposeB ? j * k + p : p * n + j)];
          s += av * bv;
        }
        out[(t * m + i) * n + j] = s;
      }
    }
  }
  return { shape: [...outBatch, m, n], data: out };
}

/** Largest |got − want| / (1 + |want|), so the tolerance reads as float32 relative error on O(1) values. */
export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}

// float32 products of O(1) normals with k ≤ 160: a few ulps of the sum's magnitude.
export const MATMUL_TOL = 2e-5;

/** Every combination of transposeA / transposeB. */
export const MATMUL_FLAGS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/**
 * [label, batchA, batchB, m, k, n]: a [...batchA, m, k] (or k, m), b [...batchB, k, n] (or n, k).
 * The product shapes every matmul path is tested on (the XNNPACK wrappers and the BLAS kernels).
 */
export const MATMUL_CASES: [string, number[], number[], number, number, number][] = [
  ['2-D', [], [], 40, 48, 36],
  ['2-D one row', [], [], 1, 128, 96],
  ['2-D tiny', [], [], 3, 5, 4],
  ['3-D equal batches', [3], [3], 24, 40, 32],
  ['3-D per-batch sized', [3], [3], 96, 80, 72],
  ['3-D × 2-D (folds into rows)', [5], [], 20, 48, 36],
  ['2-D × 3-D', [], [5], 20, 48, 36],
  ['4-D × 3-D, broadcast over leading', [2, 3], [3], 16, 24, 20],
  ['[2,1] × [1,3] broadcast (tfjs gets it wrong)', [2, 1], [1, 3], 16, 24, 20],
  ['[1,1] × [4] batch-1 padding', [1, 1], [4], 24, 40, 32],
];
