/**
 * The one place groklens finds the system's BLAS / LAPACK shared library and opens it through
 * koffi's FFI. Two users: the wasm backend's matrix products (cblas_sgemm, ./blas.ts) and the
 * linear setups' eigendecompositions (dsyevd_ / dsyrk_, ../linear/lapack.ts).
 *
 * Rules, the same for both: a library named by the user's environment variable (GROKLENS_BLAS,
 * GROKLENS_LAPACK) is the only one tried, and a name that does not load or lacks the symbols is
 * that user's mistake; otherwise a list of sonames is tried in order — Debian's libopenblas0 /
 * liblapack3, Homebrew's openblas on macOS — and the first that has the symbols wins. Every
 * library is opened once per process (koffi.load is dlopen: the same file gives the same
 * handle, so the OpenBLAS thread setting is shared by both users).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, isAbsolute } from 'node:path';

type Koffi = typeof import('koffi');
export type NativeLib = ReturnType<Koffi['load']>;

/** Homebrew's openblas (Apple silicon, then Intel), which is keg-only: not on the default search path. */
const HOMEBREW_OPENBLAS = [
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
];

/**
 * BLAS for the products: optimised libraries only. Debian's libblas.so.3 may be the reference
 * BLAS (an alternative of libblas3), whose sgemm is slower than XNNPACK's, so it is never guessed;
 * name it in GROKLENS_BLAS to use it anyway.
 */
export const BLAS_CANDIDATES: readonly string[] =
  process.platform === 'darwin'
    ? ['libopenblas.dylib', ...HOMEBREW_OPENBLAS, '/System/Library/Frameworks/Accelerate.framework/Accelerate']
    : ['libopenblas.so.0', 'libopenblas.so', 'libopenblas64_.so.0'];

export const LAPACK_CANDIDATES: readonly string[] =
  process.platform === 'darwin'
    ? ['libopenblas.dylib', ...HOMEBREW_OPENBLAS, 'liblapack.dylib']
    : ['liblapack.so.3', 'libopenblas.so.0', 'libopenblas.so', 'liblapack.so'];

export const NATIVE_INSTALL_HINT = 'Debian/Ubuntu: apt-get install libopenblas0; macOS: brew install openblas';

let koffiCache: { ok: true; koffi: Koffi } | { ok: false; reason: string } | undefined;

export function loadKoffi(): { ok: true; koffi: Koffi } | { ok: false; reason: string } {
  if (koffiCache) return koffiCache;
  try {
    koffiCache = { ok: true, koffi: createRequire(import.meta.url)('koffi') as Koffi };
  } catch (e) {
    koffiCache = { ok: false, reason: `the koffi package could not be loaded (${firstLine(e)})` };
  }
  return koffiCache;
}

const opened = new Map<string, NativeLib>();

export function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

export interface FindRequest<T> {
  /** The environment variable that names a library, and its value (undefined or '': not set). */
  envVar: string;
  envValue: string | undefined;
  candidates: readonly string[];
  /** Bind the needed functions; throw when a symbol is missing. */
  bind: (lib: NativeLib, koffi: Koffi) => T;
  /** How a library that loads but lacks the symbols is described: e.g. 'no dsyevd_/dsyrk_'. */
  lacks: string;
}

export type FindResult<T> =
  | { ok: true; library: string; lib: NativeLib; bindings: T }
  /**
   * named: the library the user named, when the failure concerns it (an error, not a fallback);
   * tried: one "name: what went wrong" per library tried, in order.
   */
  | { ok: false; named: string | null; tried: string[]; koffiMissing?: string };

/** The first library that loads and binds, trying only the named one when the variable is set. */
export function findLibrary<T>(req: FindRequest<T>): FindResult<T> {
  const named = req.envValue !== undefined && req.envValue.trim() !== '' ? req.envValue : null;
  const k = loadKoffi();
  if (!k.ok) return { ok: false, named, tried: [], koffiMissing: k.reason };
  const names = named ? [named] : req.candidates;
  const tried: string[] = [];
  for (const name of names) {
    let lib = opened.get(name);
    if (!lib) {
      try {
        lib = k.koffi.load(name);
        opened.set(name, lib);
      } catch (e) {
        tried.push(`${name}: ${firstLine(e)}`);
        continue;
      }
    }
    try {
      return { ok: true, library: name, lib, bindings: req.bind(lib, k.koffi) };
    } catch (e) {
      tried.push(`${name}: ${req.lacks} (${firstLine(e)})`);
    }
  }
  return { ok: false, named, tried };
}

/** A function of `lib`, or null when it has no such symbol. */
export function optionalFunc(lib: NativeLib, decl: string): ((...args: unknown[]) => unknown) | null {
  try {
    return lib.func(decl) as (...args: unknown[]) => unknown;
  } catch {
    return null;
  }
}

/** OpenBLAS's build line ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH … SkylakeX MAX_THREADS=64"), or null. */
export function openblasConfig(lib: NativeLib): string | null {
  const config = optionalFunc(lib, 'const char *openblas_get_config()');
  return config ? String(config()).trim() : null;
}

/** Set OpenBLAS's thread count; false when the library is not OpenBLAS (nothing to set). */
export function setOpenblasThreads(lib: NativeLib, n: number): boolean {
  const set = optionalFunc(lib, 'void openblas_set_num_threads(int n)');
  set?.(n);
  return set !== null;
}

/** OpenBLAS's current thread count, or null when the library is not OpenBLAS. */
export function openblasThreads(lib: NativeLib): number | null {
  const get = optionalFunc(lib, 'int openblas_get_num_threads()');
  return get ? Number(get()) : null;
}

/**
 * The file a library loaded by `name` really is, for the record: the real path of an absolute
 * name; else, on Linux, the mapped file whose name starts as the soname does (libopenblas.so.0 →
 * /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so); else null.
 */
export function loadedPath(name: string): string | null {
  try {
    if (isAbsolute(name)) return realpathSync(name);
    const stem = basename(name).replace(/\.(so|dylib)(\..*)?$/, '');
    const maps = readFileSync('/proc/self/maps', 'utf8').split('\n');
    for (const line of maps) {
      const file = line.slice(line.indexOf('/'));
      if (line.includes('/') && basename(file).startsWith(stem)) return file;
    }
  } catch {
    // no /proc (macOS) or an unreadable path: the name alone is recorded
  }
  return null;
}
