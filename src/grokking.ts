/**
 * The grokking quantities, defined once (docs/measures.md#transition-times and
 * #norm-contraction): the accuracy thresholds, T_mem, T_grok at 95 % and 99 %, the delays, the
 * squared weight norms V at the points that matter, the contraction rate c with c/(lr·wd), and the
 * least-squares line every fit uses. Training's stop rule, run analysis (analyses/transition.ts),
 * sweep aggregation (analyses/sweep/) and the report captions all read them from here.
 *
 * Two norms that older files both called `v_post` now have two names:
 *   v_at_grok   ‖θ‖² at T_grok (95 %): what the delay law log(V_mem/V_at_grok) = c·delay uses;
 *   v_fit_end   ‖θ‖² at the end of the contraction fit's window (the start of the stable phase,
 *               else the last checkpoint): what the run report's contraction fit ends on.
 */

/** The accuracies that define the transition times. */
export const THRESHOLDS = {
  memAcc: 0.99, // T_mem: first train accuracy ≥ this
  grokAcc95: 0.95, // T_grok (Power et al.): first test accuracy ≥ this
  grokAcc99: 0.99, // T_grok (Truong et al.)
} as const;

/** A time-ordered point with what the transition times need. */
export interface AccuracyPoint {
  step: number;
  train_acc: number;
  test_acc: number;
}

export interface TransitionTimes {
  t_mem: number | null;
  t_grok_95: number | null;
  t_grok_99: number | null;
  delay_95: number | null; // T_grok(95 %) − T_mem; negative when the run generalised first
  delay_99: number | null;
}

/** Index of the first point reaching each threshold (−1 when none does). */
export function thresholdIndices(series: readonly AccuracyPoint[]): { mem: number; grok95: number; grok99: number } {
  return {
    mem: series.findIndex((p) => p.train_acc >= THRESHOLDS.memAcc),
    grok95: series.findIndex((p) => p.test_acc >= THRESHOLDS.grokAcc95),
    grok99: series.findIndex((p) => p.test_acc >= THRESHOLDS.grokAcc99),
  };
}

/** T_mem, T_grok and the delays of an ascending series of evaluations or checkpoints. */
export function transitionTimes(series: readonly AccuracyPoint[]): TransitionTimes {
  const i = thresholdIndices(series);
  const at = (k: number) => (k >= 0 ? series[k].step : null);
  const t_mem = at(i.mem);
  const delay = (g: number | null) => (t_mem !== null && g !== null ? g - t_mem : null);
  const t_grok_95 = at(i.grok95);
  const t_grok_99 = at(i.grok99);
  return { t_mem, t_grok_95, t_grok_99, delay_95: delay(t_grok_95), delay_99: delay(t_grok_99) };
}

/** c/(lr·wd), the contraction rate in units of the decay the optimiser applies; null when lr·wd = 0. */
export function cOverLrWd(c: number, lr: number, weightDecay: number): number | null {
  const lrWd = lr * weightDecay;
  return lrWd > 0 ? c / lrWd : null;
}

/** log(V_mem/V_end): the log norm ratio of the delay law; null unless both norms are positive. */
export function logNormRatio(vMem: number | null | undefined, vEnd: number | null | undefined): number | null {
  return typeof vMem === 'number' && typeof vEnd === 'number' && vMem > 0 && vEnd > 0 ? Math.log(vMem / vEnd) : null;
}

export interface Line {
  n: number;
  slope: number;
  intercept: number;
  ssRes: number; // Σ w·(y − ŷ)²
  ssTot: number; // Σ w·(y − ȳ)²
  sxy: number; // Σ w·(x − x̄)(y − ȳ)
  sxx: number; // Σ w·(x − x̄)²
  sw: number; // Σ w
}

/**
 * Weighted least squares y ≈ intercept + slope·x (every weight 1 when `w` is omitted), over the
 * points `idx` (all by default). Null when fewer than two points or x takes one value only: the
 * x values themselves are compared, since the centred sum of squares of equal values can still
 * come out as a tiny positive number once the mean is rounded.
 */
export function leastSquares(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  w?: ArrayLike<number>,
  idx?: ArrayLike<number>,
): Line | null {
  const n = idx ? idx.length : x.length;
  const at = idx ? (i: number) => idx[i] : (i: number) => i;
  if (n < 2) return null;
  let distinct = false;
  for (let i = 1; i < n && !distinct; i++) distinct = x[at(i)] !== x[at(0)];
  if (!distinct) return null;
  let sw = 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    const j = at(i);
    const wi = w ? w[j] : 1;
    sw += wi;
    mx += wi * x[j];
    my += wi * y[j];
  }
  mx /= sw;
  my /= sw;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const j = at(i);
    const wi = w ? w[j] : 1;
    const dx = x[j] - mx;
    const dy = y[j] - my;
    sxx += wi * dx * dx;
    sxy += wi * dx * dy;
    syy += wi * dy * dy;
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const j = at(i);
    const r = y[j] - (intercept + slope * x[j]);
    ssRes += (w ? w[j] : 1) * r * r;
  }
  return { n, slope, intercept, ssRes, ssTot: syy, sxy, sxx, sw };
}

/** R² = 1 − SS_res/SS_tot of a line; null when y is constant (SS_tot = 0). */
export function rSquared(line: Line): number | null {
  return line.ssTot === 0 ? null : 1 - line.ssRes / line.ssTot;
}

export interface DecayFit {
  c: number; // V(t) ≈ v0·exp(−c·(t − from))
  v0: number; // fitted V at `from`
  r2: number | null; // null when V is constant over the window
  from: number;
  to: number; // the last point inside the window
  n: number;
}

/**
 * The norm contraction: least squares of ln V on (step − from) over the points with
 * from ≤ step ≤ to. `weighted` gives each point the trapezoid share of the step axis it stands for
 * (so log-spaced checkpoints do not crowd the fit); the sweep's fits on evenly spaced metrics rows
 * leave it off. Null when fewer than `minPoints` points fall in the window, a norm is not positive,
 * or the window has a single step.
 */
export function fitNormDecay(
  rows: readonly { step: number; sq_norm: number }[],
  from: number,
  to: number,
  opts: { minPoints?: number; weighted?: boolean } = {},
): DecayFit | null {
  const pts = rows.filter((r) => r.step >= from && r.step <= to);
  if (pts.length < (opts.minPoints ?? 3) || pts.some((r) => !(r.sq_norm > 0))) return null;
  const m = pts.length;
  const x = pts.map((r) => r.step - from);
  const y = pts.map((r) => Math.log(r.sq_norm));
  const w = opts.weighted ? x.map((_, i) => (x[Math.min(i + 1, m - 1)] - x[Math.max(i - 1, 0)]) / 2) : undefined;
  const line = leastSquares(x, y, w);
  if (line === null) return null;
  // Weighted: a V constant to rounding is fitted exactly by c = 0, so R² is 1 there.
  const r2 = opts.weighted ? (line.ssTot > 1e-20 * line.sw ? 1 - line.ssRes / line.ssTot : 1) : rSquared(line);
  return { c: -line.slope, v0: Math.exp(line.intercept), r2, from, to: pts[m - 1].step, n: m };
}
