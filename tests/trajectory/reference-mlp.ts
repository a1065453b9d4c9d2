/**
 * Float64 reference of the README's `mlp` model with hand-derived gradients.
 *
 * The two operands a and b share one embedding table embed.W_E [d_vocab, d_embed]; their rows
 * are concatenated, x = W_E[a] ‖ W_E[b] (2·d_embed; the '=' token carries no information and is
 * not an input), then hidden layers h ← relu(h·mlp.L.W + mlp.L.b), then logits = h·W_U + b_U.
 */
import { crossEntropyRow, type Batch, type Params64, type RefModel } from './reference-common.ts';

export interface MlpDims {
  d_vocab: number; // p + 1 (the '=' row exists in the table but is never read)
  d_embed: number;
  hidden: number[];
  d_out: number; // p
}

export function mlpShapes(c: MlpDims): Record<string, number[]> {
  const s: Record<string, number[]> = { 'embed.W_E': [c.d_vocab, c.d_embed] };
  let din = 2 * c.d_embed;
  c.hidden.forEach((w, l) => {
    s[`mlp.${l}.W`] = [din, w];
    s[`mlp.${l}.b`] = [w];
    din = w;
  });
  s['unembed.W_U'] = [din, c.d_out];
  s['unembed.b_U'] = [c.d_out];
  return s;
}

export function mlpReference(c: MlpDims): RefModel {
  const shapes = mlpShapes(c);
  const trained = Object.keys(shapes);
  const De = c.d_embed;
  const C = c.d_out;

  function run(P: Params64, batch: Batch, grads: Record<string, Float64Array> | null): number {
    const N = batch.y.length;
    const WE = P['embed.W_E'].data;
    let total = 0;
    const logits = new Float64Array(C);
    const dLogits = new Float64Array(C);
    for (let ex = 0; ex < N; ex++) {
      const ops = [batch.a[ex], batch.b[ex]];
      const x = new Float64Array(2 * De); // [2·d_embed]
      for (let o = 0; o < 2; o++) for (let d = 0; d < De; d++) x[o * De + d] = WE[ops[o] * De + d];
      const acts: Float64Array[] = [x]; // input of each hidden layer, then the last hidden layer
      const pres: Float64Array[] = [];
      let h = x;
      c.hidden.forEach((width, l) => {
        const Wl = P[`mlp.${l}.W`].data; // [din, width]
        const bl = P[`mlp.${l}.b`].data;
        const pre = new Float64Array(width);
        const out = new Float64Array(width);
        for (let n = 0; n < width; n++) {
          let acc = bl[n];
          for (let i = 0; i < h.length; i++) acc += h[i] * Wl[i * width + n];
          pre[n] = acc;
          out[n] = acc > 0 ? acc : 0;
        }
        pres.push(pre);
        acts.push(out);
        h = out;
      });
      const WU = P['unembed.W_U'].data; // [width, C]
      const bU = P['unembed.b_U'].data;
      for (let cl = 0; cl < C; cl++) {
        let acc = bU[cl];
        for (let i = 0; i < h.length; i++) acc += h[i] * WU[i * C + cl];
        logits[cl] = acc;
      }
      total += crossEntropyRow(logits, batch.y[ex], 1 / N, grads ? dLogits : null);
      if (!grads) continue;

      let dh = new Float64Array(h.length);
      for (let cl = 0; cl < C; cl++) {
        grads['unembed.b_U'][cl] += dLogits[cl];
        for (let i = 0; i < h.length; i++) {
          grads['unembed.W_U'][i * C + cl] += h[i] * dLogits[cl];
          dh[i] += WU[i * C + cl] * dLogits[cl];
        }
      }
      for (let l = c.hidden.length - 1; l >= 0; l--) {
        const width = c.hidden[l];
        const input = acts[l];
        const Wl = P[`mlp.${l}.W`].data;
        const dIn = new Float64Array(input.length);
        for (let n = 0; n < width; n++) {
          const dPre = pres[l][n] > 0 ? dh[n] : 0;
          grads[`mlp.${l}.b`][n] += dPre;
          for (let i = 0; i < input.length; i++) {
            grads[`mlp.${l}.W`][i * width + n] += input[i] * dPre;
            dIn[i] += Wl[i * width + n] * dPre;
          }
        }
        dh = dIn;
      }
      for (let o = 0; o < 2; o++) for (let d = 0; d < De; d++) grads['embed.W_E'][ops[o] * De + d] += dh[o * De + d];
    }
    return total / N;
  }

  return {
    trained,
    loss: (P, batch) => run(P, batch, null),
    lossAndGrad(P, batch) {
      const grads: Record<string, Float64Array> = {};
      for (const name of trained) grads[name] = new Float64Array(P[name].data.length);
      return { loss: run(P, batch, grads), grads };
    },
  };
}
