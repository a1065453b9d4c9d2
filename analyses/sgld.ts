/**
 * The local learning coefficient estimator of Lau et al. (2023), model-free: SGLD chains localised
 * at a point w* of a loss L given only as a loss-and-gradient function, so that the same code runs
 * on a network (./llc.ts) and on the planted losses of the tests (½wᵀHw, λ = d/2; (w₁w₂)², λ = 1/2).
 * Definitions: docs/measures.md#llc-estimator.
 *
 *   w ← w + (ε/2)·(−nβ·∇L_m(w) − γ·(w − w*)) + N(0, ε·I)        (one step of one chain)
 *   λ̂(w*) = nβ·(E_w[L_n(w)] − L_n(w*))                          (per chain, then over chains)
 *
 * E_w is the mean over a chain's draws of the minibatch loss L_m(w) at the draw (unbiased for
 * L_n(w); devinterp does the same). A chain whose loss stops being finite, or runs away (its excess
 * over L_n(w*) in the last quarter of the draws is RUNAWAY_FACTOR times that of the second quarter,
 * or of the second quarter's spread, or more), is flagged `diverged` and left out of the mean, never averaged in.
 *
 * Randomness only from ../src/rng.ts: chain c's noise comes from Rng.derive(seed, `llc/noise/c`), drawn by the ziggurat (./ziggurat.ts).
 */
import { fmtNum as fmt } from '../src/format.ts';
import { Rng } from '../src/rng.ts';
import { zigguratNormal } from './ziggurat.ts';

export interface SgldSettings {
  epsilon: number; // ε, the step size (and noise variance per step)
  gamma: number; // γ, the localisation strength pulling w back to w*
  nbeta: number; // nβ, the inverse temperature times n
  chains: number; // independent chains, each started at w*
  draws: number; // kept steps per chain (after the burn-in)
  burnin: number; // steps per chain discarded before the draws
  seed: number; // seeds the noise (and, in ./llc.ts, the minibatches)
  trace_points: number; // at most this many loss values kept per chain for the diagnostics
}

/** Mean minibatch loss at w and its gradient (length d). */
export interface LossGrad {
  loss: number;
  grad: ArrayLike<number>;
}

/** Evaluated at chain `chain`'s step `step` (0-based, burn-in included): the caller picks the minibatch. */
export type LossGradFn = (w: Float64Array, chain: number, step: number) => LossGrad;

export interface ChainResult {
  /** nβ·(mean draw loss − L_n(w*)); null for a diverged chain. */
  llc: number | null;
  mean_loss: number | null;
  status: 'ok' | 'diverged';
  /** Why the chain was flagged (absent when ok). */
  reason?: string;
  /** Share of the draws whose loss is below L_n(w*): near 1 means w* is not a local minimum (devinterp's "percent negative steps"). */
  below_init: number;
  /** Loss at every trace_every-th step from step 0 (burn-in included), up to where the chain stopped. */
  trace: number[];
  trace_every: number;
}

export interface LlcEstimate {
  /** Mean of the healthy chains' λ̂; null when none is healthy. */
  llc: number | null;
  /** Sample standard deviation over the healthy chains (0 with one chain; null with none). */
  llc_std: number | null;
  init_loss: number; // L_n(w*)
  chains: ChainResult[];
  diverged_chains: number;
}

/** A chain whose late excess loss is this many times its early excess is running away. */
export const RUNAWAY_FACTOR = 10;

export function validateSgldSettings(s: SgldSettings, where = 'llc'): void {
  const bad = (key: string, expected: string, value: unknown): never => {
    throw new RangeError(`${where}.${key}: expected ${expected}, got ${JSON.stringify(value)}`);
  };
  for (const k of ['epsilon', 'nbeta'] as const) if (!(Number.isFinite(s[k]) && s[k] > 0)) bad(k, 'a number > 0', s[k]);
  if (!(Number.isFinite(s.gamma) && s.gamma >= 0)) bad('gamma', 'a number ≥ 0', s.gamma);
  for (const k of ['chains', 'draws', 'trace_points'] as const)
    if (!(Number.isInteger(s[k]) && s[k] >= 1)) bad(k, 'a positive integer', s[k]);
  if (!(Number.isInteger(s.burnin) && s.burnin >= 0)) bad('burnin', 'an integer ≥ 0', s.burnin);
  if (!(Number.isInteger(s.seed) && s.seed >= 0 && s.seed <= 0xffffffff))
    bad('seed', 'an integer in [0, 2^32)', s.seed);
}

/**
 * Run the chains from `wStar` (not modified) and estimate λ̂. `initLoss` is L_n(w*), the full
 * training loss at the checkpoint (the caller computes it once, exactly).
 */
export function estimateLlc(f: LossGradFn, wStar: ArrayLike<number>, initLoss: number, s: SgldSettings): LlcEstimate {
  validateSgldSettings(s);
  if (!Number.isFinite(initLoss)) throw new RangeError(`llc: the loss at the checkpoint is not finite (${initLoss})`);
  const chains: ChainResult[] = [];
  for (let c = 0; c < s.chains; c++) chains.push(runChain(f, wStar, initLoss, s, c));
  const ok = chains.filter((c) => c.status === 'ok').map((c) => c.llc!);
  const mean = ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
  const std =
    mean === null ? null : ok.length < 2 ? 0 : Math.sqrt(ok.reduce((a, x) => a + (x - mean) ** 2, 0) / (ok.length - 1));
  return { llc: mean, llc_std: std, init_loss: initLoss, chains, diverged_chains: chains.length - ok.length };
}

function runChain(
  f: LossGradFn,
  wStar: ArrayLike<number>,
  initLoss: number,
  s: SgldSettings,
  chain: number,
): ChainResult {
  const d = wStar.length;
  const w = Float64Array.from(wStar);
  const noise = Rng.derive(s.seed, `llc/noise/${chain}`);
  const total = s.burnin + s.draws;
  const traceEvery = Math.max(1, Math.ceil(total / s.trace_points));
  const trace: number[] = [];
  const draws = new Float64Array(s.draws);
  const drift = (s.epsilon / 2) * s.nbeta;
  const pull = (s.epsilon / 2) * s.gamma;
  const sd = Math.sqrt(s.epsilon);
  let reason: string | null = null;
  let kept = 0;
  for (let step = 0; step < total; step++) {
    const { loss, grad } = f(w, chain, step);
    if (step % traceEvery === 0) trace.push(Number.isFinite(loss) ? loss : NaN);
    if (!Number.isFinite(loss)) {
      reason = `loss not finite (${loss}) at step ${step}`;
      break;
    }
    if (grad.length !== d) throw new RangeError(`llc: gradient of length ${grad.length} for ${d} parameters`);
    if (step >= s.burnin) draws[kept++] = loss;
    for (let i = 0; i < d; i++) w[i] += -drift * grad[i] - pull * (w[i] - wStar[i]) + sd * zigguratNormal(noise);
  }
  const tr = trace.map((x) => (Number.isFinite(x) ? x : Number.NaN));
  if (reason === null) reason = runaway(draws, initLoss);
  const below = kept ? countBelow(draws, kept, initLoss) / kept : 0;
  if (reason !== null)
    return {
      llc: null,
      mean_loss: null,
      status: 'diverged',
      reason,
      below_init: below,
      trace: tr,
      trace_every: traceEvery,
    };
  let sum = 0;
  for (let i = 0; i < kept; i++) sum += draws[i];
  const meanLoss = sum / kept;
  return {
    llc: s.nbeta * (meanLoss - initLoss),
    mean_loss: meanLoss,
    status: 'ok',
    below_init: below,
    trace: tr,
    trace_every: traceEvery,
  };
}

function countBelow(x: Float64Array, n: number, level: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (x[i] < level) k++;
  return k;
}

/** Why the draws look like a run-away chain, or null. Needs ≥ 8 draws to judge. */
function runaway(draws: Float64Array, initLoss: number): string | null {
  const n = draws.length;
  if (n < 8) return null;
  const q = Math.floor(n / 4);
  const mean = (a: number, b: number) => {
    let t = 0;
    for (let i = a; i < b; i++) t += draws[i];
    return t / (b - a);
  };
  const early = mean(q, 2 * q) - initLoss;
  const late = mean(n - q, n) - initLoss;
  // The scale a healthy chain's late excess stays within: its early excess, or the spread of its
  // early draws when the excess is about zero (λ̂ ≈ 0, or w* a little off the minimum).
  let spread = 0;
  for (let i = q; i < 2 * q; i++) spread += (draws[i] - initLoss - early) ** 2;
  spread = Math.sqrt(spread / q);
  if (late > 0 && late > RUNAWAY_FACTOR * Math.max(early, spread)) {
    return `loss running away: excess over the checkpoint's loss ${fmt(early)} in the second quarter of the draws, ${fmt(late)} in the last`;
  }
  return null;
}
