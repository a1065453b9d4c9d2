import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FormatError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';
import {
  PyDict,
  readTorchBytes,
  readTorchFile,
  TorchTensor,
  UnsafeGlobalError,
  type TorchFile,
} from '../../src/io/torch-file.ts';
import { f32bytes, legacyFile, PickleWriter, stateDictPickle, storedZip, tensorOps, torchZip } from './torch-build.ts';
import { checkTensor, tagged, type Expected, type ExpectedFile } from './torch-expected.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'fixtures', 'torch');
const expected: Expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'groklens-torch-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** The entry `name` stands for, following sameAs (torch read identical content from both files). */
function resolveExpected(exp: Expected, name: string): ExpectedFile {
  const e = exp.files[name];
  return e.sameAs ? { ...exp.files[e.sameAs], format: e.format } : e;
}

/** Everything torch read from the file, we read too: format, tree, every tensor at its path. */
function checkAgainstTorch(got: TorchFile, want: ExpectedFile, name: string): void {
  expect(got.format, name).toBe(want.format);
  expect(
    got.tensors.map((t) => t.path),
    name,
  ).toEqual(want.tensors!.map((t) => t.path));
  got.tensors.forEach((t, i) => checkTensor(t.tensor, want.tensors![i], `${name}: ${t.path}`));
  const firstPath = new Map<TorchTensor, string>();
  for (const t of got.tensors) if (!firstPath.has(t.tensor)) firstPath.set(t.tensor, t.path);
  // A tensor object at several paths is tagged with the path torch's walk met first there too.
  const pathOf = (t: TorchTensor) => firstPath.get(t)!;
  expect(tagged(got.root, pathOf), name).toEqual(retagShared(want.tree!, got, pathOf));
}

/** The script tags each tensor with its own path; where ours is one shared object, use its first path. */
function retagShared(tree: unknown, got: TorchFile, pathOf: (t: TorchTensor) => string): unknown {
  const byPath = new Map(got.tensors.map((t) => [t.path, pathOf(t.tensor)]));
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.$tensor === 'string') return { $tensor: byPath.get(o.$tensor) ?? o.$tensor };
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, walk(v)]));
    }
    return x;
  };
  return walk(tree);
}

/** Elements of a tensor that is not int64. */
function nums(t: TorchTensor): number[] {
  return Array.from(t.data as ArrayLike<number>);
}

async function rejection(p: Promise<unknown>): Promise<FormatError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FormatError) return err;
    throw new Error(`expected a FormatError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a FormatError, but it was read');
}

describe('fixtures written by torch read back exactly as torch.load reads them', () => {
  test.each(Object.keys(expected.files))('%s', async (name) => {
    checkAgainstTorch(await readTorchFile(join(DIR, name)), resolveExpected(expected, name), name);
  });

  test('views: a transposed view, a slice with an offset, a strided and an expanded view', async () => {
    const f = await readTorchFile(join(DIR, 'dtypes.pt'));
    const get = (p: string) => f.tensors.find((t) => t.path === p)!.tensor;
    const base = get('base').data as Float32Array; // [4, 6]
    const at = (r: number, c: number) => base[r * 6 + c];
    expect(nums(get('transposed'))).toEqual(Array.from({ length: 24 }, (_, i) => at(i % 4, Math.floor(i / 4))));
    expect(nums(get('slice'))).toEqual([at(1, 2), at(1, 3), at(1, 4), at(2, 2), at(2, 3), at(2, 4)]);
    expect(nums(get('strided'))).toEqual([at(0, 0), at(0, 3), at(2, 0), at(2, 3)]);
    expect(get('expanded').shape).toEqual([4, 3]);
    expect(nums(get('expanded'))).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(get('shared_a').data.buffer).not.toBe(get('shared_b').data.buffer); // copies, not views of one buffer
  });

  test('a state dict keeps its order and _metadata; parameters and int64 come out typed', async () => {
    const sd = await readTorchFile(join(DIR, 'tl-state-dict.pt'));
    const root = sd.root as PyDict;
    expect(root.pyType).toBe('collections.OrderedDict');
    expect(root.keys()[0]).toBe('embed.W_E');
    expect(root.attrs?.get('_metadata')).toBeInstanceOf(PyDict);
    expect((root.get('blocks.0.attn.W_Q') as TorchTensor).shape).toEqual([2, 8, 4]); // [n_heads, d_model, d_head]
    const run = await readTorchFile(join(DIR, 'nanda-run.pt'));
    const idx = run.tensors.find((t) => t.path === 'train_indices')!.tensor;
    expect(idx.data).toBeInstanceOf(BigInt64Array);
    expect(idx.data[3]).toBe(2n ** 40n);
    const config = (run.root as PyDict).get('config') as PyDict;
    expect(config.get('lr')).toBe(1e-3);
    expect(config.get('big_int')).toBe(2n ** 70n);
    const dt = await readTorchFile(join(DIR, 'dtypes.pt'));
    const param = dt.tensors.find((t) => t.path === 'param')!.tensor;
    expect([param.isParameter, param.requiresGrad]).toEqual([true, true]);
  });

  test('readTorchBytes reads the same as readTorchFile', async () => {
    for (const name of ['nanda-run.pt', 'dtypes-legacy.pt']) {
      const a = await readTorchFile(join(DIR, name));
      const b = await readTorchBytes(readFileSync(join(DIR, name)), name);
      expect(b.tensors.map((t) => [t.path, Array.from(t.tensor.data, String)])).toEqual(
        a.tensors.map((t) => [t.path, Array.from(t.tensor.data, String)]),
      );
    }
  });
});

describe('hostile files are refused without running anything', () => {
  test.each(Object.entries(expected.hostile))('%s', async (name, h) => {
    if (h.marker) rmSync(h.marker, { force: true });
    const file = join(DIR, name);
    const err = await rejection(readTorchFile(file));
    expect(err).toBeInstanceOf(UnsafeGlobalError);
    expect((err as UnsafeGlobalError).global).toBe(h.global);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.message).toContain(`Python global ${h.global}`);
    expect(err.message).toContain('Nothing in the file was executed or imported');
    if (h.marker) expect(existsSync(h.marker), `${h.marker} must not exist`).toBe(false);
    if (name === 'whole-module.pt') expect(err.message).toContain('save model.state_dict() instead');
  });
});

describe('malformed files are FormatErrors naming the file and the problem', () => {
  const oneTensor = (size: number[], stride: number[], offset = 0, numel = 6) =>
    stateDictPickle({ w: { key: '0', numel, size, stride, offset } });
  const six = f32bytes([0, 1, 2, 3, 4, 5]);

  test('a hand-built zip checkpoint reads, including a transposed view', async () => {
    const f = await readTorchBytes(torchZip(oneTensor([3, 2], [1, 3]), { 0: six }), 'hand.pt');
    expect(f.tensors[0].tensor.shape).toEqual([3, 2]);
    expect(nums(f.tensors[0].tensor)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  test.each<[string, () => Uint8Array, RegExp]>([
    [
      'a storage record missing',
      () => torchZip(oneTensor([6], [1]), {}),
      /storage '0' is missing: the archive has no record archive\/data\/0/,
    ],
    [
      'a storage shorter than declared',
      () => torchZip(oneTensor([6], [1]), { 0: six.subarray(0, 20) }),
      /storage '0' \(archive\/data\/0\) has 20 bytes, but its persistent id declares 24/,
    ],
    [
      'a tensor past the end of its storage',
      () => torchZip(oneTensor([2, 3], [3, 1], 1), { 0: six }),
      /tensor 'w' \(storage '0'\): size \[2, 3\], stride \[3, 1\] and offset 1 reach element 6, but its storage has 6/,
    ],
    [
      'a stride past the end',
      () => torchZip(oneTensor([2, 2], [5, 1]), { 0: six }),
      /reach element 6, but its storage has 6/,
    ],
    [
      'size and stride of different lengths',
      () => torchZip(oneTensor([6], [1, 1]), { 0: six }),
      /size has 1 dimensions but stride has 2/,
    ],
    [
      'an unknown storage type',
      () =>
        torchZip(stateDictPickle({ w: { key: '0', numel: 6, size: [6], stride: [1], storageType: 'WeirdStorage' } }), {
          0: six,
        }),
      /Python global torch\.WeirdStorage/,
    ],
    [
      'a dtype we cannot read',
      () =>
        torchZip(
          stateDictPickle({ w: { key: '0', numel: 3, size: [3], stride: [1], storageType: 'ComplexFloatStorage' } }),
          { 0: six },
        ),
      /has dtype torch\.complex64, which groklens cannot read/,
    ],
    [
      'one key declared with two sizes',
      () =>
        torchZip(
          stateDictPickle({
            a: { key: '0', numel: 6, size: [6], stride: [1] },
            b: { key: '0', numel: 5, size: [5], stride: [1] },
          }),
          { 0: six },
        ),
      /storage '0' is declared both as 6 × float32 and as 5 × float32/,
    ],
    ['no data.pkl', () => storedZip({ 'archive/version': new Uint8Array([0x33]) }), /no archive\/data\.pkl/],
    [
      'a TorchScript archive',
      () => storedZip({ 'archive/data.pkl': oneTensor([6], [1]), 'archive/constants.pkl': new Uint8Array(1) }),
      /TorchScript archive/,
    ],
    [
      'a bad byteorder record',
      () =>
        storedZip({
          'archive/data.pkl': oneTensor([6], [1]),
          'archive/data/0': six,
          'archive/byteorder': new TextEncoder().encode('middle'),
        }),
      /says 'middle'/,
    ],
    [
      'a persistent id of another kind',
      () =>
        torchZip(
          new PickleWriter().proto(2).mark().str('module').none().none().none().none().op('t').op('Q').stop().bytes(),
          {},
        ),
      /kind 'module': only 'storage'/,
    ],
    ['a zip that is only a header', () => new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), /not a readable zip archive/],
    [
      'a tar file',
      () => {
        const b = new Uint8Array(1024);
        b.set(new TextEncoder().encode('ustar'), 257);
        return b;
      },
      /tar format of torch < 0\.4/,
    ],
    [
      'a safetensors file',
      () => new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 0x20, 0x20]),
      /not a PyTorch checkpoint.*safetensors/,
    ],
    ['an empty file', () => new Uint8Array(0), /the file is empty/],
  ])('zip: %s', async (_label, make, message) => {
    const err = await rejection(readTorchBytes(make(), 'bad.pt'));
    expect(err.message).toMatch(/^bad\.pt: /);
    expect(err.message).toMatch(message);
  });

  const legacyMain = (numel: number) => {
    const w = new PickleWriter().proto(2).op('}').str('w');
    tensorOps(w, { key: '140', numel, size: [numel], stride: [1], legacyView: null });
    return w.op('s').stop().bytes();
  };

  test('a hand-built legacy file reads', async () => {
    const f = await readTorchBytes(legacyFile(legacyMain(6), [['140', 6, six]]), 'old.pt');
    expect(f.format).toBe('legacy');
    expect(nums(f.tensors[0].tensor)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a big-endian legacy file reads', async () => {
    const be = new Uint8Array(24);
    [0, 1, 2, 3, 4, 5].forEach((x, i) => new DataView(be.buffer).setFloat32(4 * i, x, false));
    const f = await readTorchBytes(legacyFile(legacyMain(6), [['140', 6, be]], false), 'be.pt');
    expect(nums(f.tensors[0].tensor)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test.each<[string, () => Uint8Array, RegExp]>([
    [
      'a wrong magic number',
      () => {
        const b = legacyFile(legacyMain(6), [['140', 6, six]]);
        b[5] ^= 0xff;
        return b;
      },
      /the magic number is 0x[0-9a-f]+, expected 0x1950a86a20f9469cfc6c/,
    ],
    [
      'a count that disagrees with the pickle',
      () => legacyFile(legacyMain(6), [['140', 5, six.subarray(0, 20)]]),
      /storage '140' holds 5 elements but the pickle declares 6/,
    ],
    [
      'a storage cut short',
      () => legacyFile(legacyMain(6), [['140', 6, six]]).subarray(0, -4),
      /storage '140' needs 24 bytes .* \(truncated file\?\)/,
    ],
    [
      'a storage key missing',
      () => legacyFile(legacyMain(6), []),
      /storage '140' is used by a tensor but missing from the file/,
    ],
    [
      'bytes after the last storage',
      () => legacyFile(legacyMain(6), [['140', 6, f32bytes([0, 1, 2, 3, 4, 5, 6])]]),
      /4 unexpected bytes after the last storage/,
    ],
    [
      'a truncated pickle',
      () => legacyFile(legacyMain(6), [['140', 6, six]]).subarray(0, 100),
      /pickle 4 \(the saved object\): byte \d+ .*truncated file/,
    ],
  ])('legacy: %s', async (_label, make, message) => {
    const err = await rejection(readTorchBytes(make(), 'old.pt'));
    expect(err.message).toMatch(/^old\.pt: /);
    expect(err.message).toMatch(message);
  });

  test('a legacy storage view (torch < 1.0) is a window of its root storage', async () => {
    const w = new PickleWriter().proto(2).op('}').str('w');
    tensorOps(w, { key: '140', numel: 6, size: [2], stride: [2], offset: 1, legacyView: ['141', 2, 4] });
    const f = await readTorchBytes(legacyFile(w.op('s').stop().bytes(), [['140', 6, six]]), 'view.pt');
    expect(nums(f.tensors[0].tensor)).toEqual([3, 5]); // elements 1 and 3 of [2, 3, 4, 5]
    const past = new PickleWriter().proto(2).op('}').str('w');
    tensorOps(past, { key: '140', numel: 6, size: [2], stride: [1], legacyView: ['141', 5, 4] });
    const err = await rejection(readTorchBytes(legacyFile(past.op('s').stop().bytes(), [['140', 6, six]]), 'view.pt'));
    expect(err.message).toMatch(/storage view '141' covers elements 5\.\.9 of a storage of 6/);
  });

  test('one tensor at two paths (tied weights) is one object, listed at both', async () => {
    const w = new PickleWriter().proto(2).op('}').mark().str('embed.W_E');
    tensorOps(w, { key: '0', numel: 6, size: [2, 3], stride: [3, 1] }).binput(90);
    w.str('unembed.W_U').binget(90).op('u').stop();
    const f = await readTorchBytes(torchZip(w.bytes(), { 0: six }), 'tied.pt');
    expect(f.tensors.map((t) => t.path)).toEqual(['embed.W_E', 'unembed.W_U']);
    expect(f.tensors[0].tensor).toBe(f.tensors[1].tensor);
  });

  test('a list that contains itself reads, and stays cyclic', async () => {
    const bytes = new PickleWriter().proto(2).op(']').binput(0).binget(0).op('a').stop().bytes();
    const f = await readTorchBytes(torchZip(bytes, {}), 'cycle.pt');
    const root = f.root as unknown[];
    expect(root[0]).toBe(root);
    expect(f.tensors).toEqual([]);
  });

  test('no file descriptor is left open after an error', async () => {
    if (!existsSync('/proc/self/fd')) return;
    const broken = join(tmp, 'broken.pt');
    writeFileSync(broken, torchZip(oneTensor([6], [1]), {}));
    const cut = join(tmp, 'cut.pt');
    writeFileSync(cut, readFileSync(join(DIR, 'nanda-run.pt')).subarray(0, 5000));
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) {
      await rejection(readTorchFile(broken));
      await rejection(readTorchFile(cut));
      await readTorchFile(join(DIR, 'tl-state-dict.pt'));
    }
    await new Promise((r) => setTimeout(r, 100)); // yauzl closes its descriptor asynchronously
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before);
  });

  test('a missing file, a directory', async () => {
    expect((await rejection(readTorchFile(join(tmp, 'nope.pt')))).message).toMatch(/file does not exist/);
    expect((await rejection(readTorchFile(tmp))).message).toMatch(/is a directory/);
  });

  test('an expanded view may not ask for more memory than allowed', async () => {
    const bytes = torchZip(oneTensor([1000, 1000], [0, 0], 0, 1), { 0: f32bytes([7]) });
    const err = await rejection(readTorchBytes(bytes, 'wide.pt', { maxTensorBytes: 1 << 20 }));
    expect(err.message).toMatch(/tensor 'w' .*1000000 elements \(4000000 bytes\), more than the 1048576 bytes allowed/);
    const ok = await readTorchBytes(bytes, 'wide.pt');
    expect(ok.tensors[0].tensor.data.length).toBe(1e6);
  });
});

describe('fuzz: truncated and corrupted fixtures parse or throw FormatError, quickly', () => {
  const names = [
    'tl-state-dict.pt',
    'tl-state-dict-legacy.pt',
    'nanda-run.pt',
    'dtypes-p4.pt',
    'dtypes-legacy.pt',
    'hostile-os-system.pt',
  ];
  test('300 seeded mutations', async () => {
    const rng = new Rng(12);
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const name = names[i % names.length];
      const original = readFileSync(join(DIR, name));
      const bytes = new Uint8Array(original);
      let mutated = bytes;
      const kind = rng.int(3);
      if (kind === 0)
        mutated = bytes.subarray(0, rng.int(bytes.length)); // truncation
      else {
        const flips = kind === 1 ? 1 : 1 + rng.int(8);
        for (let k = 0; k < flips; k++) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
      }
      const start = performance.now();
      try {
        await withTimeout(readTorchBytes(mutated, name), 5000, `${name} mutation ${i}`);
        parsed++;
      } catch (err) {
        if (!(err instanceof FormatError))
          throw new Error(`${name} mutation ${i} (kind ${kind}): not a FormatError: ${String(err)}`, { cause: err });
        refused++;
      }
      expect(performance.now() - start, `${name} mutation ${i}`).toBeLessThan(2000);
    }
    expect(parsed + refused).toBe(300);
    expect(refused).toBeGreaterThan(50);
  });
});

function withTimeout<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label}: still running after ${ms} ms`)), ms);
    }),
  ]);
}

// With torch installed (Debian's python3-torch, seen by /usr/bin/python3), write fresh fixtures with
// whatever torch version is there and check them against what that torch reads back.
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasTorch)('live: files torch writes now', () => {
  test('a fresh run of scripts/make-torch-fixtures.py reads back exactly', async () => {
    const out = join(tmp, 'live');
    const run = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'make-torch-fixtures.py'), '--out', out], {
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const live: Expected = JSON.parse(readFileSync(join(out, 'expected.json'), 'utf8'));
    for (const name of Object.keys(live.files)) {
      checkAgainstTorch(await readTorchFile(join(out, name)), resolveExpected(live, name), `live ${name}`);
    }
    for (const [name, h] of Object.entries(live.hostile)) {
      const err = await rejection(readTorchFile(join(out, name)));
      expect((err as UnsafeGlobalError).global, name).toBe(h.global);
    }
    writeFileSync(join(out, 'done'), ''); // the folder is removed with tmp
  });
});
