/**
 * Decoders for the text arguments of pickle protocols 0 and 1 (INT, LONG, FLOAT, STRING, UNICODE,
 * GET/PUT): CPython writes them as newline-terminated ASCII. Each throws PickleDataError on a
 * malformed argument, never returns a guess.
 */
import { PickleDataError } from './pickle-values.ts';

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A decimal integer (optional sign, optional trailing 'L' as Python 2 wrote longs). */
export function parseDecimal(line: Uint8Array, what: string): number | bigint {
  let s = latin1.decode(line);
  if (s.endsWith('L')) s = s.slice(0, -1);
  if (s.length > 2 * MAX_LONG_BYTES)
    throw new PickleDataError(`${what}: a ${s.length}-digit integer is longer than we decode`);
  if (!/^[+-]?\d+$/.test(s)) throw new PickleDataError(`${what}: expected a decimal integer, got '${clip(s)}'`);
  const big = BigInt(s);
  return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** FLOAT's argument: Python's repr of a float, including nan, inf, -inf. */
export function parseFloatText(line: Uint8Array): number {
  const s = latin1.decode(line).trim().toLowerCase();
  if (s === 'nan' || s === '-nan') return NaN;
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s))
    throw new PickleDataError(`FLOAT: expected a decimal number, got '${clip(s)}'`);
  return Number(s);
}

/** A memo index of GET/PUT: a non-negative decimal. */
export function parseIndex(line: Uint8Array, what: string): number {
  const v = parseDecimal(line, what);
  if (typeof v !== 'number' || v < 0) throw new PickleDataError(`${what}: memo index ${v} is out of range`);
  return v;
}

/**
 * UNICODE's argument, encoded 'raw-unicode-escape': latin-1 bytes in which \uXXXX and \UXXXXXXXX
 * stand for other code points (and nothing else is an escape).
 */
export function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x5c && i + 1 < bytes.length && (bytes[i + 1] === 0x75 || bytes[i + 1] === 0x55)) {
      // An escape only if preceded by an even number of backslashes (\\u is a literal backslash + u).
      let run = 0;
      for (let j = i - 1; j >= 0 && bytes[j] === 0x5c; j--) run++;
      if (run % 2 === 0) {
        const n = bytes[i + 1] === 0x75 ? 4 : 8;
        const hex = latin1.decode(bytes.subarray(i + 2, i + 2 + n));
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex))
          throw new PickleDataError(`UNICODE: truncated \\${n === 4 ? 'u' : 'U'} escape`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw new PickleDataError(`UNICODE: \\U${hex} is beyond U+10FFFF`);
        out += String.fromCodePoint(cp);
        i += 1 + n;
        continue;
      }
    }
    out += String.fromCharCode(b);
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  v: 0x0b,
};

/**
 * STRING's argument: a Python 2 str literal in quotes, with backslash escapes, as bytes. torch.load
 * decodes Python 2 strings as UTF-8, and so do we (see utf8Text).
 */
export function decodeQuotedString(line: Uint8Array): Uint8Array {
  const s = latin1.decode(line);
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q)
    throw new PickleDataError('STRING: the argument is not quoted');
  const body = s.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new PickleDataError('STRING: ends with a lone backslash');
    if (e in SIMPLE_ESCAPES) out.push(SIMPLE_ESCAPES[e]);
    else if (e === '\n')
      continue; // line continuation
    else if (e === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new PickleDataError('STRING: bad \\x escape');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      let oct = e;
      while (oct.length < 3 && body[i + 1] >= '0' && body[i + 1] <= '7') oct += body[++i];
      out.push(parseInt(oct, 8) & 0xff);
    } else out.push(0x5c, e.charCodeAt(0)); // Python keeps unknown escapes as they are
  }
  return Uint8Array.from(out);
}

/** UTF-8 → string, strictly (a malformed sequence is an error, not U+FFFD). */
export function utf8Text(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new PickleDataError(`the ${bytes.length}-byte string is not valid UTF-8`);
  }
}

/** The longest LONG1/LONG4 argument we decode: far beyond any integer a checkpoint holds. */
export const MAX_LONG_BYTES = 4096;

/** Two's-complement little-endian bytes (LONG1/LONG4) → number or bigint. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  if (bytes.length > MAX_LONG_BYTES)
    throw new PickleDataError(`an integer of ${bytes.length} bytes is longer than the ${MAX_LONG_BYTES} we decode`);
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i].toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}
