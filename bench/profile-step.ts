/**
 * Where one optimiser step's time goes, kernel by kernel (tfjs's profiler: each kernel timed
 * synchronously on the wasm backend), for the cases of bench/train.ts.
 *
 *   npx tsx bench/profile-step.ts [--case demo|nanda-2023|mlp-97] [--threads N] [--steps 10] [--shapes 3]
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, useBackend } from '../src/backend/index.ts';
import { resolveConfig } from '../src/config/load.ts';
import { benchTrainingStep } from './timing.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const CASES: Record<string, { preset: string; sets: string[] }> = {
  demo: { preset: 'demo', sets: [] },
  'nanda-2023': { preset: 'nanda-2023', sets: [] },
  'mlp-97': { preset: 'nanda-2023', sets: ['task.p=97', 'model.kind=mlp'] },
};
const c = CASES[flag('case') ?? 'mlp-97'];
const steps = Number(flag('steps') ?? 10);
const info = await useBackend('wasm', { threads: Number(flag('threads') ?? 1) });
console.log(describeBackend(info));
const cfg = resolveConfig({ preset: c.preset, sets: c.sets }).config;
const { step } = benchTrainingStep(cfg);
for (let i = 0; i < 3; i++) step();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const wall = (performance.now() - t0) / steps;
const byKernel = new Map<string, { ms: number; calls: number; shapes: Map<string, number> }>();
const prof = await tf.profile(() => {
  for (let i = 0; i < steps; i++) step();
});
for (const k of prof.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0, shapes: new Map() };
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.ms += ms / steps;
  e.calls += 1 / steps;
  const key = k.inputShapes.map((s) => `[${s}]`).join('·');
  e.shapes.set(key, (e.shapes.get(key) ?? 0) + ms / steps);
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(
  `${flag('case') ?? 'mlp-97'}: ${wall.toFixed(1)} ms per step unprofiled; kernels ${total.toFixed(1)} ms, the rest (JS, tape, tidy) ${(wall - total).toFixed(1)} ms`,
);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 18)) {
  const top = [...e.shapes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(flag('shapes') ?? 3))
    .map(([s, ms]) => `${s} ${ms.toFixed(2)}`)
    .join('; ');
  console.log(`${name.padEnd(20)} ${e.ms.toFixed(2).padStart(7)} ms ${e.calls.toFixed(0).padStart(4)} calls   ${top}`);
}
