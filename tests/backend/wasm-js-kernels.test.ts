import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { randomDense } from './oracle.ts';

/**
 * The plain-JS wasm kernels (Tile, GatherV2, UnsortedSegmentSum, leading-axis Sum/Mean/Max)
 * against the cpu backend on the same inputs: values are computed on cpu first, then on wasm.
 */

type Case = [string, () => tf.Tensor];

const seq = (shape: number[], dtype: 'float32' | 'int32' = 'float32') =>
  tf.reshape(
    tf.range(
      0,
      shape.reduce((p, s) => p * s, 1),
      1,
      dtype,
    ),
    shape,
  );
const normal = (shape: number[], seed: number) => tf.tensor(Float32Array.from(randomDense(shape, seed).data), shape);
const ids = (values: number[], shape?: number[]): tf.Tensor1D =>
  tf.tensor<tf.Rank>(values, shape ?? [values.length], 'int32') as tf.Tensor1D;

const CASES: Case[] = [
  ['tile 1-D', () => tf.tile(seq([5]), [4])],
  ['tile 2-D', () => tf.tile(seq([2, 3]), [3, 2])],
  ['tile 3-D, middle axis kept', () => tf.tile(seq([2, 3, 4]), [2, 1, 3])],
  ['tile 4-D int32', () => tf.tile(seq([1, 2, 3, 2], 'int32'), [2, 3, 1, 2])],
  ['tile all ones', () => tf.tile(seq([2, 3]), [1, 1])],
  ['broadcastTo (Tile)', () => tf.broadcastTo(seq([1, 3]), [4, 3])],
  ['gather axis 0', () => tf.gather(seq([5, 4]), ids([4, 0, 2, 2]))],
  ['gather axis 1, 2-D indices', () => tf.gather(seq([2, 3, 4]), ids([2, 0, 1, 1], [2, 2]), 1)],
  ['gather batchDims 1', () => tf.gather(seq([2, 3, 4]), ids([2, 0, 1, 1], [2, 2]), 1, 1)],
  ['gather int32 params', () => tf.gather(seq([6, 2], 'int32'), ids([5, 1]))],
  ['unsortedSegmentSum, out-of-range id dropped', () => tf.unsortedSegmentSum(normal([4, 3], 1), ids([1, 0, 1, 5]), 3)],
  ['unsortedSegmentSum 1-D', () => tf.unsortedSegmentSum(normal([6], 2), ids([2, 2, 0, 1, 0, 2]), 4)],
  [
    'gather gradient (embedding lookup)',
    () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids([1, 1, 3])), normal([3, 2], 3))))(normal([4, 2], 4)),
  ],
  ['sum axis 0', () => tf.sum(normal([37, 6], 5), 0)],
  ['sum axes [1, 0], keepDims', () => tf.sum(normal([2, 3, 4], 6), [1, 0], true)],
  ['sum last axis (original kernel)', () => tf.sum(normal([4, 6], 7), 1)],
  ['sum of everything (original kernel)', () => tf.sum(normal([4, 6], 8))],
  ['mean axis 0', () => tf.mean(normal([37, 6], 9), 0)],
  ['max axis 0', () => tf.max(normal([37, 6], 10), 0)],
  [
    'max axis 0, keepDims, NaN propagates',
    () =>
      tf.max(
        tf.tensor2d([
          [1, NaN],
          [3, 2],
        ]),
        0,
        true,
      ),
  ],
  [
    'bias gradient (sum over the batch)',
    () => tf.grad((bias: tf.Tensor) => tf.sum(tf.square(tf.add(normal([50, 8], 11), bias))))(normal([8], 12)),
  ],
];

const expected = new Map<string, { shape: number[]; values: number[] }>();

beforeAll(async () => {
  await useBackend('cpu');
  for (const [name, f] of CASES) {
    const t = f();
    expected.set(name, { shape: t.shape, values: Array.from(t.dataSync()) });
  }
  await useBackend('wasm', { wasmThreads: 1 });
});

describe('plain-JS wasm kernels equal the cpu backend', () => {
  for (const [name, f] of CASES) {
    test(name, () => {
      const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
      const got = tf.tidy(() => {
        const t = f();
        return { shape: t.shape, values: Array.from(t.dataSync()) };
      });
      expect({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() }).toEqual(before);
      const want = expected.get(name)!;
      expect(got.shape).toEqual(want.shape);
      got.values.forEach((v, i) => {
        if (Number.isNaN(want.values[i])) expect(v).toBeNaN();
        else
          expect(Math.abs(v - want.values[i]), `${name}[${i}]`).toBeLessThanOrEqual(
            1e-5 * (1 + Math.abs(want.values[i])),
          );
      });
    });
  }

  test('gather names the bad index and the valid range', () => {
    expect(() => tf.gather(tf.ones([3, 2]), ids([3]))).toThrow('GatherV2: the index value 3 is not in [0, 2]');
  });
});

describe('Identity and same-dtype Cast share the data instead of copying', () => {
  const buffers = () => tf.engine().backend.numDataIds();

  test('a clone is the same buffer, outlives its source, and everything is freed at the end', () => {
    const before = { tensors: tf.memory().numTensors, buffers: buffers() };
    const x = normal([300, 40], 60);
    const want = Array.from(x.dataSync());
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    expect(buffers()).toBe(before.buffers + 1); // one buffer under three tensors
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(want);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual(want);
    z.dispose();
    expect({ tensors: tf.memory().numTensors, buffers: buffers() }).toEqual(before);
  });

  test('a Cast to another dtype still converts; a variable assigned after a clone leaves the clone alone', () => {
    const i = tf.tensor1d([1, -2, 3], 'int32');
    const f = tf.cast(i, 'float32');
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.dataSync())).toEqual([1, -2, 3]);
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([i, f, v, snapshot]);
  });
});
