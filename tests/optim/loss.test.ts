import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { accuracy, crossEntropy, linfPenalty, mse, oneHotMask } from '../../src/optim/loss.ts';
import { Rng } from '../../src/rng.ts';
import { closeTo } from './reference.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

/** float64 oracles, written from the definitions. logits row-major [n, c]. */
function logSoftmax64(logits: ArrayLike<number>, n: number, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, j) => logits[i * c + j]);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    out.push(...row.map((x) => x - lse));
  }
  return out;
}
function crossEntropy64(logits: ArrayLike<number>, labels: number[], c: number): number {
  const logp = logSoftmax64(logits, labels.length, c);
  return -labels.reduce((s, y, i) => s + logp[i * c + y], 0) / labels.length;
}
/** d(mean CE)/d logits = (softmax − onehot)/n. */
function crossEntropyGrad64(logits: ArrayLike<number>, labels: number[], c: number): number[] {
  const n = labels.length;
  return logSoftmax64(logits, n, c).map((lp, k) => (Math.exp(lp) - (labels[Math.floor(k / c)] === k % c ? 1 : 0)) / n);
}

const rng = new Rng(3);
const N = 7;
const C = 5;
const LOGITS = Float32Array.from(rng.normalArray(N * C, 3));
const LABELS = [0, 4, 2, 2, 1, 3, 0];
// Huge logits: a naive exp overflows to Inf; the labels pick both the winner and a loser.
const BIG = Float32Array.from([1e4, -1e4, 0, 5, 1e4 - 1, 1e4, 1e4, 1e4, -1e4, 3e4, -3e4, 0]);
const BIG_LABELS = [1, 0, 2, 1];

describe('crossEntropy', () => {
  it('keeps its gradient precise when the loss is tiny (a confident, correct model)', () => {
    // The true class leads by 12–22 nats: losses of 1e-10 to 1e-5, where p_y − 1 in float32 is
    // rounding. The gradient must match the float64 oracle to 1e-5 relative, entry by entry.
    const c = 7;
    const labels = [0, 3, 6, 2];
    const logits = new Float32Array(labels.length * c);
    labels.forEach((y, i) => {
      for (let j = 0; j < c; j++) logits[i * c + j] = j === y ? 12 + 3 * i : 0.1 * j;
    });
    const grad = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => crossEntropy(x, oneHotMask(labels, c)))(tf.tensor2d(logits, [labels.length, c]))
        .dataSync(),
    );
    const want = crossEntropyGrad64(logits, labels, c);
    for (let k = 0; k < want.length; k++) {
      expect(Math.abs(grad[k] - want[k]), `entry ${k}: ${grad[k]} vs ${want[k]}`).toBeLessThanOrEqual(
        1e-5 * Math.abs(want[k]) + 1e-30,
      );
    }
  });

  it.each([
    ['moderate logits', LOGITS, LABELS, 5],
    ['logits of ±1e4 and ±3e4', BIG, BIG_LABELS, 3],
  ])('matches the float64 oracle on %s, with ids or a one-hot mask', (_label, logits, labels, c) => {
    const n = labels.length;
    const expected = crossEntropy64(logits, labels, c);
    expect(Number.isFinite(expected)).toBe(true);
    const [byIds, byMask] = tf.tidy(() => {
      const x = tf.tensor2d(logits, [n, c]);
      return [
        crossEntropy(x, tf.tensor1d(labels, 'int32')).dataSync()[0],
        crossEntropy(x, oneHotMask(labels, c)).dataSync()[0],
      ];
    });
    expect(Number.isFinite(byIds)).toBe(true);
    expect(closeTo([byIds], [expected], 1e-6, 1e-6)).toBeNull();
    expect(byMask).toBe(byIds);
  });

  it.each([
    ['moderate logits', LOGITS, LABELS, 5],
    ['logits of ±1e4 and ±3e4', BIG, BIG_LABELS, 3],
  ])('has gradient (softmax − onehot)/n on %s, with no NaN or Inf', (_label, logits, labels, c) => {
    const n = labels.length;
    const grad = tf.tidy(() => {
      const mask = oneHotMask(labels, c);
      return tf
        .grad((x: tf.Tensor) => crossEntropy(x, mask))(tf.tensor2d(logits, [n, c]))
        .dataSync();
    });
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(closeTo(grad, crossEntropyGrad64(logits, labels, c), 1e-5, 1e-7)).toBeNull();
  });

  it('differentiates with int32 ids turned into a mask inside the differentiated function', () => {
    // tf.grad runs the function in its own tidy: anything the backward pass needs must be saved.
    const grad = tf.tidy(() => {
      const ids = [3, 1];
      return tf
        .grad((x: tf.Tensor) => crossEntropy(x, tf.tensor1d(ids, 'int32')))(tf.tensor2d(LOGITS.slice(0, 10), [2, 5]))
        .dataSync();
    });
    expect(closeTo(grad, crossEntropyGrad64(LOGITS.slice(0, 10), [3, 1], 5), 1e-5, 1e-7)).toBeNull();
  });

  it('trains a variable through tf.variableGrads', () => {
    const w = tf.tidy(() => tf.variable(tf.zeros([2, 3]), true));
    const { value, grads } = tf.variableGrads(() => crossEntropy(w, tf.tensor1d([2, 0], 'int32')), [w]);
    expect(value.dataSync()[0]).toBeCloseTo(Math.log(3), 6);
    expect(closeTo(grads[w.name].dataSync(), [1 / 6, 1 / 6, -1 / 3, -1 / 3, 1 / 6, 1 / 6], 1e-6)).toBeNull();
    [value, grads[w.name], w].forEach((t) => t.dispose());
  });

  it('is ln C for equal logits', () => {
    const v = tf.tidy(() => crossEntropy(tf.zeros([4, 113]), tf.tensor1d([0, 5, 50, 112], 'int32')).dataSync()[0]);
    expect(v).toBeCloseTo(Math.log(113), 5);
  });

  it('rejects mismatched labels', () => {
    tf.tidy(() => {
      const x = tf.zeros([3, 4]);
      expect(() => crossEntropy(x, tf.tensor1d([0, 1], 'int32'))).toThrow(/2 labels for 3 rows/);
      expect(() => crossEntropy(x, tf.tensor1d([0, 1, 2], 'float32'))).toThrow(/class ids must be int32, got float32/);
      expect(() => crossEntropy(x, tf.zeros([3, 5]) as tf.Tensor2D)).toThrow(
        /one-hot mask has shape \[3,5\], logits \[3,4\]/,
      );
    });
  });
});

describe('mse', () => {
  it('is the mean over every entry (PyTorch MSELoss mean), with gradient 2(o − t)/(n·C)', () => {
    const out = Float32Array.from(rng.normalArray(12));
    const tgt = Float32Array.from(rng.normalArray(12));
    const expected = out.reduce((s, o, i) => s + (o - tgt[i]) ** 2, 0) / 12;
    const [value, grad] = tf.tidy(() => {
      const t = tf.tensor2d(tgt, [4, 3]);
      const o = tf.tensor2d(out, [4, 3]);
      return [
        mse(o, t).dataSync()[0],
        tf
          .grad((x: tf.Tensor) => mse(x, t))(o)
          .dataSync(),
      ];
    });
    expect(closeTo([value], [expected], 1e-6)).toBeNull();
    expect(
      closeTo(
        grad,
        Array.from(out, (o, i) => (2 * (o - tgt[i])) / 12),
        1e-6,
        1e-8,
      ),
    ).toBeNull();
  });

  it('differentiates with targets made inside the differentiated function', () => {
    const grad = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => mse(x, tf.ones([2, 2])))(
          tf.tensor2d([
            [1, 2],
            [3, 5],
          ]),
        )
        .dataSync(),
    );
    expect(Array.from(grad)).toEqual([0, 0.5, 1, 2]);
  });

  it('stays finite for outputs of 1e4', () => {
    const v = tf.tidy(() => mse(tf.fill([2, 1], 1e4), tf.tensor2d([[-1], [1]])).dataSync()[0]);
    expect(v).toBeCloseTo(((1e4 + 1) ** 2 + (1e4 - 1) ** 2) / 2, -1);
  });

  it('rejects mismatched shapes', () => {
    tf.tidy(() => {
      expect(() => mse(tf.zeros([2, 3]), tf.zeros([3, 2]))).toThrow(/must be the same \[n, C\] shape/);
    });
  });
});

describe('linfPenalty', () => {
  it('is the max |θ| over all parameters, with gradient sign(θ) at that entry only', () => {
    const [value, grads] = tf.tidy(() => {
      const a = tf.tensor2d([
        [0.5, -3.25],
        [1, 2],
      ]);
      const b = tf.tensor1d([2.5, -0.1, 3]);
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => linfPenalty({ a: x, b: y }))([a, b]);
      return [linfPenalty([a, b]).dataSync()[0], g.map((t) => Array.from(t.dataSync(), (v) => v + 0))];
    });
    expect(value).toBe(3.25);
    expect(grads).toEqual([
      [0, -1, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('splits the gradient (dy = 2) evenly over exact ties, across tensors', () => {
    const grads = tf.tidy(() =>
      tf
        .grads((x: tf.Tensor, y: tf.Tensor) => linfPenalty([x, y]))(
          [tf.tensor1d([-4, 1]), tf.tensor1d([4, 4])],
          tf.scalar(2),
        )
        .map((t) => Array.from(t.dataSync())),
    );
    expect(grads).toEqual(
      [
        [-2 / 3, 0],
        [2 / 3, 2 / 3],
      ].map((r) => r.map(Math.fround)),
    );
  });

  it('works on a single tensor', () => {
    expect(tf.tidy(() => linfPenalty([tf.tensor1d([-7, 2])]).dataSync()[0])).toBe(7);
  });
});

describe('accuracy', () => {
  it('counts arg-max hits, first index on ties, with ids or a mask', () => {
    const logits = [
      [1, 2, 0], // → 1
      [5, 5, 0], // tie → 0
      [0, 0, 9], // → 2
      [3, 1, 1], // → 0
    ];
    const labels = [1, 1, 2, 1];
    const [byIds, byMask] = tf.tidy(() => {
      const x = tf.tensor2d(logits);
      return [
        accuracy(x, tf.tensor1d(labels, 'int32')).dataSync()[0],
        accuracy(x, oneHotMask(labels, 3)).dataSync()[0],
      ];
    });
    expect(byIds).toBe(0.5);
    expect(byMask).toBe(0.5);
  });

  it('returns a scalar tensor without reading back', () => {
    const t = tf.tidy(() => tf.keep(accuracy(tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'))));
    expect(t.rank).toBe(0);
    expect(t.dtype).toBe('float32');
    t.dispose();
  });
});

describe('tensor hygiene', () => {
  it('leaves nothing behind inside a tidy', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor2d(LOGITS, [N, C]);
      const ids = tf.tensor1d(LABELS, 'int32');
      crossEntropy(x, ids);
      tf.grad((z: tf.Tensor) => crossEntropy(z, ids))(x);
      accuracy(x, ids);
      mse(x, x);
      linfPenalty([x, x]);
    });
    oneHotMask(LABELS, C).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
