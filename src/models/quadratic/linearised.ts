/** The quadratic network's forward written against a Linearisation, for the empirical NTK (see ../transformer/linearised.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { param, type LinearisedForward } from '../linearisation.ts';
import type { ModelDims } from '../types.ts';
import type { QuadraticConfig } from './model.ts';

/** (W·[one-hot(a) ‖ one-hot(b)])², then V; weights in PyTorch's [out, in] layout. */
export function quadraticLinearised(_cfg: QuadraticConfig, dims: ModelDims): LinearisedForward {
  const p = dims.d_vocab_out;
  return {
    inputs: (tokens, n) => [quadraticOneHot(tokens, n, dims.n_ctx, p)],
    logits(params, lin, [x]) {
      const hidden = tf.square(lin.linear(x, tf.transpose(param(params, 'W')), 'W', null, null, 1)) as tf.Tensor2D; // [n, h]
      return lin.linear(hidden, tf.transpose(param(params, 'V')), 'V', null, null, 1);
    },
  };
}

function quadraticOneHot(tokens: Int32Array, n: number, nCtx: number, p: number): tf.Tensor2D {
  const data = new Float32Array(n * 2 * p); // [n, 2p]: one-hot(a) ‖ one-hot(b)
  for (let i = 0; i < n; i++) {
    data[i * 2 * p + tokens[i * nCtx]] = 1;
    data[i * 2 * p + p + tokens[i * nCtx + 1]] = 1;
  }
  return tf.tensor2d(data, [n, 2 * p]);
}
