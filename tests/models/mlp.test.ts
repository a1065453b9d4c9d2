import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, ModelConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { countParams, createModel } from '../../src/models/index.ts';
import { mlpInputPositions } from '../../src/models/mlp/model.ts';
import { Rng } from '../../src/rng.ts';
import { modularBatch, randomBatch, randomParams, setupTf, to64, toTensors } from './helpers.ts';

type MConfig = Extract<ModelConfig, { kind: 'mlp' }>;

const P = 7;
const MODULAR = { d_vocab: P + 1, n_ctx: 3, d_vocab_out: P };
const PARITY = { d_vocab: 2, n_ctx: 6, d_vocab_out: 2 };
const BASE: MConfig = { kind: 'mlp', d_embed: 4, hidden: [16], act: 'relu', init_scale: 1 };
const ACTS: Activation[] = ['relu', 'gelu', 'quadratic', 'tanh', 'linear'];

beforeAll(setupTf);

describe('mlp parameters', () => {
  it('reads only a and b for modular-style tasks, every position otherwise', () => {
    expect(mlpInputPositions(MODULAR)).toEqual([0, 1]);
    expect(mlpInputPositions({ d_vocab: 121, n_ctx: 3, d_vocab_out: 120 })).toEqual([0, 1]); // S5
    expect(mlpInputPositions(PARITY)).toEqual([0, 1, 2, 3, 4, 5]);
    // 3-bit sparse parity with ±1 labels: d_vocab = 2 = d_vocab_out + 1, still all positions
    expect(mlpInputPositions({ d_vocab: 2, n_ctx: 3, d_vocab_out: 1 })).toEqual([0, 1, 2]);
  });

  it('names and shapes, in order', () => {
    const m = createModel({ ...BASE, hidden: [16, 12] }, MODULAR);
    expect(m.specs).toEqual([
      { name: 'embed.W_E', shape: [8, 4] },
      { name: 'mlp.0.W', shape: [8, 16] },
      { name: 'mlp.0.b', shape: [16] },
      { name: 'mlp.1.W', shape: [16, 12] },
      { name: 'mlp.1.b', shape: [12] },
      { name: 'unembed.W_U', shape: [12, 7] },
      { name: 'unembed.b_U', shape: [7] },
    ]);
    expect(m.neuronHook).toBe('hidden.1.hook_post');
    expect(countParams(m.specs)).toBe(32 + 128 + 16 + 192 + 12 + 84 + 7);
    expect(createModel(BASE, PARITY).specs[1]).toEqual({ name: 'mlp.0.W', shape: [24, 16] });
  });

  it('rejects a bad config with the key and value', () => {
    expect(() => createModel({ ...BASE, hidden: [] }, MODULAR)).toThrow(ConfigError);
    expect(() => createModel({ ...BASE, hidden: [] }, MODULAR)).toThrow(/model\.hidden/);
    expect(() => createModel({ ...BASE, hidden: [8, 0] }, MODULAR)).toThrow(/model\.hidden\[1\].*got 0/);
    expect(() => createModel({ ...BASE, act: 'softplus' as Activation }, MODULAR)).toThrow(/model\.act.*"softplus"/);
    expect(() => createModel({ ...BASE, init_scale: 0 }, MODULAR)).toThrow(/model\.init_scale/);
  });
});

describe('mlp init', () => {
  const big: MConfig = { kind: 'mlp', d_embed: 64, hidden: [256, 128], act: 'relu', init_scale: 1 };
  const dims = { d_vocab: 114, n_ctx: 3, d_vocab_out: 113 };

  it('embedding ~ N(0, 1), weights ~ N(0, 1/fan_in), biases 0', () => {
    const m = createModel(big, dims);
    const w = m.init(new Rng(2));
    for (const { name, shape } of m.specs) {
      const t = w[name];
      expect(t.length, name).toBe(shape[0] * (shape[1] ?? 1));
      if (name.endsWith('.b') || name === 'unembed.b_U') {
        expect(
          t.every((x) => x === 0),
          name,
        ).toBe(true);
        continue;
      }
      const target = name === 'embed.W_E' ? 1 : 1 / Math.sqrt(shape[0]);
      const std = Math.sqrt(t.reduce((a, x) => a + x * x, 0) / t.length);
      expect(Math.abs(std / target - 1), `${name} std ${std} vs ${target}`).toBeLessThan(5 / Math.sqrt(2 * t.length));
    }
  });

  it('scales every weight by α exactly', () => {
    const a = createModel(big, dims).init(new Rng(8));
    const b = createModel({ ...big, init_scale: 2 }, dims).init(new Rng(8));
    for (const name of Object.keys(a)) expect(Array.from(b[name]), name).toEqual(Array.from(a[name], (x) => 2 * x));
  });
});

describe.each(ACTS)('mlp with %s', (act) => {
  const cases = [
    { label: 'modular, 1 hidden layer', cfg: { ...BASE, act }, dims: MODULAR },
    { label: 'sparse parity, 2 hidden layers', cfg: { ...BASE, act, hidden: [12, 10] }, dims: PARITY },
  ];
  for (const { label, cfg, dims } of cases) {
    const model = createModel(cfg, dims);
    const batch = dims === MODULAR ? modularBatch(P) : randomBatch(model, 40, 3);

    it(`${label}: cache holds every hidden layer's post-activation`, () => {
      const input = model.prepare(batch.tokens, batch.n);
      const tensors = toTensors(model, randomParams(model, 23));
      const out = model.forward(tensors, input, { cache: true });
      expect(Object.keys(out.cache)).toEqual(cfg.hidden.map((_, l) => `hidden.${l}.hook_post`));
      cfg.hidden.forEach((w, l) => expect(out.cache[`hidden.${l}.hook_post`].shape).toEqual([batch.n, w]));
      expect(out.cache[model.neuronHook]).toBeDefined();
      tf.dispose([out.logits, ...Object.values(out.cache), ...Object.values(tensors)]);
      input.dispose();
    });
  }
});

describe('mlp inputs', () => {
  it('ignores the = token on modular tasks', () => {
    const model = createModel(BASE, MODULAR);
    const params = to64(randomParams(model, 5));
    const a = model.reference(params, Int32Array.from([2, 3, 7]), 1);
    const b = model.reference(params, Int32Array.from([2, 3, 0]), 1);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('prepare rejects tokens outside the vocabulary', () => {
    const model = createModel(BASE, PARITY);
    expect(() => model.prepare(Int32Array.from([0, 1, 0, 1, 2, 0]), 1)).toThrow(/token 2 at example 0, position 4/);
  });
});
