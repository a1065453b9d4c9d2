import { describe, expect, it } from 'vitest';
import { isMonotone, limitLoss, lossAt, meanLoss, type ModalLoss, type ModalSystem } from '../../linear/modal.ts';
import { firstStepAtOrBelow, lastStepAtOrAbove } from '../../linear/thresholds.ts';
import { Rng } from '../../src/rng.ts';

const system = (modes: { x?: number; r: number; uu: number; uw: number; ww: number }[]): ModalSystem => ({
  values: Float64Array.from(modes, (m) => m.x ?? 1),
  rates: Float64Array.from(modes, (m) => m.r),
  uu: Float64Array.from(modes, (m) => m.uu),
  uw: Float64Array.from(modes, (m) => m.uw),
  ww: Float64Array.from(modes, (m) => m.ww),
});
const identity = (s: ModalSystem, scale = 1): ModalLoss => ({ system: s, weighting: 'identity', scale });

describe('threshold times on losses with known answers', () => {
  it('one decaying mode: 0.99^{2t} ≤ 1e-3 first at t = ⌈ln 1e-3 / (2 ln 0.99)⌉ = 344', () => {
    const l = identity(system([{ r: 0.99, uu: 0, uw: 0, ww: 1 }]));
    expect(firstStepAtOrBelow(l, 1e-3, 1e6)).toBe(344);
    expect(lastStepAtOrAbove(l, 1e-3, 1e6)).toBe(343);
    expect(firstStepAtOrBelow(l, 1e-3, 100)).toBeNull(); // not within the budget
    expect(firstStepAtOrBelow(l, 2, 10)).toBe(0);
    expect(lastStepAtOrAbove(l, 2, 10)).toBe(-1);
  });

  it('a plateau: 0.3 + 0.7·0.81^t never reaches 0.2; reaches 0.31 at t = 21', () => {
    const l = identity(
      system([
        { r: 1, uu: 0, uw: 0, ww: 0.3 },
        { r: 0.9, uu: 0, uw: 0, ww: 0.7 },
      ]),
    );
    expect(limitLoss(l)).toBeCloseTo(0.3, 15);
    expect(firstStepAtOrBelow(l, 0.2, 1e7)).toBeNull();
    expect(lastStepAtOrAbove(l, 0.2, 1e7)).toBeNull();
    expect(firstStepAtOrBelow(l, 0.31, 1e7)).toBe(21);
    expect(lastStepAtOrAbove(l, 0.31, 1e7)).toBe(20);
  });

  it('a dip below the limit (weight decay pulls past zero): (0.1 − 0.95^t)² is found even though the limit 0.01 is above', () => {
    const l = identity(system([{ r: 0.95, uu: 0.01, uw: -0.1, ww: 1 }]));
    expect(isMonotone(l)).toBe(false);
    // |0.1 − s| ≤ √0.005 ⇔ s ≤ 0.1707: t ≥ 34.46.
    expect(firstStepAtOrBelow(l, 0.005, 1e7)).toBe(35);
    expect(lastStepAtOrAbove(l, 0.005, 1e7)).toBeNull(); // ends at 0.01 ≥ 0.005
    // ≥ 0.02 ⇔ s ≥ 0.2414: t ≤ 27.7.
    expect(lastStepAtOrAbove(l, 0.02, 1e7)).toBe(27);
  });
});

describe('threshold times on random systems match a brute-force scan', () => {
  const rng = new Rng(2024);
  const HORIZON = 4000;
  for (let trial = 0; trial < 40; trial++) {
    const k = 1 + rng.int(5);
    const modes = Array.from({ length: k }, () => {
      const uu = rng.uniform() < 0.5 ? 0 : rng.uniform() * 0.2;
      const ww = rng.uniform();
      const r = rng.uniform() < 0.1 ? 1 : (rng.uniform() * 2 - 1) * 0.99;
      return { x: rng.uniform() * 3, r, uu, ww, uw: Math.sqrt(uu * ww) * Math.cos(rng.uniform() * Math.PI) };
    });
    const s = system(modes);
    const loss: ModalLoss = {
      system: s,
      weighting: rng.uniform() < 0.5 ? 'identity' : 'covariance',
      scale: 0.5 + rng.uniform(),
    };
    it(`trial ${trial} (${k} modes, ${isMonotone(loss) ? 'monotone' : 'non-monotone'})`, () => {
      const series = Array.from({ length: HORIZON + 1 }, (_, t) => lossAt(loss, t));
      // Thresholds halfway between distinct values of the series: no ties.
      const sorted = [...new Set(series)].sort((a, b) => a - b);
      if (sorted.length < 2) {
        // A constant loss (a single mode that does not decay): at or below from 0, or never.
        expect(firstStepAtOrBelow(loss, series[0] * 1.01 + 1e-12, HORIZON)).toBe(0);
        expect(firstStepAtOrBelow(loss, series[0] * 0.99 - 1e-12, HORIZON)).toBeNull();
        return;
      }
      const thresholds = [0.05, 0.3, 0.6, 0.9].map((q) => {
        const i = Math.min(sorted.length - 2, Math.floor(q * (sorted.length - 1)));
        return (sorted[i] + sorted[i + 1]) / 2;
      });
      const limit = limitLoss(loss);
      for (const thr of thresholds) {
        const first = series.findIndex((v) => v <= thr);
        expect(firstStepAtOrBelow(loss, thr, HORIZON)).toBe(first < 0 ? null : first);
        let last = -1;
        series.forEach((v, t) => {
          if (v >= thr) last = t;
        });
        // A loss settled below thr long before HORIZON (|r| ≤ 0.99): brute force sees all of it.
        const want = limit >= thr || last === HORIZON ? null : last;
        expect(lastStepAtOrAbove(loss, thr, HORIZON)).toBe(want);
      }
    });
  }
});

describe('meanLoss', () => {
  it('is the pointwise mean of the losses it merges', () => {
    const a = identity(system([{ r: 0.9, uu: 0.1, uw: 0.05, ww: 1 }]), 2);
    const b = identity(
      system([
        { r: 0.5, uu: 0, uw: 0, ww: 3 },
        { r: 1, uu: 0, uw: 0, ww: 0.2 },
      ]),
      0.5,
    );
    const m = meanLoss([a, b]);
    for (const t of [0, 1, 7, 50]) expect(lossAt(m, t)).toBeCloseTo((lossAt(a, t) + lossAt(b, t)) / 2, 14);
    expect(() => meanLoss([a, { ...b, weighting: 'covariance' }])).toThrow(/mixed/);
  });
});

describe('bad thresholds', () => {
  it('a NaN threshold is an error, not an answer', () => {
    const l = identity(system([{ r: 0.9, uu: 0, uw: 0, ww: 1 }]));
    expect(() => firstStepAtOrBelow(l, NaN, 100)).toThrow(/threshold/);
    expect(() => lastStepAtOrAbove(l, NaN, 100)).toThrow(/threshold/);
  });
});
