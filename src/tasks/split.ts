/**
 * Train/test splits of a Dataset's example indices [0, n).
 *
 * - 'python-random': CPython's `random.seed(seed); random.shuffle(xs)` replayed with ./pyrandom.ts
 *   on [0, 1, …, n−1]. Shuffling indices permutes them exactly as CPython permutes the a-major list
 *   of pairs (shuffle only looks at positions), so with p = 113, seed 0, fraction 0.3 this is
 *   Nanda et al.'s split.
 * - 'shuffle': our Fisher–Yates with Rng.derive(seed, 'split').
 *
 * In both modes train = the first int(train_fraction·n) shuffled indices (truncation toward zero
 * of the float64 product, as Python's int() does: 0.3·12769 = 3830.7 → 3830), test = the rest,
 * both kept in shuffled order.
 */
import type { SplitConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { show } from './show.ts';
import { Rng } from '../rng.ts';
import { PyRandom } from './pyrandom.ts';
import type { Split } from './types.ts';

/** Number of training examples: Python's int(train_fraction * n). */
export function trainCount(n: number, trainFraction: number): number {
  return Math.trunc(trainFraction * n);
}

export function makeSplit(n: number, cfg: SplitConfig, source = 'config'): Split {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new RangeError(`makeSplit: n must be an integer in [0, 2^31), got ${n}`);
  const f = cfg.train_fraction;
  if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0 || f >= 1) {
    throw new ConfigError(source, 'split.train_fraction', `expected a number strictly between 0 and 1, got ${show(f)}`);
  }
  const nTrain = trainCount(n, f);
  if (nTrain < 1 || nTrain >= n) {
    throw new ConfigError(
      source,
      'split.train_fraction',
      `${f} of ${n} examples gives ${nTrain} train / ${n - nTrain} test; both sides must be non-empty`,
    );
  }
  const order = new Int32Array(n); // [n] example indices, shuffled in place
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleWith(order, cfg, source);
  return { train: order.slice(0, nTrain), test: order.slice(nTrain) };
}

function shuffleWith(order: Int32Array, cfg: SplitConfig, source: string): void {
  const seed = cfg.seed;
  switch (cfg.mode) {
    case 'python-random':
      // CPython accepts any int; we take any safe integer (negative seeds act as |seed|, as in CPython)
      if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
        throw new ConfigError(source, 'split.seed', `expected an integer, got ${show(seed)}`);
      }
      new PyRandom(seed).shuffle(order);
      return;
    case 'shuffle':
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw new ConfigError(source, 'split.seed', `expected an integer in [0, 2^32), got ${show(seed)}`);
      }
      Rng.derive(seed, 'split').shuffle(order);
      return;
    default:
      throw new ConfigError(
        source,
        'split.mode',
        `unknown mode ${show(cfg.mode)}; expected "shuffle" or "python-random"`,
      );
  }
}
