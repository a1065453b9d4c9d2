/**
 * The llc checkpoint subset inside `analyze` (analyses/run-analysis.ts) on a real tiny run: only
 * the chosen checkpoints get λ̂; a different subset keeps every λ̂ already computed with the same
 * sampler settings and computes only the new ones; a sampler setting recomputes (on the subset);
 * a file written before the setting existed keeps its λ̂.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llcBoundarySteps, llcCheckpointSteps } from '../../analyses/llc.ts';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { readAnalysis } from '../../analyses/store.ts';
import type { AnalysisFile } from '../../analyses/types.ts';
import { RunStore } from '../../src/run/store.ts';
import { trainTinyGrok } from '../helpers/tiny-grok.ts';

let dir = '';
beforeAll(async () => {
  dir = (await trainTinyGrok('llc-subset')).dir;
}, 120_000);
afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

const sampler = { chains: 2, draws: 10, burnin: 3, batch_size: 64 };
const withLlc = (a: AnalysisFile) => a.checkpoints.filter((c) => c.llc).map((c) => c.step);
const llcAt = (a: AnalysisFile) => new Map(a.checkpoints.filter((c) => c.llc).map((c) => [c.step, c.llc]));

describe('analyze --llc checkpoints=N', () => {
  it('computes λ̂ on the subset only, keeps it when the subset changes, recomputes when a sampler setting does', async () => {
    const store = RunStore.open(dir);
    const steps = store.checkpointSteps();
    expect(steps.length).toBeGreaterThan(20);
    const opts = { lr: 0.01, weightDecay: 1 };

    // first analysis: boundaries from metrics.jsonl
    const first = (await analyzeRun(dir, { passes: ['metrics', 'llc'], llc: { ...sampler, checkpoints: 5 } })).analysis;
    const b0 = llcBoundarySteps(undefined, store.metrics(), opts);
    expect(b0.length).toBeGreaterThan(0); // the tiny run memorises and groks
    expect(first.summary.boundaries.length).toBeGreaterThan(0); // so later calls refine around the analysis's own
    const s5 = llcCheckpointSteps(steps, 5, b0);
    expect(withLlc(first)).toEqual(s5);
    expect(s5.length).toBeGreaterThanOrEqual(5);
    expect(s5.length).toBeLessThan(steps.length);
    expect(s5).toContain(steps[0]);
    expect(s5).toContain(steps.at(-1));
    expect(first.checkpoints.every((c) => c.metrics)).toBe(true); // the other passes everywhere
    expect(first.options.llc!.checkpoints).toBe(5);
    expect(readAnalysis(dir)!.options.llc!.checkpoints).toBe(5);

    // a larger subset: the λ̂ already there stay as they are, only the new checkpoints are computed
    const b1 = llcBoundarySteps(first.summary, [], opts);
    const before = llcAt(readAnalysis(dir)!); // as stored (rounded to 7 digits)
    const wider = await analyzeRun(dir, { passes: ['metrics', 'llc'], llc: { ...sampler, checkpoints: 10 } });
    const expected = [...new Set([...s5, ...llcCheckpointSteps(steps, 10, b1)])].sort((a, b) => a - b);
    expect(withLlc(wider.analysis)).toEqual(expected);
    expect(wider.analysed).toBe(expected.length - s5.length);
    expect(before.size).toBe(s5.length);
    for (const [s, r] of before) expect(llcAt(wider.analysis).get(s)).toEqual(r); // the stored values, not recomputed ones
    expect(wider.analysis.options.llc!.checkpoints).toBe(10);

    // back to the smaller subset: nothing computed, nothing dropped
    const narrow = await analyzeRun(dir, { passes: ['metrics', 'llc'], llc: { ...sampler, checkpoints: 5 } });
    expect(narrow.analysed).toBe(0);
    expect(withLlc(narrow.analysis)).toEqual(expected);
    expect(narrow.analysis.options.llc!.checkpoints).toBe(5);

    // a sampler setting changes: every λ̂ is dropped and the subset recomputed
    const b2 = llcBoundarySteps(narrow.analysis.summary, [], opts);
    const redo = await analyzeRun(dir, { passes: ['metrics', 'llc'], llc: { ...sampler, draws: 11, checkpoints: 5 } });
    const s5b = llcCheckpointSteps(steps, 5, b2);
    expect(withLlc(redo.analysis)).toEqual(s5b);
    expect(redo.analysed).toBe(s5b.length);
    const last = steps.at(-1)!;
    expect(llcAt(redo.analysis).get(last)).not.toEqual(llcAt(narrow.analysis).get(last));
    expect(redo.analysis.options.llc!.draws).toBe(11);

    // checkpoints=all fills in the rest
    const all = await analyzeRun(dir, { passes: ['metrics', 'llc'], llc: { checkpoints: 'all' } });
    expect(withLlc(all.analysis)).toEqual(steps);
    expect(all.analysed).toBe(steps.length - s5b.length);
    expect(all.analysis.options.llc).toMatchObject({ ...sampler, draws: 11, checkpoints: 'all' }); // the rest kept from the file
  }, 300_000);

  it('keeps the λ̂ of a file written before the setting existed', async () => {
    const file = join(dir, 'analysis.json');
    const a = JSON.parse(readFileSync(file, 'utf8'));
    delete a.options.llc.checkpoints;
    writeFileSync(file, JSON.stringify(a));
    const had = llcAt(readAnalysis(dir)!);
    expect(had.size).toBe(RunStore.open(dir).checkpointSteps().length);
    const again = await analyzeRun(dir, { passes: ['metrics', 'llc'] });
    expect(again.analysed).toBe(0);
    expect(llcAt(again.analysis)).toEqual(had);
    expect(again.analysis.options.llc!.checkpoints).toBe(24); // the default, now recorded
  }, 120_000);
});
