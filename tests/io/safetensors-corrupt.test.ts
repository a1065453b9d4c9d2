import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
} from '../../src/io/safetensors.ts';
import { FormatError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';
import { buildFile, f32le } from './build.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'groklens-corrupt-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const FILE = 'runs/x/checkpoints/step-00100.safetensors';

/** A small valid file: two F32 tensors and metadata. */
function valid(): Uint8Array {
  return encodeSafetensors(
    {
      'blocks.0.attn.W_Q': { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
      'blocks.0.attn.W_K': { dtype: 'F32', shape: [2], data: Float32Array.of(5, 6) },
    },
    { step: '100' },
  );
}

const entry = (dtype: unknown, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
const sixteen = f32le(1, 2, 3, 4);

/** [case, file bytes, a substring only that case's message contains] */
const CORRUPT: [string, () => Uint8Array, string][] = [
  [
    'truncated inside the data',
    () => valid().subarray(0, valid().length - 3),
    "file is truncated: the header describes 24 bytes of tensor data but only 21 are present (tensor 'blocks.0.attn.W_K' [16, 24] is cut off)",
  ],
  [
    'shorter than 8 bytes',
    () => Uint8Array.of(1, 0, 0, 0, 0),
    'file is 5 bytes, too short for the 8-byte header length',
  ],
  ['empty file', () => new Uint8Array(0), 'file is 0 bytes, too short'],
  [
    'header length 2^40',
    () => buildFile({}, [], 2n ** 40n),
    'header length 1099511627776 exceeds the 100000000-byte limit',
  ],
  ['header length 2^64 - 1', () => buildFile({}, [], 2n ** 64n - 1n), 'header length 18446744073709551615 exceeds'],
  [
    'header length past the end',
    () => buildFile({}, [], 1000n),
    'header length 1000 runs past the end of the file (only 2 bytes follow the length prefix)',
  ],
  ['header not UTF-8', () => buildFile(Uint8Array.of(0x7b, 0xff, 0x7d)), 'header is not valid UTF-8'],
  ['header not JSON', () => buildFile('{"w": {"dtype": "F32",'), 'header is not valid JSON'],
  [
    'header empty',
    () => buildFile(''),
    'header is not valid JSON: expected a value, found the end of the file (line 1, column 1)',
  ],
  ['header a JSON array', () => buildFile('[1, 2]'), 'header must be a JSON object, got an array [1,2]'],
  ['header a JSON string', () => buildFile('"w"'), 'header must be a JSON object, got string "w"'],
  ['header null', () => buildFile('null'), 'header must be a JSON object, got null'],
  [
    'unknown dtype',
    () => buildFile({ w: entry('F33', [4], [0, 16]) }, sixteen),
    `tensor 'w': unknown dtype string "F33" (expected one of BOOL, U8`,
  ],
  [
    'prototype key as dtype',
    () => buildFile({ w: entry('toString', [4], [0, 16]) }, sixteen),
    `unknown dtype string "toString"`,
  ],
  ['lower-case dtype', () => buildFile({ w: entry('f32', [4], [0, 16]) }, sixteen), `unknown dtype string "f32"`],
  [
    'missing dtype',
    () => buildFile({ w: { shape: [4], data_offsets: [0, 16] } }, sixteen),
    `tensor 'w': missing dtype`,
  ],
  [
    'entry not an object',
    () => buildFile({ w: [1, 2] }),
    `tensor 'w': entry must be an object with dtype, shape and data_offsets, got an array`,
  ],
  [
    'unexpected key in entry',
    () => buildFile({ w: { ...entry('F32', [4], [0, 16]), offset: 3 } }, sixteen),
    `tensor 'w': unexpected key 'offset'`,
  ],
  [
    'negative shape',
    () => buildFile({ w: entry('F32', [4, -1], [0, 16]) }, sixteen),
    `tensor 'w': shape must be an array of non-negative integers, got an array [4,-1]`,
  ],
  ['fractional shape', () => buildFile({ w: entry('F32', [1.5], [0, 16]) }, sixteen), 'got an array [1.5]'],
  [
    'shape a string',
    () => buildFile({ w: entry('F32', '4', [0, 16]) }, sixteen),
    'shape must be an array of non-negative integers, got string "4"',
  ],
  [
    'shape too large to count',
    () => buildFile({ w: entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 16]) }, sixteen),
    'has more elements than can be counted exactly',
  ],
  [
    'data_offsets reversed',
    () => buildFile({ w: entry('F32', [4], [16, 0]) }, sixteen),
    `tensor 'w': data_offsets must be two non-negative integers [begin, end] with begin ≤ end, got an array [16,0]`,
  ],
  ['data_offsets of three', () => buildFile({ w: entry('F32', [4], [0, 8, 16]) }, sixteen), 'got an array [0,8,16]'],
  [
    'data_offsets beyond 2^53',
    () => buildFile('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,1e300]}}', sixteen),
    'got an array [0,1e+300]',
  ],
  [
    'shape × dtype ≠ byte range',
    () => buildFile({ 'blocks.0.attn.W_Q': entry('F32', [4, 128, 32], [0, 65532]) }),
    `tensor 'blocks.0.attn.W_Q': shape [4,128,32] × F32 needs 65536 bytes but data_offsets span 65532`,
  ],
  [
    'overlapping ranges',
    () => buildFile({ a: entry('F32', [3], [0, 12]), b: entry('F32', [2], [8, 16]) }, sixteen),
    `tensors 'a' [0, 12] and 'b' [8, 16] overlap`,
  ],
  [
    'empty tensor inside another',
    () => buildFile({ a: entry('F32', [4], [0, 16]), b: entry('F32', [0], [8, 8]) }, sixteen),
    `tensors 'a' [0, 16] and 'b' [8, 8] overlap`,
  ],
  [
    'offsets outside the buffer',
    () => buildFile({ a: entry('F32', [4], [0, 16]), b: entry('F32', [1], [1000, 1004]) }, sixteen),
    `tensor 'b': data_offsets [1000, 1004] lie outside the 16-byte data buffer`,
  ],
  [
    'gap between tensors',
    () => buildFile({ a: entry('F32', [1], [0, 4]), b: entry('F32', [2], [8, 16]) }, sixteen),
    'bytes [4, 8) of the data buffer belong to no tensor (tensors must cover it contiguously)',
  ],
  [
    'bytes after the last tensor',
    () => buildFile({ a: entry('F32', [3], [0, 12]) }, sixteen),
    '4 bytes after the last tensor belong to no tensor (tensors end at 12, data buffer is 16 bytes)',
  ],
  [
    'metadata not an object',
    () => buildFile({ __metadata__: 'step=1' }),
    '__metadata__ must be an object mapping strings to strings, got string "step=1"',
  ],
  [
    'metadata non-string value',
    () => buildFile({ __metadata__: { step: 5 } }),
    "__metadata__ 'step': value must be a string, got number 5",
  ],
  // JSON.parse keeps the last of two equal keys; the reader must not (issue 14, defect 11)
  [
    '__metadata__ twice',
    () => buildFile('{"__metadata__":{"step":"1"},"__metadata__":{"step":"2"}}'),
    'header: key "__metadata__" appears twice (each key may appear once',
  ],
  [
    'a tensor named twice',
    () =>
      buildFile(
        '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
        sixteen,
      ),
    'header: key "w" appears twice',
  ],
  [
    'a key twice in an entry',
    () => buildFile('{"w":{"dtype":"F32","shape":[4],"dtype":"I32","data_offsets":[0,16]}}', sixteen),
    `tensor 'w': key "dtype" appears twice`,
  ],
  [
    'a metadata key twice',
    () => buildFile('{"__metadata__":{"step":"1","note":"x","step":"2"}}'),
    '__metadata__: key "step" appears twice',
  ],
  [
    'an escaped duplicate',
    () =>
      buildFile(
        '{"\\u0078":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}',
        sixteen,
      ),
    'header: key "x" appears twice',
  ],
  [
    'a name with a newline, shown escaped',
    () => buildFile({ 'a\nb': entry('F33', [4], [0, 16]) }, sixteen),
    `tensor 'a\\nb': unknown dtype`,
  ],
  [
    'BOOL byte other than 0/1',
    () => buildFile({ m: entry('BOOL', [2], [0, 2]) }, [1, 2]),
    "tensor 'm': BOOL element 1 is byte 2, expected 0 or 1",
  ],
  [
    'I64 beyond 2^53',
    () => buildFile({ i: entry('I64', [1], [0, 8]) }, [0, 0, 0, 0, 0, 0, 0x20, 0]),
    "tensor 'i': I64 element 0 is 9007199254740992, beyond ±(2^53 − 1)",
  ],
];

describe('corrupt files are rejected with a FormatError naming the file and the problem', () => {
  test.each(CORRUPT)('%s', (_, make, expected) => {
    const message = rejectionOf(() => decodeSafetensors(make(), FILE));
    expect(message.startsWith(`${FILE}: `), message).toBe(true);
    expect(message).toContain(expected);
  });

  test('each case has its own message', () => {
    const messages = CORRUPT.map(([, make]) => rejectionOf(() => decodeSafetensors(make(), FILE)));
    expect(new Set(messages).size).toBe(CORRUPT.length);
  });

  test('read from disk: the same verdicts, through readSafetensors and readSafetensorsHeader', () => {
    CORRUPT.forEach(([name, make, expected], i) => {
      const file = join(dir, `corrupt-${i}.safetensors`);
      writeFileSync(file, make());
      expect(
        rejectionOf(() => readSafetensors(file)),
        name,
      ).toContain(expected);
      // Value checks (BOOL, I64) need the data, which the header reader never reads.
      if (!/BOOL|I64/.test(name))
        expect(
          rejectionOf(() => readSafetensorsHeader(file)),
          name,
        ).toContain(expected);
    });
  });

  test('a lying 2^40 header length on disk is refused without reading or allocating', () => {
    const file = join(dir, 'liar.safetensors');
    writeFileSync(file, buildFile('{}', [], 2n ** 40n));
    expect(rejectionOf(() => readSafetensors(file))).toContain('exceeds the 100000000-byte limit');
  });

  test('missing file and directory', () => {
    expect(rejectionOf(() => readSafetensors(join(dir, 'none.safetensors')))).toContain(
      'none.safetensors: file does not exist',
    );
    expect(rejectionOf(() => readSafetensorsHeader(dir))).toContain(`${dir}: is a directory`);
  });
});

describe('fuzz: damaged files decode or fail with a FormatError, never another exception', () => {
  /** A file with every writable dtype, odd offsets and metadata, so damage reaches every check. */
  function richFile(): Uint8Array {
    return encodeSafetensors(
      {
        a: { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, NaN, 0, 1e-40) },
        b: { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
        c: { dtype: 'I64', shape: [2], data: Float64Array.of(-1, 2 ** 40) },
        d: { dtype: 'F64', shape: [], data: Float64Array.of(Math.E) },
        e: { dtype: 'I32', shape: [0], data: new Int32Array(0) },
        f: { dtype: 'I32', shape: [1, 2], data: Int32Array.of(-5, 7) },
      },
      { step: '12', note: 'fuzz' },
    );
  }

  const JSON_NOISE = '{}[],:"0123456789-.eE \\u_abcFIU';

  /** Values a structured mutation may put in a header field. */
  const FIELD_VALUES: unknown[] = [
    -1,
    0,
    1,
    2,
    3,
    7,
    8,
    24,
    1.5,
    2 ** 53,
    1e300,
    null,
    'F32',
    'U8',
    'BOOL',
    'I64',
    'F16',
    'X',
    [],
    [0],
    [2, 3],
    {},
    true,
  ];

  /** Parse the header, change one field of one entry (or the metadata), serialise it again. */
  function mutateHeader(base: Uint8Array, rng: Rng): Uint8Array {
    const n = Number(new DataView(base.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(base.subarray(8, 8 + n))) as Record<
      string,
      Record<string, unknown>
    >;
    const names = Object.keys(header);
    const target = header[names[rng.int(names.length)]];
    const keys = Object.keys(target);
    const key = keys[rng.int(keys.length)];
    const pick = () => FIELD_VALUES[rng.int(FIELD_VALUES.length)];
    const field = target[key];
    if (Array.isArray(field) && field.length > 0 && rng.int(2)) field[rng.int(field.length)] = pick();
    else if (rng.int(8) === 0) delete target[key];
    else target[key] = pick();
    return buildFile(header, base.subarray(8 + n));
  }

  test('600 seeded mutations', () => {
    const rng = new Rng(20240607);
    const base = richFile();
    const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
    const outcomes = { decoded: 0, rejected: 0 };
    const problems = new Set<string>();
    for (let k = 0; k < 600; k++) {
      let bytes: Uint8Array = base.slice();
      const mode = k % 6;
      if (mode === 5) {
        bytes = mutateHeader(base, rng);
      } else if (mode === 0) {
        // flip random bits anywhere
        for (let j = 1 + rng.int(4); j > 0; j--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
      } else if (mode === 4) {
        // flip random bits in the tensor data: mostly still a valid file, with other values
        for (let j = 1 + rng.int(4); j > 0; j--)
          bytes[headerEnd + rng.int(bytes.length - headerEnd)] ^= 1 << rng.int(8);
      } else if (mode === 1) {
        // truncate at a random length
        bytes = bytes.subarray(0, rng.int(bytes.length));
      } else if (mode === 2) {
        // replace header characters with JSON syntax, keeping its length
        for (let j = 1 + rng.int(3); j > 0; j--)
          bytes[8 + rng.int(headerEnd - 8)] = JSON_NOISE.charCodeAt(rng.int(JSON_NOISE.length));
      } else {
        // damage the length prefix (low bytes most of the time) and maybe truncate too
        bytes[rng.int(3)] = rng.int(256);
        if (rng.int(2)) bytes = bytes.subarray(0, rng.int(bytes.length + 1));
      }
      try {
        decodeSafetensors(bytes, FILE);
        outcomes.decoded++;
      } catch (err) {
        if (!(err instanceof FormatError)) throw new Error(`case ${k} (mode ${mode}): ${String(err)}`, { cause: err });
        expect(err.message.startsWith(`${FILE}: `)).toBe(true);
        problems.add(
          err.problem
            .replace(/'[^']*'/g, 'NAME')
            .replace(/(JSON|UTF-8).*$/, '$1')
            .replace(/\d+/g, 'N')
            .slice(0, 60),
        );
        outcomes.rejected++;
      }
    }
    // The fuzzer must exercise both outcomes and many different checks to mean anything.
    if (process.env.FUZZ_VERBOSE) console.log(outcomes, [...problems]);
    expect(outcomes.decoded).toBeGreaterThan(50);
    expect(outcomes.rejected).toBeGreaterThan(300);
    expect(problems.size).toBeGreaterThan(12);
  });

  test('every truncation length of a valid file, on disk', () => {
    const base = richFile();
    for (let len = 0; len < base.length; len++) {
      const file = join(dir, 'cut.safetensors');
      writeFileSync(file, base.subarray(0, len));
      expect(() => readSafetensors(file), `length ${len}`).toThrow(FormatError);
    }
  });
});

function rejectionOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof FormatError) return err.message;
    throw new Error(`expected a FormatError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a FormatError, but it succeeded');
}
