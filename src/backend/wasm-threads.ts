import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';

/**
 * The multi-threaded (pthreads + SIMD) build of tfjs-backend-wasm under Node.
 *
 * tfjs never selects it in Node: the flag WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false
 * when IS_NODE (tfjs issue #3830). Forcing the flag is not enough, because tfjs's init() then
 *  1. hands emscripten a Blob URL as the pthread worker script; node:worker_threads only accepts
 *     file paths and file:/data: URLs, and the worker would in turn importScripts() a Blob of the
 *     factory's source, whose bundled form references rollup-renamed requires (require$$0) that do
 *     not exist in a worker;
 *  2. even once running, the C++ side caps the pool at emscripten_num_logical_cores() / 2
 *     ("2 logical cores per physical core"), i.e. 1 thread on a 2-CPU machine, whatever
 *     setThreadsCount asked for;
 *  3. the pool's running pthread keeps a referenced worker, so the process never exits.
 * So we register our own factory for 'wasm' that loads the unbundled emscripten glue from
 * wasm-out/ with (1) a real worker script (./wasm-pthread-worker.cjs) and the glue's own path as
 * mainScriptUrlOrBlob, (2) an instantiateWasm hook reporting 2·threads logical cores, and
 * (3) unref() on the running pthread workers. Kernels are untouched: they are registered by
 * kernel name for backend 'wasm' and bind to whichever module the backend object carries.
 *
 * What it buys (bench/matmul.ts): XNNPACK's plain matmul and the binary/unary ops run on the pool;
 * the flagged/batched scalar matmul loop, Transpose and the reductions stay single-threaded.
 */

const require = createRequire(import.meta.url);
const GLUE = 'tfjs-backend-wasm-threaded-simd';
/** Emscripten pre-spawns this many pthread workers (PTHREAD_POOL_SIZE of the tfjs build). */
export const MAX_WASM_THREADS = 8;

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[] };
  tfjs?: unknown;
}

let registeredThreads: number | null = null;

/**
 * Replace the 'wasm' backend factory by the threaded build with `threads` pool threads (the
 * calling thread counts as one). Must run before the wasm backend is first initialised.
 */
export function registerThreadedWasm(threads: number): void {
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_WASM_THREADS) {
    throw new UserError(`wasm threads: expected an integer from 2 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  if (registeredThreads === threads) return;
  if (tf.engine().registry.wasm != null) {
    throw new UserError(
      `wasm threads: the wasm backend is already running with ${registeredThreads ?? 1} thread(s); ` +
        `the thread count can only be chosen before its first use`,
    );
  }
  const gluePath = require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${GLUE}.js`);
  const wasmPath = gluePath.replace(/\.js$/, '.wasm');
  const workerPath = fileURLToPath(new URL('./wasm-pthread-worker.cjs', import.meta.url));
  const factory = require(gluePath) as (config: object) => Promise<EmscriptenModule>;

  tf.removeBackend('wasm');
  const ok = tf.registerBackend(
    'wasm',
    async () => {
      const module = await factory({
        locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? workerPath : prefix + path),
        mainScriptUrlOrBlob: gluePath,
        instantiateWasm: (
          imports: WebAssembly.Imports & { env: WebAssembly.ModuleImports },
          receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
        ) => {
          imports.env.emscripten_num_logical_cores = () => 2 * threads;
          WebAssembly.instantiate(readFileSync(wasmPath), imports).then(({ instance, module }) =>
            receive(instance, module),
          );
          return {};
        },
      });
      // The same wrappers tfjs's own init() puts on the module.
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      setThreadsCount(threads);
      const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
      for (const worker of module.PThread.runningWorkers) worker.unref();
      return backend;
    },
    2,
  );
  if (!ok) throw new Error(`could not register the threaded wasm backend factory`);
  registeredThreads = threads;
}
