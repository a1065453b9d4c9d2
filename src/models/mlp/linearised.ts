/** The MLP's forward written against a Linearisation, for the empirical NTK (see ../transformer/linearised.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { activate } from '../common.ts';
import { oneHotRows, param, positionRows, type LinearisedForward } from '../linearisation.ts';
import type { ModelDims } from '../types.ts';
import { mlpInputPositions, type MlpConfig } from './model.ts';

/** Embedding of each input position, concatenated, then the hidden layers and the unembedding. */
export function mlpLinearised(cfg: MlpConfig, dims: ModelDims): LinearisedForward {
  const positions = mlpInputPositions(dims);
  const S = positions.length;
  return {
    inputs: (tokens, n) => [oneHotRows(tokens, n, dims.n_ctx, positions, dims.d_vocab, (tok) => tok)], // [S·n, d_vocab]
    logits(params, lin, [oneHot], n) {
      const emb = lin.linear(oneHot, param(params, 'embed.W_E'), 'embed.W_E', null, null, S); // [S·n, d_embed]
      let h = tf.concat(
        positions.map((_, t) => positionRows(emb, t, n)),
        1,
      ) as tf.Tensor2D; // [n, S·d_embed]
      cfg.hidden.forEach((_, l) => {
        h = activate(
          lin.linear(h, param(params, `mlp.${l}.W`), `mlp.${l}.W`, param(params, `mlp.${l}.b`), `mlp.${l}.b`, 1),
          cfg.act,
        ) as tf.Tensor2D;
      });
      return lin.linear(h, param(params, 'unembed.W_U'), 'unembed.W_U', param(params, 'unembed.b_U'), 'unembed.b_U', 1);
    },
  };
}
