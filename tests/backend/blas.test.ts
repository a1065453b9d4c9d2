/**
 * The wasm backend's matrix products on the system's BLAS (src/backend/blas.ts, blas-kernels.ts):
 * the kernels against the dense float64 oracle for every flag / batch / broadcast combination the
 * wrappers cover, called directly (whatever their size) and through tf.matMul / tf.fused.matMul
 * (the routing), gradients, no leaked tensors, the library's discovery (a missing one falls back,
 * a bad GROKLENS_BLAS is one clear error), and OpenBLAS repeating its bits at a fixed thread count.
 * .ci/run installs libopenblas0; without it the BLAS cases are skipped with a warning.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  activeSgemm,
  blasChange,
  blasRecord,
  describeBlas,
  disableBlas,
  openBlas,
  type Sgemm,
} from '../../src/backend/blas.ts';
import { blasBatchMatMul, blasFusedMatMul, useBlasFor } from '../../src/backend/blas-kernels.ts';
import { describeBackend, useBackend } from '../../src/backend/index.ts';
import { matMulDims } from '../../src/backend/matmul-plan.ts';
import { UserError } from '../../src/errors.ts';
import { denseMatMul, MATMUL_CASES, MATMUL_FLAGS, MATMUL_TOL, maxRelError, randomDense, type Dense } from './oracle.ts';

const TOL = MATMUL_TOL; // as the XNNPACK wrappers
const FLAGS = MATMUL_FLAGS;

/** The wrappers' cases plus BLAS's own folds and broadcasts. */
const CASES: [string, number[], number[], number, number, number][] = [
  ...MATMUL_CASES,
  ['2-D one column', [], [], 64, 80, 1],
  ['[2,3] × [3] broadcast', [2, 3], [3], 8, 12, 10],
  ['[4,1] × [1] batch of ones on the right', [4, 1], [1], 24, 40, 32],
];

function operandShapes(c: (typeof CASES)[number], tA: boolean, tB: boolean): [number[], number[]] {
  const [, batchA, batchB, m, k, n] = c;
  return [
    [...batchA, ...(tA ? [k, m] : [m, k])],
    [...batchB, ...(tB ? [n, k] : [k, n])],
  ];
}

const toTensor = (d: Dense) => tf.tensor(Float32Array.from(d.data), d.shape);
const census = () => ({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() });
/** A kernel's output as a tensor the test owns. */
const own = (info: TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const wasmBackend = () => tf.engine().backend as any;

const initial = openBlas({ threads: 1 });
const HAVE_BLAS = initial.library !== null;
if (!HAVE_BLAS)
  console.warn(`BLAS tests skipped: ${initial.library === null ? initial.reason : ''} (apt-get install libopenblas0)`);
let sgemm: Sgemm;

beforeAll(async () => {
  const info = await useBackend('wasm', { wasmThreads: 1, blasThreads: 1 });
  expect(info.blas).toEqual(blasRecord());
  if (HAVE_BLAS) sgemm = activeSgemm()!;
});
afterAll(() => {
  openBlas({ threads: 1 });
});

describe.runIf(HAVE_BLAS)('BLAS BatchMatMul against a float64 oracle', () => {
  for (const c of CASES) {
    for (const [tA, tB] of FLAGS) {
      test(`${c[0]} transposeA=${tA} transposeB=${tB}: kernel, and tf.matMul`, () => {
        const [sa, sb] = operandShapes(c, tA, tB);
        const a = randomDense(sa, 1);
        const b = randomDense(sb, 2);
        const want = denseMatMul(a, b, tA, tB);
        const [ta, tb] = [toTensor(a), toTensor(b)];
        const before = census();
        const direct = own(blasBatchMatMul(wasmBackend(), sgemm, ta, tb, tA, tB));
        expect(direct.shape).toEqual(want.shape);
        expect(maxRelError(direct.dataSync(), want.data)).toBeLessThan(TOL);
        direct.dispose();
        const routed = tf.matMul(ta, tb, tA, tB);
        expect(routed.shape).toEqual(want.shape);
        expect(maxRelError(routed.dataSync(), want.data)).toBeLessThan(TOL);
        routed.dispose();
        expect(census()).toEqual(before);
        tf.dispose([ta, tb]);
      });
    }
  }

  test('k = 0 gives zeros; an empty output is fine', () => {
    const z = own(blasBatchMatMul(wasmBackend(), sgemm, tf.zeros([3, 0]), tf.zeros([0, 4]), false, false));
    expect(Array.from(z.dataSync())).toEqual(new Array(12).fill(0));
    const e = own(blasBatchMatMul(wasmBackend(), sgemm, tf.zeros([0, 5]), tf.zeros([5, 4]), false, false));
    expect(e.shape).toEqual([0, 4]);
    tf.dispose([z, e]);
  });

  test('routing: big products go to BLAS, thousands of tiny batched ones stay on the wasm kernel', () => {
    expect(useBlasFor(matMulDims([2822, 256], [256, 256], false, false), false)).toBe(true);
    expect(useBlasFor(matMulDims([2822, 256], [2822, 256], true, false), true)).toBe(true);
    expect(useBlasFor(matMulDims([15320, 3, 32], [15320, 32, 3], false, false), false)).toBe(false);
    expect(useBlasFor(matMulDims([3, 5], [5, 4], false, false), false)).toBe(false);
    // A left batch folds into one call, however many entries.
    expect(useBlasFor(matMulDims([4000, 3, 64], [64, 64], false, false), false)).toBe(true);
  });

  test('the BLAS path really runs: disabling it changes the last bits of a long product', () => {
    const [a, b] = [toTensor(randomDense([64, 3000], 3)), toTensor(randomDense([3000, 64], 4))];
    const withBlas = tf.matMul(a, b).dataSync();
    disableBlas();
    const without = tf.matMul(a, b).dataSync();
    openBlas({ threads: 1 });
    expect(maxRelError(withBlas, without)).toBeLessThan(1e-4);
    expect(Array.from(withBlas)).not.toEqual(Array.from(without));
    tf.dispose([a, b]);
  });
});

describe.runIf(HAVE_BLAS)('BLAS _FusedMatMul', () => {
  const activations: [string, (x: number) => number][] = [
    ['linear', (x) => x],
    ['relu', (x) => Math.max(0, x)],
    ['relu6', (x) => Math.min(6, Math.max(0, x))],
    ['elu', (x) => (x >= 0 ? x : Math.exp(x) - 1)],
    ['sigmoid', (x) => 1 / (1 + Math.exp(-x))],
    ['leakyrelu', (x) => (x >= 0 ? x : 0.1 * x)],
  ];
  for (const [tA, tB] of FLAGS) {
    for (const [act, f] of activations) {
      test(`bias [n] + ${act}, transposeA=${tA} transposeB=${tB}, batched left operand`, () => {
        const [sa, sb] = [tA ? [3, 48, 40] : [3, 40, 48], tB ? [36, 48] : [48, 36]];
        const a = randomDense(sa, 7);
        const b = randomDense(sb, 8);
        const bias = randomDense([36], 9);
        const want = denseMatMul(a, b, tA, tB).data.map((v, i) => f(v + bias.data[i % 36]));
        const [ta, tb, tbias] = [toTensor(a), toTensor(b), toTensor(bias)];
        const before = census();
        const out = tf.fused.matMul({
          a: ta,
          b: tb,
          transposeA: tA,
          transposeB: tB,
          bias: tbias,
          activation: act as 'relu',
          leakyreluAlpha: 0.1,
        });
        expect(out.shape).toEqual([3, 40, 36]);
        expect(maxRelError(out.dataSync(), want)).toBeLessThan(TOL);
        out.dispose();
        expect(census()).toEqual(before);
        tf.dispose([ta, tb, tbias]);
      });
    }
  }

  test('a bias of another shape ([m, n], a scalar), prelu, a broadcast batch: kernel against the oracle, no leaks', () => {
    const run = (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
      tf.getKernel(name, 'wasm').kernelFunc({ inputs, backend: wasmBackend(), attrs: attrs as never }) as TensorInfo;
    const a = randomDense([2, 1, 20, 30], 11);
    const b = randomDense([1, 3, 30, 24], 12);
    const prod = denseMatMul(a, b, false, false);
    const [ta, tb] = [toTensor(a), toTensor(b)];
    const biasMn = randomDense([20, 24], 13);
    const alpha = randomDense([24], 14);
    const [tbias, tscalar, talpha] = [toTensor(biasMn), tf.scalar(0.5), toTensor(alpha)];
    const before = census();
    const o1 = own(
      blasFusedMatMul(
        wasmBackend(),
        sgemm,
        run,
        { a: ta, b: tb, bias: tbias },
        { transposeA: false, transposeB: false },
      ),
    );
    expect(
      maxRelError(
        o1.dataSync(),
        prod.data.map((v, i) => v + biasMn.data[i % 480]),
      ),
    ).toBeLessThan(TOL);
    const o2 = own(
      blasFusedMatMul(
        wasmBackend(),
        sgemm,
        run,
        { a: ta, b: tb, bias: tscalar, preluActivationWeights: talpha },
        { transposeA: false, transposeB: false, activation: 'prelu' },
      ),
    );
    const want2 = prod.data.map((v, i) => (v + 0.5 >= 0 ? v + 0.5 : alpha.data[i % 24] * (v + 0.5)));
    expect(maxRelError(o2.dataSync(), want2)).toBeLessThan(TOL);
    tf.dispose([o1, o2]);
    expect(census()).toEqual(before);
    tf.dispose([ta, tb, tbias, tscalar, talpha]);
  });
});

describe.runIf(HAVE_BLAS)('Sum and Mean over leading axes as ones·x on BLAS', () => {
  const cases: [string, number[], number[], 'sum' | 'mean', boolean][] = [
    ['sum axis 0 of [300, 40]', [300, 40], [0], 'sum', false],
    ['mean axis 0 of [300, 40], keepDims', [300, 40], [0], 'mean', true],
    ['sum axes [1, 0] of [20, 10, 7]', [20, 10, 7], [1, 0], 'sum', false],
    ['sum axis 0 of [3830, 512] (a bias gradient)', [3830, 512], [0], 'sum', false],
  ];
  for (const [label, shape, axes, kind, keepDims] of cases) {
    test(label, () => {
      const x = randomDense(shape, 40);
      const lead = axes.length;
      const R = shape.slice(0, lead).reduce((p, v) => p * v, 1);
      const C = x.data.length / R;
      const want = Array.from({ length: C }, (_, c) => {
        let acc = 0;
        for (let r = 0; r < R; r++) acc += x.data[r * C + c];
        return kind === 'mean' ? acc / R : acc;
      });
      const tx = toTensor(x);
      const before = census();
      const out = kind === 'sum' ? tf.sum(tx, axes, keepDims) : tf.mean(tx, axes, keepDims);
      expect(out.shape).toEqual(keepDims ? shape.map((v, i) => (i < lead ? 1 : v)) : shape.slice(lead));
      // Sums of R normals: rounding relative to √R, the size of the sum.
      expect(maxRelError(out.dataSync(), want)).toBeLessThan(2e-6 * Math.sqrt(R));
      out.dispose();
      expect(census()).toEqual(before);
      tx.dispose();
    });
  }
});

describe.runIf(HAVE_BLAS)('gradients on BLAS', () => {
  test('match the cpu backend for all four flag combinations, 2-D and batched, with no leaks', async () => {
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
    const grads = (i: number) =>
      tf.tidy(() => {
        const [, , , tA, tB] = setups[i];
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB))(
          [toTensor(data[i][0]), toTensor(data[i][1])],
          toTensor(data[i][2]),
        );
        return g.map((t) => t.dataSync() as Float32Array);
      });
    await useBackend('cpu');
    const want = setups.map((_, i) => grads(i));
    await useBackend('wasm', { wasmThreads: 1, blasThreads: 1 });
    expect(activeSgemm()).not.toBeNull();
    setups.forEach(([sa, sb, , tA, tB], i) => {
      const before = census();
      const got = grads(i);
      expect(census()).toEqual(before);
      expect(maxRelError(got[0], want[i][0]), `da ${sa} ${sb} ${tA} ${tB}`).toBeLessThan(TOL);
      expect(maxRelError(got[1], want[i][1]), `db ${sa} ${sb} ${tA} ${tB}`).toBeLessThan(TOL);
    });
  });
});

describe.runIf(HAVE_BLAS)('threads', () => {
  test('OpenBLAS repeats its bits at a fixed thread count; 1 and 2 threads agree to rounding (not always bit for bit)', () => {
    const shapes: [number[], number[], boolean, boolean][] = [
      [[2822, 256], [256, 256], false, false],
      [[3830, 128], [3830, 512], true, false], // measured: 2 threads split this k sum, so other bits
      [[512, 300], [200, 300], false, true],
    ];
    const bits = (t: tf.Tensor) => Buffer.from(t.dataSync().buffer);
    for (const [sa, sb, tA, tB] of shapes) {
      const [a, b] = [toTensor(randomDense(sa, 20)), toTensor(randomDense(sb, 21))];
      const runs: Record<number, tf.Tensor[]> = { 1: [], 2: [] };
      for (const t of [1, 2, 1, 2]) {
        openBlas({ threads: t });
        expect(blasRecord()).toMatchObject({ threads: t });
        runs[t].push(tf.matMul(a, b, tA, tB));
      }
      expect(bits(runs[1][0]).equals(bits(runs[1][1])), `1 thread ${sa} ${sb}`).toBe(true);
      expect(bits(runs[2][0]).equals(bits(runs[2][1])), `2 threads ${sa} ${sb}`).toBe(true);
      // k up to 3830: the float32 sum's rounding, relative to 1 + |value| with values ~ √k.
      expect(maxRelError(runs[1][0].dataSync(), runs[2][0].dataSync())).toBeLessThan(1e-4);
      tf.dispose([a, b, ...runs[1], ...runs[2]]);
    }
    openBlas({ threads: 1 });
  });
});

describe('finding the library', () => {
  test('none found by search: a fallback, recorded with its reason, described in one line', () => {
    const r = openBlas({
      env: undefined,
      candidates: ['/nonexistent/libopenblas.so.0', '/nonexistent/libopenblas.so'],
    });
    expect(r.library).toBeNull();
    expect(activeSgemm()).toBeNull();
    const reason = (r as { reason: string }).reason;
    expect(reason).toContain('no BLAS found (tried /nonexistent/libopenblas.so.0, /nonexistent/libopenblas.so;');
    expect(reason).toContain('apt-get install libopenblas0');
    const line = describeBlas(r);
    expect(line).not.toContain('\n');
    expect(line.startsWith('matrix products on XNNPACK (no BLAS: no BLAS found')).toBe(true);
    // Products still work, on the wasm kernels.
    const [a, b] = [randomDense([40, 48], 1), randomDense([40, 36], 2)];
    const out = tf.matMul(toTensor(a), toTensor(b), true, false);
    expect(maxRelError(out.dataSync(), denseMatMul(a, b, true, false).data)).toBeLessThan(TOL);
    openBlas({ threads: 1 });
  });

  test('GROKLENS_BLAS=none: no BLAS, recorded as asked', () => {
    expect(openBlas({ env: 'none' })).toEqual({ library: null, reason: 'GROKLENS_BLAS=none' });
    expect(activeSgemm()).toBeNull();
    openBlas({ threads: 1 });
  });

  test('GROKLENS_BLAS naming a library that does not load, or lacks cblas_sgemm: one clear line', () => {
    const lines: string[] = [];
    for (const env of ['/nonexistent/libblas.so', 'libm.so.6']) {
      let err: unknown;
      try {
        openBlas({ env });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      lines.push((err as Error).message);
    }
    expect(lines[0]).toMatch(/^GROKLENS_BLAS=\/nonexistent\/libblas\.so: .+; unset it to search \(libopenblas/);
    expect(lines[1]).toMatch(/^GROKLENS_BLAS=libm\.so\.6: no cblas_sgemm \(.+\); unset it to search/);
    for (const l of lines) expect(l).not.toContain('\n');
    openBlas({ threads: 1 });
  });

  test.runIf(HAVE_BLAS)('a library found: its path, OpenBLAS version and threads are recorded and printed', () => {
    const r = openBlas({ threads: 1 });
    expect(r).toMatchObject({ library: expect.any(String), threads: 1 });
    expect((r as { version: string }).version).toMatch(/^OpenBLAS \d+\.\d+\.\d+/);
    // The file behind the soname (Linux: from /proc/self/maps).
    if (process.platform === 'linux') expect((r as { path: string }).path).toMatch(/^\/.*openblas.*\.so/);
    const info = {
      requested: 'wasm' as const,
      name: 'wasm' as const,
      tfjsVersion: tf.version_core,
      simd: true,
      threads: 1,
      blas: r,
    };
    expect(describeBackend(info)).toMatch(
      /^backend: wasm \(simd on, 1 thread; matrix products on OpenBLAS [\d.]+ .*from \S+, 1 thread\)$/,
    );
  });

  test.runIf(HAVE_BLAS)(
    'GROKLENS_LAPACK is tried first when GROKLENS_BLAS is unset, and passed over when it has no cblas_sgemm',
    () => {
      const found = (initial as { library: string }).library;
      try {
        vi.stubEnv('GROKLENS_LAPACK', 'libm.so.6');
        expect(openBlas({ env: undefined }).library).toBe(found);
        // The same library under another name (Debian's full path), so the name shows which was taken.
        const other =
          ['/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/libopenblas.so.0'].find((f) =>
            existsSync(f),
          ) ?? found;
        vi.stubEnv('GROKLENS_LAPACK', other);
        expect(openBlas({ env: undefined }).library).toBe(other);
      } finally {
        vi.unstubAllEnvs();
        openBlas({ threads: 1 });
      }
    },
  );

  test('a resume under another BLAS (or none, or other threads) is named; the same one is not', () => {
    const a = {
      library: 'libopenblas.so.0',
      path: '/usr/lib/libopenblasp-r0.3.21.so',
      version: 'OpenBLAS 0.3.21 DYNAMIC_ARCH',
      threads: 1,
    } as const;
    expect(blasChange(a, { ...a })).toBeNull();
    expect(blasChange(undefined, a)).toBeNull();
    expect(blasChange(a, { ...a, threads: 2 })).toBe(
      'matrix products were computed on libopenblas.so.0 (OpenBLAS 0.3.21, 1 thread), now on libopenblas.so.0 (OpenBLAS 0.3.21, 2 threads)',
    );
    expect(blasChange(a, { library: null, reason: 'GROKLENS_BLAS=none' })).toContain('now on XNNPACK (no BLAS)');
    expect(blasChange(a, { ...a, path: '/opt/other/libopenblas.so.0' })).not.toBeNull();
  });
});
