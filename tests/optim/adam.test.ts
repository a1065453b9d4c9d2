import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import type { OptimizerConfig } from '../../src/config/types.ts';
import { createOptimizer } from '../../src/optim/index.ts';
import { adam64, adamF32, bits, closeTo, type AdamCase } from './reference.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

const SHAPE = [2, 3];
// A zero and a tiny gradient entry exercise denom ≈ eps and the v ≪ m regime.
const THETA0 = [0.5, -0.3, 1.2, -2.0, 0.01, 0.7];
const GRADS = [
  [0.1, -0.2, 0.3, -0.4, 0.0, 1e-6],
  [-0.05, 0.25, 0.3, 0.1, 0.0, -2e-6],
  [0.2, 0.0, -0.7, 0.35, 0.5, 3e-6],
];

function config(c: AdamCase): OptimizerConfig {
  return {
    kind: c.decoupled ? 'adamw' : 'adam',
    lr: c.lr,
    weight_decay: c.wd,
    betas: c.betas,
    eps: c.eps,
    momentum: 0,
    nesterov: false,
    decoupled_weight_decay: false,
    linf_penalty: 0,
    warmup_steps: c.warmup,
  };
}

/** Run the optimiser over GRADS; θ and slots after each step. */
function run(c: AdamCase) {
  const opt = createOptimizer(config(c), [{ name: 'W', shape: SHAPE }]);
  const W = tf.tidy(() => tf.variable(tf.tensor(THETA0, SHAPE), true));
  const trace: { theta: Float32Array; m: Float32Array; v: Float32Array; lr: number }[] = [];
  for (const g of GRADS) {
    const lr = opt.currentLr();
    const grad = tf.tensor(g, SHAPE);
    opt.apply({ W }, { W: grad });
    grad.dispose();
    const st = opt.getState();
    trace.push({
      theta: W.dataSync() as Float32Array,
      m: st.tensors['exp_avg.W'].data,
      v: st.tensors['exp_avg_sq.W'].data,
      lr,
    });
  }
  expect(opt.stepsTaken).toBe(GRADS.length);
  opt.dispose();
  W.dispose();
  return trace;
}

const NANDA: AdamCase = { decoupled: true, lr: 1e-3, wd: 1.0, betas: [0.9, 0.98], eps: 1e-8, warmup: 0 };
const CASES: [string, AdamCase][] = [
  ['AdamW, Nanda settings', NANDA],
  ['AdamW, warm-up 2 (first step lr 0)', { ...NANDA, warmup: 2 }],
  ['AdamW, large lr and wd 0.5', { ...NANDA, lr: 0.1, wd: 0.5 }],
  ['AdamW, no weight decay', { ...NANDA, lr: 0.05, wd: 0 }],
  ['Adam, coupled wd 0.1', { ...NANDA, decoupled: false, lr: 0.01, wd: 0.1, betas: [0.9, 0.999] }],
  ['Adam, coupled wd, warm-up 3', { ...NANDA, decoupled: false, lr: 0.01, wd: 0.3, warmup: 3 }],
];

describe.each(CASES)('%s', (_label, c) => {
  const ours = () => run(c);

  it('agrees with the float64 textbook formulas for three steps', () => {
    const trace = ours();
    const ref = adam64(
      Float32Array.from(THETA0),
      GRADS.map((g) => Float32Array.from(g)),
      c,
    );
    trace.forEach((step, s) => {
      expect(closeTo(step.theta, ref.theta[s], 1e-6, 1e-9), `θ after step ${s + 1}`).toBeNull();
      expect(closeTo(step.m, ref.slots[s].exp_avg, 1e-5, 1e-12), `exp_avg after step ${s + 1}`).toBeNull();
      expect(closeTo(step.v, ref.slots[s].exp_avg_sq, 1e-5, 1e-16), `exp_avg_sq after step ${s + 1}`).toBeNull();
    });
    // The update itself, not only θ (an update of 1e-3·θ hides in θ's float32 rounding).
    for (let s = 1; s < trace.length; s++) {
      const du = Array.from(trace[s].theta, (x, i) => x - trace[s - 1].theta[i]);
      const dr = ref.theta[s].map((x, i) => x - ref.theta[s - 1][i]);
      expect(closeTo(du, dr, 2e-3, 3e-7), `update at step ${s + 1}`).toBeNull();
    }
  });

  it('matches the documented float32 operation order bit for bit', () => {
    const trace = ours();
    const ref = adamF32(THETA0, GRADS, c);
    trace.forEach((step, s) => {
      expect(bits(step.theta), `θ after step ${s + 1}`).toEqual(bits(ref.theta[s]));
      expect(bits(step.m), `exp_avg after step ${s + 1}`).toEqual(bits(ref.slots[s].exp_avg));
      expect(bits(step.v), `exp_avg_sq after step ${s + 1}`).toEqual(bits(ref.slots[s].exp_avg_sq));
    });
  });

  it('uses the warm-up learning rate', () => {
    const lrs = ours().map((s) => s.lr);
    expect(lrs).toEqual([0, 1, 2].map((s) => (c.warmup > 0 ? c.lr * Math.min(s / c.warmup, 1) : c.lr)));
  });
});

describe('warm-up', () => {
  it('leaves θ unchanged by a step with lr 0 but still moves the moments', () => {
    const [first] = run({ ...NANDA, warmup: 10 });
    expect(bits(first.theta)).toEqual(bits(THETA0));
    expect(first.m[0]).toBeCloseTo(0.1 * 0.1, 7);
  });

  it("follows Nanda's LambdaLR min(step/10, 1) schedule", () => {
    const opt = createOptimizer(config({ ...NANDA, warmup: 10 }), [{ name: 'W', shape: [1] }]);
    const W = tf.tidy(() => tf.variable(tf.zeros([1]), true));
    const lrs: number[] = [];
    for (let s = 0; s < 12; s++) {
      lrs.push(opt.currentLr());
      tf.tidy(() => opt.apply({ W }, { W: tf.ones([1]) }));
    }
    expect(lrs).toEqual(Array.from({ length: 12 }, (_, s) => 1e-3 * Math.min(s / 10, 1)));
    expect(lrs[1]).toBeCloseTo(1e-4, 12);
    expect(lrs[10]).toBe(1e-3);
    opt.dispose();
    W.dispose();
  });
});
