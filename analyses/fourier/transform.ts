/**
 * Fourier transforms of arrays in the basis of basis.ts (F orthonormal, [n, n]), fast path.
 * Everything reduces to one operation: transform the middle axis of a row-major [outer, n, inner]
 * array, out[o, f, i] = Σ_x F[f, x]·data[o, x, i]. With inner = 1 the vectors are contiguous and
 * go straight to the plan; otherwise blocks of up to BLOCK vectors are gathered into scratch
 * (reading whole runs of `inner`), transformed together and scattered back. Vectors are
 * transformed two at a time through one complex DFT (real-dft.ts).
 *
 * Shapes follow the spec: a 1-D transform along an axis of size n is T·Fᵀ; the 2-D transform of
 * M indexed (a, b) is M̂ = F·M·Fᵀ, M̂[f, g] = Σ_{a,b} F[f,a]·F[g,b]·M[a,b]. Inverses apply Fᵀ.
 * Inputs may be Float32Array (logits); outputs are Float64Arrays. Inputs must be finite: an FFT
 * spreads one NaN over every coefficient, and the pairing would spread it to a neighbouring
 * vector too, so a NaN or ±Infinity is refused up front with its position.
 */
import { checkLength, checkSize, FourierInputError, type NumericArray } from './errors.ts';
import { realDft } from './real-dft.ts';

export { realDft, type RealDft } from './real-dft.ts';

export type Direction = 'forward' | 'inverse';

/** Vectors gathered per block when the transformed axis is strided (inner > 1). */
const BLOCK = 64;

/**
 * Transform the middle axis of data [outer, n, inner]: forward applies F, inverse applies Fᵀ.
 * Writes into `out` (allocated if absent; may be `data` itself when that is a Float64Array) and
 * returns it.
 */
export function transformAxis(
  data: NumericArray,
  outer: number,
  n: number,
  inner: number,
  direction: Direction = 'forward',
  out: Float64Array = new Float64Array(outer * n * inner),
): Float64Array {
  checkSize('outer size', outer, 0);
  checkSize('transform length n', n);
  checkSize('inner size', inner, 0);
  if (direction !== 'forward' && direction !== 'inverse') {
    throw new FourierInputError('transform direction', direction, "'forward' or 'inverse'");
  }
  const shape = `[${outer}, ${n}, ${inner}]`;
  checkLength('transform input', data, outer * n * inner, shape);
  checkLength('transform output', out, outer * n * inner, shape);
  checkFinite(data, outer, n, inner);
  const plan = realDft(n);
  const run = direction === 'forward' ? plan.forward.bind(plan) : plan.inverse.bind(plan);
  if (inner === 1) {
    run(data, out, outer);
    return out;
  }
  const block = Math.min(BLOCK, inner);
  const scratch = new Float64Array(block * n); // [block, n]
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i0 = 0; i0 < inner; i0 += block) {
      const count = Math.min(block, inner - i0);
      const view = count === block ? scratch : scratch.subarray(0, count * n);
      for (let x = 0; x < n; x++) {
        const from = base + x * inner + i0;
        for (let t = 0; t < count; t++) view[t * n + x] = data[from + t];
      }
      run(view, view, count);
      for (let f = 0; f < n; f++) {
        const to = base + f * inner + i0;
        for (let t = 0; t < count; t++) out[to + t] = view[t * n + f];
      }
    }
  }
  return out;
}

/** F·x for one vector x [n]: its coefficients in basis order. */
export function fourierTransform1d(x: NumericArray, n: number = x.length): Float64Array {
  return transformAxis(x, 1, n, 1, 'forward');
}

/** Fᵀ·c: the vector [n] whose basis coefficients are c. */
export function inverseFourierTransform1d(c: NumericArray, n: number = c.length): Float64Array {
  return transformAxis(c, 1, n, 1, 'inverse');
}

/** Each row of M [rows, n] transformed: M·Fᵀ [rows, n] (e.g. W_L·Fᵀ, neurons × frequencies). */
export function transformRows(M: NumericArray, rows: number, n: number): Float64Array {
  return transformAxis(M, rows, n, 1, 'forward');
}

/** Each column of M [n, cols] transformed: F·M [n, cols] (e.g. F·W_E', frequencies × d_model). */
export function transformCols(M: NumericArray, n: number, cols: number): Float64Array {
  return transformAxis(M, 1, n, cols, 'forward');
}

/** Inverse of transformRows: X·F [rows, n]. */
export function inverseTransformRows(X: NumericArray, rows: number, n: number): Float64Array {
  return transformAxis(X, rows, n, 1, 'inverse');
}

/** Inverse of transformCols: Fᵀ·X [n, cols]. */
export function inverseTransformCols(X: NumericArray, n: number, cols: number): Float64Array {
  return transformAxis(X, 1, n, cols, 'inverse');
}

/** M̂ = F·M·Fᵀ for M [n, n] indexed (a, b); M̂ [n, n] indexed (f, g) with f transforming a. */
export function fourierTransform2d(M: NumericArray, n: number): Float64Array {
  return fourierTransform2dBatched(M, n, 1);
}

/** M = Fᵀ·M̂·F, the inverse of fourierTransform2d. */
export function inverseFourierTransform2d(X: NumericArray, n: number): Float64Array {
  return fourierTransform2dBatched(X, n, 1, { direction: 'inverse' });
}

export interface Batched2dOptions {
  /**
   * Where the batch axis sits. 'last' (default): data [n, n, batch] indexed (a, b, c), which is
   * exactly the logits L [n², C] with pair index a·n + b, giving L̂ [n, n, C] indexed (f, g, c).
   * 'first': data [batch, n, n], e.g. one p×p table per neuron.
   */
  batchAxis?: 'last' | 'first';
  /** 'forward' (default) applies F·M·Fᵀ to each slice, 'inverse' Fᵀ·M·F. */
  direction?: Direction;
  /**
   * Buffer for the result, same shape as the input (allocated if absent). Reuse one across
   * checkpoints to avoid an n²·batch allocation each time; it may be the input itself.
   */
  out?: Float64Array;
}

/**
 * The 2-D transform of every slice of a batch at once. The b axis is transformed first
 * ([n, n, batch] seen as [n, n, batch]; or [batch·n, n, 1]), then the a axis
 * ([1, n, n·batch]; or [batch, n, n]) in place in the output, so the output buffer is the only
 * allocation besides a small gather block (none with options.out). For p = 113 and C = 113
 * that is ~25k vectors of length 113, each pair one Bluestein DFT (two FFTs of size 256).
 */
export function fourierTransform2dBatched(
  data: NumericArray,
  n: number,
  batch: number,
  options: Batched2dOptions = {},
): Float64Array {
  const { batchAxis = 'last', direction = 'forward', out = new Float64Array(n * n * batch) } = options;
  checkSize('transform length n', n);
  checkSize('batch size', batch, 0);
  if (batchAxis !== 'last' && batchAxis !== 'first') {
    throw new FourierInputError('batchAxis', batchAxis, "'last' or 'first'");
  }
  const shape = batchAxis === 'last' ? `[${n}, ${n}, ${batch}]` : `[${batch}, ${n}, ${n}]`;
  checkLength('2-D transform input', data, n * n * batch, shape);
  if (batchAxis === 'last') {
    transformAxis(data, n, n, batch, direction, out);
    return transformAxis(out, 1, n, n * batch, direction, out);
  }
  transformAxis(data, batch * n, n, 1, direction, out);
  return transformAxis(out, batch, n, n, direction, out);
}

function checkFinite(data: NumericArray, outer: number, n: number, inner: number): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const o = Math.floor(i / (n * inner));
      const x = Math.floor(i / inner) % n;
      const at = `[${o}, ${x}, ${i % inner}] of [${outer}, ${n}, ${inner}]`;
      throw new FourierInputError(`transform input${at}`, data[i], 'a finite number');
    }
  }
}
