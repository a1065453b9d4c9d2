import { describe, expect, it } from 'vitest';
import { configDiff, parseSet, parseSetValue, resolveConfig } from '../../src/config/load.ts';
import { getPreset } from '../../src/config/presets.ts';
import { DEFAULTS, MODEL_DEFAULTS } from '../../src/config/schema.ts';
import { configError, scratchDir } from './helpers.ts';

const files = scratchDir();

describe('resolveConfig: layers', () => {
  it('with nothing given, is the defaults, all from "default"', () => {
    const r = resolveConfig({ sets: [] });
    expect(r.config).toEqual(DEFAULTS);
    expect(r.preset).toBeNull();
    expect(new Set(Object.values(r.sources))).toEqual(new Set(['default']));
    expect(Object.keys(r.sources)).toHaveLength(34);
  });

  it('preset over defaults', () => {
    const r = resolveConfig({ preset: 'power-2022', sets: [] });
    expect(r.config).toEqual(getPreset('power-2022'));
    expect(r.preset).toBe('power-2022');
    expect(r.sources['task.p']).toBe('preset power-2022');
    expect(r.sources['optimizer.lr']).toBe('default'); // same value as the default
  });

  it('file over preset, merged deeply', () => {
    const file = files.write('over-preset.json', { training: { steps: 500 }, model: { d_mlp: 1024 } });
    const r = resolveConfig({ preset: 'power-2022', file, sets: [] });
    expect(r.config.training.steps).toBe(500);
    expect(r.config.training.batch_size).toBe(512); // sibling from the preset kept
    expect(r.config.model).toMatchObject({ n_layers: 2, d_mlp: 1024 });
    expect(r.sources['training.steps']).toBe(file);
    expect(r.sources['training.batch_size']).toBe('preset power-2022');
  });

  it('--set over file, in command-line order', () => {
    const file = files.write('under-set.json', { optimizer: { lr: 0.01, weight_decay: 0.5 } });
    const r = resolveConfig({ file, sets: ['optimizer.lr=0.1', 'optimizer.lr=0.2'] });
    expect(r.config.optimizer.lr).toBe(0.2);
    expect(r.config.optimizer.weight_decay).toBe(0.5);
    expect(r.sources['optimizer.lr']).toBe('--set');
    expect(r.sources['optimizer.weight_decay']).toBe(file);
  });

  it('--set over defaults, and over a preset', () => {
    expect(resolveConfig({ sets: ['task.p=97'] }).config.task).toEqual({ kind: 'modular', op: 'add', p: 97 });
    expect(resolveConfig({ preset: 'demo', sets: ['training.steps=10'] }).config.training).toMatchObject({
      steps: 10,
      early_stop_after_grok: 500,
    });
  });

  it('arrays replace rather than merge', () => {
    const file = files.write('hidden.json', { model: { kind: 'mlp', hidden: [64, 64, 64] } });
    expect(resolveConfig({ file, sets: ['model.hidden=[32]'] }).config.model).toMatchObject({ hidden: [32] });
  });

  it('lets a later layer fix a value an earlier one got wrong (values are checked once, at the end)', () => {
    const file = files.write('fixed-later.json', { training: { steps: 0 } });
    expect(resolveConfig({ file, sets: ['training.steps=7'] }).config.training.steps).toBe(7);
  });

  it('a file may name its preset; --preset naming the same one is fine', () => {
    const file = files.write('with-preset.json', { preset: 'truong-2026', training: { steps: 300 } });
    const r = resolveConfig({ file, sets: [] });
    expect(r.preset).toBe('truong-2026');
    expect(r.config.task.kind === 'modular' && r.config.task.p).toBe(97);
    expect(r.config.training).toMatchObject({ steps: 300, batch_size: 512 });
    expect(resolveConfig({ preset: 'truong-2026', file, sets: [] }).config).toEqual(r.config);
  });

  it('returns the config in schema key order whatever the file order', () => {
    const file = files.write('order.json', { training: { seed: 3, steps: 9 } });
    expect(Object.keys(resolveConfig({ file, sets: [] }).config.training)).toEqual(Object.keys(DEFAULTS.training));
  });
});

describe('switching kind', () => {
  it('model.kind=mlp starts the model from the mlp defaults', () => {
    const r = resolveConfig({ preset: 'power-2022', sets: ['model.kind=mlp'] });
    expect(r.config.model).toEqual(MODEL_DEFAULTS.mlp);
    expect(r.sources['model.kind']).toBe('--set');
    expect(r.sources['model.hidden']).toBe('default');
  });

  it('applies the layer’s other model keys after the switch, whatever their order in the file', () => {
    const file = files.write('mlp.json', { model: { hidden: [512, 512], kind: 'mlp', act: 'gelu' } });
    expect(resolveConfig({ file, sets: [] }).config.model).toEqual({
      kind: 'mlp',
      d_embed: 128,
      hidden: [512, 512],
      act: 'gelu',
      init_scale: 1,
    });
  });

  it('rejects transformer-only keys once the model is an mlp', () => {
    const e = configError(() => resolveConfig({ sets: ['model.kind=mlp', 'model.d_model=64'] }));
    expect(e.message).toBe(
      '--set: model.d_model: unknown key for model.kind "mlp" (its keys: kind, d_embed, hidden, act, init_scale)',
    );
    expect(e.source).toBe('--set');
    expect(e.key).toBe('model.d_model');
  });

  it('rejects an mlp-only activation on a transformer', () => {
    const e = configError(() => resolveConfig({ sets: ['model.act=tanh'] }));
    expect(e.message).toBe('--set: model.act: "tanh" is not allowed; expected one of relu, gelu');
    expect(resolveConfig({ sets: ['model.kind=mlp', 'model.act=tanh'] }).config.model).toMatchObject({ act: 'tanh' });
  });

  it('setting the same kind keeps the current values', () => {
    expect(resolveConfig({ preset: 'power-2022', sets: ['model.kind=transformer'] }).config.model).toMatchObject({
      n_layers: 2,
      layer_norm: true,
    });
  });

  it('task.kind=sparse-parity starts from the sparse-parity defaults', () => {
    const r = resolveConfig({ sets: ['task.kind=sparse-parity', 'task.n_bits=20'] });
    expect(r.config.task).toEqual({ kind: 'sparse-parity', n_bits: 20, k: 3, samples: 2000, labels: 'class', seed: 0 });
    expect(configError(() => resolveConfig({ sets: ['task.kind=s5', 'task.p=5'] })).message).toMatch(
      /^--set: task\.p: unknown key for task\.kind "s5"/,
    );
  });
});

describe('--set values', () => {
  it('parse as JSON when they can, else as plain strings', () => {
    expect(parseSetValue('3e-4')).toBe(3e-4);
    expect(parseSetValue('-2')).toBe(-2);
    expect(parseSetValue('true')).toBe(true);
    expect(parseSetValue('null')).toBeNull();
    expect(parseSetValue('[0.9,0.99]')).toEqual([0.9, 0.99]);
    expect(parseSetValue('{"lr":1}')).toEqual({ lr: 1 });
    expect(parseSetValue('"quoted"')).toBe('quoted');
    expect(parseSetValue('mlp')).toBe('mlp');
    expect(parseSetValue('x2+xy+y2')).toBe('x2+xy+y2');
    expect(parseSetValue('')).toBe('');
  });

  it('split on the first "=" and the dots of the key', () => {
    expect(parseSet('optimizer.betas=[0.9,0.99]')).toEqual({ path: ['optimizer', 'betas'], value: [0.9, 0.99] });
    expect(parseSet(' task.op =a=b')).toEqual({ path: ['task', 'op'], value: 'a=b' });
  });

  it('reach the config with the right types', () => {
    const r = resolveConfig({
      sets: [
        'model.kind=mlp',
        'optimizer.betas=[0.9,0.99]',
        'training.batch_size=256',
        'training.batch_size=null',
        'model.act=gelu',
        'task.op=x2+y2',
        'model.hidden=[64,32]',
      ],
    });
    expect(r.config.model).toEqual({ kind: 'mlp', d_embed: 128, hidden: [64, 32], act: 'gelu', init_scale: 1 });
    expect(r.config.optimizer.betas).toEqual([0.9, 0.99]);
    expect(r.config.training.batch_size).toBeNull();
    expect(r.config.task).toMatchObject({ op: 'x2+y2' });
  });

  it('may set a whole section as a JSON object, merged like a file', () => {
    const r = resolveConfig({ sets: ['optimizer={"lr":0.5,"weight_decay":0}'] });
    expect(r.config.optimizer).toMatchObject({ lr: 0.5, weight_decay: 0, betas: [0.9, 0.98] });
  });
});

describe('configDiff', () => {
  it('is empty for equal configs', () => {
    expect(configDiff(DEFAULTS, structuredClone(DEFAULTS))).toEqual([]);
  });

  it('names nested changes by dotted path, arrays compared as values', () => {
    const b = resolveConfig({ sets: ['optimizer.weight_decay=0.1', 'optimizer.betas=[0.9,0.99]', 'task.p=97'] }).config;
    expect(configDiff(DEFAULTS, b)).toEqual([
      { key: 'task.p', from: 113, to: 97 },
      { key: 'optimizer.weight_decay', from: 1, to: 0.1 },
      { key: 'optimizer.betas', from: [0.9, 0.98], to: [0.9, 0.99] },
    ]);
  });

  it('reports keys that exist on one side only (a model.kind switch), keeping them with their section', () => {
    const b = resolveConfig({ sets: ['model.kind=quadratic'] }).config;
    const diff = configDiff(DEFAULTS, b);
    expect(diff.map((d) => d.key)).toEqual([
      'model.kind',
      'model.hidden',
      'model.n_layers',
      'model.d_model',
      'model.n_heads',
      'model.d_head',
      'model.d_mlp',
      'model.act',
      'model.layer_norm',
      'model.attn_bias',
    ]);
    expect(diff[0]).toEqual({ key: 'model.kind', from: 'transformer', to: 'quadratic' });
    expect(diff[1]).toEqual({ key: 'model.hidden', from: undefined, to: 512 });
    expect(diff.find((d) => d.key === 'model.d_model')).toEqual({ key: 'model.d_model', from: 128, to: undefined });
  });

  it('labels presets by what differs', () => {
    expect(configDiff(getPreset('truong-2026'), getPreset('power-2022')).map((d) => d.key)).toEqual([
      'task.op',
      'model.n_layers',
      'model.layer_norm',
      'training.steps',
    ]);
  });
});
