/**
 * In a sweep, a run that diverges is an outcome of the experiment (issue 14): `diverged` in the
 * sweep status and the aggregate, never counted or retried as a failure, never fitted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregateSweep } from '../../analyses/sweep/aggregate.ts';
import { loadSweep } from '../../analyses/sweep/load.ts';
import { localEnvironment } from '../../src/sweep/status.ts';

const CLI = join(import.meta.dirname, 'fixtures/groklens-sweep.js');
const root = mkdtempSync(join(tmpdir(), 'groklens-sweep-diverged-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SWEEP = join(root, 'div.json');
writeFileSync(
  SWEEP,
  JSON.stringify({
    name: 'div',
    base: {
      set: {
        'task.p': 11,
        'split.train_fraction': 0.8,
        'split.mode': 'shuffle',
        'model.kind': 'quadratic',
        'model.hidden': 32,
        'optimizer.kind': 'sgd',
        'training.steps': 80,
        'training.eval_every': 10,
        'checkpoints.every': 20,
        'checkpoints.log_spaced': 0,
      },
    },
    list: [{ 'optimizer.lr': 0.05 }, { 'optimizer.lr': 1e4 }],
    seeds: [0],
  }),
);
const sweepsDir = join(root, 'sweeps');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('a sweep with a diverging run', () => {
  it('records it as diverged: exit 0, not retried, its own outcome, left out of every fit', () => {
    const first = cli(['sweep', SWEEP, '--sweeps-dir', sweepsDir, '--backend', 'wasm', '--quiet', '--jobs', '1']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/1 finished, 1 diverged, 0 failed/);

    const dir = join(sweepsDir, 'div');
    const { manifest, states, inputs } = loadSweep(dir, localEnvironment());
    const byLr = new Map(manifest.runs.map((r, i) => [r.id, states[i]]));
    const diverged = [...byLr.values()].filter((s) => s.state === 'diverged');
    expect(diverged).toHaveLength(1);
    expect(diverged[0].reason).toMatch(/^diverged at step \d+/);
    expect(diverged[0].action).toBe('none');

    // Running the sweep again launches nothing: a diverged run is done, not a failure to retry.
    const again = cli(['sweep', SWEEP, '--sweeps-dir', sweepsDir, '--backend', 'wasm', '--quiet', '--retry-failed']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 finished, 0 diverged, 0 failed, 0 interrupted, 2 skipped/);
    const attempt = JSON.parse(readFileSync(join(dir, 'runs', diverged[0].id, 'sweep-attempt.json'), 'utf8'));
    expect(attempt.attempt).toBe(1);

    const agg = aggregateSweep('div', inputs);
    const run = agg.runs.find((r) => r.id === diverged[0].id)!;
    expect(run.outcome).toBe('diverged');
    expect(agg.counts.diverged).toBe(1);
    expect(agg.counts.failed).toBe(0);
    for (const f of agg.fits) {
      expect(f.points.some((p) => p.id === run.id)).toBe(false);
    }

    const status = cli(['sweep', 'status', dir]);
    expect(status.stdout).toMatch(/1 done, 0 running, 0 failed, 1 diverged, 0 pending/);
  });
});
