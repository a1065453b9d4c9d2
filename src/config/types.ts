/**
 * The fully resolved configuration of a run: what `run.json` stores under "config" and what
 * `--set key=value` addresses with dotted paths (e.g. `optimizer.weight_decay=0.5`).
 * Keys are snake_case, matching TransformerLens' config vocabulary (d_model, n_heads, d_mlp).
 * The zod schema in ./schema.ts is the validating twin of these types.
 */

export type ModularOp = 'add' | 'sub' | 'mul' | 'div' | 'x2+y2' | 'x2+xy+y2' | 'x2+xy+y2+x' | 'x3+xy' | 'x3+xy2+y';

export type TaskConfig =
  | { kind: 'modular'; op: ModularOp; p: number }
  | { kind: 's5' }
  | {
      kind: 'sparse-parity';
      n_bits: number; // input length n
      k: number; // number of relevant bits
      samples: number; // total sample count (train + test)
      labels: 'pm1' | 'class'; // ±1 targets (single output, MSE) or classes {0,1}
      seed: number; // draws the relevant bits and the samples
    };

export interface SplitConfig {
  train_fraction: number; // in (0, 1)
  seed: number;
  /** 'shuffle': our seeded shuffle; 'python-random': CPython random.seed(seed); random.shuffle(pairs). */
  mode: 'shuffle' | 'python-random';
}

export type Activation = 'relu' | 'gelu' | 'quadratic' | 'tanh' | 'linear';

export type ModelConfig =
  | {
      kind: 'transformer';
      n_layers: number; // 1 (Nanda) or 2 (Power)
      d_model: number;
      n_heads: number;
      d_head: number;
      d_mlp: number;
      act: 'relu' | 'gelu';
      layer_norm: boolean; // pre-LN on attention and MLP inputs, and before the unembedding
      /**
       * Trained attention biases b_Q, b_K, b_V, b_O (TransformerLens style). false (the default,
       * Nanda et al.'s model): they are written as zeros in every checkpoint but are not
       * parameters at all — never updated, never decayed.
       */
      attn_bias: boolean;
      init_scale: number; // α: multiplies every initial weight
    }
  | {
      kind: 'mlp';
      d_embed: number; // one shared embedding table, applied to every input position, concatenated
      hidden: number[]; // widths of the hidden layers
      act: Activation;
      init_scale: number;
    }
  | {
      kind: 'quadratic';
      hidden: number; // h: one-hot(a) ‖ one-hot(b) → W [h, 2p] → square → V [p, h]
      init_scale: number;
    };

export interface OptimizerConfig {
  kind: 'adamw' | 'adam' | 'sgd';
  lr: number;
  weight_decay: number;
  betas: [number, number]; // adam / adamw
  eps: number; // adam / adamw
  momentum: number; // sgd
  nesterov: boolean; // sgd
  /** sgd only: true = decoupled (θ ← θ − lr·wd·θ), false = coupled (wd·θ added to the gradient). */
  decoupled_weight_decay: boolean;
  linf_penalty: number; // coefficient of an added λ·max|θ| penalty on the loss; 0 = off
  warmup_steps: number; // lr·min(step/warmup_steps, 1); 0 = no warm-up
}

export interface TrainingConfig {
  steps: number; // budget in optimiser steps
  batch_size: number | null; // null = full batch
  loss: 'cross-entropy' | 'mse';
  /** Stop this many steps after test accuracy first reaches 0.95; null = run the whole budget. */
  early_stop_after_grok: number | null;
  eval_every: number; // metrics.jsonl row every this many steps
  seed: number; // model init and minibatch order
}

export interface CheckpointConfig {
  every: number; // a checkpoint every N steps
  log_spaced: number; // plus this many log-spaced checkpoints in the first `every` steps
}

export interface RunConfig {
  task: TaskConfig;
  split: SplitConfig;
  model: ModelConfig;
  optimizer: OptimizerConfig;
  training: TrainingConfig;
  checkpoints: CheckpointConfig;
}

export type BackendName = 'auto' | 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';
