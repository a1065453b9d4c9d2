/**
 * Grokking in ridge regression (Xu, Vardi & Safran, "To grok grokking"; spec §8). Random features
 * φ_i ∈ R^m with N(0, I/m) entries for n samples, a unit-norm teacher θ*, θ_0 ~ N(0, ν²I_m), and GD
 * with step η on (1/2n)Σ⟨θ − θ*, φ_i⟩² + (λ/2)‖θ‖². With δ = θ − θ*:
 *   train loss       L̂ = (1/2n)Σ⟨δ, φ_i⟩² = ½·δᵀΣδ       (the data term, without the penalty)
 *   population loss  L  = ½·E_φ⟨δ, φ⟩²   = ‖δ‖²/(2m)
 * t₁ = last step with L̂ ≥ ε (memorised from t₁ + 1 on), t₂ = first step with L ≤ c.
 * For m > n, Σ has m − n null directions that only weight decay shrinks, by (1 − ηλ) a step: that
 * is the delay, and why it scales as 1/λ and grows with ln ν².
 */
import { Rng } from '../rng.ts';
import type { LinearGdProblem } from './gd.ts';
import { gaussian, type Dense } from './linalg.ts';
import type { ModalDynamics, ModalLoss } from './modal.ts';
import { nonNegative, positive, positiveInteger, seedValue } from './params.ts';
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

/** Spec §8 defaults: bound t₂ ≥ 11,980. */
export const RIDGE_DEFAULTS: RidgeParams = { n: 100, m: 1000, eta: 1, lambda: 1e-4, nu2: 1, eps: 0.01, c: 0.01, seed: 0 };

export function checkRidge(p: RidgeParams): RidgeParams {
  const s = 'ridge';
  positiveInteger(s, 'n', p.n);
  positiveInteger(s, 'm', p.m);
  positive(s, 'eta', p.eta);
  nonNegative(s, 'lambda', p.lambda);
  nonNegative(s, 'nu2', p.nu2);
  positive(s, 'eps', p.eps);
  positive(s, 'c', p.c);
  seedValue(s, 'seed', p.seed);
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

export function ridgeTimes(losses: { train: ModalLoss; population: ModalLoss }, p: RidgeParams, maxSteps: number): RidgeTimes {
  const t1 = lastStepAtOrAbove(losses.train, p.eps, maxSteps);
  const t2 = firstStepAtOrBelow(losses.population, p.c, maxSteps);
  return { t1, t2, delay: t1 !== null && t2 !== null ? t2 - t1 : null };
}

export interface RidgeBound {
  t2Lower: number; // ln((m − n)ν² / (8mc)) / (2.02ηλ); ≤ 0 means the bound says nothing
  applies: boolean; // the theorem's conditions: m > n and ηλ ≤ 0.01, λ > 0
}

/**
 * Xu et al.'s lower bound on t₂ for features N(0, I/m) (spec §8). The spec writes its threshold as
 * ε with c = ε; it is the population threshold, so c is used here.
 */
export function ridgeT2LowerBound(p: RidgeParams): RidgeBound {
  const { n, m, eta, lambda, nu2, c } = p;
  const arg = ((m - n) * nu2) / (8 * m * c);
  const t2Lower = m > n && arg > 0 && lambda > 0 ? Math.log(arg) / (2.02 * eta * lambda) : 0;
  return { t2Lower, applies: m > n && lambda > 0 && eta * lambda <= 0.01 };
}
