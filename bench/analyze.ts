/**
 * Analysis speed and memory at the size of Nanda et al.'s model: a run directory with the
 * nanda-2023 config (p = 113, 1-layer transformer, 226k parameters) and N checkpoints, analysed
 * with every pass (64 NTK probe inputs). Prints seconds per checkpoint, the total and the peak
 * resident memory. Targets (issue #3): 400 checkpoints in under 10 minutes, peak under 2 GB.
 *
 *   npm run bench:analyze            (or: npx tsx bench/analyze.ts [--checkpoints 400] [--threads N])
 *
 * The products run on the system's BLAS when there is one (GROKLENS_BLAS=none for the path
 * without it); the backend line and the load average are printed with the figures.
 *
 * The checkpoints are the initial weights plus a random walk (the cost of a pass does not depend
 * on the values); the key frequencies come from the last one, as for a real run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeRun } from '../analyses/run-analysis.ts';
import { describeBackend, useBackend } from '../src/backend/index.ts';
import { getPreset } from '../src/config/presets.ts';
import { createModel, countParams } from '../src/models/index.ts';
import { Rng } from '../src/rng.ts';
import { RunStore, type NamedTensors } from '../src/run/store.ts';
import { buildDataset, describeTask } from '../src/tasks/index.ts';
import { makeSplit } from '../src/tasks/split.ts';
import { PACKAGE_VERSION, RUN_FORMAT_VERSION } from '../src/version.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--checkpoints');
const N = at >= 0 ? Number(args[at + 1]) : 400;
const th = args.indexOf('--threads');

const backend = await useBackend('wasm', { threads: th >= 0 ? Number(args[th + 1]) : 1 });
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const loadBefore = load();
const config = getPreset('nanda-2023');
const dataset = buildDataset(config.task);
const split = makeSplit(dataset.n, config.split);
const model = createModel(config.model, {
  d_vocab: dataset.d_vocab,
  n_ctx: dataset.n_ctx,
  d_vocab_out: dataset.d_vocab_out,
});
const root = mkdtempSync(join(tmpdir(), 'groklens-bench-analyze-'));
const dir = join(root, 'nanda');
const store = RunStore.create(
  dir,
  {
    format: 'groklens-run',
    format_version: RUN_FORMAT_VERSION,
    groklens_version: PACKAGE_VERSION,
    name: 'nanda',
    created_at: new Date().toISOString(),
    preset: 'nanda-2023',
    backend: {
      name: backend.name,
      requested: 'wasm',
      tfjs_version: backend.tfjsVersion,
      ...(backend.blas ? { blas: backend.blas } : {}),
    },
    config,
    dataset: {
      description: describeTask(config.task),
      n: dataset.n,
      n_ctx: dataset.n_ctx,
      d_vocab: dataset.d_vocab,
      d_vocab_out: dataset.d_vocab_out,
      n_train: split.train.length,
      n_test: split.test.length,
    },
    params: model.specs,
    n_params: countParams(model.specs),
  },
  split,
  {},
);
const rng = new Rng(1);
const w = model.init(new Rng(0));
for (let i = 0; i < N; i++) {
  const params: NamedTensors = {};
  for (const { name, shape } of model.specs) {
    if (i > 0) for (let j = 0; j < w[name].length; j++) w[name][j] += 0.01 * rng.normal();
    params[name] = { shape, data: w[name] };
  }
  store.writeCheckpoint(i * 100, params, model.specs);
}
console.error(`wrote ${N} checkpoints of ${countParams(model.specs).toLocaleString('en')} parameters to ${dir}`);

let peak = process.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const t0 = performance.now();
const out = await analyzeRun(dir, {
  saveEveryMs: 30_000,
  onProgress: ({ done }) => (
    (peak = Math.max(peak, process.memoryUsage().rss)),
    done % 50 === 0 && console.error(`${done}/${N}`)
  ),
});
const seconds = (performance.now() - t0) / 1000;
clearInterval(timer);
rmSync(root, { recursive: true, force: true });
console.log(
  `analyze, nanda-2023 size (p = 113, ${countParams(model.specs).toLocaleString('en')} parameters), all passes, 64 NTK probes, backend ${backend.name}:`,
);
console.log(
  `  ${out.analysed} checkpoints in ${seconds.toFixed(1)} s = ${(seconds / out.analysed).toFixed(3)} s per checkpoint`,
);
console.log(
  `  extrapolated to 400 checkpoints: ${((400 * seconds) / out.analysed / 60).toFixed(1)} min (target < 3 min)`,
);
console.log(`  peak resident memory: ${(peak / 2 ** 20).toFixed(0)} MB (target < 1024 MB)`);
console.log(`  ${describeBackend(backend)}`);
console.log(`  load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`);
