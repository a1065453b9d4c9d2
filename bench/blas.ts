/**
 * Matrix products on the system's BLAS against the path without it (XNNPACK and the wasm kernels),
 * the same tensors, one thread: ms per tf.matMul and the largest difference. The crossover
 * recorded in src/backend/blas-kernels.ts (BLAS_MIN_FLOPS_PER_CALL) comes from here.
 *
 *   npx tsx bench/blas.ts [--threads N]
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, useBackend } from '../src/backend/index.ts';
import { disableBlas, openBlas } from '../src/backend/blas.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--threads');
const threads = at >= 0 ? Number(args[at + 1]) : 1;
const info = await useBackend('wasm', { threads });
console.log(describeBackend(info));
function time(f: () => void, reps = 20) {
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}
const shapes: [string, number[], number[], boolean, boolean][] = [
  ['mlp-97 forward 2822×256×256', [2822, 256], [256, 256], false, false],
  ['mlp-97 dW (transposeA)', [2822, 256], [2822, 256], true, false],
  ['mlp-97 dX (transposeB)', [2822, 256], [256, 256], false, true],
  ['nanda W_in 3830×128×512', [3830, 128], [128, 512], false, false],
  ['nanda dW_in (transposeA)', [3830, 128], [3830, 512], true, false],
  ['8³', [8, 8], [8, 8], false, false],
  ['16³', [16, 16], [16, 16], false, false],
  ['32³', [32, 32], [32, 32], false, false],
  ['64³', [64, 64], [64, 64], false, false],
  ['16³ transposeA', [16, 16], [16, 16], true, false],
  ['32³ transposeA', [32, 32], [32, 32], true, false],
  ['batch 64 of 16³', [64, 16, 16], [64, 16, 16], false, false],
  ['batch 64 of 32³', [64, 32, 32], [64, 32, 32], false, false],
];
console.log('product'.padEnd(30), 'BLAS ms', ' wasm ms', ' max |Δ|');
for (const [label, sa, sb, tA, tB] of shapes) {
  const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
  const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
  const run = () => tf.matMul(a, b, tA, tB).dispose();
  openBlas({ threads });
  const ref = tf.matMul(a, b, tA, tB);
  const tb = time(run);
  disableBlas();
  const x = tf.matMul(a, b, tA, tB);
  const tx = time(run);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(ref, x))).dataSync()[0]);
  console.log(
    label.padEnd(30),
    tb.toFixed(3).padStart(7),
    tx.toFixed(3).padStart(8),
    diff.toExponential(1).padStart(8),
  );
  tf.dispose([a, b, ref, x]);
}
