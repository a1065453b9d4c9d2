/**
 * A minimal PNG encoder for heatmap rasters: 8-bit indexed colour, zlib stream of *stored*
 * (uncompressed) deflate blocks. Stored blocks make the bytes a pure function of the pixels — no
 * compressor version can change a snapshot — and a heatmap of a few tens of thousands of cells
 * stays a few tens of kilobytes. Embedded in SVG as a data: URL, so the report makes no request.
 */

import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** zlib stream (RFC 1950) holding `data` in stored deflate blocks (RFC 1951 §3.2.4). */
export function zlibStored(data: Uint8Array): Uint8Array {
  const MAX = 65535;
  const nBlocks = Math.max(1, Math.ceil(data.length / MAX));
  const out = new Uint8Array(2 + nBlocks * 5 + data.length + 4);
  out[0] = 0x78; // CM 8, CINFO 7
  out[1] = 0x01; // FCHECK so that (0x78·256 + 0x01) % 31 == 0, no dictionary, fastest level
  let o = 2;
  for (let b = 0; b < nBlocks; b++) {
    const from = b * MAX;
    const len = Math.min(MAX, data.length - from);
    out[o++] = b === nBlocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(from, from + len), o);
    o += len;
  }
  const ad = adler32(data);
  out[o++] = ad >>> 24;
  out[o++] = (ad >>> 16) & 0xff;
  out[o++] = (ad >>> 8) & 0xff;
  out[o++] = ad & 0xff;
  return out;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out, 4, 8 + body.length));
  return out;
}

/**
 * Encode a width × height image of palette indices (row-major, top row first) as PNG bytes.
 * `palette` holds at most 256 [r, g, b] entries; every index must be < palette.length.
 * `transparent`: a palette index drawn fully transparent (gaps in the data).
 */
export function encodeIndexedPng(
  width: number,
  height: number,
  indices: Uint8Array,
  palette: [number, number, number][],
  transparent?: number,
  opts: { compress?: boolean; bitDepth?: 4 | 8 } = {},
): Uint8Array {
  const depth = opts.bitDepth ?? 8;
  if (depth === 4 && palette.length > 16)
    throw new RangeError(`png: a 4-bit image has at most 16 palette entries, got ${palette.length}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`png: size must be positive integers, got ${width} × ${height}`);
  }
  if (indices.length !== width * height)
    throw new RangeError(`png: expected ${width * height} indices, got ${indices.length}`);
  if (palette.length < 1 || palette.length > 256)
    throw new RangeError(`png: palette must have 1–256 entries, got ${palette.length}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = depth; // bit depth
  ihdr[9] = 3; // colour type: indexed
  // compression, filter, interlace: 0
  const plte = new Uint8Array(palette.length * 3);
  palette.forEach(([r, g, b], i) => plte.set([r, g, b], i * 3));
  const rowBytes = depth === 8 ? width : Math.ceil(width / 2);
  const raw = new Uint8Array(height * (rowBytes + 1)); // filter byte 0 (None) before each row
  for (let y = 0; y < height; y++) {
    if (depth === 8) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
    else
      for (let x = 0; x < width; x++)
        raw[y * (rowBytes + 1) + 1 + (x >> 1)] |= (indices[y * width + x] & 0x0f) << (x & 1 ? 0 : 4); // high nibble first
  }
  for (const i of indices)
    if (i >= palette.length) throw new RangeError(`png: index ${i} outside a palette of ${palette.length}`);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', plte),
    ...(transparent === undefined ? [] : [chunk('tRNS', alphaTable(palette.length, transparent))]),
    chunk('IDAT', opts.compress ? deflateFiltered(raw, rowBytes, height, 1) : zlibStored(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const pngDataUrl = (png: Uint8Array): string => 'data:image/png;base64,' + Buffer.from(png).toString('base64');

/**
 * The image data deflated (node's zlib, level 9) under whichever single PNG filter — None, Sub or
 * Up on every row — gives the fewest bytes. For the explorer's grids, where the size budget
 * matters more than bytes independent of the zlib version (the charts keep stored blocks).
 */
function deflateFiltered(raw: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width + 1; // width in bytes; bpp: bytes per complete pixel, at least 1 (PNG's rule)
  let best: Uint8Array | null = null;
  for (const filter of [0, 1, 2]) {
    const f = new Uint8Array(raw.length);
    for (let y = 0; y < height; y++) {
      const o = y * stride;
      f[o] = filter;
      for (let x = 1; x <= width; x++) {
        const v = raw[o + x];
        const pred =
          filter === 1 ? (x > bpp ? raw[o + x - bpp] : 0) : filter === 2 ? (y > 0 ? raw[o - stride + x] : 0) : 0;
        f[o + x] = (v - pred) & 0xff;
      }
    }
    const z = deflateSync(f, { level: 9 });
    if (!best || z.length < best.length) best = new Uint8Array(z);
  }
  return best!;
}

/** tRNS for an indexed image: every entry opaque except `transparent`. */
function alphaTable(n: number, transparent: number): Uint8Array {
  if (!Number.isInteger(transparent) || transparent < 0 || transparent >= n)
    throw new RangeError(`png: transparent index ${transparent} outside a palette of ${n}`);
  const t = new Uint8Array(transparent + 1).fill(255);
  t[transparent] = 0;
  return t;
}
