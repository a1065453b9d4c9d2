import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { planMatMul, type MatMulRoute } from '../../src/backend/matmul-plan.ts';
import {
  installWasmKernelWrappers,
  uninstallWasmKernelWrappers,
  wasmKernelWrappersInstalled,
} from '../../src/backend/wasm-kernels.ts';
import { denseMatMul, MATMUL_CASES, MATMUL_FLAGS, MATMUL_TOL, maxRelError, randomDense, type Dense } from './oracle.ts';

const TOL = MATMUL_TOL;
const FLAGS = MATMUL_FLAGS;
const CASES = MATMUL_CASES;

function operandShapes(c: (typeof CASES)[number], tA: boolean, tB: boolean): [number[], number[]] {
  const [, batchA, batchB, m, k, n] = c;
  return [
    [...batchA, ...(tA ? [k, m] : [m, k])],
    [...batchB, ...(tB ? [n, k] : [k, n])],
  ];
}

const toTensor = (d: Dense) => tf.tensor(Float32Array.from(d.data), d.shape);

/** Tensors and backend buffers alive now; a kernel that leaks intermediates shows in the second. */
function census(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}

// The path without BLAS (XNNPACK and the wasm kernels); tests/backend/blas.test.ts covers BLAS's.
beforeAll(async () => {
  vi.stubEnv('GROKLENS_BLAS', 'none');
  const info = await useBackend('wasm', { wasmThreads: 1 });
  expect(info.kernelWrappers).toBe(true);
  expect(info.blas).toEqual({ library: null, reason: 'GROKLENS_BLAS=none' });
});
afterAll(() => {
  vi.unstubAllEnvs();
});

describe('wrapped BatchMatMul against a float64 oracle', () => {
  const routes = new Set<MatMulRoute>();
  for (const c of CASES) {
    for (const [tA, tB] of FLAGS) {
      test(`${c[0]} transposeA=${tA} transposeB=${tB}`, () => {
        const [sa, sb] = operandShapes(c, tA, tB);
        routes.add(planMatMul(sa, sb, tA, tB));
        const a = randomDense(sa, 1);
        const b = randomDense(sb, 2);
        const want = denseMatMul(a, b, tA, tB);
        const [ta, tb] = [toTensor(a), toTensor(b)];
        const before = census();
        const out = tf.matMul(ta, tb, tA, tB);
        expect(out.shape).toEqual(want.shape);
        expect(maxRelError(out.dataSync(), want.data)).toBeLessThan(TOL);
        out.dispose();
        expect(census()).toEqual(before);
        tf.dispose([ta, tb]);
      });
    }
  }

  test('the cases above exercise every route', () => {
    expect([...routes].sort()).toEqual(['broadcast', 'direct', 'native', 'per-batch', 'swapped']);
  });
});

describe('wrapped against unwrapped kernel', () => {
  test('same values for every flag combination where the original is correct', () => {
    for (const c of CASES.filter(([label]) => !label.includes('[2,1]'))) {
      for (const [tA, tB] of FLAGS) {
        const [sa, sb] = operandShapes(c, tA, tB);
        const [ta, tb] = [toTensor(randomDense(sa, 3)), toTensor(randomDense(sb, 4))];
        uninstallWasmKernelWrappers();
        const original = tf.matMul(ta, tb, tA, tB);
        installWasmKernelWrappers();
        const wrapped = tf.matMul(ta, tb, tA, tB);
        expect(wrapped.shape).toEqual(original.shape);
        expect(maxRelError(wrapped.dataSync(), original.dataSync()), `${c[0]} ${tA} ${tB}`).toBeLessThan(TOL);
        tf.dispose([ta, tb, original, wrapped]);
      }
    }
  });

  test('the original kernel gets [2,1]×[1,3] batch broadcasting wrong (why the wrapper broadcasts itself)', () => {
    const [a, b] = [randomDense([2, 1, 4, 5], 5), randomDense([1, 3, 5, 6], 6)];
    const want = denseMatMul(a, b, false, false);
    const [ta, tb] = [toTensor(a), toTensor(b)];
    uninstallWasmKernelWrappers();
    try {
      const original = tf.matMul(ta, tb);
      expect(original.dataSync().length).not.toBe(want.data.length);
      original.dispose();
    } finally {
      installWasmKernelWrappers();
    }
    const wrapped = tf.matMul(ta, tb);
    expect(maxRelError(wrapped.dataSync(), want.data)).toBeLessThan(TOL);
    tf.dispose([ta, tb, wrapped]);
  });
});

describe('XNNPACK operator cache', () => {
  test('reusing a right-hand tensor under another shape (tf.reshape shares its id) gives the right product', () => {
    // Without the guard this aborts the whole wasm module: the operator packed for W [4, 6] is
    // reused for the [8, 3] view because the cache key is the tensor id alone.
    const W = tf.tensor2d(
      Array.from({ length: 24 }, (_, i) => i),
      [4, 6],
    );
    const first = tf.matMul(tf.ones([3, 4]), W);
    expect(Array.from(first.dataSync().slice(0, 3))).toEqual([36, 40, 44]);
    const view = tf.reshape(W, [8, 3]);
    const second = tf.matMul(tf.ones([3, 8]), view);
    // Column j of the [8, 3] view sums 3r + j over r = 0..7.
    expect(Array.from(second.dataSync().slice(0, 3))).toEqual([84, 92, 100]);
    tf.dispose([W, first, view, second]);
  });
});

describe('wrapped _FusedMatMul', () => {
  for (const [tA, tB] of FLAGS) {
    test(`bias + relu, transposeA=${tA} transposeB=${tB}, batched left operand`, () => {
      const [sa, sb] = [tA ? [3, 48, 40] : [3, 40, 48], tB ? [36, 48] : [48, 36]];
      const a = randomDense(sa, 7);
      const b = randomDense(sb, 8);
      const bias = randomDense([36], 9);
      const prod = denseMatMul(a, b, tA, tB);
      const want = prod.data.map((v, i) => Math.max(0, v + bias.data[i % 36]));
      const [ta, tb, tbias] = [toTensor(a), toTensor(b), toTensor(bias)];
      const before = census();
      const out = tf.fused.matMul({ a: ta, b: tb, transposeA: tA, transposeB: tB, bias: tbias, activation: 'relu' });
      expect(out.shape).toEqual([3, 40, 36]);
      expect(maxRelError(out.dataSync(), want)).toBeLessThan(TOL);
      out.dispose();
      expect(census()).toEqual(before);
      tf.dispose([ta, tb, tbias]);
    });
  }
});

describe('gradients through the wrapper', () => {
  /** d/da, d/db of Σ dy ⊙ matMul(a, b) on the current backend. */
  function grads(a: Dense, b: Dense, dy: Dense, tA: boolean, tB: boolean): Float32Array[] {
    return tf.tidy(() => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB))(
        [toTensor(a), toTensor(b)],
        toTensor(dy),
      );
      return g.map((t) => t.dataSync() as Float32Array);
    });
  }

  test('match the cpu backend for all four flag combinations, 2-D and batched', async () => {
    const setups: [number[], number[], number[], boolean, boolean][] = [];
    for (const [tA, tB] of FLAGS) {
      setups.push([tA ? [48, 40] : [40, 48], tB ? [36, 48] : [48, 36], [40, 36], tA, tB]);
      setups.push([tA ? [2, 48, 40] : [2, 40, 48], tB ? [2, 36, 48] : [2, 48, 36], [2, 40, 36], tA, tB]);
    }
    const data = setups.map(([sa, sb, sdy], i) => [
      randomDense(sa, 10 + i),
      randomDense(sb, 30 + i),
      randomDense(sdy, 50 + i),
    ]);
    await useBackend('cpu');
    const want = setups.map(([, , , tA, tB], i) => grads(data[i][0], data[i][1], data[i][2], tA, tB));
    await useBackend('wasm', { wasmThreads: 1 });
    expect(wasmKernelWrappersInstalled()).toBe(true);
    setups.forEach(([sa, sb, , tA, tB], i) => {
      const before = census();
      const got = grads(data[i][0], data[i][1], data[i][2], tA, tB);
      expect(census()).toEqual(before);
      expect(maxRelError(got[0], want[i][0]), `da ${sa} ${sb} ${tA} ${tB}`).toBeLessThan(TOL);
      expect(maxRelError(got[1], want[i][1]), `db ${sa} ${sb} ${tA} ${tB}`).toBeLessThan(TOL);
    });
  });

  test('match central finite differences of the float64 product', () => {
    // L(a, b) = Σ dy ⊙ (aᵀ·b): dL/da = b·dyᵀ, checked entry by entry in float64.
    const a = randomDense([48, 40], 70);
    const b = randomDense([48, 36], 71);
    const dy = randomDense([40, 36], 72);
    const [ga, gb] = grads(a, b, dy, true, false);
    const loss = (x: Dense, y: Dense) => denseMatMul(x, y, true, false).data.reduce((s, v, i) => s + v * dy.data[i], 0);
    const h = 1e-3;
    for (const [which, idx] of [
      ['a', 0],
      ['a', 977],
      ['b', 5],
      ['b', 1700],
    ] as const) {
      const target = which === 'a' ? a : b;
      const plus = { ...target, data: target.data.slice() };
      const minus = { ...target, data: target.data.slice() };
      plus.data[idx] += h;
      minus.data[idx] -= h;
      const fd =
        which === 'a' ? (loss(plus, b) - loss(minus, b)) / (2 * h) : (loss(a, plus) - loss(a, minus)) / (2 * h);
      const got = which === 'a' ? ga[idx] : gb[idx];
      expect(Math.abs(got - fd) / (1 + Math.abs(fd)), `${which}[${idx}]`).toBeLessThan(1e-4);
    }
  });
});

describe('installation', () => {
  test('installing twice is harmless and uninstall restores the originals', () => {
    expect(installWasmKernelWrappers()).toEqual([]);
    expect(wasmKernelWrappersInstalled()).toBe(true);
    const [a, b] = [toTensor(randomDense([64, 48], 80)), toTensor(randomDense([64, 40], 81))];
    const want = denseMatMul(randomDense([64, 48], 80), randomDense([64, 40], 81), true, false);
    const once = tf.matMul(a, b, true, false);
    expect(maxRelError(once.dataSync(), want.data)).toBeLessThan(TOL);
    uninstallWasmKernelWrappers();
    expect(wasmKernelWrappersInstalled()).toBe(false);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
    const replaced = installWasmKernelWrappers();
    expect(replaced).toContain('BatchMatMul');
    expect(installWasmKernelWrappers()).toEqual([]);
    const again = tf.matMul(a, b, true, false);
    expect(maxRelError(again.dataSync(), want.data)).toBeLessThan(TOL);
    tf.dispose([a, b, once, again]);
  });
});
