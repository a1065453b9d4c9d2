/** The setups by name, the JSON they produce, and the `groklens linear` command module. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { formatLinearTable, linearCommand, parseValues } from '../../cli/commands/linear.ts';
import { UserError } from '../../src/errors.ts';
import { LINEAR_RESULT_KIND, runLinear, type LinearResult } from '../../linear/experiment.ts';
import type { RidgeRun, TeacherStudentRun } from '../../linear/runs.ts';
import type { RidgeSweepRow, TeacherStudentSweepRow } from '../../linear/sweeps.ts';

/** Every number in a result is finite (JSON would turn NaN/∞ into null silently). */
function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (v && typeof v === 'object') return Object.values(v).every(allFinite);
  return true;
}

describe('parseValues', () => {
  it('lists, even ranges and log ranges', () => {
    expect(parseValues('--values', '0.1, 0.2,5')).toEqual([0.1, 0.2, 5]);
    expect(parseValues('--values', '0.1:0.9:5')).toEqual([0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(parseValues('--values', '1e-4:100:7:log')).toEqual([1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100]);
  });

  it('names the option and the bad text', () => {
    expect(() => parseValues('--values', '0.1,x')).toThrow(/--values: "x" is not a number/);
    expect(() => parseValues('--values', '0:1:0')).toThrow(/count must be a positive integer/);
    expect(() => parseValues('--values', '0:1:3:lin')).toThrow(/start:stop:count:log/);
    expect(() => parseValues('--values', '0:1:3:log')).toThrow(/start and stop > 0/);
  });
});

describe('runLinear', () => {
  it('teacher-student: a self-describing result whose curves line up with their steps', async () => {
    const r = await runLinear({ setup: 'teacher-student', settings: { dIn: 60, lambda: 0.5 }, nTest: 500, points: 40 });
    expect(r.kind).toBe(LINEAR_RESULT_KIND);
    expect(r.settings).toMatchObject({ dIn: 60, nTrain: 120, lambda: 0.5, eta: 0.01, eps: 1e-3 });
    const d = r.data as TeacherStudentRun;
    for (const key of [
      'train',
      'gen',
      'accuracy',
      'tTrain',
      'tGen',
      'deltaT',
      'mpIntegral',
      'initAveraged',
      'closedFormDeltaT',
      'spectrum',
    ]) {
      expect(r.definitions[key], key).toBeTruthy();
    }
    const n = d.curve.steps.length;
    for (const series of [
      d.curve.train,
      d.curve.gen,
      d.curve.mpTrain,
      d.curve.mpGen,
      d.curve.trainAccuracy,
      d.curve.testAccuracy,
      d.curve.testAccuracyAnalytic,
    ]) {
      expect(series).toHaveLength(n);
    }
    // The measured and predicted times are points of the curve, so a report can mark them.
    for (const t of [d.simulated.tTrain, d.simulated.tGen, d.mpIntegral.tTrain, d.mpIntegral.tGen])
      expect(d.curve.steps).toContain(t);
    expect(allFinite(r)).toBe(true);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('sweeps: one row per value, one entry per seed, times and predictions side by side', async () => {
    const r = await runLinear({ setup: 'sweep-lambda', settings: { dIn: 40 }, values: [0.3, 0.6], seeds: [0, 1] });
    const rows = r.data as TeacherStudentSweepRow[];
    expect(rows.map((x) => x.lambda)).toEqual([40 / 133, 40 / 67]);
    expect(rows.every((x) => x.seeds.length === 2)).toBe(true);
    for (const x of rows) {
      expect(x.simulated.deltaT).toBeCloseTo((x.seeds[0].deltaT! + x.seeds[1].deltaT!) / 2, 10);
      expect(x.closedFormDeltaT! / x.mpIntegral.deltaT!).toBeGreaterThan(1.5);
    }
    expect(r.sweep).toEqual({ key: 'lambda', values: [0.3, 0.6], seeds: [0, 1] });

    const g = await runLinear({
      setup: 'sweep-gamma',
      settings: { dIn: 40, lambda: 0.5 },
      values: [0, 1e-3],
      seeds: [3],
    });
    const gr = g.data as TeacherStudentSweepRow[];
    expect(gr.map((x) => x.gamma)).toEqual([0, 1e-3]);
    expect(gr[1].closedFormDeltaT).toBeNull(); // the paper's formula is for γ = 0 only

    const nu = await runLinear({
      setup: 'sweep-ridge-nu2',
      settings: { m: 200, n: 20 },
      values: [1e-3, 1, 10],
      seeds: [0],
    });
    const nr = nu.data as RidgeSweepRow[];
    expect(nr[0].mean.t2).toBe(0); // eliminated
    expect(nr[2].mean.t2!).toBeGreaterThan(nr[1].mean.t2!); // amplified
  });

  it('ridge: times, bound and curves', async () => {
    const r = await runLinear({ setup: 'ridge', settings: { seed: 4 }, points: 30 });
    const d = r.data as RidgeRun;
    expect(d.times.t2!).toBeGreaterThan(d.bound.t2Lower);
    expect(d.curve.steps).toContain(d.times.t2);
    expect(d.curve.population).toHaveLength(d.curve.steps.length);
    expect(allFinite(r)).toBe(true);
  });

  it('rejects unknown keys, contradictory keys and keys a sweep sets itself', async () => {
    const run = (setup: LinearResult['setup'], settings: Record<string, number>, workers = 1) =>
      runLinear({ setup, settings, values: [0.5], seeds: [0], workers });
    await expect(run('teacher-student', { din: 10 })).rejects.toThrow(
      /teacher-student: unknown setting "din" \(expected one of dIn, /,
    );
    await expect(run('teacher-student', { lambda: 0.5, nTrain: 100 })).rejects.toThrow(/lambda or nTrain, not both/);
    await expect(run('sweep-lambda', { lambda: 0.5 })).rejects.toThrow(/sweep-lambda: lambda is set by the sweep/);
    await expect(run('ridge', { nu2: -2 })).rejects.toThrow(UserError);
    await expect(run('teacher-student', { dIn: 10, eta: 5 })).rejects.toThrow(/eta = 5 makes gradient descent diverge/);
    // The same mistake found inside a worker thread is still a UserError with the same message.
    const inWorker = run('sweep-lambda', { dIn: 10, eta: 5 }, 2);
    await expect(inWorker).rejects.toThrow(UserError);
    await expect(inWorker).rejects.toThrow(/eta = 5 makes gradient descent diverge/);
  });
});

describe('linearCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'groklens-linear-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the JSON result and prints the table', async () => {
    const out = join(dir, 'nested', 'ts.json');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const result = await linearCommand('teacher-student', {
        set: ['dIn=50', 'lambda=1.5'],
        out,
        nTest: '0',
        quiet: true,
      });
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
      const printed = write.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain('L_gen(∞)');
      expect(printed).toContain(`wrote ${out}`);
      expect((result.data as TeacherStudentRun).simulated.tGen).toBeNull(); // plateau
    } finally {
      write.mockRestore();
    }
  });

  it('refuses an unknown setup and a malformed --set', async () => {
    await expect(linearCommand('teacher', { set: [] })).rejects.toThrow(/unknown setup "teacher"/);
    await expect(linearCommand('ridge', { set: ['nu2'] })).rejects.toThrow(/expected key=value/);
    await expect(linearCommand('ridge', { set: ['nu2=big'] })).rejects.toThrow(/--set nu2: "big" is not a number/);
  });

  it('prints every setup as a table', async () => {
    const r = await runLinear({
      setup: 'sweep-ridge-lambda',
      settings: { m: 200, n: 20 },
      values: [1e-4, 1e-3],
      seeds: [0],
    });
    const text = formatLinearTable(r);
    expect(text.split('\n')).toHaveLength(3);
    expect(text).toContain('bound t₂');
  });
});
