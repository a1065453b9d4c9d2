import * as tf from '@tensorflow/tfjs-core';
// The Node bundle of tfjs-core registers no gradient functions; the @tensorflow/tfjs umbrella
// package does (for every op). Without this import tf.grad fails under Node with
// "gradient function not found for Sum" — vitest hides the problem, the CLI does not.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { describeBlas, openBlas, type BlasRecord } from './blas.ts';
import { installWasmKernelWrappers, wasmKernelWrappersInstalled } from './wasm-kernels.ts';
import { MAX_WASM_THREADS, registerThreadedWasm } from './wasm-threads.ts';

/** What `useBackend` chose, for printing and for run.json. */
export interface BackendInfo {
  requested: BackendName;
  name: 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';
  tfjsVersion: string;
  simd?: boolean;
  threads?: number; // wasm: XNNPACK pool threads, including the calling thread
  kernelWrappers?: boolean; // wasm: matmul rerouting of ./wasm-kernels.ts installed
  blas?: BlasRecord; // wasm: the BLAS computing the matrix products, or why none does (./blas.ts)
}

export interface BackendOptions {
  /**
   * wasm only: 1 = the stock single-threaded SIMD build; 2..8 = the pthreads build with that many
   * threads (./wasm-threads.ts). Default: env GROKLENS_WASM_THREADS, else 1. Only pays off when
   * that many cores are otherwise idle.
   */
  wasmThreads?: number;
  /** OpenBLAS threads for the wasm backend's products (./blas.ts). Default: `threads`, else 1. */
  blasThreads?: number;
  /**
   * --threads: both of the above at once (default 1: a sweep runs one process per core, and
   * GROKLENS_WASM_THREADS still sets the wasm pool alone).
   */
  threads?: number;
}

const THREADS_ENV = 'GROKLENS_WASM_THREADS';

const OPTIONAL: Record<'tensorflow' | 'tensorflow-gpu', string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

let current: BackendInfo | null = null;

async function tryImport(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return false;
    throw new UserError(`${pkg} is installed but failed to load: ${(e as Error).message}`);
  }
}

/**
 * Select and initialise a tfjs backend. 'auto' prefers tfjs-node-gpu, then tfjs-node when they are
 * installed, else wasm. The pure-JS 'cpu' backend (< 1 GFLOP/s) is only ever used when asked for.
 */
export async function useBackend(requested: BackendName = 'auto', options: BackendOptions = {}): Promise<BackendInfo> {
  // Read lazily: a bad GROKLENS_WASM_THREADS must not break a request for another backend.
  if (options.threads !== undefined) checkThreads('--threads', options.threads);
  const wasmThreads = () => options.wasmThreads ?? options.threads ?? threadsFromEnv();
  const blasThreads = options.blasThreads ?? options.threads ?? 1;
  checkThreads('BLAS threads', blasThreads);
  if (current && (current.requested === requested || current.name === requested)) {
    if (current.name !== 'wasm') return current;
    if (current.threads === wasmThreads()) {
      if (current.blas?.library == null || current.blas.threads === null || current.blas.threads === blasThreads)
        return current;
      current = { ...current, blas: openBlas({ threads: blasThreads }) };
      return current;
    }
  }
  let name: BackendInfo['name'];
  if (requested === 'tensorflow' || requested === 'tensorflow-gpu') {
    const pkg = OPTIONAL[requested];
    if (!(await tryImport(pkg))) {
      throw new UserError(
        `backend '${requested}' needs the optional package ${pkg}, which is not installed. ` +
          `Install it with 'npm install ${pkg}' (its install downloads a libtensorflow binary, so it needs ` +
          `network access to that host), or use --backend wasm.`,
      );
    }
    name = requested;
  } else if (requested === 'auto') {
    if (await tryImport(OPTIONAL['tensorflow-gpu'])) name = 'tensorflow-gpu';
    else if (await tryImport(OPTIONAL.tensorflow)) name = 'tensorflow';
    else name = 'wasm';
  } else {
    name = requested;
  }
  const tfName = name === 'tensorflow' || name === 'tensorflow-gpu' ? 'tensorflow' : name;
  // Before the backend starts, so that a bad GROKLENS_BLAS fails at once.
  const blas = name === 'wasm' ? openBlas({ threads: blasThreads }) : undefined;
  if (name === 'wasm') await initWasm(wasmThreads());
  else if (!(await tf.setBackend(tfName))) throw new UserError(`backend '${name}' failed to initialise`);
  await tf.ready();
  if (tf.getBackend() !== tfName) {
    throw new Error(`asked for backend '${tfName}' but tfjs is running on '${tf.getBackend()}'`);
  }
  current = {
    requested,
    name,
    tfjsVersion: tf.version_core,
    ...(name === 'wasm'
      ? {
          simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
          threads: getThreadsCount(),
          kernelWrappers: wasmKernelWrappersInstalled(),
          blas,
        }
      : {}),
  };
  return current;
}

/**
 * Start the wasm backend: the threaded build when threads > 1 (./wasm-threads.ts), then our kernel
 * wrappers (./wasm-kernels.ts). The emscripten glue of tfjs-backend-wasm installs process-wide
 * 'uncaughtException' and 'unhandledRejection' handlers that rethrow, which prints the whole
 * minified module source on any error. We take them off again so errors reach our own handler.
 */
async function initWasm(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new UserError(`wasm threads: expected an integer from 1 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  if (tf.engine().registry.wasm != null && getThreadsCount() !== threads) {
    throw new UserError(
      `wasm threads: the wasm backend is already running with ${getThreadsCount()} thread(s); ` +
        `the thread count can only be chosen before its first use`,
    );
  }
  if (threads > 1) registerThreadedWasm(threads);
  const before = {
    uncaughtException: new Set(process.listeners('uncaughtException')),
    unhandledRejection: new Set(process.listeners('unhandledRejection')),
  };
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new UserError(`backend 'wasm' failed to initialise (is @tensorflow/tfjs-backend-wasm installed?)`);
  const emitter = process as NodeJS.EventEmitter;
  for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
    const known = before[ev] as Set<unknown>;
    for (const l of emitter.listeners(ev))
      if (!known.has(l)) emitter.removeListener(ev, l as (...a: unknown[]) => void);
  }
  installWasmKernelWrappers();
}

/** A --threads value from the command line: undefined when not given, else an integer 1..MAX_THREADS. */
export function parseThreads(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  checkThreads('--threads', Number.isInteger(n) ? n : (raw as unknown as number));
  return n;
}

function checkThreads(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new UserError(`${what}: expected an integer from 1 to ${MAX_WASM_THREADS}, got ${JSON.stringify(n)}`);
  }
}

/**
 * The one line the CLI prints about the backend, e.g. "backend: wasm (simd on, 1 thread;
 * matrix products on OpenBLAS 0.3.21 (SkylakeX) from libopenblas.so.0, 1 thread)".
 */
export function describeBackend(b: BackendInfo): string {
  if (b.simd === undefined) return `backend: ${b.name}`;
  const threads = `${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  return `backend: ${b.name} (simd ${b.simd ? 'on' : 'off'}, ${threads}${b.blas ? `; ${describeBlas(b.blas)}` : ''})`;
}

function threadsFromEnv(): number {
  const raw = process.env[THREADS_ENV];
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new UserError(`${THREADS_ENV}=${JSON.stringify(raw)}: expected an integer from 1 to ${MAX_WASM_THREADS}`);
  }
  return n;
}

export function backendInfo(): BackendInfo | null {
  return current;
}
