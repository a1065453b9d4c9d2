import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { activeSgemm } from './blas.ts';
import { blasBatchMatMul, blasFusedMatMul, useBlasFor } from './blas-kernels.ts';
import { MIN_REROUTE_FLOPS, matMulDims, planMatMul } from './matmul-plan.ts';
import { JS_KERNELS } from './wasm-js-kernels.ts';

/**
 * Kernel wrappers for tfjs-backend-wasm 4.22, installed over the registered kernels:
 *
 * - BatchMatMul and _FusedMatMul on the system's BLAS when one was opened (./blas.ts,
 *   ./blas-kernels.ts) and the product is big enough per call; everything below is the path
 *   without BLAS, and the one for tiny products.
 * - BatchMatMul: flagged (transposeA/B) and batched products are rerouted to XNNPACK's plain 2-D
 *   product through explicit Transpose/Reshape kernels (rule and measurements: ./matmul-plan.ts).
 *   Also computes batch broadcasting such as [2,1,m,k]×[1,3,k,n] correctly, which the original
 *   kernel (and tfjs-backend-cpu) silently gets wrong.
 * - _FusedMatMul: the same for its transpose flags and batch-folding.
 * - Both: guard against an XNNPACK operator-cache bug. The wasm backend caches one packed operator
 *   per right-hand tensor id, ignoring shape; tf.reshape shares the id, so matMul(x, W) followed by
 *   matMul(y, reshape(W, other)) reuses the stale operator and aborts the whole wasm module. We
 *   copy the right-hand operand when its id was already used with another [k, n].
 *
 * - Tile, GatherV2 (pathologically slow) and UnsortedSegmentSum (missing, so tf.gather had no
 *   gradient on wasm): plain-JS kernels over the wasm heap, ./wasm-js-kernels.ts.
 *
 * Kernels are replaced with unregisterKernel/registerKernel; the originals stay reachable from the
 * wrapper config so installation is idempotent and reversible, even across module instances.
 */

const BACKEND = 'wasm';
/** On our configs: the kernel config we replaced, or null when wasm had none. */
const REPLACED = Symbol.for('groklens.wasm-kernels.replaced');

type OurConfig = KernelConfig & { [REPLACED]?: KernelConfig | null };

/** What the wrappers use of the wasm backend object (BackendWasm in tfjs-backend-wasm). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** Kernel name → our implementation, given the config it replaces (undefined: wasm has none). */
const WRAPPERS: Record<string, (original: KernelConfig | undefined) => KernelFunc> = {
  BatchMatMul: (original) => wrapBatchMatMul(required(original, 'BatchMatMul')),
  _FusedMatMul: (original) => wrapFusedMatMul(required(original, '_FusedMatMul')),
  ...JS_KERNELS,
};

function required(config: KernelConfig | undefined, name: string): KernelConfig {
  if (config == null) throw new Error(`tfjs-backend-wasm registers no '${name}' kernel; is the package version 4.22?`);
  return config;
}

/** Install every wrapper over the wasm kernels. Harmless to call again. Returns the kernel names replaced by this call. */
export function installWasmKernelWrappers(): string[] {
  const installed: string[] = [];
  for (const [name, make] of Object.entries(WRAPPERS)) {
    const current = tf.getKernel(name, BACKEND) as OurConfig | undefined;
    if (current != null && REPLACED in current) continue;
    const ours: OurConfig = {
      ...(current ?? { kernelName: name, backendName: BACKEND }),
      kernelFunc: make(current),
      [REPLACED]: current ?? null,
    };
    if (current != null) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(ours);
    installed.push(name);
  }
  return installed;
}

/** Put the original kernels back (benchmarks and tests compare both). */
export function uninstallWasmKernelWrappers(): void {
  for (const name of Object.keys(WRAPPERS)) {
    const current = tf.getKernel(name, BACKEND) as OurConfig | undefined;
    if (current == null || !(REPLACED in current)) continue;
    tf.unregisterKernel(name, BACKEND);
    const original = current[REPLACED];
    if (original) tf.registerKernel(original);
  }
}

export function wasmKernelWrappersInstalled(): boolean {
  return Object.keys(WRAPPERS).every((name) => {
    const current = tf.getKernel(name, BACKEND) as OurConfig | undefined;
    return current != null && REPLACED in current;
  });
}

/** Right-hand operand id (its dataId object) → the "k×n" XNNPACK last packed it as. */
const xnnPackedAs = new WeakMap<object, string>();

/**
 * Intermediate tensors of one wrapped kernel call, all released by `release()` except the one
 * returned through `keep()`. Kernels are looked up at call time so later wrappers are honoured.
 */
class KernelScope {
  private temps: TensorInfo[] = [];
  constructor(readonly backend: WasmBackendLike) {}

  private run(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
    const out = tf.getKernel(name, BACKEND).kernelFunc({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** Swap the last two axes; a reshape when either of them is 1. */
  transposeLast2(x: TensorInfo): TensorInfo {
    const r = x.shape.length;
    const shape = [...x.shape.slice(0, -2), x.shape[r - 1], x.shape[r - 2]];
    if (x.shape[r - 1] === 1 || x.shape[r - 2] === 1) return this.reshape(x, shape);
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    return this.run('Transpose', { x }, { perm });
  }

  tileTo(x: TensorInfo, batch: number[]): TensorInfo {
    const rank = batch.length + 2;
    const padded = this.reshape(x, [...Array(rank - x.shape.length).fill(1), ...x.shape]);
    const reps = [...batch.map((b, i) => b / padded.shape[i]), 1, 1];
    return reps.every((r) => r === 1) ? padded : this.run('Tile', { x: padded }, { reps });
  }

  /** Track a tensor made outside the scope so it is released with the others. */
  track(x: TensorInfo): TensorInfo {
    this.temps.push(x);
    return x;
  }

  /** A copy of x with a fresh tensor id (not the Identity kernel: ours shares the data, ./wasm-js-kernels.ts). */
  copy(x: TensorInfo): TensorInfo {
    const out = this.backend.makeOutput(x.shape, 'float32');
    this.temps.push(out);
    this.backend.typedArrayFromHeap(out).set(this.backend.typedArrayFromHeap(x));
    return out;
  }

  /** Rows [i·size, (i+1)·size) of a batched tensor as a new [r, c] tensor. */
  batchEntry(x: TensorInfo, i: number, r: number, c: number): TensorInfo {
    const out = this.backend.makeOutput([r, c], 'float32');
    this.temps.push(out);
    const size = r * c;
    // Views are taken after makeOutput: allocation may grow (and so replace) the wasm heap.
    this.backend.typedArrayFromHeap(out).set(this.backend.typedArrayFromHeap(x).subarray(i * size, (i + 1) * size));
    return out;
  }

  /** A right-hand operand XNNPACK may safely pack as [k, n] (see the header comment). */
  xnnSafe(b: TensorInfo, k: number, n: number): TensorInfo {
    const key = `${k}x${n}`;
    const seen = xnnPackedAs.get(b.dataId);
    if (seen !== undefined && seen !== key) return this.copy(b);
    xnnPackedAs.set(b.dataId, key);
    return b;
  }

  /** The original kernel on operands it sends to XNNPACK: plain [M, K]·[K, N]. */
  plain(original: KernelConfig, a: TensorInfo, b: TensorInfo): TensorInfo {
    const out = original.kernelFunc({
      inputs: { a, b: this.xnnSafe(b, b.shape[0], b.shape[1]) },
      backend: this.backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  keep(x: TensorInfo): TensorInfo {
    this.temps = this.temps.filter((t) => t !== x);
    return x;
  }

  release(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps = [];
  }
}

function wrapBatchMatMul(original: KernelConfig): KernelFunc {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
    const d = matMulDims(a.shape, b.shape, transposeA, transposeB);
    const sgemm = activeSgemm();
    if (sgemm && useBlasFor(d, transposeA))
      return blasBatchMatMul(args.backend as WasmBackendLike, sgemm, a, b, transposeA, transposeB);
    const route = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const outShape = [...d.outBatch, d.m, d.n];
    const s = new KernelScope(args.backend as WasmBackendLike);
    try {
      switch (route) {
        case 'native': {
          if (transposeA || transposeB || d.sizeA !== 1 || d.sizeB !== 1) return original.kernelFunc(args);
          const c = s.plain(original, s.reshape(a, [d.m, d.k]), s.reshape(b, [d.k, d.n]));
          return s.keep(s.reshape(c, outShape));
        }
        case 'direct': {
          const opA = s.reshape(transposeA ? s.transposeLast2(a) : a, [d.sizeA * d.m, d.k]);
          const opB = s.reshape(transposeB ? s.transposeLast2(b) : b, [d.k, d.n]);
          return s.keep(s.reshape(s.plain(original, opA, opB), outShape));
        }
        case 'swapped': {
          // Cᵀ = op(B)ᵀ · op(A)ᵀ, with B's batch folded into the rows of op(B)ᵀ.
          const opBt = s.reshape(transposeB ? b : s.transposeLast2(b), [d.sizeB * d.n, d.k]);
          const opAt = s.reshape(transposeA ? a : s.transposeLast2(a), [d.k, d.m]);
          const ct = s.reshape(s.plain(original, opBt, opAt), [d.sizeB, d.n, d.m]);
          return s.keep(s.reshape(s.transposeLast2(ct), outShape));
        }
        case 'per-batch': {
          const batch = Math.max(d.sizeA, d.sizeB);
          const opA = s.reshape(transposeA ? s.transposeLast2(a) : a, [batch, d.m, d.k]);
          const opB = s.reshape(transposeB ? s.transposeLast2(b) : b, [batch, d.k, d.n]);
          const backend = args.backend as WasmBackendLike;
          const out = s.track(backend.makeOutput([batch, d.m, d.n], 'float32'));
          for (let i = 0; i < batch; i++) {
            const entry = new KernelScope(backend);
            try {
              const c = entry.plain(original, entry.batchEntry(opA, i, d.m, d.k), entry.batchEntry(opB, i, d.k, d.n));
              backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(c), i * d.m * d.n);
            } finally {
              entry.release();
            }
          }
          // The reshape holds its own reference to out's data, so releasing out keeps it alive.
          return s.keep(s.reshape(out, outShape));
        }
        case 'broadcast': {
          const at = s.tileTo(a, d.outBatch);
          const bt = s.tileTo(b, d.outBatch);
          return kernelFunc({ ...args, inputs: { a: at, b: bt } }) as TensorInfo;
        }
      }
    } finally {
      s.release();
    }
  };
  return kernelFunc;
}

function wrapFusedMatMul(original: KernelConfig): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation?: string;
      leakyreluAlpha?: number;
    };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
    const d = matMulDims(a.shape, b.shape, attrs.transposeA, attrs.transposeB);
    const sgemm = activeSgemm();
    if (sgemm && useBlasFor(d, attrs.transposeA)) {
      const backend = args.backend as WasmBackendLike;
      const run = (name: string, inputs: Record<string, TensorInfo>, kernelAttrs: NamedAttrMap) =>
        tf.getKernel(name, BACKEND).kernelFunc({ inputs, backend, attrs: kernelAttrs }) as TensorInfo;
      return blasFusedMatMul(backend, sgemm, run, args.inputs as Parameters<typeof blasFusedMatMul>[3], attrs);
    }
    const flops = 2 * d.sizeA * d.m * d.k * d.n;
    const onXnnPath = !attrs.transposeA && !attrs.transposeB && d.sizeA === 1 && d.sizeB === 1;
    // Bias and activation act on the output's last axis, so only the 'direct' form keeps them valid.
    const reroute = !onXnnPath && d.sizeB === 1 && flops >= MIN_REROUTE_FLOPS;
    if (!onXnnPath && !reroute) return original.kernelFunc(args);
    const s = new KernelScope(args.backend as WasmBackendLike);
    try {
      const opA = s.reshape(attrs.transposeA ? s.transposeLast2(a) : a, [1, d.sizeA * d.m, d.k]);
      const opB = s.xnnSafe(s.reshape(attrs.transposeB ? s.transposeLast2(b) : b, [1, d.k, d.n]), d.k, d.n);
      const out = s.track(
        original.kernelFunc({
          ...args,
          inputs: { ...args.inputs, a: opA, b: opB },
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        }) as TensorInfo,
      );
      return s.keep(s.reshape(out, [...d.outBatch, d.m, d.n]));
    } finally {
      s.release();
    }
  };
}
