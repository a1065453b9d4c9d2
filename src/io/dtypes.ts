/**
 * Safetensors element types and their little-endian byte codecs.
 *
 * What each dtype decodes to:
 *   F32 → Float32Array, F64 → Float64Array,
 *   F16, BF16, F8_E5M2, F8_E4M3 → Float32Array (widened; every value is exact in F32),
 *   I8/I16/I32 → Int8/Int16/Int32Array, U8/U16/U32 → Uint8/Uint16/Uint32Array,
 *   I64, U64 → Float64Array, and the file is rejected if a value is beyond ±(2^53 − 1): the
 *     value could not be held exactly and we refuse to round silently. Keeping every decoded
 *     tensor an ArrayLike<number> lets callers treat all of them alike.
 *   BOOL → Uint8Array of 0/1; any other byte is rejected.
 * F8_E4M3 is the "fn" variant (PyTorch float8_e4m3fn: no infinities, NaN = 0x7f/0xff).
 */

export type DType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'I64'
  | 'U64'
  | 'F64';

/** The dtypes encodeSafetensors writes: all groklens needs (parameters, optimizer state, indices, masks). */
export type WritableDType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'BOOL';

export type TensorData =
  Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

const SIZES: ReadonlyMap<DType, number> = new Map<DType, number>([
  ['BOOL', 1],
  ['U8', 1],
  ['I8', 1],
  ['F8_E5M2', 1],
  ['F8_E4M3', 1],
  ['I16', 2],
  ['U16', 2],
  ['F16', 2],
  ['BF16', 2],
  ['I32', 4],
  ['U32', 4],
  ['F32', 4],
  ['I64', 8],
  ['U64', 8],
  ['F64', 8],
]);

export const DTYPES: readonly DType[] = [...SIZES.keys()];

/** A Map, not an object: `"toString"` or `"__proto__"` in a file must not look like a dtype. */
export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && SIZES.has(x as DType);
}

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  return SIZES.get(dtype)!;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type NativeCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  BYTES_PER_ELEMENT: number;
};

/**
 * Little-endian bytes → typed array of `ctor`. A view when the bytes are aligned and the platform
 * is little-endian (so the result shares memory with `bytes`), else an aligned (byte-swapped) copy.
 */
function viewOrCopy<T extends TensorData>(bytes: Uint8Array, ctor: NativeCtor): T {
  const size = ctor.BYTES_PER_ELEMENT;
  const n = bytes.byteLength / size;
  if (LITTLE_ENDIAN && bytes.byteOffset % size === 0) return new ctor(bytes.buffer, bytes.byteOffset, n) as T;
  const copy = new Uint8Array(bytes.byteLength); // not bytes.slice(): on a Node Buffer that is a view
  copy.set(bytes);
  if (!LITTLE_ENDIAN) swapBytes(copy, size);
  return new ctor(copy.buffer, 0, n) as T;
}

/** Reverse the bytes of every `size`-byte element in place (little- ↔ big-endian). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Decode one tensor's bytes (exactly its byte range; length already checked to be a multiple of the
 * element size). `fail` reports a bad value and must throw.
 */
export function decodeTensorData(bytes: Uint8Array, dtype: DType, fail: (problem: string) => never): TensorData {
  switch (dtype) {
    case 'F32':
      return viewOrCopy(bytes, Float32Array);
    case 'F64':
      return viewOrCopy(bytes, Float64Array);
    case 'I8':
      return viewOrCopy(bytes, Int8Array);
    case 'I16':
      return viewOrCopy(bytes, Int16Array);
    case 'I32':
      return viewOrCopy(bytes, Int32Array);
    case 'U8':
      return viewOrCopy(bytes, Uint8Array);
    case 'U16':
      return viewOrCopy(bytes, Uint16Array);
    case 'U32':
      return viewOrCopy(bytes, Uint32Array);
    case 'BOOL': {
      const out = viewOrCopy<Uint8Array>(bytes, Uint8Array);
      const i = out.findIndex((v) => v > 1);
      if (i >= 0) fail(`BOOL element ${i} is byte ${out[i]}, expected 0 or 1`);
      return out;
    }
    case 'F16': {
      const half = viewOrCopy<Uint16Array>(bytes, Uint16Array);
      const out = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = halfToNumber(half[i]);
      return out;
    }
    case 'BF16': {
      const half = viewOrCopy<Uint16Array>(bytes, Uint16Array);
      const bits = new Uint32Array(half.length);
      for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16; // bf16 is the top half of an f32
      return new Float32Array(bits.buffer);
    }
    case 'F8_E5M2': {
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) out[i] = halfToNumber(bytes[i] << 8); // e5m2 is the top byte of an f16
      return out;
    }
    case 'F8_E4M3': {
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) out[i] = e4m3fnToNumber(bytes[i]);
      return out;
    }
    case 'I64':
    case 'U64': {
      const wide = dtype === 'I64' ? viewOrCopy64(bytes, BigInt64Array) : viewOrCopy64(bytes, BigUint64Array);
      const out = new Float64Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = wide[i];
        if (v > MAX_SAFE || v < -MAX_SAFE)
          fail(`${dtype} element ${i} is ${v}, beyond ±(2^53 − 1), which groklens cannot hold exactly`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function viewOrCopy64(
  bytes: Uint8Array,
  ctor: typeof BigInt64Array | typeof BigUint64Array,
): BigInt64Array | BigUint64Array {
  return viewOrCopy(bytes, ctor as unknown as NativeCtor) as unknown as BigInt64Array | BigUint64Array;
}

/** IEEE 754 binary16 bits → number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float8_e4m3fn bits → number: bias 7, no infinities, S.1111.111 is NaN. */
export function e4m3fnToNumber(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >>> 3) & 0xf;
  const mant = b & 0x7;
  if (exp === 0xf && mant === 0x7) return NaN;
  if (exp === 0) return sign * mant * 2 ** -9;
  return sign * (1 + mant / 8) * 2 ** (exp - 7);
}

/** The typed array each writable dtype takes. I64 also takes a Float64Array of safe integers. */
export type WritableData = {
  F32: Float32Array;
  F64: Float64Array;
  I32: Int32Array;
  I64: BigInt64Array | Float64Array;
  U8: Uint8Array;
  BOOL: Uint8Array; // 0 or 1 per element
};

const WRITABLE_CTORS: ReadonlyMap<WritableDType, readonly Function[]> = new Map<WritableDType, readonly Function[]>([
  ['F32', [Float32Array]],
  ['F64', [Float64Array]],
  ['I32', [Int32Array]],
  ['I64', [BigInt64Array, Float64Array]],
  ['U8', [Uint8Array]],
  ['BOOL', [Uint8Array]],
]);

export function isWritableDType(x: unknown): x is WritableDType {
  return typeof x === 'string' && WRITABLE_CTORS.has(x as WritableDType);
}

/** Names of the array types `dtype` accepts, or null if `data` is one of them. */
export function wrongArrayType(dtype: WritableDType, data: unknown): string | null {
  const ctors = WRITABLE_CTORS.get(dtype)!;
  if (ctors.some((c) => data instanceof c)) return null;
  return ctors.map((c) => c.name).join(' or ');
}

/**
 * Little-endian bytes of `data` as `dtype` (type already checked with wrongArrayType). Returns a
 * view of `data` where possible. An I64 Float64Array must hold safe integers; `fail` reports one
 * that does not and must throw.
 */
export function encodeTensorData(
  dtype: WritableDType,
  data: WritableData[WritableDType],
  fail: (problem: string) => never,
): Uint8Array {
  let source: TensorData | BigInt64Array = data;
  if (dtype === 'I64' && data instanceof Float64Array) {
    const wide = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isSafeInteger(data[i]))
        fail(`I64 element ${i} is ${data[i]}, expected an integer within ±(2^53 − 1)`);
      wide[i] = BigInt(data[i]);
    }
    source = wide;
  }
  if (dtype === 'BOOL') {
    const i = (data as Uint8Array).findIndex((v) => v > 1);
    if (i >= 0) fail(`BOOL element ${i} is ${data[i]}, expected 0 or 1`);
  }
  const bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  swapBytes(copy, dtypeSize(dtype));
  return copy;
}
