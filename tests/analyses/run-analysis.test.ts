/**
 * `analyze` on a real run that groks (tests/helpers/tiny-grok.ts): the recomputed metrics agree
 * with what training logged, the circuit measures tell the story of the spec (restricted loss
 * falls before test loss, excluded loss rises between T_mem and T_grok), re-running only fills
 * what is missing, and a corrupt checkpoint is skipped with a warning while nothing else is lost.
 */
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { writeRunReport } from '../../cli/commands/report.ts';
import { readAnalysis } from '../../analyses/store.ts';
import type { AnalysisFile } from '../../analyses/types.ts';
import type { SessionResult } from '../../src/run/session.ts';
import { trainTinyGrok } from '../helpers/tiny-grok.ts';

let run: SessionResult;
let a: AnalysisFile;
beforeAll(async () => {
  run = await trainTinyGrok();
  a = (await analyzeRun(run.dir, { probeSize: 16 })).analysis;
}, 600_000);
afterAll(() => rmSync(dirname(run.dir), { recursive: true, force: true }));

const metricsRows = () =>
  readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('analyze on a run that groks', () => {
  it('analyses every checkpoint with every pass', () => {
    const status = JSON.parse(readFileSync(join(run.dir, 'status.json'), 'utf8'));
    expect(a.checkpoints.map((c) => c.step)).toEqual(status.checkpoints);
    for (const c of a.checkpoints)
      for (const p of ['metrics', 'fourier', 'circuit', 'norms', 'ntk'] as const)
        expect(c[p], `${p} at ${c.step}`).toBeDefined();
    expect(a.options.probe!.indices).toHaveLength(16);
    expect(a.warnings).toEqual([]);
    expect(readAnalysis(run.dir)).toEqual(
      JSON.parse(
        JSON.stringify(a, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v)),
      ),
    );
  });

  it('recomputes train/test loss and accuracy in float64 that agree with the float32 values logged in training', () => {
    const rows = new Map(metricsRows().map((r) => [r.step, r]));
    for (const c of a.checkpoints) {
      const r = rows.get(c.step)!;
      expect(Math.abs(c.metrics!.train_acc - r.train_acc)).toBeLessThan(1e-6);
      expect(Math.abs(c.metrics!.test_acc - r.test_acc)).toBeLessThan(1e-6);
      expect(Math.abs(c.metrics!.test_loss - r.test_loss)).toBeLessThan(1e-4 * Math.max(1, r.test_loss));
      expect(Math.abs(c.norms!.sq_norm_total - r.sq_norm) / r.sq_norm).toBeLessThan(1e-4);
    }
  });

  it('finds T_mem and T_grok where the metrics cross 0.99 / 0.95', () => {
    const firstAt = (f: (c: AnalysisFile['checkpoints'][number]) => boolean) => a.checkpoints.find(f)?.step ?? null;
    expect(a.summary.t_mem).toBe(firstAt((c) => c.metrics!.train_acc >= 0.99));
    expect(a.summary.t_grok_95).toBe(firstAt((c) => c.metrics!.test_acc >= 0.95));
    expect(a.summary.t_grok_95! - a.summary.t_mem!).toBeGreaterThan(500);
    expect(a.summary.boundaries.length).toBeGreaterThanOrEqual(2);
    for (const b of a.summary.boundaries) expect(b.reason.length).toBeGreaterThan(20);
  });

  it('sees the circuit form before the test loss falls (restricted loss first) and the memorised part decay', () => {
    const cps = a.checkpoints;
    const tMem = a.summary.t_mem!;
    const tGrok = a.summary.t_grok_95!;
    // The first checkpoint after T_mem at which each loss is below 1 nat.
    const below = (f: (c: (typeof cps)[number]) => number) => cps.find((c) => c.step > tMem && f(c) < 1)!.step;
    const restrictedFalls = below((c) => c.circuit!.restricted_loss);
    const testFalls = below((c) => c.metrics!.test_loss);
    expect(restrictedFalls).toBeLessThan(testFalls);
    const at = (s: number) => cps.find((c) => c.step === s)!;
    expect(at(tGrok).circuit!.excluded_loss).toBeGreaterThan(at(tMem).circuit!.excluded_loss);
    expect(a.key_frequencies.length).toBeGreaterThan(0);
    // After grokking the logits are mostly the key frequencies: restricted loss ≈ full loss.
    const last = cps.at(-1)!;
    expect(last.circuit!.restricted_loss).toBeLessThan(last.metrics!.all_loss + 0.5);
  });

  it('computes only what is missing on a second run, with identical results', async () => {
    const again = await analyzeRun(run.dir);
    expect(again.analysed).toBe(0);
    expect(again.upToDate).toBe(a.checkpoints.length);
    const file = join(run.dir, 'analysis.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as AnalysisFile;
    const drop = [saved.checkpoints[3].step, saved.checkpoints[10].step];
    saved.checkpoints = saved.checkpoints.map((c) =>
      drop.includes(c.step) ? { step: c.step, file: c.file, metrics: c.metrics } : c,
    );
    writeFileSync(file, JSON.stringify(saved));
    const refill = await analyzeRun(run.dir);
    expect(refill.analysed).toBe(2);
    const before = readAnalysis(run.dir)!;
    for (const s of drop) {
      const x = before.checkpoints.find((c) => c.step === s)!;
      const y = JSON.parse(JSON.stringify(a.checkpoints.find((c) => c.step === s)));
      expect(x.circuit!.restricted_loss).toBeCloseTo(y.circuit.restricted_loss, 5);
      expect(x.ntk!.projection.kernel_distance).toBeCloseTo(y.ntk.projection.kernel_distance, 5);
    }
  });

  it('skips a corrupt checkpoint with a warning naming it and keeps everything else', async () => {
    const copy = join(dirname(run.dir), 'corrupt');
    cpSync(run.dir, copy, { recursive: true });
    rmSync(join(copy, 'analysis.json'));
    const steps = a.checkpoints.map((c) => c.step);
    const bad = steps[Math.floor(steps.length / 2)];
    const badFile = join(copy, 'checkpoints', `step-${String(bad).padStart(7, '0')}.safetensors`);
    writeFileSync(badFile, readFileSync(badFile).subarray(0, 100)); // truncated mid-file
    const out = (await analyzeRun(copy, { passes: ['metrics', 'norms'] })).analysis;
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0].file).toBe(badFile);
    expect(out.checkpoints.map((c) => c.step)).toEqual(steps.filter((s) => s !== bad));
    // Restore the file: the next run fills in exactly that checkpoint.
    copyFileSync(join(run.dir, 'checkpoints', `step-${String(bad).padStart(7, '0')}.safetensors`), badFile);
    const healed = await analyzeRun(copy, { passes: ['metrics', 'norms'] });
    expect(healed.analysed).toBe(1);
    expect(healed.analysis.checkpoints.map((c) => c.step)).toEqual(steps);
    expect(healed.analysis.checkpoints.every((c) => c.fourier === undefined)).toBe(true); // only the passes asked for
  });

  it('--key-freqs per-checkpoint records the key set of each checkpoint, and the last one equals the final set', async () => {
    const copy = join(dirname(run.dir), 'per-checkpoint');
    cpSync(run.dir, copy, { recursive: true });
    const out = (await analyzeRun(copy, { passes: ['fourier'], keyFreqs: 'per-checkpoint' })).analysis;
    expect(out.options.key_freq_source).toBe('per-checkpoint');
    // Switching the source recomputed every fourier result with its own keys.
    for (const c of out.checkpoints) expect(Array.isArray(c.fourier!.key_frequencies)).toBe(true);
    expect(out.checkpoints.at(-1)!.fourier!.key_frequencies).toEqual(a.key_frequencies);
    // Early checkpoints (random weights) do not share the final circuit's key set.
    expect(out.checkpoints[0].fourier!.key_frequencies).not.toEqual(a.key_frequencies);
  });

  it('--key-freqs per-checkpoint: the report accepts per-key losses sized to each checkpoint’s own key set', async () => {
    const copy = join(dirname(run.dir), 'per-checkpoint-report');
    cpSync(run.dir, copy, { recursive: true });
    const out = (await analyzeRun(copy, { passes: ['metrics', 'fourier', 'circuit'], keyFreqs: 'per-checkpoint' }))
      .analysis;
    const sizes = out.checkpoints.map((c) => c.circuit!.excluded_loss_per_key.length);
    // the case that matters: some checkpoint's key set is not the final one's size
    expect(sizes.some((n) => n !== out.key_frequencies.length)).toBe(true);
    out.checkpoints.forEach((c, i) => expect(sizes[i]).toBe(c.fourier!.key_frequencies!.length));
    const html = readFileSync(writeRunReport(copy), 'utf8');
    expect(html).toContain('Excluded loss per key frequency');
  });

  it('without the norms pass, takes ‖θ‖² for the contraction fit from what training logged', async () => {
    const copy = join(dirname(run.dir), 'metrics-only');
    cpSync(run.dir, copy, { recursive: true });
    rmSync(join(copy, 'analysis.json'));
    const out = (await analyzeRun(copy, { passes: ['metrics'] })).analysis;
    expect(out.checkpoints.every((c) => c.norms === undefined)).toBe(true);
    const logged = metricsRows().find((r) => r.step === out.summary.t_mem)!;
    expect(out.summary.contraction).not.toBeNull();
    expect(out.summary.contraction!.v_mem).toBeCloseTo(logged.sq_norm, 3);
    expect(out.summary.contraction!.c).toBeCloseTo(a.summary.contraction!.c, 4); // same V up to float32 rounding
  });
});
