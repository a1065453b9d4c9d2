/**
 * Aggregation on synthetic runs that obey the norm-separation law exactly: after T_mem the norm
 * decays as V_mem·exp(−k·lr·wd·(t − T_mem)) and the run groks once it has covered a log norm
 * ratio L. Then T_grok = T_mem + L/(k·lr·wd), so every fit and prediction has a known answer.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/schema.ts';
import type { RunConfig } from '../../src/config/types.ts';
import type { MetricsRow } from '../../src/run/store.ts';
import { aggregateSweep } from '../../analyses/sweep/aggregate.ts';
import type { RunInput } from '../../analyses/sweep/types.ts';
import { fitNormDecay as fitDecay } from '../../src/grokking.ts';
import { transitions } from '../../analyses/sweep/aggregate.ts';

const T_MEM = 100;
const EVERY = 10;

/** Metrics rows every 10 steps. `rate(t)` is the decay rate in effect at step t (t > T_MEM). */
function law(o: {
  lr: number;
  wd: number;
  k: number;
  L: number;
  budget: number;
  vMem?: number;
  rate?: (t: number) => number;
}): MetricsRow[] {
  const vMem = o.vMem ?? 4000;
  const c = o.k * o.lr * o.wd;
  const rate = o.rate ?? (() => c);
  const rows: MetricsRow[] = [];
  let logV = Math.log(vMem);
  let grokked = false;
  for (let t = 0; t <= o.budget; t += EVERY) {
    if (t > T_MEM) logV -= rate(t) * EVERY;
    const covered = Math.log(vMem) - logV;
    // floating-point slack: the ratio is reached exactly at a grid step in these tests
    if (t >= T_MEM && covered >= o.L - 1e-9) grokked = true;
    rows.push({
      step: t,
      train_loss: 0,
      train_acc: t >= T_MEM ? 1 : t / (T_MEM + 10),
      test_loss: 0,
      test_acc: grokked ? 0.999 : 0.1,
      sq_norm: t < T_MEM ? 1000 + 30 * t : Math.exp(logV),
      lr: o.lr,
      wall_time: t / 100,
    });
  }
  return rows;
}

function config(lr: number, wd: number, budget: number): RunConfig {
  const c = structuredClone(DEFAULTS) as RunConfig;
  c.optimizer.lr = lr;
  c.optimizer.weight_decay = wd;
  c.training.steps = budget;
  c.training.eval_every = EVERY;
  return c;
}

function run(
  id: string,
  lr: number,
  wd: number,
  rows: MetricsRow[],
  budget: number,
  extra: Partial<RunInput> = {},
): RunInput {
  return {
    id,
    settings: { 'optimizer.weight_decay': wd },
    seed: 0,
    state: 'done',
    reason: 'finished',
    config: config(lr, wd, budget),
    rows,
    analysis: null,
    ...extra,
  };
}

describe('transitions and contraction of one run', () => {
  it('finds planted T_mem, T_grok, V_mem, V_post and the decay rate', () => {
    // k·lr·wd = 1.5e-3, L = 1.5: T_grok = 100 + 1000 = 1100
    const rows = law({ lr: 1e-3, wd: 1, k: 1.5, L: 1.5, budget: 2000 });
    const t = transitions(rows);
    expect(t).toMatchObject({
      t_mem: 100,
      t_grok_95: 1100,
      t_grok_99: 1100,
      delay_95: 1000,
      delay_99: 1000,
      last_step: 2000,
    });
    expect(t.v_mem).toBeCloseTo(4000, 9);
    expect(t.v_at_grok!).toBeCloseTo(4000 * Math.exp(-1.5), 9);
    const f = fitDecay(rows, 100, 1100)!;
    expect(f.c).toBeCloseTo(1.5e-3, 12);
    expect(f.v0).toBeCloseTo(4000, 6);
    expect(f.r2).toBeCloseTo(1, 12);
    expect(f.n).toBe(101);
  });

  it('uses the thresholds inclusively and separates 0.95 from 0.99', () => {
    const row = (step: number, train: number, test: number) => ({ step, train_acc: train, test_acc: test, sq_norm: 1 });
    const t = transitions([row(0, 0.5, 0), row(10, 0.99, 0.2), row(20, 1, 0.95), row(30, 1, 0.985), row(40, 1, 0.99)]);
    expect(t).toMatchObject({ t_mem: 10, t_grok_95: 20, t_grok_99: 40, delay_95: 10, delay_99: 30 });
    expect(transitions([])).toMatchObject({ t_mem: null, t_grok_95: null, last_step: null, v_mem: null });
  });

  it('has no decay fit with fewer than three points or a non-positive norm', () => {
    expect(
      fitDecay(
        [
          { step: 0, sq_norm: 2 },
          { step: 10, sq_norm: 1 },
        ],
        0,
        10,
      ),
    ).toBeNull();
    expect(
      fitDecay(
        [
          { step: 0, sq_norm: 2 },
          { step: 10, sq_norm: 0 },
          { step: 20, sq_norm: 1 },
        ],
        0,
        20,
      ),
    ).toBeNull();
  });
});

describe('aggregateSweep', () => {
  const LR = 1e-3;
  const K = 1.5;
  const L = 1.5;
  const BUDGET = 3000;
  // T_grok = 100 + 1000/wd: 2100, 1100, 600, 350
  const lawRuns = [0.5, 1, 2, 4].map((wd) =>
    run(`wd=${wd}`, LR, wd, law({ lr: LR, wd, k: K, L, budget: BUDGET }), BUDGET),
  );
  const slow = run('wd=0.1', LR, 0.1, law({ lr: LR, wd: 0.1, k: K, L, budget: BUDGET }), BUDGET); // needs 10000 steps
  const failed = run('broken', LR, 1, [], BUDGET, {
    state: 'failed',
    reason: 'groklens: config: split.train_fraction: too small',
  });
  const agg = aggregateSweep('synthetic', [...lawRuns, slow, failed], {
    bootstrap: { resamples: 500, seed: 1, level: 0.95 },
    predictHorizon: 200,
  });

  it('classifies every run and keeps those that did not grok', () => {
    expect(agg.runs.map((r) => [r.id, r.outcome])).toEqual([
      ['wd=0.5', 'grokked'],
      ['wd=1', 'grokked'],
      ['wd=2', 'grokked'],
      ['wd=4', 'grokked'],
      ['wd=0.1', 'memorised'],
      ['broken', 'failed'],
    ]);
    expect(agg.counts).toEqual({ grokked: 4, memorised: 1, 'not-memorised': 0, diverged: 0, failed: 1, unfinished: 0 });
    expect(agg.runs.map((r) => r.t_grok_95)).toEqual([2100, 1100, 600, 350, null, null]);
  });

  it('measures c/(lr·wd) from the metrics of each grokked run', () => {
    for (const r of agg.runs.slice(0, 4)) {
      expect(r.c_source).toBe('metrics');
      expect(r.c_over_lr_wd!).toBeCloseTo(K, 9);
    }
  });

  it('fits T_grok against 1/wd with the planted slope and lists the left-out runs with reasons', () => {
    const f = agg.fits.find((s) => s.name === 'tgrok_vs_inv_wd')!;
    expect(f.points.map((p) => p.id)).toEqual(['wd=0.5', 'wd=1', 'wd=2', 'wd=4']);
    expect(f.fit!.slope).toBeCloseTo(L / (K * LR), 6); // 1000
    expect(f.fit!.intercept).toBeCloseTo(T_MEM, 6);
    expect(f.fit!.r2!).toBeCloseTo(1, 12);
    expect(f.fit!.slope_ci!.lo).toBeCloseTo(1000, 6); // every resample lies on the line
    expect(f.excluded).toEqual([
      { id: 'wd=0.1', reason: 'memorised at 100 but did not grok within 3000 steps' },
      { id: 'broken', reason: 'run failed: groklens: config: split.train_fraction: too small' },
    ]);
    expect(f.note).toBeNull();
  });

  it('fits the delay against (1/(lr·wd))·log(V_mem/V_post) with slope 1/k', () => {
    const f = agg.fits.find((s) => s.name === 'delay_vs_norm_law')!;
    expect(f.fit!.slope).toBeCloseTo(1 / K, 9);
    expect(f.fit!.intercept).toBeCloseTo(0, 6);
    expect(f.fit!.pearson_r!).toBeCloseTo(1, 12);
  });

  it('has no T_grok vs 1/lr fit when lr never varies, and says why', () => {
    const f = agg.fits.find((s) => s.name === 'tgrok_vs_inv_lr')!;
    expect(f.fit).toBeNull();
    expect(f.note).toMatch(/4 grokked run\(s\) with 1 distinct x value/);
  });

  it('predicts T_grok exactly when every run covers the same log ratio', () => {
    expect(agg.predictor.rows.map((r) => r.id)).toEqual(['wd=0.5', 'wd=1', 'wd=2', 'wd=4']);
    for (const r of agg.predictor.rows) expect(r.predicted_t_grok).toBeCloseTo(r.actual_t_grok, 6);
    expect(agg.predictor.mean_abs_pct_error!).toBeLessThan(1e-6);
    expect(agg.predictor.excluded.map((e) => e.id)).toEqual(['wd=0.1', 'broken']);
  });

  it("uses the other runs' log ratio (leave-one-out) and only the early norm", () => {
    // Three runs at wd 1: ratios 1.5, 1.5 and 3 (the last groks at 100 + 2000 = 2100). The third's
    // decay rate halves after T_mem + 200, which the predictor must not see.
    const c = K * LR;
    const runs = [
      run('a', LR, 1, law({ lr: LR, wd: 1, k: K, L: 1.5, budget: BUDGET }), BUDGET),
      run('b', LR, 1, law({ lr: LR, wd: 1, k: K, L: 1.5, budget: BUDGET, vMem: 3000 }), BUDGET),
      run(
        'c',
        LR,
        1,
        law({ lr: LR, wd: 1, k: K, L: 3 * 0.75, budget: BUDGET, rate: (t) => (t <= 300 ? c : c / 2) }),
        BUDGET,
      ),
    ];
    const p = aggregateSweep('loo', runs, {
      bootstrap: { resamples: 200, seed: 0, level: 0.95 },
      predictHorizon: 200,
    }).predictor;
    const byId = Object.fromEntries(p.rows.map((r) => [r.id, r]));
    // run c: covers 0.3 by step 300, then 1.95 more at c/2 → 300 + 2600 = 2900
    expect(byId.c.actual_t_grok).toBe(2900);
    expect(byId.c.c_early).toBeCloseTo(c, 12);
    expect(byId.c.log_ratio_used).toBeCloseTo(1.5, 12); // median of a and b
    expect(byId.c.predicted_t_grok).toBeCloseTo(100 + 1.5 / c, 6); // 1100
    // runs a and b: median of the others {1.5, 2.25} = 1.875 → 100 + 1250 = 1350 vs 1100
    for (const id of ['a', 'b']) {
      expect(byId[id].log_ratio_used).toBeCloseTo(1.875, 12);
      expect(byId[id].predicted_t_grok).toBeCloseTo(1350, 6);
      expect(byId[id].abs_pct_error).toBeCloseTo((100 * 250) / 1100, 9);
    }
    expect(p.mean_abs_pct_error!).toBeCloseTo((2 * ((100 * 250) / 1100) + (100 * 1800) / 2900) / 3, 9);
  });

  it('takes c from analysis.json when the run has one, and counts key frequencies', () => {
    const rows = law({ lr: LR, wd: 1, k: K, L, budget: BUDGET });
    const a = aggregateSweep('x', [
      run('r1', LR, 1, rows, BUDGET, { analysis: { contraction_c: 0.0042, key_frequencies: [14, 35, 41] } }),
      run('r2', LR, 1, rows, BUDGET, { analysis: { contraction_c: null, key_frequencies: [14, 52] } }),
    ]);
    expect(a.runs[0]).toMatchObject({ c: 0.0042, c_source: 'analysis', c_fit: null, key_frequencies: [14, 35, 41] });
    expect(a.runs[0].c_over_lr_wd).toBeCloseTo(4.2, 12);
    expect(a.runs[1].c_source).toBe('metrics');
    expect(a.key_frequency_counts).toEqual({ 14: 2, 35: 1, 41: 1, 52: 1 });
  });

  it('ignores the extra row a Ctrl-C leaves between scheduled evaluations', () => {
    // Interrupted at step 1095 (logged there), resumed: the 1095 row must not move T_grok from 1100.
    const rows = law({ lr: LR, wd: 1, k: K, L, budget: BUDGET });
    const at = rows.findIndex((r) => r.step === 1100);
    const extra = { ...rows[at], step: 1095 };
    const a = aggregateSweep('x', [run('r', LR, 1, [...rows.slice(0, at), extra, ...rows.slice(at)], BUDGET)]);
    expect(a.runs[0].t_grok_95).toBe(1100);
    expect(a.runs[0].last_step).toBe(BUDGET);
  });

  it('notes when the other factor varies across a fit', () => {
    const runs = [
      [1e-3, 1],
      [2e-3, 2],
      [1e-3, 4],
    ].map(([lr, wd]) => run(`lr=${lr}_wd=${wd}`, lr, wd, law({ lr, wd, k: K, L, budget: BUDGET }), BUDGET));
    const f = aggregateSweep('mix', runs).fits.find((s) => s.name === 'tgrok_vs_inv_wd')!;
    expect(f.note).toMatch(/learning rate varies across these runs \(0\.001, 0\.002\)/);
  });
});
