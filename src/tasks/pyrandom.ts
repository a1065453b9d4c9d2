/**
 * The pieces of CPython's `random` module needed to replay `random.seed(int); random.shuffle(x)`
 * bit for bit, so that the toolkit reproduces Nanda et al.'s train/test split exactly.
 *
 * - Generator: MT19937 (Matsumoto & Nishimura 1998), 624 uint32 words of state.
 * - Seeding with an int: CPython takes |seed|, splits it into 32-bit words least significant
 *   first (seed 0 → key [0]), and feeds that key to the reference `init_by_array`.
 * - `getrandbits(k)`: one 32-bit output per 32 bits requested, least significant word first; the
 *   last (or only) word keeps its top bits (`w >>> (32 − k)`).
 * - `_randbelow(n)` (the getrandbits variant CPython uses for its own MT): k = n.bit_length(),
 *   draw getrandbits(k) until the value is < n.
 * - `shuffle(x)`: for i from len−1 down to 1, j = _randbelow(i + 1), swap x[i] and x[j].
 *
 * Checked against values produced by python3 (fixtures/pyrandom-golden.json).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class PyRandom {
  private readonly mt = new Uint32Array(N); // [624] MT19937 state
  private mti = N + 1;

  /** Same as `r = random.Random(seed)` in CPython: integer seeds only (number or bigint, any sign). */
  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** `random.seed(seed)` for an int seed. */
  seed(seed: number | bigint): void {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new RangeError(`pyrandom seed must be a safe integer or a bigint, got ${seed}`);
    }
    this.initByArray(seedKey(BigInt(seed)));
  }

  /** Next raw 32-bit output of MT19937 (CPython's genrand_uint32). */
  nextU32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `getrandbits(k)` for 0 ≤ k ≤ 53, as a number (exact: below 2^53). */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k > 53)
      throw new RangeError(`getrandbits: k must be an integer in [0, 53], got ${k}`);
    if (k === 0) return 0;
    if (k <= 32) return this.nextU32() >>> (32 - k);
    const low = this.nextU32(); // least significant word first, as CPython fills its word array
    const high = this.nextU32() >>> (64 - k);
    return high * 0x100000000 + low;
  }

  /** `getrandbits(k)` for any k ≥ 0, as a bigint. */
  getrandbitsBig(k: number): bigint {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`getrandbits: k must be a non-negative integer, got ${k}`);
    let result = 0n;
    let shift = 0n;
    for (let left = k; left > 0; left -= 32, shift += 32n) {
      let w = this.nextU32();
      if (left < 32) w >>>= 32 - left; // keep the top bits of the last word
      result |= BigInt(w) << shift;
    }
    return result;
  }

  /** CPython's `_randbelow_with_getrandbits(n)`: uniform integer in [0, n), 1 ≤ n ≤ 2^53. */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 53)
      throw new RangeError(`randbelow: n must be an integer in [1, 2^53], got ${n}`);
    const k = bitLength(n); // n.bit_length(), not (n−1): CPython's choice, needed for identical draws
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.random()`: 53-bit float in [0, 1). */
  random(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `random.shuffle(x)` in place (returns x for convenience; CPython returns None). */
  shuffle<T extends { length: number; [i: number]: any }>(x: T): T {
    for (let i = x.length - 1; i >= 1; i--) {
      const j = this.randbelow(i + 1);
      const t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
    return x;
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      mt[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i; // Uint32Array stores mod 2^32
    }
    this.mti = N;
  }

  private initByArray(key: Uint32Array): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1664525)) >>> 0) + key[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) >>> 0) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000; // MSB set: the state is never all zero
  }
}

/** |seed| as 32-bit words, least significant first; 0 → [0]. */
export function seedKey(seed: bigint): Uint32Array {
  let s = seed < 0n ? -seed : seed;
  const words: number[] = [];
  do {
    words.push(Number(s & 0xffffffffn));
    s >>= 32n;
  } while (s > 0n);
  return Uint32Array.from(words);
}

/** Python's int.bit_length() for 0 ≤ n ≤ 2^53. */
export function bitLength(n: number): number {
  if (n <= 0xffffffff) return 32 - Math.clz32(n);
  return 32 + bitLength(Math.floor(n / 0x100000000));
}
