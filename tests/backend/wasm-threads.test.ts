import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { denseMatMul, maxRelError, randomDense, type Dense } from './oracle.ts';

const toTensor = (d: Dense) => tf.tensor(Float32Array.from(d.data), d.shape);

beforeAll(async () => {
  const info = await useBackend('wasm', { wasmThreads: 2 });
  expect(info).toMatchObject({ name: 'wasm', threads: 2, kernelWrappers: true });
});

describe('threaded wasm build', () => {
  test('products (plain XNNPACK on the pool, and rerouted) match the float64 oracle', () => {
    for (const [sa, sb, tA, tB] of [
      [[200, 160], [160, 120], false, false],
      [[160, 200], [160, 120], true, false],
      [[3, 64, 48], [40, 48], false, true],
    ] as [number[], number[], boolean, boolean][]) {
      const a = randomDense(sa, 1);
      const b = randomDense(sb, 2);
      const want = denseMatMul(a, b, tA, tB);
      const got = tf.tidy(() => tf.matMul(toTensor(a), toTensor(b), tA, tB).dataSync());
      expect(maxRelError(got, want.data)).toBeLessThan(2e-5);
    }
  });

  test('element-wise ops, reductions and gradients run on the shared-memory heap', () => {
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const x = toTensor(randomDense([257, 129], 3));
      const loss = (w: tf.Tensor) => tf.sum(tf.relu(tf.add(tf.matMul(x, w), 0.5)));
      return Array.from(
        tf
          .grad(loss)(toTensor(randomDense([129, 33], 4)))
          .dataSync(),
      );
    });
    expect(g).toHaveLength(129 * 33);
    expect(g.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('asking for another thread count afterwards is a UserError', async () => {
    const err = await useBackend('wasm', { wasmThreads: 1 }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(/already running with 2 thread\(s\)/);
  });

  test('a process using it exits by itself', () => {
    const script = fileURLToPath(new URL('./fixtures/threaded-exit.ts', import.meta.url));
    const res = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      env: { ...process.env, GROKLENS_WASM_THREADS: '2' },
      timeout: 60_000,
    });
    expect(res.signal, 'killed by the timeout: the process hung').toBeNull();
    expect(res.status, res.stderr).toBe(0);
    const line = res.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(JSON.parse(line!)).toEqual({ threads: 2, sum: 300 * 400 * 500 });
  });
});
