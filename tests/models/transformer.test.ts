import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { countParams, createModel, trainedSpecs } from '../../src/models/index.ts';
import { attendCausal } from '../../src/models/transformer/model.ts';
import { transformerReference } from '../../src/models/transformer/reference.ts';
import { Rng } from '../../src/rng.ts';
import { setupTf, expectClose, maxAbs, modularBatch, randomBatch, randomParams, to64, toTensors } from './helpers.ts';

type TConfig = Extract<ModelConfig, { kind: 'transformer' }>;

const P = 7;
const DIMS = { d_vocab: P + 1, n_ctx: 3, d_vocab_out: P };
const BASE: TConfig = {
  kind: 'transformer',
  n_layers: 1,
  d_model: 8,
  n_heads: 2,
  d_head: 4,
  d_mlp: 16,
  act: 'relu',
  layer_norm: false,
  attn_bias: true,
  init_scale: 1,
};
const LONG = { d_vocab: 6, n_ctx: 5, d_vocab_out: 4 }; // random sequences: exercises n_ctx ≠ 3
const VARIANTS: Record<string, { cfg: TConfig; dims: typeof DIMS }> = {
  'nanda (1 layer, relu, no LN)': { cfg: BASE, dims: DIMS },
  '1 layer, gelu, no LN': { cfg: { ...BASE, act: 'gelu' }, dims: DIMS },
  '2 layers': { cfg: { ...BASE, n_layers: 2 }, dims: DIMS },
  'LayerNorm + gelu': { cfg: { ...BASE, layer_norm: true, act: 'gelu' }, dims: DIMS },
  '2 layers + LayerNorm + gelu': { cfg: { ...BASE, n_layers: 2, layer_norm: true, act: 'gelu' }, dims: DIMS },
  '1 layer, n_ctx 5': { cfg: BASE, dims: LONG },
  '3 layers + LayerNorm, n_ctx 5': { cfg: { ...BASE, n_layers: 3, layer_norm: true }, dims: LONG },
};

beforeAll(setupTf);

describe('transformer parameters', () => {
  it('has the TransformerLens names and shapes, in order', () => {
    const m = createModel(BASE, DIMS);
    expect(m.specs).toEqual([
      { name: 'embed.W_E', shape: [8, 8] },
      { name: 'pos_embed.W_pos', shape: [3, 8] },
      { name: 'blocks.0.attn.W_Q', shape: [2, 8, 4] },
      { name: 'blocks.0.attn.W_K', shape: [2, 8, 4] },
      { name: 'blocks.0.attn.W_V', shape: [2, 8, 4] },
      { name: 'blocks.0.attn.W_O', shape: [2, 4, 8] },
      { name: 'blocks.0.attn.b_Q', shape: [2, 4] },
      { name: 'blocks.0.attn.b_K', shape: [2, 4] },
      { name: 'blocks.0.attn.b_V', shape: [2, 4] },
      { name: 'blocks.0.attn.b_O', shape: [8] },
      { name: 'blocks.0.mlp.W_in', shape: [8, 16] },
      { name: 'blocks.0.mlp.b_in', shape: [16] },
      { name: 'blocks.0.mlp.W_out', shape: [16, 8] },
      { name: 'blocks.0.mlp.b_out', shape: [8] },
      { name: 'unembed.W_U', shape: [8, 7] },
      { name: 'unembed.b_U', shape: [7] },
    ]);
    expect(m.neuronHook).toBe('blocks.0.mlp.hook_post');
  });

  it('places LayerNorm parameters per TransformerLens', () => {
    const names = createModel({ ...BASE, n_layers: 2, layer_norm: true }, DIMS).specs.map((s) => s.name);
    expect(names.filter((n) => n.includes('ln'))).toEqual([
      'blocks.0.ln1.w',
      'blocks.0.ln1.b',
      'blocks.0.ln2.w',
      'blocks.0.ln2.b',
      'blocks.1.ln1.w',
      'blocks.1.ln1.b',
      'blocks.1.ln2.w',
      'blocks.1.ln2.b',
      'ln_final.w',
      'ln_final.b',
    ]);
    expect(names.indexOf('blocks.0.ln1.b') + 1).toBe(names.indexOf('blocks.0.attn.W_Q'));
    expect(names.indexOf('blocks.0.ln2.b') + 1).toBe(names.indexOf('blocks.0.mlp.W_in'));
    expect(names.indexOf('ln_final.b') + 1).toBe(names.indexOf('unembed.W_U'));
  });

  it('counts the Nanda model parameters', () => {
    const m = createModel(
      { ...BASE, d_model: 128, n_heads: 4, d_head: 32, d_mlp: 512 },
      { d_vocab: 114, n_ctx: 3, d_vocab_out: 113 },
    );
    // W_E 114·128 + W_pos 3·128 + 4 · 4·128·32 + biases 3·128 + 128 + MLP 2·128·512 + 512 + 128 + W_U 128·113 + 113
    expect(countParams(m.specs)).toBe(14592 + 384 + 65536 + 384 + 128 + 131072 + 512 + 128 + 14464 + 113);
  });

  it("without attn_bias (the spec's model) lists the attention biases as frozen: stored, not trained", () => {
    const m = createModel(
      { ...BASE, attn_bias: false, d_model: 128, n_heads: 4, d_head: 32, d_mlp: 512 },
      { d_vocab: 114, n_ctx: 3, d_vocab_out: 113 },
    );
    expect(m.specs.filter((s) => s.frozen).map((s) => s.name)).toEqual([
      'blocks.0.attn.b_Q',
      'blocks.0.attn.b_K',
      'blocks.0.attn.b_V',
      'blocks.0.attn.b_O',
    ]);
    // Nanda et al.'s parameter count: everything above but the 3·128 + 128 attention biases
    expect(countParams(trainedSpecs(m.specs))).toBe(14592 + 384 + 65536 + 131072 + 512 + 128 + 14464 + 113);
    expect(m.specs.map((s) => s.name)).toEqual(
      createModel({ ...BASE, attn_bias: true }, DIMS).specs.map((s) => s.name),
    );
  });

  it('rejects a bad config with the key and value', () => {
    expect(() => createModel({ ...BASE, n_heads: 0 }, DIMS)).toThrow(ConfigError);
    expect(() => createModel({ ...BASE, n_heads: 0 }, DIMS)).toThrow(/model\.n_heads.*got 0/);
    expect(() => createModel({ ...BASE, act: 'tanh' as 'relu' }, DIMS)).toThrow(/model\.act/);
    expect(() => createModel({ ...BASE, attn_bias: 'no' as unknown as boolean }, DIMS)).toThrow(/model\.attn_bias/);
  });
});

describe('transformer init (docs/measures.md#reference-training-setup, Nanda et al.)', () => {
  const big: TConfig = { ...BASE, d_model: 128, n_heads: 4, d_head: 32, d_mlp: 512, layer_norm: true };
  const bigDims = { d_vocab: 114, n_ctx: 3, d_vocab_out: 113 };

  it('draws matrices ~ N(0, 1/d_model), W_U ~ N(0, 1/d_vocab), biases 0, LN weights 1', () => {
    const m = createModel(big, bigDims);
    const w = m.init(new Rng(1));
    for (const { name, shape } of m.specs) {
      const t = w[name];
      expect(t.length, name).toBe(shape.reduce((a, b) => a * b, 1));
      if (/\.W_/.test(name)) {
        const target = name === 'unembed.W_U' ? 1 / Math.sqrt(114) : 1 / Math.sqrt(128);
        let s = 0,
          s2 = 0;
        for (const x of t) {
          s += x;
          s2 += x * x;
        }
        const mean = s / t.length;
        const std = Math.sqrt(s2 / t.length - mean * mean);
        // the sample std has relative standard error ≈ 1/√(2N); allow 5 of them
        expect(Math.abs(std / target - 1), `${name} std ${std} vs ${target}`).toBeLessThan(5 / Math.sqrt(2 * t.length));
        expect(Math.abs(mean), name).toBeLessThan((5 * target) / Math.sqrt(t.length));
      } else if (/ln(1|2|_final)?\.w$/.test(name) || name === 'ln_final.w') {
        expect(
          t.every((x) => x === 1),
          name,
        ).toBe(true);
      } else {
        expect(
          t.every((x) => x === 0),
          name,
        ).toBe(true);
      }
    }
  });

  it('scales every weight by α exactly and leaves LN gains at 1', () => {
    const m1 = createModel(big, bigDims).init(new Rng(5));
    const m2 = createModel({ ...big, init_scale: 2 }, bigDims).init(new Rng(5));
    const m3 = createModel({ ...big, init_scale: 0.3 }, bigDims).init(new Rng(5));
    for (const name of Object.keys(m1)) {
      if (/ln(1|2)\.w$|ln_final\.w$/.test(name)) {
        expect(
          m2[name].every((x) => x === 1),
          name,
        ).toBe(true);
        continue;
      }
      expect(Array.from(m2[name]), name).toEqual(Array.from(m1[name], (x) => 2 * x));
      expectClose(
        m3[name],
        Array.from(m1[name], (x) => 0.3 * x),
        1e-6,
        0,
        name,
      );
    }
  });

  it('is reproducible from the seed', () => {
    const m = createModel(BASE, DIMS);
    expect(m.init(new Rng(3))).toEqual(m.init(new Rng(3)));
  });
});

// Forward against the reference, gradients and leaks: tests/models/contract.test.ts, over these variants too.
describe.each(Object.entries(VARIANTS))('transformer %s', (_label, { cfg, dims }) => {
  const model = createModel(cfg, dims);
  const batch = dims === DIMS ? modularBatch(P) : randomBatch(model, 30, 7);
  const T = dims.n_ctx;

  it('cache: hook shapes, values equal to the reference, pattern rows sum to 1', () => {
    const params = randomParams(model, 13);
    const { hooks } = transformerReference(cfg, dims, to64(params), batch.tokens, batch.n);
    const input = model.prepare(batch.tokens, batch.n);
    const tensors = toTensors(model, params);
    const out = model.forward(tensors, input, { cache: true });
    const expected: Record<string, number[]> = { hook_resid_final: [batch.n, cfg.d_model] };
    for (let l = 0; l < cfg.n_layers; l++) {
      expected[`blocks.${l}.attn.hook_pattern`] = [batch.n, cfg.n_heads, T];
      expected[`blocks.${l}.mlp.hook_post`] = [batch.n, cfg.d_mlp];
    }
    expect(Object.keys(out.cache).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, shape] of Object.entries(expected)) {
      expect(out.cache[name].shape, name).toEqual(shape);
      expectClose(out.cache[name].dataSync(), hooks[name], 1e-4, 1e-5, name);
    }
    expect(out.cache[model.neuronHook]).toBeDefined();
    for (let l = 0; l < cfg.n_layers; l++) {
      const pattern = out.cache[`blocks.${l}.attn.hook_pattern`].dataSync();
      for (let r = 0; r < batch.n * cfg.n_heads; r++) {
        let sum = 0;
        for (let tk = 0; tk < T; tk++) sum += pattern[r * T + tk];
        expect(sum).toBeCloseTo(1, 5);
      }
    }
    tf.dispose([out.logits, ...Object.values(out.cache), ...Object.values(tensors)]);
    input.dispose();
  });
});

describe('transformer attention', () => {
  it('full-sequence attention is causal', () => {
    const rng = new Rng(4);
    const [n, T, H, E] = [5, 4, 2, 3];
    const HE = H * E;
    const mk = () => tf.tensor2d(rng.normalArray(T * n * HE), [T * n, HE]);
    const [q, k, v] = [mk(), mk(), mk()];
    const { z, pattern } = attendCausal(q, k, v, n, H, E);
    expect(z.shape).toEqual([T * n, HE]);
    expect(pattern.shape).toEqual([n, H, T]);
    // causal: perturbing keys and values at positions after t leaves z at t unchanged
    const k2 = tf.concat([tf.slice(k, [0, 0], [2 * n, HE]), tf.add(tf.slice(k, [2 * n, 0], [(T - 2) * n, HE]), 1)]);
    const v2 = tf.concat([tf.slice(v, [0, 0], [2 * n, HE]), tf.mul(tf.slice(v, [2 * n, 0], [(T - 2) * n, HE]), 3)]);
    const z2 = attendCausal(q, k2 as tf.Tensor2D, v2 as tf.Tensor2D, n, H, E).z;
    expectClose(
      tf.slice(z2, [0, 0], [2 * n, HE]).dataSync(),
      tf.slice(z, [0, 0], [2 * n, HE]).dataSync(),
      0,
      0,
      'z before position 2',
    );
    expect(
      maxAbs(tf.sub(tf.slice(z2, [2 * n, 0], [n, HE]), tf.slice(z, [2 * n, 0], [n, HE])).dataSync()),
    ).toBeGreaterThan(1e-3);
    // position 0 attends only to itself: z = v at position 0
    expectClose(tf.slice(z, [0, 0], [n, HE]).dataSync(), tf.slice(v, [0, 0], [n, HE]).dataSync(), 1e-6, 1e-6, 'z at 0');
    // the last query's rows sum to 1
    const pa = pattern.dataSync();
    for (let r = 0; r < n * H; r++) {
      let s = 0;
      for (let tk = 0; tk < T; tk++) s += pa[r * T + tk];
      expect(s).toBeCloseTo(1, 5);
    }
    tf.dispose([q, k, v, k2, v2, z, z2, pattern]);
  });

  it('prepare rejects tokens outside the vocabulary', () => {
    const m = createModel(BASE, DIMS);
    expect(() => m.prepare(Int32Array.from([0, 1, 8]), 1)).toThrow(/token 8 at example 0, position 2/);
    expect(() => m.prepare(Int32Array.from([0, 1]), 1)).toThrow(/expected 1×3/);
  });

  it('forward rejects an input prepared by another model', () => {
    const m = createModel(BASE, DIMS);
    const other = createModel({ kind: 'mlp', d_embed: 4, hidden: [8], act: 'relu', init_scale: 1 }, DIMS);
    const input = other.prepare(Int32Array.from([0, 1, 7]), 1);
    const params = toTensors(m, m.init(new Rng(1)));
    expect(() => m.forward(params, input)).toThrow(
      /transformer\.forward: input 'onehot' should be \[3,11\].*got nothing/,
    ); // the MLP prepares token ids
    tf.dispose(Object.values(params));
    input.dispose();
  });
});
