/**
 * What a model's NTK linearisation is written against (each model's ./<kind>/linearised.ts): the
 * Linearisation that records, or perturbs, every place where a parameter enters the network, and
 * the small pieces the three models share. The kernel itself is assembled in
 * analyses/ntk-linearised.ts; the method is explained there.
 */
import * as tf from '@tensorflow/tfjs-core';

/** One place where parameters enter the network; see the header for the three kinds. */
export interface Use {
  x: tf.Tensor2D; // [S·n, in], rows position-major (s·n + i)
  weight: string; // parameter used as x·W (or, with gain, as x̂ ∘ w)
  gain: boolean;
  bias: string | null; // parameter added to the output, if any
  sites: number; // S
  outDim: number;
}

/**
 * Hands out the linear maps of a forward pass. In 'discover' mode it records each use (keeping
 * its input x alive for the Gram products); in 'perturb' mode it adds the next ε to each output,
 * in the same order, so tf.grads with respect to the ε's gives every g at once.
 */
export class Linearisation {
  readonly uses: Use[] = [];
  private eps: tf.Tensor[] | null = null;
  private next = 0;

  perturb(eps: tf.Tensor[]): void {
    this.eps = eps;
    this.next = 0;
  }

  /** x·W (+ b): x [S·n, in] position-major, W [in, out] (any view of the named parameter). */
  linear(
    x: tf.Tensor2D,
    W: tf.Tensor2D,
    wName: string,
    b: tf.Tensor | null,
    bName: string | null,
    sites: number,
  ): tf.Tensor2D {
    let y: tf.Tensor2D = tf.matMul(x, W);
    if (b !== null) y = tf.add(y, b);
    return this.record(y, { x, weight: wName, gain: false, bias: bName, sites, outDim: W.shape[1] });
  }

  /** x̂ ∘ w + b (a LayerNorm's affine part): x̂ [S·n, d]. */
  affine(xhat: tf.Tensor2D, w: tf.Tensor, wName: string, b: tf.Tensor, bName: string, sites: number): tf.Tensor2D {
    const y = tf.add(tf.mul(xhat, w), b) as tf.Tensor2D;
    return this.record(y, { x: xhat, weight: wName, gain: true, bias: bName, sites, outDim: xhat.shape[1] });
  }

  private record(y: tf.Tensor2D, use: Use): tf.Tensor2D {
    if (this.eps !== null) {
      const e = this.eps[this.next++];
      if (e === undefined || e.shape[0] !== y.shape[0] || e.shape[1] !== y.shape[1]) {
        throw new Error(`NTK linearisation: use ${this.next - 1} (${use.weight}) changed shape between passes`);
      }
      return tf.add(y, e);
    }
    tf.keep(use.x);
    this.uses.push(use);
    return y;
  }

  /** Zero perturbations, one per recorded use. */
  zeros(): tf.Tensor[] {
    return this.uses.map((u) => tf.zeros([u.x.shape[0], u.outDim]));
  }

  /** Free the inputs kept by the discover pass. */
  dispose(): void {
    tf.dispose([...new Set(this.uses.map((u) => u.x))]);
  }
}

/** A model's forward written against a Linearisation: constant inputs, then logits [n, classes]. */
export interface LinearisedForward {
  inputs(tokens: Int32Array, n: number): tf.Tensor2D[];
  logits(params: Record<string, tf.Tensor>, lin: Linearisation, inputs: tf.Tensor2D[], n: number): tf.Tensor2D;
}

/** Rows of position-major one-hots: row t·n + i is example i's token at position positions[t]. */
export function oneHotRows(
  tokens: Int32Array,
  n: number,
  nCtx: number,
  positions: readonly number[],
  width: number,
  column: (tok: number, t: number) => number,
): tf.Tensor2D {
  const S = positions.length;
  const data = new Float32Array(S * n * width);
  positions.forEach((pos, t) => {
    for (let i = 0; i < n; i++) data[(t * n + i) * width + column(tokens[i * nCtx + pos], t)] = 1;
  });
  return tf.tensor2d(data, [S * n, width]);
}

export function param<R extends tf.Rank = tf.Rank.R2>(params: Record<string, tf.Tensor>, name: string): tf.Tensor<R> {
  const t = params[name];
  if (t === undefined) throw new RangeError(`empiricalNtk: missing parameter '${name}'`);
  return t as tf.Tensor<R>;
}

/** Rows of position `t` of a position-major [T·n, ·] tensor. */
export function positionRows(x: tf.Tensor2D, t: number, n: number): tf.Tensor2D {
  return tf.slice(x, [t * n, 0], [n, x.shape[1]]);
}
