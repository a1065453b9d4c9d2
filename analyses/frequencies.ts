/**
 * Key frequencies by the neuron rule, and the per-checkpoint Fourier measures (docs/measures.md#key-frequencies).
 *
 * Neuron rule. For a neuron's activation table M [n, n] over the group grid, centred, with 2-D
 * transform M̂ = F·M·Fᵀ: the share of its variance in the 8 non-constant cells of the
 * {const, cos k, sin k}² block, for each k; the neuron's frequency is the argmax, its explained
 * fraction the max. For even n the Nyquist frequency n/2 is a candidate too, with its 3-cell
 * block {const, nyquist}² minus (const, const) (our choice: every frequency of the group counts).
 *
 * Fast path. The block's energy needs only four 1-D transforms per neuron, not the 2-D
 * transform (which costs ~1.5 s for 512 neurons at p = 113 on this machine, vs ~50 ms for this).
 * With S₊[s] = Σ_{a+b≡s} M[a,b], S₋[t] = Σ_{a−b≡t} M[a,b] and the marginals R[a] = Σ_b M[a,b],
 * C[b] = Σ_a M[a,b], and X̂ = F·X their transforms:
 *   the 4 cells {cos k, sin k}² span cos/sin k(a+b) and cos/sin k(a−b), orthogonal with norm²
 *   n²/2 (2k ≢ 0 mod n), so their energy is (Ŝ₊[cos k]² + Ŝ₊[sin k]² + Ŝ₋[cos k]² + Ŝ₋[sin k]²)/n;
 *   the 4 cells with a const index are R̂[cos k]/√n, R̂[sin k]/√n, Ĉ[cos k]/√n, Ĉ[sin k]/√n;
 *   Nyquist: (Ŝ₊[nyq]² + R̂[nyq]² + Ĉ[nyq]²)/n (S₋ gives the same (nyq, nyq) cell: counted once).
 * The total is Σ (M − mean)² (Parseval). Tested against the dense 2-D transform.
 */
import { numPairedFrequencies } from './fourier/basis.ts';
import { checkLength, checkSize, FourierInputError, type NumericArray } from './fourier/errors.ts';
import { frequencyNorms, gini, meanIpr, rowNorms, colNorms } from './fourier/stats.ts';
import { transformAxis, transformCols, transformRows } from './fourier/transform.ts';
import type { FourierResult, NeuronCluster } from './types.ts';
import type { WeightsView } from './weights-view.ts';

/** The paper's threshold: a neuron with explained fraction ≥ 0.85 belongs to its frequency's cluster. */
export const CLUSTER_THRESHOLD = 0.85;

/**
 * A neuron whose centred energy is at most this share of Σ(x − x₀)² is constant ("dead"): exactly
 * constant neurons give 0 = 0, and the ratio only catches round-off of (Σy)²/n².
 */
const DEAD_RATIO = 1e-12;

export interface NeuronFrequencies {
  readonly n: number;
  readonly neurons: number;
  /** [neurons] argmax frequency k in 1 … ⌊n/2⌋; 0 for a constant (dead) neuron. */
  readonly frequency: Int32Array;
  /** [neurons] the explained fraction at the argmax; 0 for a dead neuron. */
  readonly explained: Float64Array;
  /** [neurons, ⌊n/2⌋] entry k − 1: the share of the neuron's variance in frequency k's block. */
  readonly fractions: Float64Array;
  /** Distinct argmaxes over the live neurons, ascending (docs/measures.md#key-frequencies). */
  readonly keyFrequencies: number[];
  /** One entry per frequency with at least one neuron at ≥ threshold, ascending frequency. */
  readonly clusters: NeuronCluster[];
  /** Neurons below the threshold, dead neurons included. */
  readonly unclustered: number;
}

export interface NeuronRuleOptions {
  /** Cluster threshold on the explained fraction (default 0.85, the paper's). */
  threshold?: number;
  /**
   * [n²] the row of `acts` holding each grid cell, e.g. GroupGrid.exampleOfCell, so activations
   * in dataset order [N, d] are read in place (no gather). Default: acts is in grid order.
   */
  rowOfCell?: Int32Array;
}

/**
 * The neuron rule over activations acts [rows, d], column = neuron: by default in grid order
 * (gatherActivations: row i·n + j is the cell (i, j) of the group grid), or in any order with
 * options.rowOfCell.
 */
export function neuronFrequencies(
  acts: NumericArray,
  n: number,
  d: number,
  options: NeuronRuleOptions = {},
): NeuronFrequencies {
  const { threshold = CLUSTER_THRESHOLD, rowOfCell } = options;
  checkSize('group order n', n, 2);
  checkSize('neuron count', d);
  if (!(threshold >= 0 && threshold <= 1))
    throw new FourierInputError('cluster threshold', threshold, 'a number in [0, 1]');
  if (rowOfCell) {
    checkLength('rowOfCell', rowOfCell, n * n, `[${n}²]`);
    if (acts.length % d !== 0)
      throw new FourierInputError('neuron activations length', acts.length, `a multiple of ${d} neurons`);
    const rows = acts.length / d;
    rowOfCell.forEach((r, cell) => {
      if (!(r >= 0 && r < rows)) throw new FourierInputError(`rowOfCell[${cell}]`, r, `a row in [0, ${rows})`);
    });
  } else {
    checkLength('neuron activations', acts, n * n * d, `[${n}², ${d}]`);
  }
  const rowAt = rowOfCell ? (cell: number) => rowOfCell[cell] : (cell: number) => cell;
  const K = numPairedFrequencies(n);
  const kMax = Math.floor(n / 2);

  // One pass over y = x − x₀ (x₀ = the neuron's value at cell (0, 0): a shift changes only the
  // const cells, and keeps Σy² − n²·mean(y)² free of cancellation for a near-constant neuron):
  // sums along anti-diagonals, diagonals, rows and columns, and Σy per neuron.
  const x0 = new Float64Array(d);
  for (let t = 0; t < d; t++) x0[t] = acts[rowAt(0) * d + t];
  const sPlus = new Float64Array(n * d); // [n, d]
  const sMinus = new Float64Array(n * d); // [n, d]
  const rowSum = new Float64Array(n * d); // [n, d]
  const colSum = new Float64Array(n * d); // [n, d]
  const sq = new Float64Array(d); // [d] Σy²
  for (let i = 0; i < n; i++) {
    const rOff = i * d;
    for (let j = 0; j < n; j++) {
      const src = rowAt(i * n + j) * d;
      const pOff = ((i + j) % n) * d;
      const mOff = ((i - j + n) % n) * d;
      const cOff = j * d;
      for (let t = 0; t < d; t++) {
        const y = acts[src + t] - x0[t];
        sPlus[pOff + t] += y;
        sMinus[mOff + t] += y;
        rowSum[rOff + t] += y;
        colSum[cOff + t] += y;
        sq[t] += y * y;
      }
    }
  }
  // Centred energy Σ(x − mean)² = Σy² − (Σy)²/n².
  const energy = new Float64Array(d);
  for (let t = 0; t < d; t++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rowSum[i * d + t];
    energy[t] = Math.max(0, sq[t] - (sum * sum) / (n * n));
  }
  for (const X of [sPlus, sMinus, rowSum, colSum]) transformAxis(X, 1, n, d, 'forward', X);

  const fractions = new Float64Array(d * kMax); // [d, ⌊n/2⌋]
  const frequency = new Int32Array(d);
  const explained = new Float64Array(d);
  const sq2 = (X: Float64Array, row: number, t: number) => X[row * d + t] ** 2;
  for (let t = 0; t < d; t++) {
    if (energy[t] <= DEAD_RATIO * sq[t]) continue;
    let best = 0;
    let bestK = 0;
    for (let k = 1; k <= kMax; k++) {
      let block: number;
      if (k <= K) {
        const c = 2 * k - 1,
          s = 2 * k;
        block =
          sq2(sPlus, c, t) +
          sq2(sPlus, s, t) +
          sq2(sMinus, c, t) +
          sq2(sMinus, s, t) +
          sq2(rowSum, c, t) +
          sq2(rowSum, s, t) +
          sq2(colSum, c, t) +
          sq2(colSum, s, t);
      } else {
        const r = n - 1; // k = n/2, n even: the Nyquist row
        block = sq2(sPlus, r, t) + sq2(rowSum, r, t) + sq2(colSum, r, t);
      }
      const f = block / n / energy[t];
      fractions[t * kMax + k - 1] = f;
      if (f > best) {
        best = f;
        bestK = k;
      }
    }
    frequency[t] = bestK;
    explained[t] = best;
  }
  return { n, neurons: d, frequency, explained, fractions, ...clusterNeurons(frequency, explained, threshold) };
}

function clusterNeurons(
  frequency: Int32Array,
  explained: Float64Array,
  threshold: number,
): { keyFrequencies: number[]; clusters: NeuronCluster[]; unclustered: number } {
  const keys = new Set<number>();
  const members = new Map<number, { neurons: number; sum: number }>();
  let unclustered = 0;
  for (let t = 0; t < frequency.length; t++) {
    const k = frequency[t];
    if (k > 0) keys.add(k);
    if (k > 0 && explained[t] >= threshold) {
      const m = members.get(k) ?? { neurons: 0, sum: 0 };
      m.neurons++;
      m.sum += explained[t];
      members.set(k, m);
    } else {
      unclustered++;
    }
  }
  const clusters = [...members.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([frequency, m]) => ({ frequency, neurons: m.neurons, mean_explained: m.sum / m.neurons }));
  return { keyFrequencies: [...keys].sort((x, y) => x - y), clusters, unclustered };
}

export interface FourierOptions {
  /** Copy the key frequencies into the result (the per-checkpoint mode). */
  reportKeyFrequencies?: boolean;
}

/**
 * Fourier norms of a checkpoint (docs/measures.md#fourier-measures) from its group-ordered weights.
 *   embed_norms[k], logit_map_norms[k]: per frequency k = 0 … ⌊n/2⌋ ([0] the constant row,
 *     the last the Nyquist row for even n), √(‖cos k‖² + ‖sin k‖²) of F·W_E' rows / W_L·Fᵀ columns.
 *   gini_*: Gini of those norms over k = 1 … ⌊n/2⌋ (the constant is not a frequency).
 *   ipr_mean: mean over first-layer neurons of Gromov's IPR of the neuron's DFT, Σ|ŵ_k|⁴/(Σ|ŵ_k|²)²
 *     over all n complex DFT coefficients. In the real basis |ŵ_±k|² = (c_k² + s_k²)/2, so this is
 *     the IPR of [c₀, r₁/√2, r₁/√2, …, r_K/√2, r_K/√2, (nyquist)]: phase-invariant, 1/2 for a
 *     neuron of one frequency (its ±k pair), 1 for a constant or a pure Nyquist neuron.
 *     All-zero neurons are skipped; NaN when every neuron is zero.
 *   non_fourier_energy: Σ_{k ∉ key, k ≠ 0} embed_norms[k]² / Σ_k embed_norms[k]² (0 for a zero W_E').
 */
export function fourierResult(
  weights: WeightsView,
  keyFrequencies: readonly number[],
  options: FourierOptions = {},
): FourierResult {
  const { n } = weights;
  checkKeyFrequencies(keyFrequencies, n);
  checkLength('embedding', weights.embedding, n * weights.dEmbed, `[${n}, ${weights.dEmbed}]`);
  checkLength('logit map', weights.logitMap, weights.neurons * n, `[${weights.neurons}, ${n}]`);
  checkLength('first layer', weights.firstLayer, n * weights.firstNeurons, `[${n}, ${weights.firstNeurons}]`);

  const embed = frequencyNorms(rowNorms(transformCols(weights.embedding, n, weights.dEmbed), n, weights.dEmbed));
  const logit = frequencyNorms(colNorms(transformRows(weights.logitMap, weights.neurons, n), weights.neurons, n));
  const embed_norms = [embed.constant, ...embed.perFrequency];
  const logit_map_norms = [logit.constant, ...logit.perFrequency];

  let total = 0;
  let outside = 0;
  const key = new Set(keyFrequencies);
  embed_norms.forEach((v, k) => {
    total += v * v;
    if (k > 0 && !key.has(k)) outside += v * v;
  });

  const result: FourierResult = {
    embed_norms,
    logit_map_norms,
    gini_embed: gini(embed.perFrequency),
    gini_logit_map: gini(logit.perFrequency),
    ipr_mean: firstLayerIpr(weights.firstLayer, n, weights.firstNeurons),
    non_fourier_energy: total > 0 ? outside / total : 0,
  };
  if (options.reportKeyFrequencies) result.key_frequencies = [...keyFrequencies];
  return result;
}

/** Mean Gromov IPR of the columns of X [n, m] (one column per neuron), see fourierResult. */
export function firstLayerIpr(X: NumericArray, n: number, m: number): number {
  const coeffs = transformCols(X, n, m); // [n, m] basis coefficients, column = neuron
  const K = numPairedFrequencies(n);
  const dft = new Float64Array(m * n); // [m, n] |ŵ| in the unitary complex DFT, up to order
  for (let t = 0; t < m; t++) {
    const row = t * n;
    dft[row] = coeffs[t];
    for (let k = 1; k <= K; k++) {
      const r = Math.hypot(coeffs[(2 * k - 1) * m + t], coeffs[2 * k * m + t]) / Math.SQRT2;
      dft[row + 2 * k - 1] = r;
      dft[row + 2 * k] = r;
    }
    if (n % 2 === 0) dft[row + n - 1] = coeffs[(n - 1) * m + t];
  }
  return meanIpr(dft, m, n).mean;
}

/** Throws unless every key frequency is a distinct integer in 1 … ⌊n/2⌋. */
export function checkKeyFrequencies(keys: readonly number[], n: number): void {
  const seen = new Set<number>();
  keys.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 1 || k > Math.floor(n / 2)) {
      throw new FourierInputError(
        `key frequency [${i}]`,
        k,
        `an integer in 1 … ${Math.floor(n / 2)} (group order ${n})`,
      );
    }
    if (seen.has(k)) throw new FourierInputError(`key frequency [${i}]`, k, 'no repeats');
    seen.add(k);
  });
}
