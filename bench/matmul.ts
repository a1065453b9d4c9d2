/**
 * GFLOP/s of an n×n float32 product on the wasm backend — plain, transposeA, transposeB — with the
 * original kernels and with the rerouting wrapper (src/backend/wasm-kernels.ts), for each wasm
 * thread count asked for, and PyTorch's figure beside ours when Debian's python3-torch is there.
 *
 *   npx tsx bench/matmul.ts [--n 1024] [--threads 1,2] [--no-torch]
 *
 * A wasm thread count is fixed once the backend starts, so each one runs in its own child process.
 * 'plain' reuses the same right-hand tensor, so XNNPACK's packed-weights cache is hit (inference);
 * 'plain, fresh b' gives it a new right-hand tensor every call, as in training, where weights change
 * every step (the copy that makes it new is timed separately and subtracted).
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend/index.ts';
import { installWasmKernelWrappers, uninstallWasmKernelWrappers } from '../src/backend/wasm-kernels.ts';
import { fmtMs, printTable, timeKernel } from './timing.ts';

interface Row {
  impl: string; // 'wasm t=1 original', 'wasm t=2 wrapped', 'torch t=1'
  case: string;
  ms: number;
  gflops: number;
  cpuPerWall?: number;
}

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const n = Number(flag('n') ?? 1024);
const threadCounts = (flag('threads') ?? '1,2').split(',').map(Number);
const gflops = (ms: number) => (2 * n ** 3) / (ms * 1e6);

async function child(threads: number): Promise<void> {
  await useBackend('wasm', { wasmThreads: threads });
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const cases: [string, () => tf.Tensor, (() => tf.Tensor) | null][] = [
    ['plain', () => tf.matMul(a, b), null],
    ['plain, fresh b', () => tf.tidy(() => tf.matMul(a, tf.clone(b))), () => tf.clone(b)],
    ['transposeA', () => tf.matMul(a, b, true, false), null],
    ['transposeB', () => tf.matMul(a, b, false, true), null],
    ['transposeA+B', () => tf.matMul(a, b, true, true), null],
  ];
  for (const wrapped of [false, true]) {
    if (wrapped) installWasmKernelWrappers();
    else uninstallWasmKernelWrappers();
    for (const [name, f, overhead] of cases) {
      const t = timeKernel(f, { minTotalMs: 1000, minReps: 3 });
      const extra = overhead ? timeKernel(overhead, { minTotalMs: 300 }).medianMs : 0;
      const ms = t.medianMs - extra;
      const row: Row = {
        impl: `wasm t=${threads} ${wrapped ? 'wrapped' : 'original'}`,
        case: name,
        ms,
        gflops: gflops(ms),
        cpuPerWall: t.cpuPerWall,
      };
      console.log(JSON.stringify(row));
    }
  }
}

function runChild(threads: number): Row[] {
  const script = fileURLToPath(import.meta.url);
  const res = spawnSync(process.execPath, [...process.execArgv, script, '--child', String(threads), '--n', String(n)], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  const rows = parseRows(res.stdout);
  if (rows.length === 0) console.error(`wasm t=${threads}: no result (exit ${res.status})\n${res.stderr.slice(-2000)}`);
  return rows;
}

function runTorch(threads: number): Row[] {
  const script = fileURLToPath(new URL('./torch_matmul.py', import.meta.url));
  // Debian's python3-torch lives under /usr/bin/python3; a pyenv or venv python3 may lack it.
  for (const python of ['python3', '/usr/bin/python3']) {
    const res = spawnSync(python, [script, String(n), String(threads)], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
      timeout: 10 * 60_000,
    });
    if (res.status === 0) {
      return parseRows(res.stdout).map((r) => ({ ...r, impl: `torch t=${threads}` }));
    }
  }
  return [];
}

function parseRows(stdout: string): Row[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Row);
}

const childThreads = flag('child');
if (childThreads !== undefined) {
  await child(Number(childThreads));
} else {
  const rows: Row[] = [];
  for (const t of threadCounts) rows.push(...runChild(t));
  if (!args.includes('--no-torch')) {
    const torchRows = threadCounts.flatMap(runTorch);
    if (torchRows.length === 0)
      console.log('(PyTorch baseline skipped: no python3 with torch; apt-get install -y python3-torch)\n');
    rows.push(...torchRows);
  }
  const impls = [...new Set(rows.map((r) => r.impl))];
  const cases = [...new Set(rows.map((r) => r.case))];
  console.log(`${n}×${n}·${n}×${n} float32: GFLOP/s (ms)   [cpu/wall for wasm: >1 means more than one core busy]\n`);
  printTable(
    ['implementation', ...cases],
    impls.map((impl) => [
      impl,
      ...cases.map((c) => {
        const r = rows.find((x) => x.impl === impl && x.case === c);
        if (!r) return '–';
        const cpu = r.cpuPerWall !== undefined ? ` ${r.cpuPerWall.toFixed(1)}` : '';
        return `${r.gflops.toFixed(1)} (${fmtMs(r.ms)})${cpu}`;
      }),
    ]),
  );
}
