import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { countParams, createModel } from '../../src/models/index.ts';
import { Rng } from '../../src/rng.ts';
import { expectClose, modularBatch, randomParams, setupTf, toTensors } from './helpers.ts';

type QConfig = Extract<ModelConfig, { kind: 'quadratic' }>;

const P = 7;
const DIMS = { d_vocab: P + 1, n_ctx: 3, d_vocab_out: P };
const CFG: QConfig = { kind: 'quadratic', hidden: 12, init_scale: 1 };

beforeAll(setupTf);

describe('quadratic model', () => {
  const model = createModel(CFG, DIMS);
  const batch = modularBatch(P);

  it('has W [h, 2p] and V [p, h], no biases', () => {
    expect(model.specs).toEqual([
      { name: 'W', shape: [12, 14] },
      { name: 'V', shape: [7, 12] },
    ]);
    expect(countParams(model.specs)).toBe(12 * 14 + 7 * 12);
    expect(model.neuronHook).toBe('hook_hidden');
  });

  it('hook_hidden is (W·x)² for x = one-hot(a) ‖ one-hot(b)', () => {
    const params = randomParams(model, 33);
    const input = model.prepare(batch.tokens, batch.n);
    const tensors = toTensors(model, params);
    const out = model.forward(tensors, input, { cache: true });
    const hidden = out.cache['hook_hidden'];
    expect(hidden.shape).toEqual([batch.n, 12]);
    const W = params['W'];
    const expected = new Float64Array(batch.n * 12);
    for (let i = 0; i < batch.n; i++) {
      const [a, b] = [batch.tokens[i * 3], batch.tokens[i * 3 + 1]];
      for (let j = 0; j < 12; j++) expected[i * 12 + j] = (W[j * 14 + a] + W[j * 14 + P + b]) ** 2;
    }
    expectClose(hidden.dataSync(), expected, 1e-5, 1e-6, 'hook_hidden');
    tf.dispose([out.logits, hidden, ...Object.values(tensors)]);
    input.dispose();
  });

  it('init: W ~ N(0, 1/(2p)), V ~ N(0, 1/h), times α exactly', () => {
    const dims = { d_vocab: 114, n_ctx: 3, d_vocab_out: 113 };
    const big = createModel({ ...CFG, hidden: 500 }, dims).init(new Rng(6));
    const std = (t: Float32Array) => Math.sqrt(t.reduce((a, x) => a + x * x, 0) / t.length);
    expect(Math.abs(std(big['W']) * Math.sqrt(226) - 1)).toBeLessThan(5 / Math.sqrt(2 * big['W'].length));
    expect(Math.abs(std(big['V']) * Math.sqrt(500) - 1)).toBeLessThan(5 / Math.sqrt(2 * big['V'].length));
    const scaled = createModel({ ...CFG, hidden: 500, init_scale: 2 }, dims).init(new Rng(6));
    for (const name of ['W', 'V']) expect(Array.from(scaled[name])).toEqual(Array.from(big[name], (x) => 2 * x));
  });

  it('rejects operands outside [0, p) and tasks without two operands', () => {
    expect(() => model.prepare(Int32Array.from([7, 1, 7]), 1)).toThrow(
      /operand 7 at example 0, position 0 is outside \[0, 7\)/,
    );
    expect(() => createModel(CFG, { d_vocab: 2, n_ctx: 1, d_vocab_out: 2 })).toThrow(ConfigError);
    expect(() => createModel({ ...CFG, hidden: 0 }, DIMS)).toThrow(/model\.hidden/);
  });
});
