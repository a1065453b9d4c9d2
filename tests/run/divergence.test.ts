/**
 * A run whose loss goes non-finite (issue 14, defect 1). Reproduction from the issue: SGD with
 * lr 50 on a+b mod 23 is NaN within a few steps. By default training stops there: status.json
 * says "diverged" with the step, what went non-finite and the last finite checkpoint; nothing
 * non-finite is ever written; `--resume` refuses and says what to change; the CLI exits 3.
 * With on_divergence 'continue' the run trains on and records the divergence.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type BackendInfo } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { UserError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { writeRunReport } from '../../cli/commands/report.ts';
import { DivergenceWatch } from '../../src/run/divergence.ts';
import { resumeRun, startRun } from '../../src/run/session.ts';
import { loadRun } from '../../src/run/open.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-diverge-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let backend: BackendInfo;
beforeAll(async () => {
  backend = await useBackend('wasm');
});

const DIVERGING = [
  'task.p=23',
  'model.d_model=32',
  'model.d_mlp=64',
  'model.d_head=8',
  'training.steps=60',
  'optimizer.kind=sgd',
  'optimizer.lr=50',
  'training.eval_every=10',
  'checkpoints.every=10',
  'checkpoints.log_spaced=5',
];

const allFinite = (file: string) =>
  Object.values(readSafetensors(file).tensors).every((t) => Array.from(t.data as Float32Array).every(Number.isFinite));

let stoppedDir = '';

describe('a diverging run', () => {
  it('stops at the first non-finite loss or gradient, keeps only finite files, and says where', async () => {
    const { config } = resolveConfig({ sets: DIVERGING });
    const res = await startRun({ config, name: 'stop', runsDir: root, preset: null, backend });
    stoppedDir = res.dir;
    expect(res.state).toBe('diverged');
    expect(res.divergence).not.toBeNull();
    const d = res.divergence!;
    expect(d.step).toBeLessThan(10); // NaN within a few steps, as the issue measured
    const { store } = loadRun(res.dir);
    const status = store.status();
    expect(status.state).toBe('diverged');
    expect(status.final_step).toBeNull();
    expect(status.divergence).toMatchObject({ step: d.step, what: d.what, on_divergence: 'stop' });
    expect(status.divergence!.last_finite_checkpoint).toBe(status.checkpoints.at(-1));
    expect(status.step).toBe(status.checkpoints.at(-1));
    for (const s of store.checkpointSteps()) expect(allFinite(store.checkpointPath(s)), `checkpoint ${s}`).toBe(true);
    expect(allFinite(store.path('resume.safetensors'))).toBe(true);
    for (const row of store.metrics()) for (const v of Object.values(row)) expect(Number.isFinite(v)).toBe(true);
    expect(Math.max(...store.checkpointSteps())).toBeLessThanOrEqual(d.step + 1);

    // Resuming would replay the same updates: refused, naming the step and the setting to change.
    await expect(resumeRun({ dir: res.dir, backend })).rejects.toThrow(UserError);
    await expect(resumeRun({ dir: res.dir, backend })).rejects.toThrow(
      new RegExp(`diverged at step ${d.step}.*optimizer\\.lr.*--on-divergence continue`),
    );
  });

  it("with on_divergence 'continue' trains to the end and records the divergence", async () => {
    const { config } = resolveConfig({ sets: DIVERGING });
    const res = await startRun({
      config,
      name: 'continue',
      runsDir: root,
      preset: null,
      backend,
      onDivergence: 'continue',
    });
    expect(res.state).toBe('diverged');
    const { store } = loadRun(res.dir);
    const status = store.status();
    expect(status.final_step).toBe(60);
    expect(status.divergence).toMatchObject({ on_divergence: 'continue', step: res.divergence!.step });
    expect(store.checkpointSteps().at(-1)).toBe(60);
    expect(allFinite(store.checkpointPath(60))).toBe(false); // the record the researcher asked for
    expect(status.divergence!.last_finite_checkpoint).toBeLessThanOrEqual(res.divergence!.step + 1);
  });

  it('a stable run of the same model reports no divergence', async () => {
    const { config } = resolveConfig({ sets: [...DIVERGING, 'optimizer.lr=0.1', 'training.steps=20'] });
    const res = await startRun({ config, name: 'fine', runsDir: root, preset: null, backend });
    expect(res).toMatchObject({ state: 'finished', divergence: null, lastFiniteCheckpoint: 20 });
    expect(loadRun(res.dir).store.status().divergence).toBeUndefined();
  });

  it('analyze records the divergence, and the report marks its step', async () => {
    const { analysis } = await analyzeRun(stoppedDir, { passes: ['metrics', 'norms'] });
    const status = loadRun(stoppedDir).store.status();
    expect(analysis.run.divergence).toEqual({
      step: status.divergence!.step,
      what: status.divergence!.what,
      detail: status.divergence!.detail,
      last_finite_checkpoint: status.divergence!.last_finite_checkpoint,
    });
    const html = readFileSync(writeRunReport(stoppedDir), 'utf8');
    expect(html).toContain(`Training diverged at step ${status.divergence!.step}`);
    expect(html).toMatch(new RegExp(`<title>diverged at step ${status.divergence!.step}:`));
  });

  it('the CLI prints one line and exits 3', () => {
    const r = spawnSync(
      process.execPath,
      [
        'bin/groklens.js',
        'train',
        '-q',
        '--runs-dir',
        root,
        '--name',
        'cli',
        ...DIVERGING.flatMap((s) => ['--set', s]),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(3);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('diverged'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^diverged at step \d+: .*last finite checkpoint: step \d+/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(JSON.parse(readFileSync(join(root, 'cli', 'status.json'), 'utf8')).state).toBe('diverged');
  });
});

describe('DivergenceWatch', () => {
  it('finds the first non-finite loss or gradient step, without leaking tensors', () => {
    const before = tf.memory().numTensors;
    const w = new DivergenceWatch();
    const feed = (step: number, loss: number, g: number) =>
      tf.tidy(() => w.observe(tf.scalar(loss), { a: tf.tensor1d([1, g]) }, step));
    feed(0, 1, 2);
    feed(1, 0.5, 1);
    expect(w.check()).toBeNull();
    feed(2, 0.4, Infinity);
    feed(3, NaN, NaN);
    expect(w.check()).toMatchObject({ step: 2, what: 'gradient' });
    expect(tf.memory().numTensors).toBe(before + 2); // its two scalar variables
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const v = new DivergenceWatch();
    tf.tidy(() => v.observe(tf.scalar(Infinity), { a: tf.tensor1d([1e30]) }, 7)); // ‖g‖² = 1e60 overflows too: the loss wins the tie
    expect(v.check()).toMatchObject({ step: 7, what: 'train loss' });
    v.dispose();
  });
});
