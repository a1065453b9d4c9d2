/**
 * Micro-benchmarks of the kernels a grokking training step uses, on the selected backend.
 *
 *   npx tsx bench/kernels.ts [--backend wasm|cpu] [--threads N] [--only matmul|ops]
 *
 * Part 1 (matmul): for the shapes our models produce, the original wasm BatchMatMul against the
 * rerouting wrapper of src/backend/wasm-kernels.ts, for every transpose-flag combination. This is
 * the table the thresholds in src/backend/matmul-plan.ts come from.
 * Part 2 (ops): element-wise, reduction, layout and optimiser ops on a [N, D] activation, in ns per
 * element next to a plain copy, to spot kernels that are much slower than memory traffic explains.
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/index.ts';
import { installWasmKernelWrappers, uninstallWasmKernelWrappers } from '../src/backend/wasm-kernels.ts';
import { planMatMul } from '../src/backend/matmul-plan.ts';
import { fmtMs, printTable, timeKernel } from './timing.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const backendName = (flag('backend') ?? 'wasm') as 'wasm' | 'cpu';
const threads = flag('threads') ? Number(flag('threads')) : undefined;
const only = flag('only');

const info = await useBackend(backendName, threads ? { wasmThreads: threads } : {});
console.log(
  `backend ${info.name} (threads ${info.threads ?? 1}, simd ${info.simd ?? false}), tfjs ${info.tfjsVersion}\n`,
);

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** [batchA, batchB, m, k, n]: the product op(a)·op(b) with a [...batchA, m, k] and b [...batchB, k, n]. */
type Case = [number[], number[], number, number, number, string];
const MATMUL_CASES: Case[] = [
  [[], [], 16, 16, 16, 'tiny'],
  [[], [], 32, 32, 32, 'tiny'],
  [[], [], 64, 64, 64, 'small'],
  [[], [], 128, 128, 128, 'small'],
  [[], [], 1, 128, 128, 'one row'],
  [[], [], 3830, 128, 512, 'MLP in (p=113, 30% train)'],
  [[], [], 128, 3830, 512, 'dW, inner = samples'],
  [[], [], 11490, 128, 128, 'resid [n·ctx, d_model]'],
  [[], [], 128, 11490, 512, 'dW_in, inner = n·ctx'],
  [[], [], 3830, 226, 128, 'one-hot embed'],
  [[], [], 3830, 128, 113, 'unembed'],
  [[], [], 1024, 1024, 1024, '1024²'],
  [[3830], [], 3, 128, 512, 'batched × shared W'],
  [[], [4], 11490, 128, 32, 'shared x × per-head W'],
  [[15320], [15320], 3, 32, 3, 'attn scores q·kᵀ'],
  [[15320], [15320], 3, 3, 32, 'attn pattern·v'],
  [[4], [4], 11490, 128, 32, 'per-head, big'],
  [[4], [4], 128, 11490, 32, 'per-head dW'],
];

function operands(c: Case, tA: boolean, tB: boolean): [tf.Tensor, tf.Tensor] {
  const [batchA, batchB, m, k, n] = c;
  const a = tf.randomNormal([...batchA, ...(tA ? [k, m] : [m, k])]);
  const b = tf.randomNormal([...batchB, ...(tB ? [n, k] : [k, n])]);
  return [a, b];
}

function benchMatMul(): void {
  console.log('BatchMatMul: median ms, original kernel → wrapper (route), per flag combination');
  const rows: string[][] = [];
  for (const c of MATMUL_CASES) {
    const [batchA, batchB, m, k, n, label] = c;
    const row = [
      `${label} ${batchA.length ? `[${batchA}]·` : ''}${m}×${k}×${n}${batchB.length ? ` b[${batchB}]` : ''}`,
    ];
    for (const [tA, tB] of FLAGS) {
      const [a, b] = operands(c, tA, tB);
      const route = planMatMul(a.shape, b.shape, tA, tB);
      uninstallWasmKernelWrappers();
      const before = timeKernel(() => tf.matMul(a, b, tA, tB), { minTotalMs: 200, minReps: 3 });
      installWasmKernelWrappers();
      const after = timeKernel(() => tf.matMul(a, b, tA, tB), { minTotalMs: 200, minReps: 3 });
      row.push(`${fmtMs(before.medianMs)} → ${fmtMs(after.medianMs)} (${route})`);
      tf.dispose([a, b]);
    }
    rows.push(row);
  }
  printTable(['shape', 'a·b', 'aᵀ·b', 'a·bᵀ', 'aᵀ·bᵀ'], rows);
  console.log();
}

function benchOps(): void {
  const N = 4096;
  const D = 512;
  const x = tf.randomNormal([N, D]);
  const y = tf.randomNormal([N, D]);
  const row = tf.randomNormal([D]);
  const col = tf.randomNormal([N, 1]);
  const v = tf.abs(tf.randomNormal([N, D]));
  const labels = tf.randomUniform([N], 0, 113, 'int32');
  const table = tf.randomNormal([113, D]);
  const x3 = tf.randomNormal([N, 3, 128]); // [n, ctx, d_model]
  const x4 = tf.randomNormal([N, 3, 4, 32]); // [n, ctx, n_heads, d_head]
  const size = N * D;
  const ops: [string, () => tf.Tensor | tf.Tensor[], number][] = [
    ['copy (add scalar 0) — baseline', () => tf.add(x, 0), size],
    ['add same shape', () => tf.add(x, y), size],
    ['add row-broadcast [D]', () => tf.add(x, row), size],
    ['add col-broadcast [N,1]', () => tf.add(x, col), size],
    ['mul same shape', () => tf.mul(x, y), size],
    ['mul row-broadcast [D]', () => tf.mul(x, row), size],
    ['sum axis 1 (last)', () => tf.sum(x, 1), size],
    ['sum axis 0', () => tf.sum(x, 0), size],
    ['max axis 1 (last)', () => tf.max(x, 1), size],
    ['max axis 0', () => tf.max(x, 0), size],
    ['mean axis 0', () => tf.mean(x, 0), size],
    ['argMax axis 1', () => tf.argMax(x, 1), size],
    ['softmax last axis', () => tf.softmax(x), size],
    ['logSoftmax last axis', () => tf.logSoftmax(x), size],
    ['exp', () => tf.exp(x), size],
    ['log', () => tf.log(v), size],
    ['relu', () => tf.relu(x), size],
    ['step (relu grad)', () => tf.step(x), size],
    ['greater', () => tf.greater(x, 0), size],
    ['relu grad (tf.grad)', () => tf.grad((t: tf.Tensor) => tf.relu(t))(x, y), size],
    ['sqrt', () => tf.sqrt(v), size],
    ['realDiv', () => tf.div(x, v), size],
    ['square', () => tf.square(x), size],
    [
      'adam update (6 ops)',
      () =>
        tf.tidy(() =>
          tf.sub(x, tf.mul(0.001, tf.div(tf.add(tf.mul(0.9, y), tf.mul(0.1, x)), tf.add(tf.sqrt(v), 1e-8)))),
        ),
      size,
    ],
    ['transpose 2-D', () => tf.transpose(x), size],
    ['transpose 3-D [0,2,1]', () => tf.transpose(x3, [0, 2, 1]), N * 3 * 128],
    ['transpose 3-D [1,0,2]', () => tf.transpose(x3, [1, 0, 2]), N * 3 * 128],
    ['transpose 4-D [0,2,1,3]', () => tf.transpose(x4, [0, 2, 1, 3]), N * 3 * 128],
    ['tile [1,D] → [N,D]', () => tf.tile(tf.reshape(row, [1, D]), [N, 1]), size],
    ['oneHot depth 113', () => tf.oneHot(labels, 113), N * 113],
    ['gather rows [113,D]', () => tf.gather(table, labels), size],
    ['concat last axis', () => tf.concat([x, y], 1), 2 * size],
    ['slice [:, :D/2]', () => tf.slice(x, [0, 0], [N, D / 2]), size / 2],
    ['cast int32 → float32', () => tf.cast(labels, 'float32'), N],
  ];
  const rows: string[][] = [];
  let baseline = 0;
  for (const [name, f, elems] of ops) {
    let cells: string[];
    try {
      const t = timeKernel(f, { minTotalMs: 300 });
      const ns = (t.medianMs * 1e6) / elems;
      if (baseline === 0) baseline = ns;
      cells = [name, fmtMs(t.medianMs), ns.toFixed(2), (ns / baseline).toFixed(1), t.cpuPerWall.toFixed(2)];
    } catch (e) {
      cells = [name, 'FAILS', '', '', (e as Error).message.slice(0, 60)];
    }
    rows.push(cells);
  }
  printTable(['op', 'ms', 'ns/elem', '× copy', 'cpu/wall'], rows);
  // Gradient of gather (embedding lookup) needs UnsortedSegmentSum.
  try {
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, labels)))(table);
    g.dispose();
    console.log('gather gradient: ok');
  } catch (e) {
    console.log(`gather gradient: FAILS (${(e as Error).message.slice(0, 100)})`);
  }
  tf.dispose([x, y, row, col, v, labels, table, x3, x4]);
}

if (only !== 'ops' && info.name === 'wasm') benchMatMul();
if (only !== 'matmul') benchOps();
