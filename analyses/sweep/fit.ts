/**
 * Straight-line fits across runs: ordinary least squares y ≈ a + b·x with R², Pearson's r and a
 * percentile-bootstrap interval for the slope (pairs resampled with replacement through a seeded
 * generator, so the interval is reproducible). Quantities that do not exist for the data — R² of
 * a constant y, an interval when most resamples have a single distinct x — are null, not NaN.
 */
import { Rng } from '../../src/rng.ts';

export interface LineFit {
  n: number;
  slope: number;
  intercept: number;
  r2: number | null; // 1 − SS_res/SS_tot; null when y is constant
  pearson_r: number | null; // null when y is constant
}

export interface BootstrapOptions {
  resamples: number;
  seed: number;
  level: number; // e.g. 0.95
}

export interface SlopeInterval {
  lo: number;
  hi: number;
  level: number;
  resamples: number;
  seed: number;
  /** Resamples whose x values were all equal (no slope), left out of the percentiles. */
  degenerate: number;
}

export interface LinearFitReport extends LineFit {
  slope_ci: SlopeInterval | null;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { resamples: 2000, seed: 0, level: 0.95 };

function checkXY(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new RangeError(`fit: x has ${x.length} values but y has ${y.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i]))
      throw new RangeError(`fit: point ${i} is not finite (x ${x[i]}, y ${y[i]})`);
  }
}

/** OLS on the points whose indices are `idx` (all by default). Returns null if x has < 2 distinct values. */
function olsOn(x: readonly number[], y: readonly number[], idx: ArrayLike<number>): LineFit | null {
  const n = idx.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[idx[i]];
    my += y[idx[i]];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[idx[i]] - mx;
    const dy = y[idx[i]] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  // Compare the x values themselves: when they are all equal, the centred sum of squares can
  // still come out as a tiny positive number (the mean is rounded), giving a meaningless slope.
  let distinct = false;
  for (let i = 1; i < n && !distinct; i++) distinct = x[idx[i]] !== x[idx[0]];
  if (n < 2 || !distinct || !(sxx > 0)) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const r = y[idx[i]] - (intercept + slope * x[idx[i]]);
    ssRes += r * r;
  }
  const constantY = syy === 0;
  return {
    n,
    slope,
    intercept,
    r2: constantY ? null : 1 - ssRes / syy,
    pearson_r: constantY ? null : sxy / Math.sqrt(sxx * syy),
  };
}

/** Least squares y ≈ intercept + slope·x. Throws if there are fewer than two distinct x values. */
export function ols(x: readonly number[], y: readonly number[]): LineFit {
  checkXY(x, y);
  const fit = olsOn(
    x,
    y,
    Array.from(x, (_, i) => i),
  );
  if (fit === null) throw new RangeError(`fit: need at least two distinct x values, got ${x.length} point(s)`);
  return fit;
}

/** Pearson correlation; null when either variable is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  checkXY(x, y);
  const f = olsOn(
    x,
    y,
    Array.from(x, (_, i) => i),
  );
  return f?.pearson_r ?? null;
}

/** Linear interpolation between order statistics (R's type 7) of a sorted array. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty list');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap for the OLS slope: `resamples` draws of n pairs with replacement from
 * Rng(seed). Null for fewer than three points, or when fewer than half the resamples have a
 * slope (too few distinct x values).
 */
export function bootstrapSlope(
  x: readonly number[],
  y: readonly number[],
  opts: BootstrapOptions = DEFAULT_BOOTSTRAP,
): SlopeInterval | null {
  checkXY(x, y);
  if (!(opts.level > 0 && opts.level < 1))
    throw new RangeError(`bootstrap: level must be in (0, 1), got ${opts.level}`);
  if (!Number.isInteger(opts.resamples) || opts.resamples < 1)
    throw new RangeError(`bootstrap: resamples must be a positive integer, got ${opts.resamples}`);
  const n = x.length;
  if (n < 3) return null; // two points: half the resamples repeat one of them, the rest give the same slope
  const rng = new Rng(opts.seed);
  const idx = new Int32Array(n);
  const slopes: number[] = [];
  let degenerate = 0;
  for (let b = 0; b < opts.resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const f = olsOn(x, y, idx);
    if (f === null) degenerate++;
    else slopes.push(f.slope);
  }
  if (slopes.length < opts.resamples / 2) return null;
  slopes.sort((a, b) => a - b);
  const tail = (1 - opts.level) / 2;
  return {
    lo: quantileSorted(slopes, tail),
    hi: quantileSorted(slopes, 1 - tail),
    level: opts.level,
    resamples: opts.resamples,
    seed: opts.seed,
    degenerate,
  };
}

/** OLS plus the bootstrap interval for its slope. */
export function fitLine(
  x: readonly number[],
  y: readonly number[],
  opts: BootstrapOptions = DEFAULT_BOOTSTRAP,
): LinearFitReport {
  return { ...ols(x, y), slope_ci: bootstrapSlope(x, y, opts) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}
