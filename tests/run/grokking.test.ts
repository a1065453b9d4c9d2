/**
 * A real run end to end: it memorises long before it generalises, and what it writes to the run
 * directory agrees with itself (checkpoint weights ↔ logged ‖θ‖², status ↔ files, schedule).
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import type { SessionResult } from '../../src/run/session.ts';
import { trainTinyGrok } from '../helpers/tiny-grok.ts';

let run: SessionResult;
let tensorsBefore = 0;
let tensorsAfter = 0;
beforeAll(async () => {
  await useBackend('wasm');
  tensorsBefore = tf.memory().numTensors;
  run = await trainTinyGrok();
  tensorsAfter = tf.memory().numTensors;
}, 300_000);
afterAll(() => rmSync(dirname(run.dir), { recursive: true, force: true }));

const rows = () =>
  readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('a small run that groks', () => {
  it('memorises first and generalises much later (a real delay)', () => {
    expect(run.state).toBe('finished');
    expect(run.memStep).not.toBeNull();
    expect(run.firstGrokStep).not.toBeNull();
    // Generalisation comes at least 500 steps and 5× later than memorisation.
    expect(run.firstGrokStep! - run.memStep!).toBeGreaterThan(500);
    expect(run.firstGrokStep!).toBeGreaterThan(5 * run.memStep!);
    const m = rows();
    const atMem = m.find((r) => r.step === run.memStep)!;
    expect(atMem.train_acc).toBeGreaterThanOrEqual(0.99);
    expect(atMem.test_acc).toBeLessThan(0.5); // memorised, not generalised
    // Early stop: 300 steps after the first test accuracy ≥ 0.95.
    expect(run.step).toBe(run.firstGrokStep! + 300);
    expect(m.at(-1)!.test_acc).toBeGreaterThanOrEqual(0.95);
  });

  it('logs ‖θ‖² equal to the sum of squares of the checkpoint written at the same step', () => {
    const m = rows();
    const files = readdirSync(join(run.dir, 'checkpoints')).sort();
    expect(files.length).toBeGreaterThan(10);
    for (const f of [files[0], files[Math.floor(files.length / 2)], files.at(-1)!]) {
      const { tensors, metadata } = readSafetensors(join(run.dir, 'checkpoints', f));
      const step = Number(metadata.step);
      let sq = 0;
      for (const t of Object.values(tensors)) for (const x of t.data as Float32Array) sq += x * x;
      const row = m.find((r) => r.step === step);
      expect(row, `metrics row for step ${step}`).toBeDefined();
      expect(Math.abs(row.sq_norm - sq) / sq).toBeLessThan(1e-4); // float32 sum on the backend vs float64 here
    }
  });

  it('leaves no tensor behind after thousands of steps', () => {
    expect(run.step).toBeGreaterThan(1000);
    expect(tensorsAfter).toBe(tensorsBefore);
  });

  it('keeps status.json, the checkpoint files and the schedule consistent', () => {
    const status = JSON.parse(readFileSync(join(run.dir, 'status.json'), 'utf8'));
    const onDisk = readdirSync(join(run.dir, 'checkpoints'))
      .map((f) => Number(/step-(\d+)/.exec(f)![1]))
      .sort((a, b) => a - b);
    expect(status.state).toBe('finished');
    expect(status.final_step).toBe(run.step);
    expect(status.checkpoints).toEqual(onDisk);
    expect(onDisk[0]).toBe(0);
    expect(onDisk.at(-1)).toBe(run.step);
    for (let s = 50; s < run.step; s += 50) expect(onDisk).toContain(s); // every 50 steps
    expect(onDisk.filter((s) => s > 0 && s < 50).length).toBeGreaterThan(3); // log-spaced early ones
    const steps = rows().map((r) => r.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
  });
});
