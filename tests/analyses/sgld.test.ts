/**
 * The SGLD estimator of the local learning coefficient (analyses/sgld.ts) against planted truth,
 * model-free: L(w) = ½wᵀHw in d dimensions (λ = d/2) and L(w) = (w₁w₂)² (λ = 1/2).
 */
import { describe, expect, it } from 'vitest';
import { estimateLlc, type LossGradFn, type SgldSettings } from '../../analyses/sgld.ts';
import { Rng } from '../../src/rng.ts';

const base: SgldSettings = {
  epsilon: 1e-5,
  gamma: 1,
  nbeta: 1000,
  chains: 4,
  draws: 50_000,
  burnin: 2000,
  seed: 1,
  trace_points: 50,
};

/** A random symmetric H = QᵀΛQ with eigenvalues in [1, 3], from a seeded generator. */
function quadratic(d: number, seed: number): { f: LossGradFn; eig: number[] } {
  const rng = new Rng(seed);
  const eig = Array.from({ length: d }, () => 1 + 2 * rng.uniform());
  // Q from Gram–Schmidt on Gaussian vectors
  const Q: number[][] = [];
  while (Q.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const q of Q) {
      const dot = q.reduce((a, x, i) => a + x * v[i], 0);
      for (let i = 0; i < d; i++) v[i] -= dot * q[i];
    }
    const n = Math.hypot(...v);
    Q.push(v.map((x) => x / n));
  }
  const H = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => Q.reduce((a, q, k) => a + q[i] * eig[k] * q[j], 0)),
  );
  const grad = new Float64Array(d);
  const f: LossGradFn = (w) => {
    let loss = 0;
    for (let i = 0; i < d; i++) {
      let g = 0;
      for (let j = 0; j < d; j++) g += H[i][j] * w[j];
      grad[i] = g;
      loss += 0.5 * w[i] * g;
    }
    return { loss, grad };
  };
  return { f, eig };
}

const crossing: LossGradFn = (() => {
  const grad = new Float64Array(2);
  return (w: Float64Array) => {
    const p = w[0] * w[1];
    grad[0] = 2 * p * w[1];
    grad[1] = 2 * p * w[0];
    return { loss: p * p, grad };
  };
})();

/**
 * E[nβ·(w₁w₂)²] under the localised tempered posterior ∝ exp(−nβ(w₁w₂)² − γ|w|²/2), exactly: given
 * w₁, w₂ is Gaussian with precision 2nβw₁² + γ, so this is a 1-D integral over w₁ (trapezoid rule
 * on a fine grid; converged to 1e-6).
 */
function crossingExact(nbeta: number, gamma: number): number {
  let num = 0;
  let den = 0;
  const R = 12 / Math.sqrt(gamma);
  const N = 400_000;
  for (let i = 0; i <= N; i++) {
    const w = (R * i) / N;
    const prec = 2 * nbeta * w * w + gamma;
    const m = Math.exp((-gamma * w * w) / 2) / Math.sqrt(prec);
    const wt = i === 0 || i === N ? 0.5 : 1;
    den += wt * m;
    num += wt * m * ((nbeta * w * w) / prec);
  }
  return num / den;
}

describe('estimateLlc on planted losses', () => {
  it.each([1, 2, 3])('½wᵀHw in 10 dimensions gives λ = d/2 = 5 within 5 % (seed %i)', (seed) => {
    const { f, eig } = quadratic(10, 100 + seed);
    const est = estimateLlc(f, new Float64Array(10), 0, { ...base, seed });
    // the exact tempered value ½Σ nβh/(nβh + γ) is within 0.1 % of d/2 here
    const exact = 0.5 * eig.reduce((a, h) => a + (base.nbeta * h) / (base.nbeta * h + base.gamma), 0);
    expect(Math.abs(exact - 5)).toBeLessThan(0.005);
    expect(est.diverged_chains).toBe(0);
    expect(est.llc!).toBeGreaterThan(5 * 0.95);
    expect(est.llc!).toBeLessThan(5 * 1.05);
    expect(est.llc_std!).toBeGreaterThan(0);
  });

  it('½wᵀHw in 2 dimensions gives λ = 1 within 5 %', () => {
    const { f } = quadratic(2, 7);
    const est = estimateLlc(f, new Float64Array(2), 0, base);
    expect(Math.abs(est.llc! - 1)).toBeLessThan(0.05);
  });

  it.each([1, 2, 3, 4])('(w₁w₂)² lands on the exact tempered value within 8 %, and near λ = 1/2 (seed %i)', (seed) => {
    // nβ/γ² = 1000: the exact value is 0.390; it approaches 1/2 only as 1/ln(nβ/γ²) (multiplicity 2)
    const s: SgldSettings = {
      ...base,
      epsilon: 1e-5,
      nbeta: 1000,
      gamma: 1,
      chains: 4,
      draws: 1_000_000,
      burnin: 20_000,
      seed,
    };
    // 8 %: the chains' spread (≈ 2 %) plus the step-size bias of ε = 1e-5 on the stiff ridge (≈ 3 %)
    const exact = crossingExact(s.nbeta, s.gamma);
    expect(exact).toBeCloseTo(0.3903, 3);
    const est = estimateLlc(crossing, new Float64Array(2), 0, s);
    expect(est.diverged_chains).toBe(0);
    expect(Math.abs(est.llc! - exact) / exact).toBeLessThan(0.08);
    expect(Math.abs(est.llc! - 0.5)).toBeLessThan(0.15);
  });

  it('the exact tempered value of (w₁w₂)² rises towards 1/2 as nβ/γ² grows', () => {
    const v = [1e2, 1e4, 1e6, 1e8].map((r) => crossingExact(r, 1));
    for (let i = 1; i < v.length; i++) expect(v[i]).toBeGreaterThan(v[i - 1]);
    expect(v[0]).toBeCloseTo(0.3542, 3);
    expect(v[3]).toBeCloseTo(0.4515, 3);
    expect(v[3]).toBeLessThan(0.5);
  });
});

describe('estimateLlc: determinism and diagnostics', () => {
  it('is a pure function of the seed', () => {
    const { f } = quadratic(5, 3);
    const s = { ...base, draws: 2000, burnin: 100 };
    const a = estimateLlc(f, new Float64Array(5), 0, s);
    const b = estimateLlc(f, new Float64Array(5), 0, s);
    const c = estimateLlc(f, new Float64Array(5), 0, { ...s, seed: 2 });
    expect(b).toEqual(a);
    expect(c.llc).not.toBe(a.llc);
    // chains differ from each other
    expect(a.chains[0].llc).not.toBe(a.chains[1].llc);
  });

  it('flags every chain when ε is too large, and reports no λ̂', () => {
    const { f } = quadratic(4, 5);
    const est = estimateLlc(f, new Float64Array(4), 0, { ...base, epsilon: 0.01, draws: 1000, burnin: 0 });
    expect(est.diverged_chains).toBe(4);
    expect(est.llc).toBeNull();
    expect(est.llc_std).toBeNull();
    for (const c of est.chains) {
      expect(c.status).toBe('diverged');
      expect(c.llc).toBeNull();
      expect(c.reason).toMatch(/not finite/);
      expect(c.trace.length).toBeGreaterThan(0);
    }
  });

  it('flags a chain whose finite loss grows without bound and averages only the others', () => {
    const { f } = quadratic(3, 9);
    // chain 1 sees a finite loss that grows exponentially (a slow blow-up), the others the quadratic
    const g: LossGradFn = (w, chain, step) =>
      chain === 1 ? { loss: Math.exp(step / 500), grad: new Float64Array(3) } : f(w, chain, step);
    const est = estimateLlc(g, new Float64Array(3), 0, { ...base, draws: 4000, burnin: 200 });
    expect(est.chains.map((c) => c.status)).toEqual(['ok', 'diverged', 'ok', 'ok']);
    expect(est.chains[1].reason).toMatch(/running away/);
    const ok = est.chains.filter((c) => c.status === 'ok').map((c) => c.llc!);
    expect(est.llc).toBeCloseTo(ok.reduce((a, b) => a + b) / 3, 12);
    expect(est.diverged_chains).toBe(1);
  });

  it('keeps at most trace_points losses per chain, burn-in included', () => {
    const { f } = quadratic(3, 9);
    const est = estimateLlc(f, new Float64Array(3), 0, { ...base, draws: 950, burnin: 50, trace_points: 40 });
    for (const c of est.chains) {
      expect(c.trace.length).toBeLessThanOrEqual(40);
      expect(c.trace_every).toBe(25);
      expect(c.trace[0]).toBe(0); // the loss at w* itself
    }
  });

  it('reports the share of draws below the checkpoint loss (w* not a minimum)', () => {
    const { f } = quadratic(3, 9);
    // pretend the checkpoint's loss were higher than the basin: every draw is below it
    const est = estimateLlc(f, new Float64Array(3), 10, { ...base, draws: 500, burnin: 0 });
    for (const c of est.chains) expect(c.below_init).toBe(1);
    expect(est.llc!).toBeLessThan(0);
  });

  it('refuses bad settings with the key and value', () => {
    const { f } = quadratic(2, 1);
    expect(() => estimateLlc(f, new Float64Array(2), 0, { ...base, epsilon: -1 })).toThrow(
      /llc\.epsilon: expected a number > 0, got -1/,
    );
    expect(() => estimateLlc(f, new Float64Array(2), 0, { ...base, chains: 1.5 })).toThrow(/llc\.chains/);
    expect(() => estimateLlc(f, new Float64Array(2), NaN, base)).toThrow(/not finite/);
  });
});
