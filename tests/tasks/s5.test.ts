import { describe, expect, it } from 'vitest';
import { buildS5Dataset, composePermutations, S5_PERMUTATIONS, s5Compose, s5Index } from '../../src/tasks/s5.ts';
import { Rng } from '../../src/rng.ts';

const ds = buildS5Dataset({ kind: 's5' });

describe('S5 composition', () => {
  it('shape: 14400 examples, vocab 121, 120 classes, operands of size 120', () => {
    expect(ds.n).toBe(14400);
    expect(ds.n_ctx).toBe(3);
    expect(ds.d_vocab).toBe(121);
    expect(ds.d_vocab_out).toBe(120);
    expect(ds.operands!.size).toBe(120);
    expect([ds.tokens[3 * 121], ds.tokens[3 * 121 + 1], ds.tokens[3 * 121 + 2]]).toEqual([1, 1, 120]);
  });

  it('permutations are the 120 distinct ones, in lexicographic order', () => {
    expect(S5_PERMUTATIONS.length).toBe(120);
    const keys = S5_PERMUTATIONS.map((p) => p.join(''));
    expect(new Set(keys).size).toBe(120);
    expect([...keys].sort()).toEqual(keys); // one digit per entry: string order = lexicographic order
    expect(keys[0]).toBe('01234');
    expect(keys[1]).toBe('01243');
    expect(keys[119]).toBe('43210');
    for (const p of S5_PERMUTATIONS) expect([...p].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('label table matches composing permutation arrays directly: (x∘y)(i) = x(y(i))', () => {
    const byKey = new Map(S5_PERMUTATIONS.map((p, i) => [p.join(','), i]));
    for (let x = 0; x < 120; x++) {
      for (let y = 0; y < 120; y++) {
        const X = S5_PERMUTATIONS[x];
        const Y = S5_PERMUTATIONS[y];
        const composed: number[] = [];
        for (let i = 0; i < 5; i++) composed.push(X[Y[i]]);
        const n = x * 120 + y;
        expect(ds.labels[n]).toBe(byKey.get(composed.join(',')));
        expect([ds.operands!.a[n], ds.operands!.b[n]]).toEqual([x, y]);
      }
    }
  });

  it('the convention applies y first: a worked example', () => {
    const x = s5Index([1, 0, 2, 3, 4]); // swap 0,1
    const y = s5Index([0, 2, 1, 3, 4]); // swap 1,2
    // (x∘y)(0) = x(y(0)) = x(0) = 1; (x∘y)(1) = x(2) = 2; (x∘y)(2) = x(1) = 0
    expect(S5_PERMUTATIONS[s5Compose(x, y)]).toEqual([1, 2, 0, 3, 4]);
    expect(S5_PERMUTATIONS[s5Compose(y, x)]).toEqual([2, 0, 1, 3, 4]);
  });

  it('index 0 is the identity element on both sides', () => {
    for (let x = 0; x < 120; x++) {
      expect(ds.labels[0 * 120 + x]).toBe(x);
      expect(ds.labels[x * 120 + 0]).toBe(x);
    }
  });

  it('every element has an inverse and each row is a permutation (Latin square)', () => {
    for (let x = 0; x < 120; x++) {
      const row = new Set(Array.from({ length: 120 }, (_, y) => ds.labels[x * 120 + y]));
      expect(row.size).toBe(120);
      expect(row.has(0)).toBe(true);
    }
  });

  it('composition is associative on random triples and not commutative', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 500; t++) {
      const [x, y, z] = [rng.int(120), rng.int(120), rng.int(120)];
      expect(ds.labels[ds.labels[x * 120 + y] * 120 + z]).toBe(ds.labels[x * 120 + ds.labels[y * 120 + z]]);
    }
    let noncommuting = 0;
    for (let x = 0; x < 120; x++)
      for (let y = 0; y < 120; y++) if (ds.labels[x * 120 + y] !== ds.labels[y * 120 + x]) noncommuting++;
    expect(noncommuting).toBeGreaterThan(0);
  });

  it('s5Index rejects non-permutations', () => {
    expect(() => s5Index([0, 0, 1, 2, 3])).toThrow(/not a permutation/);
    expect(() => s5Index([0, 1, 2, 3])).toThrow(/not a permutation/);
    expect(composePermutations([1, 2, 0], [0, 2, 1])).toEqual([1, 0, 2]);
  });
});
