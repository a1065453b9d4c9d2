/** The ziggurat normal sampler (analyses/ziggurat.ts): moments, tails and the CDF of a million draws. */
import { describe, expect, it } from 'vitest';
import { zigguratNormal } from '../../analyses/ziggurat.ts';
import { Rng } from '../../src/rng.ts';

/** Φ(x) by the Abramowitz–Stegun 7.1.26 erf (|error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('zigguratNormal', () => {
  const N = 1_000_000;
  const rng = new Rng(2026);
  const x = Float64Array.from({ length: N }, () => zigguratNormal(rng));

  it('has mean 0, variance 1, skew 0 and kurtosis 3 (to within 5 standard errors)', () => {
    let m = 0;
    for (const v of x) m += v;
    m /= N;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of x) {
      const d = v - m;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= N;
    m3 /= N;
    m4 /= N;
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(m3)).toBeLessThan(5 * Math.sqrt(15 / N));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
  });

  it('matches the normal CDF (Kolmogorov–Smirnov distance below the 1 % critical value) and its tails', () => {
    const s = Float64Array.from(x).sort();
    let d = 0;
    for (let i = 0; i < N; i += 97) d = Math.max(d, Math.abs(phi(s[i]) - (i + 0.5) / N));
    expect(d).toBeLessThan(1.63 / Math.sqrt(N));
    for (const t of [2, 3, 3.5, 4]) {
      const p = 2 * (1 - phi(t));
      const k = x.filter((v) => Math.abs(v) > t).length;
      expect(Math.abs(k - N * p)).toBeLessThan(5 * Math.sqrt(N * p) + 1);
    }
  });

  it('is a pure function of the generator state', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    for (let i = 0; i < 1000; i++) expect(zigguratNormal(a)).toBe(zigguratNormal(b));
  });
});
