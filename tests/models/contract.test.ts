/**
 * The Model contract (src/models/types.ts), one suite over every model kind and the variants
 * that exercise it: the tfjs forward against the kind's own float64 reference, gradients against
 * float64 central differences, no leaked tensors, a seeded init, and the views the analyses read
 * — the NTK linearisation (same logits as the forward, every trained parameter entered once), the
 * Fourier weight views (shapes; a missing tensor named) and the attention hook. A new kind is
 * added to KINDS and must pass all of it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, ModelConfig } from '../../src/config/types.ts';
import { ArgumentError } from '../../src/errors.ts';
import { createModel, trainedSpecs, type ModelDims } from '../../src/models/index.ts';
import { Linearisation } from '../../src/models/linearisation.ts';
import { Rng } from '../../src/rng.ts';
import {
  checkGradients,
  expectClose,
  expectNoLeaks,
  modularBatch,
  randomBatch,
  randomParams,
  setupTf,
  to64,
  toTensors,
} from './helpers.ts';

const P = 7;
const MODULAR: ModelDims = { d_vocab: P + 1, n_ctx: 3, d_vocab_out: P };
const LONG: ModelDims = { d_vocab: 6, n_ctx: 5, d_vocab_out: 4 }; // random sequences: n_ctx ≠ 3
const PARITY: ModelDims = { d_vocab: 2, n_ctx: 6, d_vocab_out: 2 };

type T = Extract<ModelConfig, { kind: 'transformer' }>;
const TF: T = {
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
const MLP = { kind: 'mlp', d_embed: 4, hidden: [16], act: 'relu', init_scale: 1 } as const;
const ACTS: Activation[] = ['relu', 'gelu', 'quadratic', 'tanh', 'linear'];

const KINDS: [string, ModelConfig, ModelDims][] = [
  ['transformer, nanda (1 layer, relu, no LN)', TF, MODULAR],
  ['transformer, the spec (no attention biases)', { ...TF, attn_bias: false }, MODULAR],
  ['transformer, 1 layer, gelu', { ...TF, act: 'gelu' }, MODULAR],
  ['transformer, 2 layers', { ...TF, n_layers: 2 }, MODULAR],
  ['transformer, LayerNorm + gelu', { ...TF, layer_norm: true, act: 'gelu' }, MODULAR],
  ['transformer, 2 layers + LayerNorm + gelu', { ...TF, n_layers: 2, layer_norm: true, act: 'gelu' }, MODULAR],
  ['transformer, 1 layer, n_ctx 5', TF, LONG],
  ['transformer, 3 layers + LayerNorm, n_ctx 5', { ...TF, n_layers: 3, layer_norm: true }, LONG],
  ...ACTS.flatMap((act): [string, ModelConfig, ModelDims][] => [
    [`mlp ${act}, modular, 1 hidden layer`, { ...MLP, act, hidden: [16] }, MODULAR],
    [`mlp ${act}, modular, 2 hidden layers`, { ...MLP, act, hidden: [16, 12] }, MODULAR],
    [`mlp ${act}, sparse parity, 2 hidden layers`, { ...MLP, act, hidden: [12, 10] }, PARITY],
  ]),
  ['quadratic', { kind: 'quadratic', hidden: 12, init_scale: 1 }, MODULAR],
];

beforeAll(setupTf);

describe.each(KINDS)('%s', (_label, cfg, dims) => {
  const model = createModel(cfg, dims);
  const batch = dims === MODULAR ? modularBatch(P) : randomBatch(model, 30, 7);

  it('forward logits match the float64 reference', () => {
    const params = randomParams(model, 11);
    const ref = model.reference(to64(params), batch.tokens, batch.n);
    const input = model.prepare(batch.tokens, batch.n);
    const tensors = toTensors(model, params);
    const logits = tf.tidy(() => model.forward(tensors, input).logits.dataSync());
    expect(logits.length).toBe(batch.n * dims.d_vocab_out);
    expectClose(logits, ref, 1e-4, 1e-5, 'logits'); // float32 against float64 on O(1) logits
    tf.dispose(Object.values(tensors));
    input.dispose();
  });

  it('gradients of every tensor match float64 central differences', () => {
    const worst = checkGradients(model, randomParams(model, 12), batch, { perTensor: 16 });
    expect(worst).toBeLessThan(0.02);
  });

  it('leaks no tensor (forward in tidy, cached forward disposed, gradients, prepared input)', () => {
    expectNoLeaks(model, randomParams(model, 14), batch);
  });

  it('draws the same weights from the same seed, and other weights from another', () => {
    const a = model.init(new Rng(3));
    expect(model.init(new Rng(3))).toEqual(a);
    const b = model.init(new Rng(4));
    expect(model.specs.some((s) => Array.from(a[s.name]).some((x, i) => x !== b[s.name][i]))).toBe(true);
  });

  it('its NTK linearisation gives the forward logits and enters every trained parameter once', () => {
    const params = randomParams(model, 15);
    const ref = model.reference(to64(params), batch.tokens, batch.n);
    const tensors = toTensors(model, params);
    const lin = new Linearisation();
    const inputs = model.linearised.inputs(batch.tokens, batch.n);
    const logits = tf.tidy(() => model.linearised.logits(tensors, lin, inputs, batch.n).dataSync());
    expectClose(logits, ref, 1e-4, 1e-5, 'linearised logits');
    const entered = lin.uses.flatMap((u) => [u.weight, ...(u.bias === null ? [] : [u.bias])]);
    const trained = trainedSpecs(model.specs).map((s) => s.name);
    for (const name of trained) expect(entered.filter((e) => e === name).length, name).toBe(1);
    for (const name of entered)
      expect(
        model.specs.map((s) => s.name),
        name,
      ).toContain(name);
    lin.dispose();
    tf.dispose([...inputs, ...Object.values(tensors)]);
  });

  it('has an attention hook in its cache exactly when it has attention', () => {
    const input = model.prepare(batch.tokens, batch.n);
    const tensors = toTensors(model, randomParams(model, 16));
    const out = model.forward(tensors, input, { cache: true });
    expect(model.attention !== null).toBe(cfg.kind === 'transformer');
    if (model.attention)
      expect(out.cache[model.attention.hook].shape).toEqual([batch.n, (cfg as T).n_heads, dims.n_ctx]);
    expect(out.cache[model.neuronHook]).toBeDefined();
    tf.dispose([out.logits, ...Object.values(out.cache), ...Object.values(tensors)]);
    input.dispose();
  });

  it.runIf(dims === MODULAR)('gives the Fourier weight views their shapes, and names a missing tensor', () => {
    const params = randomParams(model, 17);
    const residue = Int32Array.from({ length: P }, (_, x) => (3 * x) % P); // any permutation of the classes
    const v = model.weightViews(params, residue);
    expect(v.embedding.length).toBe(P * v.dEmbed);
    expect(v.logitMap.length).toBe(v.neurons * P);
    expect(v.firstLayer.length).toBe(P * v.firstNeurons);
    expect([...v.embedding, ...v.logitMap, ...v.firstLayer].every(Number.isFinite)).toBe(true);
    const missing = model.specs[0].name; // the embedding (or the quadratic net's W): every kind's views read it
    const { [missing]: _gone, ...rest } = params;
    let thrown: unknown;
    try {
      model.weightViews(rest, residue);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ArgumentError);
    expect((thrown as Error).message).toContain(`parameter "${missing}"`);
  });
});
