/**
 * The two-layer quadratic network of Gromov 2023 and Mohamadi et al. 2024:
 *   x = one-hot(a) ‖ one-hot(b)          [2p]
 *   hook_hidden = (W·x)²                  [h], W: [h, 2p]
 *   logits = V·hook_hidden                [p], V: [p, h]
 * No biases, no embedding table. a and b are the tokens at positions 0 and 1 (any '=' after them
 * is ignored) and p is the number of output classes. Weights keep PyTorch's [out, in] layout, as
 * in those papers; the forward transposes the (small) weights, never the activations.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import type { Rng } from '../../rng.ts';
import {
  initParams,
  inputTensor,
  param,
  param64,
  preparedInput,
  requireInt,
  requirePositive,
  type InitRule,
} from '../common.ts';
import type { ForwardOutput, ModelCore, ModelDims, ParamSpec, PreparedInput } from '../types.ts';

export type QuadraticConfig = Extract<ModelConfig, { kind: 'quadratic' }>;

export function quadraticSpecs(cfg: QuadraticConfig, dims: ModelDims): ParamSpec[] {
  const p = dims.d_vocab_out;
  return [
    { name: 'W', shape: [cfg.hidden, 2 * p] },
    { name: 'V', shape: [p, cfg.hidden] },
  ];
}

/** N(0, 1/fan_in) × α: W ~ N(0, α²/(2p)), V ~ N(0, α²/h). */
export function quadraticInitRule(cfg: QuadraticConfig, dims: ModelDims): (name: string) => InitRule {
  const alpha = cfg.init_scale;
  return (name) =>
    name === 'W'
      ? { kind: 'normal', std: alpha / Math.sqrt(2 * dims.d_vocab_out) }
      : { kind: 'normal', std: alpha / Math.sqrt(cfg.hidden) };
}

function validate(cfg: QuadraticConfig, dims: ModelDims): void {
  requireInt('model.hidden', cfg.hidden, 1);
  requirePositive('model.init_scale', cfg.init_scale);
  requireInt('task d_vocab_out', dims.d_vocab_out, 1);
  if (dims.n_ctx < 2) {
    throw new ConfigError(
      'model config',
      'model.kind',
      `the quadratic model needs two operand tokens, but the task has n_ctx = ${dims.n_ctx}`,
    );
  }
}

export function createQuadratic(cfg: QuadraticConfig, dims: ModelDims): ModelCore {
  validate(cfg, dims);
  const specs = quadraticSpecs(cfg, dims);
  const p = dims.d_vocab_out;
  const h = cfg.hidden;
  const T = dims.n_ctx;

  function forward(params: Record<string, tf.Tensor>, input: PreparedInput, opts?: { cache?: boolean }): ForwardOutput {
    return tf.tidy(() => {
      const x = inputTensor<tf.Rank.R2>('quadratic', input, 'onehot', [input.n, 2 * p]); // [n, 2p]
      const hidden = tf.square(tf.matMul(x, tf.transpose(param<tf.Rank.R2>(params, 'W')))); // [n, h]
      const logits: tf.Tensor2D = tf.matMul(hidden, tf.transpose(param<tf.Rank.R2>(params, 'V'))); // [n, p]
      const cache: Record<string, tf.Tensor> = opts?.cache ? { hook_hidden: hidden } : {};
      return { logits, cache };
    });
  }

  function reference(params: Record<string, Float64Array>, tokens: Int32Array, n: number): Float64Array {
    const W = param64(params, 'W', h * 2 * p);
    const V = param64(params, 'V', p * h);
    const logits = new Float64Array(n * p);
    const hidden = new Float64Array(h);
    for (let i = 0; i < n; i++) {
      const a = tokens[i * T],
        b = tokens[i * T + 1];
      for (let j = 0; j < h; j++) {
        const u = W[j * 2 * p + a] + W[j * 2 * p + p + b];
        hidden[j] = u * u;
      }
      for (let c = 0; c < p; c++) {
        let s = 0;
        for (let j = 0; j < h; j++) s += V[c * h + j] * hidden[j];
        logits[i * p + c] = s;
      }
    }
    return logits;
  }

  return {
    config: cfg,
    dims,
    specs,
    neuronHook: 'hook_hidden',
    init: (rng: Rng) => initParams(specs, quadraticInitRule(cfg, dims), rng),
    prepare(tokens: Int32Array, n: number): PreparedInput {
      if (!Number.isInteger(n) || n < 1 || tokens.length !== n * T) {
        throw new RangeError(`quadratic.prepare: expected ${n}×${T} tokens, got ${tokens.length}`);
      }
      const data = new Float32Array(n * 2 * p); // [n, 2p]
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 2; j++) {
          const tok = tokens[i * T + j];
          if (tok < 0 || tok >= p) {
            throw new RangeError(
              `quadratic.prepare: operand ${tok} at example ${i}, position ${j} is outside [0, ${p})`,
            );
          }
          data[i * 2 * p + j * p + tok] = 1;
        }
      }
      return preparedInput(n, { onehot: tf.tensor2d(data, [n, 2 * p]) });
    },
    forward,
    reference,
  };
}
