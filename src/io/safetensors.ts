/**
 * Checkpoints as safetensors files (https://huggingface.co/docs/safetensors): the format PyTorch,
 * JAX and TransformerLens users can already open. Writing is deterministic (same tensors, same
 * bytes) and atomic; reading validates the whole file and turns every defect into a FormatError
 * that names the file and the problem. Layout and validation rules: safetensors-header.ts; what
 * each dtype decodes to: dtypes.ts.
 */
import { constants as bufferConstants } from 'node:buffer';
import { FormatError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import {
  decodeTensorData,
  dtypeSize,
  encodeTensorData,
  isWritableDType,
  wrongArrayType,
  type DType,
  type TensorData,
  type WritableData,
  type WritableDType,
} from './dtypes.ts';
import { readExactly, withRegularFile } from './regular-file.ts';
import { parseHeader, parseLengthPrefix, setOwn, type SafetensorsHeader } from './safetensors-header.ts';
import { nameText } from './json-file.ts';

export type { DType, TensorData, WritableDType } from './dtypes.ts';
export { MAX_HEADER_LENGTH, type HeaderEntry, type SafetensorsHeader } from './safetensors-header.ts';
export { formatInspect } from './inspect.ts';

/** A decoded tensor. `data` is row-major, length = product of `shape` (1 for a scalar, shape []). */
export interface TensorEntry {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** A tensor to write. I64 takes a BigInt64Array, or a Float64Array of safe integers. */
export type TensorInput = { [D in WritableDType]: { dtype: D; shape: number[]; data: WritableData[D] } }[WritableDType];

export interface DecodedSafetensors {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
  order: string[]; // tensor names in data order = the order they were written in
}

/**
 * Serialise tensors, in the order of `tensors`' keys, plus optional string metadata (written first,
 * keys sorted, omitted when empty). The JSON header is padded with spaces to a multiple of 8 bytes,
 * so the data buffer starts 8-byte aligned; tensors follow each other with no padding (the format
 * requires contiguous ranges), so a tensor after an odd-sized U8 one may be unaligned, which the
 * reader handles by copying. Throws (a bug in the caller, not a user error) on a dtype/array-type
 * mismatch, a bad shape or a shape that does not match the data length.
 */
export function encodeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length > 0) {
    for (const k of metaKeys) {
      if (typeof metadata[k] !== 'string')
        throw new Error(`encodeSafetensors: metadata '${k}': value must be a string, got ${typeof metadata[k]}`);
    }
    parts.push(
      `"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    );
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const fail = (problem: string): never => {
      throw new Error(`encodeSafetensors: tensor '${name}': ${problem}`);
    };
    if (name === '__metadata__') fail('this name is reserved for the metadata');
    if (typeof t !== 'object' || t === null) fail(`expected { dtype, shape, data }, got ${String(t)}`);
    if (!isWritableDType(t.dtype))
      fail(`cannot write dtype ${JSON.stringify(t.dtype)} (writable: F32, F64, I32, I64, U8, BOOL)`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    const expected = wrongArrayType(t.dtype, t.data);
    if (expected) fail(`${t.dtype} data must be a ${expected}, got ${describeArray(t.data)}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      const size = dtypeSize(t.dtype);
      fail(
        `shape [${t.shape.join(',')}] × ${t.dtype} needs ${count} elements (${count * size} bytes) but data has ${t.data.length} (${t.data.length * size} bytes)`,
      );
    }
    const bytes = encodeTensorData(t.dtype, t.data, fail);
    const info = `{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes.length}]}`;
    parts.push(`${JSON.stringify(name)}:${info}`);
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // space padding
  let pos = 8 + headerLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/**
 * Decode a whole safetensors file held in memory; `file` names it in errors. Tensor data are views
 * into `bytes` where aligned (so they share memory with it), copies otherwise.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const headerLength = parseLengthPrefix(bytes.subarray(0, 8), bytes.length, file);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.length - 8 - headerLength, file);
  return decodeData(header, bytes.subarray(8 + headerLength), file);
}

/**
 * Read and decode a safetensors file. Reads the length prefix first and checks it against the file
 * size, then the header, validates it, and only then reads the data into one buffer of the file's
 * real size (the tensors are views into it).
 */
export function readSafetensors(file: string): DecodedSafetensors {
  return withRegularFile(file, (fd, size) => {
    const header = readHeaderFrom(fd, size, file);
    if (header.dataLength > bufferConstants.MAX_LENGTH) {
      throw new FormatError(
        file,
        `${header.dataLength} bytes of tensor data is more than this runtime can load at once`,
      );
    }
    const data = new Uint8Array(header.dataLength);
    readExactly(fd, data, 8 + header.headerLength, file);
    return decodeData(header, data, file);
  });
}

/** The validated header and metadata of a safetensors file, without reading any tensor data. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  return withRegularFile(file, (fd, size) => readHeaderFrom(fd, size, file));
}

/** Encode and write atomically (see encodeSafetensors for ordering and determinism). */
export function writeSafetensors(
  file: string,
  tensors: Record<string, TensorInput>,
  metadata: Record<string, string> = {},
): void {
  let bytes: Uint8Array;
  try {
    bytes = encodeSafetensors(tensors, metadata);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  writeFileAtomic(file, bytes);
}

function decodeData(header: SafetensorsHeader, data: Uint8Array, file: string): DecodedSafetensors {
  const tensors: Record<string, TensorEntry> = {};
  for (const e of header.entries) {
    const fail = (problem: string): never => {
      throw new FormatError(file, `tensor '${nameText(e.name)}': ${problem}`);
    };
    setOwn(tensors, e.name, {
      dtype: e.dtype,
      shape: e.shape,
      data: decodeTensorData(data.subarray(e.begin, e.end), e.dtype, fail),
    });
  }
  return { tensors, metadata: header.metadata, order: header.entries.map((e) => e.name) };
}

function readHeaderFrom(fd: number, size: number, file: string): SafetensorsHeader {
  const prefix = new Uint8Array(8);
  if (size >= 8) readExactly(fd, prefix, 0, file);
  const headerLength = parseLengthPrefix(prefix, size, file); // bounded by the real file size and the cap
  const headerBytes = new Uint8Array(headerLength);
  readExactly(fd, headerBytes, 8, file);
  return parseHeader(headerBytes, size - 8 - headerLength, file);
}

function describeArray(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return typeof x;
}
