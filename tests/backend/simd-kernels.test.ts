/**
 * The fused kernels of src/backend (softmax cross-entropy, Adam update, segment sum, gather,
 * two-row lookups, leading-axis sums) in
 * their two implementations — wasm SIMD on the tfjs heap and the plain-JS fallback — against a
 * float64 oracle written here from the definitions (not from the kernels), against each other
 * bit for bit, and against tfjs's own ops where they replace them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADAM_UPDATE, type AdamAttrs } from '../../src/backend/adam-kernel.ts';
import { useBackend } from '../../src/backend/index.ts';
import { GATHER_ADD_ROWS } from '../../src/backend/kernel-names.ts';
import { useSimdKernels } from '../../src/backend/simd.ts';
import { expd, SOFTMAX_XENT, SOFTMAX_XENT_GRAD } from '../../src/backend/softmax-xent.ts';
import { uninstallWasmKernelWrappers, installWasmKernelWrappers } from '../../src/backend/wasm-kernels.ts';
import { crossEntropy } from '../../src/optim/loss.ts';
import { Rng } from '../../src/rng.ts';

beforeAll(async () => {
  await useBackend('wasm');
});
afterEach(() => useSimdKernels(true));

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** float64 oracle: mean cross-entropy, softmax and d(loss)/d(logits) for mask rows m. */
function xent64(x: ArrayLike<number>, m: ArrayLike<number>, n: number, c: number, dy = 1) {
  let loss = 0;
  const p = new Float64Array(n * c);
  const g = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, j) => x[i * c + j]);
    const max = Math.max(...row);
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    let msum = 0;
    for (let j = 0; j < c; j++) {
      const logp = row[j] - max - lse;
      p[i * c + j] = Math.exp(logp);
      loss -= m[i * c + j] * logp;
      msum += m[i * c + j];
    }
    // d/dx_j of −Σ_k m_k log p_k = p_j·Σm − m_j; the off-class sum written out for one-hot rows
    for (let j = 0; j < c; j++) {
      let others = 0;
      for (let k = 0; k < c; k++) if (k !== j) others += Math.exp(row[k] - max - lse);
      g[i * c + j] = (m[i * c + j] === 1 && msum === 1 ? -others : p[i * c + j] * msum - m[i * c + j]) * (dy / n);
    }
  }
  return { loss: loss / n, p, g };
}

function runXent(x: Float32Array, m: Float32Array, n: number, c: number, dy = 1) {
  return tf.tidy(() => {
    const lt = tf.tensor2d(x, [n, c]);
    const mt = tf.tensor2d(m, [n, c]);
    const [v, p] = tf.engine().runKernel(SOFTMAX_XENT, { logits: lt, mask: mt }) as tf.Tensor[];
    const g = tf.engine().runKernel(SOFTMAX_XENT_GRAD, { probs: p, mask: mt, dy: tf.scalar(dy) }) as tf.Tensor;
    return { loss: v.dataSync()[0], p: p.dataSync() as Float32Array, g: g.dataSync() as Float32Array };
  });
}

function oneHot(labels: number[], c: number): Float32Array {
  const m = new Float32Array(labels.length * c);
  labels.forEach((y, i) => (m[i * c + y] = 1));
  return m;
}

/** Largest |a − b| / (|b| + floor) over the entries. */
function worstRel(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  let w = 0;
  for (let i = 0; i < b.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor));
  return w;
}

describe('expd (float64 e^z for z ≤ 0, shared by the SIMD and JS kernels)', () => {
  it('is within 1e-12 relative of Math.exp on [−104, 0], 0 below, NaN for NaN', () => {
    const rng = new Rng(5);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const z = -104 * rng.uniform();
      worst = Math.max(worst, Math.abs(expd(z) / Math.exp(z) - 1));
    }
    expect(worst).toBeLessThan(1e-12);
    expect(expd(0)).toBe(1);
    expect(expd(-105)).toBe(0);
    expect(expd(-Infinity)).toBe(0);
    expect(expd(NaN)).toBeNaN();
  });
});

describe('fused softmax cross-entropy kernels', () => {
  // Shapes with and without a tail after the 4-wide loop, including C < 4.
  const SHAPES: [number, number][] = [
    [7, 5],
    [33, 97],
    [16, 4],
    [5, 3],
    [3, 2],
    [1, 1],
    [64, 113],
  ];

  for (const [n, c] of SHAPES) {
    it(`[${n}, ${c}]: value, softmax and gradient within float32 rounding of the float64 oracle; SIMD = JS bit for bit`, () => {
      const rng = new Rng(n * 1000 + c);
      const x = Float32Array.from(rng.normalArray(n * c, 4));
      const labels = Array.from({ length: n }, (_, i) => (i * 7 + 3) % c);
      const m = oneHot(labels, c);
      const ref = xent64(x, m, n, c, 1.5);
      const simd = runXent(x, m, n, c, 1.5);
      // Each output is one float32 rounding of a float64 value accurate to ~1e-13: 6e-8 relative
      // (+ a little for the loss's sums); the gradient's absolute floor covers entries near 0.
      expect(Math.abs(simd.loss - ref.loss) / Math.max(Math.abs(ref.loss), 1e-30)).toBeLessThan(1.2e-7); // C = 1: loss 0
      expect(worstRel(simd.p, ref.p, 1e-30)).toBeLessThan(1.2e-7);
      expect(worstRel(simd.g, ref.g, 1e-12)).toBeLessThan(1.2e-7);
      useSimdKernels(false);
      const js = runXent(x, m, n, c, 1.5);
      expect(bits([js.loss])).toEqual(bits([simd.loss]));
      expect(bits(js.p)).toEqual(bits(simd.p));
      expect(bits(js.g)).toEqual(bits(simd.g));
    });
  }

  it('keeps tiny losses (1e-7 … 1e-12) and their gradients precise', () => {
    // The true class leads by 16–28 nats: p_y rounds to 1 in float32, the loss is Σ_{j≠y} p_j.
    const n = 4;
    const c = 9;
    const labels = [0, 4, 8, 2];
    const x = new Float32Array(n * c);
    labels.forEach((y, i) => {
      for (let j = 0; j < c; j++) x[i * c + j] = j === y ? 16 + 4 * i : 0.01 * j;
    });
    const m = oneHot(labels, c);
    const ref = xent64(x, m, n, c);
    expect(ref.loss).toBeGreaterThan(1e-12);
    expect(ref.loss).toBeLessThan(1e-6);
    for (const on of [true, false]) {
      useSimdKernels(on);
      const got = runXent(x, m, n, c);
      expect(Math.abs(got.loss - ref.loss) / ref.loss, `loss (simd ${on})`).toBeLessThan(1e-6);
      // Including the true class's entry −Σ_{j≠y} p_j (≈ −1e-7/n), which p_y − 1 would lose.
      expect(worstRel(got.g, ref.g), `gradient (simd ${on})`).toBeLessThan(1e-6);
      labels.forEach((y, i) => expect(got.g[i * c + y]).toBeLessThan(0));
    }
  });

  it('stays finite and exact for logits of ±1e4 (a naive exp overflows)', () => {
    const x = Float32Array.from([1e4, -1e4, 0, 5, 1e4 - 1, 1e4, 1e4, 1e4, -1e4, 3e4, -3e4, 0]);
    const m = oneHot([1, 0, 2, 1], 3);
    const ref = xent64(x, m, 4, 3);
    const got = runXent(x, m, 4, 3);
    expect(Number.isFinite(got.loss)).toBe(true);
    expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1.2e-7);
    expect(worstRel(got.g, ref.g, 1e-12)).toBeLessThan(1.2e-7);
  });

  it('propagates NaN', () => {
    const got = runXent(Float32Array.from([0, NaN, 1, 2]), oneHot([0, 1], 2), 2, 2);
    expect(got.loss).toBeNaN();
  });

  it('crossEntropy on the fused path agrees with the composite path to float32 rounding, with no tensor left behind', () => {
    const n = 50;
    const c = 13;
    const rng = new Rng(9);
    const x = tf.tensor2d(Float32Array.from(rng.normalArray(n * c, 3)), [n, c]);
    const mask = tf.tensor2d(
      oneHot(
        Array.from({ length: n }, (_, i) => i % c),
        c,
      ),
      [n, c],
    );
    const vg = tf.valueAndGrad((l: tf.Tensor) => crossEntropy(l, mask));
    const before = tf.memory().numTensors;
    const fused = vg(x);
    const fv = fused.value.dataSync()[0];
    const fg = fused.grad.dataSync();
    tf.dispose([fused.value, fused.grad]);
    expect(tf.memory().numTensors).toBe(before);
    // The composite path runs when the kernels are not registered.
    uninstallWasmKernelWrappers();
    try {
      const comp = vg(x);
      expect(Math.abs(comp.value.dataSync()[0] - fv) / fv).toBeLessThan(1e-6);
      expect(worstRel(fg, comp.grad.dataSync(), 1e-9)).toBeLessThan(1e-5);
      tf.dispose([comp.value, comp.grad]);
    } finally {
      installWasmKernelWrappers();
    }
    tf.dispose([x, mask]);
  });
});

describe('fused Adam update kernel', () => {
  /** The float32 operation order of src/optim/adam.ts, emulated with Math.fround. */
  function adamRef(P: Float32Array, G: Float32Array, M: Float32Array, V: Float32Array, a: AdamAttrs) {
    const f = Math.fround;
    const out = { p: new Float32Array(P.length), m: new Float32Array(P.length), v: new Float32Array(P.length) };
    for (let i = 0; i < P.length; i++) {
      let th = P[i];
      let g = G[i];
      if (a.mode === 2) g = f(g + f(th * f(a.wd)));
      if (a.mode === 1) th = f(th * f(a.decay));
      const m = f(M[i] + f(f(a.oneMinusB1) * f(g - M[i])));
      const v = f(f(V[i] * f(a.b2)) + f(f(f(a.oneMinusB2) * g) * g));
      const denom = f(f(f(Math.sqrt(v)) / f(a.sqrtBc2)) + f(a.eps));
      out.p[i] = f(th + f(f(f(a.negStep) * m) / denom));
      out.m[i] = m;
      out.v[i] = v;
    }
    return out;
  }

  for (const mode of [0, 1, 2] as const) {
    it(`mode ${mode}: bit for bit the emulated float32 order, SIMD and JS, for a size with a tail (1027)`, () => {
      const size = 1027;
      const rng = new Rng(40 + mode);
      const [P, G, M] = [1, 0.01, 0.001].map((s) => Float32Array.from(rng.normalArray(size, s)));
      const V = Float32Array.from(rng.normalArray(size, 1e-5), Math.abs);
      const t = 7;
      const attrs: AdamAttrs = {
        mode,
        decay: 1 - 1e-3 * 1,
        wd: 1,
        oneMinusB1: 1 - 0.9,
        b2: 0.98,
        oneMinusB2: 1 - 0.98,
        sqrtBc2: Math.sqrt(1 - 0.98 ** t),
        eps: 1e-8,
        negStep: -1e-3 / (1 - 0.9 ** t),
      };
      const ref = adamRef(P, G, M, V, attrs);
      for (const on of [true, false]) {
        useSimdKernels(on);
        const before = tf.memory().numTensors;
        const out = tf.tidy(() => {
          const r = tf
            .engine()
            .runKernel(
              ADAM_UPDATE,
              { param: tf.tensor1d(P), grad: tf.tensor1d(G), m: tf.tensor1d(M), v: tf.tensor1d(V) },
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[];
          return r.map((x) => x.dataSync() as Float32Array);
        });
        expect(tf.memory().numTensors).toBe(before);
        expect(bits(out[0]), `θ (simd ${on})`).toEqual(bits(ref.p));
        expect(bits(out[1]), `m (simd ${on})`).toEqual(bits(ref.m));
        expect(bits(out[2]), `v (simd ${on})`).toEqual(bits(ref.v));
      }
    });
  }
});

describe('segment sum and gather on the SIMD module', () => {
  it('equal the plain-JS kernels bit for bit, and the float64 sums to float32 rounding', () => {
    const rng = new Rng(77);
    const rows = 301;
    const inner = 37; // a tail after the 4-wide loop
    const segs = 11;
    const x = Float32Array.from(rng.normalArray(rows * inner));
    const ids = Int32Array.from({ length: rows }, (_, i) => ((i * 5) % (segs + 2)) - 1); // −1 and 11 are dropped
    const run = () =>
      tf.tidy(() => {
        const xt = tf.tensor2d(x, [rows, inner]);
        const s = tf.unsortedSegmentSum(xt, tf.tensor1d(ids, 'int32'), segs).dataSync() as Float32Array;
        const g = tf.gather(xt, tf.tensor1d(Int32Array.from([3, 0, 300, 3]), 'int32')).dataSync() as Float32Array;
        return { s, g };
      });
    const simd = run();
    useSimdKernels(false);
    const js = run();
    expect(bits(simd.s)).toEqual(bits(js.s));
    expect(bits(simd.g)).toEqual(bits(js.g));
    const ref = new Float64Array(segs * inner);
    ids.forEach((s, i) => {
      if (s >= 0 && s < segs) for (let j = 0; j < inner; j++) ref[s * inner + j] += x[i * inner + j];
    });
    // float32 sums of ≤ 28 unit normals in index order: within 1e-5 absolute of float64
    expect(worstRel(simd.s, ref, 1)).toBeLessThan(1e-5);
    expect(Array.from(simd.g.subarray(0, inner))).toEqual(Array.from(x.subarray(3 * inner, 4 * inner)));
    expect(Array.from(simd.g.subarray(2 * inner, 3 * inner))).toEqual(Array.from(x.subarray(300 * inner, 301 * inner)));
  });
});

describe('two-row lookups (the transformer K/V tables) and leading-axis sums', () => {
  it('GatherAddRows equals the two-hot product and tf.add of two gathers bit for bit, SIMD and JS', () => {
    const rng = new Rng(91);
    const V = 29;
    const W = 130; // a tail after the 4-wide loop
    const R = 57;
    const table = Float32Array.from(rng.normalArray(V * W));
    const a = Int32Array.from({ length: R }, (_, r) => (r * 7) % 26);
    const b = Int32Array.from({ length: R }, (_, r) => 26 + (r % 3));
    const twoHot = new Float32Array(R * V);
    for (let r = 0; r < R; r++) ((twoHot[r * V + a[r]] = 1), (twoHot[r * V + b[r]] = 1));
    const run = () =>
      tf.tidy(() => {
        const t = tf.tensor2d(table, [V, W]);
        const ia = tf.tensor1d(a, 'int32');
        const ib = tf.tensor1d(b, 'int32');
        return {
          kernel: (
            tf.engine().runKernel(GATHER_ADD_ROWS, { table: t, a: ia, b: ib }) as tf.Tensor
          ).dataSync() as Float32Array,
          ops: tf.add(tf.gather(t, ia), tf.gather(t, ib)).dataSync() as Float32Array,
          product: tf.matMul(tf.tensor2d(twoHot, [R, V]), t).dataSync() as Float32Array,
        };
      });
    const before = tf.memory().numTensors;
    const simd = run();
    useSimdKernels(false);
    const js = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(bits(simd.kernel)).toEqual(bits(simd.ops));
    expect(bits(simd.kernel)).toEqual(bits(simd.product));
    expect(bits(js.kernel)).toEqual(bits(simd.kernel));
    expect(() =>
      tf.tidy(() =>
        tf.engine().runKernel(GATHER_ADD_ROWS, {
          table: tf.tensor2d(table, [V, W]),
          a: tf.tensor1d([V], 'int32'),
          b: tf.tensor1d([0], 'int32'),
        }),
      ),
    ).toThrow(/index value 29 is not in \[0, 28\]/);
  });

  it('Sum and Mean over a short leading axis: SIMD rows equal the JS loop bit for bit, and float64 to rounding', () => {
    const rng = new Rng(13);
    const x = Float32Array.from(rng.normalArray(3 * 1031));
    const run = () =>
      tf.tidy(() => {
        const t = tf.tensor2d(x, [3, 1031]);
        return [tf.sum(t, 0).dataSync() as Float32Array, tf.mean(t, 0).dataSync() as Float32Array];
      });
    const simd = run();
    useSimdKernels(false);
    const js = run();
    expect(bits(simd[0])).toEqual(bits(js[0]));
    expect(bits(simd[1])).toEqual(bits(js[1]));
    const ref = Array.from({ length: 1031 }, (_, c) => x[c] + x[1031 + c] + x[2062 + c]);
    expect(worstRel(simd[0], ref, 1)).toBeLessThan(1e-6);
  });

  it('Transpose by the identity permutation shares the data (no copy) and leaks nothing', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const before = tf.memory().numTensors;
    const y = tf.transpose(x, [0, 1]);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]); // still alive under its own reference
    y.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
    const z = tf.tidy(() => tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), [1, 0]).dataSync());
    expect(Array.from(z)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
