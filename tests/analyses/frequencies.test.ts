import { describe, expect, it } from 'vitest';
import { fourierBasis, frequencyRows } from '../../analyses/fourier/basis.ts';
import { FourierInputError } from '../../analyses/fourier/errors.ts';
import { checkKeyFrequencies, firstLayerIpr, fourierResult, neuronFrequencies } from '../../analyses/frequencies.ts';
import { gatherLogits, groupGrid } from '../../analyses/group-view.ts';
import { gridCrossEntropy } from '../../analyses/circuit.ts';
import { weightsView } from '../../analyses/weights-view.ts';
import type { ModelConfig, ModularOp, TaskConfig } from '../../src/config/types.ts';
import { createModel } from '../../src/models/index.ts';
import { Rng } from '../../src/rng.ts';
import { buildDataset } from '../../src/tasks/index.ts';
import { matmul, randomVector, transpose } from './fourier/oracle.ts';

/** The model a config names, sized by the task (weightsView asks the model for its views). */
function modelFor(cfg: ModelConfig, task: TaskConfig) {
  const d = buildDataset(task);
  return createModel(cfg, { d_vocab: d.d_vocab, n_ctx: d.n_ctx, d_vocab_out: d.d_vocab_out });
}

const TAU = 2 * Math.PI;
const modular = (op: ModularOp, p: number): TaskConfig => ({ kind: 'modular', op, p });

/** Dense oracle of the neuron rule's fractions: M̂ = F·M·Fᵀ of the centred table, block sums. */
function denseFractions(M: Float64Array, n: number): number[] {
  const F = fourierBasis(n);
  const mean = M.reduce((a, b) => a + b, 0) / (n * n);
  const C = M.map((x) => x - mean);
  const hat = matmul(matmul(F, C, n, n, n), transpose(F, n, n), n, n, n);
  const total = hat.reduce((a, x) => a + x * x, 0);
  const out: number[] = [];
  for (let k = 1; k <= Math.floor(n / 2); k++) {
    const rows = [0, ...frequencyRows(n, k)];
    let block = 0;
    for (const f of rows) for (const g of rows) if (f !== 0 || g !== 0) block += hat[f * n + g] ** 2;
    out.push(block / total);
  }
  return out;
}

/** Column t of acts [n², d] as an n×n table. */
function column(acts: Float64Array, n: number, d: number, t: number): Float64Array {
  return Float64Array.from({ length: n * n }, (_, c) => acts[c * d + t]);
}

describe('neuronFrequencies: the fast block energies against the dense 2-D transform', () => {
  for (const n of [7, 10, 13]) {
    it(`n = ${n}${n % 2 === 0 ? ' (Nyquist block)' : ''}: every fraction, argmax and explained fraction`, () => {
      const d = 6;
      const rng = new Rng(n);
      // Random activations with some structure (ReLU of a random table plus a planted term), and a big mean.
      const acts = new Float64Array(n * n * d);
      for (let c = 0; c < n * n; c++) {
        const i = Math.floor(c / n),
          j = c % n;
        for (let t = 0; t < d; t++)
          acts[c * d + t] = 1e3 + Math.max(0, rng.normal()) + (t % 3) * Math.cos((TAU * (t + 1) * (i + 2 * j)) / n);
      }
      const res = neuronFrequencies(acts, n, d);
      const kMax = Math.floor(n / 2);
      for (let t = 0; t < d; t++) {
        const dense = denseFractions(column(acts, n, d, t), n);
        for (let k = 1; k <= kMax; k++)
          expect(res.fractions[t * kMax + k - 1], `neuron ${t} k ${k}`).toBeCloseTo(dense[k - 1], 9);
        const best = Math.max(...dense);
        expect(res.explained[t]).toBeCloseTo(best, 9);
        expect(res.frequency[t]).toBe(dense.indexOf(best) + 1);
      }
      // Same answer reading a shuffled array through rowOfCell.
      const perm = new Rng(99).shuffle(Int32Array.from({ length: n * n }, (_, c) => c));
      const shuffled = new Float32Array(n * n * d);
      const f32 = Float32Array.from(acts);
      for (let c = 0; c < n * n; c++) shuffled.set(f32.subarray(c * d, (c + 1) * d), perm[c] * d);
      const viaRows = neuronFrequencies(shuffled, n, d, { rowOfCell: perm });
      const direct = neuronFrequencies(f32, n, d);
      expect(Array.from(viaRows.frequency)).toEqual(Array.from(direct.frequency));
      for (let t = 0; t < d; t++) expect(viaRows.explained[t]).toBeCloseTo(direct.explained[t], 12);
    });
  }
});

describe('neuronFrequencies: planted neurons', () => {
  it('finds the planted frequencies with their analytic explained fractions, clusters at 0.85', () => {
    const n = 31;
    const d = 7;
    const neuron = (t: number, i: number, j: number): number => {
      const x = (k: number, v: number) => (TAU * k * v) / n;
      switch (t) {
        case 0:
          return Math.cos(x(4, i + j) + 0.3); // pure sum of angles: 1
        case 1:
          return Math.cos(x(9, i)) * Math.sin(x(9, j) + 1); // product of one frequency: 1
        case 2:
          return Math.cos(x(13, i + j)) + 0.3 * Math.cos(x(2, i)); // 1/1.09
        case 3:
          return Math.cos(x(13, i - j)) + 0.5 * Math.sin(x(2, j)); // 1/1.25 = 0.8: unclustered
        case 4:
          return 3.7; // constant: dead
        case 5:
          return (Math.cos(x(6, i) + 0.4) + Math.cos(x(6, j) - 1.1)) ** 2; // Gromov neuron: 0.8
        default:
          return Math.cos(x(4, i + j) - 2); // a second neuron of frequency 4
      }
    };
    const acts = new Float64Array(n * n * d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) for (let t = 0; t < d; t++) acts[(i * n + j) * d + t] = neuron(t, i, j);
    const res = neuronFrequencies(acts, n, d);
    expect(Array.from(res.frequency)).toEqual([4, 9, 13, 13, 0, 6, 4]);
    const expected = [1, 1, 1 / 1.09, 0.8, 0, 0.8, 1];
    expected.forEach((e, t) => expect(res.explained[t], `neuron ${t}`).toBeCloseTo(e, 12));
    expect(res.keyFrequencies).toEqual([4, 6, 9, 13]);
    expect(res.clusters).toEqual([
      { frequency: 4, neurons: 2, mean_explained: expect.closeTo(1, 12) },
      { frequency: 9, neurons: 1, mean_explained: expect.closeTo(1, 12) },
      { frequency: 13, neurons: 1, mean_explained: expect.closeTo(1 / 1.09, 12) },
    ]);
    expect(res.unclustered).toBe(3);
    // A lower threshold admits the 0.8 neurons.
    expect(neuronFrequencies(acts, n, d, { threshold: 0.75 }).unclustered).toBe(1);
  });

  it('even n: a (−1)^(i+j) neuron has the Nyquist frequency with fraction 1', () => {
    const n = 12;
    const acts = Float64Array.from({ length: n * n * 2 }, (_, q) => {
      const c = Math.floor(q / 2),
        i = Math.floor(c / n),
        j = c % n;
      return q % 2 === 0 ? ((i + j) % 2 === 0 ? 2 : -1) : Math.cos((TAU * 5 * (i + j)) / n);
    });
    const res = neuronFrequencies(acts, n, 2);
    expect(Array.from(res.frequency)).toEqual([6, 5]);
    expect(res.explained[0]).toBeCloseTo(1, 12);
    expect(res.explained[1]).toBeCloseTo(1, 12);
  });

  it('rejects bad shapes and thresholds', () => {
    expect(() => neuronFrequencies(new Float64Array(10), 3, 2)).toThrow(/neuron activations length: expected 18/);
    expect(() => neuronFrequencies(new Float64Array(18), 3, 2, { threshold: 1.5 })).toThrow(FourierInputError);
    expect(() =>
      neuronFrequencies(new Float64Array(18), 3, 2, { rowOfCell: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 9]) }),
    ).toThrow(/rowOfCell\[8\]/);
    expect(() => checkKeyFrequencies([3, 3], 11)).toThrow(/no repeats/);
    expect(() => checkKeyFrequencies([6], 11)).toThrow(/key frequency \[0\]: expected an integer in 1 … 5/);
  });
});

describe('firstLayerIpr: Gromov IPR of the complex DFT', () => {
  it('matches Σ|ŵ|⁴/(Σ|ŵ|²)² with ŵ the explicit complex DFT (odd and even n)', () => {
    for (const n of [9, 10]) {
      const m = 4;
      const X = randomVector(n, n * m); // [n, m], column = neuron
      const perNeuron: number[] = [];
      for (let t = 0; t < m; t++) {
        let s2 = 0,
          s4 = 0;
        for (let k = 0; k < n; k++) {
          let re = 0,
            im = 0;
          for (let x = 0; x < n; x++) {
            re += X[x * m + t] * Math.cos((TAU * k * x) / n);
            im -= X[x * m + t] * Math.sin((TAU * k * x) / n);
          }
          const mag2 = re * re + im * im;
          s2 += mag2;
          s4 += mag2 * mag2;
        }
        perNeuron.push(s4 / (s2 * s2));
      }
      expect(firstLayerIpr(X, n, m)).toBeCloseTo(perNeuron.reduce((a, b) => a + b) / m, 12);
    }
  });
});

describe('weightsView against dense formulas', () => {
  it("transformer (mul mod 7): group-ordered W_E', W_out·W_U and W_E'·ΣW_V W_O·W_in", () => {
    const p = 7,
      n = 6,
      g = 3; // 3 is the smallest generator of Z_7^*
    const cfg: ModelConfig = {
      kind: 'transformer',
      n_layers: 1,
      d_model: 8,
      n_heads: 2,
      d_head: 3,
      d_mlp: 5,
      act: 'relu',
      layer_norm: false,
      attn_bias: false,
      init_scale: 1,
    };
    const params = createModel(cfg, { d_vocab: p + 1, n_ctx: 3, d_vocab_out: p }).init(new Rng(5));
    const v = weightsView(params, modelFor(cfg, modular('mul', p)), modular('mul', p));
    const res = (x: number) => {
      let r = 1;
      for (let i = 0; i < x; i++) r = (r * g) % p;
      return r;
    };
    const [D, H, E, M] = [8, 2, 3, 5];
    const P = (name: string, ...idx: number[]) => {
      const shape: Record<string, number[]> = {
        'embed.W_E': [p + 1, D],
        'unembed.W_U': [D, p],
        'blocks.0.mlp.W_out': [M, D],
        'blocks.0.mlp.W_in': [D, M],
        'blocks.0.attn.W_V': [H, D, E],
        'blocks.0.attn.W_O': [H, E, D],
      };
      let off = 0;
      shape[name].forEach((s, a) => (off = off * s + idx[a]));
      return params[name][off];
    };
    for (let x = 0; x < n; x++)
      for (let e = 0; e < D; e++) expect(v.embedding[x * D + e]).toBe(P('embed.W_E', res(x), e));
    for (let m = 0; m < M; m++) {
      for (let x = 0; x < n; x++) {
        let s = 0;
        for (let e = 0; e < D; e++) s += P('blocks.0.mlp.W_out', m, e) * P('unembed.W_U', e, res(x));
        expect(v.logitMap[m * n + x]).toBeCloseTo(s, 10);
      }
    }
    for (let x = 0; x < n; x++) {
      for (let m = 0; m < M; m++) {
        let s = 0;
        for (let h = 0; h < H; h++)
          for (let d1 = 0; d1 < D; d1++)
            for (let f = 0; f < E; f++)
              for (let d2 = 0; d2 < D; d2++)
                s +=
                  P('embed.W_E', res(x), d1) *
                  P('blocks.0.attn.W_V', h, d1, f) *
                  P('blocks.0.attn.W_O', h, f, d2) *
                  P('blocks.0.mlp.W_in', d2, m);
        expect(v.firstLayer[x * M + m]).toBeCloseTo(s, 10);
      }
    }
  });

  it('mlp (add mod 5): embedding, the operand-a block of the first layer, W_U as the logit map', () => {
    const p = 5;
    const cfg: ModelConfig = { kind: 'mlp', d_embed: 3, hidden: [4, 6], act: 'relu', init_scale: 1 };
    const params = createModel(cfg, { d_vocab: p + 1, n_ctx: 3, d_vocab_out: p }).init(new Rng(2));
    const v = weightsView(params, modelFor(cfg, modular('add', p)), modular('add', p));
    expect(v.neurons).toBe(6);
    expect(v.firstNeurons).toBe(4);
    for (let x = 0; x < p; x++) {
      for (let t = 0; t < 4; t++) {
        let s = 0;
        for (let e = 0; e < 3; e++) s += params['embed.W_E'][x * 3 + e] * params['mlp.0.W'][e * 4 + t];
        expect(v.firstLayer[x * 4 + t]).toBeCloseTo(s, 6);
      }
      for (let j = 0; j < 6; j++) expect(v.logitMap[j * p + x]).toBe(params['unembed.W_U'][j * p + x]);
    }
  });

  it('names a missing or mis-sized tensor', () => {
    const cfg: ModelConfig = { kind: 'quadratic', hidden: 4, init_scale: 1 };
    expect(() => weightsView({ W: new Float32Array(40) }, modelFor(cfg, modular('add', 5)), modular('add', 5))).toThrow(
      'parameter "V": expected present in the checkpoint, got "missing"',
    );
    expect(() =>
      weightsView(
        { W: new Float32Array(41), V: new Float32Array(20) },
        modelFor(cfg, modular('add', 5)),
        modular('add', 5),
      ),
    ).toThrow(/parameter "W" length: expected 40 numbers, got 41/);
    expect(() => weightsView({}, modelFor(cfg, modular('x2+y2', 5)), modular('x2+y2', 5))).toThrow(FourierInputError);
  });
});

/**
 * Gromov's analytic solution of the quadratic network, written in the group's coordinates: neuron
 * j has a frequency k and random phases φ₁, φ₂; W[j, a] = cos(2πk·x(a)/n + φ₁),
 * W[j, p + b] = cos(2πk·y(b)/n + φ₂), V[q, j] = cos(−2πk·x(q)/n − φ₁ − φ₂), where x, y are the
 * group coordinates of operand a, b and class q (x = y = identity for add; x = log_g, y = log_g for
 * mul; rows and columns of the residue 0 stay 0).
 */
function gromovNetwork(p: number, op: 'add' | 'mul', freqs: number[], perFreq: number, seed: number) {
  const n = op === 'add' ? p : p - 1;
  const log = new Int32Array(p).fill(-1);
  if (op === 'add') for (let x = 0; x < p; x++) log[x] = x;
  else {
    // Brute-force discrete log base the smallest generator.
    let g = 2;
    for (; ; g++) {
      const seen = new Set<number>();
      for (let i = 0, x = 1; i < p - 1; i++, x = (x * g) % p) seen.add(x);
      if (seen.size === p - 1) break;
    }
    for (let i = 0, x = 1; i < p - 1; i++, x = (x * g) % p) log[x] = i;
  }
  const h = freqs.length * perFreq;
  const W = new Float32Array(h * 2 * p);
  const V = new Float32Array(p * h);
  const rng = new Rng(seed);
  const planted: number[] = [];
  for (let j = 0; j < h; j++) {
    const k = freqs[Math.floor(j / perFreq)];
    planted.push(k);
    const phi1 = TAU * rng.uniform();
    const phi2 = TAU * rng.uniform();
    for (let a = 0; a < p; a++) {
      if (log[a] < 0) continue;
      W[j * 2 * p + a] = Math.cos((TAU * k * log[a]) / n + phi1);
      W[j * 2 * p + p + a] = Math.cos((TAU * k * log[a]) / n + phi2);
      V[a * h + j] = Math.cos((-TAU * k * log[a]) / n - phi1 - phi2);
    }
  }
  return { n, h, params: { W, V }, planted };
}

describe("Gromov's analytic quadratic network", () => {
  for (const [op, p, freqs] of [
    ['add', 23, [2, 5, 9]],
    ['mul', 23, [3, 7, 11]],
  ] as const) {
    it(`${op} mod ${p}, frequencies ${freqs.join(', ')}: 100% accuracy, exactly the planted frequencies, norms only there`, () => {
      const task = modular(op, p);
      const ds = buildDataset(task);
      const grid = groupGrid(ds);
      const { n, h, params } = gromovNetwork(p, op, [...freqs], 200, 17);
      const cfg: ModelConfig = { kind: 'quadratic', hidden: h, init_scale: 1 };
      const model = createModel(cfg, { d_vocab: p + 1, n_ctx: 3, d_vocab_out: p });
      const logits = model.reference(
        { W: Float64Array.from(params.W), V: Float64Array.from(params.V) },
        ds.tokens,
        ds.n,
      );

      // Accuracy: on every pair for add, on the group's pairs for mul (zero operands are outside).
      const inGroup = Array.from({ length: ds.n }, (_, e) => e).filter((e) => grid.cellOfExample[e] >= 0);
      const correct = inGroup.filter((e) => {
        const row = Array.from(logits.subarray(e * p, (e + 1) * p));
        return row.indexOf(Math.max(...row)) === ds.labels[e];
      }).length;
      expect(inGroup.length).toBe(op === 'add' ? p * p : (p - 1) ** 2);
      expect(correct).toBe(inGroup.length);
      expect(gridCrossEntropy(gatherLogits(grid, logits), n).acc).toBe(1);

      // Neuron rule on hook_hidden = (W·x)², computed here from the weights, read in dataset order.
      const acts = new Float64Array(ds.n * h);
      for (let e = 0; e < ds.n; e++) {
        const a = ds.operands!.a[e],
          b = ds.operands!.b[e];
        for (let j = 0; j < h; j++) acts[e * h + j] = (params.W[j * 2 * p + a] + params.W[j * 2 * p + p + b]) ** 2;
      }
      const rule = neuronFrequencies(acts, n, h, { rowOfCell: grid.exampleOfCell });
      expect(rule.keyFrequencies).toEqual([...freqs]);
      for (let j = 0; j < h; j++) {
        const k = freqs[Math.floor(j / 200)];
        expect(rule.frequency[j]).toBe(k);
        // (cos x + cos y)² = 1 + ½cos 2x + ½cos 2y + cos(x+y) + cos(x−y): n² in block k, n²/4 in
        // block 2k, so 0.8; at the Nyquist frequency it is a pure (−1)^(i+j) neuron: 1.
        expect(rule.explained[j]).toBeCloseTo(2 * k === n ? 1 : 0.8, 6); // float32 weights
      }

      const result = fourierResult(weightsView(params, modelFor(cfg, task), task), rule.keyFrequencies);
      const K = Math.floor(n / 2);
      expect(result.embed_norms.length).toBe(K + 1);
      const maxE = Math.max(...result.embed_norms);
      const maxL = Math.max(...result.logit_map_norms);
      for (let k = 0; k <= K; k++) {
        if ((freqs as readonly number[]).includes(k)) {
          expect(result.embed_norms[k]).toBeGreaterThan(0.1 * maxE);
          expect(result.logit_map_norms[k]).toBeGreaterThan(0.1 * maxL);
        } else {
          expect(result.embed_norms[k], `embed k=${k}`).toBeLessThan(1e-5 * maxE); // float32 weights
          expect(result.logit_map_norms[k], `logit k=${k}`).toBeLessThan(1e-5 * maxL);
        }
      }
      expect(result.non_fourier_energy).toBeLessThan(1e-10);
      // 3 non-zero of K entries: Gini ≥ 1 − 3/K, with equality for equal norms (every neuron of
      // frequency k < n/2 has norm √(n/2) there; float32 round-off elsewhere costs ~1e-7).
      expect(result.gini_embed).toBeGreaterThanOrEqual(1 - 3 / K - 1e-5);
      expect(result.gini_logit_map).toBeGreaterThanOrEqual(1 - 3 / K - 1e-5);
      if (op === 'add') expect(result.gini_embed).toBeCloseTo(1 - 3 / K, 5);
      // IPR of a one-frequency neuron: 1/2 (its ±k pair); a Nyquist neuron: 1.
      const nyquistShare = freqs.filter((k) => 2 * k === n).length / freqs.length;
      expect(result.ipr_mean).toBeCloseTo(0.5 + 0.5 * nyquistShare, 6);
      expect(result.key_frequencies).toBeUndefined();
      expect(
        fourierResult(weightsView(params, modelFor(cfg, task), task), rule.keyFrequencies, {
          reportKeyFrequencies: true,
        }).key_frequencies,
      ).toEqual([...freqs]);
    });
  }
});
