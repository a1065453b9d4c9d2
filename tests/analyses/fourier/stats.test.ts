import { describe, expect, it } from 'vitest';
import { FourierInputError } from '../../../analyses/fourier/errors.ts';
import { cosRow, sinRow } from '../../../analyses/fourier/basis.ts';
import { transformCols, transformRows } from '../../../analyses/fourier/transform.ts';
import { colNorms, frequencyNorms, gini, ipr, meanIpr, rowNorms } from '../../../analyses/fourier/stats.ts';
import { randomVector } from './oracle.ts';

describe('gini', () => {
  it('is 0 for all-equal entries at any scale', () => {
    for (const N of [1, 2, 5, 56, 1000]) {
      for (const v of [1, 3.7, 1e-300, 1e300])
        expect(gini(new Float64Array(N).fill(v)), `N=${N} v=${v}`).toBeCloseTo(0, 12);
    }
  });

  it('is 1 − 1/N for a one-hot of length N', () => {
    for (const N of [1, 2, 3, 10, 56]) {
      const x = new Float64Array(N);
      x[N - 1] = 4;
      expect(gini(x)).toBeCloseTo(1 - 1 / N, 14);
      x.reverse(); // position does not matter
      expect(gini(x)).toBeCloseTo(1 - 1 / N, 14);
    }
  });

  it('matches hand-computed small cases (docs/measures.md#gini-coefficient formula)', () => {
    // [1, 2, 3]: ‖x‖₁ = 6, Σ = (1·2.5 + 2·1.5 + 3·0.5)/(6·3) = 7/18, G = 1 − 14/18 = 2/9.
    expect(gini([3, 1, 2])).toBeCloseTo(2 / 9, 14);
    // [0, 0, 1, 3]: Σ = (1·1.5 + 3·0.5)/(4·4) = 3/16, G = 1 − 6/16 = 5/8.
    expect(gini([1, 0, 3, 0])).toBeCloseTo(5 / 8, 14);
    // Scale invariance, including near overflow.
    expect(gini([3e307, 1e307, 2e307])).toBeCloseTo(2 / 9, 12);
  });

  it('is 0 for an all-zero vector (our documented choice)', () => {
    expect(gini(new Float64Array(5))).toBe(0);
  });

  it('rejects empty, negative and non-finite input, naming the entry', () => {
    expect(() => gini([])).toThrow(/^gini input length: expected at least 1, got 0$/);
    expect(() => gini([1, -0.5])).toThrow(/gini input\[1\]: expected a finite non-negative number, got -0.5/);
    expect(() => gini([NaN])).toThrow(/got NaN/);
    expect(() => gini([1, Infinity])).toThrow(/got Infinity/);
  });
});

describe('ipr', () => {
  it('is 1 for a one-hot and 1/N for equal magnitudes, regardless of sign', () => {
    expect(ipr([0, -3, 0, 0])).toBe(1);
    for (const N of [1, 4, 113]) {
      const w = new Float64Array(N).map((_, i) => (i % 2 ? -2 : 2));
      expect(ipr(w)).toBeCloseTo(1 / N, 14);
    }
    expect(ipr([1, 1, 0, 0])).toBeCloseTo(0.5, 14);
    expect(ipr([3, 4])).toBeCloseTo((81 + 256) / 625, 14);
  });

  it('neither overflows nor underflows at extreme scales', () => {
    expect(ipr([1e200, 1e200, 0, 0])).toBeCloseTo(0.5, 14);
    expect(ipr([1e-200, 1e-200, 0, 0])).toBeCloseTo(0.5, 14);
  });

  it('is NaN for an all-zero vector; meanIpr leaves such rows out and counts them', () => {
    expect(ipr([0, 0, 0])).toBeNaN();
    const M = new Float64Array([1, 0, 0, 0, /**/ 0, 0, 0, 0, /**/ 1, 1, 1, 1]); // [3, 4]
    const { perRow, mean, zeroRows } = meanIpr(M, 3, 4);
    expect(perRow[0]).toBe(1);
    expect(perRow[1]).toBeNaN();
    expect(perRow[2]).toBeCloseTo(0.25, 14);
    expect(mean).toBeCloseTo(0.625, 14);
    expect(zeroRows).toBe(1);
    expect(() => ipr([1, NaN])).toThrow(/ipr input\[1\]: expected a finite number, got NaN/);
  });
});

describe('frequency norms', () => {
  it('combines cos/sin rows as √(c² + s²), const apart, Nyquist last for even n', () => {
    const odd = frequencyNorms([5, 3, 4, 0, 1, 6, 8]); // n = 7
    expect(odd.constant).toBe(5);
    expect(odd.hasNyquist).toBe(false);
    expect(Array.from(odd.perFrequency)).toEqual([5, 1, 10]);
    const even = frequencyNorms([1, 3, 4, 0, 0, 2]); // n = 6: const, cos1, sin1, cos2, sin2, nyquist
    expect(even.hasNyquist).toBe(true);
    expect(Array.from(even.perFrequency)).toEqual([5, 0, 2]);
    expect(Array.from(frequencyNorms([1, 7]).perFrequency)).toEqual([7]); // n = 2: const, nyquist
  });

  it('keeps the total squared mass (const² + Σ perFrequency² = Σ rows²)', () => {
    for (const n of [96, 97, 112, 113]) {
      const r = randomVector(n, n).map(Math.abs);
      const fn = frequencyNorms(r);
      expect(fn.perFrequency).toHaveLength(Math.floor(n / 2));
      const total = r.reduce((s, v) => s + v * v, 0);
      expect(fn.constant ** 2 + fn.perFrequency.reduce((s, v) => s + v * v, 0)).toBeCloseTo(total, 10);
    }
  });

  it('finds a planted frequency in an embedding (normsE) and a neuron-logit map (normsL)', () => {
    const p = 113;
    const d = 16;
    const k = 41;
    const u = randomVector(1, d);
    const v = randomVector(2, d);
    const WE = new Float64Array(p * d); // [p, d_model]
    for (let x = 0; x < p; x++) {
      const angle = (2 * Math.PI * ((k * x) % p)) / p;
      for (let j = 0; j < d; j++) WE[x * d + j] = Math.cos(angle) * u[j] + Math.sin(angle) * v[j];
    }
    const normsE = rowNorms(transformCols(WE, p, d), p, d); // ‖(F·W_E')[f, :]‖
    const fE = frequencyNorms(normsE);
    expect(fE.constant).toBeLessThan(1e-10);
    const argmax = fE.perFrequency.indexOf(Math.max(...fE.perFrequency)) + 1;
    expect(argmax).toBe(k);
    expect(gini(fE.perFrequency)).toBeCloseTo(1 - 1 / 56, 10);
    expect(normsE[cosRow(p, k)] ** 2 + normsE[sinRow(p, k)] ** 2).toBeCloseTo(
      WE.reduce((s, w) => s + w * w, 0),
      9,
    );
    // W_L [neurons, p] is the transpose layout: the same planted signal read by columns.
    const WL = new Float64Array(d * p); // [d, p]
    for (let x = 0; x < p; x++) for (let j = 0; j < d; j++) WL[j * p + x] = WE[x * d + j];
    const normsL = colNorms(transformRows(WL, d, p), d, p); // ‖(W_L·Fᵀ)[:, f]‖
    for (let f = 0; f < p; f++) expect(normsL[f]).toBeCloseTo(normsE[f], 10);
  });
});
