import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import type { OptimizerConfig } from '../../src/config/types.ts';
import { createOptimizer } from '../../src/optim/index.ts';
import { bits, closeTo, sgd64, sgdF32, type SgdCase } from './reference.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

const SHAPE = [3, 2];
const THETA0 = [0.5, -0.3, 1.2, -2.0, 0.01, 0.7];
const GRADS = [
  [0.1, -0.2, 0.3, -0.4, 0.0, 1.5],
  [-0.05, 0.25, 0.3, 0.1, 0.0, -0.8],
  [0.2, 0.0, -0.7, 0.35, 0.5, 0.9],
];

function config(c: SgdCase): OptimizerConfig {
  return {
    kind: 'sgd',
    lr: c.lr,
    weight_decay: c.wd,
    betas: [0.9, 0.999],
    eps: 1e-8,
    momentum: c.momentum,
    nesterov: c.nesterov,
    decoupled_weight_decay: c.decoupled,
    linf_penalty: 0,
    warmup_steps: c.warmup,
  };
}

function run(c: SgdCase) {
  const opt = createOptimizer(config(c), [{ name: 'embed.W_E', shape: SHAPE }]);
  const W = tf.tidy(() => tf.variable(tf.tensor(THETA0, SHAPE), true));
  const trace: { theta: Float32Array; buf: Float32Array | undefined }[] = [];
  for (const g of GRADS) {
    tf.tidy(() => opt.apply({ 'embed.W_E': W }, { 'embed.W_E': tf.tensor(g, SHAPE) }));
    trace.push({ theta: W.dataSync() as Float32Array, buf: opt.getState().tensors['momentum_buffer.embed.W_E']?.data });
  }
  opt.dispose();
  W.dispose();
  return trace;
}

const BASE: SgdCase = { lr: 0.1, wd: 0.5, momentum: 0.9, nesterov: false, decoupled: false, warmup: 0 };
const CASES: [string, SgdCase][] = [
  ['momentum, coupled wd', BASE],
  ['momentum, decoupled wd', { ...BASE, decoupled: true }],
  ['nesterov, coupled wd', { ...BASE, nesterov: true }],
  ['nesterov, decoupled wd, warm-up 2', { ...BASE, nesterov: true, decoupled: true, warmup: 2 }],
  ['plain SGD (momentum 0), coupled wd', { ...BASE, momentum: 0 }],
  ['plain SGD, no wd', { ...BASE, momentum: 0, wd: 0 }],
];

describe.each(CASES)('SGD %s', (_label, c) => {
  it('agrees with the float64 formulas for three steps', () => {
    const trace = run(c);
    const ref = sgd64(
      Float32Array.from(THETA0),
      GRADS.map((g) => Float32Array.from(g)),
      c,
    );
    trace.forEach((step, s) => {
      expect(closeTo(step.theta, ref.theta[s], 1e-6, 1e-9), `θ after step ${s + 1}`).toBeNull();
      if (c.momentum !== 0) {
        expect(
          closeTo(step.buf!, ref.slots[s].momentum_buffer, 1e-6, 1e-9),
          `momentum_buffer after step ${s + 1}`,
        ).toBeNull();
      } else {
        expect(step.buf).toBeUndefined();
      }
    });
  });

  it('matches the documented float32 operation order bit for bit', () => {
    const trace = run(c);
    const ref = sgdF32(THETA0, GRADS, c);
    trace.forEach((step, s) => {
      expect(bits(step.theta), `θ after step ${s + 1}`).toEqual(bits(ref.theta[s]));
      if (c.momentum !== 0)
        expect(bits(step.buf!), `buffer after step ${s + 1}`).toEqual(bits(ref.slots[s].momentum_buffer));
    });
  });
});

describe('SGD weight decay', () => {
  it('coupled and decoupled differ once momentum carries the decay term', () => {
    const coupled = run(BASE).at(-1)!.theta;
    const decoupled = run({ ...BASE, decoupled: true }).at(-1)!.theta;
    expect(bits(coupled)).not.toEqual(bits(decoupled));
  });

  it('with momentum 0 the two kinds agree to rounding (θ − lr·(g + wd·θ) = θ(1 − lr·wd) − lr·g)', () => {
    const a = run({ ...BASE, momentum: 0 }).at(-1)!.theta;
    const b = run({ ...BASE, momentum: 0, decoupled: true }).at(-1)!.theta;
    expect(closeTo(a, Array.from(b), 1e-6, 1e-7)).toBeNull();
  });
});
