/**
 * Training speed: median ms per optimiser step of groklens (wasm backend, 1 thread and 2 threads)
 * beside PyTorch on the same CPU (Debian's python3-torch, 1 and 2 threads), for the models users
 * train most, plus the end-to-end steps/s of `groklens train` (evaluation and checkpoints included).
 *
 *   npm run bench:train            (or: npx tsx bench/train.ts [--cases demo,nanda-2023,mlp-97])
 *
 * The PyTorch step uses the same shapes, batch and AdamW; its inputs are random pairs (the cost
 * does not depend on the values). Both sides get the same number of BLAS threads: ours through
 * --threads (OpenBLAS and the wasm pool), PyTorch's through OPENBLAS_NUM_THREADS / OMP_NUM_THREADS
 * (torch.set_num_threads alone leaves OpenBLAS on every core), checked by torch_step.py with
 * openblas_get_num_threads() and a timed 1024³ product, printed below the table. The load
 * average is printed too: the figures are only comparable within one run on a shared machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackend, useBackend } from '../src/backend/index.ts';
import { resolveConfig } from '../src/config/load.ts';
import type { RunConfig } from '../src/config/types.ts';
import { buildDataset } from '../src/tasks/index.ts';
import { benchTrainingStep, printTable } from './timing.ts';

interface Case {
  name: string;
  preset: string;
  sets: string[];
}
const CASES: Case[] = [
  { name: 'demo', preset: 'demo', sets: [] },
  { name: 'nanda-2023', preset: 'nanda-2023', sets: [] },
  { name: 'mlp-97', preset: 'nanda-2023', sets: ['task.p=97', 'model.kind=mlp'] }, // embedding 128, hidden 256, 30 % train
];

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const wanted = flag('cases')?.split(',') ?? CASES.map((c) => c.name);
const here = fileURLToPath(new URL('.', import.meta.url));

function stepTimer(cfg: RunConfig): () => number {
  const { step } = benchTrainingStep(cfg);
  return () => {
    for (let i = 0; i < 3; i++) step();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 5 || performance.now() - start < 2000) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1];
  };
}

interface TorchResult {
  ms: number;
  mb: number;
  openblasThreads: number | null;
  productMs: number;
}
const torchChecks: string[] = [];

function torchMs(c: Case, cfg: RunConfig, n: number, threads: number): TorchResult | null {
  const m = cfg.model;
  const spec =
    m.kind === 'transformer'
      ? { kind: 'transformer', d_model: m.d_model, n_heads: m.n_heads, d_head: m.d_head, d_mlp: m.d_mlp }
      : m.kind === 'mlp'
        ? { kind: 'mlp', d_embed: m.d_embed, hidden: m.hidden[0] }
        : null;
  if (!spec || cfg.task.kind !== 'modular') return null;
  const json = JSON.stringify({ name: c.name, n, p: cfg.task.p, ...spec });
  for (const python of ['/usr/bin/python3', 'python3']) {
    const env = {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      MKL_NUM_THREADS: String(threads),
    };
    const r = spawnSync(python, [join(here, 'torch_step.py'), json, String(threads)], { encoding: 'utf8', env });
    if (r.status === 0) {
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      const res: TorchResult = {
        ms: out.median_ms,
        mb: out.maxrss_mb,
        openblasThreads: out.openblas_threads,
        productMs: out.product_1024_ms,
      };
      const ok = res.openblasThreads === null || res.openblasThreads === threads;
      torchChecks.push(
        `${c.name}, ${threads} thread(s): PyTorch's OpenBLAS reports ${res.openblasThreads ?? 'n/a'} thread(s), 1024³ product ${res.productMs.toFixed(1)} ms ` +
          `(${((2 * 1024 ** 3) / res.productMs / 1e6).toFixed(0)} GFLOP/s)${ok ? '' : '  <-- THREAD COUNT NOT AS ASKED'}`,
      );
      return res;
    }
  }
  return null;
}

/** End to end: `groklens train` for a fixed number of steps in a child process: steps/s and peak memory. */
function endToEnd(c: Case, steps: number): { stepsPerSec: number; mb: number } {
  const dir = mkdtempSync(join(tmpdir(), 'groklens-bench-'));
  try {
    const cli = join(here, '..', 'bin', 'groklens.js');
    const sets = [...c.sets, `training.steps=${steps}`, 'training.early_stop_after_grok=null'].flatMap((s) => [
      '--set',
      s,
    ]);
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        join(here, 'maxrss.cjs'),
        cli,
        'train',
        '--preset',
        c.preset,
        ...sets,
        '--runs-dir',
        dir,
        '--name',
        'b',
        '--quiet',
        '--backend',
        'wasm',
        '--threads',
        '1',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`bench run failed: ${r.stderr}`);
    const kb = Number(/MAXRSS_KB (\d+)/.exec(r.stderr)?.[1] ?? NaN);
    return { stepsPerSec: steps / ((performance.now() - t0) / 1000), mb: kb / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const backendLines = new Set<string>();

/** The step timing runs in a child process per thread count: wasm's thread count is fixed at first use. */
function oursMs(c: Case, threads: number): number {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child-step', c.name, String(threads)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`step timing failed: ${r.stderr}`);
  backendLines.add(r.stderr.trim().split('\n').at(-1)!);
  return Number(r.stdout.trim().split('\n').at(-1));
}

const child = args.indexOf('--child-step');
if (child >= 0) {
  const c = CASES.find((x) => x.name === args[child + 1])!;
  const info = await useBackend('wasm', { threads: Number(args[child + 2]) });
  console.error(describeBackend(info));
  console.log(stepTimer(resolveConfig({ preset: c.preset, sets: c.sets }).config)());
  process.exit(0);
}

const rows: string[][] = [];
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const loadBefore = load();
for (const c of CASES.filter((c) => wanted.includes(c.name))) {
  const { config: cfg } = resolveConfig({ preset: c.preset, sets: c.sets });
  const n = cfg.training.batch_size ?? Math.floor(cfg.split.train_fraction * buildDataset(cfg.task).n);
  const ours = [oursMs(c, 1), oursMs(c, 2)];
  const torch1 = torchMs(c, cfg, n, 1);
  const torch2 = torchMs(c, cfg, n, 2);
  const e2e = endToEnd(c, c.name === 'nanda-2023' ? 100 : 500);
  const f = (x: number | null | undefined) => (x == null ? 'n/a' : x.toFixed(1));
  rows.push([
    c.name,
    String(n),
    f(ours[0]),
    f(ours[1]),
    f(torch1?.ms),
    f(torch2?.ms),
    torch1 ? `×${(ours[0] / torch1.ms).toFixed(2)}` : 'n/a',
    torch2 ? `×${(ours[1] / torch2.ms).toFixed(2)}` : 'n/a',
    f(e2e.stepsPerSec),
    f(e2e.mb),
    f(torch1?.mb),
  ]);
  console.error(`${c.name} done`);
}
console.log('ms per optimiser step (median), wasm backend vs PyTorch on the same CPU:');
printTable(
  [
    'case',
    'batch',
    'ours 1 thr',
    'ours 2 thr',
    'torch 1 thr',
    'torch 2 thr',
    'ours/torch (1 thr)',
    'ours/torch (2 thr)',
    'train steps/s (e2e)',
    'peak MB (e2e)',
    'torch peak MB',
  ],
  rows,
);
for (const l of backendLines) console.log(`ours: ${l}`);
for (const l of torchChecks) console.log(`torch: ${l}`);
console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after`);
