/**
 * Float64 dense linear algebra for the linear-grokking problems: Gaussian draws, Gram matrices and
 * the eigendecomposition of an empirical covariance Σ = AᵀA/rows. Two eigensolvers, neither written
 * here: the system's LAPACK (dsyevd, with BLAS dsyrk for the Gram matrix; lapack.ts) when one is
 * installed, else ml-matrix's (Householder tridiagonalisation + implicit QL, in JavaScript; ~60×
 * slower at n = 1000). This file only prepares their input and reads their output back.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { UserError } from '../src/errors.ts';
import type { Rng } from '../src/rng.ts';
import { LAPACK_INSTALL_HINT, lapackGram, lapackStatus, lapackSymmetricEigen } from './lapack.ts';

export type EigensolverName = 'lapack' | 'ml-matrix';
export const EIGENSOLVER_CHOICES = ['auto', 'lapack', 'ml-matrix'] as const;
export type EigensolverChoice = (typeof EIGENSOLVER_CHOICES)[number];

export interface ResolvedEigensolver {
  name: EigensolverName;
  description: string; // what runs, e.g. "LAPACK dsyevd (liblapack.so.3: OpenBLAS 0.3.21 …)"
  fallback: string | null; // why 'auto' fell back to ml-matrix (null otherwise)
}

/** 'auto': LAPACK when the system has one, else ml-matrix (and says why). 'lapack' without one: an error. */
export function resolveEigensolver(choice: EigensolverChoice): ResolvedEigensolver {
  if (!(EIGENSOLVER_CHOICES as readonly string[]).includes(choice)) {
    throw new UserError(`eigensolver must be one of ${EIGENSOLVER_CHOICES.join(', ')}, got ${JSON.stringify(choice)}`);
  }
  const ml = 'ml-matrix (JavaScript)';
  if (choice === 'ml-matrix') return { name: 'ml-matrix', description: ml, fallback: null };
  const s = lapackStatus();
  if (s.ok)
    return { name: 'lapack', description: `LAPACK dsyevd (${s.info.library}: ${s.info.description})`, fallback: null };
  if (choice === 'lapack') throw new UserError(`eigensolver lapack: ${s.reason}. ${LAPACK_INSTALL_HINT}`);
  return {
    name: 'ml-matrix',
    description: ml,
    fallback: `${s.reason}; ${LAPACK_INSTALL_HINT} (about 60× faster at n = 1000)`,
  };
}

/**
 * The solver of a call that names none: what 'auto' resolves to on this machine. No state is kept:
 * a setup passes its choice down explicitly (runLinear → the runs, the sweeps and each job).
 */
export function defaultEigensolver(): EigensolverName {
  return resolveEigensolver('auto').name;
}

/** Row-major dense matrix. */
export interface Dense {
  rows: number;
  cols: number;
  data: Float64Array; // [rows, cols]
}

export function zeros(rows: number, cols: number): Dense {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** A matrix of independent N(0, std²) entries, drawn row by row from `rng`. */
export function gaussian(rng: Rng, rows: number, cols: number, std: number): Dense {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
  return { rows, cols, data };
}

export function transpose(a: Dense): Dense {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j];
  }
  return { rows: a.cols, cols: a.rows, data: out };
}

/** A·B. */
export function matmul(a: Dense, b: Dense): Dense {
  if (a.cols !== b.rows) throw new RangeError(`matmul: [${a.rows}, ${a.cols}]·[${b.rows}, ${b.cols}]`);
  const out = new Float64Array(a.rows * b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const o = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) out[o + j] += aik * b.data[bk + j];
    }
  }
  return { rows: a.rows, cols: n, data: out };
}

/** Aᵀ·B without forming Aᵀ. */
export function matmulTransposeA(a: Dense, b: Dense): Dense {
  if (a.rows !== b.rows) throw new RangeError(`matmulTransposeA: [${a.rows}, ${a.cols}]ᵀ·[${b.rows}, ${b.cols}]`);
  const out = new Float64Array(a.cols * b.cols);
  const n = b.cols;
  for (let r = 0; r < a.rows; r++) {
    const br = r * n;
    for (let i = 0; i < a.cols; i++) {
      const ari = a.data[r * a.cols + i];
      if (ari === 0) continue;
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += ari * b.data[br + j];
    }
  }
  return { rows: a.cols, cols: n, data: out };
}

/**
 * The Gram matrix of the rows of `a` scaled by `scale`: scale·AAᵀ, [rows, rows]. Each entry is a
 * dot product of two contiguous rows, summed in order k = 0, 1, …; entries are computed in blocks
 * of 2 × 4 rows so that each loaded number serves several products (about 2.7× faster than one
 * entry at a time at 1000 × 2000, with bit-identical results).
 */
export function rowGram(a: Dense, scale: number): Float64Array {
  const { rows: n, cols: len, data } = a;
  const g = new Float64Array(n * n);
  const put = (r: number, c: number, v: number) => {
    g[r * n + c] = v * scale;
    g[c * n + r] = v * scale;
  };
  for (let i = 0; i < n; i += 2) {
    // Past the last row the block repeats it: the duplicate entries are written twice, identically.
    const i1 = Math.min(i + 1, n - 1);
    const a0 = i * len;
    const a1 = i1 * len;
    for (let j = i; j < n; j += 4) {
      const j1 = Math.min(j + 1, n - 1);
      const j2 = Math.min(j + 2, n - 1);
      const j3 = Math.min(j + 3, n - 1);
      const b0 = j * len;
      const b1 = j1 * len;
      const b2 = j2 * len;
      const b3 = j3 * len;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      for (let k = 0; k < len; k++) {
        const x0 = data[a0 + k];
        const x1 = data[a1 + k];
        const y0 = data[b0 + k];
        const y1 = data[b1 + k];
        const y2 = data[b2 + k];
        const y3 = data[b3 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      put(i, j, s00);
      put(i, j1, s01);
      put(i, j2, s02);
      put(i, j3, s03);
      put(i1, j, s10);
      put(i1, j1, s11);
      put(i1, j2, s12);
      put(i1, j3, s13);
    }
  }
  return g;
}

/** Eigenpairs of a symmetric matrix, eigenvalues ascending, eigenvectors as rows. */
export interface SymmetricEigen {
  values: Float64Array; // [n]
  vectors: Float64Array; // [n, n]; row i is the unit eigenvector of values[i]
}

/**
 * Eigendecomposition of the symmetric n×n matrix `s` (row-major). LAPACK reads its lower triangle
 * only; ml-matrix reads all of it (rowGram fills both).
 */
export function symmetricEigen(
  s: Float64Array,
  n: number,
  solver: EigensolverName = defaultEigensolver(),
): SymmetricEigen {
  if (solver === 'lapack') return lapackSymmetricEigen(s, n);
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, s[i * n + j]);
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const v = evd.eigenvectorMatrix; // column j is the eigenvector of raw[j]
  const order = raw.map((_, i) => i).sort((a, b) => raw[a] - raw[b]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((j, r) => {
    values[r] = raw[j];
    for (let i = 0; i < n; i++) vectors[r * n + i] = v.get(i, j);
  });
  return { values, vectors };
}

/**
 * The nonzero part of the spectrum of an empirical covariance Σ = AᵀA/rows for A [rows, dim].
 * When rows ≥ dim, Σ itself is decomposed (k = dim modes, complete basis). When rows < dim, the
 * smaller Gram K = AAᵀ/rows is decomposed instead: Σ and K share their nonzero eigenvalues, and
 * v = Aᵀu/√(rows·s) maps a unit eigenvector u of K to one of Σ. The remaining dim − k directions
 * are Σ's null space, the orthogonal complement of the returned vectors (complete = false).
 */
export interface CovarianceEigen {
  dim: number;
  values: Float64Array; // [k] eigenvalues of Σ, ascending
  vectors: Float64Array; // [k, dim] orthonormal eigenvectors as rows
  complete: boolean; // k === dim
}

/** Eigenvalues below this fraction of the largest are treated as exact zeros of a rank-deficient K. */
const RANK_TOLERANCE = 1e-12;

export function covarianceEigen(a: Dense, solver: EigensolverName = defaultEigensolver()): CovarianceEigen {
  const { rows, cols: dim } = a;
  if (rows >= dim) {
    const gram = solver === 'lapack' ? lapackGram(a, 1 / rows, 'columns') : rowGram(transpose(a), 1 / rows);
    const e = symmetricEigen(gram, dim, solver);
    return { dim, values: e.values, vectors: e.vectors, complete: true };
  }
  const e = symmetricEigen(solver === 'lapack' ? lapackGram(a, 1 / rows, 'rows') : rowGram(a, 1 / rows), rows, solver);
  const top = e.values[rows - 1];
  const keep: number[] = [];
  for (let i = 0; i < rows; i++) if (e.values[i] > RANK_TOLERANCE * top) keep.push(i);
  const k = keep.length;
  const values = new Float64Array(k);
  const vectors = new Float64Array(k * dim);
  keep.forEach((i, r) => {
    values[r] = e.values[i];
    const norm = 1 / Math.sqrt(rows * e.values[i]);
    const out = r * dim;
    for (let s = 0; s < rows; s++) {
      const c = e.vectors[i * rows + s] * norm;
      if (c === 0) continue;
      const as = s * dim;
      for (let j = 0; j < dim; j++) vectors[out + j] += c * a.data[as + j];
    }
  });
  return { dim, values, vectors, complete: k === dim };
}
