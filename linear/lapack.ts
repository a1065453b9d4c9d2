/**
 * The system's LAPACK (reference LAPACK or OpenBLAS, as Debian's liblapack3 / libopenblas0
 * install it), called through koffi's FFI: dsyevd for the symmetric eigendecomposition and BLAS
 * dsyrk for the Gram matrices that feed it. Nothing here is a solver; it passes flat float64 arrays
 * to the library in its own (column-major, Fortran) conventions and reads them back.
 *
 * Conventions. A row-major [r, c] array is, to Fortran, the column-major [c, r] array of its
 * transpose. Both routines touch one triangle only ('U' in Fortran's column-major view, the lower
 * triangle of our row-major view), so a Gram matrix from dsyrk goes to dsyevd without being
 * mirrored. Fortran character arguments carry hidden length arguments (size_t) at the end.
 *
 * Finding the library (GROKLENS_LAPACK, else Debian's / Homebrew's sonames in order) is shared
 * with the wasm backend's BLAS products: ../backend/native-library.ts.
 *
 * Threads. OpenBLAS is asked for one thread per call (openblas_set_num_threads(1), when the
 * library has it): the parallelism of a sweep comes from its worker threads, and every call then
 * sums in the same order whatever the number of workers, so results stay identical bit for bit.
 */
import {
  findLibrary,
  LAPACK_CANDIDATES,
  NATIVE_INSTALL_HINT,
  openblasConfig,
  optionalFunc,
  setOpenblasThreads,
} from '../src/backend/native-library.ts';

/** What the loaded library is, for the record of a result and the CLI's one-line notice. */
export interface LapackInfo {
  library: string; // the name it was loaded by (GROKLENS_LAPACK, or a soname tried in order)
  description: string; // e.g. "OpenBLAS 0.3.21 … (LAPACK 3.11.0)" or "LAPACK 3.11.0"
}

interface Bindings {
  info: LapackInfo;
  dsyevd: (...args: unknown[]) => void;
  dsyrk: (...args: unknown[]) => void;
}

/** Shared libraries tried in order when GROKLENS_LAPACK does not name one (../backend/native-library.ts). */
export { LAPACK_CANDIDATES };

export const LAPACK_INSTALL_HINT = `${NATIVE_INSTALL_HINT} (or liblapack3); elsewhere set GROKLENS_LAPACK to the path of a LAPACK shared library`;

let cached: { ok: true; bindings: Bindings } | { ok: false; reason: string } | undefined;

function tryLoad(): { ok: true; bindings: Bindings } | { ok: false; reason: string } {
  const found = findLibrary({
    lacks: 'no dsyevd_/dsyrk_',
    envVar: 'GROKLENS_LAPACK',
    envValue: process.env.GROKLENS_LAPACK,
    candidates: LAPACK_CANDIDATES,
    bind: (lib) => ({
      dsyevd: lib.func(
        'void dsyevd_(const char *jobz, const char *uplo, const int32_t *n, _Inout_ double *a, const int32_t *lda, _Out_ double *w, _Out_ double *work, const int32_t *lwork, _Out_ int32_t *iwork, const int32_t *liwork, _Out_ int32_t *info, size_t ljobz, size_t luplo)',
      ) as Bindings['dsyevd'],
      dsyrk: lib.func(
        'void dsyrk_(const char *uplo, const char *trans, const int32_t *n, const int32_t *k, const double *alpha, const double *a, const int32_t *lda, const double *beta, _Inout_ double *c, const int32_t *ldc, size_t luplo, size_t ltrans)',
      ) as Bindings['dsyrk'],
    }),
  });
  if (!found.ok)
    return { ok: false, reason: found.koffiMissing ?? `no LAPACK library found (${found.tried.join('; ')})` };
  const { lib, library } = found;
  setOpenblasThreads(lib, 1);
  const ilaver = optionalFunc(lib, 'void ilaver_(_Out_ int32_t *major, _Out_ int32_t *minor, _Out_ int32_t *patch)');
  const parts: string[] = [];
  const config = openblasConfig(lib);
  if (config) parts.push(config);
  if (ilaver) {
    const v = [new Int32Array(1), new Int32Array(1), new Int32Array(1)];
    ilaver(...v);
    parts.push(`LAPACK ${v.map((x) => x[0]).join('.')}`);
  }
  return { ok: true, bindings: { info: { library, description: parts.join(', ') || 'LAPACK' }, ...found.bindings } };
}

function load() {
  cached ??= tryLoad();
  return cached;
}

/** The loaded library, or why there is none. Loads on first call; the answer is kept per thread. */
export function lapackStatus(): { ok: true; info: LapackInfo } | { ok: false; reason: string } {
  const s = load();
  return s.ok ? { ok: true, info: s.bindings.info } : s;
}

function bindings(): Bindings {
  const s = load();
  if (!s.ok) throw new Error(`LAPACK is not available: ${s.reason}`);
  return s.bindings;
}

const int = (v: number) => Int32Array.of(v);

/**
 * Eigenpairs of the symmetric n×n matrix whose lower triangle (row-major) `s` holds; `s` is left
 * untouched. Eigenvalues ascending; row i of `vectors` is the unit eigenvector of values[i].
 */
export function lapackSymmetricEigen(s: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  if (s.length !== n * n) throw new RangeError(`lapackSymmetricEigen: ${s.length} entries for n = ${n}`);
  const { dsyevd } = bindings();
  const a = Float64Array.from(s); // dsyevd overwrites it with the eigenvectors
  const values = new Float64Array(n);
  if (n === 0) return { values, vectors: a };
  const lwork = 1 + 6 * n + 2 * n * n;
  const liwork = 3 + 5 * n;
  const info = new Int32Array(1);
  dsyevd(
    'V',
    'U',
    int(n),
    a,
    int(n),
    values,
    new Float64Array(lwork),
    int(lwork),
    new Int32Array(liwork),
    int(liwork),
    info,
    1,
    1,
  );
  if (info[0] !== 0) throw new Error(`LAPACK dsyevd failed (info = ${info[0]}) on a ${n}×${n} matrix`);
  // Column j of the column-major result is eigenvector j: row j of ours.
  return { values, vectors: a };
}

/**
 * scale·XᵀX (n = cols) when `side` is 'columns', scale·XXᵀ (n = rows) when 'rows', for X [rows,
 * cols] row-major; only the lower triangle (row-major) is filled, which is what lapackSymmetricEigen
 * reads.
 */
export function lapackGram(
  x: { rows: number; cols: number; data: Float64Array },
  scale: number,
  side: 'columns' | 'rows',
): Float64Array {
  const { dsyrk } = bindings();
  const { rows, cols, data } = x;
  // To Fortran, `data` is B = Xᵀ, column-major [cols, rows] with leading dimension cols.
  // XᵀX = B·Bᵀ (trans 'N', n = cols, k = rows); XXᵀ = Bᵀ·B (trans 'T', n = rows, k = cols).
  const n = side === 'columns' ? cols : rows;
  const k = side === 'columns' ? rows : cols;
  const c = new Float64Array(n * n);
  if (n === 0 || k === 0) return c;
  dsyrk(
    'U',
    side === 'columns' ? 'N' : 'T',
    int(n),
    int(k),
    Float64Array.of(scale),
    data,
    int(cols),
    Float64Array.of(0),
    c,
    int(n),
    1,
    1,
  );
  return c;
}
