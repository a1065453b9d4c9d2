/**
 * A run that cannot fit is refused before anything is allocated (issue 14, defect 8: p = 20000
 * passed the old size check, which counted the token array only, ran 6 minutes to 14 GB and
 * crashed, leaving an empty run directory).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { checkRunFits, estimateRunMemory, taskShape } from '../../src/run/memory.ts';
import { startRun } from '../../src/run/session.ts';
import { buildDataset } from '../../src/tasks/index.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-memory-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const config = (sets: string[], preset?: string) => resolveConfig({ sets, preset }).config;

describe('the memory a run needs', () => {
  it('refuses p = 20000 at once with the estimate, creating nothing', async () => {
    const backend = await useBackend('wasm');
    const t0 = performance.now();
    const err = await startRun({
      config: config(['task.p=20000']),
      name: 'huge',
      runsDir: root,
      preset: null,
      backend,
    }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /task\.p: this run needs about \d+(\.\d)? TB of memory \(.*one-hot inputs.*\), more than 80 % of this machine's/,
    );
    expect(existsSync(join(root, 'huge'))).toBe(false);
  });

  it('lets the presets through, and grows with the task and the model', () => {
    for (const preset of ['nanda-2023', 'power-2022', 'truong-2026', 'demo'])
      expect(() => checkRunFits(config([], preset))).not.toThrow();
    const at = (sets: string[]) => estimateRunMemory(config(sets)).total;
    expect(at(['task.p=200'])).toBeGreaterThan(at(['task.p=113']));
    expect(at(['model.d_mlp=2048'])).toBeGreaterThan(at([]));
    expect(at(['training.batch_size=64', 'split.train_fraction=0.9'])).toBeLessThan(at(['split.train_fraction=0.9']));
    expect(() => checkRunFits(config([]), 'config', 100e6)).toThrow(/more than 80 % of this machine's 100 MB/);
  });

  it("knows each task's size without building it", () => {
    for (const sets of [
      ['task.p=13'],
      ['task.p=13', 'task.op=div'],
      ['task.kind=s5'],
      ['task.kind=sparse-parity', 'task.n_bits=12', 'task.samples=100'],
    ]) {
      const c = config(sets);
      const d = buildDataset(c.task);
      expect(taskShape(c.task)).toEqual({ n: d.n, n_ctx: d.n_ctx, d_vocab: d.d_vocab, d_vocab_out: d.d_vocab_out });
    }
  });
});
