import { describe, expect, it } from 'vitest';
import {
  circuitResult,
  cosineCoefficients,
  gridCrossEntropy,
  projectionTable,
  singleFrequencyExcludedLosses,
  sumAngleCoefficients,
} from '../../analyses/circuit.ts';
import { cosRow, hasNyquist, sinRow } from '../../analyses/fourier/basis.ts';
import { FourierInputError } from '../../analyses/fourier/errors.ts';
import { fourierTransform2dBatched } from '../../analyses/fourier/transform.ts';
import { neuronFrequencies } from '../../analyses/frequencies.ts';
import { gatherLogits, gridTrainMask, groupGrid } from '../../analyses/group-view.ts';
import type { ModularOp } from '../../src/config/types.ts';
import { Rng } from '../../src/rng.ts';
import { buildDataset } from '../../src/tasks/index.ts';

const TAU = 2 * Math.PI;

/** Unit vector over the n² pairs ∝ f(a + b), built and normalised explicitly; null if f ≡ 0. */
function direction(n: number, f: (s: number) => number): Float64Array | null {
  const u = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) u[a * n + b] = f(a + b);
  const norm = Math.sqrt(u.reduce((acc, x) => acc + x * x, 0));
  return norm < 1e-9 ? null : u.map((x) => x / norm);
}

/** Dense P_k(L) [n², n] from explicitly built u_k, v_k (v dropped when it vanishes: Nyquist). */
function denseProjection(L: Float64Array, n: number, k: number): Float64Array {
  const P = new Float64Array(n * n * n);
  for (const f of [(s: number) => Math.cos((TAU * k * s) / n), (s: number) => Math.sin((TAU * k * s) / n)]) {
    const u = direction(n, f);
    if (!u) continue;
    for (let c = 0; c < n; c++) {
      let dot = 0;
      for (let q = 0; q < n * n; q++) dot += u[q] * L[q * n + c];
      for (let q = 0; q < n * n; q++) P[q * n + c] += u[q] * dot;
    }
  }
  return P;
}

/** −log softmax written out plainly, label (a + b) mod n, over the cells where keep is true. */
function denseCe(X: Float64Array, n: number, keep: (cell: number) => boolean): { loss: number; acc: number } {
  let loss = 0,
    correct = 0,
    count = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const cell = a * n + b;
      if (!keep(cell)) continue;
      const row = Array.from(X.subarray(cell * n, (cell + 1) * n));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((acc, x) => acc + Math.exp(x - m), 0));
      loss += lse - row[(a + b) % n];
      if (row.indexOf(m) === (a + b) % n) correct++;
      count++;
    }
  }
  return { loss: loss / count, acc: correct / count };
}

function randomLogits(n: number, seed: number, scale = 2): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n * n * n }, () => scale * rng.normal());
}

function randomMask(n: number, seed: number, fraction = 0.4): Uint8Array {
  const rng = new Rng(seed);
  const mask = Uint8Array.from({ length: n * n }, () => (rng.uniform() < fraction ? 1 : 0));
  mask[0] = 1;
  return mask;
}

describe('projections against a dense oracle', () => {
  for (const n of [7, 10, 6]) {
    it(`n = ${n}: u_kᵀL, v_kᵀL, P_k(L) and α_w${hasNyquist(n) ? ' (Nyquist included)' : ''}`, () => {
      const L = randomLogits(n, n);
      const co = sumAngleCoefficients(L, n);
      const kMax = Math.floor(n / 2);
      // The spec's formulas on the 2-D transform L̂ [n, n, n] (f transforms a, g transforms b).
      const hat = fourierTransform2dBatched(L, n, n);
      const at = (f: number, g: number, c: number) => hat[(f * n + g) * n + c];
      for (let k = 1; k <= kMax; k++) {
        for (let c = 0; c < n; c++) {
          if (2 * k === n) {
            const r = n - 1;
            expect(co.U[k * n + c]).toBeCloseTo(at(r, r, c), 10);
            expect(co.V[k * n + c]).toBe(0);
          } else {
            const [ck, sk] = [cosRow(n, k), sinRow(n, k)];
            expect(co.U[k * n + c]).toBeCloseTo((at(ck, ck, c) - at(sk, sk, c)) / Math.SQRT2, 10);
            expect(co.V[k * n + c]).toBeCloseTo((at(sk, ck, c) + at(ck, sk, c)) / Math.SQRT2, 10);
          }
        }
        // P_k(L) at every cell, against the explicit u_k(u_kᵀL) + v_k(v_kᵀL).
        const dense = denseProjection(L, n, k);
        const table = projectionTable(co, [k]);
        for (let a = 0; a < n; a++)
          for (let b = 0; b < n; b++)
            for (let c = 0; c < n; c++)
              expect(table[((a + b) % n) * n + c]).toBeCloseTo(dense[(a * n + b) * n + c], 10);
      }
      // k = 0 is the mean over pairs.
      const mean = projectionTable(co, [0]);
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let q = 0; q < n * n; q++) s += L[q * n + c];
        for (let r = 0; r < n; r++) expect(mean[r * n + c]).toBeCloseTo(s / (n * n), 12);
      }
      // α_w = ⟨L, C_w⟩ with C_w the explicitly normalised cos(2πw(a+b−c)/n) tensor.
      const alpha = cosineCoefficients(co);
      expect(alpha.length).toBe(kMax + 1);
      for (let w = 0; w <= kMax; w++) {
        let dot = 0,
          norm2 = 0;
        for (let a = 0; a < n; a++)
          for (let b = 0; b < n; b++)
            for (let c = 0; c < n; c++) {
              const C = Math.cos((TAU * w * (a + b - c)) / n);
              dot += L[(a * n + b) * n + c] * C;
              norm2 += C * C;
            }
        expect(alpha[w], `w = ${w}`).toBeCloseTo(dot / Math.sqrt(norm2), 10);
      }
    });
  }
});

describe('circuitResult against dense losses', () => {
  for (const n of [11, 10]) {
    it(`n = ${n}: restricted, excluded, per key, max over k, ratio`, () => {
      const L = randomLogits(n, 100 + n);
      const mask = randomMask(n, 7);
      const keys = [2, 5];
      const res = circuitResult({ L, n, trainMask: mask, keyFrequencies: keys, testLoss: 3.3 });

      const projections = Array.from({ length: Math.floor(n / 2) + 1 }, (_, k) =>
        k === 0 ? null : denseProjection(L, n, k),
      );
      const colMean = new Float64Array(n);
      for (let q = 0; q < n * n; q++) for (let c = 0; c < n; c++) colMean[c] += L[q * n + c] / (n * n);
      const R = new Float64Array(n * n * n);
      const E = Float64Array.from(L);
      for (let q = 0; q < n * n; q++) {
        for (let c = 0; c < n; c++) {
          const i = q * n + c;
          R[i] = colMean[c];
          for (const k of keys) {
            R[i] += projections[k]![i];
            E[i] -= projections[k]![i];
          }
        }
      }
      const all = () => true;
      const train = (cell: number) => mask[cell] === 1;
      expect(res.restricted_loss).toBeCloseTo(denseCe(R, n, all).loss, 10);
      expect(res.restricted_acc).toBeCloseTo(denseCe(R, n, all).acc, 12);
      expect(res.restricted_loss_train).toBeCloseTo(denseCe(R, n, train).loss, 10);
      expect(res.excluded_loss).toBeCloseTo(denseCe(E, n, train).loss, 10);
      const single = projections.slice(1).map(
        (P) =>
          denseCe(
            L.map((x, i) => x - P![i]),
            n,
            train,
          ).loss,
      );
      keys.forEach((k, i) => expect(res.excluded_loss_per_key[i]).toBeCloseTo(single[k - 1], 10));
      const maxK = single.indexOf(Math.max(...single)) + 1;
      expect(res.excluded_loss_max_k).toBe(maxK);
      expect(res.excluded_loss_max).toBeCloseTo(single[maxK - 1], 10);
      expect(res.test_restricted_ratio).toBeCloseTo(3.3 / res.restricted_loss, 12);
      expect(gridCrossEntropy(L, n, mask).loss).toBeCloseTo(denseCe(L, n, train).loss, 10);
    });
  }

  it('the factored sweep survives logits whose softmax underflows', () => {
    const n = 7;
    const L = randomLogits(n, 3, 400); // spreads of ~1000 nats
    const mask = new Uint8Array(n * n).fill(1);
    const sweep = singleFrequencyExcludedLosses(sumAngleCoefficients(L, n), L, mask);
    for (let k = 1; k <= 3; k++) {
      const P = denseProjection(L, n, k);
      expect(sweep[k - 1]).toBeCloseTo(
        denseCe(
          L.map((x, i) => x - P[i]),
          n,
          () => true,
        ).loss,
        6,
      );
    }
  });

  it('rejects bad input, naming it', () => {
    const n = 5;
    const L = randomLogits(n, 1);
    const mask = new Uint8Array(n * n).fill(1);
    const base = { L, n, trainMask: mask, keyFrequencies: [1], testLoss: 1 };
    expect(() => circuitResult({ ...base, keyFrequencies: [3] })).toThrow(
      /key frequency \[0\]: expected an integer in 1 … 2/,
    );
    expect(() => circuitResult({ ...base, trainMask: new Uint8Array(n * n) })).toThrow(/no train pair/);
    expect(() => circuitResult({ ...base, testLoss: NaN })).toThrow(FourierInputError);
    const bad = Float64Array.from(L);
    bad[(2 * n + 3) * n + 4] = NaN;
    expect(() => circuitResult({ ...base, L: bad })).toThrow(
      /grid logits at cell \(2, 3\), class 4: expected a finite number, got NaN/,
    );
    expect(() => circuitResult({ ...base, L: L.subarray(1) })).toThrow(/grid logits length/);
  });
});

/** Smallest generator and discrete-log table of Z_p^*, by brute force (an oracle for the group view). */
function bruteLog(p: number): Int32Array {
  for (let g = 2; ; g++) {
    const log = new Int32Array(p).fill(-1);
    for (let i = 0, x = 1; i < p - 1; i++, x = (x * g) % p) if (log[x] < 0) log[x] = i;
    if (log.slice(1).every((v) => v >= 0)) return log;
  }
}

describe('planted structure through the group view', () => {
  const cases: [ModularOp, number, number[]][] = [
    ['add', 31, [4, 9, 13]],
    ['sub', 29, [3, 11]],
    ['mul', 29, [5, 6, 14]], // n = 28: 14 is the Nyquist frequency
    ['div', 31, [2, 7, 12]],
  ];
  for (const [op, p, freqs] of cases) {
    it(`${op} mod ${p}, frequencies ${freqs.join(', ')}: found exactly, restricted = full, excluded ≈ uniform`, () => {
      const ds = buildDataset({ kind: 'modular', op, p });
      const multiplicative = op === 'mul' || op === 'div';
      const n = multiplicative ? p - 1 : p;
      const log = multiplicative ? bruteLog(p) : Int32Array.from({ length: p }, (_, x) => x);
      const amplitude = [3, 2.5, 4];
      // logits[e, c] = Σ_k α_k·cos(2πk(x(label) − x(c))/n) in group coordinates x, i.e.
      // Σ α_k cos(w_k(i + j − c)) on the grid; built from the labels only, so the grid mapping is
      // not used to build it. Class 0 of mul / div (outside the group) gets a huge logit that would
      // wreck every loss if it were not dropped; zero-operand examples get noise.
      const rng = new Rng(p);
      const logits = new Float32Array(ds.n * p);
      const d = 2 * freqs.length;
      const acts = new Float32Array(ds.n * d);
      for (let e = 0; e < ds.n; e++) {
        const y = log[ds.labels[e]];
        const outside = multiplicative && (ds.operands!.a[e] === 0 || ds.operands!.b[e] === 0);
        for (let c = 0; c < p; c++) {
          if (outside) logits[e * p + c] = rng.normal();
          else if (log[c] < 0) logits[e * p + c] = 1000;
          else
            logits[e * p + c] = freqs.reduce(
              (acc, k, t) => acc + amplitude[t] * Math.cos((TAU * k * (y - log[c])) / n),
              0,
            );
        }
        // Two neurons per frequency, functions of the answer alone: cos(2πk·x(label)/n + φ).
        for (let t = 0; t < d; t++) {
          acts[e * d + t] = outside ? rng.normal() : Math.cos((TAU * freqs[t >> 1] * y) / n + 0.7 * t);
        }
      }
      const grid = groupGrid(ds);
      expect(grid.n).toBe(n);
      const rule = neuronFrequencies(acts, n, d, { rowOfCell: grid.exampleOfCell });
      expect(rule.keyFrequencies).toEqual(freqs);
      expect(rule.unclustered).toBe(0);

      const L = gatherLogits(grid, logits);
      const train = Int32Array.from({ length: Math.floor(ds.n * 0.3) }, (_, t) => (t * 7 + 3) % ds.n);
      const mask = gridTrainMask(grid, train);
      const full = gridCrossEntropy(L, n);
      const res = circuitResult({ L, n, trainMask: mask, keyFrequencies: rule.keyFrequencies, testLoss: full.loss });
      expect(full.acc).toBe(1);
      expect(res.restricted_loss).toBeCloseTo(full.loss, 5); // float32 logits
      expect(res.restricted_loss_train).toBeCloseTo(gridCrossEntropy(L, n, mask).loss, 5);
      expect(res.restricted_acc).toBe(1);
      expect(res.test_restricted_ratio).toBeCloseTo(1, 5);
      expect(res.excluded_loss).toBeCloseTo(Math.log(n), 5);
      // Removing one key frequency costs loss; removing any other changes nothing, so the max is a key.
      const trainLoss = gridCrossEntropy(L, n, mask).loss;
      res.excluded_loss_per_key.forEach((v) => expect(v).toBeGreaterThan(trainLoss + 0.01));
      expect(freqs).toContain(res.excluded_loss_max_k);
      // α_w = α_k·‖C_w‖ at the planted frequencies (the Nyquist C_w has ‖·‖² = n³), ≈ 0 elsewhere.
      res.alpha.forEach((a, w) => {
        const t = freqs.indexOf(w);
        const norm = Math.sqrt((2 * w === n ? 1 : 0.5) * n ** 3);
        expect(a, `w = ${w}`).toBeCloseTo(t >= 0 ? amplitude[t] * norm : 0, 2);
      });
    });
  }
});
