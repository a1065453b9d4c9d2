import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../config/types.ts';
import { UserError } from '../errors.ts';

/** What `useBackend` chose, for printing and for run.json. */
export interface BackendInfo {
  requested: BackendName;
  name: 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';
  tfjsVersion: string;
  simd?: boolean;
  threads?: number;
}

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
export async function useBackend(requested: BackendName = 'auto'): Promise<BackendInfo> {
  if (current && (current.requested === requested || current.name === requested)) return current;
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
  if (name === 'wasm') await initWasm();
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
      ? { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 2 : 1 }
      : {}),
  };
  return current;
}

/**
 * The emscripten glue of tfjs-backend-wasm installs process-wide 'uncaughtException' and
 * 'unhandledRejection' handlers that rethrow, which prints the whole minified module source on any
 * error. We take them off again so errors reach our own handler.
 */
async function initWasm(): Promise<void> {
  const before = {
    uncaughtException: new Set(process.listeners('uncaughtException')),
    unhandledRejection: new Set(process.listeners('unhandledRejection')),
  };
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new UserError(`backend 'wasm' failed to initialise (is @tensorflow/tfjs-backend-wasm installed?)`);
  for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
    for (const l of process.listeners(ev)) if (!before[ev].has(l)) process.removeListener(ev, l as (...a: any[]) => void);
  }
}

export function backendInfo(): BackendInfo | null {
  return current;
}
