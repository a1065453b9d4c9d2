import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { activeSgemm } from './blas.ts';
import { ADAM_UPDATE, adamUpdate } from './adam-kernel.ts';
import { GATHER_ADD_ROWS } from './kernel-names.ts';
import { offsetOf, simdFor } from './simd.ts';
import { SOFTMAX_XENT, SOFTMAX_XENT_GRAD, softmaxXentForward, softmaxXentGrad } from './softmax-xent.ts';

/**
 * Plain-JS kernels over the wasm heap for ops whose tfjs-backend-wasm 4.22 kernel is missing or
 * pathologically slow (bench/kernels.ts, [4096, 512] float32, ns per output element; a copy is ~2):
 *
 * - Tile: 35 ns/elem in wasm (an index computation per element) → row copies, ~1 ns/elem.
 * - GatherV2: 26 ns/elem in wasm (plus a closure-building assert per index) → slice copies.
 * - Sum / Mean / Max over leading axes (e.g. axis 0 of [N, D], every bias gradient): 6-12× slower
 *   than over the last axis, because wasm first transposes with a naive 2-D loop whose strided
 *   writes thrash the cache when N is a multiple of 512 → one pass accumulating whole rows.
 *   With BLAS (./blas.ts), Sum and Mean over leading axes are the product ones[1, R]·x[R, C]:
 *   7-70× faster again ([2822, 256]: 3.3 → 0.45 ms), which matters for every bias gradient.
 * - Identity, and Cast to the same dtype: the wasm kernels copy the tensor, and tfjs's engine
 *   clones (Identity) every tensor a kernel saves for the backward pass — each product's inputs,
 *   each Multiply's, each Exp's output —, so a transformer step spent 13 % of its time copying
 *   (nanda-2023: 72 copies, 40 ms of 305, profiled with bench/profile-step.ts). Tensors are
 *   immutable (every kernel writes a fresh output; Variable.assign swaps the data id), so ours
 *   share the data under a reference count, as Reshape does here and Identity does on
 *   tfjs-backend-cpu.
 * - UnsortedSegmentSum: not registered for wasm at all, so the gradient of tf.gather (an embedding
 *   lookup) throws "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'".
 * - Transpose by the identity permutation (tf.gather's gradient makes two): shared, as Identity.
 * - groklens's own fused kernels, which wasm has no counterpart for: the softmax cross-entropy and
 *   its gradient (./softmax-xent.ts), the Adam / AdamW update of one parameter (./adam-kernel.ts),
 *   and the transformer's two-row table lookups (GATHER_ADD_ROWS, ./kernel-names.ts).
 *
 * Where a loop is hot, it runs in wasm SIMD on the same heap (./simd.ts, ./simd-kernels.wat):
 * UnsortedSegmentSum, GatherV2 rows, short leading-axis Sum / Mean, the fused kernels. Each SIMD
 * loop does the same float32 (or float64) operations in the same order as the JS loop it stands
 * in for, so results do not depend on which one ran (tests/backend/simd-kernels.test.ts).
 *
 * Each works on typed-array views of the heap taken after every allocation (an allocation may grow
 * the heap and detach older views). Results are bit-identical to the originals for Tile and
 * GatherV2 (pure copies); UnsortedSegmentSum sums in float32 in index order, as tfjs-backend-cpu.
 */

interface HeapBackend {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type JsKernel = (original: KernelConfig | undefined) => KernelFunc;

const tile: JsKernel = (original) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as { reps: number[] };
  if (x.dtype === 'string' || reps.length !== x.shape.length) return original!.kernelFunc(args);
  const backend = args.backend as HeapBackend;
  const rank = x.shape.length;
  const outShape = x.shape.map((s, i) => s * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  // Build the output innermost axis first: each input row is written, then repeated along its own
  // axis; every enclosing axis then repeats the block it contains.
  const outStrides = util.computeStrides(outShape).concat(1);
  const rows = rank === 0 ? 1 : util.sizeFromShape(x.shape.slice(0, -1));
  const rowLen = rank === 0 ? 1 : x.shape[rank - 1];
  for (let r = 0; r < rows; r++) {
    // Output offset of input row r (all repetition indices 0).
    let rem = r;
    let offset = 0;
    for (let d = rank - 2; d >= 0; d--) {
      const idx = rem % x.shape[d];
      rem = (rem - idx) / x.shape[d];
      offset += idx * outStrides[d];
    }
    const row = src.subarray(r * rowLen, (r + 1) * rowLen);
    for (let k = 0; k < (rank === 0 ? 1 : reps[rank - 1]); k++) dst.set(row, offset + k * rowLen);
  }
  // Repeat along the outer axes, innermost first: the block for axis d spans x.shape[d] slices of
  // stride outStrides[d]; copies of it go reps[d] - 1 times further on.
  for (let d = rank - 2; d >= 0; d--) {
    if (reps[d] === 1) continue;
    const block = x.shape[d] * outStrides[d];
    const outer = util.sizeFromShape(x.shape.slice(0, d));
    for (let o = 0; o < outer; o++) {
      let base = 0;
      let rem = o;
      for (let e = d - 1; e >= 0; e--) {
        const idx = rem % x.shape[e];
        rem = (rem - idx) / x.shape[e];
        base += idx * outStrides[e];
      }
      for (let k = 1; k < reps[d]; k++) dst.copyWithin(base + k * block, base, base + block);
    }
  }
  return out;
};

const gatherV2: JsKernel = (original) => (args) => {
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
  if (x.dtype === 'string') return original!.kernelFunc(args);
  const backend = args.backend as HeapBackend;
  const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, parsedAxis, batchDims);
  const { batchSize, outerSize, dimSize, sliceSize, outputShape } = info;
  const idx = backend.typedArrayFromHeap(indices);
  const perBatch = idx.length / batchSize;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (!(v >= 0 && v < dimSize)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dimSize - 1}]`);
  }
  const out = backend.makeOutput(outputShape, x.dtype);
  if (util.sizeFromShape(outputShape) === 0) return out;
  const simd =
    batchSize === 1 && outerSize === 1 && (x.dtype === 'float32' || x.dtype === 'int32') && indices.dtype === 'int32'
      ? simdFor(backend as never)
      : null;
  if (simd) {
    // Row copies with memory.copy in wasm (./simd-kernels.wat); the same bytes.
    simd.gather_rows(
      offsetOf(backend as never, x),
      offsetOf(backend as never, indices),
      offsetOf(backend as never, out),
      idx.length,
      sliceSize,
    );
    return out;
  }
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const ids = backend.typedArrayFromHeap(indices); // re-read: makeOutput may have moved the heap
  // Slices are moved with copyWithin on one view of the whole heap (src and dst are both in it):
  // no subarray object per slice, which cost ~100 ns each ([98, 128] × 5644 ids: 0.6 → 0.1 ms).
  const heap = new (src.constructor as Float32ArrayConstructor)(src.buffer);
  const srcAt = src.byteOffset / src.BYTES_PER_ELEMENT;
  let o = dst.byteOffset / dst.BYTES_PER_ELEMENT;
  for (let b = 0; b < batchSize; b++) {
    for (let outer = 0; outer < outerSize; outer++) {
      const base = (b * outerSize + outer) * dimSize;
      for (let i = 0; i < perBatch; i++) {
        const from = srcAt + (base + ids[b * perBatch + i]) * sliceSize;
        heap.copyWithin(o, from, from + sliceSize);
        o += sliceSize;
      }
    }
  }
  return out;
};

const unsortedSegmentSum: JsKernel = () => (args) => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as { numSegments: number };
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  const backend = args.backend as HeapBackend;
  const nIds = util.sizeFromShape(segmentIds.shape);
  const inner = nIds === 0 ? 0 : util.sizeFromShape(x.shape) / nIds;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const simd = x.dtype === 'float32' && segmentIds.dtype === 'int32' ? simdFor(backend as never) : null;
  if (simd) {
    // The same loop in wasm SIMD (./simd-kernels.wat): the same float32 sums in the same order.
    simd.segment_sum(
      offsetOf(backend as never, x),
      offsetOf(backend as never, segmentIds),
      offsetOf(backend as never, out),
      nIds,
      inner,
      numSegments,
    );
    return out;
  }
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0);
  const src = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  for (let i = 0; i < nIds; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue; // TensorFlow drops out-of-range ids
    const from = i * inner;
    const to = s * inner;
    for (let j = 0; j < inner; j++) dst[to + j] += src[from + j];
  }
  return out;
};

/** Below this many rows a leading Sum stays in the JS loop (an FFI call costs ~2 µs). */
const BLAS_MIN_ROWS = 64;
let ones = new Float32Array(0);
/** A vector of r ones (outside the wasm heap, grown as needed). */
function onesOf(r: number): Float32Array {
  if (ones.length < r) ones = new Float32Array(Math.max(r, 2 * ones.length)).fill(1);
  return ones.subarray(0, r);
}

/**
 * Reduction over a set of axes that is exactly the leading ones (after sorting), as an [R, C] view:
 * out[c] = op over r of x[r, c]. Anything else goes to the original kernel.
 */
function leadingReduction(kind: 'sum' | 'mean' | 'max'): JsKernel {
  return (original) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    // Max names its axes reductionIndices; Sum and Mean call them axis.
    const attrs = args.attrs as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
    const keepDims = attrs.keepDims;
    const axes = util
      .parseAxisParam((kind === 'max' ? attrs.reductionIndices : attrs.axis) as number | number[], x.shape)
      .sort((a, b) => a - b);
    const rank = x.shape.length;
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return original!.kernelFunc(args);
    const backend = args.backend as HeapBackend;
    const R = util.sizeFromShape(x.shape.slice(0, axes.length));
    const C = util.sizeFromShape(x.shape.slice(axes.length));
    const outShape = keepDims ? x.shape.map((s, i) => (i < axes.length ? 1 : s)) : x.shape.slice(axes.length);
    if (R === 0) return original!.kernelFunc(args);
    const out = backend.makeOutput(outShape, 'float32');
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const sgemm = kind === 'max' ? null : activeSgemm();
    if (sgemm && R >= BLAS_MIN_ROWS) {
      sgemm(false, false, 1, C, R, kind === 'mean' ? 1 / R : 1, onesOf(R), R, src, C, 0, dst, C);
      return out;
    }
    const simd = kind === 'max' ? null : simdFor(backend as never);
    if (simd) {
      // The same float32 additions in the same row order, four lanes at a time (./simd-kernels.wat);
      // [3, 4096·128] (attention's weighted sum over 3 positions): ~4× faster than the loop below.
      simd.sum_rows(offsetOf(backend as never, x), offsetOf(backend as never, out), R, C);
      if (kind === 'mean') for (let c = 0; c < C; c++) dst[c] /= R;
      return out;
    }
    dst.set(src.subarray(0, C));
    if (kind === 'max') {
      for (let r = 1; r < R; r++) {
        const o = r * C;
        for (let c = 0; c < C; c++) {
          const v = src[o + c];
          // NaN propagates, as in the wasm kernel.
          if (v > dst[c] || v !== v) dst[c] = v;
        }
      }
    } else {
      for (let r = 1; r < R; r++) {
        const o = r * C;
        for (let c = 0; c < C; c++) dst[c] += src[o + c];
      }
      if (kind === 'mean') for (let c = 0; c < C; c++) dst[c] /= R;
    }
    return out;
  };
}

/** x itself under another reference: no copy (see the header). */
function share(args: Parameters<KernelFunc>[0], x: TensorInfo): TensorInfo {
  (args.backend as HeapBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity: JsKernel = (original) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  return x.dtype === 'string' ? original!.kernelFunc(args) : share(args, x);
};

const cast: JsKernel = (original) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as { dtype: TensorInfo['dtype'] };
  return x.dtype === dtype && dtype !== 'string' && dtype !== 'complex64' ? share(args, x) : original!.kernelFunc(args);
};

/** Transpose by the identity permutation (tf.gather's gradient does one each way): a share. */
const transpose: JsKernel = (original) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as { perm: number[] };
  const identityPerm = perm.length === x.shape.length && perm.every((p, i) => p === i);
  return identityPerm && x.dtype !== 'string' ? share(args, x) : original!.kernelFunc(args);
};

/**
 * {table [V, W] float32, a [R] int32, b [R] int32} → [R, W]: table[a[r]] + table[b[r]], one
 * float32 addition per entry (the same as tf.add(tf.gather(table, a), tf.gather(table, b)), in
 * one pass instead of three). Ids outside [0, V) throw, as GatherV2.
 */
const gatherAddRows: JsKernel = () => (args) => {
  const { table, a, b } = args.inputs as { table: TensorInfo; a: TensorInfo; b: TensorInfo };
  const backend = args.backend as HeapBackend;
  const [V, W] = table.shape;
  const R = a.shape[0];
  if (table.dtype !== 'float32' || a.dtype !== 'int32' || b.dtype !== 'int32' || b.shape[0] !== R)
    throw new Error(`${GATHER_ADD_ROWS}: bad inputs`);
  for (const ids of [backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b)]) {
    for (let i = 0; i < R; i++)
      if (!(ids[i] >= 0 && ids[i] < V))
        throw new Error(`${GATHER_ADD_ROWS}: the index value ${ids[i]} is not in [0, ${V - 1}]`);
  }
  const out = backend.makeOutput([R, W], 'float32');
  const simd = simdFor(backend as never);
  if (simd) {
    simd.gather_add_rows(
      offsetOf(backend as never, table),
      offsetOf(backend as never, a),
      offsetOf(backend as never, b),
      offsetOf(backend as never, out),
      R,
      W,
    );
    return out;
  }
  const t = backend.typedArrayFromHeap(table) as Float32Array;
  const ia = backend.typedArrayFromHeap(a);
  const ib = backend.typedArrayFromHeap(b);
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  for (let r = 0; r < R; r++) {
    const pa = ia[r] * W,
      pb = ib[r] * W,
      po = r * W;
    for (let j = 0; j < W; j++) o[po + j] = t[pa + j] + t[pb + j];
  }
  return out;
};

/** Kernel name → implementation; `original` is undefined for kernels wasm does not register. */
export const JS_KERNELS: Record<string, JsKernel> = {
  Identity: identity,
  Cast: cast,
  Transpose: transpose,
  Tile: tile,
  GatherV2: gatherV2,
  UnsortedSegmentSum: unsortedSegmentSum,
  Sum: leadingReduction('sum'),
  Mean: leadingReduction('mean'),
  Max: leadingReduction('max'),
  // Fused softmax cross-entropy, forward and backward (./softmax-xent.ts); wasm has no such kernel.
  [SOFTMAX_XENT]: () => softmaxXentForward,
  [SOFTMAX_XENT_GRAD]: () => softmaxXentGrad,
  // Fused Adam / AdamW update of one parameter (./adam-kernel.ts); bit-identical to the ops.
  [ADAM_UPDATE]: () => adamUpdate,
  [GATHER_ADD_ROWS]: gatherAddRows,
};
