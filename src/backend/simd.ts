import type { TensorInfo } from '@tensorflow/tfjs-core';
import { SIMD_KERNELS_WASM, SIMD_KERNELS_WASM_SHARED } from './simd-kernels.wasm.ts';

/**
 * The wasm SIMD kernels of ./simd-kernels.wat (compiled into ./simd-kernels.wasm.ts by
 * scripts/build-simd-kernels.ts), instantiated on tfjs-backend-wasm's own WebAssembly.Memory so
 * that they read and write tensors in place, given byte offsets from `offsetOf`. One instance per
 * memory (the single-threaded build's plain memory, or the threaded build's shared one).
 * `simdFor` returns null when the module cannot be instantiated there (then callers run their
 * plain-JS or tfjs-op fallback), and always null after `useSimdKernels(false)` (tests, benches).
 */

/** What the kernels use of the wasm backend object (BackendWasm in tfjs-backend-wasm). */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  /** The emscripten module of tfjs-backend-wasm; its exports hold the heap's WebAssembly.Memory. */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
}

export interface SimdExports {
  expd(z: number): number;
  xent_fwd(x: number, m: number, p: number, n: number, c: number, rows: number, scratch: number): void;
  xent_grad(p: number, m: number, g: number, n: number, c: number, scale: number): void;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    outP: number,
    outM: number,
    outV: number,
    size: number,
    mode: number,
    decay: number,
    wd: number,
    oneMinusB1: number,
    b2: number,
    oneMinusB2: number,
    sqrtBc2: number,
    eps: number,
    negStep: number,
  ): void;
  segment_sum(x: number, ids: number, out: number, nIds: number, inner: number, segments: number): void;
  gather_rows(x: number, ids: number, out: number, nIds: number, slice: number): void;
  sum_rows(x: number, out: number, rows: number, cols: number): void;
  gather_add_rows(tab: number, idsA: number, idsB: number, out: number, rows: number, width: number): void;
}

const instances = new WeakMap<WebAssembly.Memory, SimdExports | null>();
let enabled = true;

/** Switch the SIMD kernels off (false: everyone takes the fallback) or back on. */
export function useSimdKernels(on: boolean): void {
  enabled = on;
}

/** The SIMD module on this backend's heap, or null. */
export function simdFor(backend: HeapBackend): SimdExports | null {
  if (!enabled) return null;
  const memory = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  let inst = instances.get(memory);
  if (inst === undefined) {
    try {
      const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
      const bytes = Buffer.from(shared ? SIMD_KERNELS_WASM_SHARED : SIMD_KERNELS_WASM, 'base64');
      inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
        .exports as unknown as SimdExports;
    } catch {
      inst = null; // e.g. an engine without wasm SIMD
    }
    instances.set(memory, inst);
  }
  return inst;
}

/** Byte offset of a tensor in the wasm heap. */
export function offsetOf(backend: HeapBackend, info: TensorInfo): number {
  return backend.typedArrayFromHeap(info).byteOffset;
}
