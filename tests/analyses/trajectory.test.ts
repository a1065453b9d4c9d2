/**
 * The trajectory pass (analyses/trajectory.ts, trajectory-run.ts): a planted trajectory on a known
 * plane in 5,000 dimensions is recovered exactly; the Gram route agrees with a dense SVD of the
 * centred T × |θ| matrix; the block size does not matter; checkpoint files are read by byte range,
 * and unusable ones are left out by name.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, SVD } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  centredGrams,
  participationRatio,
  pcaFromGram,
  trajectoryView,
  windowSteps,
  type ChunkSource,
} from '../../analyses/trajectory.ts';
import { trajectoryOfCheckpoints } from '../../analyses/trajectory-run.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { Rng } from '../../src/rng.ts';

/** Rows in memory, split into tensors of the given sizes. */
function memorySource(rows: Float32Array[], sizes: number[]): ChunkSource {
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return {
    T: rows.length,
    tensors: sizes.map((size, i) => ({ name: `t${i}`, size })),
    read: (t, k, start, out) => out.set(rows[t].subarray(offsets[k] + start, offsets[k] + start + out.length)),
  };
}

function orthonormalPair(D: number, rng: Rng): [Float64Array, Float64Array] {
  const u = Float64Array.from({ length: D }, () => rng.normal());
  const nu = Math.hypot(...u);
  u.forEach((x, i) => (u[i] = x / nu));
  const v = Float64Array.from({ length: D }, () => rng.normal());
  const dot = v.reduce((a, x, i) => a + x * u[i], 0);
  v.forEach((x, i) => (v[i] = x - dot * u[i]));
  const nv = Math.hypot(...v);
  v.forEach((x, i) => (v[i] = x / nv));
  return [u, v];
}

describe('trajectory PCA from the Gram matrix', () => {
  it('recovers a planted ellipse on a plane in 5,000 dimensions exactly', () => {
    const D = 5000;
    const T = 40;
    const rng = new Rng(11);
    const [u, v] = orthonormalPair(D, rng);
    const c = Float64Array.from({ length: D }, () => rng.normal());
    const a = Array.from({ length: T }, (_, t) => 3 * Math.cos((2 * Math.PI * t) / T));
    const b = Array.from({ length: T }, (_, t) => Math.sin((2 * Math.PI * t) / T));
    // float64 rows through a float32 source would round; plant in float32-exact form instead:
    const rows = Array.from({ length: T }, (_, t) =>
      Float32Array.from({ length: D }, (_, j) => c[j] + a[t] * u[j] + b[t] * v[j]),
    );
    const exact = rows.map((r) => Float64Array.from(r));
    const g = centredGrams(memorySource(rows, [1234, 3766]), ['t0']);
    const view = trajectoryView(g.total, T, [...Array(T).keys()], D, 10);
    // variances 4.5 and 0.5 per checkpoint: PC1 = a, PC2 = b (signs: the last checkpoint ≥ 0)
    expect(view.explained_variance_ratio[0]).toBeCloseTo(0.9, 6);
    expect(view.explained_variance_ratio[1]).toBeCloseTo(0.1, 6);
    expect(view.explained_variance_ratio[2]).toBeLessThan(1e-9);
    expect(view.effective_dim!).toBeCloseTo(25 / 20.5, 6);
    for (let t = 0; t < T; t++) {
      expect(view.coords[t][0]).toBeCloseTo(a[t], 4);
      expect(view.coords[t][1]).toBeCloseTo(b[t] * Math.sign(b[T - 1]), 4);
      expect(Math.abs(view.coords[t][2])).toBeLessThan(1e-4);
    }
    // the total variance is Σ‖θ_t − θ̄‖² of the float32 rows
    const mean = new Float64Array(D);
    for (const r of exact) r.forEach((x, j) => (mean[j] += x / T));
    const tv = exact.reduce((s, r) => s + r.reduce((q, x, j) => q + (x - mean[j]) ** 2, 0), 0);
    expect(view.total_variance).toBeCloseTo(tv, 6);
    expect(g.perTensor.t0).toBeDefined();
    expect(Object.keys(g.perTensor)).toEqual(['t0']);
  });

  it('agrees with a dense SVD of the centred matrix on a random walk, whatever the block size', () => {
    const D = 300;
    const T = 25;
    const rng = new Rng(3);
    const rows: Float32Array[] = [];
    let cur = Float32Array.from({ length: D }, () => rng.normal());
    for (let t = 0; t < T; t++) {
      cur = cur.map((x, j) => x + (j % 7 === 0 ? 0.5 : 0.05) * rng.normal());
      rows.push(cur);
    }
    const X = new Matrix(rows.map((r) => Array.from(r)));
    const means = X.mean('column');
    for (let t = 0; t < T; t++) for (let j = 0; j < D; j++) X.set(t, j, X.get(t, j) - means[j]);
    const svd = new SVD(X, { autoTranspose: true });
    const sv = svd.diagonal;
    const U = svd.leftSingularVectors;
    const big = centredGrams(memorySource(rows, [100, 200]), []);
    const small = centredGrams(memorySource(rows, [100, 200]), [], 3 * T); // blocks of 3 coordinates
    for (let i = 0; i < T * T; i++) expect(small.total[i]).toBeCloseTo(big.total[i], 9);
    const pca = pcaFromGram(big.total, T, 3);
    const total = sv.reduce((a, s) => a + s * s, 0);
    for (let k = 0; k < 5; k++) expect(pca.explained_variance_ratio[k]).toBeCloseTo((sv[k] * sv[k]) / total, 8);
    for (let k = 0; k < 3; k++) {
      const sign = Math.sign(U.get(T - 1, k));
      for (let t = 0; t < T; t++) expect(pca.coords[t][k]).toBeCloseTo(sign * sv[k] * U.get(t, k), 5);
    }
    const pr = total ** 2 / sv.reduce((a, s) => a + s ** 4, 0);
    expect(participationRatio(big.total, T)!).toBeCloseTo(pr, 8);
  });

  it('window effective dimensionality: 1 on a straight segment, 2 on an isotropic circle', () => {
    const T = 30;
    const D = 50;
    const line = Array.from({ length: T }, (_, t) => Float32Array.from({ length: D }, (_, j) => (j === 0 ? t : 0)));
    const g = centredGrams(memorySource(line, [D]), []);
    const view = trajectoryView(g.total, T, [...Array(T).keys()], D, 5);
    expect(view.effective_dim!).toBeCloseTo(1, 10);
    expect(view.window_effective_dim).toHaveLength(T - 5 + 1);
    for (const x of view.window_effective_dim) expect(x!).toBeCloseTo(1, 10);
    const circle = Array.from({ length: 40 }, (_, t) =>
      Float32Array.from({ length: D }, (_, j) =>
        j === 0 ? Math.cos((2 * Math.PI * t) / 40) : j === 1 ? Math.sin((2 * Math.PI * t) / 40) : 0,
      ),
    );
    const gc = centredGrams(memorySource(circle, [D]), []);
    expect(participationRatio(gc.total, 40)!).toBeCloseTo(2, 5);
    expect(windowSteps([0, 10, 20, 30, 40, 50], 3)).toEqual([10, 20, 30, 40]);
  });
});

describe('trajectoryOfCheckpoints', () => {
  it('reads checkpoint files by byte range, leaves out unusable ones, and matches the in-memory result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'groklens-traj-'));
    const specs = [
      { name: 'embed.W_E', shape: [6, 4] },
      { name: 'blocks.0.attn.b_Q', shape: [2, 2], frozen: true as const },
      { name: 'blocks.0.mlp.W_in', shape: [4, 8] },
      { name: 'unembed.b_U', shape: [5] },
    ];
    const rng = new Rng(9);
    const rows: Float32Array[] = [];
    const files = [];
    for (let t = 0; t < 12; t++) {
      const step = t * 100;
      const file = join(dir, `step-${step}.safetensors`);
      const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      const row: number[] = [];
      for (const s of specs) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        const data = Float32Array.from({ length: n }, () => (s.frozen ? 0 : rng.normal() + t * 0.3));
        if (t === 7 && s.name === 'unembed.b_U') data[2] = NaN;
        if (!s.frozen) row.push(...data);
        tensors[s.name] = { dtype: 'F32', shape: s.shape, data };
      }
      if (t === 4) writeFileSync(file, 'not a safetensors file at all');
      else writeSafetensors(file, tensors, { format: 'groklens-checkpoint', step: String(step) });
      if (t !== 4 && t !== 7) rows.push(Float32Array.from(row));
      files.push({ step, file });
    }
    const r = trajectoryOfCheckpoints(files, specs, { window: 4, budget: 40 });
    expect(r.excluded.map((e) => e.step)).toEqual([400, 700]);
    expect(r.excluded[1].problem).toMatch(/not finite/);
    expect(r.steps).toEqual([0, 100, 200, 300, 500, 600, 800, 900, 1000, 1100]);
    expect(r.n_params).toBe(24 + 32 + 5);
    expect(Object.keys(r.per_tensor)).toEqual(['embed.W_E', 'blocks.0.mlp.W_in']);
    expect(r.per_tensor['embed.W_E'].n_params).toBe(24);
    const g = centredGrams(memorySource(rows, [rows[0].length]), []);
    const ref = trajectoryView(g.total, rows.length, [...Array(rows.length).keys()], 61, 4);
    expect(r.explained_variance_ratio[0]).toBeCloseTo(ref.explained_variance_ratio[0], 9);
    expect(r.effective_dim!).toBeCloseTo(ref.effective_dim!, 9);
    for (let t = 0; t < rows.length; t++) expect(r.coords[t][0]).toBeCloseTo(ref.coords[t][0], 6);
    expect(r.window_steps).toEqual(windowSteps(r.steps, 4));
    expect(r.window_effective_dim).toHaveLength(r.window_steps.length);
  });
});
