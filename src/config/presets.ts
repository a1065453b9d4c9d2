/**
 * Named starting points for `groklens train --preset NAME`. Each preset is a COMPLETE config, so
 * a preset never drifts when a default changes; file and --set layers are merged on top of it.
 * Where a paper leaves a value open, the comment says what we assumed.
 */
import { ConfigError } from '../errors.ts';
import { nearestKeys } from './keys.ts';
import { MODEL_DEFAULTS } from './schema.ts';
import type { RunConfig } from './types.ts';

export interface Preset {
  name: string;
  description: string; // one line, for `groklens presets`
  config: RunConfig;
}

const clone = <T>(v: T): T => structuredClone(v);

/** Nanda et al. 2023 mainline (docs/measures.md#reference-training-setup): the defaults, pinned. */
const nanda2023: RunConfig = {
  task: { kind: 'modular', op: 'add', p: 113 },
  split: { train_fraction: 0.3, seed: 0, mode: 'python-random' }, // their exact 3830 / 8939 split
  model: clone(MODEL_DEFAULTS.transformer), // 1 layer, d_model 128, 4 × 32 heads, d_mlp 512, ReLU, no LN
  optimizer: {
    kind: 'adamw',
    lr: 1e-3,
    weight_decay: 1.0,
    betas: [0.9, 0.98],
    eps: 1e-8,
    momentum: 0,
    nesterov: false,
    decoupled_weight_decay: true,
    linf_penalty: 0,
    warmup_steps: 10,
  },
  training: {
    steps: 40000,
    batch_size: null,
    loss: 'cross-entropy',
    early_stop_after_grok: null,
    eval_every: 100,
    seed: 0,
  },
  checkpoints: { every: 100, log_spaced: 20 },
};

/**
 * Power et al. 2022, "Grokking: generalization beyond overfitting on small algorithmic datasets".
 * From the paper: x/y mod 97 (their headline task), a 2-layer decoder-only transformer of width 128
 * with 4 heads, AdamW lr 1e-3, weight decay 1, β = (0.9, 0.98), linear warm-up over 10 updates,
 * minibatch 512 (they use min(512, half the training set); at p 97 and 50 % train that is 512),
 * a budget of 1e5 updates. Assumed or adapted by us:
 *  - train fraction 0.5: the paper sweeps it; 50 % is where x/y reliably groks within 1e5 steps;
 *  - d_head 32 = 128 / 4 and d_mlp 512 = 4 × 128, as in their code (openai/grok);
 *  - LayerNorm on: their blocks are post-LN (normalise after each residual add); we only offer
 *    pre-LN, the closest we have. ReLU, as in their code's default. Their sinusoidal positional
 *    encoding and dropout are not reproduced (ours is a learned positional embedding, no dropout);
 *  - eps 1e-8 (PyTorch's default), our seeded shuffle split with seed 0, full 1e5 budget.
 */
const power2022: RunConfig = {
  task: { kind: 'modular', op: 'div', p: 97 },
  split: { train_fraction: 0.5, seed: 0, mode: 'shuffle' },
  model: { ...clone(MODEL_DEFAULTS.transformer), n_layers: 2, layer_norm: true },
  optimizer: { ...clone(nanda2023.optimizer) }, // AdamW 1e-3, wd 1, (0.9, 0.98), warm-up 10: same as Nanda
  training: {
    steps: 100000,
    batch_size: 512,
    loss: 'cross-entropy',
    early_stop_after_grok: null,
    eval_every: 100,
    seed: 0,
  },
  checkpoints: { every: 100, log_spaced: 20 },
};

/**
 * Truong et al. 2026 reference run (docs/measures.md#delay-law-fits): a + b mod 97, 50 % train, 1-layer transformer
 * (d_model 128, 4 heads, d_mlp 512), AdamW lr 1e-3 wd 1, batch 512, 20000 steps (T_grok ≈ 1.8k).
 * Assumed (Truong et al. do not state it; docs/measures.md#delay-law-fits): d_head 32, ReLU, no LN, β = (0.9, 0.98), eps 1e-8, warm-up 10 — the
 * Nanda-style setup they build on — and our seeded shuffle split with seed 0.
 */
const truong2026: RunConfig = {
  task: { kind: 'modular', op: 'add', p: 97 },
  split: { train_fraction: 0.5, seed: 0, mode: 'shuffle' },
  model: clone(MODEL_DEFAULTS.transformer),
  optimizer: { ...clone(nanda2023.optimizer) },
  training: {
    steps: 20000,
    batch_size: 512,
    loss: 'cross-entropy',
    early_stop_after_grok: null,
    eval_every: 100,
    seed: 0,
  },
  checkpoints: { every: 100, log_spaced: 20 },
};

/** A small model that groks in a few thousand full-batch steps: `groklens demo`. */
const demo: RunConfig = {
  task: { kind: 'modular', op: 'add', p: 53 },
  split: { train_fraction: 0.4, seed: 0, mode: 'python-random' },
  model: {
    kind: 'transformer',
    n_layers: 1,
    d_model: 64,
    n_heads: 4,
    d_head: 16,
    d_mlp: 256,
    act: 'relu',
    layer_norm: false,
    attn_bias: false,
    init_scale: 1,
  },
  optimizer: { ...clone(nanda2023.optimizer) },
  training: {
    steps: 6000,
    batch_size: null,
    loss: 'cross-entropy',
    early_stop_after_grok: 500,
    eval_every: 100,
    seed: 0,
  },
  checkpoints: { every: 100, log_spaced: 20 },
};

const PRESETS: readonly Preset[] = [
  {
    name: 'nanda-2023',
    description: 'Nanda et al. 2023: a+b mod 113, 30 % train, 1-layer transformer, AdamW wd 1, full batch, 40k steps',
    config: nanda2023,
  },
  {
    name: 'power-2022',
    description: 'Power et al. 2022: x/y mod 97, 50 % train, 2-layer transformer, AdamW wd 1, batch 512, 1e5 steps',
    config: power2022,
  },
  {
    name: 'truong-2026',
    description: 'Truong et al. 2026: a+b mod 97, 50 % train, 1-layer transformer, AdamW wd 1, batch 512, 20k steps',
    config: truong2026,
  },
  {
    name: 'demo',
    description:
      'quick demo: a+b mod 53, 40 % train, small 1-layer transformer, full batch, stops 500 steps after grokking',
    config: demo,
  },
];

export const PRESET_NAMES: readonly string[] = PRESETS.map((p) => p.name);

/** Name and one-line description of every preset, in display order. */
export function listPresets(): { name: string; description: string }[] {
  return PRESETS.map(({ name, description }) => ({ name, description }));
}

/**
 * A fresh copy of a preset's complete config. `source` names where the name came from
 * ('--preset' or a config file) for the error an unknown name raises.
 */
export function getPreset(name: string, source = '--preset'): RunConfig {
  const preset = PRESETS.find((p) => p.name === name);
  if (preset === undefined) {
    const near = nearestKeys(name, PRESET_NAMES);
    const hint = near.length ? ` (did you mean ${near.join(' or ')}?)` : '';
    throw new ConfigError(
      source,
      'preset',
      `${JSON.stringify(name)} is not a preset${hint}; valid presets: ${PRESET_NAMES.join(', ')}`,
    );
  }
  return clone(preset.config);
}
