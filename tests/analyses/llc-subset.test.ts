/**
 * The llc pass's checkpoint subset (analyses/llc.ts llcCheckpointSteps, `--llc checkpoints=N|all`):
 * log-spaced in ln(1 + step) with the first and last, the neighbours of the phase boundaries,
 * deterministic, every checkpoint when there are fewer than asked; the option's parse errors; the
 * subset is not a sampler setting (sameLlcSettings); and analysis.json keeps it through the schema.
 */
import { describe, expect, it } from 'vitest';
import {
  LLC_DEFAULTS,
  llcBoundarySteps,
  llcCheckpointSteps,
  llcOptions,
  llcSettingsFor,
  parseLlcSettings,
  sameLlcSettings,
} from '../../analyses/llc.ts';
import { checkAnalysisValue } from '../../analyses/store.ts';
import type { MetricsRow } from '../../src/run/store.ts';
import { withNewPasses } from '../reports/new-passes-fixture.ts';

/** A run's checkpoint steps: 0, 20 log-spaced below 100, then every 100 up to `last`. */
function runSteps(last = 40000): number[] {
  const early = Array.from({ length: 20 }, (_, i) => Math.round(Math.exp((Math.log(100) * (i + 1)) / 21)));
  const linear = Array.from({ length: last / 100 }, (_, i) => 100 * (i + 1));
  return [...new Set([0, ...early, ...linear])].sort((a, b) => a - b);
}
const u = (s: number) => Math.log1p(s);

describe('llcCheckpointSteps', () => {
  const steps = runSteps();

  it('takes count checkpoints, the first and last included, evenly spread in ln(1 + step)', () => {
    const got = llcCheckpointSteps(steps, 24);
    expect(got).toHaveLength(24);
    expect(got[0]).toBe(0);
    expect(got.at(-1)).toBe(40000);
    expect([...got].sort((a, b) => a - b)).toEqual(got);
    for (const s of got) expect(steps).toContain(s);
    // Each of the 24 evenly spaced targets in u has a chosen checkpoint near it: the checkpoints
    // are dense where the targets are (every 100 steps is ≤ 0.1 in u beyond step 1,000) …
    const spacing = u(40000) / 23;
    for (let j = 0; j < 24; j++) {
      const t = spacing * j;
      const d = Math.min(...got.map((s) => Math.abs(u(s) - t)));
      expect(d).toBeLessThan(t > u(1000) ? 0.06 : spacing);
    }
    // … so the late, linear part of training (a tenth of the steps above 4,000 is most of them)
    // gets few: log spacing, not linear spacing.
    expect(got.filter((s) => s > 4000).length).toBeLessThan(6);
    expect(got.filter((s) => s <= 100).length).toBeGreaterThan(8);
  });

  it('returns every checkpoint when there are no more than asked, or for all', () => {
    expect(llcCheckpointSteps([0, 10, 100, 1000], 24)).toEqual([0, 10, 100, 1000]);
    expect(llcCheckpointSteps([0, 10, 100, 1000], 4)).toEqual([0, 10, 100, 1000]);
    expect(llcCheckpointSteps(steps, 'all')).toEqual(steps);
    expect(llcCheckpointSteps(steps, undefined)).toEqual(steps);
    expect(llcCheckpointSteps([], 5)).toEqual([]);
  });

  it('keeps the count where the checkpoints are sparser than the targets, filling the widest gaps', () => {
    // 0, then 100 … 5000: the first targets (u ≈ 0.4, 0.8, …) all fall nearest to step 0 or 100
    const sparse = [0, ...Array.from({ length: 50 }, (_, i) => 100 * (i + 1))];
    const got = llcCheckpointSteps(sparse, 12);
    expect(got).toHaveLength(12);
    expect(got[0]).toBe(0);
    expect(got).toContain(100);
    expect(got.at(-1)).toBe(5000);
    expect(new Set(got).size).toBe(12);
  });

  it('with count 1 takes the last checkpoint, with 2 the first and last', () => {
    expect(llcCheckpointSteps(steps, 1)).toEqual([40000]);
    expect(llcCheckpointSteps(steps, 2)).toEqual([0, 40000]);
  });

  it('is deterministic and does not depend on the order or repeats of the input', () => {
    const shuffled = [...steps].reverse();
    const a = llcCheckpointSteps(steps, 24, [9400, 1400]);
    expect(llcCheckpointSteps(steps, 24, [9400, 1400])).toEqual(a);
    expect(llcCheckpointSteps([...shuffled, ...steps.slice(0, 5)], 24, [1400, 9400])).toEqual(a);
  });

  it('adds the checkpoint nearest each phase boundary and its two neighbours', () => {
    const base = llcCheckpointSteps(steps, 24);
    const got = llcCheckpointSteps(steps, 24, [9420, 13000]);
    for (const s of [9300, 9400, 9500, 12900, 13000, 13100]) expect(got).toContain(s);
    expect(got.filter((s) => !base.includes(s)).sort((a, b) => a - b)).toEqual(
      [9300, 9400, 9500, 12900, 13000, 13100].filter((s) => !base.includes(s)),
    );
    // a boundary past the end takes the last two; a non-finite one is ignored
    expect(llcCheckpointSteps(steps, 3, [1e9, NaN])).toEqual(
      [...llcCheckpointSteps(steps, 3), 39900].sort((a, b) => a - b),
    );
  });
});

describe('llcBoundarySteps', () => {
  it('takes the previous analysis’s boundaries, T_mem and T_grok, else locates them in metrics.jsonl', () => {
    const boundaries = [{ from: 'memorisation' as const, to: 'circuit_formation' as const, step: 1400, reason: 'x' }];
    expect(llcBoundarySteps({ boundaries, t_mem: 300, t_grok_95: 9000 }, [], { lr: 1e-3, weightDecay: 1 })).toEqual([
      300, 1400, 9000,
    ]);
    expect(llcBoundarySteps({ boundaries, t_mem: 1400, t_grok_95: null }, [], { lr: 1e-3, weightDecay: 1 })).toEqual([
      1400,
    ]);
    // a logged run that memorises by ~300 and generalises near 3,000
    const rows: MetricsRow[] = Array.from({ length: 60 }, (_, i) => {
      const step = 100 * i;
      const train_acc = 1 / (1 + Math.exp(-(step - 250) / 40));
      const test_acc = 0.02 + 0.98 / (1 + Math.exp(-(step - 3000) / 150));
      return {
        step,
        train_acc,
        test_acc,
        train_loss: 4 * (1 - train_acc) + 1e-3,
        test_loss: 4 * (1 - test_acc) + 1e-3,
        sq_norm: 3000 * Math.exp(-step / 4000),
        lr: 1e-3,
        wall_time: step / 10,
      };
    });
    const b = llcBoundarySteps(undefined, rows, { lr: 1e-3, weightDecay: 1 });
    expect(b.length).toBeGreaterThan(2);
    expect(b).toContain(rows.find((r) => r.train_acc >= 0.99)!.step); // T_mem
    expect(b).toContain(rows.find((r) => r.test_acc >= 0.95)!.step); // T_grok (95 %)
    for (const s of b) expect(s).toBeGreaterThanOrEqual(100);
    expect(llcBoundarySteps({ boundaries: [], t_mem: 5, t_grok_95: 6 }, [], { lr: 1e-3, weightDecay: 1 })).toEqual([]);
  });
});

describe('--llc checkpoints', () => {
  it('parses a count or all', () => {
    expect(parseLlcSettings('checkpoints=24')).toEqual({ checkpoints: 24 });
    expect(parseLlcSettings('chains=2, checkpoints = all')).toEqual({ chains: 2, checkpoints: 'all' });
  });

  it.each([
    ['checkpoints=0', /checkpoints.*'0'/],
    ['checkpoints=2.5', /checkpoints.*'2\.5'/],
    ['checkpoints=some', /checkpoints.*'some'/],
    ['checkpoints=', /checkpoints.*''/],
    ['checkpoints=-3', /checkpoints.*'-3'/],
    ['chains=x', /chains must be a number, got 'x'/],
    ['draws=', /draws must be a number, got ''/],
    ['checkpoint=24', /unknown key 'checkpoint'/],
    ['chains', /key=value.*got 'chains'/],
    ['chains=2=3', /got 'chains=2=3'/],
  ])('refuses %s with a message naming the key and value', (text, message) => {
    expect(() => parseLlcSettings(text)).toThrow(message);
    expect(() => parseLlcSettings(text)).toThrow(/^--llc: /);
  });

  it('defaults to 24, is checked when given through the API, and is not a sampler setting', () => {
    expect(LLC_DEFAULTS.checkpoints).toBe(24);
    const o = llcOptions(3830, 0);
    expect(o.checkpoints).toBe(24);
    expect(llcOptions(3830, 0, { checkpoints: 'all' }).checkpoints).toBe('all');
    expect(() => llcOptions(3830, 0, { checkpoints: 0 })).toThrow(
      /llc\.checkpoints: expected a positive integer or 'all', got 0/,
    );
    expect(sameLlcSettings(o, llcOptions(3830, 0, { checkpoints: 'all' }))).toBe(true);
    expect(sameLlcSettings(o, { ...o, checkpoints: undefined })).toBe(true); // a file from before the setting
    expect(sameLlcSettings(o, llcOptions(3830, 0, { draws: 100 }))).toBe(false);
    expect(sameLlcSettings(o, llcOptions(3830, 0, { epsilon: 2e-4 }))).toBe(false);
    expect(sameLlcSettings(o, llcOptions(3830, 1))).toBe(false);
  });

  it('is kept from the previous analysis unless overridden', () => {
    const prev = llcOptions(3830, 0, { checkpoints: 'all', draws: 50 });
    expect(llcSettingsFor(3830, 0, prev).checkpoints).toBe('all');
    expect(llcSettingsFor(3830, 0, prev).draws).toBe(50);
    expect(llcSettingsFor(3830, 0, { ...prev, checkpoints: 10 }).checkpoints).toBe(10);
    expect(llcSettingsFor(3830, 0, prev, { checkpoints: 8 }).checkpoints).toBe(8);
    expect(llcSettingsFor(3830, 0, { ...prev, checkpoints: undefined }).checkpoints).toBe(24);
  });
});

describe('analysis.json options.llc.checkpoints', () => {
  const file = (checkpoints: unknown) => {
    const a = JSON.parse(JSON.stringify(withNewPasses().analysis));
    if (checkpoints === undefined) delete a.options.llc.checkpoints;
    else a.options.llc.checkpoints = checkpoints;
    return a;
  };

  it.each([24, 'all'])('reads back %s', (k) => {
    const back = checkAnalysisValue(JSON.parse(JSON.stringify(file(k))), 'analysis.json');
    expect(back.options.llc!.checkpoints).toBe(k);
    expect(back.options.llc).toEqual(file(k).options.llc);
  });

  it('reads a file from before the setting (no checkpoints key)', () => {
    const back = checkAnalysisValue(file(undefined), 'analysis.json');
    expect(back.options.llc).toBeDefined();
    expect('checkpoints' in back.options.llc!).toBe(false);
    expect(back.options.llc!.draws).toBe(200);
  });

  it.each([0, 2.5, 'some', null])('refuses %s naming the key', (k) => {
    expect(() => checkAnalysisValue(file(k), 'analysis.json')).toThrow(/analysis\.json.*options\.llc\.checkpoints/);
  });
});
