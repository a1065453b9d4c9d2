/**
 * `trajectory` pass (run-level): the path of the weights through parameter space (docs/measures.md#weight-trajectory).
 * Each checkpoint t = 1…T is flattened to θ_t; centred over t, the PCA comes from the T × T Gram
 * matrix G[s,t] = ⟨θ_s − θ̄, θ_t − θ̄⟩, never from the T × |θ| matrix: the checkpoints are read a
 * block of coordinates at a time (all T rows of that block, at most `budget` values), so memory is
 * O(T² + budget) whatever |θ| is. Each block is centred over t exactly, in float64, before its
 * products are added to G.
 *
 * From G: explained variance ratios (eigenvalues / trace), the coordinates of every checkpoint on
 * the leading components (√λ_k·u_k[t]; sign fixed so the last checkpoint's coordinate is ≥ 0),
 * and the effective dimensionality, the participation ratio (Σσ²)²/Σσ⁴ = (tr G)²/‖G‖_F², over the
 * whole run and over sliding windows of `window` consecutive checkpoints (each window re-centred).
 * The same for chosen tensors on their own (W_E and the MLP weights).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Where the coordinates come from: T rows, each the concatenation of the listed tensors. */
export interface ChunkSource {
  T: number;
  tensors: { name: string; size: number }[];
  /** Fill `out` with values [start, start + out.length) of tensor `tensor` of row t. */
  read(t: number, tensor: number, start: number, out: Float32Array): void;
}

export interface GramSet {
  total: Float64Array; // [T, T] centred Gram over every listed tensor
  perTensor: Record<string, Float64Array>; // [T, T] for the tensors asked for
  /** Rows with a non-finite value: their rows and columns of G are meaningless (left out by the caller). */
  bad: number[];
}

/** Values held at once: all T rows of a block of coordinates (4M float64 values = 32 MB). */
export const DEFAULT_BUDGET = 4_000_000;
const PANEL = 256; // coordinates per cache panel: T × 256 float64 = 800 kB at T = 400

export function centredGrams(src: ChunkSource, perTensor: string[], budget = DEFAULT_BUDGET): GramSet {
  const T = src.T;
  const total = new Float64Array(T * T);
  const per: Record<string, Float64Array> = {};
  for (const name of perTensor) per[name] = new Float64Array(T * T);
  const badRows = new Uint8Array(T);
  const B = Math.max(1, Math.floor(budget / Math.max(T, 1)));
  const buf = new Float32Array(B);
  const Y = new Float64Array(T * B);
  src.tensors.forEach(({ name, size }, k) => {
    const G = per[name] ?? null;
    for (let start = 0; start < size; start += B) {
      const b = Math.min(B, size - start);
      const row = buf.subarray(0, b);
      for (let t = 0; t < T; t++) {
        src.read(t, k, start, row);
        const y = Y.subarray(t * b, (t + 1) * b);
        for (let j = 0; j < b; j++) {
          const v = row[j];
          if (!Number.isFinite(v)) badRows[t] = 1;
          y[j] = v;
        }
      }
      // centre each coordinate over the usable rows (the shift is exact: any common shift cancels)
      const mean = new Float64Array(b);
      let good = 0;
      for (let t = 0; t < T; t++) {
        if (badRows[t]) continue;
        good++;
        const y = Y.subarray(t * b, (t + 1) * b);
        for (let j = 0; j < b; j++) mean[j] += y[j];
      }
      if (good > 0) for (let j = 0; j < b; j++) mean[j] /= good;
      for (let t = 0; t < T; t++) {
        const y = Y.subarray(t * b, (t + 1) * b);
        for (let j = 0; j < b; j++) y[j] -= mean[j];
      }
      // Column panels of PANEL coordinates keep the T rows being multiplied in cache.
      for (let j0 = 0; j0 < b; j0 += PANEL) {
        const j1 = Math.min(b, j0 + PANEL);
        for (let s = 0; s < T; s++) {
          if (badRows[s]) continue;
          const os = s * b;
          for (let t = s; t < T; t++) {
            if (badRows[t]) continue;
            const ot = t * b;
            let acc = 0;
            let j = j0;
            for (; j + 3 < j1; j += 4)
              acc +=
                Y[os + j] * Y[ot + j] +
                Y[os + j + 1] * Y[ot + j + 1] +
                Y[os + j + 2] * Y[ot + j + 2] +
                Y[os + j + 3] * Y[ot + j + 3];
            for (; j < j1; j++) acc += Y[os + j] * Y[ot + j];
            total[s * T + t] += acc;
            if (G) G[s * T + t] += acc;
          }
        }
      }
    }
  });
  const sym = (G: Float64Array) => {
    for (let s = 0; s < T; s++) for (let t = s + 1; t < T; t++) G[t * T + s] = G[s * T + t];
  };
  sym(total);
  Object.values(per).forEach(sym);
  const bad = [...badRows.keys()].filter((t) => badRows[t]);
  return { total, perTensor: per, bad };
}

/** H·G·H with H = I − 11ᵀ/n: re-centres a Gram (of already centred or raw rows) over its n rows. */
export function recentre(G: Float64Array, n: number): Float64Array {
  const rowMean = new Float64Array(n);
  let all = 0;
  for (let s = 0; s < n; s++) {
    let r = 0;
    for (let t = 0; t < n; t++) r += G[s * n + t];
    rowMean[s] = r / n;
    all += r;
  }
  all /= n * n;
  const out = new Float64Array(n * n);
  for (let s = 0; s < n; s++) for (let t = 0; t < n; t++) out[s * n + t] = G[s * n + t] - rowMean[s] - rowMean[t] + all;
  return out;
}

/** The sub-Gram of rows `keep` (in that order). */
export function subGram(G: Float64Array, T: number, keep: number[]): Float64Array {
  const n = keep.length;
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) out[a * n + b] = G[keep[a] * T + keep[b]];
  return out;
}

/** (tr G)² / ‖G‖_F² — the participation ratio of G's eigenvalues; null for a zero Gram. */
export function participationRatio(G: Float64Array, n: number): number | null {
  let tr = 0;
  let fro = 0;
  for (let s = 0; s < n; s++) tr += G[s * n + s];
  for (let i = 0; i < n * n; i++) fro += G[i] * G[i];
  return fro > 0 && tr > 0 ? (tr * tr) / fro : null;
}

export interface Pca {
  eigenvalues: number[]; // descending, clipped at 0
  explained_variance_ratio: number[];
  total_variance: number; // tr G = Σ_t ‖θ_t − θ̄‖²
  coords: number[][]; // [n][k]
}

/** PCA of n centred rows from their Gram: the leading k components. */
export function pcaFromGram(G: Float64Array, n: number, k: number, ratios = 10): Pca {
  const total = Array.from({ length: n }, (_, s) => G[s * n + s]).reduce((a, b) => a + b, 0);
  if (n === 0 || !(total > 0)) {
    return {
      eigenvalues: [],
      explained_variance_ratio: [],
      total_variance: Math.max(total, 0),
      coords: Array.from({ length: n }, () => new Array<number>(k).fill(0)),
    };
  }
  const M = new Matrix(n, n);
  for (let s = 0; s < n; s++) for (let t = 0; t < n; t++) M.set(s, t, G[s * n + t]);
  const e = new EigenvalueDecomposition(M, { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const V = e.eigenvectorMatrix;
  const order = vals.map((_, i) => i).sort((a, b) => vals[b] - vals[a]);
  const eigenvalues = order.map((i) => Math.max(vals[i], 0));
  const coords = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  for (let c = 0; c < Math.min(k, n); c++) {
    const i = order[c];
    const scale = Math.sqrt(eigenvalues[c]);
    const sign = V.get(n - 1, i) < 0 ? -1 : 1; // the last checkpoint on the positive side
    for (let t = 0; t < n; t++) coords[t][c] = sign * scale * V.get(t, i);
  }
  return {
    eigenvalues,
    explained_variance_ratio: eigenvalues.slice(0, ratios).map((v) => v / total),
    total_variance: total,
    coords,
  };
}

/** One PCA summary (the whole parameter vector, or one tensor). */
export interface TrajectoryView {
  n_params: number;
  total_variance: number;
  explained_variance_ratio: number[]; // first 10 components (fewer with fewer checkpoints)
  coords: number[][]; // [T][3]: PC1, PC2, PC3 of each checkpoint in `steps`
  effective_dim: number | null; // participation ratio over the whole run
  window_effective_dim: (number | null)[]; // aligned with TrajectoryResult.window_steps
}

export interface TrajectoryResult extends TrajectoryView {
  steps: number[]; // the checkpoints used, ascending
  window: number; // checkpoints per sliding window
  window_steps: number[]; // each window's middle checkpoint
  per_tensor: Record<string, TrajectoryView>;
  excluded: { step: number; problem: string }[]; // checkpoints left out
}

export const TRAJECTORY_COMPONENTS = 3;
export const DEFAULT_WINDOW = 10;

/** The summary of one Gram over the rows `keep` of T (rows with bad values already dropped). */
export function trajectoryView(
  G: Float64Array,
  T: number,
  keep: number[],
  nParams: number,
  window: number,
): TrajectoryView {
  const n = keep.length;
  const Gk = recentre(subGram(G, T, keep), n);
  const pca = pcaFromGram(Gk, n, TRAJECTORY_COMPONENTS);
  const win: (number | null)[] = [];
  const w = Math.min(window, n);
  for (let i = 0; i + w <= n && w >= 2; i++) {
    const idx = Array.from({ length: w }, (_, j) => i + j);
    win.push(participationRatio(recentre(subGram(Gk, n, idx), w), w));
  }
  return {
    n_params: nParams,
    total_variance: pca.total_variance,
    explained_variance_ratio: pca.explained_variance_ratio,
    coords: pca.coords,
    effective_dim: participationRatio(Gk, n),
    window_effective_dim: win,
  };
}

/** Middle step of each sliding window over `steps`. */
export function windowSteps(steps: number[], window: number): number[] {
  const w = Math.min(window, steps.length);
  const out: number[] = [];
  for (let i = 0; i + w <= steps.length && w >= 2; i++) out.push(steps[i + Math.floor((w - 1) / 2)]);
  return out;
}

/** The tensors that get a trajectory of their own: the embedding and the MLP's weight matrices. */
export function perTensorNames(names: string[]): string[] {
  return names.filter((n) => /^embed\.W_E$|^blocks\.\d+\.mlp\.W_(in|out)$|^mlp\.\d+\.W$|^(W|V)$/.test(n));
}
