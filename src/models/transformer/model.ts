/**
 * TransformerLens-compatible decoder-only transformer (Nanda et al. 2023's grokking model by
 * default: 1 layer, no LayerNorm, ReLU MLP, learned positions, untied embed / unembed).
 *
 * Layout. Activations are kept position-major: row t·n + i holds example i at position t, so a
 * position is a contiguous block of rows and "the last position" is a cheap slice. Only the
 * last position's logits are read, so the final layer computes keys and values at every position
 * but the query, attention output, MLP and unembedding at the last position only; lower layers
 * run the full causal sequence because later layers attend to all of it.
 *
 * Cache (opts.cache), all at the last position: blocks.L.attn.hook_pattern [n, n_heads, n_ctx]
 * (the last query's attention), blocks.L.mlp.hook_post [n, d_mlp], and hook_resid_final
 * [n, d_model] = the unembedding's input (after ln_final when layer_norm is on), so that
 * logits = hook_resid_final · W_U + b_U.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GATHER_ADD_ROWS } from '../../backend/kernel-names.ts';
import type { ModelConfig } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import type { Rng } from '../../rng.ts';
import {
  activate,
  checkTokens,
  initParams,
  inputTensor,
  layerNorm,
  param,
  preparedInput,
  requireInt,
  requirePositive,
  type InitRule,
} from '../common.ts';
import { transformerReference } from './reference.ts';
import type { ForwardOutput, ModelCore, ModelDims, ParamSpec, PreparedInput } from '../types.ts';

export type TransformerConfig = Extract<ModelConfig, { kind: 'transformer' }>;

/**
 * Ordered parameter list with TransformerLens names and shapes. The attention biases are listed
 * in every case (checkpoints always hold them) and marked frozen unless cfg.attn_bias.
 */
export function transformerSpecs(cfg: TransformerConfig, dims: ModelDims): ParamSpec[] {
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const specs: ParamSpec[] = [
    { name: 'embed.W_E', shape: [dims.d_vocab, D] },
    { name: 'pos_embed.W_pos', shape: [dims.n_ctx, D] },
  ];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    if (cfg.layer_norm) specs.push({ name: `${b}.ln1.w`, shape: [D] }, { name: `${b}.ln1.b`, shape: [D] });
    specs.push(
      { name: `${b}.attn.W_Q`, shape: [H, D, E] },
      { name: `${b}.attn.W_K`, shape: [H, D, E] },
      { name: `${b}.attn.W_V`, shape: [H, D, E] },
      { name: `${b}.attn.W_O`, shape: [H, E, D] },
    );
    // Without attn_bias the biases exist only as zeros in the checkpoint (TransformerLens' layout).
    const bias = (name: string, shape: number[]): ParamSpec =>
      cfg.attn_bias ? { name, shape } : { name, shape, frozen: true };
    specs.push(
      bias(`${b}.attn.b_Q`, [H, E]),
      bias(`${b}.attn.b_K`, [H, E]),
      bias(`${b}.attn.b_V`, [H, E]),
      bias(`${b}.attn.b_O`, [D]),
    );
    if (cfg.layer_norm) specs.push({ name: `${b}.ln2.w`, shape: [D] }, { name: `${b}.ln2.b`, shape: [D] });
    specs.push(
      { name: `${b}.mlp.W_in`, shape: [D, M] },
      { name: `${b}.mlp.b_in`, shape: [M] },
      { name: `${b}.mlp.W_out`, shape: [M, D] },
      { name: `${b}.mlp.b_out`, shape: [D] },
    );
  }
  if (cfg.layer_norm) specs.push({ name: 'ln_final.w', shape: [D] }, { name: 'ln_final.b', shape: [D] });
  specs.push({ name: 'unembed.W_U', shape: [D, dims.d_vocab_out] }, { name: 'unembed.b_U', shape: [dims.d_vocab_out] });
  return specs;
}

/**
 * Nanda et al.'s init, then × α: every matrix ~ N(0, 1/d_model), except W_U ~ N(0, 1/d_vocab)
 * with d_vocab the INPUT vocabulary (p + 1); biases 0; LayerNorm weights 1 and NOT scaled by α
 * (they are gains of a normalisation, not weights of the lazy/rich picture).
 */
export function transformerInitRule(cfg: TransformerConfig, dims: ModelDims): (name: string) => InitRule {
  const alpha = cfg.init_scale;
  return (name) => {
    if (name === 'unembed.W_U') return { kind: 'normal', std: alpha / Math.sqrt(dims.d_vocab) };
    if (/\.W_[A-Za-z]+$/.test(name)) return { kind: 'normal', std: alpha / Math.sqrt(cfg.d_model) };
    if (/^(blocks\.\d+\.ln[12]|ln_final)\.w$/.test(name)) return { kind: 'ones' };
    return { kind: 'zeros' };
  };
}

function validate(cfg: TransformerConfig, dims: ModelDims): void {
  requireInt('model.n_layers', cfg.n_layers, 1);
  requireInt('model.d_model', cfg.d_model, 1);
  requireInt('model.n_heads', cfg.n_heads, 1);
  requireInt('model.d_head', cfg.d_head, 1);
  requireInt('model.d_mlp', cfg.d_mlp, 1);
  requirePositive('model.init_scale', cfg.init_scale);
  if (cfg.act !== 'relu' && cfg.act !== 'gelu') {
    throw new ConfigError(
      'model config',
      'model.act',
      `a transformer takes 'relu' or 'gelu', got ${JSON.stringify(cfg.act)}`,
    );
  }
  if (typeof cfg.attn_bias !== 'boolean') {
    throw new ConfigError(
      'model config',
      'model.attn_bias',
      `expected true or false, got ${JSON.stringify(cfg.attn_bias)}`,
    );
  }
  requireInt('task d_vocab', dims.d_vocab, 1);
  requireInt('task n_ctx', dims.n_ctx, 1);
  requireInt('task d_vocab_out', dims.d_vocab_out, 1);
}

/**
 * Multi-head attention of the queries at one position over the K keys at and before it (causal
 * by construction: later keys are simply not passed in). Position-major layout:
 *   q: [n, H·E] (b_Q included), k, v: [K·n, H·E], rows t·n + i
 * Returns z: [n, H·E] and pattern: [n, H, K] (softmax over keys: this query's row of
 * TransformerLens' hook_pattern). With n_ctx = 3 the sequences are tiny, so scores are broadcast
 * products summed over d_head rather than n·H batched 1×E·E×K matmuls.
 */
export function attendFrom(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  n: number,
  H: number,
  E: number,
): { z: tf.Tensor2D; pattern: tf.Tensor3D } {
  const K = k.shape[0] / n;
  const scores = tf.sum(tf.mul(tf.reshape(q, [1, n, H, E]), tf.reshape(k, [K, n, H, E])), -1); // [K, n, H]
  const pattern = tf.softmax(tf.mul(tf.transpose(scores, [1, 2, 0]), 1 / Math.sqrt(E))) as tf.Tensor3D; // [n, H, K]
  const weights = tf.reshape(tf.transpose(pattern, [2, 0, 1]), [K, n, H, 1]);
  const z = tf.sum(tf.mul(weights, tf.reshape(v, [K, n, H, E])), 0); // [n, H, E]
  return { z: tf.reshape(z, [n, H * E]), pattern };
}

/**
 * Causal attention at every position: q, k, v: [T·n, H·E] → z: [T·n, H·E], and the last
 * query's pattern [n, H, T] (all the cache keeps). One attendFrom per query position over the keys up to it; a single
 * masked [T, T, n, H, E] broadcast was over 10× slower, as tfjs-wasm reduces over a non-innermost
 * axis of a 5-D tensor through a slow transpose.
 */
export function attendCausal(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  n: number,
  H: number,
  E: number,
): { z: tf.Tensor2D; pattern: tf.Tensor3D } {
  const T = q.shape[0] / n;
  const HE = H * E;
  const zs: tf.Tensor2D[] = [];
  let lastPattern: tf.Tensor3D | null = null;
  for (let t = 0; t < T; t++) {
    const upTo = (x: tf.Tensor2D) => (t === T - 1 ? x : tf.slice(x, [0, 0], [(t + 1) * n, HE])); // keys 0..t
    const { z, pattern } = attendFrom(positionRows(q, t, n), upTo(k), upTo(v), n, H, E);
    zs.push(z);
    lastPattern = pattern;
  }
  return { z: tf.concat(zs, 0), pattern: lastPattern! };
}

/** What prepare() uploads: position-major rows r = t·n + i (example i, position t). */
interface UploadedTokens {
  onehot: tf.Tensor2D; // [n_ctx·n, d_vocab + n_ctx]: one-hot(token) ‖ one-hot(position)
  onehot_last: tf.Tensor2D; // [n, d_vocab + n_ctx], the last position's rows
  token_rows: tf.Tensor1D; // [n_ctx·n] int32: the token of row r (its one-hot column in the first block)
  position_rows: tf.Tensor1D; // [n_ctx·n] int32: d_vocab + t for row r = t·n + i (its one-hot column in the second block)
}

/**
 * [one-hot(token) ‖ one-hot(position)] · table for every row, computed as table[token] +
 * table[d_vocab + t] (two row gathers and an add) instead of the product — the same values: each
 * entry of the product is that one sum, rounded once (every other term is an exact 0). The
 * gradient stays the product's, onehotᵀ · dy, so training is unchanged bit for bit. For the Nanda
 * model's K and V lookups over all 12,769 pairs ([3·4096, 117] · [117, 128] per chunk of the
 * analysis forward pass): 30–54 ms of products → 15 ms per forwardAll (tf.profile, loaded machine).
 */
function lookupRows(up: UploadedTokens, table: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const tab = args[0] as tf.Tensor2D;
    // One pass on the wasm backend (src/backend/wasm-js-kernels.ts); elsewhere two gathers and an add.
    const value = tf.getKernel(GATHER_ADD_ROWS, tf.getBackend())
      ? (tf.engine().runKernel(GATHER_ADD_ROWS, { table: tab, a: up.token_rows, b: up.position_rows }) as tf.Tensor2D)
      : (tf.add(tf.gather(tab, up.token_rows), tf.gather(tab, up.position_rows)) as tf.Tensor2D);
    return { value, gradFunc: (dy: tf.Tensor) => [tf.matMul(up.onehot, dy as tf.Tensor2D, true, false)] };
  });
  return op(table) as tf.Tensor2D;
}

/** [H, D, E] per-head weights → [D, H·E], columns ordered (head, e). */
function headsToColumns(W: tf.Tensor, H: number, D: number, E: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(W, [1, 0, 2]), [D, H * E]);
}

/** Rows [t·n, (t+1)·n) of a position-major [T·n, C] tensor: position t of every example. */
function positionRows(x: tf.Tensor2D, t: number, n: number): tf.Tensor2D {
  return tf.slice(x, [t * n, 0], [n, x.shape[1]]);
}

export function createTransformer(cfg: TransformerConfig, dims: ModelDims): ModelCore {
  validate(cfg, dims);
  const specs = transformerSpecs(cfg, dims);
  const { n_layers: nL, d_model: D, n_heads: H, d_head: E } = cfg;
  const T = dims.n_ctx;
  const HE = H * E;

  function forward(params: Record<string, tf.Tensor>, input: PreparedInput, opts?: { cache?: boolean }): ForwardOutput {
    const n = input.n;
    const wantCache = opts?.cache === true;
    return tf.tidy(() => {
      const p = (name: string) => param(params, name);
      const p2 = (name: string) => param<tf.Rank.R2>(params, name);
      const cache: Record<string, tf.Tensor> = {};
      const width = dims.d_vocab + T;
      const up: UploadedTokens = {
        onehot: inputTensor('transformer', input, 'onehot', [T * n, width]),
        onehot_last: inputTensor('transformer', input, 'onehot_last', [n, width]),
        token_rows: inputTensor('transformer', input, 'token_rows', [T * n]),
        position_rows: inputTensor('transformer', input, 'position_rows', [T * n]),
      };
      // x ↦ [one-hot(token) ‖ one-hot(position)] · x, at every position or at the last one
      // (one-hot products, not tf.gather: gather's gradient needs UnsortedSegmentSum, absent in wasm)
      const atAll = (x: tf.Tensor): tf.Tensor2D => tf.matMul(up.onehot, x as tf.Tensor2D); // [T·n, ·]
      const atLast = (x: tf.Tensor): tf.Tensor2D => tf.matMul(up.onehot_last, x as tf.Tensor2D); // [n, ·]
      const W_E = p2('embed.W_E');
      const W_pos = p2('pos_embed.W_pos');
      // [W_E; W_pos]: [one-hot(token) ‖ one-hot(position)] · table = W_E[token] + W_pos[position]
      const table = tf.concat([W_E, W_pos], 0); // [d_vocab + n_ctx, D]
      const heads = (l: number, w: string) => headsToColumns(p(`blocks.${l}.attn.W_${w}`), H, D, E); // [D, H·E]
      const bias = (l: number, w: string) => tf.reshape(p(`blocks.${l}.attn.b_${w}`), [HE]);
      const project = (x: tf.Tensor2D, l: number, w: string) =>
        tf.add(tf.matMul(x, heads(l, w)), bias(l, w)) as tf.Tensor2D;
      // A lone layer without LayerNorm needs the residual stream at the last position only (its
      // keys and values come from lookup tables, below); otherwise embed every position.
      const fold = nL === 1 && !cfg.layer_norm;
      let resid = fold ? atLast(table) : atAll(table); // [n, D] if fold, else [T·n, D]
      for (let l = 0; l < nL; l++) {
        const b = `blocks.${l}`;
        const final = l === nL - 1; // computes the last position only: Tq = 1, else Tq = T
        let q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D; // q: [Tq·n, H·E], k, v: [T·n, H·E]
        if (fold) {
          // The layer's input at (token, t) is W_E[token] + W_pos[t], so K and V are lookups in
          // tables of d_vocab + n_ctx rows, (W_E·W_K) over (W_pos·W_K + b_K), read by the same
          // one-hot product: cheaper than embedding every position and projecting it (measured
          // 1.3× faster forward + backward for the Nanda model).
          const lookup = (w: string) => {
            const W = heads(l, w);
            return tf.concat([tf.matMul(W_E, W), tf.add(tf.matMul(W_pos, W), bias(l, w))], 0); // [d_vocab + n_ctx, H·E]
          };
          k = lookupRows(up, lookup('K') as tf.Tensor2D);
          v = lookupRows(up, lookup('V') as tf.Tensor2D);
          q = project(resid, l, 'Q');
        } else {
          const x = cfg.layer_norm ? (layerNorm(resid, p(`${b}.ln1.w`), p(`${b}.ln1.b`)) as tf.Tensor2D) : resid;
          // Separate products: measured faster than one fused [D, 3·H·E] product plus a split.
          k = project(x, l, 'K');
          v = project(x, l, 'V');
          q = project(final ? positionRows(x, T - 1, n) : x, l, 'Q');
          if (final) resid = positionRows(resid, T - 1, n);
        }
        // z: [Tq·n, H·E]; pattern: the last query's, [n, H, T]
        const { z, pattern } = final ? attendFrom(q, k, v, n, H, E) : attendCausal(q, k, v, n, H, E);
        const attnOut = tf.add(
          tf.matMul(z, tf.reshape(p(`${b}.attn.W_O`), [HE, D]) as tf.Tensor2D),
          p(`${b}.attn.b_O`),
        );
        resid = tf.add(resid, attnOut) as tf.Tensor2D; // [Tq·n, D]
        const x2 = cfg.layer_norm ? (layerNorm(resid, p(`${b}.ln2.w`), p(`${b}.ln2.b`)) as tf.Tensor2D) : resid;
        const pre = tf.add(tf.matMul(x2, p2(`${b}.mlp.W_in`)), p(`${b}.mlp.b_in`)) as tf.Tensor2D; // [Tq·n, d_mlp]
        const post = activate(pre, cfg.act) as tf.Tensor2D;
        resid = tf.add(resid, tf.add(tf.matMul(post, p2(`${b}.mlp.W_out`)), p(`${b}.mlp.b_out`))) as tf.Tensor2D;
        if (wantCache) {
          cache[`${b}.attn.hook_pattern`] = pattern;
          cache[`${b}.mlp.hook_post`] = final ? post : positionRows(post, T - 1, n); // [n, d_mlp]
        }
      }
      // resid is now the last position only: [n, D]
      const residFinal = cfg.layer_norm ? (layerNorm(resid, p('ln_final.w'), p('ln_final.b')) as tf.Tensor2D) : resid;
      if (wantCache) cache['hook_resid_final'] = residFinal;
      const logits = tf.add(tf.matMul(residFinal, p2('unembed.W_U')), p('unembed.b_U')) as tf.Tensor2D;
      return { logits, cache };
    });
  }

  return {
    config: cfg,
    dims,
    specs,
    neuronHook: `blocks.${nL - 1}.mlp.hook_post`,
    init: (rng: Rng) => initParams(specs, transformerInitRule(cfg, dims), rng),
    prepare(tokens: Int32Array, n: number): PreparedInput {
      checkTokens('transformer', tokens, n, T, dims.d_vocab);
      // Position-major rows: row t·n + i is example i at position t, holding
      // one-hot(token) ‖ one-hot(t) over d_vocab + n_ctx columns.
      const width = dims.d_vocab + T;
      const onehot = new Float32Array(T * n * width);
      const tokenRows = new Int32Array(T * n);
      const positionRows = new Int32Array(T * n);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < n; i++) {
          const row = (t * n + i) * width;
          onehot[row + tokens[i * T + t]] = 1;
          onehot[row + dims.d_vocab + t] = 1;
          tokenRows[t * n + i] = tokens[i * T + t];
          positionRows[t * n + i] = dims.d_vocab + t;
        }
      }
      const uploaded: UploadedTokens = {
        onehot: tf.tensor2d(onehot, [T * n, width]),
        onehot_last: tf.tensor2d(onehot.subarray((T - 1) * n * width), [n, width]),
        token_rows: tf.tensor1d(tokenRows, 'int32'),
        position_rows: tf.tensor1d(positionRows, 'int32'),
      };
      return preparedInput(n, { ...uploaded });
    },
    forward,
    reference: (params, tokens, n) => transformerReference(cfg, dims, params, tokens, n).logits,
  };
}
