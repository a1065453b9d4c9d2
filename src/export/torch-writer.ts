/**
 * Write a state dict in PyTorch's zip format (what `torch.save` writes since 1.6), readable by
 * `torch.load(f, weights_only=True)`: an OrderedDict of name → tensor, each tensor rebuilt by
 * `torch._utils._rebuild_tensor_v2` from a storage given by a persistent id.
 *
 * The pickle (protocol 2) uses only what torch 1.13's weights-only unpickler
 * (torch/_weights_only_unpickler.py) accepts — the strictest one: opcodes PROTO, GLOBAL, MARK,
 * EMPTY_TUPLE, TUPLE/TUPLE1-3, BINUNICODE, BININT1/BININT2/BININT/LONG1, NEWFALSE, BINPERSID,
 * REDUCE, SETITEMS, STOP (no memo, no floats, no FRAME), and the globals collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 and the storage classes torch.FloatStorage / torch.BoolStorage.
 * Persistent ids are ('storage', StorageClass, key, 'cpu', numel), as torch.save writes them.
 *
 * Archive: archive/data.pkl, archive/byteorder ("little"), archive/data/KEY (the raw
 * little-endian storage bytes, one storage per tensor), archive/version ("3").
 */
import { zipStored, type ZipEntry } from './zip-stored.ts';

/** A contiguous tensor to save. F32: float32 values; BOOL: bytes 0/1. */
export interface TorchTensorInput {
  dtype: 'F32' | 'BOOL';
  shape: number[];
  data: Float32Array | Uint8Array;
}

const STORAGE_CLASS = { F32: 'FloatStorage', BOOL: 'BoolStorage' } as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Opcode-level pickle writer (protocol 2 subset). */
class Pickler {
  private readonly parts: number[] = [];
  private readonly enc = new TextEncoder();

  byte(...b: number[]): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  op(c: string): this {
    return this.byte(c.charCodeAt(0));
  }
  global(module: string, name: string): this {
    this.op('c');
    for (const x of this.enc.encode(`${module}\n${name}\n`)) this.parts.push(x);
    return this;
  }
  str(s: string): this {
    const b = this.enc.encode(s);
    this.op('X').u32(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  int(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`torch-writer: ${n} is not a non-negative integer`);
    if (n < 0x100) return this.op('K').byte(n);
    if (n < 0x10000) return this.op('M').byte(n & 0xff, n >>> 8);
    if (n < 0x80000000) return this.op('J').u32(n);
    // LONG1: little-endian two's complement, with a zero byte on top when the high bit is set
    const bytes: number[] = [];
    let x = BigInt(n);
    while (x > 0n) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.byte(0x8a, bytes.length, ...bytes);
  }
  /** A tuple of small non-negative ints (sizes, strides). */
  intTuple(xs: readonly number[]): this {
    if (xs.length === 0) return this.op(')');
    if (xs.length > 3) this.op('(');
    for (const x of xs) this.int(x);
    return xs.length > 3 ? this.op('t') : this.byte(0x84 + xs.length); // TUPLE1 = 0x85 …
  }
  private u32(n: number): this {
    return this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** The pickle of OrderedDict(name → tensor), storage keys '0', '1', … in order. */
export function stateDictPickle(tensors: readonly [string, TorchTensorInput][]): Uint8Array {
  const p = new Pickler();
  p.byte(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict').op(')').op('R'); // OrderedDict()
  p.op('('); // MARK for SETITEMS
  tensors.forEach(([name, t], key) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op('('); // args of _rebuild_tensor_v2
    p.op('(').str('storage').global('torch', STORAGE_CLASS[t.dtype]).str(String(key)).str('cpu').int(numel).op('t');
    p.op('Q'); // BINPERSID: the storage
    p.int(0); // storage_offset
    p.intTuple(t.shape); // size
    p.intTuple(contiguousStrides(t.shape)); // stride
    p.byte(0x89); // requires_grad = False
    p.global('collections', 'OrderedDict').op(')').op('R'); // backward_hooks
    p.op('t').op('R');
  });
  p.op('u'); // SETITEMS
  p.op('.');
  return p.bytes();
}

function storageBytes(name: string, t: TorchTensorInput): Uint8Array {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new Error(`torch-writer: '${name}': bad shape [${t.shape}]`);
  if (t.data.length !== numel)
    throw new Error(`torch-writer: '${name}': shape [${t.shape}] needs ${numel} elements, data has ${t.data.length}`);
  if (t.dtype === 'F32') {
    if (!(t.data instanceof Float32Array)) throw new Error(`torch-writer: '${name}': F32 data must be a Float32Array`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (LITTLE_ENDIAN) return bytes;
    const copy = Uint8Array.from(bytes);
    for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse();
    return copy;
  }
  if (!(t.data instanceof Uint8Array) || t.data.some((v) => v > 1))
    throw new Error(`torch-writer: '${name}': BOOL data must be a Uint8Array of 0/1`);
  return t.data;
}

/** The bytes of a `.pt` file holding the state dict `tensors` (in their order). */
export function encodeTorchStateDict(tensors: Record<string, TorchTensorInput>, archive = 'archive'): Uint8Array {
  const list = Object.entries(tensors);
  const entries: ZipEntry[] = [
    { name: `${archive}/data.pkl`, data: stateDictPickle(list) },
    { name: `${archive}/byteorder`, data: new TextEncoder().encode('little') },
  ];
  list.forEach(([name, t], key) => entries.push({ name: `${archive}/data/${key}`, data: storageBytes(name, t) }));
  entries.push({ name: `${archive}/version`, data: new TextEncoder().encode('3\n') });
  return zipStored(entries);
}
