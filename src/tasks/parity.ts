/**
 * Sparse parity (Barak et al. 2022): inputs are n_bits bits in {0, 1}, one token per bit
 * (d_vocab 2, n_ctx = n_bits, no '=' token); the label is the parity (XOR) of k fixed bit positions.
 *
 * Both the relevant positions and the samples come from the task's own seed, through independent
 * derived generators (Rng.derive(seed, 'parity-bits') and Rng.derive(seed, 'parity-samples')), so
 * changing `samples` never changes which bits matter. Samples are drawn uniformly and
 * independently from {0,1}^n_bits: duplicates are allowed (and, for small n_bits, likely), so
 * the same input may land on both sides of a split.
 *
 * Labels are always the class index 0/1 in `labels`. With `labels: 'pm1'` the trainer builds the
 * ±1 MSE target from it (0 ↔ −1, 1 ↔ +1); the dataset itself is identical for both encodings.
 */
import type { TaskConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { show } from './show.ts';
import { Rng } from '../rng.ts';
import type { Dataset } from './types.ts';

export type ParityTask = Extract<TaskConfig, { kind: 'sparse-parity' }>;

/** Upper bound on samples·n_bits: the token array must fit one Int32Array. */
const MAX_TOKENS = 2 ** 31 - 1;

export function validateParity(task: ParityTask, source = 'config'): void {
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (!isInt(task.n_bits) || task.n_bits < 1) {
    throw new ConfigError(source, 'task.n_bits', `expected an integer ≥ 1, got ${show(task.n_bits)}`);
  }
  if (!isInt(task.k) || task.k < 1 || task.k > task.n_bits) {
    throw new ConfigError(source, 'task.k', `expected an integer in [1, n_bits = ${task.n_bits}], got ${show(task.k)}`);
  }
  if (!isInt(task.samples) || task.samples < 1) {
    throw new ConfigError(source, 'task.samples', `expected an integer ≥ 1, got ${show(task.samples)}`);
  }
  if (task.samples * task.n_bits > MAX_TOKENS) {
    throw new ConfigError(
      source,
      'task.samples',
      `${task.samples} samples of ${task.n_bits} bits is too many (samples·n_bits must be < 2^31)`,
    );
  }
  if (task.labels !== 'pm1' && task.labels !== 'class') {
    throw new ConfigError(source, 'task.labels', `expected "pm1" or "class", got ${show(task.labels)}`);
  }
  if (!isInt(task.seed) || task.seed < 0 || task.seed > 0xffffffff) {
    throw new ConfigError(source, 'task.seed', `expected an integer in [0, 2^32), got ${show(task.seed)}`);
  }
}

/** The k relevant bit positions for this task's seed, ascending. */
export function relevantBits(task: ParityTask): number[] {
  validateParity(task);
  const rng = Rng.derive(task.seed, 'parity-bits');
  const positions = Array.from({ length: task.n_bits }, (_, i) => i);
  // partial Fisher–Yates: the first k slots end up a uniform k-subset
  for (let i = 0; i < task.k; i++) {
    const j = i + rng.int(task.n_bits - i);
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }
  return positions.slice(0, task.k).sort((x, y) => x - y);
}

export function buildParityDataset(task: ParityTask, source = 'config'): Dataset {
  validateParity(task, source);
  const { n_bits, samples } = task;
  const relevant = relevantBits(task);
  const rng = Rng.derive(task.seed, 'parity-samples');
  const tokens = new Int32Array(samples * n_bits); // [samples, n_bits]
  const labels = new Int32Array(samples); // [samples]
  for (let s = 0; s < samples; s++) {
    const row = s * n_bits;
    for (let i = 0; i < n_bits; i++) tokens[row + i] = rng.nextU32() >>> 31; // top bit of each draw
    let parity = 0;
    for (const r of relevant) parity ^= tokens[row + r];
    labels[s] = parity;
  }
  return { task, n: samples, n_ctx: n_bits, d_vocab: 2, d_vocab_out: 2, tokens, labels };
}
