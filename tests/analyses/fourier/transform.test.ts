import { describe, expect, it } from 'vitest';
import { cosRow, fourierBasis, sinRow } from '../../../analyses/fourier/basis.ts';
import { complexDft } from '../../../analyses/fourier/bluestein.ts';
import { FourierInputError } from '../../../analyses/fourier/errors.ts';
import {
  fourierTransform1d,
  fourierTransform2d,
  fourierTransform2dBatched,
  inverseFourierTransform1d,
  inverseFourierTransform2d,
  inverseTransformCols,
  inverseTransformRows,
  realDft,
  transformAxis,
  transformCols,
  transformRows,
} from '../../../analyses/fourier/transform.ts';
import { l2, matmul, maxAbsDiff, randomVector, transpose } from './oracle.ts';

const denseForward = (x: Float64Array, n: number) => matmul(fourierBasis(n), x, n, n, 1);
/** F·M·Fᵀ, dense. */
const dense2d = (M: Float64Array, n: number) => {
  const F = fourierBasis(n);
  return matmul(matmul(F, M, n, n, n), transpose(F, n, n), n, n, n);
};

describe('1-D transform', () => {
  it('equals the dense basis product F·x for every n from 2 to 130', () => {
    for (let n = 2; n <= 130; n++) {
      const x = randomVector(1000 + n, n);
      const err = maxAbsDiff(fourierTransform1d(x), denseForward(x, n));
      expect(err / l2(x), `n = ${n} (${realDft(n).method})`).toBeLessThanOrEqual(1e-9);
    }
  });

  it('uses fft.js directly for powers of two and Bluestein otherwise; plans are cached', () => {
    expect(realDft(64).method).toBe('radix');
    expect(realDft(113).method).toBe('bluestein');
    expect(complexDft(113).fftSize).toBe(256);
    expect(realDft(113)).toBe(realDft(113));
    expect(Array.from(fourierTransform1d(new Float64Array([3])))).toEqual([3]);
  });

  it('puts a pure cos(2πkx/n) in the cos-k row only, with amplitude √(n/2)', () => {
    for (const n of [5, 12, 96, 97, 112, 113, 128]) {
      for (let k = 1; k <= Math.floor((n - 1) / 2); k++) {
        for (const [fn, row] of [
          [Math.cos, cosRow(n, k)],
          [Math.sin, sinRow(n, k)],
        ] as const) {
          const x = new Float64Array(n).map((_, j) => fn((2 * Math.PI * k * j) / n));
          const expected = new Float64Array(n);
          expected[row] = Math.sqrt(n / 2);
          expect(maxAbsDiff(fourierTransform1d(x), expected), `n = ${n}, ${fn.name} ${k}`).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('puts a constant in the const row and (−1)^x in the Nyquist row', () => {
    for (const n of [2, 3, 8, 96, 97, 113]) {
      const c = fourierTransform1d(new Float64Array(n).fill(2.5));
      const expected = new Float64Array(n);
      expected[0] = 2.5 * Math.sqrt(n);
      expect(maxAbsDiff(c, expected), `const, n = ${n}`).toBeLessThan(1e-12);
      if (n % 2 === 0) {
        const y = fourierTransform1d(new Float64Array(n).map((_, j) => (j % 2 === 0 ? 1 : -1)));
        const e2 = new Float64Array(n);
        e2[n - 1] = Math.sqrt(n);
        expect(maxAbsDiff(y, e2), `nyquist, n = ${n}`).toBeLessThan(1e-12);
      }
    }
  });

  it('inverts: Fᵀ·(F·x) = x, F·(Fᵀ·c) = c, and the inverse equals the dense Fᵀ·c', () => {
    for (let n = 2; n <= 130; n++) {
      const x = randomVector(2000 + n, n);
      expect(maxAbsDiff(inverseFourierTransform1d(fourierTransform1d(x)), x), `n = ${n}`).toBeLessThan(1e-12 * n);
      expect(maxAbsDiff(fourierTransform1d(inverseFourierTransform1d(x)), x), `n = ${n}`).toBeLessThan(1e-12 * n);
      const dense = matmul(transpose(fourierBasis(n), n, n), x, n, n, 1);
      expect(maxAbsDiff(inverseFourierTransform1d(x), dense) / l2(x), `n = ${n}`).toBeLessThanOrEqual(1e-9);
    }
  });

  it('preserves the L2 norm (Parseval)', () => {
    for (const n of [2, 7, 64, 96, 97, 113, 127, 128, 130]) {
      const x = randomVector(3000 + n, n);
      expect(l2(fourierTransform1d(x)) / l2(x)).toBeCloseTo(1, 12);
    }
  });

  it('accepts float32 input, giving the float64 result of the same values', () => {
    const x32 = new Float32Array(randomVector(7, 113));
    expect(fourierTransform1d(x32)).toEqual(fourierTransform1d(new Float64Array(x32)));
  });
});

describe('batched 1-D transforms along an axis', () => {
  it('transformRows is M·Fᵀ and transformCols is F·M, for odd and even batch sizes', () => {
    for (const [n, other] of [
      [113, 7],
      [113, 130],
      [96, 1],
      [97, 64],
      [64, 65],
      [5, 0],
    ]) {
      const F = fourierBasis(n);
      const R = randomVector(n * 31 + other, other * n); // [other, n]
      const rows = transformRows(R, other, n);
      expect(maxAbsDiff(rows, matmul(R, transpose(F, n, n), other, n, n)), `rows n=${n} x${other}`).toBeLessThan(1e-11);
      expect(maxAbsDiff(inverseTransformRows(rows, other, n), R)).toBeLessThan(1e-11);
      const C = randomVector(n * 37 + other, n * other); // [n, other]
      const cols = transformCols(C, n, other);
      expect(maxAbsDiff(cols, matmul(F, C, n, n, other)), `cols n=${n} x${other}`).toBeLessThan(1e-11);
      expect(maxAbsDiff(inverseTransformCols(cols, n, other), C)).toBeLessThan(1e-11);
    }
  });

  it('transformAxis works in place and matches a fresh output', () => {
    const data = randomVector(11, 3 * 97 * 70); // [3, 97, 70]
    const fresh = transformAxis(data, 3, 97, 70);
    const inPlace = transformAxis(data, 3, 97, 70, 'forward', data);
    expect(inPlace).toBe(data);
    expect(maxAbsDiff(inPlace, fresh)).toBe(0);
  });

  it('rejects wrong lengths, naming the expected shape', () => {
    expect(() => transformRows(new Float64Array(10), 3, 4)).toThrow(
      /^transform input length: expected 12 \(shape \[3, 4, 1\]\), got 10$/,
    );
    expect(() => transformAxis(new Float64Array(4), 1, 4, 1, 'sideways' as 'forward')).toThrow(FourierInputError);
    expect(() => fourierTransform1d(new Float64Array(0))).toThrow(/transform length n: expected an integer ≥ 1, got 0/);
    const bad = new Float32Array(2 * 5 * 3);
    bad[1 * 15 + 4 * 3 + 2] = NaN;
    expect(() => transformAxis(bad, 2, 5, 3)).toThrow(
      /^transform input\[1, 4, 2\] of \[2, 5, 3\]: expected a finite number, got NaN$/,
    );
    expect(() => fourierTransform2d(new Float64Array([1, Infinity, 0, 0]), 2)).toThrow(/got Infinity/);
  });
});

describe('2-D transform', () => {
  it('equals the dense F·M·Fᵀ, including primes 97, 113 and even 96, 112', () => {
    for (const n of [2, 3, 4, 5, 6, 7, 16, 31, 59, 64, 96, 97, 112, 113, 128]) {
      const M = randomVector(4000 + n, n * n);
      const err = maxAbsDiff(fourierTransform2d(M, n), dense2d(M, n));
      expect(err / l2(M), `n = ${n}`).toBeLessThanOrEqual(1e-9);
      expect(maxAbsDiff(inverseFourierTransform2d(fourierTransform2d(M, n), n), M), `n = ${n}`).toBeLessThan(1e-11);
      expect(l2(fourierTransform2d(M, n)) / l2(M)).toBeCloseTo(1, 12);
    }
  });

  it('transforms a along the first output axis and b along the second', () => {
    const p = 113;
    const k = 14;
    const M = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) M[a * p + b] = Math.cos((2 * Math.PI * k * a) / p);
    const X = fourierTransform2d(M, p);
    const expected = new Float64Array(p * p);
    expected[cosRow(p, k) * p + 0] = Math.sqrt(p / 2) * Math.sqrt(p); // (cos k) ⊗ const
    expect(maxAbsDiff(X, expected)).toBeLessThan(1e-10);
  });

  it('supports the docs/measures.md#sum-of-angle-projections read-out of the sum-of-angle directions u_k, v_k', () => {
    const p = 113;
    const s = Math.SQRT2 / p;
    for (const k of [1, 14, 35, 41, 42, 52, 56]) {
      const u = new Float64Array(p * p);
      const v = new Float64Array(p * p);
      for (let a = 0; a < p; a++) {
        for (let b = 0; b < p; b++) {
          const angle = (2 * Math.PI * ((k * (a + b)) % p)) / p;
          u[a * p + b] = s * Math.cos(angle);
          v[a * p + b] = s * Math.sin(angle);
        }
      }
      const at = (X: Float64Array, f: number, g: number) => X[f * p + g];
      const [c, sn] = [cosRow(p, k), sinRow(p, k)];
      const U = fourierTransform2d(u, p);
      const V = fourierTransform2d(v, p);
      expect((at(U, c, c) - at(U, sn, sn)) / Math.SQRT2).toBeCloseTo(1, 12); // u_kᵀu_k
      expect((at(U, sn, c) + at(U, c, sn)) / Math.SQRT2).toBeCloseTo(0, 12); // v_kᵀu_k
      expect((at(V, sn, c) + at(V, c, sn)) / Math.SQRT2).toBeCloseTo(1, 12); // v_kᵀv_k
      expect((at(V, c, c) - at(V, sn, sn)) / Math.SQRT2).toBeCloseTo(0, 12); // u_kᵀv_k
    }
  });
});

describe('batched 2-D transform', () => {
  /** Slice c of a [n, n, C] array. */
  const sliceLast = (L: ArrayLike<number>, n: number, C: number, c: number) => {
    const out = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) out[i] = L[i * C + c];
    return out;
  };

  it('batch-last ([n, n, C], the logits layout) equals per-class 2-D transforms', () => {
    for (const [n, C] of [
      [7, 3],
      [96, 5],
      [97, 66],
      [113, 2],
    ]) {
      const L = randomVector(5000 + n + C, n * n * C);
      const X = fourierTransform2dBatched(L, n, C);
      for (let c = 0; c < C; c++) {
        const single = fourierTransform2d(sliceLast(L, n, C, c), n);
        expect(maxAbsDiff(sliceLast(X, n, C, c), single), `n=${n} C=${C} c=${c}`).toBeLessThan(1e-11);
      }
      const back = fourierTransform2dBatched(X, n, C, { direction: 'inverse' });
      expect(maxAbsDiff(back, L)).toBeLessThan(1e-11);
      expect(maxAbsDiff(fourierTransform2dBatched(L, n, C, { out: L }), X)).toBe(0); // in place
    }
  });

  it('batch-first ([B, n, n]) equals per-slice 2-D transforms', () => {
    for (const [n, B] of [
      [6, 3],
      [97, 4],
      [112, 1],
    ]) {
      const T = randomVector(6000 + n + B, B * n * n);
      const X = fourierTransform2dBatched(T, n, B, { batchAxis: 'first' });
      for (let b = 0; b < B; b++) {
        const single = fourierTransform2d(T.subarray(b * n * n, (b + 1) * n * n), n);
        expect(maxAbsDiff(X.subarray(b * n * n, (b + 1) * n * n), single), `n=${n} b=${b}`).toBeLessThan(1e-11);
      }
      const back = fourierTransform2dBatched(X, n, B, { batchAxis: 'first', direction: 'inverse' });
      expect(maxAbsDiff(back, T)).toBeLessThan(1e-11);
      // Into a caller's buffer, and in place.
      const out = new Float64Array(T.length);
      expect(fourierTransform2dBatched(T, n, B, { batchAxis: 'first', out })).toBe(out);
      expect(maxAbsDiff(out, X)).toBe(0);
      expect(maxAbsDiff(fourierTransform2dBatched(T, n, B, { batchAxis: 'first', out: T }), X)).toBe(0);
    }
  });

  it('rejects a bad batch axis and a wrong length', () => {
    expect(() => fourierTransform2dBatched(new Float64Array(8), 2, 2, { batchAxis: 'middle' as 'last' })).toThrow(
      /batchAxis: expected 'last' or 'first', got "middle"/,
    );
    expect(() => fourierTransform2dBatched(new Float64Array(9), 2, 2)).toThrow(/shape \[2, 2, 2\]/);
  });

  it('p = 113, C = 113 logits (float32): timing printed, spot-checked against the dense product', () => {
    const p = 113;
    const C = 113;
    const L = new Float32Array(randomVector(113, p * p * C));
    fourierTransform2dBatched(L, p, C); // warm-up: plans, JIT
    const times: number[] = [];
    let X: Float64Array = new Float64Array(0);
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      X = fourierTransform2dBatched(L, p, C);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `[fourier] 2-D batched transform, p = ${p}, C = ${C}: median ${times[2].toFixed(1)} ms, ` +
        `min ${times[0].toFixed(1)} ms, max ${times[4].toFixed(1)} ms over 5 runs`,
    );
    for (const c of [0, 56, 112]) {
      const dense = dense2d(sliceLast(L, p, C, c), p);
      expect(maxAbsDiff(sliceLast(X, p, C, c), dense) / l2(sliceLast(L, p, C, c))).toBeLessThanOrEqual(1e-9);
    }
  });
});
