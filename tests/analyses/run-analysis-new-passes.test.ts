/**
 * The llc and trajectory passes inside `analyze` (analyses/run-analysis.ts) on a real tiny run:
 * opt-in, recorded settings, incremental (nothing recomputed on a second call; other llc settings
 * recompute llc only), the trajectory at the top level of analysis.json, and a file that reads back.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { readAnalysis } from '../../analyses/store.ts';
import { trainTinyGrok } from '../helpers/tiny-grok.ts';

let dir = '';
beforeAll(async () => {
  dir = (await trainTinyGrok('new-passes')).dir;
}, 120_000);
afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

const small = { chains: 2, draws: 12, burnin: 4, batch_size: 64, checkpoints: 'all' as const }; // the subset: llc-subset-analyze.test.ts

describe('analyze with --passes …,llc,trajectory', () => {
  it('leaves both out by default', async () => {
    const { analysis } = await analyzeRun(dir, { passes: undefined });
    expect(analysis.options.passes).not.toContain('llc');
    expect(analysis.options.passes).not.toContain('trajectory');
    expect(analysis.trajectory).toBeUndefined();
    expect(analysis.checkpoints.some((c) => c.llc)).toBe(false);
  }, 120_000);

  it('computes λ̂ per checkpoint and the trajectory, records the settings, and is incremental', async () => {
    const first = await analyzeRun(dir, { passes: ['metrics', 'llc', 'trajectory'], llc: small });
    const a = first.analysis;
    expect(a.options.llc).toMatchObject({
      ...small,
      gamma: 100,
      epsilon: 1e-4,
      nbeta_rule: 'n/ln n',
      n: a.run.n_train,
      seed: 0,
    });
    expect(a.checkpoints.every((c) => c.llc && c.llc.chains.length === 2)).toBe(true);
    expect(a.checkpoints.filter((c) => c.llc!.llc !== null).length).toBeGreaterThan(a.checkpoints.length / 2);
    const t = a.trajectory!;
    expect(t.steps).toEqual(a.checkpoints.map((c) => c.step));
    expect(t.coords).toHaveLength(t.steps.length);
    expect(t.explained_variance_ratio[0]).toBeGreaterThan(0.3);
    expect(Object.keys(t.per_tensor)).toEqual(['embed.W_E', 'mlp.0.W']);
    // the file reads back through the schema
    const back = readAnalysis(dir)!;
    expect(back.trajectory!.steps).toEqual(t.steps);
    expect(back.checkpoints[3].llc!.llc).toBeCloseTo(a.checkpoints[3].llc!.llc!, 4);

    const again = await analyzeRun(dir, { passes: ['metrics', 'llc', 'trajectory'], llc: small });
    expect(again.analysed).toBe(0);
    expect(again.analysis.checkpoints[5].llc).toEqual(back.checkpoints[5].llc);

    const other = await analyzeRun(dir, { passes: ['llc'], llc: { ...small, draws: 10 } });
    expect(other.analysed).toBe(a.checkpoints.length);
    expect(other.analysis.options.llc!.draws).toBe(10);
    expect(other.analysis.checkpoints[2].metrics).toEqual(back.checkpoints[2].metrics); // untouched
    expect(other.analysis.trajectory!.steps).toEqual(t.steps); // kept
  }, 300_000);
});
