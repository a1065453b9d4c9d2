/**
 * One optimiser step of a preset's model on its full training set, timed with the kernel wrappers
 * of src/backend/wasm-kernels.ts off and on, with the trainer's divergence watch off and on, plus a
 * per-kernel profile of the step.
 *
 *   npx tsx bench/step.ts [--preset nanda-2023] [--backend wasm|cpu] [--threads N] [--steps 5] [--batch N]
 *                         [--detail KernelName | --matmuls]
 *
 * The preset's batch_size is used unless --batch overrides it (0 = full batch).
 */
import * as tf from '@tensorflow/tfjs-core';
import { getPreset } from '../src/config/presets.ts';
import type { RunConfig } from '../src/config/types.ts';
import { useBackend } from '../src/backend/index.ts';
import { installWasmKernelWrappers, uninstallWasmKernelWrappers } from '../src/backend/wasm-kernels.ts';
import { DivergenceWatch } from '../src/run/divergence.ts';
import { benchTrainingStep, fmtMs, printTable } from './timing.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const preset = flag('preset') ?? 'nanda-2023';
const steps = Number(flag('steps') ?? 5);
const threads = flag('threads') ? Number(flag('threads')) : undefined;
const info = await useBackend((flag('backend') ?? 'wasm') as 'wasm' | 'cpu', threads ? { wasmThreads: threads } : {});

const cfg: RunConfig = getPreset(preset);
const batchArg = flag('batch');
const batchSize = batchArg !== undefined ? Number(batchArg) || null : cfg.training.batch_size;
// The trainer's divergence watch (src/run/divergence.ts): timed on and off below.
let watch: DivergenceWatch | null = null;
let stepCount = 0;
const bench = benchTrainingStep(cfg, {
  seed: cfg.training.seed,
  batchSize,
  onStep: (loss, grads) => watch?.observe(loss, grads, stepCount++),
});
const step = bench.step;

console.log(
  `${preset}: ${bench.kind}, ${bench.rows} examples × ${bench.nCtx} tokens, backend ${info.name} ` +
    `(threads ${info.threads ?? 1}), ${bench.tensors} parameter tensors\n`,
);

function timeSteps(label: string): number {
  step(); // warm-up (operator creation, heap growth)
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  console.log(`${label.padEnd(28)} median ${fmtMs(median)} ms/step (min ${fmtMs(times[0])}, ${steps} steps)`);
  return median;
}

if (info.name === 'wasm') {
  uninstallWasmKernelWrappers();
  const before = timeSteps('original wasm kernels');
  installWasmKernelWrappers();
  const after = timeSteps('with kernel wrappers');
  console.log(`speed-up ×${(before / after).toFixed(2)}\n`);
} else {
  timeSteps(`${info.name} backend`);
}
{
  // Alternate off / on so that load drift hits both alike; the watch adds no read-back.
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < 3; round++) {
    watch = null;
    off.push(timeSteps('divergence watch off'));
    watch = new DivergenceWatch();
    on.push(timeSteps('divergence watch on'));
    watch.dispose();
    watch = null;
  }
  const med = (x: number[]) => x.sort((a, b) => a - b)[x.length >> 1];
  console.log(
    `divergence watch: ${fmtMs(med(off))} → ${fmtMs(med(on))} ms/step (${(((med(on) - med(off)) / med(off)) * 100).toFixed(1)} %)\n`,
  );
}

const profile = await tf.profile(() => step());
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += Number(k.kernelTimeMs) || 0;
  entry.calls++;
  byKernel.set(k.name, entry);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
const top = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
console.log(`kernel profile of one step (sum of kernel times ${fmtMs(total)} ms):`);
printTable(
  ['kernel', 'calls', 'ms', 'share'],
  top.map(([name, e]) => [name, String(e.calls), fmtMs(e.ms), `${((100 * e.ms) / total).toFixed(1)} %`]),
);

const detail = flag('detail') ?? (args.includes('--matmuls') ? 'BatchMatMul' : undefined);
if (detail) {
  const mm = profile.kernels
    .filter((k) => k.name === detail)
    .sort((a, b) => Number(b.kernelTimeMs) - Number(a.kernelTimeMs));
  console.log(`\n${detail} calls of one step:`);
  printTable(
    ['inputs', 'output', 'ms'],
    mm.map((k) => [
      k.inputShapes.map((s) => `[${s}]`).join(' · '),
      `[${k.outputShapes[0]}]`,
      fmtMs(Number(k.kernelTimeMs)),
    ]),
  );
}
