/**
 * The weight matrices the Fourier analyses read, which each model computes from its own tensors
 * (./<kind>/views.ts, behind Model.weightViews): the number-token embedding, the neuron-to-logit
 * map and the first-layer neuron weights as seen from operand a, each re-indexed by `residue` into
 * the order the analysis asks for (analyses/weights-view.ts supplies the group order). What each
 * model takes for each matrix, and why, is written beside it.
 */
import { ArgumentError } from '../errors.ts';

export interface WeightMatrices {
  readonly embedding: Float64Array; // [n, dEmbed]: row x = the token residue[x]
  readonly dEmbed: number;
  readonly logitMap: Float64Array; // [neurons, n]: column x = the class residue[x]
  readonly neurons: number;
  readonly firstLayer: Float64Array; // [n, firstNeurons]
  readonly firstNeurons: number;
}

export type Params = Record<string, Float32Array | Float64Array>;

/**
 * A parameter by name. With `minRows`, `size` is a row width and the tensor must hold a whole
 * number of rows, at least minRows of them (the embedding: p number tokens plus '=').
 */
export function tensor(params: Params, name: string, size: number, minRows?: number): Float64Array {
  const t = params[name];
  if (!t) throw new ArgumentError(`parameter "${name}"`, 'missing', 'present in the checkpoint');
  if (minRows === undefined ? t.length !== size : t.length % size !== 0 || t.length / size < minRows) {
    const expected = minRows === undefined ? `${size} numbers` : `rows of ${size}, at least ${minRows}`;
    throw new ArgumentError(`parameter "${name}" length`, t.length, expected);
  }
  return t instanceof Float64Array ? t : Float64Array.from(t); // one array type keeps the loops monomorphic
}

/** rows of M [*, cols] picked by index → [index.length, cols]. */
export function gatherRows(M: Float64Array, cols: number, index: Int32Array): Float64Array {
  const out = new Float64Array(index.length * cols);
  for (let r = 0; r < index.length; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = M[index[r] * cols + c];
  return out;
}

/** columns of M [rows, width] picked by index → [rows, index.length]. */
export function gatherCols(M: Float64Array, rows: number, width: number, index: Int32Array): Float64Array {
  const k = index.length;
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = M[r * width + index[c]];
  return out;
}

/** A [m, k] · B [k, n] → [m, n], float64 accumulation. */
export function matmul(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let t = 0; t < k; t++) {
      const a = A[i * k + t];
      if (a === 0) continue;
      const bt = t * n;
      for (let j = 0; j < n; j++) C[row + j] += a * B[bt + j];
    }
  }
  return C;
}

export function addInto(acc: Float64Array, x: Float64Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += x[i];
}
