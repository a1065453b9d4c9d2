/**
 * Hand-built pickles, torch zip archives and legacy torch files for tests, independent of src/io:
 * a pickle writer that emits one opcode per call, a stored (uncompressed) zip writer, and the
 * legacy layout. Used to make files torch itself would never write: missing storages, tensors
 * that overrun their storage, bad persistent ids, hostile globals.
 */

/** Appends opcodes; `bytes()` returns the pickle so far. */
export class PickleWriter {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  op(code: string): this {
    return this.raw(code.charCodeAt(0));
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  mark(): this {
    return this.op('(');
  }
  stop(): this {
    return this.op('.');
  }
  none(): this {
    return this.op('N');
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  int(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n, true);
    return this.op('J').raw(...b);
  }
  long1(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      const sign = bytes[bytes.length - 1] & 0x80;
      if ((x === 0n && !sign) || (x === -1n && sign)) break;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.op('G').raw(...b);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length, true);
    return this.op('X').raw(...len, ...b);
  }
  global(module: string, name: string): this {
    return this.op('c').raw(...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  binput(i: number): this {
    return this.raw(0x71, i);
  }
  binget(i: number): this {
    return this.raw(0x68, i);
  }
  ints(ns: readonly number[]): this {
    this.mark();
    for (const n of ns) this.int(n);
    return this.op('t');
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface TensorSpec {
  key: string;
  numel: number; // of the storage, as the persistent id declares it
  size: number[];
  stride: number[];
  offset?: number;
  storageType?: string; // e.g. 'FloatStorage'
  requiresGrad?: boolean;
  legacyView?: null | [key: string, offset: number, numel: number]; // legacy ids have a sixth item
}

/** torch._utils._rebuild_tensor_v2(('storage', torch.<T>, key, 'cpu', numel), offset, size, stride, rg, OrderedDict()) */
export function tensorOps(w: PickleWriter, t: TensorSpec): PickleWriter {
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark()
    .str('storage')
    .global('torch', t.storageType ?? 'FloatStorage')
    .str(t.key)
    .str('cpu')
    .int(t.numel);
  if (t.legacyView === null) w.none();
  else if (t.legacyView) w.mark().str(t.legacyView[0]).int(t.legacyView[1]).int(t.legacyView[2]).op('t');
  w.op('t').op('Q'); // TUPLE, BINPERSID
  w.int(t.offset ?? 0)
    .ints(t.size)
    .ints(t.stride)
    .bool(t.requiresGrad ?? false);
  w.global('collections', 'OrderedDict').op(')').op('R'); // OrderedDict()
  return w.op('t').op('R');
}

/** A pickled {name: tensor} dict. */
export function stateDictPickle(tensors: Record<string, TensorSpec>): Uint8Array {
  const w = new PickleWriter().proto(2).op('}').mark();
  for (const [name, t] of Object.entries(tensors)) tensorOps(w.str(name), t);
  return w.op('u').stop().bytes();
}

/** A torch ≥ 1.6 checkpoint: data.pkl and data/<key> records inside `prefix/`. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, prefix = 'archive'): Uint8Array {
  const entries: Record<string, Uint8Array> = { [`${prefix}/data.pkl`]: pickle };
  for (const [k, v] of Object.entries(storages)) entries[`${prefix}/data/${k}`] = v;
  entries[`${prefix}/version`] = new TextEncoder().encode('3\n');
  return storedZip(entries);
}

/** A legacy (pre-1.6) torch file: magic, protocol, sys_info, the object, the keys, the storages. */
export function legacyFile(
  main: Uint8Array,
  storages: [key: string, count: number, bytes: Uint8Array][],
  littleEndian = true,
): Uint8Array {
  const parts: Uint8Array[] = [
    new PickleWriter().proto(2).long1(0x1950a86a20f9469cfc6cn).stop().bytes(),
    new PickleWriter().proto(2).int(1001).stop().bytes(),
    new PickleWriter().proto(2).op('}').mark().str('little_endian').bool(littleEndian).op('u').stop().bytes(),
    main,
  ];
  const keys = new PickleWriter().proto(2).op(']').mark();
  for (const [k] of storages) keys.str(k);
  parts.push(keys.op('e').stop().bytes());
  for (const [, count, bytes] of storages) {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigInt64(0, BigInt(count), littleEndian);
    parts.push(n, bytes);
  }
  return concat(parts);
}

/** Little-endian float32 bytes. */
export function f32bytes(xs: readonly number[]): Uint8Array {
  const b = new Uint8Array(4 * xs.length);
  const dv = new DataView(b.buffer);
  xs.forEach((x, i) => dv.setFloat32(4 * i, x, true));
  return b;
}

/** A zip of stored entries: local headers, data, central directory, end record. */
export function storedZip(entries: Record<string, Uint8Array>): Uint8Array {
  const local: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const names = Object.keys(entries);
  for (const name of names) {
    const data = entries[name];
    const nb = new TextEncoder().encode(name);
    const crc = crc32(data);
    const lh = new Uint8Array(30 + nb.length);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, data.length, true);
    l.setUint32(22, data.length, true);
    l.setUint16(26, nb.length, true);
    lh.set(nb, 30);
    const ch = new Uint8Array(46 + nb.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, data.length, true);
    c.setUint32(24, data.length, true);
    c.setUint16(28, nb.length, true);
    c.setUint32(42, offset, true);
    ch.set(nb, 46);
    local.push(lh, data);
    central.push(ch);
    offset += lh.length + data.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, names.length, true);
  e.setUint16(10, names.length, true);
  e.setUint32(12, cdSize, true);
  e.setUint32(16, offset, true);
  return concat([...local, ...central, end]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
