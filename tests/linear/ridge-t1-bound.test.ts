/**
 * The upper bound on t₁ (linear/ridge.ts): rigorous for each draw, checked against the plain
 * iterated gradient descent (not the closed form it is computed from); attained exactly when only
 * one mode carries train loss; and its hyperparameter-only estimate beside it.
 */
import { describe, expect, it } from 'vitest';
import { iterateGd } from '../../linear/gd.ts';
import { covarianceEigen } from '../../linear/linalg.ts';
import { exactDynamics, limitLoss } from '../../linear/modal.ts';
import {
  drawRidge,
  ridgeLosses,
  ridgeProblem,
  ridgeT1UpperBound,
  ridgeTimes,
  RIDGE_DEFAULTS,
  type RidgeParams,
} from '../../linear/ridge.ts';

function exact(p: RidgeParams) {
  const draw = drawRidge(p);
  const losses = ridgeLosses(exactDynamics(ridgeProblem(draw), covarianceEigen(draw.phi)));
  return { draw, losses, times: ridgeTimes(losses, p, 10_000_000), bound: ridgeT1UpperBound(losses.train, p) };
}

/** Train losses ½·‖ΦD‖²/n of the literal GD loop for steps 0…steps. */
function iteratedTrain(p: RidgeParams, steps: number): Float64Array {
  const out = new Float64Array(steps + 1);
  iterateGd(ridgeProblem(drawRidge(p)), steps, (r) => {
    out[r.step] = r.trainQuadratic / 2;
  });
  return out;
}

const SMALL: RidgeParams = { ...RIDGE_DEFAULTS, n: 20, m: 120 };

describe('upper bound on t₁: rigorous for every draw (oracle: the iterated loop)', () => {
  // The last flag: m > n (the paper's setting), where the bound is also checked to be informative.
  // With n > m the slowest mode sits near the lower MP edge yet carries little of the loss, so the
  // bound stays true but is loose (×10–20).
  const cases: [string, Partial<RidgeParams>, boolean][] = [
    ['defaults at n 20, m 120', {}, true],
    ['large ν² (100)', { nu2: 100 }, true],
    ['strong decay (λ 0.02): A is not negligible', { lambda: 0.02, eps: 2e-3 }, true],
    ['small step (η 0.4)', { eta: 0.4 }, true],
    ['more samples than features (n 150, m 120)', { n: 150 }, false],
  ];
  it.each(cases)('%s', (_, over, informative) => {
    for (const seed of [0, 1, 2]) {
      const p = { ...SMALL, ...over, seed };
      const { bound, times } = exact(p);
      expect(bound.t1Upper).not.toBeNull();
      const tBar = bound.t1Upper!;
      // Past the bound the iterated train loss stays below ε for (at least) another 3,000 steps…
      const last = Math.max(0, Math.floor(tBar)) + 3000;
      const train = iteratedTrain(p, last);
      let t1Iterated = -1;
      for (let t = 0; t <= last; t++) if (train[t] >= p.eps) t1Iterated = t;
      expect(t1Iterated).toBeLessThanOrEqual(Math.floor(tBar));
      // …the closed form's t₁ agrees with the loop's, and for m > n the bound is within 4×.
      expect(times.t1).toBe(t1Iterated);
      if (informative) expect(tBar).toBeLessThan(4 * Math.max(times.t1!, 25));
    }
  });

  it('is attained when one mode carries all the train loss (n = 1, λ = 0): t₁ = ⌊t̄⌋', () => {
    for (const seed of [0, 1, 2, 3]) {
      const p: RidgeParams = { ...RIDGE_DEFAULTS, n: 1, m: 50, lambda: 0, eta: 0.5, eps: 1e-4, seed };
      const { draw, bound, times } = exact(p);
      // By hand: Σ = φφᵀ, so L̂(t) = ½(φᵀδ₀)²·(1 − η‖φ‖²)^{2t}.
      const phi = draw.phi.data;
      let x = 0;
      let proj = 0;
      for (let j = 0; j < p.m; j++) {
        x += phi[j] * phi[j];
        proj += phi[j] * (draw.theta0.data[j] - draw.thetaStar.data[j]);
      }
      const rate = Math.abs(1 - p.eta * x);
      const tBar = Math.log(Math.sqrt((0.5 * proj * proj) / p.eps)) / Math.log(1 / rate);
      expect(bound.t1Upper!).toBeCloseTo(tBar, 6);
      expect(times.t1).toBe(Math.floor(tBar));
    }
  });

  it('is null exactly when the train loss at the ridge solution is not below ε', () => {
    const p: RidgeParams = { ...SMALL, lambda: 0.5, eps: 1e-4, seed: 0 };
    const { losses, bound, times } = exact(p);
    expect(limitLoss(losses.train)).toBeGreaterThanOrEqual(p.eps);
    expect(bound.t1Upper).toBeNull();
    expect(times.t1).toBeNull(); // the train loss never stays below ε
    const q = { ...p, eps: 2 * limitLoss(losses.train) };
    expect(exact(q).bound.t1Upper).not.toBeNull();
  });

  it('is −1 when the train loss starts below ε (small ν²)', () => {
    const { bound, times } = exact({ ...RIDGE_DEFAULTS, nu2: 1e-3, seed: 0 });
    expect(times.t1).toBe(-1);
    expect(bound.t1Upper).toBe(-1);
  });
});

describe('at the spec defaults (n 100, m 1000, η 1, ν² 1, λ 1e-4, ε 0.01)', () => {
  it("t₁ ≤ bound ≤ 2.5·t₁ on each seed, and the MP estimate is within 10 % of the seeds' mean bound", () => {
    const bounds: number[] = [];
    let mp = 0;
    for (const seed of [0, 1, 2]) {
      const { bound, times } = exact({ ...RIDGE_DEFAULTS, seed });
      expect(times.t1!).toBeLessThanOrEqual(bound.t1Upper!);
      expect(bound.t1Upper!).toBeLessThan(2.5 * times.t1!);
      bounds.push(bound.t1Upper!);
      mp = bound.t1UpperMp!;
    }
    const mean = bounds.reduce((a, b) => a + b, 0) / bounds.length;
    expect(Math.abs(mp / mean - 1)).toBeLessThan(0.1);
  });

  it('the MP estimate grows with ln ν² at the slope ln(10)/(2·ln(1/ρ)) per decade', () => {
    const mp = [1, 10, 100].map((nu2) => exact({ ...RIDGE_DEFAULTS, nu2, seed: 0 }).bound.t1UpperMp!);
    const s = (1 - Math.sqrt(0.1)) ** 2 / 100; // lower MP edge of Σ's nonzero spectrum
    const slope = Math.log(10) / (2 * -Math.log(1 - (s + 1e-4)));
    expect((mp[2] - mp[1]) / slope).toBeCloseTo(1, 2);
    expect((mp[1] - mp[0]) / slope).toBeGreaterThan(0.95); // ν² + 1/m, not ν², so slightly under 1 here
  });
});
