import { describe, expect, it } from 'vitest';
import type { ModularOp } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  buildModularDataset,
  isPrime,
  MODULAR_OPS,
  modInverse,
  modularLabel,
  mulMod,
} from '../../src/tasks/modular.ts';

/** Oracle: the formula evaluated in BigInt, reduced once at the end. */
function oracle(op: ModularOp, a: number, b: number, p: number): number {
  const [x, y, m] = [BigInt(a), BigInt(b), BigInt(p)];
  const mod = (v: bigint) => Number(((v % m) + m) % m);
  switch (op) {
    case 'add':
      return mod(x + y);
    case 'sub':
      return mod(x - y);
    case 'mul':
      return mod(x * y);
    case 'div': {
      // brute force: the c with c·b ≡ a (mod p)
      for (let c = 0; c < p; c++) if (mod(BigInt(c) * y) === a) return c;
      throw new Error('no quotient');
    }
    case 'x2+y2':
      return mod(x ** 2n + y ** 2n);
    case 'x2+xy+y2':
      return mod(x ** 2n + x * y + y ** 2n);
    case 'x2+xy+y2+x':
      return mod(x ** 2n + x * y + y ** 2n + x);
    case 'x3+xy':
      return mod(x ** 3n + x * y);
    case 'x3+xy2+y':
      return mod(x ** 3n + x * y ** 2n + y);
  }
}

describe('modular datasets', () => {
  for (const op of MODULAR_OPS) {
    for (const p of [2, 7, 23]) {
      it(`${op} mod ${p}: every label matches the BigInt oracle, a-major order, tokens [a, b, =]`, () => {
        const ds = buildModularDataset({ kind: 'modular', op, p });
        const expectedN = op === 'div' ? p * (p - 1) : p * p;
        expect(ds.n).toBe(expectedN);
        expect(ds.n_ctx).toBe(3);
        expect(ds.d_vocab).toBe(p + 1);
        expect(ds.d_vocab_out).toBe(p);
        expect(ds.tokens.length).toBe(3 * expectedN);
        expect(ds.operands!.size).toBe(p);
        let i = 0;
        for (let a = 0; a < p; a++) {
          for (let b = 0; b < p; b++) {
            if (op === 'div' && b === 0) continue;
            expect([ds.tokens[3 * i], ds.tokens[3 * i + 1], ds.tokens[3 * i + 2]]).toEqual([a, b, p]);
            expect([ds.operands!.a[i], ds.operands!.b[i]]).toEqual([a, b]);
            expect(ds.labels[i]).toBe(oracle(op, a, b, p));
            i++;
          }
        }
        expect(i).toBe(ds.n);
      });
    }
  }

  it('p = 113 add: 12769 examples, labels in range', () => {
    const ds = buildModularDataset({ kind: 'modular', op: 'add', p: 113 });
    expect(ds.n).toBe(12769);
    expect(Math.min(...ds.labels)).toBe(0);
    expect(Math.max(...ds.labels)).toBe(112);
    expect(ds.labels[5 * 113 + 110]).toBe(2);
  });

  it('div mod 97 has p(p−1) examples and every label satisfies c·b ≡ a', () => {
    const p = 97;
    const ds = buildModularDataset({ kind: 'modular', op: 'div', p });
    expect(ds.n).toBe(p * (p - 1));
    for (let i = 0; i < ds.n; i++) {
      const [a, b] = [ds.operands!.a[i], ds.operands!.b[i]];
      expect(b).not.toBe(0);
      expect((ds.labels[i] * b) % p).toBe(a);
    }
  });

  it('labels stay exact for large moduli (cubes beyond 2^53)', () => {
    for (const p of [9973, 1_000_003, 2_147_483_647]) {
      const pairs = [
        [p - 1, p - 1],
        [p - 2, p - 3],
        [123456 % p, 98765 % p],
        [0, p - 1],
        [p - 1, 1],
      ];
      for (const op of MODULAR_OPS) {
        if (op === 'div') continue; // brute-force oracle too slow here: checked below
        for (const [a, b] of pairs) expect(modularLabel(op, a, b, p)).toBe(oracle(op, a, b, p));
      }
      for (const [a, b] of pairs) {
        if (b === 0) continue;
        const c = modularLabel('div', a, b, p);
        expect(Number((BigInt(c) * BigInt(b)) % BigInt(p))).toBe(a);
      }
    }
  });

  it('mulMod and modInverse', () => {
    expect(mulMod(2_147_483_646, 2_147_483_646, 2_147_483_647)).toBe(1);
    expect(modInverse(3, 7)).toBe(5);
    expect(() => modInverse(2, 8)).toThrow(RangeError);
    expect([2, 3, 5, 97, 113, 9973].every(isPrime)).toBe(true);
    expect([0, 1, 4, 9, 91, 9975].some(isPrime)).toBe(false);
  });

  it('mul with a composite modulus is allowed', () => {
    const ds = buildModularDataset({ kind: 'modular', op: 'mul', p: 10 });
    expect(ds.n).toBe(100);
    expect(ds.labels[4 * 10 + 5]).toBe(0);
  });

  it('rejects bad moduli with a ConfigError naming task.p and the value', () => {
    const bad = (op: ModularOp, p: number) => () => buildModularDataset({ kind: 'modular', op, p });
    expect(bad('div', 12)).toThrow(ConfigError);
    expect(bad('div', 12)).toThrow(/task\.p.*prime.*12/);
    expect(bad('add', 1)).toThrow(/task\.p.*got 1/);
    expect(bad('add', 7.5)).toThrow(/task\.p.*7\.5/);
    expect(bad('add', NaN)).toThrow(/task\.p.*got NaN/);
    expect(bad('add', 100_000)).toThrow(/task\.p.*100000/);
    expect(bad('pow' as ModularOp, 7)).toThrow(/task\.op.*"pow"/);
  });
});
