import { describe, expect, it } from 'vitest';
import { flattenKeys } from '../../src/config/keys.ts';
import { DEFAULTS, MODEL_DEFAULTS, RunConfigSchema, TASK_DEFAULTS } from '../../src/config/schema.ts';
import type { RunConfig } from '../../src/config/types.ts';

const withSection = (patch: Partial<RunConfig>): RunConfig => ({ ...structuredClone(DEFAULTS), ...patch });

describe('DEFAULTS', () => {
  it('is a complete, valid config that survives validation unchanged', () => {
    const parsed = RunConfigSchema.parse(DEFAULTS);
    expect(parsed).toEqual(DEFAULTS);
    // Every leaf the schema knows for the chosen kinds is present, and nothing else.
    const leaves = flattenKeys(RunConfigSchema, DEFAULTS);
    expect(leaves).toHaveLength(34);
    expect(leaves).toContain('optimizer.betas');
    expect(leaves).not.toContain('model.d_embed');
  });

  it('has the documented values', () => {
    expect(DEFAULTS).toEqual({
      task: { kind: 'modular', op: 'add', p: 113 },
      split: { train_fraction: 0.3, seed: 0, mode: 'python-random' },
      model: {
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
      },
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
    });
  });

  it('gives each model and task kind its own valid defaults', () => {
    expect(MODEL_DEFAULTS.mlp).toEqual({ kind: 'mlp', d_embed: 128, hidden: [256], act: 'relu', init_scale: 1 });
    expect(MODEL_DEFAULTS.quadratic).toEqual({ kind: 'quadratic', hidden: 512, init_scale: 1 });
    for (const model of Object.values(MODEL_DEFAULTS))
      expect(RunConfigSchema.safeParse(withSection({ model })).success).toBe(true);
    for (const task of Object.values(TASK_DEFAULTS))
      expect(RunConfigSchema.safeParse(withSection({ task })).success).toBe(true);
  });

  it('is frozen, so a caller that forgets to clone cannot change it', () => {
    expect(() => {
      (DEFAULTS.optimizer as { lr: number }).lr = 1;
    }).toThrow(TypeError);
    expect(DEFAULTS.optimizer.lr).toBe(1e-3);
  });
});

describe('RunConfigSchema constraints', () => {
  const rejects = (patch: Partial<RunConfig>) =>
    expect(RunConfigSchema.safeParse(withSection(patch)).success).toBe(false);
  const accepts = (patch: Partial<RunConfig>) =>
    expect(RunConfigSchema.safeParse(withSection(patch)).success).toBe(true);

  it('checks the task', () => {
    rejects({ task: { kind: 'modular', op: 'add', p: 1 } });
    rejects({ task: { kind: 'modular', op: 'add', p: 7.5 } });
    rejects({ task: { kind: 'modular', op: 'div', p: 98 } }); // division needs a prime modulus
    accepts({ task: { kind: 'modular', op: 'sub', p: 98 } });
    rejects({ task: { ...TASK_DEFAULTS['sparse-parity'], k: 41 } }); // k > n_bits
  });

  it('checks the split and training', () => {
    for (const train_fraction of [0, 1, -0.1, 1.5]) rejects({ split: { ...DEFAULTS.split, train_fraction } });
    rejects({ training: { ...DEFAULTS.training, batch_size: 0 } });
    accepts({ training: { ...DEFAULTS.training, batch_size: 512 } });
    rejects({ training: { ...DEFAULTS.training, steps: 1.5 } });
    rejects({ training: { ...DEFAULTS.training, seed: 2 ** 32 } });
  });

  it('checks the optimiser', () => {
    const opt = DEFAULTS.optimizer;
    rejects({ optimizer: { ...opt, betas: [0.9, 1] } });
    rejects({ optimizer: { ...opt, betas: [-0.1, 0.9] } });
    accepts({ optimizer: { ...opt, betas: [0, 0.999] } });
    rejects({ optimizer: { ...opt, eps: 0 } });
    rejects({ optimizer: { ...opt, lr: 0 } });
    accepts({ optimizer: { ...opt, weight_decay: 0 } });
    rejects({ optimizer: { ...opt, weight_decay: -1 } });
    rejects({ optimizer: { ...opt, kind: 'sgd', nesterov: true, momentum: 0 } });
    accepts({ optimizer: { ...opt, kind: 'sgd', nesterov: true, momentum: 0.9 } });
  });

  it('lets n_heads·d_head differ from d_model', () => {
    accepts({ model: { ...MODEL_DEFAULTS.transformer, n_heads: 3, d_head: 7 } });
    rejects({ model: { ...MODEL_DEFAULTS.transformer, n_heads: 0 } });
  });

  it('rejects unknown keys and keys of another model kind', () => {
    rejects({ model: { ...MODEL_DEFAULTS.mlp, d_model: 128 } as never });
    rejects({ training: { ...DEFAULTS.training, lr: 1 } as never });
  });
});

describe('flattenKeys', () => {
  it('lists every key of every kind without a value, and only the chosen kinds with one', () => {
    const all = flattenKeys();
    for (const k of [
      'task.p',
      'task.n_bits',
      'model.d_model',
      'model.d_embed',
      'model.hidden',
      'checkpoints.log_spaced',
    ])
      expect(all).toContain(k);
    expect(new Set(all).size).toBe(all.length); // model.hidden appears once though two kinds have it
    const mlp = flattenKeys(RunConfigSchema, { ...DEFAULTS, model: MODEL_DEFAULTS.mlp });
    expect(mlp.filter((k) => k.startsWith('model.'))).toEqual([
      'model.kind',
      'model.d_embed',
      'model.hidden',
      'model.act',
      'model.init_scale',
    ]);
  });
});

describe('keyDocs', () => {
  it('documents every key once per kind that has it, with its default and what it accepts', async () => {
    const { keyDocs } = await import('../../src/config/docs.ts');
    const docs = keyDocs();
    const find = (key: string, when: string | null = null) => docs.find((d) => d.key === key && d.when === when);
    expect(find('model.kind')).toEqual({
      key: 'model.kind',
      when: null,
      expected: 'one of transformer, mlp, quadratic',
      default: 'transformer',
    });
    expect(find('model.hidden', 'model.kind = mlp')?.default).toEqual([256]);
    expect(find('model.hidden', 'model.kind = quadratic')?.default).toBe(512);
    expect(find('optimizer.betas')).toMatchObject({
      default: [0.9, 0.98],
      expected: expect.stringContaining('[0, 1)'),
    });
    expect(new Set(docs.map((d) => d.key))).toEqual(new Set(flattenKeys()));
  });
});
