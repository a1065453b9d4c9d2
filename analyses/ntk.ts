/**
 * The empirical-NTK pass (docs/measures.md#empirical-ntk): on a fixed, recorded probe set of M inputs, the kernels
 * K[i,j] = ∇θf(x_i)·∇θf(x_j) over every trained parameter (a frozen tensor such as the attention
 * biases without model.attn_bias is not a parameter), for two scalar outputs,
 *   projection    f(x) = r·logits(x), r a fixed random unit vector over the output classes;
 *   first_output  f(x) = logits(x)[0] (Mohamadi et al.);
 * and, against the initial checkpoint's kernel K_0: the kernel distance S(K_t, K_0) (Fort et al.
 * 2020), the change ‖K_t − K_0‖_F absolute and relative to ‖K_0‖_F, the kernel–label alignment
 * plain and centred (Kumar et al.), and the trace.
 *
 * Our choices (documented in the README, "Weight norms and the kernel-versus-rich distance"):
 * - Probe set: M examples (default 64) drawn without replacement from train and test in the
 *   split's proportion (round(M·n_train/n)), with Rng.derive(seed, 'ntk/probe'); train indices
 *   first, then test, each ascending. r: N(0, 1) per class from Rng.derive(seed, 'ntk/projection'),
 *   normalised to unit length.
 * - Label vectors: the target of each scalar output under one-hot labels, centred over the classes
 *   because a softmax ignores a constant added to every logit: y_i = u[label_i] − mean(u) with
 *   u = r (projection) or u = e_0 (first output: y_i = [label_i = 0] − 1/C).
 * - Degenerate denominators (an all-zero kernel or label vector, or labels that are constant over
 *   the probes for the centred alignment) give 0, never NaN.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../src/errors.ts';
import { Rng } from '../src/rng.ts';
import { trainedSpecs, type Model } from '../src/models/types.ts';
import type { Dataset, Split } from '../src/tasks/types.ts';
import { Linearisation } from '../src/models/linearisation.ts';
import { kernelFromGrads } from './ntk-linearised.ts';
import type { AnalysisFile, KernelStats, NtkResult } from './types.ts';

export const DEFAULT_PROBE_SIZE = 64;

/** What analysis.json records under options.probe. */
export type NtkProbe = NonNullable<AnalysisFile['options']['probe']>;

/** The two M×M kernels, row-major, symmetric. */
export interface NtkKernels {
  m: number;
  projection: Float64Array; // [m, m], f(x) = r·logits(x)
  first_output: Float64Array; // [m, m], f(x) = logits(x)[0]
}

/** Label vectors for kernel–label alignment, one per scalar output. */
export interface NtkTargets {
  projection: Float64Array; // [m]: r[label_i] − mean(r)
  first_output: Float64Array; // [m]: [label_i = 0] − 1/C
}

/**
 * The probe set and projection for a run: min(m, n_train + n_test) examples, stratified by split
 * (see the header), and a unit vector over the dataset's d_vocab_out classes.
 */
export function chooseProbe(dataset: Dataset, split: Split, seed: number, m: number = DEFAULT_PROBE_SIZE): NtkProbe {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new UserError(`ntk probe seed: expected an integer in [0, 2^32), got ${seed}`);
  if (!Number.isInteger(m) || m < 2) throw new UserError(`ntk probe size: expected an integer ≥ 2, got ${m}`);
  for (const [name, part] of [
    ['train', split.train],
    ['test', split.test],
  ] as const) {
    for (const i of part) {
      if (!(i >= 0 && i < dataset.n))
        throw new UserError(`ntk probe: split.${name} holds index ${i}, outside the dataset's [0, ${dataset.n})`);
    }
  }
  const nTrain = split.train.length;
  const nTest = split.test.length;
  const size = Math.min(m, nTrain + nTest);
  if (size < 2)
    throw new UserError(`ntk probe: the split holds ${nTrain + nTest} example(s); the kernel needs at least 2`);
  const fromTrain = Math.min(nTrain, Math.max(size - nTest, Math.round((size * nTrain) / (nTrain + nTest))));
  const rng = Rng.derive(seed, 'ntk/probe');
  const indices = [...draw(split.train, fromTrain, rng), ...draw(split.test, size - fromTrain, rng)];

  const rr = Rng.derive(seed, 'ntk/projection');
  const r = Array.from({ length: dataset.d_vocab_out }, () => rr.normal());
  const norm = Math.hypot(...r);
  return { n: size, seed, indices, projection: r.map((v) => v / norm) };
}

/** k distinct entries of `pool` (partial Fisher–Yates on a copy), ascending. */
function draw(pool: Int32Array, k: number, rng: Rng): number[] {
  const a = Array.from(pool);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k).sort((x, y) => x - y);
}

/** The probe's tokens [n, n_ctx] and labels [n]. */
export function probeBatch(dataset: Dataset, probe: NtkProbe): { tokens: Int32Array; labels: Int32Array; n: number } {
  const T = dataset.n_ctx;
  const n = probe.indices.length;
  const tokens = new Int32Array(n * T);
  const labels = new Int32Array(n);
  probe.indices.forEach((idx, i) => {
    if (!Number.isInteger(idx) || idx < 0 || idx >= dataset.n) {
      throw new UserError(`ntk probe: index ${idx} (entry ${i}) is outside the dataset's [0, ${dataset.n})`);
    }
    tokens.set(dataset.tokens.subarray(idx * T, (idx + 1) * T), i * T);
    labels[i] = dataset.labels[idx];
  });
  return { tokens, labels, n };
}

/**
 * Both kernels at `params`. Fast path (./ntk-linearised.ts): one batched forward and one batched
 * backward per output, Gram products per parameter. Before using it we check that it covers every
 * parameter exactly once and reproduces Model.forward's logits (every model carries its own
 * linearisation, src/models/<kind>/linearised.ts); empiricalNtkPerExample is the slow oracle.
 */
export function empiricalNtk(
  model: Model,
  params: Record<string, Float32Array>,
  probeTokens: Int32Array,
  r: ArrayLike<number>,
): NtkKernels {
  const fwd = model.linearised;
  const m = probeSize(model, probeTokens);
  const outputs = outputDirections(model, r);
  const paramsT = uploadParams(model, params);
  const inputs = fwd.inputs(probeTokens, m);
  const lin = new Linearisation();
  const gram = new Map<tf.Tensor, tf.Tensor2D>();
  try {
    const logits = tf.tidy(() => fwd.logits(paramsT, lin, inputs, m)); // discover: records the uses
    try {
      checkCoverage(model, lin);
      checkAgainstForward(model, paramsT, probeTokens, m, logits);
    } finally {
      logits.dispose();
    }
    const kernel = (u: Float32Array): Float64Array => {
      const eps = lin.zeros();
      const uT = tf.tensor1d(u);
      try {
        const grads = tf.grads((...e: tf.Tensor[]) => {
          lin.perturb(e);
          return tf.sum(tf.mul(fwd.logits(paramsT, lin, inputs, m), uT)) as tf.Scalar;
        })(eps);
        const K = kernelFromGrads(lin, grads, m, gram, frozenNames(model));
        tf.dispose(grads);
        const data = K.dataSync();
        K.dispose();
        return symmetrised(data, m);
      } finally {
        tf.dispose([...eps, uT]);
      }
    };
    return { m, projection: kernel(outputs.r), first_output: kernel(outputs.e0) };
  } finally {
    lin.dispose();
    tf.dispose([...gram.values(), ...inputs, ...Object.values(paramsT)]);
  }
}

/**
 * The direct definition: one backward pass through Model.forward per probe and output, the
 * gradients stacked into J [M, P], K = J·Jᵀ. Works for any Model; about 30× slower than
 * empiricalNtk at nanda-2023 size (bench/ntk.ts), so it serves as its cross-check and fallback.
 */
export function empiricalNtkPerExample(
  model: Model,
  params: Record<string, Float32Array>,
  probeTokens: Int32Array,
  r: ArrayLike<number>,
): NtkKernels {
  const m = probeSize(model, probeTokens);
  const T = model.dims.n_ctx;
  const outputs = outputDirections(model, r);
  const paramsT = uploadParams(model, params);
  // Gradients of the trained parameters only: a frozen tensor is no parameter of the model.
  const trained = trainedSpecs(model.specs).map((s) => s.name);
  const frozen = model.specs.filter((s) => s.frozen === true).map((s) => s.name);
  const list = trained.map((n) => paramsT[n]);
  const dirs = [tf.tensor1d(outputs.r), tf.tensor1d(outputs.e0)];
  const rows: tf.Tensor[][] = [[], []]; // per output: M rows [1, P]
  try {
    for (let i = 0; i < m; i++) {
      const input = model.prepare(probeTokens.slice(i * T, (i + 1) * T), 1);
      try {
        dirs.forEach((u, o) => {
          const g = tf.grads((...xs: tf.Tensor[]) => {
            const rec: Record<string, tf.Tensor> = {};
            trained.forEach((n, k) => (rec[n] = xs[k]));
            for (const n of frozen) rec[n] = paramsT[n];
            return tf.sum(tf.mul(model.forward(rec, input).logits, u)) as tf.Scalar;
          })(list);
          rows[o].push(
            tf.tidy(() =>
              tf.concat(
                g.map((x) => tf.reshape(x, [1, -1])),
                1,
              ),
            ),
          );
          tf.dispose(g);
        });
      } finally {
        input.dispose();
      }
    }
    const [projection, first_output] = rows.map((rs) => {
      const K = tf.tidy(() => {
        const J = tf.concat(rs, 0) as tf.Tensor2D; // [M, P]
        return tf.matMul(J, J, false, true);
      });
      const data = K.dataSync();
      K.dispose();
      return symmetrised(data, m);
    });
    return { m, projection, first_output };
  } finally {
    tf.dispose([...rows.flat(), ...dirs, ...Object.values(paramsT)]);
  }
}

/** Names of the stored tensors that are not trained (no gradient, no place in the kernel). */
function frozenNames(model: Model): Set<string> {
  return new Set(model.specs.filter((s) => s.frozen === true).map((s) => s.name));
}

function probeSize(model: Model, probeTokens: Int32Array): number {
  const T = model.dims.n_ctx;
  if (probeTokens.length === 0 || probeTokens.length % T !== 0) {
    throw new UserError(
      `empiricalNtk: probe tokens: expected a positive multiple of n_ctx = ${T}, got ${probeTokens.length}`,
    );
  }
  const V = model.dims.d_vocab;
  for (let i = 0; i < probeTokens.length; i++) {
    const tok = probeTokens[i];
    if (!(tok >= 0 && tok < V)) {
      throw new UserError(
        `empiricalNtk: token ${tok} of probe ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${V})`,
      );
    }
  }
  return probeTokens.length / T;
}

function outputDirections(model: Model, r: ArrayLike<number>): { r: Float32Array; e0: Float32Array } {
  const C = model.dims.d_vocab_out;
  if (r.length !== C)
    throw new UserError(`empiricalNtk: projection: expected ${C} entries (one per output class), got ${r.length}`);
  for (let c = 0; c < C; c++)
    if (!Number.isFinite(r[c]))
      throw new UserError(`empiricalNtk: projection[${c}] is ${r[c]}, expected a finite number`);
  const e0 = new Float32Array(C);
  e0[0] = 1;
  return { r: Float32Array.from(r), e0 };
}

function uploadParams(model: Model, params: Record<string, Float32Array>): Record<string, tf.Tensor> {
  for (const { name, shape } of model.specs) {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = params[name];
    if (t === undefined)
      throw new UserError(`empiricalNtk: parameter '${name}' is missing (expected shape [${shape}])`);
    if (t.length !== size)
      throw new UserError(
        `empiricalNtk: parameter '${name}' has ${t.length} entries, expected ${size} (shape [${shape}])`,
      );
  }
  const out: Record<string, tf.Tensor> = {};
  for (const { name, shape } of model.specs) out[name] = tf.tensor(params[name], shape);
  return out;
}

/** Every parameter of model.specs is used exactly once, with all its entries. */
function checkCoverage(model: Model, lin: Linearisation): void {
  const covered = new Map<string, number>();
  const add = (name: string, entries: number) => {
    if (covered.has(name)) throw new Error(`NTK linearisation of the ${model.config.kind} model uses '${name}' twice`);
    covered.set(name, entries);
  };
  for (const u of lin.uses) {
    add(u.weight, u.gain ? u.outDim : u.x.shape[1] * u.outDim);
    if (u.bias !== null) add(u.bias, u.outDim);
  }
  for (const { name, shape } of model.specs) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (covered.get(name) !== size) {
      throw new Error(
        `NTK linearisation of the ${model.config.kind} model covers ${covered.get(name) ?? 0} of the ${size} entries of '${name}'`,
      );
    }
    covered.delete(name);
  }
  if (covered.size > 0)
    throw new Error(`NTK linearisation uses parameters the model does not have: ${[...covered.keys()].join(', ')}`);
}

/** The linearised forward must give Model.forward's logits (up to float32 rounding). */
function checkAgainstForward(
  model: Model,
  params: Record<string, tf.Tensor>,
  tokens: Int32Array,
  m: number,
  logits: tf.Tensor,
): void {
  const input = model.prepare(tokens, m);
  let expected: ArrayLike<number>;
  try {
    const out = tf.tidy(() => model.forward(params, input).logits);
    expected = out.dataSync();
    out.dispose();
  } finally {
    input.dispose();
  }
  const got = logits.dataSync();
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  if (!(worst <= 1e-4 * scale) || got.length !== expected.length) {
    throw new Error(
      `NTK linearisation of the ${model.config.kind} model disagrees with Model.forward (max |Δlogit| ${worst} at scale ${scale}): ` +
        'analyses/ntk-linearised.ts no longer mirrors src/models',
    );
  }
}

/** Float32 kernel → float64, (K + Kᵀ)/2 so that it is exactly symmetric. */
function symmetrised(data: ArrayLike<number>, m: number): Float64Array {
  const K = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (data[i * m + j] + data[j * m + i]) / 2;
      K[i * m + j] = v;
      K[j * m + i] = v;
    }
  }
  return K;
}

/** The label vectors of the header, for probe labels in [0, C) with C = r.length. */
export function ntkTargets(labels: Int32Array, r: ArrayLike<number>): NtkTargets {
  const C = r.length;
  if (C < 1) throw new UserError('ntk targets: the projection is empty');
  let mean = 0;
  for (let c = 0; c < C; c++) mean += r[c] / C;
  const projection = new Float64Array(labels.length);
  const first_output = new Float64Array(labels.length);
  labels.forEach((l, i) => {
    if (!(l >= 0 && l < C)) throw new UserError(`ntk targets: label ${l} of probe ${i} is outside [0, ${C})`);
    projection[i] = r[l] - mean;
    first_output[i] = (l === 0 ? 1 : 0) - 1 / C;
  });
  return { projection, first_output };
}

/**
 * docs/measures.md#kernel-distance statistics of K (the checkpoint's kernel) against K0 (the initial checkpoint's), both
 * [m, m] row-major, and the label vector y [m]:
 *   kernel_distance  1 − ⟨K,K0⟩_F/(‖K‖_F‖K0‖_F), in [0, 2] (1 when exactly one kernel is zero)
 *   change_abs / change_rel   ‖K − K0‖_F and ÷ ‖K0‖_F
 *   alignment        yᵀKy/(‖K‖_F‖y‖²)
 *   alignment_centred  the same with K ← HKH and y ← Hy, H = I − 11ᵀ/m (Hy = y − mean y, and
 *                    (Hy)ᵀHKH(Hy) = (Hy)ᵀK(Hy) since H is idempotent)
 *   trace            Σ K_ii
 */
export function kernelStats(K: ArrayLike<number>, K0: ArrayLike<number>, y: ArrayLike<number>): KernelStats {
  const m = y.length;
  if (m < 1) throw new UserError('kernelStats: the label vector is empty');
  if (K.length !== m * m || K0.length !== m * m) {
    throw new UserError(
      `kernelStats: expected kernels of ${m}×${m} = ${m * m} entries (one row per label), got ${K.length} and ${K0.length}`,
    );
  }
  for (const [name, a] of [
    ['K', K],
    ['K0', K0],
    ['y', y],
  ] as const) {
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i]))
        throw new UserError(`kernelStats: ${name}[${i}] is ${a[i]}, expected a finite number`);
  }
  let dot = 0,
    sqK = 0,
    sqK0 = 0,
    sqDiff = 0,
    trace = 0;
  for (let i = 0; i < m * m; i++) {
    dot += K[i] * K0[i];
    sqK += K[i] * K[i];
    sqK0 += K0[i] * K0[i];
    sqDiff += (K[i] - K0[i]) ** 2;
  }
  for (let i = 0; i < m; i++) trace += K[i * m + i];
  const normK = Math.sqrt(sqK);
  const normK0 = Math.sqrt(sqK0);
  let distance: number;
  if (normK > 0 && normK0 > 0) distance = Math.min(2, Math.max(0, 1 - dot / normK / normK0));
  else distance = normK === normK0 ? 0 : 1;
  const change_abs = Math.sqrt(sqDiff);

  // centring: Kc = HKH = K − row means − column means + grand mean; yc = y − mean(y)
  const rowMean = new Float64Array(m);
  const colMean = new Float64Array(m);
  let grand = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      rowMean[i] += K[i * m + j] / m;
      colMean[j] += K[i * m + j] / m;
    }
    grand += rowMean[i] / m;
  }
  let yMean = 0;
  for (let i = 0; i < m; i++) yMean += y[i] / m;
  let yKy = 0,
    ycKyc = 0,
    sqKc = 0,
    yy = 0,
    ycyc = 0;
  for (let i = 0; i < m; i++) {
    const yci = y[i] - yMean;
    yy += y[i] * y[i];
    ycyc += yci * yci;
    for (let j = 0; j < m; j++) {
      const k = K[i * m + j];
      yKy += y[i] * k * y[j];
      ycKyc += yci * k * (y[j] - yMean);
      sqKc += (k - rowMean[i] - colMean[j] + grand) ** 2;
    }
  }
  return {
    kernel_distance: distance,
    change_abs,
    change_rel: ratio(change_abs, normK0),
    alignment: ratio(yKy, normK * yy),
    // centring a constant y (or K) leaves only rounding noise: treat that as zero
    alignment_centred: ycyc <= 1e-24 * yy || sqKc <= 1e-24 * sqK ? 0 : ratio(ycKyc, Math.sqrt(sqKc) * ycyc),
    trace,
  };
}

/** a / b, or 0 when b is 0 (an all-zero kernel or label vector has nothing to compare). */
function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

/** The pass's result for one checkpoint, given its kernels, the initial checkpoint's, and the targets. */
export function ntkResult(K: NtkKernels, K0: NtkKernels, targets: NtkTargets): NtkResult {
  if (K.m !== K0.m || targets.projection.length !== K.m) {
    throw new UserError(
      `ntk: probe sizes differ (checkpoint ${K.m}, initial checkpoint ${K0.m}, labels ${targets.projection.length})`,
    );
  }
  return {
    projection: kernelStats(K.projection, K0.projection, targets.projection),
    first_output: kernelStats(K.first_output, K0.first_output, targets.first_output),
  };
}
