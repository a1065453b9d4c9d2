/**
 * Sparsity measures over Fourier coefficients and norms (docs/measures.md#fourier-measures): the Gini coefficient
 * (Hurley & Rickard 2009), the inverse participation ratio (Gromov 2023), and the helpers that
 * turn per-row norms in basis order into per-frequency norms √(c_k² + s_k²).
 */
import { hasNyquist, numPairedFrequencies } from './basis.ts';
import { checkLength, checkSize, FourierInputError, type NumericArray } from './errors.ts';

/**
 * Gini coefficient of a non-negative vector, docs/measures.md#gini-coefficient exactly: with x sorted ascending and N
 * entries, G = 1 − 2·Σ_{i=1..N} (x_(i)/‖x‖₁)·(N − i + ½)/N. 0 for all-equal entries, 1 − 1/N
 * for a one-hot; scale-invariant.
 * All-zero vector (our choice): G = 0. It is the limit of c·(1, …, 1) as c → 0 and has no
 * concentration to measure; a dead embedding reports "not sparse", never NaN.
 * Throws on an empty vector and on negative or non-finite entries (norms are ≥ 0 and finite).
 */
export function gini(x: ArrayLike<number>): number {
  const N = x.length;
  if (N === 0) throw new FourierInputError('gini input length', 0, 'at least 1');
  const sorted = new Float64Array(N);
  let max = 0;
  for (let i = 0; i < N; i++) {
    const v = x[i];
    if (!(v >= 0) || v === Infinity) {
      throw new FourierInputError(`gini input[${i}]`, v, 'a finite non-negative number');
    }
    sorted[i] = v;
    if (v > max) max = v;
  }
  if (max === 0) return 0;
  sorted.sort();
  // Divide by the max first so ‖x‖₁ cannot overflow for entries near Number.MAX_VALUE.
  let l1 = 0;
  for (let i = 0; i < N; i++) l1 += sorted[i] / max;
  let acc = 0;
  for (let i = 1; i <= N; i++) acc += (sorted[i - 1] / max / l1) * (N - i + 0.5);
  return 1 - (2 * acc) / N;
}

/**
 * Inverse participation ratio of one coefficient vector: normalise to unit L2 (w̃ = w/‖w‖₂),
 * IPR = Σ |w̃_k|⁴. 1 for a one-hot, 1/N for N equal magnitudes; 1/IPR counts the effective
 * number of active coefficients. Computed after dividing by max |w|, so neither tiny nor huge
 * inputs underflow or overflow.
 * All-zero vector: NaN (our choice; there is no direction to normalise). meanIpr skips such rows.
 * Throws on an empty vector and on non-finite entries.
 */
export function ipr(coeffs: ArrayLike<number>): number {
  const N = coeffs.length;
  if (N === 0) throw new FourierInputError('ipr input length', 0, 'at least 1');
  let max = 0;
  for (let i = 0; i < N; i++) {
    const v = coeffs[i];
    if (!Number.isFinite(v)) throw new FourierInputError(`ipr input[${i}]`, v, 'a finite number');
    const a = Math.abs(v);
    if (a > max) max = a;
  }
  if (max === 0) return NaN;
  let s2 = 0;
  let s4 = 0;
  for (let i = 0; i < N; i++) {
    const w = coeffs[i] / max;
    const w2 = w * w;
    s2 += w2;
    s4 += w2 * w2;
  }
  return s4 / (s2 * s2);
}

/**
 * IPR of each row of M [rows, len] (e.g. each first-layer neuron's Fourier coefficients), and
 * the mean over rows that are not all zero. `zeroRows` counts the rows left out of the mean.
 */
export function meanIpr(
  M: NumericArray,
  rows: number,
  len: number,
): { perRow: Float64Array; mean: number; zeroRows: number } {
  checkSize('row count', rows, 0);
  checkSize('row length', len);
  checkLength('ipr input', M, rows * len, `[${rows}, ${len}]`);
  const perRow = new Float64Array(rows); // [rows]
  let sum = 0;
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    perRow[r] = ipr(M.subarray(r * len, (r + 1) * len));
    if (!Number.isNaN(perRow[r])) {
      sum += perRow[r];
      counted++;
    }
  }
  return { perRow, mean: counted > 0 ? sum / counted : NaN, zeroRows: rows - counted };
}

/** ‖X[f, :]‖₂ for each row f of X [n, cols] (normsE: X = F·W_E', docs/measures.md#embedding-and-logit-map-norms). */
export function rowNorms(X: NumericArray, n: number, cols: number): Float64Array {
  checkSize('row count', n);
  checkSize('column count', cols, 0);
  checkLength('norm input', X, n * cols, `[${n}, ${cols}]`);
  const out = new Float64Array(n); // [n]
  for (let f = 0; f < n; f++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += X[f * cols + c] ** 2;
    out[f] = Math.sqrt(s);
  }
  return out;
}

/** ‖X[:, f]‖₂ for each column f of X [rows, n] (normsL: X = W_L·Fᵀ, docs/measures.md#embedding-and-logit-map-norms). */
export function colNorms(X: NumericArray, rows: number, n: number): Float64Array {
  checkSize('row count', rows, 0);
  checkSize('column count', n);
  checkLength('norm input', X, rows * n, `[${rows}, ${n}]`);
  const sq = new Float64Array(n); // [n]
  for (let r = 0; r < rows; r++) for (let f = 0; f < n; f++) sq[f] += X[r * n + f] ** 2;
  for (let f = 0; f < n; f++) sq[f] = Math.sqrt(sq[f]);
  return sq;
}

export interface FrequencyNorms {
  /** Basis size n. */
  n: number;
  /** |norm of the const row|: the mean direction, not a frequency; kept out of perFrequency. */
  constant: number;
  /**
   * [⌊n/2⌋] entry k−1 is frequency k: √(c_k² + s_k²) for k = 1 … ⌊(n−1)/2⌋, and for even n the
   * last entry is the Nyquist frequency n/2, whose one row has no sine partner: its norm alone.
   * This is the vector the Gini coefficient of docs/measures.md#gini-coefficient is taken over.
   */
  perFrequency: Float64Array;
  /** Whether the last perFrequency entry is the Nyquist row (n even). */
  hasNyquist: boolean;
}

/**
 * Combine per-row norms in basis order (row 0 const, then cos k, sin k, …, Nyquist last) into
 * per-frequency norms. Works equally on any per-row non-negative quantity whose squares add
 * (norms of F·W_E' rows, of W_L·Fᵀ columns, of one vector's coefficients).
 */
export function frequencyNorms(rowNormsInBasisOrder: ArrayLike<number>): FrequencyNorms {
  const n = rowNormsInBasisOrder.length;
  checkSize('number of basis rows', n);
  const K = numPairedFrequencies(n);
  const nyquist = hasNyquist(n);
  const perFrequency = new Float64Array(Math.floor(n / 2)); // [⌊n/2⌋]
  for (let k = 1; k <= K; k++) {
    perFrequency[k - 1] = Math.hypot(rowNormsInBasisOrder[2 * k - 1], rowNormsInBasisOrder[2 * k]);
  }
  if (nyquist) perFrequency[n / 2 - 1] = Math.abs(rowNormsInBasisOrder[n - 1]);
  return { n, constant: Math.abs(rowNormsInBasisOrder[0]), perFrequency, hasNyquist: nyquist };
}
