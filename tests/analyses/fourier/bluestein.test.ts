import { describe, expect, it } from 'vitest';
import { complexDft, isPowerOfTwo, nextPowerOfTwo } from '../../../analyses/fourier/bluestein.ts';
import { l2, maxAbsDiff, randomVector } from './oracle.ts';

/** X_k = Σ_j x_j e^{−2πijk/n}, by definition; interleaved [re, im]. */
function naiveDft(x: Float64Array, n: number): Float64Array {
  const X = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (-2 * Math.PI * ((j * k) % n)) / n;
      const [c, s] = [Math.cos(angle), Math.sin(angle)];
      X[2 * k] += x[2 * j] * c - x[2 * j + 1] * s;
      X[2 * k + 1] += x[2 * j] * s + x[2 * j + 1] * c;
    }
  }
  return X;
}

describe('complex DFT plans', () => {
  it('match the definition on complex input for every n from 1 to 130', () => {
    for (let n = 1; n <= 130; n++) {
      const x = randomVector(7000 + n, 2 * n);
      const X = x.slice();
      const plan = complexDft(n);
      plan.forward(X);
      expect(maxAbsDiff(X, naiveDft(x, n)) / l2(x), `n = ${n} (${plan.method})`).toBeLessThanOrEqual(1e-12);
      expect(plan.method).toBe(n === 1 ? 'trivial' : isPowerOfTwo(n) ? 'radix' : 'bluestein');
      if (plan.method === 'bluestein') expect(plan.fftSize).toBe(nextPowerOfTwo(2 * n - 1));
    }
  });

  it('gives a delta for a pure complex exponential (no chirp leakage at prime n)', () => {
    const n = 113;
    const k0 = 41;
    const x = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) {
      const angle = (2 * Math.PI * ((k0 * j) % n)) / n;
      x[2 * j] = Math.cos(angle);
      x[2 * j + 1] = Math.sin(angle);
    }
    complexDft(n).forward(x);
    const expected = new Float64Array(2 * n);
    expected[2 * k0] = n;
    expect(maxAbsDiff(x, expected)).toBeLessThan(1e-11);
  });

  it('refuses a buffer of the wrong length', () => {
    expect(() => complexDft(113).forward(new Float64Array(113))).toThrow(/dft buffer length: expected 226/);
    expect(() => complexDft(64).forward(new Float64Array(64))).toThrow(/dft buffer length: expected 128/);
  });
});
