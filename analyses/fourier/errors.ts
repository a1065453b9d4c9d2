import { ArgumentError } from '../../src/errors.ts';

/**
 * A bad argument to the Fourier machinery: a size that is not a positive integer, a buffer of the
 * wrong length, a modulus that is not prime, a negative entry where norms were expected. These
 * usually trace back to a user's config (a composite modulus for a multiplicative task), so they
 * are UserErrors: the CLI prints the message alone. `what` names the argument, `value` shows it
 * (strings quoted, so a bad option reads as the string it was), `expected` says what would have
 * been accepted, `note` adds why.
 */
export class FourierInputError extends ArgumentError {
  override name = 'FourierInputError';
}

/** Arrays the transforms read: logits and weights may arrive as float32, results are float64. */
export type NumericArray = Float64Array | Float32Array;

/** Throws unless `n` is an integer ≥ `min` (the messages are only built when they are thrown). */
export function checkSize(what: string, n: number, min = 1): void {
  if (!Number.isInteger(n) || n < min) throw new FourierInputError(what, n, `an integer ≥ ${min}`);
}

/** Throws unless `data` holds exactly `length` numbers; `shape` is printed in the message. */
export function checkLength(what: string, data: ArrayLike<number>, length: number, shape: string): void {
  if (data.length !== length) {
    throw new FourierInputError(`${what} length`, data.length, `${length} (shape ${shape})`);
  }
}
