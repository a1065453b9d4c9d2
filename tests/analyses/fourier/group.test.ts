import { describe, expect, it } from 'vitest';
import { FourierInputError } from '../../../analyses/fourier/errors.ts';
import {
  isPrime,
  logPairIndices,
  multiplicativeGroup,
  primeFactors,
  reindexPairsByLog,
  reindexRowsByLog,
  smallestGenerator,
  zeroOperandPairs,
} from '../../../analyses/fourier/group.ts';

const PRIMES_TO_200 = Array.from({ length: 199 }, (_, i) => i + 2).filter((n) => {
  for (let d = 2; d < n; d++) if (n % d === 0) return false;
  return true;
});

/** Multiplicative order of g mod p, by brute force. */
function order(g: number, p: number): number {
  let x = g % p;
  let k = 1;
  while (x !== 1) {
    x = (x * g) % p;
    k++;
  }
  return k;
}

describe('primes and generators', () => {
  it('agrees with a brute-force sieve up to 200', () => {
    for (let n = -1; n <= 200; n++) expect(isPrime(n), `n = ${n}`).toBe(PRIMES_TO_200.includes(n));
    expect(primeFactors(112)).toEqual([2, 7]);
    expect(primeFactors(96)).toEqual([2, 3]);
  });

  it('finds the smallest generator, of order p − 1, for every prime up to 200', () => {
    expect(PRIMES_TO_200).toHaveLength(46);
    for (const p of PRIMES_TO_200) {
      const g = smallestGenerator(p);
      expect(order(g, p), `p = ${p}, g = ${g}`).toBe(p - 1);
      for (let h = 2; h < g; h++) expect(order(h, p), `p = ${p}, smaller h = ${h}`).toBeLessThan(p - 1);
    }
    // Known smallest primitive roots.
    expect([2, 3, 5, 7, 23, 41, 97, 113].map(smallestGenerator)).toEqual([1, 2, 2, 3, 5, 6, 5, 3]);
  });

  it('builds log and exp tables that invert each other', () => {
    for (const p of PRIMES_TO_200) {
      const G = multiplicativeGroup(p);
      expect(G.order).toBe(p - 1);
      expect(G.log[0]).toBe(-1);
      expect(new Set(G.exp).size).toBe(p - 1); // exp is a permutation of 1 … p−1
      for (let i = 0; i < p - 1; i++) expect(G.log[G.exp[i]]).toBe(i);
      for (let x = 1; x < p; x++) expect(G.exp[G.log[x]]).toBe(x);
      if (p > 2) expect(G.exp[1]).toBe(G.generator);
    }
  });

  it('refuses a modulus that is not prime, saying why', () => {
    expect(() => multiplicativeGroup(91)).toThrow(FourierInputError);
    expect(() => multiplicativeGroup(91)).toThrow(/^modulus p for the multiplicative group: expected a prime, got 91 \(prime factors 7, 13; /);
    expect(() => smallestGenerator(1)).toThrow(/expected an integer prime in \[2, 67108864\], got 1$/);
    expect(() => smallestGenerator(2.5)).toThrow(FourierInputError);
    expect(() => zeroOperandPairs(100)).toThrow(/prime factors 2, 5/);
  });
});

describe('re-indexing by discrete logs', () => {
  it('turns the multiplication table into addition mod p − 1, and division into subtraction', () => {
    for (const p of [2, 3, 5, 7, 11, 97, 113, 199]) {
      const G = multiplicativeGroup(p);
      const m = p - 1;
      const mul = new Float64Array(p * p);
      const div = new Float64Array(p * p);
      for (let a = 0; a < p; a++) {
        for (let b = 0; b < p; b++) {
          mul[a * p + b] = (a * b) % p;
          div[a * p + b] = b === 0 ? NaN : (a * G.exp[(m - G.log[b]) % m]) % p; // a · b^{−1}
        }
      }
      const R = reindexPairsByLog(mul, p, 1, G);
      const D = reindexPairsByLog(div, p);
      expect(R).toHaveLength(m * m);
      const wrong: string[] = [];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          if (G.log[R[i * m + j]] !== (i + j) % m) wrong.push(`mul (${i},${j})`);
          if (G.log[D[i * m + j]] !== (i - j + m) % m) wrong.push(`div (${i},${j})`);
        }
      }
      expect(wrong, `p = ${p}`).toEqual([]);
    }
  });

  it('re-indexes an inner axis along with the pair, and agrees with logPairIndices', () => {
    const p = 13;
    const inner = 3;
    const T = new Float32Array(p * p * inner).map((_, i) => i);
    const R = reindexPairsByLog(T, p, inner);
    const idx = logPairIndices(p);
    expect(idx).toHaveLength(12 * 12);
    for (let cell = 0; cell < idx.length; cell++) {
      for (let t = 0; t < inner; t++) expect(R[cell * inner + t]).toBe(idx[cell] * inner + t);
    }
  });

  it('re-indexes rows over Z_p (an embedding) by log, dropping the zero row', () => {
    const p = 7;
    const G = multiplicativeGroup(p); // g = 3: exp = 1, 3, 2, 6, 4, 5
    const W = new Float64Array(p * 2).map((_, i) => i); // row x = [2x, 2x+1]
    expect(Array.from(reindexRowsByLog(W, p, 2, G))).toEqual([2, 3, 6, 7, 4, 5, 12, 13, 8, 9, 10, 11]);
    expect(() => reindexRowsByLog(W, p, 3)).toThrow(/^row table length: expected 21 \(shape \[7, 3\]\), got 14$/);
    expect(() => reindexPairsByLog(new Float64Array(49), 7, 1, multiplicativeGroup(5))).toThrow(FourierInputError);
  });

  it('lists the 2p − 1 pairs with a zero operand, each once', () => {
    for (const p of [2, 5, 113]) {
      const pairs = zeroOperandPairs(p);
      expect(pairs).toHaveLength(2 * p - 1);
      expect(new Set(pairs.map((q) => q.index)).size).toBe(2 * p - 1);
      for (const { a, b, index } of pairs) {
        expect(a === 0 || b === 0).toBe(true);
        expect(index).toBe(a * p + b);
      }
      // Together with the re-indexed cells they cover every pair exactly once.
      const all = new Set([...pairs.map((q) => q.index), ...logPairIndices(p)]);
      expect(all.size).toBe(p * p);
    }
  });
});
