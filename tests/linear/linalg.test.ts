/** The blocked Gram kernel against a plain dot-product oracle, bit for bit, at awkward sizes. */
import { describe, expect, it } from 'vitest';
import { gaussian, matmul, rowGram, transpose } from '../../linear/linalg.ts';
import { Rng } from '../../src/rng.ts';

describe('rowGram', () => {
  it.each([
    [1, 5],
    [2, 3],
    [5, 9],
    [7, 1],
    [9, 16],
    [13, 4],
  ])('%i rows of length %i: every entry is the in-order dot product, symmetric', (rows, cols) => {
    const a = gaussian(new Rng(rows * 100 + cols), rows, cols, 1);
    const g = rowGram(a, 0.25);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < rows; j++) {
        let s = 0;
        for (let k = 0; k < cols; k++) s += a.data[i * cols + k] * a.data[j * cols + k];
        // Same products summed in the same order: the same double, not just close.
        expect(g[i * rows + j]).toBe(s * 0.25);
      }
    }
    const dense = matmul(a, transpose(a));
    for (let i = 0; i < g.length; i++) expect(g[i]).toBeCloseTo(dense.data[i] * 0.25, 12);
  });
});
