/**
 * The transformer's test oracle: a plain float64 forward pass written with loops and no tfjs. It
 * runs the FULL sequence in every layer (no last-position shortcut), with an explicit causal mask,
 * so agreeing with it also checks the shortcut taken by the fast path.
 */
import type { ModelConfig } from '../../config/types.ts';
import { activate64, layerNorm64, param64, vecMat64 } from '../common.ts';
import type { ModelDims } from '../types.ts';

type TransformerConfig = Extract<ModelConfig, { kind: 'transformer' }>;

export interface TransformerReferenceOutput {
  logits: Float64Array; // [n, d_vocab_out]
  /** Same hook names and shapes as the fast path's cache (last position only). */
  hooks: Record<string, Float64Array>;
}

export function transformerReference(
  cfg: TransformerConfig,
  dims: ModelDims,
  params: Record<string, Float64Array>,
  tokens: Int32Array,
  n: number,
): TransformerReferenceOutput {
  const { n_layers: nL, d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const T = dims.n_ctx;
  const V = dims.d_vocab_out;
  if (tokens.length !== n * T) throw new RangeError(`reference: expected ${n * T} tokens, got ${tokens.length}`);
  const P = (name: string, size: number) => param64(params, name, size);
  const W_E = P('embed.W_E', dims.d_vocab * D);
  const W_pos = P('pos_embed.W_pos', T * D);
  const logits = new Float64Array(n * V);
  const hooks: Record<string, Float64Array> = {};
  for (let l = 0; l < nL; l++) {
    hooks[`blocks.${l}.attn.hook_pattern`] = new Float64Array(n * H * T);
    hooks[`blocks.${l}.mlp.hook_post`] = new Float64Array(n * M);
  }
  hooks['hook_resid_final'] = new Float64Array(n * D);

  for (let i = 0; i < n; i++) {
    // resid[t]: [D]
    const resid: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const tok = tokens[i * T + t];
      const r = new Float64Array(D);
      for (let d = 0; d < D; d++) r[d] = W_E[tok * D + d] + W_pos[t * D + d];
      resid.push(r);
    }
    for (let l = 0; l < nL; l++) {
      const b = `blocks.${l}`;
      const x = cfg.layer_norm ? resid.map((r) => layerNorm64(r, P(`${b}.ln1.w`, D), P(`${b}.ln1.b`, D))) : resid;
      const W_Q = P(`${b}.attn.W_Q`, H * D * E),
        W_K = P(`${b}.attn.W_K`, H * D * E),
        W_V = P(`${b}.attn.W_V`, H * D * E);
      const b_Q = P(`${b}.attn.b_Q`, H * E),
        b_K = P(`${b}.attn.b_K`, H * E),
        b_V = P(`${b}.attn.b_V`, H * E);
      const W_O = P(`${b}.attn.W_O`, H * E * D),
        b_O = P(`${b}.attn.b_O`, D);
      // q/k/v[t][h·E + e] = Σ_d x[t][d]·W[h, d, e] + b[h, e]
      const project = (W: Float64Array, bias: Float64Array) =>
        x.map((xt) => {
          const out = new Float64Array(H * E);
          for (let h = 0; h < H; h++) {
            for (let e = 0; e < E; e++) {
              let s = bias[h * E + e];
              for (let d = 0; d < D; d++) s += xt[d] * W[(h * D + d) * E + e];
              out[h * E + e] = s;
            }
          }
          return out;
        });
      const q = project(W_Q, b_Q),
        k = project(W_K, b_K),
        v = project(W_V, b_V);
      const attnOut: Float64Array[] = [];
      for (let tq = 0; tq < T; tq++) {
        const out = new Float64Array(b_O);
        for (let h = 0; h < H; h++) {
          // causal: query tq sees keys 0..tq
          const w = new Float64Array(T);
          let max = -Infinity;
          for (let tk = 0; tk <= tq; tk++) {
            let s = 0;
            for (let e = 0; e < E; e++) s += q[tq][h * E + e] * k[tk][h * E + e];
            w[tk] = s / Math.sqrt(E);
            if (w[tk] > max) max = w[tk];
          }
          let sum = 0;
          for (let tk = 0; tk <= tq; tk++) {
            w[tk] = Math.exp(w[tk] - max);
            sum += w[tk];
          }
          for (let tk = 0; tk <= tq; tk++) w[tk] /= sum;
          if (tq === T - 1) hooks[`${b}.attn.hook_pattern`].set(w, (i * H + h) * T);
          for (let e = 0; e < E; e++) {
            let z = 0;
            for (let tk = 0; tk <= tq; tk++) z += w[tk] * v[tk][h * E + e];
            for (let d = 0; d < D; d++) out[d] += z * W_O[(h * E + e) * D + d];
          }
        }
        attnOut.push(out);
      }
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) resid[t][d] += attnOut[t][d];
      const W_in = P(`${b}.mlp.W_in`, D * M),
        b_in = P(`${b}.mlp.b_in`, M);
      const W_out = P(`${b}.mlp.W_out`, M * D),
        b_out = P(`${b}.mlp.b_out`, D);
      for (let t = 0; t < T; t++) {
        const x2 = cfg.layer_norm ? layerNorm64(resid[t], P(`${b}.ln2.w`, D), P(`${b}.ln2.b`, D)) : resid[t];
        const post = vecMat64(x2, W_in, D, M, b_in).map((u) => activate64(u, cfg.act));
        if (t === T - 1) hooks[`${b}.mlp.hook_post`].set(post, i * M);
        const out = vecMat64(post, W_out, M, D, b_out);
        for (let d = 0; d < D; d++) resid[t][d] += out[d];
      }
    }
    const last = resid[T - 1];
    const final = cfg.layer_norm ? layerNorm64(last, P('ln_final.w', D), P('ln_final.b', D)) : last;
    hooks['hook_resid_final'].set(final, i * D);
    logits.set(vecMat64(final, P('unembed.W_U', D * V), D, V, P('unembed.b_U', V)), i * V);
  }
  return { logits, hooks };
}
