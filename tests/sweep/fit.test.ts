import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.ts';
import { bootstrapSlope, fitLine, median, ols, pearson, quantileSorted } from '../../analyses/sweep/fit.ts';

/** y = a + b·x + s·e with e ⟂ {1, x} and ‖e‖ = 1: then slope b, intercept a and R² = b²Sxx/(b²Sxx + s²) exactly. */
function planted(x: number[], a: number, b: number, s: number): number[] {
  const n = x.length;
  const mx = x.reduce((p, v) => p + v, 0) / n;
  const xc = x.map((v) => v - mx);
  const sxx = xc.reduce((p, v) => p + v * v, 0);
  let e = x.map((_, i) => Math.sin(1.7 * i + 0.3) + 0.5 * Math.cos(0.4 * i * i)); // anything not in span{1, x}
  const me = e.reduce((p, v) => p + v, 0) / n;
  e = e.map((v) => v - me);
  const proj = e.reduce((p, v, i) => p + v * xc[i], 0) / sxx;
  e = e.map((v, i) => v - proj * xc[i]);
  const norm = Math.hypot(...e);
  return x.map((v, i) => a + b * v + (s * e[i]) / norm);
}

describe('ols', () => {
  it('recovers a planted slope, intercept and R² exactly', () => {
    const x = [0.5, 1, 1.5, 2, 3, 4.5, 7, 10];
    const mx = x.reduce((p, v) => p + v, 0) / x.length;
    const sxx = x.reduce((p, v) => p + (v - mx) ** 2, 0);
    for (const [a, b, s] of [
      [100, 1800, 900],
      [-2, -0.7, 0.1],
      [5, 3, 0],
    ] as const) {
      const y = planted(x, a, b, s);
      const f = ols(x, y);
      const r2 = (b * b * sxx) / (b * b * sxx + s * s);
      expect(f.slope).toBeCloseTo(b, 9);
      expect(f.intercept).toBeCloseTo(a, 8);
      expect(f.r2!).toBeCloseTo(r2, 12);
      expect(f.pearson_r!).toBeCloseTo(Math.sign(b) * Math.sqrt(r2), 12);
      expect(pearson(x, y)).toBeCloseTo(f.pearson_r!, 14);
      expect(f.n).toBe(x.length);
    }
  });

  it('gives null R² and r for a constant y, and refuses a single distinct x', () => {
    const f = ols([1, 2, 3], [4, 4, 4]);
    expect(f.slope).toBe(0);
    expect(f.r2).toBeNull();
    expect(f.pearson_r).toBeNull();
    expect(() => ols([2, 2, 2], [1, 2, 3])).toThrow(/two distinct x/);
    expect(() => ols([1, 2], [1])).toThrow(/x has 2 values but y has 1/);
    expect(() => ols([1, NaN], [1, 2])).toThrow(/not finite/);
  });
});

describe('bootstrap slope interval', () => {
  it('is reproducible from its seed and changes with it', () => {
    const rng = new Rng(7);
    const x = Array.from({ length: 40 }, () => rng.uniform());
    const y = x.map((v) => 1 + 2 * v + 0.3 * rng.normal());
    const a = bootstrapSlope(x, y, { resamples: 500, seed: 11, level: 0.95 });
    const b = bootstrapSlope(x, y, { resamples: 500, seed: 11, level: 0.95 });
    const c = bootstrapSlope(x, y, { resamples: 500, seed: 12, level: 0.95 });
    expect(a).toEqual(b);
    expect(c!.lo).not.toBe(a!.lo);
  });

  it('matches the normal-theory interval on well-behaved data and covers the true slope', () => {
    // Oracle: with n = 300 homoscedastic points the percentile bootstrap approaches
    // slope ± 1.96·σ̂/√Sxx; we allow 20 % on the width.
    const rng = new Rng(3);
    const n = 300;
    const x = Array.from({ length: n }, () => rng.uniform() * 4);
    const y = x.map((v) => 2 + 3 * v + rng.normal());
    const f = fitLine(x, y, { resamples: 2000, seed: 0, level: 0.95 });
    const mx = x.reduce((p, v) => p + v, 0) / n;
    const sxx = x.reduce((p, v) => p + (v - mx) ** 2, 0);
    const rss = y.reduce((p, v, i) => p + (v - f.intercept - f.slope * x[i]) ** 2, 0);
    const se = Math.sqrt(rss / (n - 2) / sxx);
    const ci = f.slope_ci!;
    expect(ci.lo).toBeLessThan(3);
    expect(ci.hi).toBeGreaterThan(3);
    expect((ci.hi - ci.lo) / (2 * 1.96 * se)).toBeGreaterThan(0.8);
    expect((ci.hi - ci.lo) / (2 * 1.96 * se)).toBeLessThan(1.2);
    expect(ci.degenerate).toBe(0);
  });

  it('stays within the pairwise slopes when resamples repeat one point (no round-off slopes)', () => {
    // An OLS slope is a weighted mean of the pairwise slopes, so every resample's slope lies
    // between the smallest and largest of them. Resamples of one repeated x must be skipped,
    // not turned into a slope of 0 by a rounded mean.
    const x = [-59.86249706734531, -21.69617284709057, -11.111802702132419];
    const y = [450, 350, 320];
    const pair = (i: number, j: number) => (y[j] - y[i]) / (x[j] - x[i]);
    const slopes = [pair(0, 1), pair(0, 2), pair(1, 2)];
    const ci = bootstrapSlope(x, y, { resamples: 2000, seed: 0, level: 0.95 })!;
    expect(ci.lo).toBeGreaterThanOrEqual(Math.min(...slopes) - 1e-9);
    expect(ci.hi).toBeLessThanOrEqual(Math.max(...slopes) + 1e-9);
    // P(all three draws equal) = 3/27: about 222 of 2000.
    expect(ci.degenerate).toBeGreaterThan(150);
    expect(ci.degenerate).toBeLessThan(300);
  });

  it('counts resamples without a slope, and gives no interval for two points', () => {
    // P(all five draws hit x = 1) = (4/5)^5 ≈ 0.33: about 131 of 400.
    const ci = bootstrapSlope([1, 1, 1, 1, 2], [1, 2, 3, 4, 5], { resamples: 400, seed: 0, level: 0.95 })!;
    expect(ci.degenerate).toBeGreaterThan(95);
    expect(ci.degenerate).toBeLessThan(170);
    expect(bootstrapSlope([1, 2], [1, 3])).toBeNull();
    expect(bootstrapSlope([1], [1])).toBeNull();
  });
});

describe('quantiles', () => {
  it('interpolates between order statistics (type 7) and takes medians', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([10, 20, 30], 0.25)).toBe(15);
    expect(quantileSorted([5], 0.9)).toBe(5);
    expect(median([3, 1, 2])).toBe(2);
    expect(() => median([])).toThrow(/empty/);
  });
});
