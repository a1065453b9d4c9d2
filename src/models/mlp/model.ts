/**
 * Embedding + fully connected network: one shared table embed.W_E looks up each input token, the
 * embeddings are concatenated, then hidden layers with an activation, then the unembedding.
 *
 * Which positions are inputs: a modular-style task ([a, b, =], where '=' is the extra token of a
 * vocabulary one larger than the classes) feeds only the operands a and b — the constant '='
 * would only act as a bias. The rule is structural: n_ctx = 3, d_vocab = d_vocab_out + 1 and
 * d_vocab_out ≥ 3 (the last clause keeps 3-bit sparse parity with ±1 labels, whose
 * d_vocab = 2 = d_vocab_out + 1, on the all-positions side). Every other task uses all n_ctx.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, ModelConfig } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import type { Rng } from '../../rng.ts';
import {
  activate,
  activate64,
  checkTokens,
  initParams,
  inputTensor,
  param,
  param64,
  preparedInput,
  requireInt,
  requirePositive,
  vecMat64,
  type InitRule,
} from '../common.ts';
import type { ForwardOutput, ModelCore, ModelDims, ParamSpec, PreparedInput } from '../types.ts';

export type MlpConfig = Extract<ModelConfig, { kind: 'mlp' }>;

const ACTIVATIONS: readonly Activation[] = ['relu', 'gelu', 'quadratic', 'tanh', 'linear'];

/** Token positions the MLP reads: [0, 1] for modular-style tasks, else every position. */
export function mlpInputPositions(dims: ModelDims): number[] {
  const modular = dims.n_ctx === 3 && dims.d_vocab === dims.d_vocab_out + 1 && dims.d_vocab_out >= 3;
  return modular ? [0, 1] : Array.from({ length: dims.n_ctx }, (_, t) => t);
}

export function mlpSpecs(cfg: MlpConfig, dims: ModelDims): ParamSpec[] {
  const specs: ParamSpec[] = [{ name: 'embed.W_E', shape: [dims.d_vocab, cfg.d_embed] }];
  let dIn = mlpInputPositions(dims).length * cfg.d_embed;
  cfg.hidden.forEach((width, l) => {
    specs.push({ name: `mlp.${l}.W`, shape: [dIn, width] }, { name: `mlp.${l}.b`, shape: [width] });
    dIn = width;
  });
  specs.push(
    { name: 'unembed.W_U', shape: [dIn, dims.d_vocab_out] },
    { name: 'unembed.b_U', shape: [dims.d_vocab_out] },
  );
  return specs;
}

/**
 * LeCun-normal init, then × α: a weight matrix [fan_in, fan_out] ~ N(0, 1/fan_in); the embedding
 * ~ N(0, 1) (a one-hot input has a single active entry, so its fan-in is 1, as in PyTorch's
 * nn.Embedding), which gives the first hidden layer unit-variance pre-activations; biases 0.
 */
export function mlpInitRule(cfg: MlpConfig, specs: ParamSpec[]): (name: string) => InitRule {
  const fanIn = new Map(specs.map((s) => [s.name, s.shape[0]]));
  const alpha = cfg.init_scale;
  return (name) => {
    if (name === 'embed.W_E') return { kind: 'normal', std: alpha };
    if (/^mlp\.\d+\.W$/.test(name) || name === 'unembed.W_U')
      return { kind: 'normal', std: alpha / Math.sqrt(fanIn.get(name)!) };
    return { kind: 'zeros' };
  };
}

function validate(cfg: MlpConfig, dims: ModelDims): void {
  requireInt('model.d_embed', cfg.d_embed, 1);
  if (!Array.isArray(cfg.hidden) || cfg.hidden.length === 0) {
    throw new ConfigError(
      'model config',
      'model.hidden',
      `expected at least one hidden width, got ${JSON.stringify(cfg.hidden)}`,
    );
  }
  cfg.hidden.forEach((w, l) => requireInt(`model.hidden[${l}]`, w, 1));
  if (!ACTIVATIONS.includes(cfg.act)) {
    throw new ConfigError(
      'model config',
      'model.act',
      `expected one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(cfg.act)}`,
    );
  }
  requirePositive('model.init_scale', cfg.init_scale);
  requireInt('task d_vocab', dims.d_vocab, 1);
  requireInt('task n_ctx', dims.n_ctx, 1);
  requireInt('task d_vocab_out', dims.d_vocab_out, 1);
}

export function createMlp(cfg: MlpConfig, dims: ModelDims): ModelCore {
  validate(cfg, dims);
  const specs = mlpSpecs(cfg, dims);
  const positions = mlpInputPositions(dims);
  const nPos = positions.length;
  const nHidden = cfg.hidden.length;

  function forward(params: Record<string, tf.Tensor>, input: PreparedInput, opts?: { cache?: boolean }): ForwardOutput {
    const n = input.n;
    return tf.tidy(() => {
      const cache: Record<string, tf.Tensor> = {};
      // Example-major token ids: row i·nPos + j embeds example i's j-th input position, so the
      // reshape to [n, nPos·d_embed] is exactly the concatenation of the embeddings. A gather
      // (gradient: a segment sum) rather than one-hot · W_E: the same values, without two
      // [n·nPos, d_vocab] × d_embed products per step (3 ms of a 25 ms mlp-97 step).
      const ids = inputTensor<tf.Rank.R1>('mlp', input, 'ids', [n * nPos]);
      const emb = tf.gather(param<tf.Rank.R2>(params, 'embed.W_E'), ids);
      let h = tf.reshape(emb, [n, nPos * cfg.d_embed]) as tf.Tensor2D;
      for (let l = 0; l < nHidden; l++) {
        const pre = tf.add(tf.matMul(h, param<tf.Rank.R2>(params, `mlp.${l}.W`)), param(params, `mlp.${l}.b`));
        h = activate(pre, cfg.act) as tf.Tensor2D; // [n, hidden[l]]
        if (opts?.cache) cache[`hidden.${l}.hook_post`] = h;
      }
      const logits = tf.add(
        tf.matMul(h, param<tf.Rank.R2>(params, 'unembed.W_U')),
        param(params, 'unembed.b_U'),
      ) as tf.Tensor2D;
      return { logits, cache };
    });
  }

  function reference(params: Record<string, Float64Array>, tokens: Int32Array, n: number): Float64Array {
    const dE = cfg.d_embed;
    const W_E = param64(params, 'embed.W_E', dims.d_vocab * dE);
    const V = dims.d_vocab_out;
    const logits = new Float64Array(n * V);
    for (let i = 0; i < n; i++) {
      let h = new Float64Array(nPos * dE);
      positions.forEach((t, j) => {
        const tok = tokens[i * dims.n_ctx + t];
        for (let e = 0; e < dE; e++) h[j * dE + e] = W_E[tok * dE + e];
      });
      for (let l = 0; l < nHidden; l++) {
        const dIn = h.length,
          width = cfg.hidden[l];
        const W = param64(params, `mlp.${l}.W`, dIn * width);
        h = vecMat64(h, W, dIn, width, param64(params, `mlp.${l}.b`, width)).map((u) => activate64(u, cfg.act));
      }
      const W_U = param64(params, 'unembed.W_U', h.length * V);
      logits.set(vecMat64(h, W_U, h.length, V, param64(params, 'unembed.b_U', V)), i * V);
    }
    return logits;
  }

  return {
    config: cfg,
    dims,
    specs,
    neuronHook: `hidden.${nHidden - 1}.hook_post`,
    init: (rng: Rng) => initParams(specs, mlpInitRule(cfg, specs), rng),
    prepare(tokens: Int32Array, n: number): PreparedInput {
      checkTokens('mlp', tokens, n, dims.n_ctx, dims.d_vocab);
      const ids = new Int32Array(n * nPos); // [n·nPos]
      for (let i = 0; i < n; i++) {
        positions.forEach((t, j) => {
          ids[i * nPos + j] = tokens[i * dims.n_ctx + t];
        });
      }
      return preparedInput(n, { ids: tf.tensor1d(ids, 'int32') });
    },
    forward,
    reference,
  };
}
