import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { activeSgemm } from './blas.ts';

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
  const info = backend_util.segment_util.collectGatherOpShapeInfo(
    x as never,
    indices as never,
    parsedAxis,
    batchDims,
  );
  const { batchSize, outerSize, dimSize, sliceSize, outputShape } = info;
  const idx = backend.typedArrayFromHeap(indices);
  const perBatch = idx.length / batchSize;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (!(v >= 0 && v < dimSize)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dimSize - 1}]`);
  }
  const out = backend.makeOutput(outputShape, x.dtype);
  if (util.sizeFromShape(outputShape) === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const ids = backend.typedArrayFromHeap(indices); // re-read: makeOutput may have moved the heap
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let outer = 0; outer < outerSize; outer++) {
      const base = (b * outerSize + outer) * dimSize;
      for (let i = 0; i < perBatch; i++) {
        const from = (base + ids[b * perBatch + i]) * sliceSize;
        dst.set(src.subarray(from, from + sliceSize), o);
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
    const axes = util.parseAxisParam((kind === 'max' ? attrs.reductionIndices : attrs.axis) as number | number[], x.shape).sort((a, b) => a - b);
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

/** Kernel name → implementation; `original` is undefined for kernels wasm does not register. */
export const JS_KERNELS: Record<string, JsKernel> = {
  Identity: identity,
  Cast: cast,
  Tile: tile,
  GatherV2: gatherV2,
  UnsortedSegmentSum: unsortedSegmentSum,
  Sum: leadingReduction('sum'),
  Mean: leadingReduction('mean'),
  Max: leadingReduction('max'),
};
