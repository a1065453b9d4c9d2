/**
 * run.json is written once; editing its config (say optimizer.lr or training.seed) and resuming
 * used to continue silently with the new values (issue 14, defect 11). The resume state now
 * records the config it was trained with, and a changed one is refused naming the keys.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { UserError } from '../../src/errors.ts';
import { resumeRun, startRun } from '../../src/run/session.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-resume-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resuming after run.json was edited', () => {
  it('is refused naming the changed keys; with the edit undone it resumes', async () => {
    const backend = await useBackend('wasm');
    const { config } = resolveConfig({
      sets: [
        'task.p=11',
        'model.d_model=16',
        'model.d_head=4',
        'model.d_mlp=32',
        'training.steps=30',
        'checkpoints.every=5',
        'checkpoints.log_spaced=0',
      ],
    });
    let steps = 0;
    const first = await startRun({
      config,
      name: 'r',
      runsDir: root,
      preset: null,
      backend,
      hooks: { shouldStop: () => ++steps > 12 },
    });
    expect(first.state).toBe('interrupted');
    const file = join(first.dir, 'run.json');
    const original = readFileSync(file, 'utf8');
    const meta = JSON.parse(original);
    meta.config.optimizer.lr = 0.01;
    meta.config.training.seed = 7;
    writeFileSync(file, JSON.stringify(meta));
    const err = await resumeRun({ dir: first.dir, backend }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      /run\.json: the config was edited after training started \(optimizer\.lr 0\.001 → 0\.01, training\.seed 0 → 7\)/,
    );
    writeFileSync(file, original);
    expect((await resumeRun({ dir: first.dir, backend })).state).toBe('finished');
  });
});
