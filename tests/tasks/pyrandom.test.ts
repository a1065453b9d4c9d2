import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bitLength, PyRandom, seedKey } from '../../src/tasks/pyrandom.ts';

/** Generated once by scripts/gen-pyrandom-golden.py with CPython 3.11. */
interface Golden {
  seeds: {
    seed: string;
    getrandbits32: number[];
    getrandbits_mixed: [number, string][];
    randbelow: [string, number][];
    random: number[];
  }[];
  shuffles: { seed: number; n: number; result: number[] }[];
}
const golden: Golden = JSON.parse(
  readFileSync(new URL('../../fixtures/pyrandom-golden.json', import.meta.url), 'utf8'),
);

describe('PyRandom matches CPython random', () => {
  for (const g of golden.seeds) {
    describe(`seed ${g.seed}`, () => {
      it('first getrandbits(32) outputs', () => {
        const r = new PyRandom(BigInt(g.seed));
        expect(g.getrandbits32.map(() => r.getrandbits(32))).toEqual(g.getrandbits32);
      });

      it('getrandbits(k) for k from 1 to 100 (bigint and number paths)', () => {
        const big = new PyRandom(BigInt(g.seed));
        const num = new PyRandom(BigInt(g.seed));
        for (const [k, v] of g.getrandbits_mixed) {
          expect(big.getrandbitsBig(k)).toBe(BigInt(v));
          if (k <= 53) expect(num.getrandbits(k)).toBe(Number(v));
          else num.getrandbitsBig(k);
        }
      });

      it('_randbelow(n)', () => {
        const r = new PyRandom(BigInt(g.seed));
        for (const [n, v] of g.randbelow) expect(r.randbelow(Number(n))).toBe(v);
      });

      it('random()', () => {
        const r = new PyRandom(BigInt(g.seed));
        expect(g.random.map(() => r.random())).toEqual(g.random);
      });
    });
  }

  for (const s of golden.shuffles) {
    it(`shuffle(range(${s.n})) with seed ${s.seed}`, () => {
      const xs = Array.from({ length: s.n }, (_, i) => i);
      new PyRandom(s.seed).shuffle(xs);
      expect(xs).toEqual(s.result);
      const typed = Int32Array.from({ length: s.n }, (_, i) => i);
      new PyRandom(s.seed).shuffle(typed);
      expect(Array.from(typed)).toEqual(s.result);
    });
  }

  it('number and bigint seeds agree; negative seeds act as their absolute value', () => {
    expect(new PyRandom(42).getrandbits(32)).toBe(new PyRandom(42n).getrandbits(32));
    expect(new PyRandom(-42).getrandbits(32)).toBe(new PyRandom(42).getrandbits(32));
    const r = new PyRandom(3);
    const first = r.getrandbits(32);
    r.seed(3);
    expect(r.getrandbits(32)).toBe(first);
  });

  it('seed key: |seed| as little-endian 32-bit words, 0 → [0]', () => {
    expect(Array.from(seedKey(0n))).toEqual([0]);
    expect(Array.from(seedKey(1n))).toEqual([1]);
    expect(Array.from(seedKey(2n ** 32n + 5n))).toEqual([5, 1]);
    expect(Array.from(seedKey(-(2n ** 64n)))).toEqual([0, 0, 1]);
  });

  it('bitLength is int.bit_length()', () => {
    expect([1, 2, 3, 4, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 53].map(bitLength)).toEqual([
      1, 2, 2, 3, 8, 9, 32, 33, 54,
    ]);
  });

  it('rejects unsafe arguments', () => {
    expect(() => new PyRandom(0.5)).toThrow(RangeError);
    expect(() => new PyRandom(2 ** 60)).toThrow(RangeError);
    expect(() => new PyRandom(1).randbelow(0)).toThrow(RangeError);
    expect(() => new PyRandom(1).getrandbits(54)).toThrow(RangeError);
  });
});
