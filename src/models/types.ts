import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config/types.ts';
import type { Rng } from '../rng.ts';
import type { LinearisedForward } from './linearisation.ts';
import type { Params, WeightMatrices } from './views.ts';

/** Sizes a model takes from its task. */
export interface ModelDims {
  d_vocab: number; // input tokens
  n_ctx: number; // sequence length
  d_vocab_out: number; // output classes
}

/** One parameter tensor: TransformerLens name and shape, e.g. blocks.0.attn.W_Q [n_heads, d_model, d_head]. */
export interface ParamSpec {
  name: string;
  shape: number[];
  /**
   * Stored in every checkpoint (as zeros, for TransformerLens' layout) but not a parameter of the
   * model: never a variable, never updated or decayed, left out of the NTK. E.g. the attention
   * biases of a transformer with model.attn_bias = false. Absent means trained.
   */
  frozen?: true;
}

/** The specs that are trained: what the optimiser and gradients cover. */
export function trainedSpecs(specs: readonly ParamSpec[]): ParamSpec[] {
  return specs.filter((s) => s.frozen !== true);
}

/** Input tensors uploaded once (tokens, one-hot matrices…) and reused across steps. */
export interface PreparedInput {
  readonly n: number;
  readonly tensors: Record<string, tf.Tensor>;
  dispose(): void;
}

export interface ForwardOutput {
  logits: tf.Tensor2D; // [n, d_vocab_out], read at the last position
  /**
   * Only filled when asked for. TransformerLens hook names, at the LAST position only:
   * transformer: 'blocks.L.attn.hook_pattern' [n, n_heads, n_ctx] (attention of the last query),
   *              'blocks.L.mlp.hook_post' [n, d_mlp], 'hook_resid_final' [n, d_model];
   * mlp: 'hidden.L.hook_post' [n, width]; quadratic: 'hook_hidden' [n, h] (after squaring).
   */
  cache: Record<string, tf.Tensor>;
}

/** What a model's own module builds (./<kind>/model.ts); ./<kind>/index.ts adds the views analyses read. */
export interface ModelCore {
  readonly config: ModelConfig;
  readonly dims: ModelDims;
  /** Ordered parameter list; the order of checkpoint tensors and of optimiser state. */
  readonly specs: ParamSpec[];
  /** Cache entry that plays the part of "neurons" for the analyses (e.g. 'blocks.0.mlp.hook_post'). */
  readonly neuronHook: string;
  /** Fresh initial weights from the explicit generator (init scale α applied). */
  init(rng: Rng): Record<string, Float32Array>;
  /** Upload tokens [n, n_ctx] (row-major) once. The caller disposes. */
  prepare(tokens: Int32Array, n: number): PreparedInput;
  /** Differentiable forward pass. Must not read tensors back synchronously. */
  forward(params: Record<string, tf.Tensor>, input: PreparedInput, opts?: { cache?: boolean }): ForwardOutput;
  /** Independent plain-JS float64 forward pass (test oracle): logits [n, d_vocab_out] row-major. */
  reference(params: Record<string, Float64Array>, tokens: Int32Array, n: number): Float64Array;
}

/**
 * A model kind, all in its folder src/models/<kind>/: the network (ModelCore) plus what the
 * analyses need of it, so that no analysis branches on the kind.
 */
export interface Model extends ModelCore {
  /** Its forward written against a Linearisation, for the empirical NTK (analyses/ntk.ts). */
  readonly linearised: LinearisedForward;
  /**
   * The embedding, neuron-to-logit map and first-layer weights the Fourier analyses read, rows and
   * columns picked by `residue` (analyses/weights-view.ts). Throws ArgumentError on a missing or
   * mis-sized tensor.
   */
  weightViews(params: Params, residue: Int32Array): WeightMatrices;
  /**
   * Cache entry with the attention pattern of the last layer's last query [n, heads, n_ctx], and
   * that layer's index; null for models without attention.
   */
  readonly attention: { hook: string; layer: number } | null;
}
