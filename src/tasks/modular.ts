/**
 * Binary operations over Z_p (Power et al. 2022; Nanda et al. 2023): every valid pair (a, b) with
 * a, b in [0, p), a-major, as tokens [a, b, =] where '=' is token p. Labels are the result mod p.
 * 'div' is a·b⁻¹ and only defined for b ≠ 0, so it has p·(p−1) examples and needs p prime.
 *
 * Arithmetic is exact for any p < 2^31: products of two residues use doubles while they stay
 * below 2^53 and BigInt beyond that, so cubes and x·y² never lose bits.
 */
import type { ModularOp, TaskConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { show } from './show.ts';
import type { Dataset } from './types.ts';

export const MODULAR_OPS: readonly ModularOp[] = [
  'add',
  'sub',
  'mul',
  'div',
  'x2+y2',
  'x2+xy+y2',
  'x2+xy+y2+x',
  'x3+xy',
  'x3+xy2+y',
];

/** Largest p whose dataset fits one Int32Array of tokens: 3·p² ≤ 2^31 − 1. */
export const MAX_MODULUS = 26754;

const EXACT_PRODUCT_LIMIT = 94906265; // floor(√(2^53)): below it x·y of two residues is exact

/** x·y mod p for residues x, y in [0, p). */
export function mulMod(x: number, y: number, p: number): number {
  if (p <= EXACT_PRODUCT_LIMIT) return (x * y) % p;
  return Number((BigInt(x) * BigInt(y)) % BigInt(p));
}

/** b⁻¹ mod p by the extended Euclidean algorithm; throws if gcd(b, p) ≠ 1. */
export function modInverse(b: number, p: number): number {
  let [r0, r1] = [p, ((b % p) + p) % p];
  let [t0, t1] = [0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1) throw new RangeError(`${b} has no inverse mod ${p}`);
  return ((t0 % p) + p) % p;
}

/** Trial division; fine for the moduli used here (≤ 2^26). The one primality test of groklens. */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Whether (a, b) is in the operation's domain. */
export function isValidPair(op: ModularOp, _a: number, b: number): boolean {
  return op !== 'div' || b !== 0;
}

/**
 * The label of one pair: op(a, b) mod p, for a, b in [0, p). `invB` may pass a precomputed b⁻¹
 * for 'div' (the dataset builder uses a table).
 */
export function modularLabel(op: ModularOp, a: number, b: number, p: number, invB?: number): number {
  const add = (x: number, y: number) => (x + y) % p;
  const sq = (x: number) => mulMod(x, x, p);
  switch (op) {
    case 'add':
      return add(a, b);
    case 'sub':
      return (a - b + p) % p;
    case 'mul':
      return mulMod(a, b, p);
    case 'div':
      if (b === 0) throw new RangeError('div: b = 0 is outside the task');
      return mulMod(a, invB ?? modInverse(b, p), p);
    case 'x2+y2':
      return add(sq(a), sq(b));
    case 'x2+xy+y2':
      return add(add(sq(a), mulMod(a, b, p)), sq(b));
    case 'x2+xy+y2+x':
      return add(add(add(sq(a), mulMod(a, b, p)), sq(b)), a);
    case 'x3+xy':
      return add(mulMod(sq(a), a, p), mulMod(a, b, p));
    case 'x3+xy2+y':
      return add(add(mulMod(sq(a), a, p), mulMod(a, sq(b), p)), b);
  }
}

/** Check op and p; `source` names where the config came from, for the error message. */
export function validateModular(task: { op: ModularOp; p: number }, source = 'config'): void {
  if (!MODULAR_OPS.includes(task.op)) {
    throw new ConfigError(
      source,
      'task.op',
      `unknown operation ${show(task.op)}; expected one of ${MODULAR_OPS.join(', ')}`,
    );
  }
  const p = task.p;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 2) {
    throw new ConfigError(source, 'task.p', `expected an integer ≥ 2, got ${show(p)}`);
  }
  if (p > MAX_MODULUS) {
    throw new ConfigError(
      source,
      'task.p',
      `${p} is too large: the p² examples would not fit in memory (at most ${MAX_MODULUS})`,
    );
  }
  if (task.op === 'div' && !isPrime(p)) {
    throw new ConfigError(
      source,
      'task.p',
      `division needs a prime modulus so that every b ≠ 0 has an inverse, got ${p}`,
    );
  }
}

export function buildModularDataset(task: Extract<TaskConfig, { kind: 'modular' }>, source = 'config'): Dataset {
  validateModular(task, source);
  const { op, p } = task;
  const n = op === 'div' ? p * (p - 1) : p * p;
  const inverse = new Int32Array(p); // [p] b⁻¹ mod p, div only
  if (op === 'div') for (let b = 1; b < p; b++) inverse[b] = modInverse(b, p);
  const tokens = new Int32Array(n * 3); // [n, 3]
  const labels = new Int32Array(n); // [n]
  const as = new Int32Array(n); // [n]
  const bs = new Int32Array(n); // [n]
  let i = 0;
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      if (!isValidPair(op, a, b)) continue;
      tokens[3 * i] = a;
      tokens[3 * i + 1] = b;
      tokens[3 * i + 2] = p; // '='
      labels[i] = modularLabel(op, a, b, p, op === 'div' ? inverse[b] : undefined);
      as[i] = a;
      bs[i] = b;
      i++;
    }
  }
  return { task, n, n_ctx: 3, d_vocab: p + 1, d_vocab_out: p, tokens, labels, operands: { a: as, b: bs, size: p } };
}
