/**
 * Parsing and validating a safetensors header. Layout of a file:
 *
 *   [8 bytes]  N, little-endian u64
 *   [N bytes]  UTF-8 JSON object, possibly padded with trailing spaces:
 *              { "<tensor name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] },
 *                "__metadata__": { "<key>": "<string value>" } }   (metadata optional)
 *   [rest]     the data buffer; offsets are relative to its start
 *
 * Everything is checked before any tensor byte is touched, and every allocation is bounded by the
 * real size of the file, never by a number the header claims. Like the reference implementation we
 * require the tensors to tile the data buffer exactly: no overlaps, no gaps, no trailing bytes.
 * Unknown keys in a tensor entry are rejected too (the reference ignores them; a checkpoint reader
 * that skips what it does not understand can misread what it does).
 */
import { FormatError } from '../errors.ts';
import { DTYPES, dtypeSize, isDType, type DType } from './dtypes.ts';
import { parseJson } from '../config/json.ts';
import { nameText, preview } from './json-file.ts';

/** Headers longer than this are refused outright (the reference implementation's limit too). */
export const MAX_HEADER_LENGTH = 100_000_000;

export interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number; // byte range [begin, end) within the data buffer
  end: number;
}

export interface SafetensorsHeader {
  entries: HeaderEntry[]; // in data order, which is the order the writer gave them
  metadata: Record<string, string>;
  headerLength: number; // N: bytes of JSON, padding included
  dataLength: number; // bytes of tensor data after the header
}

const ENTRY_KEYS = new Set(['dtype', 'shape', 'data_offsets']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Read N from the 8-byte prefix of a file of `fileLength` bytes, checking it fits the file. */
export function parseLengthPrefix(prefix: Uint8Array, fileLength: number, file: string): number {
  if (fileLength < 8 || prefix.length < 8) {
    throw new FormatError(
      file,
      `file is ${fileLength} bytes, too short for the 8-byte header length that starts a safetensors file`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_LENGTH)) {
    throw new FormatError(
      file,
      `header length ${n} exceeds the ${MAX_HEADER_LENGTH}-byte limit: not a safetensors file, or a corrupt one`,
    );
  }
  const length = Number(n);
  if (length > fileLength - 8) {
    throw new FormatError(
      file,
      `header length ${length} runs past the end of the file (only ${fileLength - 8} bytes follow the length prefix)`,
    );
  }
  return length;
}

/** Parse and validate the N header bytes against a data buffer of `dataLength` bytes. */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new FormatError(file, problem);
  };
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8');
  }
  const parsed = parseJson(text);
  if (!parsed.ok)
    return fail(
      `header is not valid JSON: ${parsed.error.reason} (line ${parsed.error.line}, column ${parsed.error.column})`,
    );
  const json = parsed.value;
  if (!isPlainObject(json)) return fail(`header must be a JSON object, got ${describe(json)}`);
  // JSON.parse keeps the last of two equal keys: a second "__metadata__" or a tensor named twice
  // would silently replace the first. Refuse them instead.
  const dup = duplicateKey(text);
  if (dup) {
    const where =
      dup.within === null
        ? 'header'
        : dup.within === '__metadata__'
          ? '__metadata__'
          : `tensor '${nameText(dup.within)}'`;
    return fail(
      `${where}: key "${nameText(dup.key)}" appears twice (each key may appear once; JSON readers would keep only the last)`,
    );
  }

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(name, value, fail));
  }
  // Stable sort: ties (empty tensors at one offset) keep the header's order.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkTiling(entries, dataLength, fail);
  return { entries, metadata, headerLength: headerBytes.length, dataLength };
}

function parseMetadata(value: unknown, fail: (p: string) => never): Record<string, string> {
  if (value === null) return {}; // the reference writes/accepts a null metadata
  if (!isPlainObject(value))
    return fail(`__metadata__ must be an object mapping strings to strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__ '${nameText(key)}': value must be a string, got ${describe(v)}`);
    setOwn(out, key, v as string);
  }
  return out;
}

function parseEntry(name: string, value: unknown, fail: (p: string) => never): HeaderEntry {
  const where = `tensor '${nameText(name)}'`;
  if (!isPlainObject(value))
    return fail(`${where}: entry must be an object with dtype, shape and data_offsets, got ${describe(value)}`);
  for (const key of Object.keys(value))
    if (!ENTRY_KEYS.has(key)) fail(`${where}: unexpected key '${nameText(key)}' (expected dtype, shape, data_offsets)`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype === undefined) fail(`${where}: missing dtype`);
  if (!isDType(dtype)) return fail(`${where}: unknown dtype ${describe(dtype)} (expected one of ${DTYPES.join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    return fail(`${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    return fail(
      `${where}: data_offsets must be two non-negative integers [begin, end] with begin ≤ end, got ${describe(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const dims = shape as number[];
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER)
      fail(`${where}: shape [${dims.join(',')}] has more elements than can be counted exactly`);
  }
  const needed = count * dtypeSize(dtype);
  if (needed !== end - begin) {
    fail(`${where}: shape [${dims.join(',')}] × ${dtype} needs ${needed} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: dims.slice(), begin, end };
}

/** The sorted ranges must tile [0, dataLength) exactly; report the most telling violation. */
function checkTiling(entries: HeaderEntry[], dataLength: number, fail: (p: string) => never): void {
  let covered = 0; // end of the ranges seen so far
  let prev: HeaderEntry | null = null;
  let gap: [number, number] | null = null;
  for (const e of entries) {
    if (prev && e.begin < covered) {
      fail(
        `tensors '${nameText(prev.name)}' [${prev.begin}, ${prev.end}] and '${nameText(e.name)}' [${e.begin}, ${e.end}] overlap`,
      );
    }
    if (e.begin > covered && !gap) gap = [covered, e.begin];
    covered = e.end;
    prev = e;
  }
  if (covered > dataLength) {
    const cut = entries.find((e) => e.end > dataLength)!;
    if (!gap) {
      fail(
        `file is truncated: the header describes ${covered} bytes of tensor data but only ${dataLength} are present ` +
          `(tensor '${nameText(cut.name)}' [${cut.begin}, ${cut.end}] is cut off)`,
      );
    }
    fail(
      `tensor '${nameText(cut.name)}': data_offsets [${cut.begin}, ${cut.end}] lie outside the ${dataLength}-byte data buffer`,
    );
  }
  if (gap)
    fail(`bytes [${gap[0]}, ${gap[1]}) of the data buffer belong to no tensor (tensors must cover it contiguously)`);
  if (covered < dataLength) {
    fail(
      `${dataLength - covered} bytes after the last tensor belong to no tensor (tensors end at ${covered}, data buffer is ${dataLength} bytes)`,
    );
  }
}

/**
 * The first key that appears twice in one object of a valid JSON text, and the top-level key of
 * the object it is in (null for the top level itself). A linear scan of the text: JSON.parse has
 * already checked it, so only strings, colons and brackets matter here.
 */
export function duplicateKey(text: string): { key: string; within: string | null } | null {
  const objects: (Set<string> | null)[] = []; // per open bracket: the keys seen ({) or null ([)
  let within: string | null = null; // the top-level key of the depth-1 value being scanned
  let lastKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else if (d === 0x22) break;
        else j++;
      }
      let k = j + 1;
      while (
        k < text.length &&
        (text.charCodeAt(k) === 0x20 ||
          text.charCodeAt(k) === 0x0a ||
          text.charCodeAt(k) === 0x0d ||
          text.charCodeAt(k) === 0x09)
      )
        k++;
      if (text.charCodeAt(k) === 0x3a /* : */) {
        const key: string = escaped ? JSON.parse(text.slice(i, j + 1)) : text.slice(i + 1, j);
        const keys = objects[objects.length - 1];
        if (keys) {
          if (keys.has(key)) return { key, within: objects.length === 1 ? null : within };
          keys.add(key);
        }
        lastKey = key;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (objects.length === 1) within = lastKey;
      objects.push(c === 0x7b ? new Set() : null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      objects.pop();
    }
  }
  return null;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A short description of a JSON value for error messages; never throws. */
export function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array ${preview(x)}`;
  if (typeof x === 'object') return `an object ${preview(x)}`;
  return `${typeof x} ${preview(x)}`;
}

/** obj[key] = value, as an own property even for '__proto__'. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
