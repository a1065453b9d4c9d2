import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test } from 'vitest';
import { backendInfo, useBackend } from '../../src/backend/index.ts';
import { UserError } from '../../src/errors.ts';

afterEach(() => {
  delete process.env.GROKLENS_WASM_THREADS;
});

describe('useBackend', () => {
  test("'cpu' works and reports cpu", async () => {
    const info = await useBackend('cpu');
    expect(info).toMatchObject({ requested: 'cpu', name: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(backendInfo()).toEqual(info);
    expect(Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync())).toEqual([3, 3, 3, 3]);
  });

  test("'tensorflow' without @tensorflow/tfjs-node is a UserError naming the package and its install", async () => {
    const err = await useBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain('@tensorflow/tfjs-node');
    expect((err as Error).message).toContain('npm install @tensorflow/tfjs-node');
  });

  test("'tensorflow-gpu' names its own package", async () => {
    const err = await useBackend('tensorflow-gpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain('npm install @tensorflow/tfjs-node-gpu');
  });

  test('a bad GROKLENS_WASM_THREADS is a UserError naming the variable and its value', async () => {
    process.env.GROKLENS_WASM_THREADS = 'two';
    // …but only when wasm is what is asked for.
    expect((await useBackend('cpu')).name).toBe('cpu');
    const err = await useBackend('wasm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('GROKLENS_WASM_THREADS="two": expected an integer from 1 to 8');
  });

  test('wasm reports SIMD, one thread and the kernel wrappers; asking again returns the same backend', async () => {
    const info = await useBackend('wasm');
    expect(info).toMatchObject({ requested: 'wasm', name: 'wasm', simd: true, threads: 1, kernelWrappers: true });
    expect(tf.getBackend()).toBe('wasm');
    expect(await useBackend('wasm')).toBe(info);
  });

  test('the thread count cannot change once wasm is running', async () => {
    await useBackend('wasm');
    const err = await useBackend('wasm', { wasmThreads: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/already running with 1 thread\(s\)/);
  });

  test('gradients are registered (tfjs-core alone registers none under Node)', async () => {
    await useBackend('wasm');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2, 3]));
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
  });
});
