/**
 * Circuit measures on the grid logits (docs/measures.md#circuit-measures), architecture-agnostic.
 *
 * Input: L [n², n] float64 from gatherLogits, row i·n + j = cell (i, j) of the group grid,
 * column = output class in group order, so the label of cell (i, j) is s = (i + j) mod n.
 *
 * Sum-of-angle directions u_k[a,b] = (√2/n)·cos(2πk(a+b)/n), v_k = (√2/n)·sin(…), and
 * P_k(L) = u_k(u_kᵀL) + v_k(v_kᵀL). For even n the Nyquist direction k = n/2 is
 * u[a,b] = (−1)^{a+b}/n (unit) with no v (sin π(a+b) = 0): a one-dimensional projection,
 * which is what the spec's formula gives from the 2-D transform, u_kᵀL = L̂[nyq, nyq].
 * k = 0, u_0 = 1/n, gives the mean: u_0(u_0ᵀL) = mean over pairs of L.
 *
 * How u_kᵀL is computed. Every u_k, v_k depends on (a, b) only through s = (a + b) mod n, so
 * u_kᵀL = (√2/n)·Σ_s cos(2πks/n)·S[s, c] with the anti-diagonal sums S[s, c] = Σ_{a+b≡s} L[a,b,c]:
 * one 1-D transform of S [n, n] gives every k at once, u_kᵀL = (F·S)[cos k]/√n,
 * v_kᵀL = (F·S)[sin k]/√n. This equals the spec's (L̂[cos k, cos k] − L̂[sin k, sin k])/√2 and
 * (L̂[sin k, cos k] + L̂[cos k, sin k])/√2 exactly (tested against the 2-D transform and a dense
 * oracle) for O(n³) additions instead of a full 2-D transform of L (~0.5 s at p = 113 here).
 * For the same reason P_k(L) is a table over (s, c): every projected logit of a cell depends on
 * its s only.
 *
 * Cross-entropies are float64 log-softmax over the n group classes.
 */
import { numPairedFrequencies } from './fourier/basis.ts';
import { checkLength, checkSize, FourierInputError, type NumericArray } from './fourier/errors.ts';
import { transformAxis } from './fourier/transform.ts';
import { checkKeyFrequencies } from './frequencies.ts';
import type { CircuitResult } from './types.ts';

export interface SumAngleCoefficients {
  readonly n: number;
  /** [⌊n/2⌋ + 1, n] U[k, c] = u_kᵀL[:, c]; row 0 is u_0 = 1/n, the last the Nyquist row for even n. */
  readonly U: Float64Array;
  /** [⌊n/2⌋ + 1, n] V[k, c] = v_kᵀL[:, c]; rows 0 and Nyquist are zero. */
  readonly V: Float64Array;
}

/** u_kᵀL and v_kᵀL for every k = 0 … ⌊n/2⌋ and every class, from L [n², n]. */
export function sumAngleCoefficients(L: NumericArray, n: number): SumAngleCoefficients {
  checkGridLogits(L, n);
  const S = new Float64Array(n * n); // [n, n] S[s, c] = Σ_{i+j≡s} L[i, j, c]
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const src = (i * n + j) * n;
      const dst = ((i + j) % n) * n;
      for (let c = 0; c < n; c++) S[dst + c] += L[src + c];
    }
  }
  transformAxis(S, 1, n, n, 'forward', S); // S[f, c] = (F·S)[f, c]
  const kMax = Math.floor(n / 2);
  const K = numPairedFrequencies(n);
  const U = new Float64Array((kMax + 1) * n);
  const V = new Float64Array((kMax + 1) * n);
  const r = 1 / Math.sqrt(n);
  for (let c = 0; c < n; c++) U[c] = S[c] * r;
  for (let k = 1; k <= K; k++) {
    for (let c = 0; c < n; c++) {
      U[k * n + c] = S[(2 * k - 1) * n + c] * r;
      V[k * n + c] = S[2 * k * n + c] * r;
    }
  }
  if (n % 2 === 0) for (let c = 0; c < n; c++) U[kMax * n + c] = S[(n - 1) * n + c] * r;
  return { n, U, V };
}

/** [n] the value of u_k (cos) and v_k (sin) at any pair with (a + b) mod n = s. */
export function sumAngleDirections(n: number, k: number): { u: Float64Array; v: Float64Array } {
  const u = new Float64Array(n);
  const v = new Float64Array(n);
  if (k === 0) u.fill(1 / n);
  else if (2 * k === n) for (let s = 0; s < n; s++) u[s] = (s % 2 === 0 ? 1 : -1) / n;
  else {
    for (let s = 0; s < n; s++) {
      const angle = (2 * Math.PI * ((k * s) % n)) / n;
      u[s] = (Math.SQRT2 / n) * Math.cos(angle);
      v[s] = (Math.SQRT2 / n) * Math.sin(angle);
    }
  }
  return { u, v };
}

/**
 * Σ_{k ∈ ks} P_k(L) as a table T [n, n] over (s, c): the projection's value at every cell whose
 * (i + j) mod n is s. k = 0 adds the mean over pairs.
 */
export function projectionTable(coeffs: SumAngleCoefficients, ks: readonly number[]): Float64Array {
  const { n, U, V } = coeffs;
  const T = new Float64Array(n * n); // [n, n]
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 0 || k > Math.floor(n / 2)) {
      throw new FourierInputError('projection frequency', k, `an integer in 0 … ${Math.floor(n / 2)}`);
    }
    const { u, v } = sumAngleDirections(n, k);
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < n; c++) T[s * n + c] += u[s] * U[k * n + c] + v[s] * V[k * n + c];
    }
  }
  return T;
}

/**
 * Cosine coefficients α_w = ⟨L, C_w⟩ for w = 0 … ⌊n/2⌋, C_w[a,b,c] ∝ cos(2πw(a+b−c)/n) with unit
 * Frobenius norm (‖·‖² = n³/2, and n³ for w = 0 and the Nyquist w = n/2, where cos is ±1).
 * Analytically, cos(w(s−c)) = cos ws·cos wc + sin ws·sin wc gives, for every w,
 * α_w = (1/√n)·Σ_c (cos(2πwc/n)·U[w, c] + sin(2πwc/n)·V[w, c]); no n³ tensor is formed.
 */
export function cosineCoefficients(coeffs: SumAngleCoefficients): number[] {
  const { n, U, V } = coeffs;
  const alpha: number[] = [];
  for (let w = 0; w <= Math.floor(n / 2); w++) {
    let acc = 0;
    for (let c = 0; c < n; c++) {
      const angle = (2 * Math.PI * ((w * c) % n)) / n;
      acc += Math.cos(angle) * U[w * n + c] + Math.sin(angle) * V[w * n + c];
    }
    alpha.push(acc / Math.sqrt(n));
  }
  return alpha;
}

/**
 * Mean cross-entropy and accuracy of L − sub over the cells where `mask` is 1 (all cells without
 * a mask); the label of cell (i, j) is (i + j) mod n and `sub` [n, n] is a table over (s, c) as
 * from projectionTable (omit it for L itself). Float64 log-softmax; ties in the argmax count as
 * wrong unless the label is the first maximum.
 */
export function gridCrossEntropy(
  L: NumericArray,
  n: number,
  mask?: Uint8Array,
  sub?: Float64Array,
): { loss: number; acc: number; count: number } {
  checkGridLogits(L, n);
  if (mask) checkLength('grid mask', mask, n * n, `[${n}²]`);
  if (sub) checkLength('projection table', sub, n * n, `[${n}, ${n}]`);
  const row = new Float64Array(n);
  let loss = 0;
  let correct = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const cell = i * n + j;
      if (mask && !mask[cell]) continue;
      const s = (i + j) % n;
      for (let c = 0; c < n; c++) row[c] = L[cell * n + c] - (sub ? sub[s * n + c] : 0);
      const { ce, argmax } = logSoftmaxAt(row, s);
      loss += ce;
      if (argmax === s) correct++;
      count++;
    }
  }
  return { loss: count > 0 ? loss / count : NaN, acc: count > 0 ? correct / count : NaN, count };
}

/**
 * Train cross-entropy of L − P_k(L) for every k = 1 … ⌊n/2⌋ (entry k − 1), the sweep behind the
 * per-key and the max-over-k excluded losses. P_k(L) at a cell depends on s = (i + j) mod n only,
 * so train rows are grouped by s; each row is exponentiated once and each projected row
 * T_k[s, :] once per (s, k), which turns the sweep into dot products over rows kept in cache:
 * logsumexp(L − T) = mL + mT + log Σ_c e^{L−mL}·e^{−T−mT}. A row whose sum underflows (a spread
 * beyond ~600 nats) is redone directly.
 */
export function singleFrequencyExcludedLosses(
  coeffs: SumAngleCoefficients,
  L: NumericArray,
  trainMask: Uint8Array,
): Float64Array {
  const { n, U, V } = coeffs;
  checkGridLogits(L, n);
  checkLength('train mask', trainMask, n * n, `[${n}²]`);
  // Train cells sorted by s: cellsBySum[start[s] … start[s + 1]).
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (trainMask[i * n + j]) start[((i + j) % n) + 1]++;
  for (let s = 0; s < n; s++) start[s + 1] += start[s];
  const nt = start[n];
  if (nt === 0) throw new FourierInputError('train mask', 'no train pair in the group', 'at least one');
  const cellsBySum = new Int32Array(nt);
  const fill = start.slice(0, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) if (trainMask[i * n + j]) cellsBySum[fill[(i + j) % n]++] = i * n + j;

  const shiftL = new Float64Array(nt);
  const eL = new Float64Array(nt * n); // [nt, n] rows in cellsBySum order
  for (let q = 0; q < nt; q++) {
    const off = cellsBySum[q] * n;
    let m = -Infinity;
    for (let c = 0; c < n; c++) if (L[off + c] > m) m = L[off + c];
    shiftL[q] = m;
    for (let c = 0; c < n; c++) eL[q * n + c] = Math.exp(L[off + c] - m);
  }
  const kMax = Math.floor(n / 2);
  const total = new Float64Array(kMax);
  const T = new Float64Array(n); // T_k[s, :]
  const eT = new Float64Array(n);
  const row = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    if (start[s] === start[s + 1]) continue;
    for (let k = 1; k <= kMax; k++) {
      const { cu, sv } = directionAt(n, k, s);
      let mT = -Infinity;
      for (let c = 0; c < n; c++) {
        T[c] = cu * U[k * n + c] + sv * V[k * n + c];
        if (-T[c] > mT) mT = -T[c];
      }
      for (let c = 0; c < n; c++) eT[c] = Math.exp(-T[c] - mT);
      let acc = 0;
      for (let q = start[s]; q < start[s + 1]; q++) {
        const lOff = q * n;
        const z = dot(eL, lOff, eT, n);
        const cell = cellsBySum[q];
        const target = L[cell * n + s] - T[s];
        if (z > 1e-280) {
          acc += shiftL[q] + mT + Math.log(z) - target;
        } else {
          for (let c = 0; c < n; c++) row[c] = L[cell * n + c] - T[c];
          acc += logSoftmaxAt(row, s).ce;
        }
      }
      total[k - 1] += acc;
    }
  }
  for (let k = 0; k < kMax; k++) total[k] /= nt;
  return total;
}

/** Σ_c x[off + c]·y[c], four independent partial sums (the sweep's inner loop). */
function dot(x: Float64Array, off: number, y: Float64Array, n: number): number {
  let z0 = 0,
    z1 = 0,
    z2 = 0,
    z3 = 0;
  let c = 0;
  for (; c + 3 < n; c += 4) {
    z0 += x[off + c] * y[c];
    z1 += x[off + c + 1] * y[c + 1];
    z2 += x[off + c + 2] * y[c + 2];
    z3 += x[off + c + 3] * y[c + 3];
  }
  for (; c < n; c++) z0 += x[off + c] * y[c];
  return z0 + z1 + (z2 + z3);
}

/** u_k and v_k at sum s (see sumAngleDirections), one value each. */
function directionAt(n: number, k: number, s: number): { cu: number; sv: number } {
  if (2 * k === n) return { cu: (s % 2 === 0 ? 1 : -1) / n, sv: 0 };
  const angle = (2 * Math.PI * ((k * s) % n)) / n;
  return { cu: (Math.SQRT2 / n) * Math.cos(angle), sv: (Math.SQRT2 / n) * Math.sin(angle) };
}

export interface CircuitInput {
  /** [n², n] grid logits (gatherLogits). */
  L: NumericArray;
  n: number;
  /** [n²] 1 for train cells (gridTrainMask). */
  trainMask: Uint8Array;
  /** Key frequencies, distinct, in 1 … ⌊n/2⌋. */
  keyFrequencies: readonly number[];
  /** This checkpoint's test loss (metrics pass), for test_restricted_ratio. */
  testLoss: number;
}

/**
 * The circuit pass of one checkpoint (docs/measures.md#circuit-measures):
 *   restricted  R = Σ_{k∈K} P_k(L) + mean over pairs; CE and accuracy over all n² cells, CE over
 *               the train cells too (same checkpoint's mean).
 *   excluded    E = L − Σ_{k∈K} P_k(L), CE over the train cells; per key frequency L − P_k(L);
 *               the max of L − P_k(L) over every k = 1 … ⌊n/2⌋ (Nyquist included for even n)
 *               and its argmax (the smallest k on a tie).
 *   alpha       α_w, w = 0 … ⌊n/2⌋.
 *   ratio       testLoss / restricted_loss.
 * Train cells are those of the group: for mul / div the train pairs with a zero operand are
 * outside it and not counted.
 */
export function circuitResult(input: CircuitInput): CircuitResult {
  const { L, n, trainMask, keyFrequencies, testLoss } = input;
  checkSize('group order n', n, 2);
  checkKeyFrequencies(keyFrequencies, n);
  if (!Number.isFinite(testLoss)) throw new FourierInputError('test loss', testLoss, 'a finite number');
  const coeffs = sumAngleCoefficients(L, n);
  const keyTable = projectionTable(coeffs, keyFrequencies);

  // Restricted logits depend on s only: R[s, c] = keyTable[s, c] + mean[c], label s.
  const R = projectionTable(coeffs, [0]);
  for (let i = 0; i < R.length; i++) R[i] += keyTable[i];
  const ceOfSum = new Float64Array(n);
  let restrictedCorrect = 0;
  for (let s = 0; s < n; s++) {
    const { ce, argmax } = logSoftmaxAt(R.subarray(s * n, (s + 1) * n), s);
    ceOfSum[s] = ce;
    if (argmax === s) restrictedCorrect++;
  }
  let restricted = 0;
  for (let s = 0; s < n; s++) restricted += ceOfSum[s];
  restricted /= n;
  let restrictedTrain = 0;
  let nTrain = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (!trainMask[i * n + j]) continue;
      restrictedTrain += ceOfSum[(i + j) % n];
      nTrain++;
    }
  }

  const sweep = singleFrequencyExcludedLosses(coeffs, L, trainMask); // checks the mask, nTrain > 0
  let maxK = 1;
  for (let k = 2; k <= sweep.length; k++) if (sweep[k - 1] > sweep[maxK - 1]) maxK = k;

  return {
    restricted_loss: restricted,
    restricted_loss_train: restrictedTrain / nTrain,
    restricted_acc: restrictedCorrect / n,
    excluded_loss: gridCrossEntropy(L, n, trainMask, keyTable).loss,
    excluded_loss_per_key: keyFrequencies.map((k) => sweep[k - 1]),
    excluded_loss_max: sweep[maxK - 1],
    excluded_loss_max_k: maxK,
    alpha: cosineCoefficients(coeffs),
    test_restricted_ratio: testLoss / restricted,
  };
}

/** −log softmax(row)[label] in float64, and the first argmax. */
function logSoftmaxAt(row: ArrayLike<number>, label: number): { ce: number; argmax: number } {
  let m = -Infinity;
  let argmax = 0;
  for (let c = 0; c < row.length; c++) {
    if (row[c] > m) {
      m = row[c];
      argmax = c;
    }
  }
  let z = 0;
  for (let c = 0; c < row.length; c++) z += Math.exp(row[c] - m);
  return { ce: m + Math.log(z) - row[label], argmax };
}

function checkGridLogits(L: NumericArray, n: number): void {
  checkSize('group order n', n, 2);
  checkLength('grid logits', L, n * n * n, `[${n}², ${n}]`);
  for (let i = 0; i < L.length; i++) {
    if (!Number.isFinite(L[i])) {
      const cell = Math.floor(i / n);
      throw new FourierInputError(
        `grid logits at cell (${Math.floor(cell / n)}, ${cell % n}), class ${i % n}`,
        L[i],
        'a finite number',
      );
    }
  }
}
