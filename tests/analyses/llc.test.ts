/**
 * The `llc` pass on a network (analyses/llc.ts): the tfjs loss and gradient it hands the sampler
 * agree with the float64 reference forward, the estimate is a pure function of its seed, no
 * tensor leaks, frozen tensors are not sampled, and a too-large ε is flagged chain by chain.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { llcOptions, llcResult, networkLoss, type LlcInput } from '../../analyses/llc.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { countParams, createModel, trainedSpecs } from '../../src/models/index.ts';
import { Rng } from '../../src/rng.ts';
import { buildDataset } from '../../src/tasks/index.ts';
import { makeSplit } from '../../src/tasks/split.ts';
import { crossEntropy64, setupTf } from '../models/helpers.ts';

beforeAll(setupTf);

function tinyRun(sets: string[] = []): Omit<LlcInput, 'options'> {
  const { config } = resolveConfig({
    sets: [
      'task.p=7',
      'split.train_fraction=0.5',
      'model.d_model=8',
      'model.n_heads=2',
      'model.d_head=4',
      'model.d_mlp=16',
      ...sets,
    ],
  });
  const dataset = buildDataset(config.task);
  const split = makeSplit(dataset.n, config.split);
  const model = createModel(config.model, {
    d_vocab: dataset.d_vocab,
    n_ctx: dataset.n_ctx,
    d_vocab_out: dataset.d_vocab_out,
  });
  const params = model.init(Rng.derive(3, 'init'));
  return { model, config, dataset, split, params };
}

describe('networkLoss', () => {
  it('gives the train loss and its gradient of the model (float64 central differences, full batch)', () => {
    const run = tinyRun();
    const n = run.split.train.length;
    const options = llcOptions(n, 0, { batch_size: n });
    const net = networkLoss({ ...run, options });
    try {
      const trained = trainedSpecs(run.model.specs);
      expect(net.wStar.length).toBe(countParams(trained)); // frozen attention biases are not sampled
      const tokens = new Int32Array(n * run.dataset.n_ctx);
      const labels = new Int32Array(n);
      run.split.train.forEach((e, r) => {
        tokens.set(
          run.dataset.tokens.subarray(e * run.dataset.n_ctx, (e + 1) * run.dataset.n_ctx),
          r * run.dataset.n_ctx,
        );
        labels[r] = run.dataset.labels[e];
      });
      const loss64 = (w: Float64Array) => {
        const p: Record<string, Float64Array> = {};
        let o = 0;
        for (const s of run.model.specs) {
          const size = s.shape.reduce((a, b) => a * b, 1);
          p[s.name] = s.frozen ? Float64Array.from(run.params[s.name]) : w.slice(o, (o += size));
        }
        return crossEntropy64(run.model.reference(p, tokens, n), labels, run.dataset.d_vocab_out);
      };
      expect(net.initLoss).toBeCloseTo(loss64(net.wStar), 5);
      const { loss, grad } = net.lossGrad(net.wStar, 0, 0);
      expect(loss).toBeCloseTo(net.initLoss, 6);
      const g = Float64Array.from(grad);
      const h = 1e-5;
      const rng = new Rng(5);
      for (let k = 0; k < 25; k++) {
        const i = rng.int(g.length);
        const w = Float64Array.from(net.wStar);
        w[i] += h;
        const up = loss64(w);
        w[i] -= 2 * h;
        const down = loss64(w);
        expect(Math.abs(g[i] - (up - down) / (2 * h))).toBeLessThan(1e-4 + 1e-3 * Math.abs(g[i]));
      }
    } finally {
      net.dispose();
    }
  });
});

describe('llcResult', () => {
  it('is a pure function of the seed, with minibatches, and leaks no tensor', () => {
    const run = tinyRun();
    const options = llcOptions(run.split.train.length, 0, { batch_size: 8, draws: 30, burnin: 10, chains: 2 });
    const before = tf.memory().numTensors;
    const a = llcResult({ ...run, options });
    const b = llcResult({ ...run, options });
    expect(tf.memory().numTensors).toBe(before);
    expect(b).toEqual(a);
    expect(a.diverged_chains).toBe(0);
    expect(a.llc).not.toBeNull();
    expect(a.chains).toHaveLength(2);
    expect(a.chains[0].llc).not.toBe(a.chains[1].llc);
    const c = llcResult({ ...run, options: { ...options, seed: 1 } });
    expect(c.llc).not.toBe(a.llc);
    // the checkpoint's weights are not touched
    expect(run.params['embed.W_E']).toEqual(tinyRun().params['embed.W_E']);
  });

  it('flags and leaves out chains that blow up when ε is too large', () => {
    const run = tinyRun();
    const options = llcOptions(run.split.train.length, 0, { epsilon: 10, draws: 40, burnin: 0, chains: 3 });
    const before = tf.memory().numTensors;
    const r = llcResult({ ...run, options });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.diverged_chains).toBe(3);
    expect(r.llc).toBeNull();
    for (const c of r.chains) expect(c.status).toBe('diverged');
  });

  it('records nβ = n/ln n by default and refuses bad settings by key', () => {
    const o = llcOptions(1000, 7);
    expect(o.nbeta).toBeCloseTo(1000 / Math.log(1000), 10);
    expect(o.nbeta_rule).toBe('n/ln n');
    expect(o.seed).toBe(7);
    expect(llcOptions(100, 0).batch_size).toBe(100);
    expect(llcOptions(1000, 0, { nbeta: 5 }).nbeta_rule).toBe('given');
    expect(() => llcOptions(1000, 0, { gamma: -1 })).toThrow(/llc\.gamma/);
    expect(() => llcOptions(1000, 0, { batch_size: 0 })).toThrow(/llc\.batch_size/);
  });
});
