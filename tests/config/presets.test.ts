import { describe, expect, it } from 'vitest';
import { getPreset, listPresets, PRESET_NAMES } from '../../src/config/presets.ts';
import { DEFAULTS, RunConfigSchema } from '../../src/config/schema.ts';
import { configError } from './helpers.ts';

describe('presets', () => {
  it('lists four presets with one-line descriptions', () => {
    const list = listPresets();
    expect(list.map((p) => p.name)).toEqual(['nanda-2023', 'power-2022', 'truong-2026', 'demo']);
    for (const p of list) {
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.description).not.toContain('\n');
    }
  });

  it.each(PRESET_NAMES)('%s is a complete, valid config', (name) => {
    const config = getPreset(name);
    expect(RunConfigSchema.parse(config)).toEqual(config);
  });

  it('hands out copies', () => {
    const a = getPreset('demo');
    a.training.steps = 1;
    expect(getPreset('demo').training.steps).toBe(6000);
  });

  it('nanda-2023: Nanda et al. 2023 mainline, identical to the defaults', () => {
    const c = getPreset('nanda-2023');
    expect(c).toEqual(DEFAULTS);
    expect(c.task).toEqual({ kind: 'modular', op: 'add', p: 113 });
    expect(c.split).toEqual({ train_fraction: 0.3, seed: 0, mode: 'python-random' });
    expect(c.model).toEqual({
      kind: 'transformer',
      n_layers: 1,
      d_model: 128,
      n_heads: 4,
      d_head: 32,
      d_mlp: 512,
      act: 'relu',
      layer_norm: false,
      attn_bias: false,
      init_scale: 1,
    });
    expect(c.optimizer).toMatchObject({
      kind: 'adamw',
      lr: 1e-3,
      weight_decay: 1,
      betas: [0.9, 0.98],
      eps: 1e-8,
      warmup_steps: 10,
    });
    expect(c.training).toMatchObject({ steps: 40000, batch_size: null });
    expect(c.checkpoints.every).toBe(100);
  });

  it('power-2022: Power et al. 2022', () => {
    const c = getPreset('power-2022');
    expect(c.task).toEqual({ kind: 'modular', op: 'div', p: 97 });
    expect(c.split.train_fraction).toBe(0.5);
    expect(c.model).toMatchObject({
      kind: 'transformer',
      n_layers: 2,
      d_model: 128,
      n_heads: 4,
      d_head: 32,
      d_mlp: 512,
    });
    expect(c.optimizer).toMatchObject({
      kind: 'adamw',
      lr: 1e-3,
      weight_decay: 1,
      betas: [0.9, 0.98],
      warmup_steps: 10,
    });
    expect(c.training).toMatchObject({ steps: 100000, batch_size: 512 });
  });

  it('truong-2026: Truong et al. 2026 reference run', () => {
    const c = getPreset('truong-2026');
    expect(c.task).toEqual({ kind: 'modular', op: 'add', p: 97 });
    expect(c.split.train_fraction).toBe(0.5);
    expect(c.model).toMatchObject({ kind: 'transformer', n_layers: 1, d_model: 128, n_heads: 4, d_mlp: 512 });
    expect(c.optimizer).toMatchObject({ kind: 'adamw', lr: 1e-3, weight_decay: 1 });
    expect(c.training).toMatchObject({ steps: 20000, batch_size: 512 });
  });

  it('demo: a small model on a+b mod 53', () => {
    const c = getPreset('demo');
    expect(c.task).toEqual({ kind: 'modular', op: 'add', p: 53 });
    expect(c.split.train_fraction).toBe(0.4);
    expect(c.model).toEqual({
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
    });
    expect(c.optimizer).toMatchObject({ kind: 'adamw', lr: 1e-3, weight_decay: 1, betas: [0.9, 0.98] });
    expect(c.training).toMatchObject({ steps: 6000, batch_size: null, early_stop_after_grok: 500 });
    expect(c.checkpoints.every).toBe(100);
  });

  it('names the valid presets when given an unknown one, with a suggestion when close', () => {
    expect(configError(() => getPreset('nanda')).message).toBe(
      '--preset: preset: "nanda" is not a preset; valid presets: nanda-2023, power-2022, truong-2026, demo',
    );
    expect(configError(() => getPreset('power2022')).message).toContain('(did you mean power-2022?)');
  });
});
