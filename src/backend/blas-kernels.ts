import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { Sgemm } from './blas.ts';
import { matMulDims, type MatMulDims } from './matmul-plan.ts';

/**
 * BatchMatMul and _FusedMatMul of the wasm backend on the system's BLAS (./blas.ts): cblas_sgemm
 * reads the operands and writes the product in place on the WebAssembly heap, through
 * Float32Array views of the tensors' memory. Transposes are sgemm's flags (no Transpose kernel,
 * no packing copy); batch dimensions broadcast numpy-style by indexing the operands' entries (no
 * Tile), and a batch that only the left operand has is folded into the rows of one call.
 *
 * When BLAS pays (measured, bench/blas.ts, one thread): a call costs ~1.5 µs of FFI, and at 16³
 * (8 kFLOP) both paths take the same 14 µs (the engine's own per-kernel cost); above that BLAS
 * wins (32³: 11 vs 23 µs, 64³: 11 vs 480 µs, [2822,256]·[256,256]: 2.4 vs 11 ms). Products of
 * fewer FLOPs per call stay on the wasm kernels, and so do batches of thousands of tiny entries
 * (such as [n·H, 3, E]·[n·H, E, 3]), better served by the wasm kernel's own loop.
 */

/** Minimum FLOPs (2·m·k·n) of one sgemm call for BLAS to be used. */
export const BLAS_MIN_FLOPS_PER_CALL = 1 << 13;
/** At most this many sgemm calls for one product (more: the wasm kernel's own batch loop). */
export const BLAS_MAX_CALLS = 512;

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/** Number of sgemm calls the BLAS path makes for these dims (1 when the batch folds into rows). */
export function blasCalls(d: MatMulDims, transposeA: boolean): number {
  if (d.sizeB === 1 && !transposeA) return 1;
  return d.outBatch.reduce((p, s) => p * s, 1);
}

/** Whether a product of these dims goes to BLAS. */
export function useBlasFor(d: MatMulDims, transposeA: boolean): boolean {
  const calls = blasCalls(d, transposeA);
  const flops = (2 * d.outBatch.reduce((p, s) => p * s, 1) * d.m * d.k * d.n) / calls;
  return d.m * d.n > 0 && calls <= BLAS_MAX_CALLS && flops >= BLAS_MIN_FLOPS_PER_CALL;
}

/**
 * out ← op(a)·op(b) (+ out when accumulate), out already allocated with shape [...outBatch, m, n].
 * Views are taken here, after every allocation (an allocation may grow the heap and replace its buffer).
 */
export function sgemmInto(
  backend: HeapBackend,
  sgemm: Sgemm,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  tA: boolean,
  tB: boolean,
  accumulate: boolean,
): void {
  const d = matMulDims(a.shape, b.shape, tA, tB);
  const { m, k, n } = d;
  const C = backend.typedArrayFromHeap(out);
  if (k === 0) {
    if (!accumulate) C.fill(0);
    return;
  }
  const A = backend.typedArrayFromHeap(a);
  const B = backend.typedArrayFromHeap(b);
  const lda = tA ? m : k;
  const ldb = tB ? k : n;
  const beta = accumulate ? 1 : 0;
  if (d.sizeB === 1 && !tA) {
    // The left batch folds into rows: [sizeA·m, k]·[k, n] in one call.
    sgemm(false, tB, d.sizeA * m, n, k, 1, A, lda, B, ldb, beta, C, n);
    return;
  }
  // One call per output batch entry; each operand's entry follows numpy broadcasting.
  const rank = d.outBatch.length;
  const pa = [...Array(rank - d.batchA.length).fill(1), ...d.batchA];
  const pb = [...Array(rank - d.batchB.length).fill(1), ...d.batchB];
  const total = d.outBatch.reduce((p, s) => p * s, 1);
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  for (let t = 0; t < total; t++) {
    let rem = t;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let i = rank - 1; i >= 0; i--) {
      const idx = rem % d.outBatch[i];
      rem = (rem - idx) / d.outBatch[i];
      if (pa[i] !== 1) ia += idx * strideA;
      if (pb[i] !== 1) ib += idx * strideB;
      strideA *= pa[i];
      strideB *= pb[i];
    }
    sgemm(
      tA,
      tB,
      m,
      n,
      k,
      1,
      A.subarray(ia * sizeA, (ia + 1) * sizeA),
      lda,
      B.subarray(ib * sizeB, (ib + 1) * sizeB),
      ldb,
      beta,
      C.subarray(t * sizeC, (t + 1) * sizeC),
      n,
    );
  }
}

/** BatchMatMul on BLAS: a new [...outBatch, m, n] tensor. */
export function blasBatchMatMul(
  backend: HeapBackend,
  sgemm: Sgemm,
  a: TensorInfo,
  b: TensorInfo,
  tA: boolean,
  tB: boolean,
): TensorInfo {
  const d = matMulDims(a.shape, b.shape, tA, tB);
  const out = backend.makeOutput([...d.outBatch, d.m, d.n], 'float32');
  sgemmInto(backend, sgemm, a, b, out, tA, tB, false);
  return out;
}

/** Runs another wasm kernel by name (looked up at call time, so later wrappers are honoured). */
export type RunKernel = (name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo;

/** tfjs's fused activations → the wasm kernel that applies each (linear: none). */
const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * _FusedMatMul on BLAS: act(op(a)·op(b) + bias). A bias along the last axis ([n], or [1]) is
 * written into the output first and accumulated by sgemm (beta = 1: one rounding, as a separate
 * add); any other bias shape goes through the Add kernel; the activation through its own kernel.
 */
export function blasFusedMatMul(
  backend: HeapBackend,
  sgemm: Sgemm,
  run: RunKernel,
  inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo },
  attrs: { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number },
): TensorInfo {
  const { a, b, bias, preluActivationWeights } = inputs;
  const d = matMulDims(a.shape, b.shape, attrs.transposeA, attrs.transposeB);
  const outShape = [...d.outBatch, d.m, d.n];
  const activation = attrs.activation ?? 'linear';
  if (activation !== 'linear' && !(activation in ACTIVATION_KERNELS))
    throw new Error(`_FusedMatMul: unknown activation '${activation}'`);
  const temps: TensorInfo[] = []; // every tensor made here but the one returned
  let out = backend.makeOutput(outShape, 'float32');
  try {
    const rowBias = bias != null && bias.dtype === 'float32' && biasAlongRows(bias.shape, d.n);
    if (rowBias) {
      const C = backend.typedArrayFromHeap(out);
      const row = backend.typedArrayFromHeap(bias!);
      if (row.length === 1) C.fill(row[0]);
      else if (C.length > 0) {
        C.set(row);
        // Doubling copies: log2(rows) calls instead of one per row.
        for (let filled = d.n; filled < C.length; filled *= 2)
          C.copyWithin(filled, 0, Math.min(filled, C.length - filled));
      }
    }
    sgemmInto(backend, sgemm, a, b, out, attrs.transposeA, attrs.transposeB, rowBias);
    if (bias != null && !rowBias) {
      temps.push(out);
      out = run('Add', { a: out, b: bias }, {});
    }
    if (activation !== 'linear') {
      temps.push(out);
      const name = ACTIVATION_KERNELS[activation];
      out =
        activation === 'prelu'
          ? run(name, { x: out, alpha: preluActivationWeights! }, {})
          : run(name, { x: out }, activation === 'leakyrelu' ? { alpha: attrs.leakyreluAlpha ?? 0.2 } : {});
    }
    return out;
  } catch (e) {
    temps.push(out);
    throw e;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** A bias that is one value per output column ([n], [1, n], …) or a single value. */
function biasAlongRows(shape: readonly number[], n: number): boolean {
  const size = shape.reduce((p, s) => p * s, 1);
  if (size === 1) return true;
  return size === n && shape[shape.length - 1] === n;
}
