/**
 * Float64 reference of the spec's transformer (docs/measures.md#reference-training-setup) with hand-derived gradients.
 *
 * Tokens [a, b, =] ('=' is token p), learned positional embedding, per layer causal multi-head
 * attention (scores q·k/√d_head, softmax over keys j ≤ i) and a ReLU MLP with biases, residual
 * stream throughout, no LayerNorm, untied unembedding read at the last position.
 *
 * attnBias = false is the spec's model: b_Q, b_K, b_V, b_O are not parameters at all — the
 * reference never reads them and never lists them as trained (so they are never decayed either).
 * attnBias = true is the TransformerLens-style variant in which they are ordinary trained tensors.
 *
 * Every layer runs on the full causal sequence: with 2+ layers the lower layer's outputs at
 * positions 0 and 1 are the keys and values of the upper layer, so they cannot be skipped.
 * One example at a time, plain loops: the models are tiny and clarity matters more than speed.
 */
import { crossEntropyRow, type Batch, type Params64, type RefModel } from './reference-common.ts';

export interface TransformerDims {
  n_layers: number;
  d_model: number;
  n_heads: number;
  d_head: number;
  d_mlp: number;
  d_vocab: number; // p + 1
  n_ctx: number; // 3
  d_out: number; // p
  attnBias: boolean;
}

export function transformerShapes(c: TransformerDims): Record<string, number[]> {
  const s: Record<string, number[]> = {
    'embed.W_E': [c.d_vocab, c.d_model],
    'pos_embed.W_pos': [c.n_ctx, c.d_model],
  };
  for (let l = 0; l < c.n_layers; l++) {
    const b = `blocks.${l}`;
    for (const w of ['W_Q', 'W_K', 'W_V']) s[`${b}.attn.${w}`] = [c.n_heads, c.d_model, c.d_head];
    s[`${b}.attn.W_O`] = [c.n_heads, c.d_head, c.d_model];
    if (c.attnBias) {
      for (const w of ['b_Q', 'b_K', 'b_V']) s[`${b}.attn.${w}`] = [c.n_heads, c.d_head];
      s[`${b}.attn.b_O`] = [c.d_model];
    }
    s[`${b}.mlp.W_in`] = [c.d_model, c.d_mlp];
    s[`${b}.mlp.b_in`] = [c.d_mlp];
    s[`${b}.mlp.W_out`] = [c.d_mlp, c.d_model];
    s[`${b}.mlp.b_out`] = [c.d_model];
  }
  s['unembed.W_U'] = [c.d_model, c.d_out];
  s['unembed.b_U'] = [c.d_out];
  return s;
}

/** What one layer's backward pass needs from its forward pass (one example). */
interface LayerCache {
  x: Float64Array; // [S, D] layer input (residual stream)
  q: Float64Array; // [H, S, E] (E = d_head), biases included
  k: Float64Array; // [H, S, E]
  v: Float64Array; // [H, S, E]
  pattern: Float64Array; // [H, S, S], zero above the diagonal
  z: Float64Array; // [H, S, E] pattern-weighted values
  mid: Float64Array; // [S, D] x + attention output
  pre: Float64Array; // [S, M] MLP pre-activation (M = d_mlp)
  post: Float64Array; // [S, M] relu(pre)
}

export function transformerReference(c: TransformerDims): RefModel {
  const shapes = transformerShapes(c);
  const trained = Object.keys(shapes);
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M, n_ctx: S, d_out: C } = c;
  const inv = 1 / Math.sqrt(E);

  function run(P: Params64, batch: Batch, grads: Record<string, Float64Array> | null): number {
    const W = (name: string) => P[name].data;
    const G = (name: string) => grads![name];
    const N = batch.y.length;
    let total = 0;
    const logits = new Float64Array(C);
    const dLogits = new Float64Array(C);
    for (let ex = 0; ex < N; ex++) {
      const tokens = [batch.a[ex], batch.b[ex], batch.p];
      // ---- forward ----
      let resid = new Float64Array(S * D); // [S, D]
      const WE = W('embed.W_E');
      const Wpos = W('pos_embed.W_pos');
      for (let s = 0; s < S; s++)
        for (let m = 0; m < D; m++) resid[s * D + m] = WE[tokens[s] * D + m] + Wpos[s * D + m];
      const caches: LayerCache[] = [];
      for (let l = 0; l < c.n_layers; l++) {
        const b = `blocks.${l}`;
        const x = resid;
        const proj = (w: string, bias: string) => {
          const Wt = W(`${b}.attn.${w}`); // [H, D, E]
          const bt = c.attnBias ? W(`${b}.attn.${bias}`) : null; // [H, E]
          const out = new Float64Array(H * S * E); // [H, S, E]
          for (let h = 0; h < H; h++)
            for (let s = 0; s < S; s++)
              for (let e = 0; e < E; e++) {
                let acc = bt ? bt[h * E + e] : 0;
                for (let m = 0; m < D; m++) acc += x[s * D + m] * Wt[(h * D + m) * E + e];
                out[(h * S + s) * E + e] = acc;
              }
          return out;
        };
        const q = proj('W_Q', 'b_Q');
        const k = proj('W_K', 'b_K');
        const v = proj('W_V', 'b_V');
        const pattern = new Float64Array(H * S * S); // [H, S(query), S(key)]
        const z = new Float64Array(H * S * E);
        for (let h = 0; h < H; h++)
          for (let i = 0; i < S; i++) {
            let max = -Infinity;
            for (let j = 0; j <= i; j++) {
              let dot = 0;
              for (let e = 0; e < E; e++) dot += q[(h * S + i) * E + e] * k[(h * S + j) * E + e];
              pattern[(h * S + i) * S + j] = dot * inv;
              max = Math.max(max, dot * inv);
            }
            let sum = 0;
            for (let j = 0; j <= i; j++)
              sum += pattern[(h * S + i) * S + j] = Math.exp(pattern[(h * S + i) * S + j] - max);
            for (let j = 0; j <= i; j++) pattern[(h * S + i) * S + j] /= sum;
            for (let j = 0; j <= i; j++)
              for (let e = 0; e < E; e++)
                z[(h * S + i) * E + e] += pattern[(h * S + i) * S + j] * v[(h * S + j) * E + e];
          }
        const WO = W(`${b}.attn.W_O`); // [H, E, D]
        const bO = c.attnBias ? W(`${b}.attn.b_O`) : null;
        const mid = Float64Array.from(x);
        for (let i = 0; i < S; i++)
          for (let m = 0; m < D; m++) {
            let acc = bO ? bO[m] : 0;
            for (let h = 0; h < H; h++)
              for (let e = 0; e < E; e++) acc += z[(h * S + i) * E + e] * WO[(h * E + e) * D + m];
            mid[i * D + m] += acc;
          }
        const Win = W(`${b}.mlp.W_in`); // [D, M]
        const bin = W(`${b}.mlp.b_in`);
        const Wout = W(`${b}.mlp.W_out`); // [M, D]
        const bout = W(`${b}.mlp.b_out`);
        const pre = new Float64Array(S * M);
        const post = new Float64Array(S * M);
        for (let i = 0; i < S; i++)
          for (let n = 0; n < M; n++) {
            let acc = bin[n];
            for (let m = 0; m < D; m++) acc += mid[i * D + m] * Win[m * M + n];
            pre[i * M + n] = acc;
            post[i * M + n] = acc > 0 ? acc : 0;
          }
        const out = Float64Array.from(mid);
        for (let i = 0; i < S; i++)
          for (let m = 0; m < D; m++) {
            let acc = bout[m];
            for (let n = 0; n < M; n++) acc += post[i * M + n] * Wout[n * D + m];
            out[i * D + m] += acc;
          }
        caches.push({ x, q, k, v, pattern, z, mid, pre, post });
        resid = out;
      }
      const WU = W('unembed.W_U'); // [D, C]
      const bU = W('unembed.b_U');
      const last = (S - 1) * D;
      for (let cl = 0; cl < C; cl++) {
        let acc = bU[cl];
        for (let m = 0; m < D; m++) acc += resid[last + m] * WU[m * C + cl];
        logits[cl] = acc;
      }
      total += crossEntropyRow(logits, batch.y[ex], 1 / N, grads ? dLogits : null);
      if (!grads) continue;

      // ---- backward ----
      let dResid = new Float64Array(S * D); // only the last position reaches the logits
      for (let cl = 0; cl < C; cl++) {
        G('unembed.b_U')[cl] += dLogits[cl];
        for (let m = 0; m < D; m++) {
          G('unembed.W_U')[m * C + cl] += resid[last + m] * dLogits[cl];
          dResid[last + m] += WU[m * C + cl] * dLogits[cl];
        }
      }
      for (let l = c.n_layers - 1; l >= 0; l--) {
        const b = `blocks.${l}`;
        const { x, q, k, v, pattern, z, mid, pre, post } = caches[l];
        // MLP: out = mid + relu(mid·W_in + b_in)·W_out + b_out
        const Win = W(`${b}.mlp.W_in`);
        const Wout = W(`${b}.mlp.W_out`);
        const dMid = Float64Array.from(dResid); // residual path
        for (let i = 0; i < S; i++) {
          const dPre = new Float64Array(M);
          for (let n = 0; n < M; n++) {
            let acc = 0;
            for (let m = 0; m < D; m++) {
              G(`${b}.mlp.W_out`)[n * D + m] += post[i * M + n] * dResid[i * D + m];
              acc += Wout[n * D + m] * dResid[i * D + m];
            }
            dPre[n] = pre[i * M + n] > 0 ? acc : 0;
          }
          for (let m = 0; m < D; m++) G(`${b}.mlp.b_out`)[m] += dResid[i * D + m];
          for (let n = 0; n < M; n++) {
            G(`${b}.mlp.b_in`)[n] += dPre[n];
            for (let m = 0; m < D; m++) {
              G(`${b}.mlp.W_in`)[m * M + n] += mid[i * D + m] * dPre[n];
              dMid[i * D + m] += Win[m * M + n] * dPre[n];
            }
          }
        }
        // attention: mid = x + Σ_h z_h·W_O[h] (+ b_O)
        const WO = W(`${b}.attn.W_O`);
        const dX = Float64Array.from(dMid); // residual path
        const dz = new Float64Array(H * S * E);
        for (let i = 0; i < S; i++)
          for (let m = 0; m < D; m++) {
            const g = dMid[i * D + m];
            if (c.attnBias) G(`${b}.attn.b_O`)[m] += g;
            for (let h = 0; h < H; h++)
              for (let e = 0; e < E; e++) {
                G(`${b}.attn.W_O`)[(h * E + e) * D + m] += z[(h * S + i) * E + e] * g;
                dz[(h * S + i) * E + e] += WO[(h * E + e) * D + m] * g;
              }
          }
        const dq = new Float64Array(H * S * E);
        const dk = new Float64Array(H * S * E);
        const dv = new Float64Array(H * S * E);
        for (let h = 0; h < H; h++)
          for (let i = 0; i < S; i++) {
            // softmax backward over the keys j ≤ i: dScore = P ⊙ (dP − Σ_j P·dP)
            const dP = new Float64Array(i + 1);
            let dot = 0;
            for (let j = 0; j <= i; j++) {
              const pij = pattern[(h * S + i) * S + j];
              for (let e = 0; e < E; e++) {
                dP[j] += dz[(h * S + i) * E + e] * v[(h * S + j) * E + e];
                dv[(h * S + j) * E + e] += pij * dz[(h * S + i) * E + e];
              }
              dot += pij * dP[j];
            }
            for (let j = 0; j <= i; j++) {
              const dScore = pattern[(h * S + i) * S + j] * (dP[j] - dot) * inv;
              for (let e = 0; e < E; e++) {
                dq[(h * S + i) * E + e] += dScore * k[(h * S + j) * E + e];
                dk[(h * S + j) * E + e] += dScore * q[(h * S + i) * E + e];
              }
            }
          }
        for (const [w, bias, d] of [
          ['W_Q', 'b_Q', dq],
          ['W_K', 'b_K', dk],
          ['W_V', 'b_V', dv],
        ] as const) {
          const Wt = W(`${b}.attn.${w}`);
          const gW = G(`${b}.attn.${w}`);
          for (let h = 0; h < H; h++)
            for (let s = 0; s < S; s++)
              for (let e = 0; e < E; e++) {
                const g = d[(h * S + s) * E + e];
                if (c.attnBias) G(`${b}.attn.${bias}`)[h * E + e] += g;
                for (let m = 0; m < D; m++) {
                  gW[(h * D + m) * E + e] += x[s * D + m] * g;
                  dX[s * D + m] += Wt[(h * D + m) * E + e] * g;
                }
              }
        }
        dResid = dX;
      }
      for (let s = 0; s < S; s++)
        for (let m = 0; m < D; m++) {
          G('embed.W_E')[tokens[s] * D + m] += dResid[s * D + m];
          G('pos_embed.W_pos')[s * D + m] += dResid[s * D + m];
        }
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
