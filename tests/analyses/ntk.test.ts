import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/config/types.ts';
import { UserError } from '../../src/errors.ts';
import { countParams, createModel, trainedSpecs } from '../../src/models/index.ts';
import type { Model, ModelDims } from '../../src/models/types.ts';
import { Rng } from '../../src/rng.ts';
import { buildDataset } from '../../src/tasks/index.ts';
import { makeSplit } from '../../src/tasks/split.ts';
import {
  chooseProbe,
  empiricalNtk,
  empiricalNtkPerExample,
  kernelStats,
  ntkResult,
  ntkTargets,
  probeBatch,
  type NtkKernels,
} from '../../analyses/ntk.ts';
import { randomBatch, randomParams, setupTf, to64 } from '../models/helpers.ts';

beforeAll(setupTf);

const P = 5;
const MODULAR: ModelDims = { d_vocab: P + 1, n_ctx: 3, d_vocab_out: P };
const LONG: ModelDims = { d_vocab: 6, n_ctx: 5, d_vocab_out: 4 };
const BITS: ModelDims = { d_vocab: 2, n_ctx: 4, d_vocab_out: 2 };
const TBASE = {
  kind: 'transformer',
  n_layers: 1,
  d_model: 8,
  n_heads: 2,
  d_head: 4,
  d_mlp: 12,
  act: 'relu',
  layer_norm: false,
  attn_bias: false,
  init_scale: 1,
} as const;
const VARIANTS: Record<string, { cfg: ModelConfig; dims: ModelDims }> = {
  'transformer (nanda: 1 layer, relu, no LN)': { cfg: TBASE, dims: MODULAR },
  'transformer (2 layers, LayerNorm, gelu)': {
    cfg: { ...TBASE, n_layers: 2, layer_norm: true, act: 'gelu' },
    dims: MODULAR,
  },
  'transformer (1 layer, n_ctx 5)': { cfg: { ...TBASE, act: 'gelu' }, dims: LONG },
  'transformer (trained attention biases)': { cfg: { ...TBASE, attn_bias: true }, dims: MODULAR },
  'mlp (modular: reads a and b)': {
    cfg: { kind: 'mlp', d_embed: 4, hidden: [10, 6], act: 'gelu', init_scale: 1 },
    dims: MODULAR,
  },
  'mlp (every position, tanh)': {
    cfg: { kind: 'mlp', d_embed: 3, hidden: [7], act: 'tanh', init_scale: 1 },
    dims: BITS,
  },
  quadratic: { cfg: { kind: 'quadratic', hidden: 9, init_scale: 1 }, dims: MODULAR },
};
const M = 7; // probes

/** A unit projection over the model's classes. */
function projection(model: Model, seed: number): Float64Array {
  const rng = new Rng(seed);
  const r = Float64Array.from({ length: model.dims.d_vocab_out }, () => rng.normal());
  const norm = Math.hypot(...r);
  return r.map((v) => v / norm);
}

/** Probe tokens valid for every model (operands < p at positions 0 and 1 for the quadratic one). */
function probeTokens(model: Model, seed: number): Int32Array {
  if (model.config.kind === 'quadratic') {
    const p = model.dims.d_vocab_out;
    const rng = new Rng(seed);
    const tokens = new Int32Array(M * 3);
    for (let i = 0; i < M; i++) tokens.set([rng.int(p), rng.int(p), p], i * 3);
    return tokens;
  }
  return randomBatch(model, M, seed).tokens;
}

/**
 * Oracle: the Jacobians of f_r = r·logits and f_0 = logits[0] by central differences (step h) of
 * the float64 reference forward, one entry of each TRAINED parameter at a time (frozen tensors,
 * e.g. attention biases without attn_bias, are not parameters), then K = J·Jᵀ in float64.
 */
function finiteDifferenceNtk(
  model: Model,
  params: Record<string, Float32Array>,
  tokens: Int32Array,
  r: Float64Array,
  h = 1e-5,
): NtkKernels {
  const C = model.dims.d_vocab_out;
  const p64 = to64(params);
  const trained = trainedSpecs(model.specs);
  const nParams = countParams(trained);
  const Jr = new Float64Array(M * nParams);
  const J0 = new Float64Array(M * nParams);
  let col = 0;
  for (const { name } of trained) {
    const t = p64[name];
    for (let j = 0; j < t.length; j++, col++) {
      const v = t[j];
      t[j] = v + h;
      const up = model.reference(p64, tokens, M);
      t[j] = v - h;
      const down = model.reference(p64, tokens, M);
      t[j] = v;
      for (let i = 0; i < M; i++) {
        let dr = 0;
        for (let c = 0; c < C; c++) dr += r[c] * (up[i * C + c] - down[i * C + c]);
        Jr[i * nParams + col] = dr / (2 * h);
        J0[i * nParams + col] = (up[i * C] - down[i * C]) / (2 * h);
      }
    }
  }
  const gram = (J: Float64Array) => {
    const K = new Float64Array(M * M);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < M; j++) {
        let s = 0;
        for (let k = 0; k < nParams; k++) s += J[i * nParams + k] * J[j * nParams + k];
        K[i * M + j] = s;
      }
    }
    return K;
  };
  return { m: M, projection: gram(Jr), first_output: gram(J0) };
}

/** |a − b| ≤ rtol·max|b| entrywise; returns the worst ratio |a − b| / max|b|. */
function expectKernelsClose(a: Float64Array, b: Float64Array, rtol: number, what: string): number {
  expect(a.length, `${what}: size`).toBe(b.length);
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  expect(scale, `${what}: kernel is not all zero`).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  if (!(worst <= rtol)) expect.fail(`${what}: max |ΔK| / max |K| = ${worst}, tolerance ${rtol}`);
  return worst;
}

describe('empiricalNtk', () => {
  for (const [label, { cfg, dims }] of Object.entries(VARIANTS)) {
    it(`${label}: both kernels match J·Jᵀ from float64 finite differences (≤ 1e-5 of max |K|)`, () => {
      const model = createModel(cfg, dims);
      const params = randomParams(model, 21);
      const tokens = probeTokens(model, 22);
      const r = projection(model, 23);
      const K = empiricalNtk(model, params, tokens, r);
      const oracle = finiteDifferenceNtk(model, params, tokens, r);
      expect(K.m).toBe(M);
      expectKernelsClose(K.projection, oracle.projection, 1e-5, `${label} projection`);
      expectKernelsClose(K.first_output, oracle.first_output, 1e-5, `${label} first output`);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < M; j++) expect(K.projection[i * M + j]).toBe(K.projection[j * M + i]);
    });
  }

  it('agrees with the per-example path through Model.forward (≤ 1e-5 of max |K|)', () => {
    for (const label of [
      'transformer (nanda: 1 layer, relu, no LN)',
      'transformer (trained attention biases)',
      'transformer (2 layers, LayerNorm, gelu)',
      'quadratic',
    ]) {
      const model = createModel(VARIANTS[label].cfg, VARIANTS[label].dims);
      const params = randomParams(model, 31);
      const tokens = probeTokens(model, 32);
      const r = projection(model, 33);
      const fast = empiricalNtk(model, params, tokens, r);
      const direct = empiricalNtkPerExample(model, params, tokens, r);
      for (const which of ['projection', 'first_output'] as const) {
        expectKernelsClose(fast[which], direct[which], 1e-5, `${label}: fast vs per-example ${which}`);
      }
    }
  });

  it('leaks no tensor (fast path, per-example path, and a failed call)', () => {
    const model = createModel(TBASE, MODULAR);
    const params = randomParams(model, 41);
    const tokens = probeTokens(model, 42);
    const r = projection(model, 43);
    const before = tf.memory().numTensors;
    empiricalNtk(model, params, tokens, r);
    expect(tf.memory().numTensors, 'fast path').toBe(before);
    empiricalNtkPerExample(model, params, tokens, r);
    expect(tf.memory().numTensors, 'per-example path').toBe(before);
    expect(() => empiricalNtk(drifted(model), params, tokens, r)).toThrow(/disagrees with Model.forward/);
    expect(tf.memory().numTensors, 'after a failed call').toBe(before);
  });

  it('refuses to run when its forward no longer mirrors the model, or misses a parameter', () => {
    const model = createModel(VARIANTS['mlp (modular: reads a and b)'].cfg, MODULAR);
    const params = randomParams(model, 51);
    const tokens = probeTokens(model, 52);
    const r = projection(model, 53);
    expect(() => empiricalNtk(drifted(model), params, tokens, r)).toThrow(/disagrees with Model.forward/);
    const extra: Model = { ...model, specs: [...model.specs, { name: 'extra.b', shape: [3] }] };
    expect(() => empiricalNtk(extra, { ...params, 'extra.b': new Float32Array(3) }, tokens, r)).toThrow(
      /covers 0 of the 3 entries of 'extra.b'/,
    );
  });

  it('rejects bad input with the argument and value', () => {
    const model = createModel(TBASE, MODULAR);
    const params = randomParams(model, 61);
    const tokens = probeTokens(model, 62);
    const r = projection(model, 63);
    expect(() => empiricalNtk(model, params, tokens.subarray(1), r)).toThrow(UserError);
    const bad = Int32Array.from(tokens);
    bad[4] = P + 1;
    expect(() => empiricalNtk(model, params, bad, r)).toThrow(
      /token 6 of probe 1, position 1 is outside the vocabulary \[0, 6\)/,
    );
    expect(() => empiricalNtk(model, params, tokens, r.subarray(1))).toThrow(/expected 5 entries/);
    const { 'blocks.0.mlp.W_in': _, ...missing } = params;
    expect(() => empiricalNtk(model, missing, tokens, r)).toThrow(/'blocks.0.mlp.W_in' is missing/);
  });
});

/** The same model with its forward's logits scaled: what a model change not mirrored in the NTK code looks like. */
function drifted(model: Model): Model {
  return {
    ...model,
    forward: (params, input, opts) => {
      const out = model.forward(params, input, opts);
      const logits = tf.mul(out.logits, 1.5) as tf.Tensor2D;
      out.logits.dispose();
      return { logits, cache: out.cache };
    },
  };
}

describe('kernelStats', () => {
  const rng = new Rng(7);
  const m = 6;
  const randomKernel = (): Float64Array => {
    // PSD like a real NTK: A·Aᵀ with A [m, 4]
    const A = Float64Array.from({ length: m * 4 }, () => rng.normal());
    const K = new Float64Array(m * m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) for (let k = 0; k < 4; k++) K[i * m + j] += A[i * 4 + k] * A[j * 4 + k];
    return K;
  };
  const scaled = (K: Float64Array, c: number) => K.map((v) => v * c);
  const y = Float64Array.from({ length: m }, () => rng.normal());

  it('is 0 distance and 0 change for identical kernels', () => {
    const K = randomKernel();
    const s = kernelStats(K, Float64Array.from(K), y);
    expect(s.kernel_distance).toBeLessThan(1e-15);
    expect(s.change_abs).toBe(0);
    expect(s.change_rel).toBe(0);
  });

  it('matches a hand-computed 2×2 case', () => {
    // ⟨I, 11ᵀ⟩ = 2, ‖I‖ = √2, ‖11ᵀ‖ = 2 → S = 1 − 1/√2; ‖I − 11ᵀ‖ = √2, ÷ 2
    const s = kernelStats([1, 0, 0, 1], [1, 1, 1, 1], [1, 0]);
    expect(s.kernel_distance).toBeCloseTo(1 - Math.SQRT1_2, 15);
    expect(s.change_abs).toBeCloseTo(Math.SQRT2, 15);
    expect(s.change_rel).toBeCloseTo(Math.SQRT2 / 2, 15);
    expect(s.alignment).toBeCloseTo(1 / Math.SQRT2, 15); // yᵀIy = 1, ‖I‖ = √2, ‖y‖² = 1
    expect(s.trace).toBe(2);
  });

  it('distance is invariant to scaling either kernel, and lies in [0, 2]', () => {
    for (let trial = 0; trial < 20; trial++) {
      const K = randomKernel();
      const K0 = randomKernel();
      const d = kernelStats(K, K0, y).kernel_distance;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2);
      expect(kernelStats(scaled(K, 37.5), K0, y).kernel_distance).toBeCloseTo(d, 13);
      expect(kernelStats(K, scaled(K0, 1e-3), y).kernel_distance).toBeCloseTo(d, 13);
    }
    const K = randomKernel();
    expect(kernelStats(scaled(K, -2), K, y).kernel_distance).toBe(2); // opposite
    expect(kernelStats([1, 0, 0, 0], [0, 0, 0, 1], [1, 1]).kernel_distance).toBe(1); // orthogonal
  });

  it('alignment of K = yyᵀ is 1, plain and centred; invariant to scaling K and y', () => {
    const yy = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) yy[i * m + j] = y[i] * y[j];
    const s = kernelStats(yy, randomKernel(), y);
    expect(s.alignment).toBeCloseTo(1, 14);
    expect(s.alignment_centred).toBeCloseTo(1, 14);
    const K = randomKernel();
    const a = kernelStats(K, K, y);
    const b = kernelStats(
      scaled(K, 9),
      K,
      y.map((v) => v * -3),
    );
    expect(b.alignment).toBeCloseTo(a.alignment, 14);
    expect(b.alignment_centred).toBeCloseTo(a.alignment_centred, 14);
    // centring removes a constant shift of the labels
    expect(
      kernelStats(
        K,
        K,
        y.map((v) => v + 5),
      ).alignment_centred,
    ).toBeCloseTo(a.alignment_centred, 12);
  });

  it('centred alignment equals a dense H·K·H computation', () => {
    const K = randomKernel();
    const H = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) H[i * m + j] = (i === j ? 1 : 0) - 1 / m;
    const mul = (A: Float64Array, B: Float64Array) => {
      const C = new Float64Array(m * m);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) for (let k = 0; k < m; k++) C[i * m + j] += A[i * m + k] * B[k * m + j];
      return C;
    };
    const Kc = mul(mul(H, K), H);
    const yc = new Float64Array(m);
    for (let i = 0; i < m; i++) for (let k = 0; k < m; k++) yc[i] += H[i * m + k] * y[k];
    let num = 0,
      normKc = 0,
      ycyc = 0;
    for (let i = 0; i < m; i++) {
      ycyc += yc[i] * yc[i];
      for (let j = 0; j < m; j++) {
        num += yc[i] * Kc[i * m + j] * yc[j];
        normKc += Kc[i * m + j] ** 2;
      }
    }
    expect(kernelStats(K, K, y).alignment_centred).toBeCloseTo(num / (Math.sqrt(normKc) * ycyc), 13);
  });

  it('gives 0, never NaN, for an all-zero kernel or label vector', () => {
    const K = randomKernel();
    const zeros = new Float64Array(m * m);
    expect(kernelStats(zeros, zeros, y)).toEqual({
      kernel_distance: 0,
      change_abs: 0,
      change_rel: 0,
      alignment: 0,
      alignment_centred: 0,
      trace: 0,
    });
    expect(kernelStats(K, zeros, y).kernel_distance).toBe(1);
    const s = kernelStats(K, K, new Float64Array(m).fill(2)); // constant labels: nothing to centre
    expect(s.alignment_centred).toBe(0);
    expect(s.alignment).toBeGreaterThan(0);
  });

  it('rejects mismatched sizes and non-finite entries', () => {
    expect(() => kernelStats([1, 2, 3], [1, 2, 3, 4], [1, 2])).toThrow(/2×2 = 4 entries/);
    expect(() => kernelStats([1, NaN, 0, 1], [1, 0, 0, 1], [1, 2])).toThrow(/K\[1\] is NaN/);
  });
});

describe('probe set and targets', () => {
  const dataset = buildDataset({ kind: 'modular', op: 'add', p: 13 });
  const split = makeSplit(dataset.n, { train_fraction: 0.3, seed: 4, mode: 'shuffle' });

  it('draws a fixed, recorded, split-stratified probe and a unit projection', () => {
    const probe = chooseProbe(dataset, split, 11, 20);
    expect(chooseProbe(dataset, split, 11, 20)).toEqual(probe);
    expect(chooseProbe(dataset, split, 12, 20).indices).not.toEqual(probe.indices);
    expect(probe.n).toBe(20);
    expect(probe.seed).toBe(11);
    const train = new Set(split.train);
    const fromTrain = probe.indices.filter((i) => train.has(i));
    expect(fromTrain.length).toBe(Math.round((20 * split.train.length) / dataset.n)); // 20·50/169 → 6
    expect(probe.indices.slice(0, fromTrain.length)).toEqual(fromTrain); // train block first
    const isAscending = (a: number[]) => a.every((v, i) => i === 0 || v > a[i - 1]);
    expect(isAscending(fromTrain) && isAscending(probe.indices.slice(fromTrain.length))).toBe(true);
    expect(new Set(probe.indices).size).toBe(20);
    expect(probe.projection.length).toBe(13);
    expect(Math.hypot(...probe.projection)).toBeCloseTo(1, 14);
  });

  it('takes every example when asked for more than the dataset holds, and rejects bad arguments', () => {
    const all = chooseProbe(dataset, split, 1, 1000);
    expect(all.n).toBe(dataset.n);
    expect([...all.indices].sort((a, b) => a - b)).toEqual(Array.from({ length: dataset.n }, (_, i) => i));
    expect(() => chooseProbe(dataset, split, 1, 1)).toThrow(/ntk probe size: expected an integer ≥ 2, got 1/);
    expect(() => chooseProbe(dataset, split, -1)).toThrow(UserError);
  });

  it('probeBatch and ntkTargets: the probes’ tokens and centred one-hot targets', () => {
    const probe = chooseProbe(dataset, split, 3, 10);
    const batch = probeBatch(dataset, probe);
    probe.indices.forEach((idx, i) => {
      expect([...batch.tokens.subarray(i * 3, i * 3 + 3)]).toEqual([...dataset.tokens.subarray(idx * 3, idx * 3 + 3)]);
      expect(batch.labels[i]).toBe(dataset.labels[idx]);
    });
    const r = [0.5, -0.5, 1, 0];
    const t = ntkTargets(Int32Array.from([0, 2, 3]), r); // mean(r) = 0.25
    expect([...t.projection]).toEqual([0.25, 0.75, -0.25]);
    expect([...t.first_output]).toEqual([0.75, -0.25, -0.25]);
    expect(() => ntkTargets(Int32Array.from([4]), r)).toThrow(/label 4 of probe 0 is outside \[0, 4\)/);
  });

  it('ntkResult: a checkpoint against itself has distance 0; alignment of the label-built kernel is 1', () => {
    const probe = chooseProbe(dataset, split, 5, 12);
    const { labels } = probeBatch(dataset, probe);
    const targets = ntkTargets(labels, probe.projection);
    const outer = (v: Float64Array) => Float64Array.from({ length: 144 }, (_, k) => v[Math.floor(k / 12)] * v[k % 12]);
    const K: NtkKernels = {
      m: 12,
      projection: outer(targets.projection),
      first_output: outer(targets.first_output.map((v, i) => v + i)),
    };
    const res = ntkResult(K, K, targets);
    expect(res.projection.kernel_distance).toBeLessThan(1e-15);
    expect(res.first_output.change_abs).toBe(0);
    expect(res.projection.alignment).toBeCloseTo(1, 14);
    expect(() => ntkResult(K, { ...K, m: 11 }, targets)).toThrow(/probe sizes differ/);
  });
});
