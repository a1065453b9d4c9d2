/**
 * The norms and empirical-NTK passes on a preset-sized model: milliseconds per checkpoint.
 *
 *   npx tsx bench/ntk.ts [--preset nanda-2023] [--probes 64] [--reps 10] [--per-example]
 *
 * Times empiricalNtk (both kernels), kernelStats for both outputs and normsResult, at the
 * preset's initial weights and at a perturbed copy standing in for a later checkpoint. With
 * --per-example it also times the direct one-backward-per-probe path and reports how far the two
 * kernels are apart (max |ΔK| / max |K|).
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/index.ts';
import { getPreset } from '../src/config/presets.ts';
import { countParams, createModel } from '../src/models/index.ts';
import { Rng } from '../src/rng.ts';
import { buildDataset } from '../src/tasks/index.ts';
import { makeSplit } from '../src/tasks/split.ts';
import { normsResult } from '../analyses/norms.ts';
import {
  chooseProbe,
  empiricalNtk,
  empiricalNtkPerExample,
  ntkResult,
  ntkTargets,
  probeBatch,
} from '../analyses/ntk.ts';
import { fmtMs, printTable } from './timing.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const preset = flag('preset') ?? 'nanda-2023';
const probes = Number(flag('probes') ?? 64);
const reps = Number(flag('reps') ?? 10);
const info = await useBackend('wasm');

const cfg = getPreset(preset);
const dataset = buildDataset(cfg.task);
const split = makeSplit(dataset.n, cfg.split);
const model = createModel(cfg.model, {
  d_vocab: dataset.d_vocab,
  n_ctx: dataset.n_ctx,
  d_vocab_out: dataset.d_vocab_out,
});
const init = model.init(new Rng(cfg.training.seed));
const rng = new Rng(1);
const later: Record<string, Float32Array> = {};
for (const [k, v] of Object.entries(init)) later[k] = v.map((x) => x * 0.9 + 0.02 * rng.normal());
const probe = chooseProbe(dataset, split, 0, probes);
const batch = probeBatch(dataset, probe);
const targets = ntkTargets(batch.labels, probe.projection);

/** Median and min wall time over n runs after one warm-up, and the median process CPU time (robust to other load). */
function median(f: () => void, n: number): { median: number; min: number; cpu: number } {
  f(); // warm-up: kernel compilation, XNNPACK operator packing
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { median: times[times.length >> 1], min: times[0], cpu: cpus[cpus.length >> 1] };
}
const row = (label: string, t: { median: number; min: number; cpu: number }) => [
  label,
  fmtMs(t.median),
  fmtMs(t.min),
  fmtMs(t.cpu),
];

console.log(
  `${preset}: ${countParams(model.specs)} parameters, ${probe.n} probes; backend ${info.name}, ${info.threads ?? 1} thread(s), simd ${info.simd}`,
);
const K0 = empiricalNtk(model, init, batch.tokens, probe.projection);
const tensorsBefore = tf.memory().numTensors;
let K = K0;
const rows: string[][] = [];
const ntk = median(() => (K = empiricalNtk(model, later, batch.tokens, probe.projection)), reps);
rows.push(row('empiricalNtk (both kernels)', ntk));
const stats = median(() => ntkResult(K, K0, targets), reps);
rows.push(row('kernelStats (both outputs)', stats));
const norms = median(() => normsResult(later, init, model.specs), reps);
rows.push(row('normsResult', norms));
if (args.includes('--per-example')) {
  let Kp = K;
  const pe = median(
    () => (Kp = empiricalNtkPerExample(model, later, batch.tokens, probe.projection)),
    Math.min(reps, 3),
  );
  rows.push(row('empiricalNtkPerExample (both kernels)', pe));
  for (const which of ['projection', 'first_output'] as const) {
    let diff = 0,
      scale = 0;
    for (let i = 0; i < K[which].length; i++) {
      diff = Math.max(diff, Math.abs(K[which][i] - Kp[which][i]));
      scale = Math.max(scale, Math.abs(Kp[which][i]));
    }
    console.log(`${which}: max |ΔK| / max |K| between the two paths = ${(diff / scale).toExponential(2)}`);
  }
}
printTable(['pass', 'median ms', 'min ms', 'median CPU ms'], rows);
console.log(
  `load average while measuring: ${(await import('node:os')).loadavg()[0].toFixed(2)} on ${(await import('node:os')).cpus().length} cores`,
);
console.log(`tensors leaked over the timed runs: ${tf.memory().numTensors - tensorsBefore}`);
console.log('result:', JSON.stringify(ntkResult(K, K0, targets)));
