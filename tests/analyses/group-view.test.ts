import { describe, expect, it } from 'vitest';
import {
  gatherActivations,
  gatherLogits,
  groupGrid,
  groupView,
  gridTrainMask,
  residueOfGroup,
} from '../../analyses/group-view.ts';
import { FourierInputError } from '../../analyses/fourier/errors.ts';
import type { ModularOp, TaskConfig } from '../../src/config/types.ts';
import { buildDataset } from '../../src/tasks/index.ts';

const modular = (op: ModularOp, p: number): TaskConfig => ({ kind: 'modular', op, p });

/** Oracle: the smallest g whose powers hit every nonzero residue, by brute force. */
function bruteGenerator(p: number): number {
  for (let g = 2; g < p; g++) {
    const seen = new Set<number>();
    let x = 1;
    for (let i = 0; i < p - 1; i++, x = (x * g) % p) seen.add(x);
    if (seen.size === p - 1) return g;
  }
  throw new Error('no generator');
}

/** Oracle: g^e mod p by repeated multiplication. */
function power(g: number, e: number, p: number): number {
  let x = 1;
  for (let i = 0; i < e; i++) x = (x * g) % p;
  return x;
}

describe('groupView', () => {
  it('names the group of each operation', () => {
    expect(groupView(modular('add', 7))).toMatchObject({ kind: 'additive', n: 7 });
    expect(groupView(modular('sub', 7))).toMatchObject({ kind: 'additive', n: 7 });
    expect(groupView(modular('mul', 13))).toMatchObject({
      kind: 'multiplicative',
      n: 12,
      generator: bruteGenerator(13),
    });
    expect(groupView(modular('div', 23))).toMatchObject({
      kind: 'multiplicative',
      n: 22,
      generator: bruteGenerator(23),
    });
    expect(groupView(modular('sub', 7)).description).toContain('−b');
    expect(groupView(modular('div', 7)).description).toContain('−log_g b');
  });

  it("is 'none' for the other tasks and for × with a composite modulus", () => {
    expect(groupView(modular('x2+y2', 7))).toMatchObject({ kind: 'none', n: 0 });
    expect(groupView({ kind: 's5' })).toMatchObject({ kind: 'none', n: 0 });
    expect(groupView(modular('mul', 9))).toMatchObject({ kind: 'none', n: 0 });
    expect(() => groupGrid(buildDataset(modular('x3+xy', 5)))).toThrow(FourierInputError);
  });
});

describe('groupGrid', () => {
  for (const [op, p] of [
    ['add', 7],
    ['sub', 11],
    ['mul', 7],
    ['mul', 11],
    ['div', 7],
    ['div', 13],
  ] as const) {
    it(`${op} mod ${p}: every cell's label is (i + j) mod n, and the cell's operands follow the group map`, () => {
      const ds = buildDataset(modular(op, p));
      const grid = groupGrid(ds);
      const multiplicative = op === 'mul' || op === 'div';
      const n = multiplicative ? p - 1 : p;
      const g = multiplicative ? bruteGenerator(p) : 0;
      const residue = (x: number) => (multiplicative ? power(g, x, p) : x);
      expect(grid.n).toBe(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const cell = i * n + j;
          const e = grid.exampleOfCell[cell];
          expect(grid.cellOfExample[e]).toBe(cell);
          expect(ds.operands!.a[e]).toBe(residue(i));
          // b ↦ −b (sub, div): the cell's j is the negated group element of b.
          const jb = op === 'sub' || op === 'div' ? (n - j) % n : j;
          expect(ds.operands!.b[e]).toBe(residue(jb));
          expect(ds.labels[e]).toBe(residue((i + j) % n));
          expect(grid.answerOfCell[cell]).toBe((i + j) % n);
        }
      }
      const zeroOperand = (e: number) => ds.operands!.a[e] === 0 || ds.operands!.b[e] === 0;
      const expectedOutside = Array.from({ length: ds.n }, (_, e) => e).filter((e) => multiplicative && zeroOperand(e));
      expect(Array.from(grid.outside)).toEqual(expectedOutside);
      expect(expectedOutside.length).toBe(op === 'mul' ? 2 * p - 1 : op === 'div' ? p - 1 : 0);
    });
  }

  it('mul: the output class 0 is outside the group, every other class maps to its log', () => {
    const grid = groupGrid(buildDataset(modular('mul', 11)));
    const g = bruteGenerator(11);
    expect(grid.groupOfClass[0]).toBe(-1);
    for (let x = 0; x < 10; x++) {
      expect(grid.classOfGroup[x]).toBe(power(g, x, 11));
      expect(grid.groupOfClass[power(g, x, 11)]).toBe(x);
    }
    expect(Array.from(residueOfGroup(modular('mul', 11)))).toEqual(Array.from(grid.classOfGroup));
  });
});

describe('gathers', () => {
  it("gatherLogits picks each cell's example and the group classes, dropping class 0 of div", () => {
    const p = 7;
    const ds = buildDataset(modular('div', p));
    const grid = groupGrid(ds);
    const n = p - 1;
    // logits[e, c] = 100·e + c encodes where each entry came from (exact in float32).
    const logits = Float32Array.from({ length: ds.n * p }, (_, k) => 100 * Math.floor(k / p) + (k % p));
    const L = gatherLogits(grid, logits);
    expect(L.length).toBe(n * n * n);
    for (let cell = 0; cell < n * n; cell++) {
      for (let x = 0; x < n; x++) {
        const v = L[cell * n + x];
        expect(Math.floor(v / 100)).toBe(grid.exampleOfCell[cell]);
        expect(v % 100).toBe(grid.classOfGroup[x]);
        expect(v % 100).not.toBe(0);
      }
    }
  });

  it('one-hot logits of the labels peak at (i + j) mod n on the grid (mul, sub)', () => {
    for (const task of [modular('mul', 13), modular('sub', 13)]) {
      const ds = buildDataset(task);
      const grid = groupGrid(ds);
      const p = 13;
      const logits = new Float64Array(ds.n * p);
      for (let e = 0; e < ds.n; e++) logits[e * p + ds.labels[e]] = 1;
      const L = gatherLogits(grid, logits);
      const n = grid.n;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const row = Array.from(L.subarray((i * n + j) * n, (i * n + j + 1) * n));
          expect(row.indexOf(1)).toBe((i + j) % n);
          expect(row.reduce((a, b) => a + b, 0)).toBe(1);
        }
      }
    }
  });

  it('gridTrainMask marks the train examples inside the group, gatherActivations reorders rows', () => {
    const ds = buildDataset(modular('mul', 7));
    const grid = groupGrid(ds);
    const train = Int32Array.from([0, 3, 8, 9, 20, 48]); // 0 and 3 have a = 0: outside
    const mask = gridTrainMask(grid, train);
    const inside = Array.from(train).filter((e) => grid.cellOfExample[e] >= 0);
    expect(inside.length).toBe(4);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(inside.length);
    for (const e of inside) expect(mask[grid.cellOfExample[e]]).toBe(1);

    const d = 3;
    const acts = Float32Array.from({ length: ds.n * d }, (_, k) => k);
    const A = gatherActivations(grid, acts, d);
    for (let cell = 0; cell < grid.n * grid.n; cell++) {
      for (let t = 0; t < d; t++) expect(A[cell * d + t]).toBe(grid.exampleOfCell[cell] * d + t);
    }
  });

  it('rejects arrays of the wrong shape and bad train indices, naming them', () => {
    const grid = groupGrid(buildDataset(modular('add', 5)));
    expect(() => gatherLogits(grid, new Float32Array(24 * 5))).toThrow(/logits length: expected 125 \(shape \[25, 5\]/);
    expect(() => gatherActivations(grid, new Float32Array(25 * 4), 3)).toThrow(/activations length/);
    expect(() => gridTrainMask(grid, [3, 25])).toThrow(
      /train index \[1\]: expected an example index in \[0, 25\), got 25/,
    );
  });
});
