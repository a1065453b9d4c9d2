/**
 * Float64 reference of the README's `quadratic` network (Gromov 2023) with hand-derived gradients:
 * x = one-hot(a) ‖ one-hot(b) (length 2p), h = W·x, logits = V·(h ⊙ h); no biases.
 * W·x is just W[:, a] + W[:, p + b], so the one-hot vector is never built.
 */
import { crossEntropyRow, type Batch, type Params64, type RefModel } from './reference-common.ts';

export interface QuadraticDims {
  p: number;
  hidden: number;
}

export function quadraticShapes(c: QuadraticDims): Record<string, number[]> {
  return { W: [c.hidden, 2 * c.p], V: [c.p, c.hidden] };
}

export function quadraticReference(c: QuadraticDims): RefModel {
  const { p, hidden: K } = c;
  const trained = ['W', 'V'];

  function run(P: Params64, batch: Batch, grads: Record<string, Float64Array> | null): number {
    const N = batch.y.length;
    const W = P.W.data; // [K, 2p]
    const V = P.V.data; // [p, K]
    let total = 0;
    const h = new Float64Array(K);
    const logits = new Float64Array(p);
    const dLogits = new Float64Array(p);
    for (let ex = 0; ex < N; ex++) {
      const ca = batch.a[ex];
      const cb = p + batch.b[ex];
      for (let k = 0; k < K; k++) h[k] = W[k * 2 * p + ca] + W[k * 2 * p + cb];
      for (let cl = 0; cl < p; cl++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += V[cl * K + k] * h[k] * h[k];
        logits[cl] = acc;
      }
      total += crossEntropyRow(logits, batch.y[ex], 1 / N, grads ? dLogits : null);
      if (!grads) continue;
      for (let k = 0; k < K; k++) {
        let dh = 0;
        for (let cl = 0; cl < p; cl++) {
          grads.V[cl * K + k] += dLogits[cl] * h[k] * h[k];
          dh += dLogits[cl] * V[cl * K + k] * 2 * h[k];
        }
        grads.W[k * 2 * p + ca] += dh;
        grads.W[k * 2 * p + cb] += dh;
      }
    }
    return total / N;
  }

  return {
    trained,
    loss: (P, batch) => run(P, batch, null),
    lossAndGrad(P, batch) {
      const grads: Record<string, Float64Array> = {
        W: new Float64Array(P.W.data.length),
        V: new Float64Array(P.V.data.length),
      };
      return { loss: run(P, batch, grads), grads };
    },
  };
}
