/**
 * A minimal zip writer: STORED (uncompressed) entries, CRC-32 from node:zlib, fixed timestamps (so
 * the same entries give the same bytes), every entry's data aligned to `align` bytes with padding
 * in the local header's extra field, as PyTorch's own writer does (64 bytes, extra-field id "FB").
 * No zip64: an archive or entry of 4 GiB or more, or more than 65 535 entries, is refused.
 */
import { crc32 } from 'node:zlib';

export interface ZipEntry {
  name: string; // '/'-separated path inside the archive
  data: Uint8Array;
}

const LIMIT = 0xffffffff;
const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (1 << 5) | 1; // 1980-01-01, the earliest date zip can express
const PAD_ID = 0x4246; // "FB", the id PyTorch uses for its padding field

export function zipStored(entries: readonly ZipEntry[], align = 64): Uint8Array {
  if (entries.length > 0xffff) throw new Error(`zipStored: ${entries.length} entries; without zip64 at most 65535`);
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const crc = crc32(e.data) >>> 0;
    const headerEnd = offset + 30 + name.length;
    // extra field: 4 bytes of id + size, then padding so the data start is a multiple of `align`
    const pad = (align - ((headerEnd + 4) % align)) % align;
    const extra = new Uint8Array(4 + pad);
    const xv = new DataView(extra.buffer);
    xv.setUint16(0, PAD_ID, true);
    xv.setUint16(2, pad, true);
    const local = new Uint8Array(30 + name.length + extra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, 0x0800, true); // flags: UTF-8 names
    lv.setUint16(8, 0, true); // method: stored
    lv.setUint16(10, DOS_TIME, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra.length, true);
    local.set(name, 30);
    local.set(extra, 30 + name.length);
    if (offset > LIMIT || e.data.length >= LIMIT)
      throw new Error(`zipStored: entry '${e.name}' is past 4 GiB; zip64 is not supported`);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true); // version made by
    cv.setUint16(6, 20, true); // version needed
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, DOS_TIME, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    // extra length 0, comment length 0, disk 0, internal attrs 0, external attrs 0
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    central.push(cd);
    chunks.push(local, e.data);
    offset += local.length + e.data.length;
  }
  const cdOffset = offset;
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  if (cdOffset + cdSize > LIMIT) throw new Error('zipStored: archive is past 4 GiB; zip64 is not supported');
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, cdOffset, true);
  const out = new Uint8Array(cdOffset + cdSize + 22);
  let pos = 0;
  for (const c of [...chunks, ...central, eocd]) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
