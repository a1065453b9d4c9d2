import type { TaskConfig } from '../config/types.ts';

/**
 * Every task is a finite set of token sequences with a class label each. Examples are ordered
 * a-major for the two-operand tasks (n = index over valid pairs, a outer, b inner), which is the
 * order CPython's shuffle sees in Nanda et al.'s split.
 */
export interface Dataset {
  readonly task: TaskConfig;
  readonly n: number; // number of examples
  readonly n_ctx: number; // tokens per example ([a, b, =] → 3; sparse parity → n_bits)
  readonly d_vocab: number; // input vocabulary (modular: p + 1, '=' is token p)
  readonly d_vocab_out: number; // output classes (modular: p)
  readonly tokens: Int32Array; // [n, n_ctx] row-major
  readonly labels: Int32Array; // [n] class index in [0, d_vocab_out)
  /** Two-operand tasks only: the operands of each example (a-major order) and the modulus / group size. */
  readonly operands?: { a: Int32Array; b: Int32Array; size: number };
}

/** Indices into a Dataset. Stored verbatim in the run directory (split.json). */
export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}
