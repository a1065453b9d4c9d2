/**
 * The cross-entropy of one training step, value and gradient, at the mlp-97 size (n = 2822 rows
 * of C = 97 logits; --n / --c for others): tfjs's composite of ~15 ops (the path of other
 * backends) against the fused kernels of src/backend/softmax-xent.ts, wasm SIMD and plain JS.
 * Best of --reps (default 50) wall times, with the load average.
 *
 *   npx tsx bench/cross-entropy.ts [--n 2822] [--c 97] [--reps 50]
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { useBackend } from '../src/backend/index.ts';
import { SOFTMAX_XENT, SOFTMAX_XENT_GRAD } from '../src/backend/softmax-xent.ts';
import { useSimdKernels } from '../src/backend/simd.ts';
import { crossEntropy } from '../src/optim/loss.ts';

const args = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const n = flag('n', 2822);
const c = flag('c', 97);
const reps = flag('reps', 50);
await useBackend('wasm');
const x = tf.randomNormal([n, c], 0, 3) as tf.Tensor2D;
const m = tf.cast(tf.oneHot(tf.randomUniform([n], 0, c, 'int32') as tf.Tensor1D, c), 'float32') as tf.Tensor2D;
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');

function best(f: () => tf.Tensor[]): number {
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = f();
    for (const t of out) t.dataSync();
    b = Math.min(b, performance.now() - t0);
    tf.dispose(out);
  }
  return b;
}
const fused = tf.valueAndGrad((l: tf.Tensor) => crossEntropy(l, m));
const fusedStep = () => {
  const r = fused(x);
  return [r.value, r.grad];
};
/** The composite path of src/optim/loss.ts, op for op. */
const composite = tf.valueAndGrad(
  tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [l, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const logp = tf.logSoftmax(l);
    save([logp]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(m, logp))), tf.scalar(n)),
      gradFunc: (dy: tf.Tensor, [lp]: tf.Tensor[]) => {
        const p = tf.exp(lp);
        const others = tf.sub(p, tf.mul(p, m));
        return tf.mul(tf.sub(others, tf.mul(m, tf.sum(others, 1, true))), tf.div(dy, tf.scalar(n)));
      },
    };
  }) as (l: tf.Tensor) => tf.Scalar,
);
const before = load();
const rows: [string, number][] = [];
rows.push([
  'composite (~15 tfjs ops)',
  best(() => {
    const r = composite(x);
    return [r.value, r.grad];
  }),
]);
rows.push(['fused, wasm SIMD', best(fusedStep)]);
useSimdKernels(false);
rows.push(['fused, plain JS', best(fusedStep)]);
useSimdKernels(true);
const [, probs] = tf.engine().runKernel(SOFTMAX_XENT, { logits: x, mask: m }) as tf.Tensor[];
rows.push([
  '  SIMD forward kernel alone',
  best(() => tf.engine().runKernel(SOFTMAX_XENT, { logits: x, mask: m }) as tf.Tensor[]),
]);
rows.push([
  '  SIMD backward kernel alone',
  best(() => [tf.engine().runKernel(SOFTMAX_XENT_GRAD, { probs, mask: m, dy: tf.scalar(1) }) as tf.Tensor]),
]);
console.log(`cross-entropy value + gradient, [${n}, ${c}], best of ${reps} (ms):`);
for (const [name, ms] of rows) console.log(`${name.padEnd(30)} ${ms.toFixed(3)}`);
console.log(`load average (1, 5, 15 min): ${before} before, ${load()} after`);
