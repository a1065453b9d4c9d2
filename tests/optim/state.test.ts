import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import type { OptimizerConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { createOptimizer, OptimizerStateError, type OptimizerState } from '../../src/optim/index.ts';
import type { Optimizer } from '../../src/optim/types.ts';
import { Rng } from '../../src/rng.ts';
import { bits } from './reference.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

const SPECS = [
  { name: 'embed.W_E', shape: [5, 4] },
  { name: 'blocks.0.mlp.b_in', shape: [3] },
  { name: 'unembed.W_U', shape: [4, 5] },
];

const CFG: OptimizerConfig = {
  kind: 'adamw',
  lr: 1e-2,
  weight_decay: 1.0,
  betas: [0.9, 0.98],
  eps: 1e-8,
  momentum: 0,
  nesterov: false,
  decoupled_weight_decay: false,
  linf_penalty: 0,
  warmup_steps: 3, // the warm-up crosses the resume point below
};
const SGD: OptimizerConfig = { ...CFG, kind: 'sgd', momentum: 0.9, nesterov: true, lr: 0.05 };

/** Gradients that depend on θ (like real ones), so any divergence in θ shows up in later steps. */
function step(opt: Optimizer, vars: Record<string, tf.Variable>, s: number) {
  tf.tidy(() => {
    const grads: Record<string, tf.Tensor> = {};
    for (const { name } of SPECS) grads[name] = tf.add(tf.sin(tf.mul(vars[name], 3)), tf.scalar(0.1 * s));
    opt.apply(vars, grads);
  });
}

function initVars(values?: Record<string, Float32Array>): Record<string, tf.Variable> {
  const rng = new Rng(7);
  const vars: Record<string, tf.Variable> = {};
  for (const { name, shape } of SPECS) {
    const data = values?.[name] ?? rng.normalArray(shape.reduce((a, b) => a * b, 1));
    vars[name] = tf.tidy(() => tf.variable(tf.tensor(data, shape), true));
  }
  return vars;
}

const snapshot = (vars: Record<string, tf.Variable>) =>
  Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
const disposeAll = (vars: Record<string, tf.Variable>) => Object.values(vars).forEach((v) => v.dispose());

describe.each([
  ['AdamW', CFG],
  ['SGD nesterov', SGD],
])('%s state round trip', (_label, cfg) => {
  it('5 steps straight equal 2 steps → getState → fresh optimiser → setState → 3 steps, bit for bit', () => {
    const straight = createOptimizer(cfg, SPECS);
    const a = initVars();
    for (let s = 0; s < 5; s++) step(straight, a, s);

    const first = createOptimizer(cfg, SPECS);
    const b = initVars();
    for (let s = 0; s < 2; s++) step(first, b, s);
    const state = first.getState();
    const params = snapshot(b);
    first.dispose();
    disposeAll(b);

    const resumed = createOptimizer(cfg, SPECS);
    resumed.setState(state);
    expect(resumed.stepsTaken).toBe(2);
    expect(resumed.currentLr()).toBe(cfg.lr * (2 / 3));
    const c = initVars(params);
    for (let s = 2; s < 5; s++) step(resumed, c, s);

    for (const { name } of SPECS) expect(bits(c[name].dataSync()), name).toEqual(bits(a[name].dataSync()));
    const sa = straight.getState();
    const sc = resumed.getState();
    expect(sc.stepsTaken).toBe(5);
    expect(Object.keys(sc.tensors).sort()).toEqual(Object.keys(sa.tensors).sort());
    for (const k of Object.keys(sa.tensors)) expect(bits(sc.tensors[k].data), k).toEqual(bits(sa.tensors[k].data));
    [straight, resumed].forEach((o) => o.dispose());
    disposeAll(a);
    disposeAll(c);
  });
});

describe('state layout', () => {
  it("uses PyTorch's slot names with the parameter shapes", () => {
    const adam = createOptimizer(CFG, SPECS);
    const st = adam.getState();
    expect(Object.keys(st.tensors).sort()).toEqual(
      SPECS.flatMap(({ name }) => [`exp_avg.${name}`, `exp_avg_sq.${name}`]).sort(),
    );
    expect(st.tensors['exp_avg.embed.W_E'].shape).toEqual([5, 4]);
    expect(st.tensors['exp_avg_sq.blocks.0.mlp.b_in'].data).toEqual(new Float32Array(3));
    expect(st.stepsTaken).toBe(0);
    const sgd = createOptimizer(SGD, SPECS);
    expect(Object.keys(sgd.getState().tensors).sort()).toEqual(SPECS.map((s) => `momentum_buffer.${s.name}`).sort());
    const plain = createOptimizer({ ...SGD, momentum: 0, nesterov: false }, SPECS);
    expect(plain.getState().tensors).toEqual({});
    [adam, sgd, plain].forEach((o) => o.dispose());
  });
});

describe('setState validation', () => {
  const good = (): OptimizerState => {
    const o = createOptimizer(CFG, SPECS);
    const st = o.getState();
    o.dispose();
    return { ...st, stepsTaken: 4 };
  };
  const cases: [string, (s: OptimizerState) => void, RegExp][] = [
    [
      'a missing slot',
      (s) => delete s.tensors['exp_avg_sq.unembed.W_U'],
      /missing slot 'exp_avg_sq\.unembed\.W_U' \(expected shape \[4,5\]\)/,
    ],
    [
      'a wrong shape',
      (s) => (s.tensors['exp_avg.embed.W_E'].shape = [4, 5]),
      /slot 'exp_avg\.embed\.W_E' has shape \[4,5\], expected \[5,4\]/,
    ],
    [
      'a wrong length',
      (s) => (s.tensors['exp_avg.blocks.0.mlp.b_in'].data = new Float32Array(2)),
      /slot 'exp_avg\.blocks\.0\.mlp\.b_in' needs 3 float32 values, got 2/,
    ],
    [
      'an unexpected slot',
      (s) => (s.tensors['momentum_buffer.embed.W_E'] = { shape: [5, 4], data: new Float32Array(20) }),
      /unexpected slot 'momentum_buffer\.embed\.W_E'/,
    ],
    ['a bad step count', (s) => (s.stepsTaken = -1), /stepsTaken must be a non-negative integer, got -1/],
  ];
  it.each(cases)('rejects %s with an error naming it, and changes nothing', (_label, spoil, message) => {
    const opt = createOptimizer(CFG, SPECS);
    const before = opt.getState();
    const st = good();
    spoil(st);
    expect(() => opt.setState(st)).toThrow(OptimizerStateError);
    expect(() => opt.setState(st)).toThrow(message);
    const after = opt.getState();
    expect(after.stepsTaken).toBe(0);
    for (const k of Object.keys(before.tensors))
      expect(bits(after.tensors[k].data)).toEqual(bits(before.tensors[k].data));
    opt.dispose();
  });

  it('rejects an SGD state loaded into Adam by naming the first missing slot', () => {
    const sgd = createOptimizer(SGD, SPECS);
    const adam = createOptimizer(CFG, SPECS);
    expect(() => adam.setState(sgd.getState())).toThrow(
      /unexpected slot 'momentum_buffer\.embed\.W_E' for a 'adamw' optimiser/,
    );
    sgd.dispose();
    adam.dispose();
  });
});

describe('apply validation', () => {
  it('names an unknown gradient, a shape mismatch and a missing parameter', () => {
    const opt = createOptimizer(CFG, [{ name: 'W', shape: [2] }]);
    const W = tf.variable(tf.zeros([2]), true);
    tf.tidy(() => {
      expect(() => opt.apply({ W }, { V: tf.zeros([2]) })).toThrow(/gradient for unknown parameter 'V'/);
      expect(() => opt.apply({ W }, { W: tf.zeros([3]) })).toThrow(/gradient 'W' has shape \[3\], expected \[2\]/);
      expect(() => opt.apply({}, { W: tf.zeros([2]) })).toThrow(/gradient for 'W' but no such parameter/);
    });
    expect(opt.stepsTaken).toBe(0);
    opt.dispose();
    W.dispose();
  });

  it('skips a parameter without a gradient, as PyTorch skips grad None', () => {
    const opt = createOptimizer(CFG, [
      { name: 'W', shape: [2] },
      { name: 'b', shape: [2] },
    ]);
    const W = tf.variable(tf.ones([2]), true);
    const b = tf.variable(tf.ones([2]), true);
    tf.tidy(() => opt.apply({ W, b }, { W: tf.ones([2]) }));
    tf.tidy(() => opt.apply({ W, b }, { W: tf.ones([2]) }));
    expect(Array.from(b.dataSync())).toEqual([1, 1]);
    expect(W.dataSync()[0]).toBeLessThan(1);
    [opt, W, b].forEach((x) => x.dispose());
  });
});

describe('createOptimizer validation', () => {
  it.each([
    [{ ...CFG, lr: -1 }, /optimizer\.lr: got -1/],
    [{ ...CFG, betas: [1, 0.98] as [number, number] }, /optimizer\.betas: .*β1 in \[0, 1\)/],
    [{ ...CFG, warmup_steps: 1.5 }, /optimizer\.warmup_steps: got 1\.5/],
    [{ ...SGD, momentum: 0, nesterov: true }, /optimizer\.nesterov/],
    [{ ...CFG, kind: 'lion' as 'adam' }, /optimizer\.kind: got "lion"/],
  ])('rejects a bad config (%#)', (cfg, message) => {
    expect(() => createOptimizer(cfg, SPECS)).toThrow(ConfigError);
    expect(() => createOptimizer(cfg, SPECS)).toThrow(message);
  });

  it('rejects a duplicated parameter name', () => {
    expect(() => createOptimizer(CFG, [SPECS[0], SPECS[0]])).toThrow(/'embed\.W_E' listed twice/);
  });
});

describe('tensor hygiene', () => {
  it.each([
    ['AdamW', CFG],
    ['Adam', { ...CFG, kind: 'adam' as const }],
    ['SGD nesterov', SGD],
    ['SGD decoupled', { ...SGD, decoupled_weight_decay: true }],
    ['SGD plain', { ...SGD, momentum: 0, nesterov: false }],
  ])('%s: apply() and setState() leak no tensor; dispose() frees all it made', (_label, cfg) => {
    const start = tf.memory().numTensors;
    const vars = initVars();
    const grads = Object.fromEntries(SPECS.map(({ name, shape }) => [name, tf.fill(shape, 0.25)]));
    const opt = createOptimizer(cfg, SPECS);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 3; s++) {
      opt.apply(vars, grads); // first step and later steps take different branches in SGD
      expect(tf.memory().numTensors).toBe(before);
    }
    opt.setState(opt.getState());
    expect(tf.memory().numTensors).toBe(before);
    // The caller still owns its gradients: the optimiser must not have disposed them.
    for (const g of Object.values(grads)) expect(g.isDisposed).toBe(false);
    opt.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    disposeAll(vars);
    expect(tf.memory().numTensors).toBe(start);
  });
});
