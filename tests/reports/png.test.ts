/** The PNG encoder against node:zlib (inflate checks our stored blocks and Adler-32; crc32 is the oracle for chunk CRCs). */
import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, crc32, encodeIndexedPng, zlibStored } from '../../reports/png.ts';
import { Rng } from '../../src/rng.ts';

function chunks(png: Uint8Array): { type: string; body: Uint8Array; crc: number; crcOk: boolean }[] {
  const v = new DataView(png.buffer, png.byteOffset);
  const out = [];
  let o = 8;
  while (o < png.length) {
    const len = v.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const body = png.subarray(o + 8, o + 8 + len);
    const crc = v.getUint32(o + 8 + len);
    out.push({ type, body, crc, crcOk: crc === zlibCrc32(png.subarray(o + 4, o + 8 + len)) });
    o += 12 + len;
  }
  return out;
}

describe('png', () => {
  it('crc32 and adler32 match zlib on random bytes', () => {
    const rng = new Rng(3);
    const bytes = Uint8Array.from({ length: 5000 }, () => rng.int(256));
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    // Adler-32 by its definition, as the oracle.
    let a = 1;
    let b = 0;
    for (const x of bytes) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(bytes)).toBe(((b << 16) | a) >>> 0);
  });

  it('stored zlib streams inflate back to the input, across the 65535-byte block limit', () => {
    const rng = new Rng(5);
    for (const n of [0, 1, 65535, 65536, 140000]) {
      const data = Uint8Array.from({ length: n }, () => rng.int(256));
      expect(Buffer.from(inflateSync(zlibStored(data))).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('encodes an indexed image whose pixels, palette and transparency decode back', () => {
    const w = 7;
    const h = 5;
    const idx = Uint8Array.from({ length: w * h }, (_, i) => (i * 3) % 4);
    const palette: [number, number, number][] = [
      [0, 0, 0],
      [255, 0, 0],
      [0, 255, 0],
      [1, 2, 3],
    ];
    const png = encodeIndexedPng(w, h, idx, palette, 3);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND']);
    expect(cs.every((c) => c.crcOk)).toBe(true);
    const ihdr = new DataView(cs[0].body.buffer, cs[0].body.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), cs[0].body[8], cs[0].body[9]]).toEqual([w, h, 8, 3]);
    expect(Array.from(cs[1].body)).toEqual(palette.flat());
    expect(Array.from(cs[2].body)).toEqual([255, 255, 255, 0]);
    const raw = inflateSync(cs[3].body);
    expect(raw.length).toBe(h * (w + 1));
    for (let y = 0; y < h; y++) {
      expect(raw[y * (w + 1)]).toBe(0); // filter None
      expect(Array.from(raw.subarray(y * (w + 1) + 1, (y + 1) * (w + 1)))).toEqual(
        Array.from(idx.subarray(y * w, (y + 1) * w)),
      );
    }
  });

  it('rejects bad sizes, palettes and indices', () => {
    expect(() => encodeIndexedPng(0, 1, new Uint8Array(0), [[0, 0, 0]])).toThrow(/positive integers/);
    expect(() => encodeIndexedPng(2, 2, new Uint8Array(3), [[0, 0, 0]])).toThrow(/expected 4 indices, got 3/);
    expect(() =>
      encodeIndexedPng(1, 1, Uint8Array.of(2), [
        [0, 0, 0],
        [1, 1, 1],
      ]),
    ).toThrow(/index 2 outside a palette of 2/);
    expect(() => encodeIndexedPng(1, 1, Uint8Array.of(0), [[0, 0, 0]], 1)).toThrow(/transparent index 1/);
  });
});
