/**
 * Locating the transition (docs/measures.md#locating-the-transition): T_mem, T_grok, the boundaries of Nanda et al.'s phases
 * (memorisation → circuit formation → cleanup → stable) and the post-memorisation
 * norm-contraction fit V(t) ≈ V_mem·exp(−c·(t − T_mem)). Run level: a pure function of one
 * TransitionPoint per analysed checkpoint. The rule is written out in
 * the README, "Locating the transition"; the constants it uses are TRANSITION_RULE below.
 */
import { UserError } from '../src/errors.ts';
import { fmtNum as fmt, fmtStep } from '../src/format.ts';
import { cOverLrWd, fitNormDecay, THRESHOLDS, transitionTimes } from '../src/grokking.ts';
import type { ContractionFit, PhaseBoundary, PhaseName, TransitionSummary } from './types.ts';

/** One analysed checkpoint. Circuit fields are absent for models or tasks without them. */
export interface TransitionPoint {
  step: number;
  train_acc: number;
  test_acc: number;
  train_loss: number;
  test_loss: number;
  sq_norm: number; // V = Σ θ² over every parameter
  excluded_loss?: number | null;
  restricted_loss?: number | null;
  gini_embed?: number | null;
}

export interface TransitionOptions {
  lr: number;
  weightDecay: number;
}

/** Every constant of the rule, so the README and the code cannot drift apart. */
export const TRANSITION_RULE = {
  ...THRESHOLDS, // T_mem and T_grok (95 %, 99 %): src/grokking.ts
  medianRadius: 2, // running median over 5 checkpoints (kills isolated spikes, keeps edges)
  bandwidth: 0.03, // Gaussian kernel σ in u = ln(1 + step), at least …
  neighbours: 3, // … the distance to the 3rd-nearest checkpoint, …
  maxBandwidth: 0.2, // … at most this (isolated checkpoints keep their own value)
  steepFraction: 0.3, // a fall or rise is "sharp" while its rate is ≥ 30 % of its peak rate
  riseFraction: 0.1, // excluded loss must climb ≥ 10 % of its range after its minimum …
  minLogRise: 0.05, // … and by ≥ 0.05 in ln (5 %)
  giniShare: 0.5, // the Gini jump must cover ≥ half of the Gini's range …
  giniMinRise: 0.05, // … and ≥ 0.05
  lossFloor: 1e-12, // losses are clamped here before taking logs
  minSignalPoints: 5, // an optional curve with fewer checkpoints is ignored
} as const;
const R = TRANSITION_RULE;

/** A bad series or option: `what` names the entry and key, `expected` what would be accepted. */
export class TransitionInputError extends UserError {
  override name = 'TransitionInputError';
  constructor(
    readonly what: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${what}: expected ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
}

/** A curve after smoothing, on the checkpoints where it was recorded. */
interface Signal {
  step: number[];
  level: number[]; // smoothed value
  slope: number[]; // d level / d ln(1 + step)
}

interface Stretch {
  peak: number; // index into the signal of the steepest point
  start: number; // first index whose rate is ≥ steepFraction of the peak rate
  end: number; // last such index
}

/**
 * The run-level summary of analysis.json from one point per analysed checkpoint (ascending step,
 * any spacing). Deterministic and pure; throws TransitionInputError on a malformed series.
 */
export function locateTransition(series: readonly TransitionPoint[], opts: TransitionOptions): TransitionSummary {
  validate(series, opts);
  const notes: string[] = [];
  const first = series[0].step;
  const last = series[series.length - 1].step;
  const times = transitionTimes(series);
  const { t_mem: tMem, t_grok_95: tGrok95, t_grok_99: tGrok99 } = times;
  if (tMem !== null && tGrok95 !== null && tGrok95 < tMem) {
    notes.push(
      `Test accuracy reached ${R.grokAcc95} before train accuracy reached ${R.memAcc}: the delay is negative.`,
    );
  }

  const boundaries: PhaseBoundary[] = [];
  const add = (from: PhaseName, to: PhaseName, b: Placed) =>
    boundaries.push({ from, to, step: b.step, reason: b.reason });
  if (tMem === null) {
    const best =
      series[
        argBest(
          series.map((p) => p.train_acc),
          1,
        )
      ];
    notes.push(
      `Train accuracy never reached ${R.memAcc} (best ${fmt(best.train_acc)} at step ${fmtStep(best.step)}): ` +
        'memorisation did not complete, so no later phase is placed.',
    );
  } else {
    const cleanup = findCleanup(series, tGrok95, notes);
    const memEnd = memorisationEnd(series, tMem, cleanup?.onset.step ?? Infinity, notes);
    if (tMem === first)
      notes.push(
        `Train accuracy was already ≥ ${R.memAcc} at the first checkpoint: the record begins after memorisation.`,
      );
    if (cleanup === null) {
      add('memorisation', 'circuit_formation', memEnd);
    } else {
      if (memEnd.step < cleanup.onset.step) {
        add('memorisation', 'circuit_formation', memEnd);
        add('circuit_formation', 'cleanup', cleanup.onset);
      } else {
        add('memorisation', 'cleanup', cleanup.onset);
        notes.push(
          `No circuit-formation phase: test loss began to fall sharply (step ${fmtStep(cleanup.onset.step)}) ` +
            `no later than memorisation ended (step ${fmtStep(memEnd.step)}).`,
        );
      }
      const stable = stableBoundary(series, cleanup, notes);
      if (stable !== null) add('cleanup', 'stable', stable);
    }
  }

  const phases: TransitionSummary['phases'] = [{ name: 'memorisation', start: first, end: null }];
  for (const b of boundaries) {
    phases[phases.length - 1].end = b.step;
    phases.push({ name: b.to, start: b.step, end: null });
  }
  corroborate(series, phases, notes);
  const cleanupEnd = boundaries.find((b) => b.to === 'stable')?.step ?? null;
  const toLast = tGrok95 === null ? 'The run never grokked' : cleanupEnd === null ? 'The cleanup had not ended' : null;
  return {
    ...times,
    phases,
    boundaries,
    contraction: fitContraction(series, tMem, tGrok95, cleanupEnd ?? last, toLast, opts, notes),
    notes,
  };
}

interface Placed {
  step: number;
  reason: string;
}

interface Cleanup {
  onset: Placed;
  end: number | null; // first checkpoint after the sharp fall; null while it lasts to the record's end
  test: Signal;
  st: Stretch;
}

/** The sharp fall of log test loss after its peak; only a run that groks has one. */
function findCleanup(series: readonly TransitionPoint[], tGrok95: number | null, notes: string[]): Cleanup | null {
  if (tGrok95 === null) {
    const best =
      series[
        argBest(
          series.map((p) => p.test_acc),
          1,
        )
      ];
    notes.push(
      `Test accuracy never reached ${R.grokAcc95} (best ${fmt(best.test_acc)} at step ${fmtStep(best.step)}): no cleanup phase.`,
    );
    return null;
  }
  const test = makeSignal(series, (p) => p.test_loss, true);
  const n = test.step.length;
  const st = steepest(test, argBest(test.level, 1), n - 1, -1);
  if (st === null) {
    notes.push('Test loss never fell after its peak: no cleanup phase placed.');
    return null;
  }
  const step = test.step[st.start];
  const reason =
    `Test loss began to fall sharply at step ${fmtStep(step)} (from ${fmt(Math.exp(test.level[st.start]))}; ` +
    `steepest at step ${fmtStep(test.step[st.peak])}, down to ${fmt(Math.exp(test.level[st.end]))} by step ${fmtStep(test.step[st.end])}).`;
  return { onset: { step, reason }, end: st.end + 1 < n ? test.step[st.end + 1] : null, test, st };
}

/** End of memorisation: the minimum of excluded loss before the cleanup, else T_mem. */
function memorisationEnd(series: readonly TransitionPoint[], tMem: number, limit: number, notes: string[]): Placed {
  const fallback = (why: string): Placed => {
    notes.push(`${why}; memorisation ends at T_mem instead.`);
    const train = series.find((p) => p.step === tMem) as TransitionPoint;
    return {
      step: tMem,
      reason: `Train accuracy first reached ${R.memAcc} at step ${fmtStep(tMem)} (train loss ${fmt(train.train_loss)}).`,
    };
  };
  const excl = optionalSignal(series, 'excluded_loss', 'excluded loss', true, notes);
  if (excl === null) return fallback('Excluded loss is not available');
  const inWindow = excl.step.filter((s) => s < limit).length;
  if (inWindow === 0) return fallback('Excluded loss has no checkpoint before the cleanup');
  const m = argBest(excl.level.slice(0, inWindow), -1);
  const before = limit === Infinity ? '' : ' before the cleanup';
  if (m === 0) return fallback(`Excluded loss did not fall after its first checkpoint${before}`);
  // The rise must happen before the cleanup: that is the circuit-formation signature.
  const after = argBest(excl.level.slice(m, inWindow), 1) + m;
  const range = Math.max(...excl.level) - Math.min(...excl.level);
  if (excl.level[after] - excl.level[m] < Math.max(R.riseFraction * range, R.minLogRise)) {
    return fallback(
      `Excluded loss did not rise by ${R.riseFraction * 100} % of its range between its minimum (step ${fmtStep(excl.step[m])}) ` +
        (limit === Infinity ? 'and the last checkpoint' : 'and the start of the cleanup'),
    );
  }
  return {
    step: excl.step[m],
    reason:
      `Smoothed excluded loss reached its minimum (${fmt(Math.exp(excl.level[m]))} at step ${fmtStep(excl.step[m])}) ` +
      `and began to rise (to ${fmt(Math.exp(excl.level[after]))} by step ${fmtStep(excl.step[after])}).`,
  };
}

/**
 * Nanda et al.'s other signatures, checked once the boundaries are placed: restricted loss and V
 * fall during circuit formation, V falls during the cleanup. A failed check is noted, never acted on.
 */
function corroborate(series: readonly TransitionPoint[], phases: TransitionSummary['phases'], notes: string[]): void {
  const v = makeSignal(series, (p) => p.sq_norm, true);
  const haveRestricted = series.filter((p) => p.restricted_loss != null).length >= R.minSignalPoints;
  const restricted = haveRestricted ? makeSignal(series, (p) => p.restricted_loss, true) : null;
  const check = (sig: Signal | null, label: string, phase: PhaseName) => {
    const ph = phases.find((q) => q.name === phase);
    if (!sig || !ph) return;
    const ia = sig.step.findIndex((s) => s >= ph.start);
    const ib = ph.end === null ? sig.step.length - 1 : sig.step.findIndex((s) => s >= (ph.end as number));
    if (ia < 0 || ib <= ia) return; // the phase spans fewer than two of this curve's checkpoints
    const a = sig.level[ia];
    const b = sig.level[ib];
    if (b < a) return;
    notes.push(
      `${cap(label)} did not fall during ${phase.replace('_', ' ')} (${fmt(Math.exp(a))} at its start, ${fmt(Math.exp(b))} at its end).`,
    );
  };
  check(restricted, 'restricted loss', 'circuit_formation');
  check(v, 'the squared weight norm V', 'circuit_formation');
  check(v, 'the squared weight norm V', 'cleanup');
}

/** Cleanup → stable: the later of the end of the sharp test-loss fall and of the Gini jump. */
function stableBoundary(series: readonly TransitionPoint[], cleanup: Cleanup, notes: string[]): Placed | null {
  const { test, st } = cleanup;
  if (cleanup.end === null) {
    notes.push('Test loss was still falling sharply at the last checkpoint: no stable phase yet.');
    return null;
  }
  let best: Placed = {
    step: cleanup.end,
    reason:
      `Test loss stopped falling sharply at step ${fmtStep(cleanup.end)} (its rate of fall dropped below ` +
      `${R.steepFraction * 100} % of the peak, after falling from ${fmt(Math.exp(test.level[st.start]))} to ${fmt(Math.exp(test.level[st.end]))}).`,
  };
  const gini = optionalSignal(series, 'gini_embed', 'Gini of the embedding', false, notes);
  if (gini === null) {
    notes.push('The end of the cleanup is placed by test loss alone since the Gini coefficient is not available.');
    return best;
  }
  const from = gini.step.findIndex((s) => s >= cleanup.onset.step);
  const gs = from >= 0 ? steepest(gini, from, gini.step.length - 1, 1) : null;
  const range = Math.max(...gini.level) - Math.min(...gini.level);
  const jump = gs === null ? 0 : gini.level[gs.end] - gini.level[gs.start];
  if (gs === null || jump < Math.max(R.giniShare * range, R.giniMinRise)) {
    notes.push(
      'The Gini coefficient made no clear jump after the cleanup began; the end of the cleanup is placed by test loss alone.',
    );
    return best;
  }
  if (gs.end + 1 >= gini.step.length) {
    notes.push('The Gini coefficient was still jumping at the last checkpoint: no stable phase yet.');
    return null;
  }
  const giniEnd = gini.step[gs.end + 1];
  if (giniEnd > best.step) {
    best = {
      step: giniEnd,
      reason:
        `The Gini coefficient of the embedding stopped jumping at step ${fmtStep(giniEnd)} (its rate of rise dropped below ` +
        `${R.steepFraction * 100} % of the peak, after climbing from ${fmt(gini.level[gs.start])} to ${fmt(gini.level[gs.end])}).`,
    };
  }
  return best;
}

/**
 * Weighted least squares of ln V on (t − T_mem) over the checkpoints in [T_mem, to] (to = the
 * start of the stable phase, else the last checkpoint), each weighted by the trapezoid share of the
 * step axis it stands for, so log-spaced checkpoints do not crowd the fit; R² is weighted the same way.
 */
function fitContraction(
  series: readonly TransitionPoint[],
  tMem: number | null,
  tGrok95: number | null,
  to: number,
  toLast: string | null,
  opts: TransitionOptions,
  notes: string[],
): ContractionFit | null {
  if (tMem === null) {
    notes.push('No contraction fit: the run never memorised.');
    return null;
  }
  const pts = series.filter((p) => p.step >= tMem && p.step <= to);
  if (pts.length < 3) {
    notes.push(
      `No contraction fit: only ${pts.length} checkpoint(s) between T_mem (step ${fmtStep(tMem)}) and step ${fmtStep(to)}.`,
    );
    return null;
  }
  if (pts.some((p) => p.sq_norm <= 0)) {
    notes.push('No contraction fit: the squared weight norm is 0 somewhere in the window.');
    return null;
  }
  if (toLast !== null)
    notes.push(`${toLast}: the contraction is fitted up to the last checkpoint, and v_fit_end is its V.`);
  const fit = fitNormDecay(pts, tMem, to, { weighted: true });
  if (fit === null) {
    notes.push('No contraction fit: the window has a single step.');
    return null;
  }
  return {
    c: fit.c,
    c_over_lr_wd: cOverLrWd(fit.c, opts.lr, opts.weightDecay),
    v_mem: pts[0].sq_norm,
    v_mem_fit: fit.v0,
    v_fit_end: pts[pts.length - 1].sq_norm,
    v_at_grok: tGrok95 === null ? null : (series.find((p) => p.step === tGrok95)?.sq_norm ?? null),
    r2: fit.r2 as number, // weighted fits report 1 for a constant V
    from: tMem,
    to: fit.to,
  };
}

/**
 * The steep stretch of a signal within [a, b]: the point of steepest fall (dir −1) or rise (+1),
 * widened on both sides while the rate stays ≥ steepFraction of the peak rate. Null when the
 * signal never moves that way in the window.
 */
function steepest(sig: Signal, a: number, b: number, dir: 1 | -1): Stretch | null {
  let peak = -1;
  for (let i = a; i <= b; i++)
    if (dir * sig.slope[i] > 0 && (peak < 0 || dir * sig.slope[i] > dir * sig.slope[peak])) peak = i;
  if (peak < 0) return null;
  const thr = R.steepFraction * dir * sig.slope[peak];
  let start = peak;
  while (start > a && dir * sig.slope[start - 1] >= thr) start--;
  let end = peak;
  while (end < b && dir * sig.slope[end + 1] >= thr) end++;
  return { peak, start, end };
}

type OptionalKey = 'excluded_loss' | 'gini_embed';

/** A circuit curve on the checkpoints that have it, or null (with a note) when too few do. */
function optionalSignal(
  series: readonly TransitionPoint[],
  key: OptionalKey,
  label: string,
  log: boolean,
  notes: string[],
): Signal | null {
  const have = series.filter((p) => p[key] != null).length;
  if (have === series.length) return makeSignal(series, (p) => p[key] as number, log);
  if (have < R.minSignalPoints) {
    if (have > 0) notes.push(`${cap(label)} is present on only ${have} checkpoint(s); it is ignored.`);
    return null;
  }
  notes.push(`${cap(label)} is present on ${have} of ${series.length} checkpoints; only those are used.`);
  return makeSignal(series, (p) => p[key] as number, log);
}

function makeSignal(
  series: readonly TransitionPoint[],
  get: (p: TransitionPoint) => number | null | undefined,
  log: boolean,
): Signal {
  const kept = series.filter((p) => get(p) != null);
  const step = kept.map((p) => p.step);
  const raw = kept.map((p) => get(p) as number);
  const y = log ? raw.map((v) => Math.log(Math.max(v, R.lossFloor))) : raw;
  const { level, slope } = smooth(
    step.map((s) => Math.log1p(s)),
    runningMedian(y, R.medianRadius),
  );
  return { step, level, slope };
}

/** Running median over 2r + 1 checkpoints, the window shrunk symmetrically near the ends. */
export function runningMedian(y: number[], r: number): number[] {
  return y.map((_, i) => {
    const k = Math.min(r, i, y.length - 1 - i);
    const win = y.slice(i - k, i + k + 1).sort((p, q) => p - q);
    return win[k];
  });
}

/**
 * Local-linear Gaussian smoothing of y over the sorted abscissae u: at each point a weighted
 * straight-line fit with σ = clamp(distance to the `neighbours`-th nearest point, bandwidth,
 * maxBandwidth), weights cut at 4σ. Returns the fitted value and slope there. Local-linear
 * reproduces straight lines exactly and has no bias at the ends of the record.
 */
export function smooth(u: number[], y: number[]): { level: number[]; slope: number[] } {
  const n = u.length;
  const level = new Array<number>(n);
  const slope = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let l = i - 1;
    let r = i + 1;
    let dk = 0;
    for (let k = 0; k < R.neighbours && (l >= 0 || r < n); k++) {
      const dl = l >= 0 ? u[i] - u[l] : Infinity;
      const dr = r < n ? u[r] - u[i] : Infinity;
      if (dl <= dr) ((dk = dl), l--);
      else ((dk = dr), r++);
    }
    const h = Math.min(Math.max(R.bandwidth, dk), R.maxBandwidth);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let t0 = 0;
    let t1 = 0;
    for (let j = i; j >= 0 && u[i] - u[j] <= 4 * h; j--) accumulate(u[j] - u[i], y[j]);
    for (let j = i + 1; j < n && u[j] - u[i] <= 4 * h; j++) accumulate(u[j] - u[i], y[j]);
    const det = s0 * s2 - s1 * s1;
    if (det > 1e-12 * s0 * s2) {
      level[i] = (s2 * t0 - s1 * t1) / det;
      slope[i] = (s0 * t1 - s1 * t0) / det;
    } else {
      level[i] = t0 / s0; // an isolated checkpoint keeps its own value
      slope[i] = 0;
    }
    function accumulate(d: number, v: number) {
      const w = Math.exp(-0.5 * (d / h) ** 2);
      s0 += w;
      s1 += w * d;
      s2 += w * d * d;
      t0 += w * v;
      t1 += w * d * v;
    }
  }
  return { level, slope };
}

function validate(series: readonly TransitionPoint[], opts: TransitionOptions): void {
  if (!Array.isArray(series) || series.length === 0)
    throw new TransitionInputError('transition series length', series?.length, 'at least 1 checkpoint');
  for (const key of ['lr', 'weightDecay'] as const) {
    const v = opts[key];
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      throw new TransitionInputError(`transition option ${key}`, v, 'a finite number ≥ 0');
  }
  series.forEach((p, i) => {
    const check = (key: keyof TransitionPoint, ok: (v: number) => boolean, expected: string, optional = false) => {
      const v = p[key];
      if (optional && v == null) return;
      if (!(typeof v === 'number' && ok(v)))
        throw new TransitionInputError(`transition series[${i}].${key}`, v, expected);
    };
    const above = i === 0 ? '' : ` above series[${i - 1}].step`;
    check(
      'step',
      (v) => Number.isInteger(v) && v >= 0 && (i === 0 || v > series[i - 1].step),
      `an integer ≥ 0${above}`,
    );
    const unit = (v: number) => v >= 0 && v <= 1;
    const nonNeg = (v: number) => Number.isFinite(v) && v >= 0;
    check('train_acc', unit, 'a number in [0, 1]');
    check('test_acc', unit, 'a number in [0, 1]');
    check('train_loss', nonNeg, 'a finite number ≥ 0');
    check('test_loss', nonNeg, 'a finite number ≥ 0');
    check('sq_norm', nonNeg, 'a finite number ≥ 0');
    check('excluded_loss', nonNeg, 'a finite number ≥ 0 or absent', true);
    check('restricted_loss', nonNeg, 'a finite number ≥ 0 or absent', true);
    check('gini_embed', unit, 'a number in [0, 1] or absent', true);
  });
}

/** Index of the largest (sign 1) or smallest (sign −1) value; the first on ties. */
function argBest(v: number[], sign: 1 | -1): number {
  let k = 0;
  for (let i = 1; i < v.length; i++) if (sign * v[i] > sign * v[k]) k = i;
  return k;
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
