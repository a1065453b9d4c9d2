/**
 * Grokking in ridge regression (Xu, Vardi & Safran, "To grok grokking"; docs/measures.md#ridge-setup). Random features
 * φ_i ∈ R^m with N(0, I/m) entries for n samples, a unit-norm teacher θ*, θ_0 ~ N(0, ν²I_m), and GD
 * with step η on (1/2n)Σ⟨θ − θ*, φ_i⟩² + (λ/2)‖θ‖². With δ = θ − θ*:
 *   train loss       L̂ = (1/2n)Σ⟨δ, φ_i⟩² = ½·δᵀΣδ       (the data term, without the penalty)
 *   population loss  L  = ½·E_φ⟨δ, φ⟩²   = ‖δ‖²/(2m)
 * t₁ = last step with L̂ ≥ ε (memorised from t₁ + 1 on), t₂ = first step with L ≤ c.
 * For m > n, Σ has m − n null directions that only weight decay shrinks, by (1 − ηλ) a step: that
 * is the delay, and why it scales as 1/λ and grows with ln ν².
 */
import { Rng } from '../src/rng.ts';
import type { LinearGdProblem } from './gd.ts';
import { gaussian, type Dense } from './linalg.ts';
import { mpEdges, mpQuadrature } from './marchenko-pastur.ts';
import type { ModalDynamics, ModalLoss } from './modal.ts';
import { z } from 'zod';
import { checkParams, nonNegativeNumber, positiveInteger, positiveNumber, seedNumber } from './params.ts';
import { firstStepAtOrBelow, lastStepAtOrAbove } from './thresholds.ts';

export interface RidgeParams {
  n: number; // samples
  m: number; // features
  eta: number; // GD step η
  lambda: number; // ridge coefficient λ (weight decay)
  nu2: number; // initialisation variance ν²
  eps: number; // train threshold ε (t₁)
  c: number; // population threshold c (t₂)
  seed: number;
}

/** docs/measures.md#ridge-bound-on-t2 defaults: bound t₂ ≥ 11,980. */
export const RIDGE_DEFAULTS: RidgeParams = {
  n: 100,
  m: 1000,
  eta: 1,
  lambda: 1e-4,
  nu2: 1,
  eps: 0.01,
  c: 0.01,
  seed: 0,
};

const RidgeSchema = z.object({
  n: positiveInteger,
  m: positiveInteger,
  eta: positiveNumber,
  lambda: nonNegativeNumber,
  nu2: nonNegativeNumber,
  eps: positiveNumber,
  c: positiveNumber,
  seed: seedNumber,
});

export function checkRidge(p: RidgeParams): RidgeParams {
  checkParams('ridge', RidgeSchema, p);
  return p;
}

export interface RidgeDraw {
  params: RidgeParams;
  phi: Dense; // [n, m] features of the training samples
  thetaStar: Dense; // [m, 1], unit norm
  theta0: Dense; // [m, 1]
}

/** Independent streams per object; θ_0 = ν·z for one z per seed, so a ν² sweep rescales one draw. */
export function drawRidge(p: RidgeParams): RidgeDraw {
  checkRidge(p);
  const thetaStar = gaussian(Rng.derive(p.seed, 'ridge/teacher'), p.m, 1, 1);
  let norm = 0;
  for (const v of thetaStar.data) norm += v * v;
  norm = Math.sqrt(norm);
  for (let i = 0; i < p.m; i++) thetaStar.data[i] /= norm;
  return {
    params: p,
    phi: gaussian(Rng.derive(p.seed, 'ridge/features'), p.n, p.m, Math.sqrt(1 / p.m)),
    thetaStar,
    theta0: gaussian(Rng.derive(p.seed, 'ridge/init'), p.m, 1, Math.sqrt(p.nu2)),
  };
}

export function ridgeProblem(draw: RidgeDraw): LinearGdProblem {
  const { eta, lambda } = draw.params;
  return { data: draw.phi, teacher: draw.thetaStar, init: draw.theta0, kappa: 1, eta, decay: lambda };
}

export function ridgeLosses(dyn: ModalDynamics): { train: ModalLoss; population: ModalLoss } {
  return {
    train: { system: dyn.system, weighting: 'covariance', scale: 1 / 2 },
    population: { system: dyn.system, weighting: 'identity', scale: 1 / (2 * dyn.dim) },
  };
}

export interface RidgeTimes {
  t1: number | null; // last step with train loss ≥ ε (−1: below from the start; null: not within the budget)
  t2: number | null; // first step with population loss ≤ c (null: not within the budget)
  delay: number | null; // t₂ − t₁
}

export function ridgeTimes(
  losses: { train: ModalLoss; population: ModalLoss },
  p: RidgeParams,
  maxSteps: number,
): RidgeTimes {
  const t1 = lastStepAtOrAbove(losses.train, p.eps, maxSteps);
  const t2 = firstStepAtOrBelow(losses.population, p.c, maxSteps);
  return { t1, t2, delay: t1 !== null && t2 !== null ? t2 - t1 : null };
}

export interface RidgeBound {
  t2Lower: number; // ln((m − n)ν² / (8mc)) / (2.02ηλ); ≤ 0 means the bound says nothing
  applies: boolean; // the theorem's conditions: m > n and ηλ ≤ 0.01, λ > 0
}

/**
 * Xu et al.'s lower bound on t₂ for features N(0, I/m) (docs/measures.md#ridge-bound-on-t2). The spec writes its threshold as
 * ε with c = ε; it is the population threshold, so c is used here.
 */
export function ridgeT2LowerBound(p: RidgeParams): RidgeBound {
  const { n, m, eta, lambda, nu2, c } = p;
  const arg = ((m - n) * nu2) / (8 * m * c);
  const t2Lower = m > n && arg > 0 && lambda > 0 ? Math.log(arg) / (2.02 * eta * lambda) : 0;
  return { t2Lower, applies: m > n && lambda > 0 && eta * lambda <= 0.01 };
}

/**
 * An upper bound on t₁ (the last step with train loss ≥ ε). Not Xu et al.'s statement — the spec
 * does not give theirs — but one derived here for the same setting. In the eigenbasis of Σ the
 * train loss is L̂(t) = ½Σ_i x_i‖E*_i + r_i^t W_i‖² (modal.ts), a weighted ℓ² norm, so by Minkowski
 *
 *   √L̂(t) ≤ √A + ρ^t √B,   A = ½Σ x_i‖E*_i‖²,  B = ½Σ x_i‖W_i‖²,  ρ = max over x_i > 0 of |r_i|,
 *
 * and L̂(t) < ε for every t > t̄ = ln(√B / (√ε − √A)) / ln(1/ρ): t₁ ≤ ⌊t̄⌋.
 */
export interface RidgeT1Bound {
  /** t̄ for this draw (rigorous): t₁ ≤ ⌊t̄⌋; −1 when the loss starts below ε; null when √A ≥ √ε. */
  t1Upper: number | null;
  /**
   * The same expression from (n, m, η, λ, ν², ε) alone: ρ from the Marchenko–Pastur edges of Σ's
   * nonzero spectrum, B = ½(ν² + 1/m) its expectation (E tr Σ = 1, E θ*ᵀΣθ* = 1/m) and A the MP
   * average of ½Σ x λ²a²/(x + λ)² with E a² = 1/m. A prediction of the bound, not a bound.
   */
  t1UpperMp: number | null;
}

function t1Expression(a: number, b: number, rho: number, eps: number): number | null {
  const gap = Math.sqrt(eps) - Math.sqrt(a);
  if (!(gap > 0) || !(rho < 1)) return null;
  if (b === 0 || rho === 0) return -1;
  return Math.max(-1, Math.log(Math.sqrt(b) / gap) / Math.log(1 / rho));
}

/** The bound of RidgeT1Bound for one draw's train loss (ridgeLosses(...).train). */
export function ridgeT1UpperBound(train: ModalLoss, p: RidgeParams): RidgeT1Bound {
  if (train.weighting !== 'covariance')
    throw new RangeError('ridgeT1UpperBound: expects the train loss (covariance weighting)');
  const { values, rates, uu, ww } = train.system;
  let a = 0;
  let b = 0;
  let rho = 0;
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] > 0)) continue; // the null lump carries no train loss
    a += values[i] * uu[i];
    b += values[i] * ww[i];
    rho = Math.max(rho, Math.abs(rates[i]));
  }
  return { t1Upper: t1Expression(train.scale * a, train.scale * b, rho, p.eps), t1UpperMp: ridgeT1UpperBoundMp(p) };
}

/** RidgeT1Bound.t1UpperMp: the bound's expression with the MP-typical spectrum and expected errors. */
export function ridgeT1UpperBoundMp(p: RidgeParams): number | null {
  const { n, m, eta, lambda, nu2, eps } = p;
  const k = Math.min(n, m);
  const q = k / Math.max(n, m); // MP ratio of Σ's nonzero spectrum, scaled by 1/k
  const { lower, upper } = mpEdges(q);
  const rho = Math.max(Math.abs(1 - eta * (lower / k + lambda)), Math.abs(1 - eta * (upper / k + lambda)));
  let a = 0;
  if (lambda > 0) {
    const rule = mpQuadrature(q);
    let mean = 0;
    for (let i = 0; i < rule.nodes.length; i++) {
      const x = rule.nodes[i] / k;
      mean += (rule.weights[i] * x) / (x + lambda) ** 2;
    }
    a = 0.5 * (k / m) * lambda * lambda * mean;
  }
  return t1Expression(a, 0.5 * (nu2 + 1 / m), rho, eps);
}
