/**
 * The system's BLAS for the wasm backend's matrix products: cblas_sgemm of OpenBLAS (or any
 * library named in GROKLENS_BLAS that has it), called through koffi directly on Float32Array
 * views of the WebAssembly heap — no copy in or out (./blas-kernels.ts). On the 2-core AVX-512
 * development machine that is 146 GFLOP/s on one thread for 1024³ against XNNPACK's 12–30.
 *
 * Choice (./native-library.ts has the search rules shared with the linear setups' LAPACK):
 *   GROKLENS_BLAS unset      the library of GROKLENS_LAPACK when it has cblas_sgemm (an OpenBLAS
 *                            named for the linear setups serves both), then the first of
 *                            BLAS_CANDIDATES with it, else no BLAS (the fallback, said and recorded)
 *   GROKLENS_BLAS=none       no BLAS: XNNPACK and the wasm kernels, as before groklens 0.3
 *   GROKLENS_BLAS=LIB        that library; one that does not load or lacks cblas_sgemm is an error
 * The choice is made once per process, when the wasm backend starts (./index.ts).
 *
 * Threads: openblas_set_num_threads(n) from --threads. At a fixed thread count OpenBLAS repeats
 * its results bit for bit; another count can sum some products in another order (measured:
 * [3830,128]ᵀ·[3830,512] on 2 threads splits the k sum), so the count is recorded in run.json
 * and a resume on another one is warned about (tests/backend/blas.test.ts).
 */
import { UserError } from '../errors.ts';
import {
  BLAS_CANDIDATES,
  findLibrary,
  loadedPath,
  NATIVE_INSTALL_HINT,
  openblasConfig,
  openblasThreads,
  setOpenblasThreads,
  type NativeLib,
} from './native-library.ts';

export const BLAS_ENV = 'GROKLENS_BLAS';

/** run.json's `backend.blas`: which library computes the products, or why none does. */
export type BlasRecord =
  { library: string; path: string | null; version: string; threads: number | null } | { library: null; reason: string };

/** C ← alpha·op(A)·op(B) + beta·C, row-major (CblasRowMajor), transposes as flags. */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

interface Loaded {
  record: BlasRecord;
  sgemm: Sgemm | null;
  lib: NativeLib | null;
}

let active: Loaded | null = null;

export interface BlasRequest {
  /** The value of GROKLENS_BLAS (default: the environment's). */
  env?: string | undefined;
  /** Libraries tried when env names none (default: BLAS_CANDIDATES; tests pass missing ones). */
  candidates?: readonly string[];
  /** OpenBLAS threads (default 1). */
  threads?: number;
}

/**
 * Open (or re-open with other options) the BLAS for the products and make it the active one.
 * Returns what run.json records. A GROKLENS_BLAS that names an unusable library throws a
 * UserError of one line; finding none by search is not an error (the products stay on XNNPACK).
 */
export function openBlas(req: BlasRequest = {}): BlasRecord {
  const env = 'env' in req ? req.env : process.env[BLAS_ENV];
  const threads = req.threads ?? 1;
  if (env !== undefined && env.trim().toLowerCase() === 'none') {
    active = { record: { library: null, reason: `${BLAS_ENV}=none` }, sgemm: null, lib: null };
    return active.record;
  }
  const found = findLibrary({
    envVar: BLAS_ENV,
    envValue: env,
    candidates: req.candidates ?? [
      ...(process.env.GROKLENS_LAPACK ? [process.env.GROKLENS_LAPACK] : []),
      ...BLAS_CANDIDATES,
    ],
    lacks: 'no cblas_sgemm',
    bind: (lib) =>
      lib.func(
        'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)',
      ) as (...args: unknown[]) => void,
  });
  if (!found.ok) {
    if (found.named !== null) {
      throw new UserError(
        `${BLAS_ENV}=${found.named}: ${found.koffiMissing ?? found.tried[0].replace(`${found.named}: `, '')}; unset it to search (${BLAS_CANDIDATES.join(', ')}) or set ${BLAS_ENV}=none`,
      );
    }
    const reason =
      found.koffiMissing ??
      `no BLAS found (tried ${found.tried.map((t) => t.split(':')[0]).join(', ')}; ${NATIVE_INSTALL_HINT})`;
    active = { record: { library: null, reason }, sgemm: null, lib: null };
    return active.record;
  }
  const raw = found.bindings;
  const sgemm: Sgemm = (tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
    raw(
      CBLAS_ROW_MAJOR,
      tA ? CBLAS_TRANS : CBLAS_NO_TRANS,
      tB ? CBLAS_TRANS : CBLAS_NO_TRANS,
      m,
      n,
      k,
      alpha,
      a,
      lda,
      b,
      ldb,
      beta,
      c,
      ldc,
    );
  const isOpenblas = setOpenblasThreads(found.lib, threads);
  active = {
    record: {
      library: found.library,
      path: loadedPath(found.library),
      version: openblasConfig(found.lib) ?? 'unknown (not OpenBLAS: no openblas_get_config)',
      threads: isOpenblas ? openblasThreads(found.lib) : null,
    },
    sgemm,
    lib: found.lib,
  };
  return active.record;
}

/** The active sgemm, or null when the products run on XNNPACK (no BLAS, or none opened yet). */
export function activeSgemm(): Sgemm | null {
  return active?.sgemm ?? null;
}

export function blasRecord(): BlasRecord | null {
  return active?.record ?? null;
}

/** Stop using BLAS for the products (tests and benchmarks compare both paths). */
export function disableBlas(reason = 'disabled'): void {
  active = { record: { library: null, reason }, sgemm: null, lib: null };
}

/** One line for the CLI: what computes the products. */
export function describeBlas(r: BlasRecord): string {
  if (r.library === null) return `matrix products on XNNPACK (no BLAS: ${r.reason})`;
  const short = /^OpenBLAS [\d.]+/.exec(r.version)?.[0] ?? r.version;
  const core = / (\w+) MAX_THREADS/.exec(r.version)?.[1];
  return `matrix products on ${short}${core ? ` (${core})` : ''} from ${r.library}${r.threads !== null ? `, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : ''}`;
}

/**
 * Why resuming under `now` is not bit-identical to the run recorded with `then` (run.json's
 * backend.blas; undefined for runs from before it was recorded), or null when the products are
 * computed the same way: same library and version, same thread count.
 */
export function blasChange(then: BlasRecord | undefined, now: BlasRecord | undefined): string | null {
  if (then === undefined || now === undefined) return null;
  const say = (r: BlasRecord) =>
    r.library === null
      ? 'XNNPACK (no BLAS)'
      : `${r.library} (${r.version.split(' ').slice(0, 2).join(' ')}, ${r.threads ?? '?'} thread${r.threads === 1 ? '' : 's'})`;
  const samePath = (a: BlasRecord, b: BlasRecord) =>
    a.library === null || b.library === null || a.path == null || b.path == null || a.path === b.path;
  const same =
    then.library === now.library &&
    (then.library === null ||
      (now.library !== null && then.version === now.version && then.threads === now.threads && samePath(then, now)));
  return same ? null : `matrix products were computed on ${say(then)}, now on ${say(now)}`;
}
