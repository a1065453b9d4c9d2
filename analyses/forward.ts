/**
 * One forward pass of a checkpoint over every example of its task, on the tensor backend, in
 * chunks so that memory stays bounded: final-position logits, the activations that play the
 * neurons' part (model.neuronHook) and, for transformers, the attention of the last position.
 * Everything comes back as plain float32 arrays in dataset order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../src/models/types.ts';

export interface ForwardAll {
  n: number;
  classes: number;
  logits: Float32Array; // [n, classes]
  /** [n, width] activations of model.neuronHook; only when asked for. */
  neurons: Float32Array | null;
  width: number;
  /** [n, heads, n_ctx] attention of the last query in the last layer (transformers only). */
  attention: Float32Array | null;
  heads: number;
}

export function forwardAll(
  model: Model,
  params: Record<string, Float32Array>,
  tokens: Int32Array,
  n: number,
  opts: { neurons?: boolean; attention?: boolean; chunk?: number } = {},
): ForwardAll {
  const T = model.dims.n_ctx;
  const classes = model.dims.d_vocab_out;
  const chunk = Math.max(1, opts.chunk ?? 4096);
  const wantCache = !!(opts.neurons || opts.attention);
  const vars: Record<string, tf.Tensor> = {};
  for (const { name, shape } of model.specs) vars[name] = tf.tensor(params[name], shape, 'float32');
  const logits = new Float32Array(n * classes);
  let neurons: Float32Array | null = null;
  let attention: Float32Array | null = null;
  let width = 0;
  let heads = 0;
  const patternKey = model.attention?.hook ?? null;
  try {
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const input = model.prepare(tokens.subarray(start * T, (start + m) * T), m);
      try {
        const out = tf.tidy(() => {
          const { logits: l, cache } = model.forward(vars, input, { cache: wantCache });
          const keep: tf.Tensor[] = [l];
          if (opts.neurons) keep.push(cache[model.neuronHook]);
          if (opts.attention && patternKey && cache[patternKey]) keep.push(cache[patternKey]);
          return keep;
        });
        try {
          logits.set(out[0].dataSync() as Float32Array, start * classes);
          let k = 1;
          if (opts.neurons) {
            const t = out[k++];
            width = t.shape[1]!;
            neurons ??= new Float32Array(n * width);
            neurons.set(t.dataSync() as Float32Array, start * width);
          }
          if (opts.attention && k < out.length) {
            const t = out[k];
            heads = t.shape[1]!;
            attention ??= new Float32Array(n * heads * T);
            attention.set(t.dataSync() as Float32Array, start * heads * T);
          }
        } finally {
          out.forEach((t) => t.dispose());
        }
      } finally {
        input.dispose();
      }
    }
  } finally {
    Object.values(vars).forEach((v) => v.dispose());
  }
  return { n, classes, logits, neurons, width, attention, heads };
}
