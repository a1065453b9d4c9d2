/**
 * A TensorRef + its storage's bytes → a contiguous tensor. Torch tensors are views: an element
 * offset into a storage plus a size and a stride per dimension (a transposed matrix has strides
 * (1, rows), a slice an offset, an expand() a stride of 0), and several tensors may share one
 * storage. Each tensor is copied out in row-major order, after checking that every element it
 * addresses lies inside its storage.
 *
 * What each dtype decodes to (as in dtypes.ts): F32, F16, BF16, F8 → Float32Array (widened,
 * exact), F64 → Float64Array, I8/I16/I32 → Int8/Int16/Int32Array, U8/U16/U32 → Uint8/16/32Array,
 * BOOL → Uint8Array of 0/1, and unlike safetensors' reader I64 → BigInt64Array, U64 →
 * BigUint64Array: exact for every value (indices, counters), with no range check to fail.
 */
import { decodeTensorData, swapBytes, type DType, type TensorData } from './dtypes.ts';
import type { PyObject } from './pickle-values.ts';
import type { TensorRef } from './torch-globals.ts';

export type TorchTensorData = TensorData | BigInt64Array | BigUint64Array;

/** A tensor read from a torch file: row-major `data` of length = product of `shape` (1 for []). */
export class TorchTensor implements PyObject {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    readonly data: TorchTensorData,
    readonly requiresGrad: boolean,
    readonly isParameter: boolean, // saved as an nn.Parameter
  ) {}
}

/** The number of elements, or an error past Number's exact range. */
export function elementCount(shape: readonly number[], fail: (problem: string) => never): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) fail(`shape [${shape.join(', ')}] has more elements than can be counted exactly`);
  }
  return n;
}

/**
 * Copy `ref` out of `storage` (the bytes of the storage it views: the whole root storage, or for a
 * legacy storage view the part of it the view covers). `maxBytes` bounds the copy; an expanded
 * view (stride 0) can address far more elements than its storage holds.
 */
export function materialise(
  ref: TensorRef,
  storage: Uint8Array,
  bigEndian: boolean,
  maxBytes: number,
  fail: (problem: string) => never,
): TorchTensor {
  const dtype = ref.dtype.dtype;
  if (dtype === null) return fail(`has dtype torch.${ref.dtype.name}, which groklens cannot read`);
  const item = ref.dtype.itemSize;
  const { size, stride, offset } = ref;
  const numel = elementCount(size, fail);
  const outBytes = numel * item;
  if (outBytes > maxBytes)
    fail(`has ${numel} elements (${outBytes} bytes), more than the ${maxBytes} bytes allowed for one tensor`);
  if (storage.length % item !== 0)
    fail(`its storage has ${storage.length} bytes, not a whole number of ${item}-byte ${ref.dtype.name} elements`);
  const available = storage.length / item;
  if (numel > 0) {
    let last = offset;
    for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
    if (!Number.isSafeInteger(last) || last >= available) {
      fail(
        `size [${size.join(', ')}], stride [${stride.join(', ')}] and offset ${offset} reach element ${last}, but its storage has ${available}`,
      );
    }
  }
  const out = new Uint8Array(outBytes);
  gather(storage, out, item, offset, size, stride);
  if (bigEndian) swapBytes(out, item);
  return new TorchTensor(dtype, [...size], decode(out, dtype, fail), ref.requiresGrad, ref.isParameter);
}

/** Row-major copy of the strided elements; runs along a unit-stride last dimension are copied whole. */
function gather(
  src: Uint8Array,
  out: Uint8Array,
  item: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
): void {
  const numel = out.length / item;
  if (numel === 0) return;
  if (isContiguous(size, stride)) {
    out.set(src.subarray(offset * item, (offset + numel) * item));
    return;
  }
  const nd = size.length;
  const inner = size[nd - 1];
  const innerStride = stride[nd - 1];
  const runBytes = inner * item;
  const outer = numel / inner;
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  let base = offset; // element index of the start of the current run
  let dst = 0;
  for (let r = 0; r < outer; r++) {
    if (innerStride === 1) {
      out.set(src.subarray(base * item, base * item + runBytes), dst);
      dst += runBytes;
    } else {
      for (let i = 0, s = base * item; i < inner; i++, s += innerStride * item) {
        for (let b = 0; b < item; b++) out[dst++] = src[s + b];
      }
    }
    // Advance the odometer over the outer dimensions.
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < size[d]) break;
      base -= stride[d] * size[d];
      idx[d] = 0;
    }
  }
}

/** Row-major contiguous: dimensions of size 1 may have any stride. */
function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d];
  }
  return true;
}

function decode(bytes: Uint8Array, dtype: DType, fail: (problem: string) => never): TorchTensorData {
  // `bytes` is a fresh buffer starting at offset 0, so these are aligned views, not copies.
  if (dtype === 'I64') return new BigInt64Array(bytes.buffer, 0, bytes.length / 8);
  if (dtype === 'U64') return new BigUint64Array(bytes.buffer, 0, bytes.length / 8);
  return decodeTensorData(bytes, dtype, fail);
}
