/**
 * `groklens analyze --watch` follows a run while it trains and, once the run ends, has analysed
 * every checkpoint including the final one. Both sides are real CLI processes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/groklens.js');
const root = mkdtempSync(join(tmpdir(), 'groklens-watch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

it('analyze --watch keeps up with a training run and ends with every checkpoint analysed', async () => {
  const dir = join(root, 'w');
  const sets = [
    'task.p=13',
    'model.kind=mlp',
    'model.d_embed=8',
    'model.hidden=[16]',
    'training.steps=1500',
    'checkpoints.every=100',
    'checkpoints.log_spaced=4',
  ];
  const training = run([
    'train',
    '--backend',
    'wasm',
    '--quiet',
    '--runs-dir',
    root,
    '--name',
    'w',
    ...sets.flatMap((s) => ['--set', s]),
  ]);
  // Start watching as soon as the run directory exists.
  for (let i = 0; i < 600; i++) {
    try {
      readFileSync(join(dir, 'run.json'));
      readFileSync(join(dir, 'checkpoints', 'step-0000000.safetensors'));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const watching = run([
    'analyze',
    dir,
    '--watch',
    '--interval',
    '0.3',
    '--quiet',
    '--backend',
    'wasm',
    '--passes',
    'metrics,norms',
  ]);
  const [t, w] = await Promise.all([training, watching]);
  expect(t.code).toBe(0);
  expect(w.code, w.stderr).toBe(0);
  expect(w.stderr).toMatch(/the run is finished; stopped watching/);
  const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  const analysis = JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8'));
  expect(analysis.checkpoints.map((c: { step: number }) => c.step)).toEqual(status.checkpoints);
  expect(analysis.checkpoints.at(-1).step).toBe(1500);
  expect(analysis.checkpoints.every((c: { metrics?: unknown; norms?: unknown }) => c.metrics && c.norms)).toBe(true);
}, 300_000);
