/**
 * The transformer's forward written against a Linearisation, for the empirical NTK
 * (analyses/ntk-linearised.ts explains the method). It reuses ./model.ts's attention but computes
 * every position the plain way; analyses/ntk.ts checks on every call that it reproduces the
 * model's logits and covers every parameter once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activate, linearisedLayerNorm as layerNorm } from '../common.ts';
import { oneHotRows, param, positionRows, type LinearisedForward } from '../linearisation.ts';
import type { ModelDims } from '../types.ts';
import { attendCausal, attendFrom, type TransformerConfig } from './model.ts';

/**
 * The transformer, every position computed plainly: embeddings and the lower layers at all T
 * positions, the final layer's query, attention output, MLP and unembedding at the last one.
 */
export function transformerLinearised(cfg: TransformerConfig, dims: ModelDims): LinearisedForward {
  const { n_layers: nL, d_model: D, n_heads: H, d_head: E } = cfg;
  const T = dims.n_ctx;
  const all = Array.from({ length: T }, (_, t) => t);
  return {
    inputs: (tokens, n) => [
      oneHotRows(tokens, n, T, all, dims.d_vocab, (tok) => tok), // [T·n, d_vocab]
      oneHotRows(tokens, n, T, all, T, (_tok, t) => t), // [T·n, T]
    ],
    logits(params, lin, [tokOneHot, posOneHot], n) {
      const p = (name: string) => param(params, name);
      let resid = tf.add(
        lin.linear(tokOneHot, p('embed.W_E'), 'embed.W_E', null, null, T),
        lin.linear(posOneHot, p('pos_embed.W_pos'), 'pos_embed.W_pos', null, null, T),
      ) as tf.Tensor2D; // [T·n, D]
      for (let l = 0; l < nL; l++) {
        const b = `blocks.${l}`;
        const final = l === nL - 1;
        const Tq = final ? 1 : T; // query positions computed in this layer
        const x = cfg.layer_norm ? layerNorm(lin, params, resid, `${b}.ln1`, T) : resid;
        const project = (xs: tf.Tensor2D, w: string, sites: number) => {
          const W = tf.reshape(tf.transpose(p(`${b}.attn.W_${w}`), [1, 0, 2]), [D, H * E]) as tf.Tensor2D; // [H, D, E] → [D, H·E]
          const bias = tf.reshape(p(`${b}.attn.b_${w}`), [H * E]);
          return lin.linear(xs, W, `${b}.attn.W_${w}`, bias, `${b}.attn.b_${w}`, sites);
        };
        const k = project(x, 'K', T);
        const v = project(x, 'V', T);
        const q = project(final ? positionRows(x, T - 1, n) : x, 'Q', Tq);
        if (final) resid = positionRows(resid, T - 1, n);
        const { z } = final ? attendFrom(q, k, v, n, H, E) : attendCausal(q, k, v, n, H, E); // [Tq·n, H·E]
        const W_O = tf.reshape(p(`${b}.attn.W_O`), [H * E, D]) as tf.Tensor2D;
        resid = tf.add(
          resid,
          lin.linear(z, W_O, `${b}.attn.W_O`, p(`${b}.attn.b_O`), `${b}.attn.b_O`, Tq),
        ) as tf.Tensor2D;
        const x2 = cfg.layer_norm ? layerNorm(lin, params, resid, `${b}.ln2`, Tq) : resid;
        const pre = lin.linear(x2, p(`${b}.mlp.W_in`), `${b}.mlp.W_in`, p(`${b}.mlp.b_in`), `${b}.mlp.b_in`, Tq);
        const post = activate(pre, cfg.act) as tf.Tensor2D;
        resid = tf.add(
          resid,
          lin.linear(post, p(`${b}.mlp.W_out`), `${b}.mlp.W_out`, p(`${b}.mlp.b_out`), `${b}.mlp.b_out`, Tq),
        ) as tf.Tensor2D;
      }
      const final = cfg.layer_norm ? layerNorm(lin, params, resid, 'ln_final', 1) : resid; // [n, D]
      return lin.linear(final, p('unembed.W_U'), 'unembed.W_U', p('unembed.b_U'), 'unembed.b_U', 1);
    },
  };
}
