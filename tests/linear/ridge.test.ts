/** Ridge-regression grokking against Xu, Vardi & Safran's bound and scalings (docs/measures.md#ridge-bound-on-t2). */
import { describe, expect, it } from 'vitest';
import { covarianceEigen } from '../../linear/linalg.ts';
import { exactDynamics, lossAt } from '../../linear/modal.ts';
import {
  drawRidge,
  ridgeLosses,
  ridgeProblem,
  ridgeT2LowerBound,
  ridgeTimes,
  RIDGE_DEFAULTS,
  type RidgeParams,
} from '../../linear/ridge.ts';

const MAX = 10_000_000;
const SEEDS = [0, 1, 2];

function times(p: RidgeParams) {
  const draw = drawRidge(p);
  const losses = ridgeLosses(exactDynamics(ridgeProblem(draw), covarianceEigen(draw.phi)));
  return { ...ridgeTimes(losses, p, MAX), losses };
}

describe('ridge defaults (n 100, m 1000, η 1, ν² 1, λ 1e-4, c = ε = 0.01)', () => {
  it('the bound is ln((m−n)ν²/(8mc))/(2.02ηλ) = 11,980 and applies', () => {
    const b = ridgeT2LowerBound(RIDGE_DEFAULTS);
    expect(b.t2Lower).toBeCloseTo(Math.log(900 / 80) / (2.02 * 1e-4), 6);
    expect(Math.round(b.t2Lower / 10) * 10).toBe(11_980);
    expect(b.applies).toBe(true);
    expect(ridgeT2LowerBound({ ...RIDGE_DEFAULTS, lambda: 0.1 }).applies).toBe(false); // ηλ > 0.01
  });

  it.each(SEEDS)('seed %i: memorises in the low hundreds, generalises after the bound (near 2·10⁴)', (seed) => {
    const t = times({ ...RIDGE_DEFAULTS, seed });
    expect(t.t1).toBeGreaterThan(50);
    expect(t.t1).toBeLessThan(1000);
    expect(t.t2).toBeGreaterThan(ridgeT2LowerBound(RIDGE_DEFAULTS).t2Lower);
    expect(t.t2).toBeGreaterThan(15_000);
    expect(t.t2).toBeLessThan(25_000);
    // The definitions, read off the closed form directly.
    expect(lossAt(t.losses.train, t.t1!)).toBeGreaterThanOrEqual(0.01);
    expect(lossAt(t.losses.train, t.t1! + 1)).toBeLessThan(0.01);
    expect(lossAt(t.losses.population, t.t2!)).toBeLessThanOrEqual(0.01);
    expect(lossAt(t.losses.population, t.t2! - 1)).toBeGreaterThan(0.01);
  });
});

describe('amplification and elimination', () => {
  it('t₂ ∝ 1/λ: λ·t₂ is constant within 1 % over λ ∈ [2e-5, 1e-3]', () => {
    const products = [2e-5, 1e-4, 3e-4, 1e-3].map((lambda) => lambda * times({ ...RIDGE_DEFAULTS, lambda }).t2!);
    const mean = products.reduce((a, b) => a + b, 0) / products.length;
    for (const p of products) expect(Math.abs(p / mean - 1)).toBeLessThan(0.01);
    // …and the constant is the null-space decay: ln(initial null loss / c) / (2η) ≈ ln(45)/2.
    expect(mean).toBeGreaterThan(1.7);
    expect(mean).toBeLessThan(2.1);
  });

  it('t₂ grows with ln ν²: each factor 10 adds ln(10)/(2ηλ) ≈ 11,513 steps (within 3 %)', () => {
    const t2 = [1, 10, 100].map((nu2) => times({ ...RIDGE_DEFAULTS, nu2 }).t2!);
    const step = Math.log(10) / (2 * 1e-4);
    expect(Math.abs((t2[1] - t2[0]) / step - 1)).toBeLessThan(0.03);
    expect(Math.abs((t2[2] - t2[1]) / step - 1)).toBeLessThan(0.03);
    // The bound tracks the same slope exactly: ln(10)/(2.02ηλ).
    const b = [1, 10].map((nu2) => ridgeT2LowerBound({ ...RIDGE_DEFAULTS, nu2 }).t2Lower);
    expect(b[1] - b[0]).toBeCloseTo(Math.log(10) / (2.02 * 1e-4), 6);
  });

  it('small ν² eliminates grokking: the initial population loss is already ≤ c, so t₂ = 0', () => {
    const t = times({ ...RIDGE_DEFAULTS, nu2: 1e-3 });
    expect(lossAt(t.losses.population, 0)).toBeLessThan(0.01);
    expect(t.t2).toBe(0);
    expect(ridgeT2LowerBound({ ...RIDGE_DEFAULTS, nu2: 1e-3 }).t2Lower).toBeLessThan(0); // vacuous
  });

  it('without the penalty the null directions never shrink: no t₂', () => {
    expect(times({ ...RIDGE_DEFAULTS, lambda: 0 }).t2).toBeNull();
  });
});

describe('input checks', () => {
  it('names the key and value', () => {
    expect(() => drawRidge({ ...RIDGE_DEFAULTS, m: 0 })).toThrow(
      /ridge: m: 0 is not allowed; expected a positive integer/,
    );
    expect(() => drawRidge({ ...RIDGE_DEFAULTS, nu2: -1 })).toThrow(
      /ridge: nu2: -1 is not allowed; expected a number ≥ 0/,
    );
  });

  it('refuses a step that makes gradient descent diverge', () => {
    expect(() => times({ ...RIDGE_DEFAULTS, eta: 500 })).toThrow(/eta = 500 makes gradient descent diverge/);
  });
});
