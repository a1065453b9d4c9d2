/**
 * Levi et al.'s theory of teacher–student grokking beside the simulation (docs/measures.md#marchenko-pastur-theory).
 *
 * Conditional on the spectrum of Σ_tr, the expected losses are exact sums over its eigenvalues: T
 * and S_0 are independent of X with i.i.d. N(0, σ²) entries, σ² = 1/(2·din·dout), so in the
 * eigenbasis a_i = v_iᵀT and s_i = v_iᵀS_0 are again i.i.d. N(0, σ²). Writing g = γ/(x+γ) and
 * ρ = x/(x+γ) (g = 0, ρ = 1 without decay), mode i has E*_i = −g·a_i and E_i(0) − E*_i = s_i − ρ·a_i:
 *   E uu = dout σ² g²,   E uw = dout σ² g ρ,   E ww = dout σ² (1 + ρ²).
 * Replacing the sum over the din eigenvalues by the Marchenko–Pastur integral (din → ∞) gives the
 * theory curves as a ModalSystem whose "modes" are the quadrature nodes — the same closed form and
 * the same threshold search as the simulation. Without decay: L_gen(t) = (1/dout)∫ρ_MP(x)(1 − 2ηx)^{2t}.
 */
import { mpAtom, mpQuadrature } from './marchenko-pastur.ts';
import { limitLoss, lossAt, type ModalLoss, type ModalSystem } from './modal.ts';
import { grokTimes, type GrokTimes } from './params.ts';
import { firstStepAtOrBelow } from './thresholds.ts';

export interface TeacherStudentTheorySetup {
  lambda: number; // din / N_tr
  eta: number;
  gamma: number;
  eps: number;
  dOut: number;
}

/**
 * Expected losses (over T and S_0) for a spectrum given as nodes x_q with weights w_q, the share
 * of the din eigenvalues each stands for: an MP quadrature rule, or a drawn spectrum with weight
 * 1/din per eigenvalue (and the null space as one node at 0). Train weights a node by x,
 * generalisation by 1; scale 1/dout.
 */
export function expectedTeacherStudentLosses(
  nodes: ArrayLike<number>,
  weights: ArrayLike<number>,
  s: Pick<TeacherStudentTheorySetup, 'eta' | 'gamma' | 'dOut'>,
): { train: ModalLoss; gen: ModalLoss } {
  const n = nodes.length;
  const system: ModalSystem = {
    values: Float64Array.from(nodes),
    rates: new Float64Array(n),
    uu: new Float64Array(n),
    uw: new Float64Array(n),
    ww: new Float64Array(n),
  };
  for (let q = 0; q < n; q++) {
    const x = nodes[q];
    const g = s.gamma === 0 ? 0 : s.gamma / (x + s.gamma);
    const rho = s.gamma === 0 ? 1 : x / (x + s.gamma);
    // din modes of dout·σ² = 1/(2·din) each: a node of weight w stands for w·din modes, w/2.
    const m = weights[q] / 2;
    system.rates[q] = 1 - 2 * s.eta * (x + s.gamma);
    system.uu[q] = m * g * g;
    system.uw[q] = m * g * rho;
    system.ww[q] = m * (1 + rho * rho);
  }
  const scale = 1 / s.dOut;
  return { train: { system, weighting: 'covariance', scale }, gen: { system, weighting: 'identity', scale } };
}

/** The MP-integral losses. */
export function mpTeacherStudentLosses(s: TeacherStudentTheorySetup): { train: ModalLoss; gen: ModalLoss } {
  const rule = mpQuadrature(s.lambda);
  return expectedTeacherStudentLosses(rule.nodes, rule.weights, s);
}

/**
 * The expected losses over the initialisation for a drawn Σ_tr (its nonzero eigenvalues `values`
 * out of din): the simulation with the χ² noise of the projections c_i averaged out exactly. With
 * dout = 1 that noise makes single draws cross ε/4 early (the late loss sits on a handful of
 * edge modes and E log L < log E L), so this is the finite-din counterpart of the MP integral.
 */
export function initAveragedTeacherStudentLosses(
  values: ArrayLike<number>,
  dIn: number,
  s: Pick<TeacherStudentTheorySetup, 'eta' | 'gamma' | 'dOut'>,
): { train: ModalLoss; gen: ModalLoss } {
  const zeros = dIn - values.length;
  const nodes = zeros > 0 ? [...Array.from(values), 0] : Array.from(values);
  const weights = nodes.map((_, i) => (i < values.length ? 1 / dIn : zeros / dIn));
  return expectedTeacherStudentLosses(nodes, weights, s);
}

export interface TeacherStudentPrediction extends GrokTimes {
  genLimit: number; // L_gen as t → ∞ (the plateau for λ > 1)
}

/** t_tr, t_gen and Δt of the MP integral (threshold ε/4), and the limit of L_gen. */
export function mpTeacherStudentPrediction(s: TeacherStudentTheorySetup, maxSteps: number): TeacherStudentPrediction {
  const losses = mpTeacherStudentLosses(s);
  const times = grokTimes(
    firstStepAtOrBelow(losses.train, s.eps / 4, maxSteps),
    firstStepAtOrBelow(losses.gen, s.eps / 4, maxSteps),
  );
  return { ...times, genLimit: limitLoss(losses.gen) };
}

/** The MP-integral losses at the given steps. */
export function mpTeacherStudentCurve(
  s: TeacherStudentTheorySetup,
  steps: number[],
): { train: number[]; gen: number[] } {
  const losses = mpTeacherStudentLosses(s);
  return { train: steps.map((t) => lossAt(losses.train, t)), gen: steps.map((t) => lossAt(losses.gen, t)) };
}

/**
 * The paper's leading-order closed form Δt ≈ log(1/(1−√λ)) / (2η(1−√λ)²), for λ < 1 and γ = 0
 * (null otherwise). It overestimates the MP integral by 1.6–3× at the spec's settings.
 */
export function closedFormDeltaT(lambda: number, eta: number): number | null {
  if (!(lambda > 0 && lambda < 1)) return null;
  const g = 1 - Math.sqrt(lambda);
  return Math.log(1 / g) / (2 * eta * g * g);
}

/**
 * The generalisation plateau for λ > 1 and γ = 0: the null space of Σ_tr (a share 1 − 1/λ of the
 * directions) never moves, so L_gen → (1 − 1/λ)·E L_gen(0) = (1 − 1/λ)/dout. 0 for λ ≤ 1.
 */
export function plateauGen(lambda: number, dOut: number): number {
  return mpAtom(lambda) / dOut;
}
