/**
 * The llc pass on a preset-sized model: seconds per checkpoint with the default settings
 * (analyses/llc.ts LLC_DEFAULTS), and where the time goes.
 *
 *   npx tsx bench/llc.ts [--preset nanda-2023] [--chains 4] [--draws 200] [--burnin 100] [--batch 256]
 *
 * Runs the estimator once at the preset's initial weights shrunk towards a trained scale (the
 * cost does not depend on the weights' values), and times one loss-and-gradient evaluation and
 * one noise-and-update sweep separately. Prints wall and CPU time and the load average, and beside
 * them the same SGLD loop in PyTorch on the same CPU (bench/torch_sgld.py, one pinned thread: what
 * devinterp's sampler does per step), when /usr/bin/python3 has torch.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend/index.ts';
import { getPreset } from '../src/config/presets.ts';
import { countParams, createModel, trainedSpecs } from '../src/models/index.ts';
import { Rng } from '../src/rng.ts';
import { buildDataset } from '../src/tasks/index.ts';
import { makeSplit } from '../src/tasks/split.ts';
import { llcOptions, llcResult, networkLoss } from '../analyses/llc.ts';
import { zigguratNormal } from '../analyses/ziggurat.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const preset =
  args[args.indexOf('--preset') + 1] && args.includes('--preset') ? args[args.indexOf('--preset') + 1] : 'nanda-2023';
const info = await useBackend('wasm');
const cfg = getPreset(preset);
const dataset = buildDataset(cfg.task);
const split = makeSplit(dataset.n, cfg.split);
const model = createModel(cfg.model, {
  d_vocab: dataset.d_vocab,
  n_ctx: dataset.n_ctx,
  d_vocab_out: dataset.d_vocab_out,
});
const params = model.init(new Rng(cfg.training.seed));
const options = llcOptions(split.train.length, 0, {
  chains: flag('chains'),
  draws: flag('draws'),
  burnin: flag('burnin'),
  batch_size: flag('batch'),
});
const d = countParams(trainedSpecs(model.specs));
console.log(
  `${preset}: ${d.toLocaleString('en')} parameters, n = ${split.train.length}, nβ = ${options.nbeta.toFixed(1)}, ${options.chains} chains × (${options.burnin} + ${options.draws}) steps, batch ${options.batch_size}; backend ${info.name}`,
);

// the parts of one SGLD step
const net = networkLoss({ model, config: cfg, dataset, split, params, options });
const w = Float64Array.from(net.wStar);
for (let i = 0; i < 5; i++) net.lossGrad(w, 0, i); // warm-up
let t0 = performance.now();
const N = 30;
for (let i = 0; i < N; i++) net.lossGrad(w, 0, i);
const grad = (performance.now() - t0) / N;
const rng = new Rng(1);
t0 = performance.now();
for (let i = 0; i < N; i++) for (let j = 0; j < w.length; j++) w[j] += -1e-3 * w[j] + 1e-2 * zigguratNormal(rng);
const update = (performance.now() - t0) / N;
net.dispose();
console.log(
  `one step: loss and gradient on a minibatch ${grad.toFixed(1)} ms, noise and update ${update.toFixed(1)} ms`,
);

const before = tf.memory().numTensors;
const load0 = loadavg()[0];
const c0 = process.cpuUsage();
t0 = performance.now();
const r = llcResult({ model, config: cfg, dataset, split, params, options });
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
console.log(
  `llc per checkpoint: ${wall.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (${((wall * 1000) / (options.chains * (options.burnin + options.draws))).toFixed(1)} ms per step); load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
);
console.log(
  `λ̂ = ${r.llc?.toFixed(1)} ± ${r.llc_std?.toFixed(1)} at the initial weights, ${r.diverged_chains} diverged chain(s); tensors leaked: ${tf.memory().numTensors - before}`,
);

// PyTorch's cost for the same loop (the transformer sizes of the preset; skipped without torch)
if (cfg.model.kind === 'transformer' && cfg.task.kind === 'modular') {
  const m = cfg.model;
  const job = {
    p: cfg.task.p,
    d_model: m.d_model,
    n_heads: m.n_heads,
    d_head: m.d_head,
    d_mlp: m.d_mlp,
    n_train: split.train.length,
    batch: options.batch_size,
    steps_per_checkpoint: options.chains * (options.burnin + options.draws),
    epsilon: options.epsilon,
    gamma: options.gamma,
    nbeta: options.nbeta,
  };
  const py = spawnSync(
    '/usr/bin/python3',
    [fileURLToPath(new URL('./torch_sgld.py', import.meta.url)), JSON.stringify(job), '1'],
    { encoding: 'utf8' },
  );
  if (py.status === 0) {
    const t = JSON.parse(py.stdout.trim().split('\n').at(-1)!);
    console.log(
      `PyTorch ${t.torch} (OpenBLAS threads ${t.openblas_threads}), same SGLD loop: ${t.ms_per_step.toFixed(1)} ms per step, ${t.s_per_checkpoint.toFixed(1)} s per checkpoint; ours/PyTorch ×${(wall / t.s_per_checkpoint).toFixed(2)}`,
    );
  } else console.log(`PyTorch baseline skipped: ${(py.stderr || py.error?.message || '').trim().split('\n').at(-1)}`);
}
