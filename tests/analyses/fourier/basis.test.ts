import { describe, expect, it } from 'vitest';
import {
  basisLabels,
  cosRow,
  fourierBasis,
  frequencyRows,
  hasNyquist,
  maxFrequency,
  numPairedFrequencies,
  rowFrequency,
  sinRow,
} from '../../../analyses/fourier/basis.ts';
import { FourierInputError } from '../../../analyses/fourier/errors.ts';
import { matmul, maxAbsDiff, transpose } from './oracle.ts';

describe('fourierBasis', () => {
  it('is orthonormal (F·Fᵀ = I to 1e-12) for every n from 2 to 130', () => {
    for (let n = 2; n <= 130; n++) {
      const F = fourierBasis(n);
      const G = matmul(F, transpose(F, n, n), n, n, n);
      const I = new Float64Array(n * n);
      for (let i = 0; i < n; i++) I[i * n + i] = 1;
      expect(maxAbsDiff(G, I), `n = ${n}`).toBeLessThan(1e-12);
    }
  });

  it('has the spec row order: const, cos k, sin k, …, Nyquist last', () => {
    for (const n of [7, 8, 113, 112]) {
      const F = fourierBasis(n);
      const K = Math.floor((n - 1) / 2);
      for (let x = 0; x < n; x++) {
        expect(F[x]).toBeCloseTo(1 / Math.sqrt(n), 14);
        for (let k = 1; k <= K; k++) {
          expect(F[(2 * k - 1) * n + x]).toBeCloseTo(Math.cos((2 * Math.PI * k * x) / n) * Math.sqrt(2 / n), 12);
          expect(F[2 * k * n + x]).toBeCloseTo(Math.sin((2 * Math.PI * k * x) / n) * Math.sqrt(2 / n), 12);
        }
        if (n % 2 === 0) expect(F[(n - 1) * n + x]).toBe((x % 2 === 0 ? 1 : -1) / Math.sqrt(n));
      }
    }
  });

  it('handles the degenerate sizes 1 and 2', () => {
    expect(Array.from(fourierBasis(1))).toEqual([1]);
    const r = 1 / Math.sqrt(2);
    expect(Array.from(fourierBasis(2))).toEqual([r, r, r, -r]);
  });

  it('rejects sizes that are not positive integers, naming the value', () => {
    expect(() => fourierBasis(0)).toThrow(FourierInputError);
    expect(() => fourierBasis(2.5)).toThrow(/fourier basis size n: expected an integer ≥ 1, got 2.5/);
  });
});

describe('basis labels and row helpers', () => {
  it('labels odd and even sizes', () => {
    expect(basisLabels(5)).toEqual(['const', 'cos 1', 'sin 1', 'cos 2', 'sin 2']);
    expect(basisLabels(6)).toEqual(['const', 'cos 1', 'sin 1', 'cos 2', 'sin 2', 'nyquist']);
    expect(basisLabels(2)).toEqual(['const', 'nyquist']);
    expect(basisLabels(113)).toHaveLength(113);
    expect(basisLabels(113)[112]).toBe('sin 56');
  });

  it('maps frequencies to rows and back consistently with the labels', () => {
    for (const n of [2, 3, 4, 5, 96, 97, 112, 113]) {
      const labels = basisLabels(n);
      const K = numPairedFrequencies(n);
      expect(K).toBe(Math.floor((n - 1) / 2));
      expect(maxFrequency(n)).toBe(Math.floor(n / 2));
      expect(hasNyquist(n)).toBe(n % 2 === 0);
      expect(frequencyRows(n, 0)).toEqual([0]);
      for (let k = 1; k <= K; k++) {
        expect(labels[cosRow(n, k)]).toBe(`cos ${k}`);
        expect(labels[sinRow(n, k)]).toBe(`sin ${k}`);
        expect(frequencyRows(n, k)).toEqual([cosRow(n, k), sinRow(n, k)]);
        expect(rowFrequency(n, cosRow(n, k))).toEqual({ kind: 'cos', k });
        expect(rowFrequency(n, sinRow(n, k))).toEqual({ kind: 'sin', k });
      }
      if (n % 2 === 0) {
        expect(cosRow(n, n / 2)).toBe(n - 1);
        expect(frequencyRows(n, n / 2)).toEqual([n - 1]);
        expect(rowFrequency(n, n - 1)).toEqual({ kind: 'nyquist', k: n / 2 });
        expect(() => sinRow(n, n / 2)).toThrow(FourierInputError);
      }
    }
  });

  it('rejects frequencies and rows out of range', () => {
    expect(() => cosRow(113, 0)).toThrow(/expected an integer in 1 … 56, got 0/);
    expect(() => cosRow(113, 57)).toThrow(FourierInputError);
    expect(() => sinRow(112, 56)).toThrow(/expected an integer in 1 … 55, got 56/);
    expect(() => rowFrequency(5, 5)).toThrow(/expected an integer in \[0, 5\), got 5/);
  });
});
