import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SplitConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { makeSplit, trainCount } from '../../src/tasks/split.ts';

function expectPartition(n: number, train: Int32Array, test: Int32Array): void {
  expect(train.length + test.length).toBe(n);
  const seen = new Uint8Array(n);
  for (const i of [...train, ...test]) {
    expect(i >= 0 && i < n).toBe(true);
    seen[i]++;
  }
  expect(seen.every((c) => c === 1)).toBe(true);
}

describe("python-random split (Nanda et al.'s)", () => {
  const p = 113;
  const split = makeSplit(p * p, { mode: 'python-random', seed: 0, train_fraction: 0.3 });
  const pair = (n: number) => [Math.floor(n / p), n % p];

  it('p = 113, seed 0, fraction 0.3 → 3830 train / 8939 test', () => {
    expect(split.train.length).toBe(3830);
    expect(split.test.length).toBe(8939);
  });

  it("first ten train pairs and the first test pair are the paper code's (docs/measures.md#train-test-split)", () => {
    expect(Array.from(split.train.subarray(0, 10), pair)).toEqual([
      [18, 34],
      [10, 83],
      [55, 28],
      [25, 51],
      [63, 65],
      [14, 104],
      [27, 56],
      [35, 77],
      [41, 72],
      [17, 111],
    ]);
    expect(pair(split.test[0])).toEqual([50, 67]);
  });

  it('first ten train and test pairs match CPython (fixtures/pyrandom-golden.json)', () => {
    const golden = JSON.parse(
      readFileSync(new URL('../../fixtures/pyrandom-golden.json', import.meta.url), 'utf8'),
    ).nanda_split;
    expect(golden.n_train).toBe(split.train.length);
    expect(Array.from(split.train.subarray(0, 10), pair)).toEqual(golden.train_head);
    expect(Array.from(split.test.subarray(0, 10), pair)).toEqual(golden.test_head);
  });

  it('is a partition of [0, n)', () => expectPartition(p * p, split.train, split.test));
});

describe("'shuffle' split", () => {
  const cfg = (seed: number, train_fraction = 0.5): SplitConfig => ({ mode: 'shuffle', seed, train_fraction });

  it('deterministic per seed, different across seeds, a partition', () => {
    const a = makeSplit(1000, cfg(3));
    const b = makeSplit(1000, cfg(3));
    const c = makeSplit(1000, cfg(4));
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(Array.from(a.train)).not.toEqual(Array.from(c.train));
    expectPartition(1000, a.train, a.test);
    expectPartition(1000, c.train, c.test);
  });

  it('differs from the python-random split with the same seed', () => {
    const ours = makeSplit(1000, cfg(0));
    const py = makeSplit(1000, { ...cfg(0), mode: 'python-random' });
    expect(Array.from(ours.train)).not.toEqual(Array.from(py.train));
  });

  it('keeps the shuffled order (not sorted)', () => {
    const s = makeSplit(1000, cfg(1));
    expect(Array.from(s.train)).not.toEqual([...s.train].sort((x, y) => x - y));
  });
});

describe('train size and validation', () => {
  it("truncates like Python's int(): 0.3·12769 = 3830.7 → 3830; float products are not rounded", () => {
    expect(trainCount(12769, 0.3)).toBe(3830);
    expect(trainCount(100, 0.29)).toBe(28); // 0.29·100 = 28.999999999999996 in float64, as Python gives
    expect(trainCount(10, 0.7)).toBe(7);
    expect(makeSplit(97 * 97, { mode: 'shuffle', seed: 0, train_fraction: 0.5 }).train.length).toBe(4704);
  });

  for (const mode of ['shuffle', 'python-random'] as const) {
    it(`${mode}: rejects fractions outside (0, 1) and empty sides, naming split.train_fraction and the value`, () => {
      const bad =
        (f: number, n = 100) =>
        () =>
          makeSplit(n, { mode, seed: 0, train_fraction: f });
      for (const f of [0, 1, -0.2, 1.5, NaN]) {
        expect(bad(f)).toThrow(ConfigError);
        expect(bad(f)).toThrow(new RegExp(`split\\.train_fraction.*${String(f).replace('.', '\\.')}`));
      }
      expect(bad(0.001)).toThrow(/split\.train_fraction.*0\.001.*0 train/);
      // the test side cannot come out empty for f < 1 (f·n truncates to at most n − 1 in float64)
      expect(makeSplit(100, { mode, seed: 0, train_fraction: 0.999 }).test.length).toBe(1);
      expect(bad(0.5, 1)).toThrow(/non-empty/);
      expect(makeSplit(2, { mode, seed: 0, train_fraction: 0.5 }).train.length).toBe(1);
    });
  }

  it('rejects bad seeds and modes', () => {
    expect(() => makeSplit(10, { mode: 'shuffle', seed: -1, train_fraction: 0.5 })).toThrow(/split\.seed.*-1/);
    expect(() => makeSplit(10, { mode: 'python-random', seed: 0.5, train_fraction: 0.5 })).toThrow(/split\.seed.*0\.5/);
    expect(() => makeSplit(10, { mode: 'random' as 'shuffle', seed: 0, train_fraction: 0.5 })).toThrow(
      /split\.mode.*"random"/,
    );
  });
});
