import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { offsetOf, simdFor, type HeapBackend } from './simd.ts';

/**
 * Fused softmax cross-entropy for the wasm backend, over the wasm heap one row at a time (a row
 * of C logits stays in L1 cache while it is read three times). src/optim/loss.ts uses it when
 * the active backend registers these kernel names, and otherwise its composite of tfjs ops:
 *
 * - Forward, SoftmaxCrossEntropy {logits [n, C], mask [n, C]} → [value [], probs [n, C]]:
 *   z = x − max_row(x); lse = log Σ e^z; value = (1/n)·Σ_i (Σ_j m_ij·lse_i − Σ_j m_ij·z_ij);
 *   probs = e^z / Σ e^z (saved for the backward pass).
 * - Backward, SoftmaxCrossEntropyGrad {probs, mask, dy []} → [n, C]:
 *   g_ij = (t_ij − m_ij·S_i)·dy/n with t_ij = p_ij − p_ij·m_ij and S_i = Σ_j t_ij. For a one-hot
 *   mask that is softmax − onehot with the true class's entry written as −Σ_{j≠y} p_j, which
 *   stays precise when p_y rounds to 1 (see crossEntropy in src/optim/loss.ts).
 *
 * All arithmetic is float64 (the float32 inputs are exact in it), and each output is rounded to
 * float32 once, so the kernels are more precise than the composite path (whose z, exp, sums and
 * products each round to float32: ~1e-6 relative on p for |z| ≈ 10). e^z: `expd` below; the
 * loss of a confident model (1e-7) keeps ~9 digits.
 *
 * Two implementations giving the same bits: wasm SIMD (./simd-kernels.wat via ./simd.ts, in place
 * on tfjs-backend-wasm's heap, two float64 lanes), and the plain-JS fallback here, which repeats
 * its float64 operations and summation order (two interleaved partial sums, see the .wat) for
 * when the module cannot be instantiated. tests/backend/softmax-xent.test.ts holds them to each
 * other bit for bit and to a float64 oracle.
 *
 * Cost at the mlp-97 size (n = 2822, C = 97), bench/cross-entropy.ts: the composite path makes
 * ~15 passes over [n, C] (5.1 ms value + gradient under load ≈ 7); the SIMD kernels ~1.5 ms.
 */

export const SOFTMAX_XENT = 'GroklensSoftmaxCrossEntropy';
export const SOFTMAX_XENT_GRAD = 'GroklensSoftmaxCrossEntropyGrad';

const MAGIC = 6755399441055744; // 1.5·2^52: (y + MAGIC) − MAGIC rounds y to the nearest integer
const LOG2E = 1.4426950408889634;
const LN2_HI = 0.6931471803691238; // fdlibm's split of ln 2: k·LN2_HI is exact for |k| < 2^20
const LN2_LO = 1.9082149292705877e-10;
const MIN_Z = -104; // e^−104 ≈ 6.8e-46 rounds to 0 in float32
const POW2 = Float64Array.from({ length: 200 }, (_, i) => 2 ** (i - 199)); // 2^k for k in [−199, 0]

/**
 * e^z for z ≤ 0 in float64: k = round(z/ln 2), r = z − k·ln 2 (|r| ≤ ln 2/2, two-part ln 2),
 * e^r by its degree-10 Taylor polynomial (remainder < 2.3e-13 relative), times 2^k (exact).
 * z < −104 gives 0, NaN gives NaN. The wasm `$exp2d` does the same operations.
 */
export function expd(z: number): number {
  if (z !== z) return z;
  const zc = z < MIN_Z ? MIN_Z : z;
  const k = zc * LOG2E + MAGIC - MAGIC;
  const r = zc - k * LN2_HI - k * LN2_LO;
  let y = 2.755731922398589e-7;
  y = y * r + 2.7557319223985893e-6;
  y = y * r + 2.48015873015873e-5;
  y = y * r + 0.0001984126984126984;
  y = y * r + 0.001388888888888889;
  y = y * r + 0.008333333333333333;
  y = y * r + 0.041666666666666664;
  y = y * r + 0.16666666666666666;
  y = y * r + 0.5;
  y = y * r + 1;
  y = y * r + 1;
  return z < MIN_Z ? 0 : y * POW2[k + 199];
}

function heapF32(backend: HeapBackend, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export const softmaxXentForward: KernelFunc = (args) => {
  const { logits, mask } = args.inputs as { logits: TensorInfo; mask: TensorInfo };
  const backend = args.backend as unknown as HeapBackend;
  if (
    logits.shape.length !== 2 ||
    mask.shape.join() !== logits.shape.join() ||
    logits.dtype !== 'float32' ||
    mask.dtype !== 'float32'
  ) {
    throw new Error(
      `${SOFTMAX_XENT}: needs float32 logits [n, C] and a float32 mask of the same shape, got [${logits.shape}] ${logits.dtype} and [${mask.shape}] ${mask.dtype}`,
    );
  }
  const [n, c] = logits.shape;
  const value = backend.makeOutput([], 'float32');
  const probs = backend.makeOutput([n, c], 'float32');
  // Per row three float64 (Σ e^z, Σ m·z, Σ m), then one row of e^z: 8·(3n + c) bytes.
  const scratch = backend.makeOutput([2 * (3 * n + c) + 2], 'float32');
  try {
    const s = backend.typedArrayFromHeap(scratch);
    const at = (s.byteOffset + 7) & ~7; // 8-byte aligned
    const simd = simdFor(backend);
    if (simd) {
      simd.xent_fwd(
        offsetOf(backend, logits),
        offsetOf(backend, mask),
        offsetOf(backend, probs),
        n,
        c,
        at,
        at + 24 * n,
      );
    } else {
      jsForward(
        heapF32(backend, logits),
        heapF32(backend, mask),
        heapF32(backend, probs),
        n,
        c,
        new Float64Array(s.buffer, at, 3 * n + c),
      );
    }
    const rows = new Float64Array(backend.typedArrayFromHeap(scratch).buffer, at, 3 * n);
    let total = 0;
    for (let i = 0; i < n; i++) total += rows[3 * i + 2] * Math.log(rows[3 * i]) - rows[3 * i + 1];
    heapF32(backend, value)[0] = total / n;
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return [value, probs];
};

/** The JS fallback of the wasm `xent_fwd`: the same float64 operations in the same order. */
function jsForward(x: Float32Array, m: Float32Array, p: Float32Array, n: number, c: number, out: Float64Array): void {
  const c4 = c & ~3;
  const e = out.subarray(3 * n);
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let max = -Infinity;
    let nan = false;
    for (let j = 0; j < c; j++) {
      const v = x[o + j];
      if (v > max) max = v;
      else if (v !== v) nan = true;
    }
    if (nan) max = NaN;
    let s0 = 0,
      s1 = 0,
      d0 = 0,
      d1 = 0,
      m0 = 0,
      m1 = 0;
    for (let j = 0; j < c4; j += 4) {
      const z0 = x[o + j] - max,
        z1 = x[o + j + 1] - max,
        z2 = x[o + j + 2] - max,
        z3 = x[o + j + 3] - max;
      const e0 = expd(z0),
        e1 = expd(z1),
        e2 = expd(z2),
        e3 = expd(z3);
      e[j] = e0;
      e[j + 1] = e1;
      e[j + 2] = e2;
      e[j + 3] = e3;
      const k0 = m[o + j],
        k1 = m[o + j + 1],
        k2 = m[o + j + 2],
        k3 = m[o + j + 3];
      s0 = s0 + e0 + e2;
      s1 = s1 + e1 + e3;
      d0 = d0 + k0 * z0 + k2 * z2;
      d1 = d1 + k1 * z1 + k3 * z3;
      m0 = m0 + k0 + k2;
      m1 = m1 + k1 + k3;
    }
    let sum = s0 + s1,
      dot = d0 + d1,
      ms = m0 + m1;
    for (let j = c4; j < c; j++) {
      const z = x[o + j] - max;
      const ez = expd(z);
      e[j] = ez;
      const k = m[o + j];
      sum += ez;
      dot += k * z;
      ms += k;
    }
    out[3 * i] = sum;
    out[3 * i + 1] = dot;
    out[3 * i + 2] = ms;
    const inv = 1 / sum;
    for (let j = 0; j < c; j++) p[o + j] = e[j] * inv;
  }
}

export const softmaxXentGrad: KernelFunc = (args) => {
  const { probs, mask, dy } = args.inputs as { probs: TensorInfo; mask: TensorInfo; dy: TensorInfo };
  const backend = args.backend as unknown as HeapBackend;
  const [n, c] = probs.shape;
  const out = backend.makeOutput([n, c], 'float32');
  const scale = heapF32(backend, dy)[0] / n;
  const simd = simdFor(backend);
  if (simd) {
    simd.xent_grad(offsetOf(backend, probs), offsetOf(backend, mask), offsetOf(backend, out), n, c, scale);
    return out;
  }
  const p = heapF32(backend, probs);
  const m = heapF32(backend, mask);
  const g = heapF32(backend, out);
  const c4 = c & ~3;
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let a0 = 0,
      a1 = 0;
    for (let j = 0; j < c4; j += 4) {
      const p0 = p[o + j],
        p1 = p[o + j + 1],
        p2 = p[o + j + 2],
        p3 = p[o + j + 3];
      a0 = a0 + (p0 - p0 * m[o + j]) + (p2 - p2 * m[o + j + 2]);
      a1 = a1 + (p1 - p1 * m[o + j + 1]) + (p3 - p3 * m[o + j + 3]);
    }
    let s = a0 + a1;
    for (let j = c4; j < c; j++) s += p[o + j] - p[o + j] * m[o + j];
    for (let j = 0; j < c; j++) {
      const pj = p[o + j];
      const mj = m[o + j];
      g[o + j] = (pj - pj * mj - mj * s) * scale;
    }
  }
  return out;
};
