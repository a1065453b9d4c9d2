/**
 * Multiplication and division mod a prime p are addition in the exponent (docs/measures.md#group-view): Z_p^* is
 * cyclic of order p−1, so with a generator g every nonzero x is g^{log x} and
 * a·b = g^{(log a + log b) mod (p−1)}. Re-indexing a p×p table over (a, b) by (log a, log b)
 * turns the multiplicative structure into an additive one over Z_{p−1}, which the Fourier basis
 * of size p−1 (even: with its Nyquist row) analyses. Pairs with a zero operand have no log and
 * are reported apart. The re-indexing of a dataset is analyses/group-view.ts (groupGrid).
 */
import { isPrime } from '../../src/tasks/modular.ts';
import { checkSize, FourierInputError } from './errors.ts';

/** Largest modulus accepted: keeps every product a·b below 2^53, so modular arithmetic is exact. */
export const MAX_GROUP_MODULUS = 2 ** 26;

export interface MultiplicativeGroup {
  readonly p: number;
  /** p − 1, the order of Z_p^*. */
  readonly order: number;
  /** The smallest generator g of Z_p^* (1 for p = 2, whose group is trivial). */
  readonly generator: number;
  /** [p] log[x] = i with g^i ≡ x (mod p), for x = 1 … p−1; log[0] = −1 (zero has no log). */
  readonly log: Int32Array;
  /** [p−1] exp[i] = g^i mod p, the inverse of log. */
  readonly exp: Int32Array;
}

/** Distinct prime factors of n ≥ 1, ascending. */
export function primeFactors(n: number): number[] {
  checkSize('number to factor', n);
  const factors: number[] = [];
  let m = n;
  for (let d = 2; d * d <= m; d++) {
    if (m % d === 0) {
      factors.push(d);
      while (m % d === 0) m /= d;
    }
  }
  if (m > 1) factors.push(m);
  return factors;
}

/** base^e mod p, exact for p ≤ MAX_GROUP_MODULUS. */
export function powMod(base: number, e: number, p: number): number {
  let result = 1 % p;
  let b = base % p;
  let k = e;
  while (k > 0) {
    if (k & 1) result = (result * b) % p;
    b = (b * b) % p;
    k = Math.floor(k / 2);
  }
  return result;
}

/** The smallest generator of Z_p^*: g whose order is p−1, i.e. g^((p−1)/q) ≠ 1 for every prime q | p−1. */
export function smallestGenerator(p: number): number {
  checkPrime(p);
  if (p === 2) return 1;
  const qs = primeFactors(p - 1);
  for (let g = 2; g < p; g++) {
    if (qs.every((q) => powMod(g, (p - 1) / q, p) !== 1)) return g;
  }
  throw new Error(`no generator found for prime ${p}: impossible, Z_p^* is cyclic`);
}

/** Generator, discrete-log and exp tables of Z_p^*. Throws FourierInputError unless p is prime. */
export function multiplicativeGroup(p: number): MultiplicativeGroup {
  const g = smallestGenerator(p);
  const order = p - 1;
  const log = new Int32Array(p).fill(-1);
  const exp = new Int32Array(order);
  let x = 1;
  for (let i = 0; i < order; i++) {
    exp[i] = x;
    log[x] = i;
    x = (x * g) % p;
  }
  return { p, order, generator: g, log, exp };
}

function checkPrime(p: number): void {
  if (!Number.isInteger(p) || p < 2 || p > MAX_GROUP_MODULUS) {
    throw new FourierInputError(
      'modulus p for the multiplicative group',
      p,
      `an integer prime in [2, ${MAX_GROUP_MODULUS}]`,
    );
  }
  if (!isPrime(p)) {
    throw new FourierInputError(
      'modulus p for the multiplicative group',
      p,
      'a prime',
      `prime factors ${primeFactors(p).join(', ')}; x·y and x/y mod p form a group of order p−1 only for prime p`,
    );
  }
}
