/**
 * The orthonormal real Fourier basis over Z_n (docs/measures.md#fourier-basis), in the toolkit's one row order:
 *
 *   row 0            constant            1/√n
 *   row 2k−1         cos k               cos(2πkx/n)·√(2/n)     k = 1 … K, K = ⌊(n−1)/2⌋
 *   row 2k           sin k               sin(2πkx/n)·√(2/n)
 *   row n−1 (even n) Nyquist, k = n/2    cos(πx)/√n = (−1)^x/√n
 *
 * For odd n, K = (n−1)/2 = ⌊n/2⌋ as the spec writes it; for even n, sin(n/2) vanishes, so the
 * Nyquist frequency contributes one row, placed last. Either way there are exactly n rows.
 * `fourierBasis` is the dense matrix: the test oracle, and fine for small n; the fast path is
 * transform.ts.
 */
import { FourierInputError, checkSize } from './errors.ts';

/** The number of (cos, sin) pairs: K = ⌊(n−1)/2⌋. Frequencies 1 … K have two rows each. */
export function numPairedFrequencies(n: number): number {
  checkSize('fourier basis size n', n);
  return Math.floor((n - 1) / 2);
}

/** The highest frequency present, ⌊n/2⌋ (the Nyquist frequency n/2 when n is even). */
export function maxFrequency(n: number): number {
  checkSize('fourier basis size n', n);
  return Math.floor(n / 2);
}

export function hasNyquist(n: number): boolean {
  checkSize('fourier basis size n', n);
  return n % 2 === 0;
}

/** Row index of cos k (1 ≤ k ≤ K), or of the Nyquist row when n is even and k = n/2. */
export function cosRow(n: number, k: number): number {
  checkFrequency(n, k, true);
  return n % 2 === 0 && k === n / 2 ? n - 1 : 2 * k - 1;
}

/** Row index of sin k, 1 ≤ k ≤ K (the Nyquist frequency has no sine row). */
export function sinRow(n: number, k: number): number {
  checkFrequency(n, k, false);
  return 2 * k;
}

/** The basis rows carrying frequency k: [0] for k = 0, [cos, sin] for 1 ≤ k ≤ K, [n−1] for Nyquist. */
export function frequencyRows(n: number, k: number): number[] {
  if (k === 0) {
    checkSize('fourier basis size n', n);
    return [0];
  }
  if (n % 2 === 0 && k === n / 2) return [n - 1];
  return [cosRow(n, k), sinRow(n, k)];
}

export type RowKind = 'const' | 'cos' | 'sin' | 'nyquist';

/** What basis row `row` is: its kind and frequency (0 for const, n/2 for Nyquist). */
export function rowFrequency(n: number, row: number): { kind: RowKind; k: number } {
  checkSize('fourier basis size n', n);
  if (!Number.isInteger(row) || row < 0 || row >= n) {
    throw new FourierInputError(`fourier basis row (n = ${n})`, row, `an integer in [0, ${n})`);
  }
  if (row === 0) return { kind: 'const', k: 0 };
  if (n % 2 === 0 && row === n - 1) return { kind: 'nyquist', k: n / 2 };
  return row % 2 === 1 ? { kind: 'cos', k: (row + 1) / 2 } : { kind: 'sin', k: row / 2 };
}

/** Row labels in basis order: 'const', 'cos 1', 'sin 1', …, and 'nyquist' last for even n. */
export function basisLabels(n: number): string[] {
  checkSize('fourier basis size n', n);
  const labels: string[] = [];
  for (let row = 0; row < n; row++) {
    const { kind, k } = rowFrequency(n, row);
    labels.push(kind === 'const' || kind === 'nyquist' ? kind : `${kind} ${k}`);
  }
  return labels;
}

/**
 * The dense basis F, [n, n] row-major, F[f, x] = row f at x. Orthonormal: F·Fᵀ = I. Angles are
 * reduced with (k·x) mod n before scaling, so large k·x loses no precision.
 */
export function fourierBasis(n: number): Float64Array {
  checkSize('fourier basis size n', n);
  const F = new Float64Array(n * n); // [n, n]
  const c0 = 1 / Math.sqrt(n);
  const c = Math.sqrt(2 / n);
  const K = numPairedFrequencies(n);
  for (let x = 0; x < n; x++) F[x] = c0;
  for (let k = 1; k <= K; k++) {
    const cosOff = (2 * k - 1) * n;
    const sinOff = 2 * k * n;
    for (let x = 0; x < n; x++) {
      const angle = (2 * Math.PI * ((k * x) % n)) / n;
      F[cosOff + x] = c * Math.cos(angle);
      F[sinOff + x] = c * Math.sin(angle);
    }
  }
  if (n % 2 === 0) {
    const off = (n - 1) * n;
    for (let x = 0; x < n; x++) F[off + x] = x % 2 === 0 ? c0 : -c0;
  }
  return F;
}

function checkFrequency(n: number, k: number, allowNyquist: boolean): void {
  checkSize('fourier basis size n', n);
  const K = Math.floor((n - 1) / 2);
  const ok = Number.isInteger(k) && ((k >= 1 && k <= K) || (allowNyquist && n % 2 === 0 && k === n / 2));
  if (!ok) {
    const range = allowNyquist && n % 2 === 0 ? `1 … ${n / 2}` : `1 … ${K}`;
    throw new FourierInputError(`fourier frequency k (n = ${n})`, k, `an integer in ${range}`);
  }
}
