/**
 * Composition in the symmetric group S5 (Power et al. 2022). The 120 permutations of {0,…,4} are
 * numbered in lexicographic order of their one-line notation ([0,1,2,3,4] is 0, the identity;
 * [4,3,2,1,0] is 119). Example (x, y) is the sequence [x, y, =] with '=' = token 120, and its label
 * is the index of x∘y, where (x∘y)(i) = x(y(i)): y is applied first. All 120² ordered pairs,
 * x-major, 14400 examples.
 */
import type { TaskConfig } from '../config/types.ts';
import type { Dataset } from './types.ts';

export const S5_ORDER = 120;
export const S5_EQUALS_TOKEN = 120;

/** The 120 permutations in lexicographic order, each in one-line notation (perm[i] = image of i). */
export const S5_PERMUTATIONS: readonly (readonly number[])[] = lexicographicPermutations(5);

/** Maps a permutation's base-5 code Σ perm[i]·5^i to its index; −1 for non-permutations. */
const INDEX_BY_CODE: Int32Array = (() => {
  const table = new Int32Array(5 ** 5).fill(-1);
  S5_PERMUTATIONS.forEach((perm, idx) => (table[code(perm)] = idx));
  return table;
})();

/** Index (0…119) of a permutation of {0,…,4} given in one-line notation. */
export function s5Index(perm: readonly number[]): number {
  const valid = perm.length === 5 && perm.every((v) => Number.isInteger(v) && v >= 0 && v < 5);
  const idx = valid ? INDEX_BY_CODE[code(perm)] : -1;
  if (idx < 0) throw new RangeError(`not a permutation of 0..4: [${perm.join(', ')}]`);
  return idx;
}

/** (x∘y)(i) = x(y(i)), on permutation arrays. */
export function composePermutations(x: readonly number[], y: readonly number[]): number[] {
  return y.map((yi) => x[yi]);
}

/** Index of x∘y, for indices x, y in [0, 120). */
export function s5Compose(x: number, y: number): number {
  return s5Index(composePermutations(S5_PERMUTATIONS[x], S5_PERMUTATIONS[y]));
}

export function buildS5Dataset(task: Extract<TaskConfig, { kind: 's5' }>): Dataset {
  const n = S5_ORDER * S5_ORDER;
  const tokens = new Int32Array(n * 3); // [n, 3]
  const labels = new Int32Array(n); // [n]
  const as = new Int32Array(n); // [n]
  const bs = new Int32Array(n); // [n]
  for (let x = 0; x < S5_ORDER; x++) {
    for (let y = 0; y < S5_ORDER; y++) {
      const i = x * S5_ORDER + y;
      tokens[3 * i] = x;
      tokens[3 * i + 1] = y;
      tokens[3 * i + 2] = S5_EQUALS_TOKEN;
      labels[i] = s5Compose(x, y);
      as[i] = x;
      bs[i] = y;
    }
  }
  return {
    task,
    n,
    n_ctx: 3,
    d_vocab: S5_ORDER + 1,
    d_vocab_out: S5_ORDER,
    tokens,
    labels,
    operands: { a: as, b: bs, size: S5_ORDER },
  };
}

function code(perm: readonly number[]): number {
  let c = 0;
  for (let i = perm.length - 1; i >= 0; i--) c = c * 5 + perm[i];
  return c;
}

/** All permutations of [0, m) in lexicographic order: pick each unused value in increasing order. */
function lexicographicPermutations(m: number): number[][] {
  const out: number[][] = [];
  const current: number[] = [];
  const used = new Array<boolean>(m).fill(false);
  const extend = () => {
    if (current.length === m) {
      out.push([...current]);
      return;
    }
    for (let v = 0; v < m; v++) {
      if (used[v]) continue;
      used[v] = true;
      current.push(v);
      extend();
      current.pop();
      used[v] = false;
    }
  };
  extend();
  return out;
}
