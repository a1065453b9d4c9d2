import { describe, expect, it } from 'vitest';
import { FourierInputError } from '../../../analyses/fourier/errors.ts';
import { isPrime } from '../../../src/tasks/modular.ts';
import { multiplicativeGroup, primeFactors, smallestGenerator } from '../../../analyses/fourier/group.ts';

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
    expect(() => multiplicativeGroup(91)).toThrow(
      /^modulus p for the multiplicative group: expected a prime, got 91 \(prime factors 7, 13; /,
    );
    expect(() => smallestGenerator(1)).toThrow(/expected an integer prime in \[2, 67108864\], got 1$/);
    expect(() => smallestGenerator(2.5)).toThrow(FourierInputError);
  });
});
