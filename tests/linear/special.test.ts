import { describe, expect, it } from 'vitest';
import { erf, gaussLegendre } from '../../linear/special.ts';

describe('erf', () => {
  // Reference values from the defining integral (tabulated, 16 digits).
  const table: [number, number][] = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [Math.SQRT2, 0.9544997361036416],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [4, 0.9999999845827421],
  ];
  it.each(table)('erf(%f)', (x, want) => {
    expect(Math.abs(erf(x) - want)).toBeLessThan(2e-15);
    expect(Math.abs(erf(-x) + want)).toBeLessThan(2e-15);
  });

  it('matches the derivative 2/√π·e^{−x²} by central differences', () => {
    for (const x of [0.3, 1.7, 3.2, 5.5]) {
      const h = 1e-5;
      const numeric = (erf(x + h) - erf(x - h)) / (2 * h);
      expect(numeric).toBeCloseTo((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x), 9);
    }
  });

  it('saturates at ±1 and keeps NaN', () => {
    expect(erf(7)).toBe(1);
    expect(erf(-30)).toBe(-1);
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });
});

describe('gaussLegendre', () => {
  it('3-point rule: nodes ±√(3/5), 0 and weights 5/9, 8/9', () => {
    const { nodes, weights } = gaussLegendre(3);
    expect(nodes[0]).toBeCloseTo(-Math.sqrt(0.6), 15);
    expect(nodes[1]).toBe(0);
    expect(nodes[2]).toBeCloseTo(Math.sqrt(0.6), 15);
    expect(weights[0]).toBeCloseTo(5 / 9, 15);
    expect(weights[1]).toBeCloseTo(8 / 9, 15);
  });

  it.each([1, 2, 5, 16, 40])('%i points integrate every monomial up to degree 2n − 1 exactly', (n) => {
    const { nodes, weights } = gaussLegendre(n);
    for (let k = 0; k <= 2 * n - 1; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += weights[i] * nodes[i] ** k;
      const exact = k % 2 === 1 ? 0 : 2 / (k + 1);
      expect(Math.abs(s - exact)).toBeLessThan(1e-13);
    }
  });

  it.each([1, 2, 3, 4, 5])('%i points miss x^{2n} by the textbook error 2^{2n+1}(n!)⁴ / ((2n+1)((2n)!)²)', (n) => {
    const { nodes, weights } = gaussLegendre(n);
    let s = 0;
    for (let i = 0; i < n; i++) s += weights[i] * nodes[i] ** (2 * n);
    let fact = 1;
    for (let i = 2; i <= n; i++) fact *= i;
    let fact2 = 1;
    for (let i = 2; i <= 2 * n; i++) fact2 *= i;
    const error = (2 ** (2 * n + 1) * fact ** 4) / ((2 * n + 1) * fact2 ** 2);
    expect(2 / (2 * n + 1) - s).toBeCloseTo(error, 13);
  });

  it('rejects a bad order', () => {
    expect(() => gaussLegendre(0)).toThrow(/positive integer/);
  });
});
