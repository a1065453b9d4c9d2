import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  formatInspect,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  type TensorInput,
} from '../../src/io/safetensors.ts';
import { FormatError } from '../../src/errors.ts';
import { buildFile, f32le } from './build.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'groklens-st-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const F = 'mem.safetensors';

/** One tensor of every writable dtype, with edge values, plus empty tensors and scalars. */
function everyDtype(): Record<string, TensorInput> {
  return {
    'blocks.0.attn.W_Q': {
      dtype: 'F32',
      shape: [2, 2, 3],
      data: Float32Array.from([0, -0, 1.5, -2, NaN, Infinity, -Infinity, 3.4e38, 1e-45, 1, 2, 3]),
    },
    f64: { dtype: 'F64', shape: [5], data: Float64Array.from([Math.PI, -1e-300, 1.7976931348623157e308, 5e-324, NaN]) },
    u8_odd: { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 128, 255]) }, // leaves the next tensor unaligned
    i32: { dtype: 'I32', shape: [2, 2], data: Int32Array.from([-2147483648, 2147483647, 0, -1]) },
    i64_big: { dtype: 'I64', shape: [3], data: BigInt64Array.from([-(2n ** 53n) + 1n, 0n, 2n ** 53n - 1n]) },
    i64_num: { dtype: 'I64', shape: [2], data: Float64Array.from([-7, 12345678901]) },
    scalar_f32: { dtype: 'F32', shape: [], data: Float32Array.from([0.25]) },
    scalar_i64: { dtype: 'I64', shape: [], data: Float64Array.from([42]) },
    empty_f32: { dtype: 'F32', shape: [0], data: new Float32Array(0) },
    empty_f64: { dtype: 'F64', shape: [3, 0, 2], data: new Float64Array(0) },
    empty_i32: { dtype: 'I32', shape: [0], data: new Int32Array(0) },
    empty_i64: { dtype: 'I64', shape: [0, 4], data: new BigInt64Array(0) },
    empty_u8: { dtype: 'U8', shape: [0], data: new Uint8Array(0) },
  };
}

/** What each input should read back as: I64 comes back as a Float64Array of the same values. */
function expectedData(t: TensorInput): ArrayLike<number> {
  return t.data instanceof BigInt64Array ? Float64Array.from(t.data, Number) : t.data;
}

describe('round trip', () => {
  test('every writable dtype, scalars and empty tensors, in the order given', () => {
    const input = everyDtype();
    const metadata = { format: 'groklens-checkpoint', step: '100', note: 'π ≠ 3 "quoted"\nnewline', empty: '' };
    const out = decodeSafetensors(encodeSafetensors(input, metadata), F);
    expect(out.order).toEqual(Object.keys(input));
    expect(out.metadata).toEqual(metadata);
    for (const [name, t] of Object.entries(input)) {
      const got = out.tensors[name];
      expect(got.dtype, name).toBe(t.dtype);
      expect(got.shape, name).toEqual(t.shape);
      expect(got.data.constructor, name).toBe(t.dtype === 'I64' ? Float64Array : t.data.constructor);
      // Object.is per element: NaN equals NaN, and -0 must stay -0.
      expect(Array.from(got.data), name).toEqual(Array.from(expectedData(t)));
      Array.from(got.data).forEach((v, i) => expect(Object.is(v, expectedData(t)[i]), `${name}[${i}]`).toBe(true));
    }
  });

  test('no tensors, no metadata', () => {
    const bytes = encodeSafetensors({});
    expect(new TextDecoder().decode(bytes.subarray(8))).toBe('{}      ');
    expect(decodeSafetensors(bytes, F)).toEqual({ tensors: {}, metadata: {}, order: [] });
  });

  test('names that are also Object.prototype keys stay plain tensors', () => {
    // Object.fromEntries defines own properties, so '__proto__' is a key here, not the prototype.
    const input: Record<string, TensorInput> = Object.fromEntries([
      ['__proto__', { dtype: 'U8', shape: [1], data: Uint8Array.of(9) }],
      ['constructor', { dtype: 'U8', shape: [1], data: Uint8Array.of(8) }],
    ]);
    const out = decodeSafetensors(encodeSafetensors(input, { __proto__: 'x' } as unknown as Record<string, string>), F);
    expect(out.order).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(out.tensors)).toBe(Object.prototype);
    expect(Array.from(Object.getOwnPropertyDescriptor(out.tensors, '__proto__')!.value.data)).toEqual([9]);
  });

  test('writeSafetensors → readSafetensors through the file system, leaving no temp file', () => {
    const file = join(dir, 'step-00100.safetensors');
    const input = everyDtype();
    writeSafetensors(file, input, { step: '100' });
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const fromDisk = readSafetensors(file);
    const fromMemory = decodeSafetensors(readFileSync(file), file);
    expect(fromDisk.order).toEqual(Object.keys(input));
    expect(fromDisk).toEqual(fromMemory);
    const header = readSafetensorsHeader(file);
    expect(header.entries.map((e) => e.name)).toEqual(Object.keys(input));
    expect(header.metadata).toEqual({ step: '100' });
    expect(8 + header.headerLength + header.dataLength).toBe(readFileSync(file).length);
  });

  test('writeSafetensors names the file when the input is bad, and writes nothing', () => {
    const file = join(dir, 'bad.safetensors');
    expect(() => writeSafetensors(file, { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(
      /bad\.safetensors: encodeSafetensors: tensor 'w'/,
    );
    expect(readdirSync(dir)).not.toContain('bad.safetensors');
  });
});

describe('layout', () => {
  test('matches a file assembled by hand from the spec, byte for byte', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'F32', shape: [2], data: Float32Array.from([1.5, -2]) },
        a: { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
      },
      { step: '7' },
    );
    const json =
      '{"__metadata__":{"step":"7"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
    expect(json.length).toBe(135); // padded with one space to 136 = 17 × 8
    const expected = [
      136,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // header length, u64 little-endian
      ...Array.from(json, (c) => c.charCodeAt(0)),
      0x20,
      0,
      0,
      192,
      63,
      0,
      0,
      0,
      192, // 1.5f, -2f little-endian
      1,
      2,
      3,
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  test('header is padded with spaces to a multiple of 8 and the data starts 8-aligned', () => {
    for (let n = 0; n < 10; n++) {
      const bytes = encodeSafetensors({ ['x'.repeat(n)]: { dtype: 'F64', shape: [1], data: Float64Array.of(n) } });
      const len = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(len % 8).toBe(0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + len));
      expect(text).toMatch(/^\{.*\} *$/);
      expect(JSON.parse(text)['x'.repeat(n)].data_offsets).toEqual([0, 8]);
    }
  });

  test('byte-identical output for identical input, whatever order the metadata was built in', () => {
    const a = encodeSafetensors(everyDtype(), { b: '2', a: '1' });
    const b = encodeSafetensors(everyDtype(), { a: '1', b: '2' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  test('tensor order follows the caller, not the alphabet', () => {
    const t = (v: number): TensorInput => ({ dtype: 'F32', shape: [1], data: Float32Array.of(v) });
    const bytes = encodeSafetensors({ z: t(1), a: t(2), m: t(3) });
    expect(decodeSafetensors(bytes, F).order).toEqual(['z', 'a', 'm']);
    expect(Array.from(bytes.subarray(bytes.length - 12))).toEqual(f32le(1, 2, 3));
  });
});

describe('reading files written elsewhere', () => {
  /** A file with one tensor of `dtype` holding `bytes`. */
  const one = (dtype: string, shape: number[], bytes: number[]) =>
    decodeSafetensors(buildFile({ t: { dtype, shape, data_offsets: [0, bytes.length] } }, bytes), F).tensors.t;

  test('F16, BF16 and both F8 kinds widen to Float32Array', () => {
    // f16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, +inf, NaN
    const f16 = one('F16', [7], [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7c, 0x00, 0x7e]);
    expect(f16.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f16.data)).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, NaN]);
    expect(Object.is(f16.data[4], -0)).toBe(true);
    // bf16: 1, -2.5, 3.140625 (0x4049)
    expect(Array.from(one('BF16', [3], [0x80, 0x3f, 0x20, 0xc0, 0x49, 0x40]).data)).toEqual([1, -2.5, 3.140625]);
    // e5m2: 1 (0x3c), -2 (0xc0), 57344 (max, 0x7b), inf (0x7c)
    expect(Array.from(one('F8_E5M2', [4], [0x3c, 0xc0, 0x7b, 0x7c]).data)).toEqual([1, -2, 57344, Infinity]);
    // e4m3fn: 1 (0x38), -2 (0xc0), 448 (max, 0x7e), 2^-9 (smallest subnormal, 0x01), NaN (0x7f)
    expect(Array.from(one('F8_E4M3', [5], [0x38, 0xc0, 0x7e, 0x01, 0x7f]).data)).toEqual([1, -2, 448, 2 ** -9, NaN]);
  });

  test('integer and boolean dtypes', () => {
    expect(Array.from(one('I8', [2], [0x80, 0x7f]).data)).toEqual([-128, 127]);
    expect(Array.from(one('I16', [2], [0x00, 0x80, 0xff, 0x7f]).data)).toEqual([-32768, 32767]);
    expect(Array.from(one('U16', [1], [0xff, 0xff]).data)).toEqual([65535]);
    expect(Array.from(one('U32', [1], [0xff, 0xff, 0xff, 0xff]).data)).toEqual([4294967295]);
    expect(Array.from(one('I64', [1], [0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).data)).toEqual([-5]);
    expect(Array.from(one('U64', [1], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00]).data)).toEqual([2 ** 53 - 1]);
    const bool = one('BOOL', [3], [1, 0, 1]);
    expect(bool.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(bool.data)).toEqual([1, 0, 1]);
  });

  test('an unaligned tensor is copied, and an aligned one is a view of the buffer', () => {
    const header = {
      a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
      b: { dtype: 'F32', shape: [2], data_offsets: [1, 9] },
    };
    const bytes = buildFile(header, [7, ...f32le(0.5, -3)]); // header length is odd too
    const out = decodeSafetensors(bytes, F);
    expect(Array.from(out.tensors.b.data)).toEqual([0.5, -3]);
    expect(out.tensors.b.data.buffer).not.toBe(bytes.buffer);
    const aligned = encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
    expect(decodeSafetensors(aligned, F).tensors.w.data.buffer).toBe(aligned.buffer);
  });

  test('unpadded headers, null metadata and entries in any JSON order', () => {
    const header =
      '{"y":{"shape":[1],"data_offsets":[4,8],"dtype":"I32"},"__metadata__":null,"x":{"data_offsets":[0,4],"dtype":"I32","shape":[]}}';
    const out = decodeSafetensors(buildFile(header, [1, 0, 0, 0, 2, 0, 0, 0]), F);
    expect(out.order).toEqual(['x', 'y']); // data order
    expect(out.metadata).toEqual({});
    expect(out.tensors.x).toEqual({ dtype: 'I32', shape: [], data: Int32Array.of(1) });
  });

  test('readSafetensorsHeader reads no tensor data (a sparse 1 GB file is instant)', () => {
    const file = join(dir, 'sparse.safetensors');
    const header = buildFile({ w: { dtype: 'F32', shape: [256, 1024, 1024], data_offsets: [0, 2 ** 30] } });
    const fd = openSync(file, 'w');
    writeSync(fd, header);
    ftruncateSync(fd, header.length + 2 ** 30);
    closeSync(fd);
    const h = readSafetensorsHeader(file);
    expect(h.entries).toEqual([{ name: 'w', dtype: 'F32', shape: [256, 1024, 1024], begin: 0, end: 2 ** 30 }]);
    expect(h.dataLength).toBe(2 ** 30);
  });
});

describe('formatInspect', () => {
  test('lists tensors, totals and metadata', () => {
    const file = join(dir, 'inspect.safetensors');
    writeSafetensors(
      file,
      {
        'embed.W_E': { dtype: 'F32', shape: [114, 128], data: new Float32Array(114 * 128) },
        'blocks.0.attn.W_Q': { dtype: 'F32', shape: [4, 128, 32], data: new Float32Array(4 * 128 * 32) },
        'split.train': { dtype: 'I64', shape: [3], data: Float64Array.of(1, 2, 3) },
        'odd\nname': { dtype: 'U8', shape: [], data: Uint8Array.of(1) },
      },
      { step: '100', format: 'groklens-checkpoint' },
    );
    const h = readSafetensorsHeader(file);
    expect(formatInspect(h, 'ckpt.safetensors')).toBe(
      [
        'ckpt.safetensors',
        `4 tensors, 30,980 parameters, 123,929 bytes of tensor data, ${h.headerLength}-byte header`,
        '',
        'name               dtype  shape         params    bytes',
        'embed.W_E          F32    [114, 128]    14,592   58,368',
        'blocks.0.attn.W_Q  F32    [4, 128, 32]  16,384   65,536',
        'split.train        I64    [3]                3       24',
        '"odd\\nname"        U8     []                 1        1',
        'total                                   30,980  123,929',
        '',
        'metadata:',
        '  format  groklens-checkpoint',
        '  step    100',
        '',
      ].join('\n'),
    );
  });

  test('an empty file', () => {
    const h = decodeHeaderOnly(encodeSafetensors({}));
    expect(formatInspect(h, 'e')).toBe(
      'e\n0 tensors, 0 parameters, 0 bytes of tensor data, 8-byte header\n\nmetadata: none\n',
    );
  });
});

function decodeHeaderOnly(bytes: Uint8Array) {
  const file = join(dir, 'h.safetensors');
  writeFileSync(file, bytes);
  return readSafetensorsHeader(file);
}

describe('encode rejects bad input with a message naming the tensor', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'length mismatch',
      { w: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } },
      /tensor 'w': shape \[2,3\] × F32 needs 6 elements \(24 bytes\) but data has 5 \(20 bytes\)/,
    ],
    [
      'wrong array type',
      { w: { dtype: 'F32', shape: [1], data: new Float64Array(1) } },
      /tensor 'w': F32 data must be a Float32Array, got Float64Array/,
    ],
    ['plain array', { w: { dtype: 'I32', shape: [1], data: [1] } }, /I32 data must be a Int32Array, got Array/],
    ['unwritable dtype', { w: { dtype: 'F16', shape: [1], data: new Uint16Array(1) } }, /cannot write dtype "F16"/],
    [
      'negative dim',
      { w: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } },
      /shape must be an array of non-negative integers, got \[-1\]/,
    ],
    ['I64 not integer', { w: { dtype: 'I64', shape: [1], data: Float64Array.of(0.5) } }, /I64 element 0 is 0.5/],
    [
      'I64 too large',
      { w: { dtype: 'I64', shape: [1], data: Float64Array.of(2 ** 53) } },
      /I64 element 0 is 9007199254740992/,
    ],
    ['reserved name', { __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }, /reserved/],
  ];
  test.each(cases)('%s', (_, tensors, message) => {
    expect(() => encodeSafetensors(tensors as Record<string, TensorInput>)).toThrow(message);
  });
  test('non-string metadata', () => {
    expect(() => encodeSafetensors({}, { step: 5 } as unknown as Record<string, string>)).toThrow(
      /metadata 'step': value must be a string, got number/,
    );
  });
  test('not a FormatError: a bad tensor to write is a bug, not a bad file', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'U8', shape: [2], data: new Uint8Array(1) } })).not.toThrow(
      FormatError,
    );
  });
});
