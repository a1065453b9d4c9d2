import { describe, expect, it } from 'vitest';
import {
  locateTransition,
  runningMedian,
  smooth,
  TransitionInputError,
  type TransitionPoint,
} from '../../analyses/transition.ts';
import type { TransitionSummary } from '../../analyses/types.ts';
import { fmtNum as fmt, fmtStep } from '../../src/format.ts';
import { Rng } from '../../src/rng.ts';

/*
 * Synthetic runs with planted boundaries. Each transition is a cosine ramp (flat → smooth fall or
 * rise → flat) between two planted steps, so the boundaries are exact numbers:
 *   memorisation   [0, mem]       train loss and excluded loss fall together; train acc → 1
 *   circuit form.  [mem, cleanup] excluded loss rises, restricted loss and V fall, test loss flat
 *   cleanup        [cleanup, stable] test loss falls by 16 nats, Gini jumps, test acc → 1
 *   stable         [stable, last]
 * The 'logistic' variant replaces the cleanup ramp by a logistic whose 5 % and 95 % points are the
 * planted cleanup and stable steps. Noise: N(0, σ) on every log loss, N(0, σ/10) on accuracies and
 * Gini (clipped to [0, 1]).
 */
interface Plant {
  mem: number;
  cleanup: number;
  stable: number;
  last: number;
  groks?: boolean;
  memorises?: boolean;
  drop?: 'cosine' | 'logistic';
  giniEnd?: number; // the Gini jump ends here (default: stable)
  noise?: number;
  seed?: number;
  vMem?: number; // V = vMem·exp(−c·(t − tMemExact)) throughout
  c?: number;
}

const LN_P = Math.log(113);
const ramp = (t: number, a: number, b: number) =>
  t <= a ? 0 : t >= b ? 1 : (1 - Math.cos((Math.PI * (t - a)) / (b - a))) / 2;
/** The t at which 0.01 + 0.99·ramp(t, a, b) first reaches `acc` (inverse of the cosine ramp). */
const rampCross = (acc: number, a: number, b: number) =>
  a + ((b - a) * Math.acos(1 - (2 * (acc - 0.01)) / 0.99)) / Math.PI;
const trainAccRamp = (p: Plant) => [0.1 * p.mem, 0.9 * p.mem] as const;
const testAccRamp = (p: Plant) => [p.cleanup, (p.cleanup + p.stable) / 2] as const;

function synth(grid: number[], p: Plant): TransitionPoint[] {
  const rng = new Rng(p.seed ?? 1);
  const sd = p.noise ?? 0;
  const e = (scale = 1) => sd * scale * rng.normal();
  const unit = (v: number) => Math.min(1, Math.max(0, v));
  const width = (p.stable - p.cleanup) / (2 * Math.log(19)); // logistic 5 % → 95 % over the cleanup
  const mid = (p.cleanup + p.stable) / 2;
  const tMemExact = rampCross(0.99, ...trainAccRamp(p));
  return grid.map((t) => {
    const mem = ramp(t, 0.1 * p.mem, p.mem);
    const g =
      p.groks === false
        ? 0
        : p.drop === 'logistic'
          ? 1 / (1 + Math.exp(-(t - mid) / width))
          : ramp(t, p.cleanup, p.stable);
    const fall = p.memorises === false ? 3 : 10.7;
    return {
      step: t,
      train_acc: unit(
        (p.memorises === false ? 0.01 + 0.8 * ramp(t, ...trainAccRamp(p)) : 0.01 + 0.99 * ramp(t, ...trainAccRamp(p))) +
          e(0.1),
      ),
      test_acc: unit(
        (p.groks === false ? 0.01 + 0.3 * ramp(t, p.mem, p.last) : 0.01 + 0.99 * ramp(t, ...testAccRamp(p))) + e(0.1),
      ),
      train_loss: Math.exp(LN_P - fall * mem - g + e()),
      test_loss: Math.exp(
        LN_P + 1.5 * mem - 0.3 * ramp(t, p.mem, p.cleanup) - 16 * g - 0.5 * ramp(t, p.stable, p.last) + e(),
      ),
      sq_norm: (p.vMem ?? 4000) * Math.exp(-(p.c ?? 2e-4) * (t - tMemExact)),
      excluded_loss: Math.exp(LN_P - fall * mem + 9 * ramp(t, p.mem, (p.mem + p.cleanup) / 2) + 2 * g + e()),
      restricted_loss: Math.exp(LN_P - 4 * ramp(t, p.mem, p.stable) + e()),
      gini_embed: unit(0.15 + 0.65 * ramp(t, p.cleanup, p.giniEnd ?? p.stable) + 0.03 * ramp(t, 0, p.last) + e(0.1)),
    };
  });
}

const linearGrid = (last: number, every: number) => Array.from({ length: last / every + 1 }, (_, i) => i * every);
function logGrid(last: number, n: number): number[] {
  const s = new Set<number>([0]);
  for (let i = 0; i < n; i++) s.add(Math.round(10 ** (1 + (i * (Math.log10(last) - 1)) / (n - 1))));
  return [...s].sort((a, b) => a - b);
}
/** A log grid with every step moved by up to ±4 %: irregular, as checkpoints saved on a clock are. */
function jitteredGrid(last: number, n: number, seed: number): number[] {
  const rng = new Rng(seed);
  const g = logGrid(last, n).map((s, i) =>
    i === 0 || s === last ? s : Math.round(s * (1 + 0.08 * (rng.uniform() - 0.5))),
  );
  return [...new Set(g)].sort((a, b) => a - b);
}

/**
 * Tolerance on a boundary: |ln(found / planted)| ≤ 0.1 + 1.5·Δ, Δ the log-width of the grid
 * interval holding the planted step. Dense grids: about ±15 %; a sparse grid gets its spacing on top.
 */
function tolerance(grid: number[], planted: number): number {
  const i = grid.findIndex((s) => s > planted);
  return 0.1 + 1.5 * Math.log(grid[i] / grid[i - 1]);
}

const OPTS = { lr: 1e-3, weightDecay: 1 };
const MAIN: Plant = { mem: 1400, cleanup: 9400, stable: 14000, last: 30000 }; // Nanda et al.'s mainline boundaries
const SHORT: Plant = { mem: 300, cleanup: 2000, stable: 2600, last: 5000 };
const GRIDS: [string, Plant, number[]][] = [
  ['linear, every 100', MAIN, linearGrid(30000, 100)],
  ['log-spaced, 150', MAIN, logGrid(30000, 150)],
  ['jittered log, 150', MAIN, jitteredGrid(30000, 150, 7)],
  ['sparse log, 60', MAIN, logGrid(30000, 60)],
  ['short run, linear every 25', SHORT, linearGrid(5000, 25)],
];

function boundarySteps(s: TransitionSummary): Record<string, number> {
  return Object.fromEntries(s.boundaries.map((b) => [`${b.from}→${b.to}`, b.step]));
}

/** Asserts the three planted boundaries are found within tolerance; returns the worst |ln ratio| / tolerance. */
function expectPlanted(s: TransitionSummary, grid: number[], p: Plant, label: string, stable = p.stable): number {
  const found = boundarySteps(s);
  expect(Object.keys(found), label).toEqual([
    'memorisation→circuit_formation',
    'circuit_formation→cleanup',
    'cleanup→stable',
  ]);
  let worst = 0;
  for (const [key, planted] of [
    ['memorisation→circuit_formation', p.mem],
    ['circuit_formation→cleanup', p.cleanup],
    ['cleanup→stable', stable],
  ] as const) {
    const err = Math.abs(Math.log(found[key] / planted));
    expect(err, `${label}: ${key} found ${found[key]}, planted ${planted}`).toBeLessThanOrEqual(
      tolerance(grid, planted),
    );
    worst = Math.max(worst, err / tolerance(grid, planted));
  }
  return worst;
}

describe('locateTransition: planted boundaries', () => {
  for (const [name, plant, grid] of GRIDS) {
    it(`recovers the three boundaries on a ${name} grid, with and without noise, cosine and logistic drops`, () => {
      for (const drop of ['cosine', 'logistic'] as const) {
        for (const noise of [0, 0.1, 0.2]) {
          for (let seed = 1; seed <= (noise === 0 ? 1 : 4); seed++) {
            const p = { ...plant, drop, noise, seed };
            const s = locateTransition(synth(grid, p), OPTS);
            expectPlanted(s, grid, p, `${drop} σ=${noise} seed ${seed}`);
            expect(s.notes, `${drop} σ=${noise} seed ${seed}`).toEqual([]);
            expect(s.boundaries[0].reason).toMatch(/^Smoothed excluded loss reached its minimum/);
            expect(s.boundaries[1].reason).toMatch(/^Test loss began to fall sharply/);
          }
        }
      }
    });
  }

  it('places T_mem and T_grok at the first checkpoint past the analytic crossing, and the delays between', () => {
    for (const [name, p, grid] of GRIDS) {
      const s = locateTransition(synth(grid, p), OPTS);
      const firstAfter = (t: number) => grid.find((g) => g >= t);
      expect(s.t_mem, name).toBe(firstAfter(rampCross(0.99, ...trainAccRamp(p))));
      expect(s.t_grok_95, name).toBe(firstAfter(rampCross(0.95, ...testAccRamp(p))));
      expect(s.t_grok_99, name).toBe(firstAfter(rampCross(0.99, ...testAccRamp(p))));
      expect(s.delay_95).toBe((s.t_grok_95 as number) - (s.t_mem as number));
      expect(s.delay_99).toBe((s.t_grok_99 as number) - (s.t_mem as number));
    }
  });

  it('chains the phases: each starts where the previous ended, the last one open', () => {
    const s = locateTransition(synth(linearGrid(30000, 100), MAIN), OPTS);
    expect(s.phases.map((q) => q.name)).toEqual(['memorisation', 'circuit_formation', 'cleanup', 'stable']);
    expect(s.phases[0].start).toBe(0);
    for (let i = 0; i < 3; i++) {
      expect(s.phases[i].end).toBe(s.boundaries[i].step);
      expect(s.phases[i + 1].start).toBe(s.boundaries[i].step);
    }
    expect(s.phases[3].end).toBeNull();
  });

  it('writes each reason as one sentence naming the signal and the boundary step', () => {
    for (const [name, p, grid] of GRIDS) {
      for (const b of locateTransition(synth(grid, { ...p, noise: 0.1 }), OPTS).boundaries) {
        expect(b.reason, name).toMatch(/^[A-Z].*\.$/);
        expect(b.reason, name).not.toMatch(/[.!?]\s+[A-Z]/); // no second sentence
        expect(b.reason, name).toMatch(/excluded loss|Test loss|Gini/);
        expect(b.reason, name).toContain(`step ${fmtStep(b.step)}`);
      }
    }
  });

  it('ends the cleanup at the later of the test-loss fall and the Gini jump', () => {
    const grid = linearGrid(30000, 100);
    const p = { ...MAIN, giniEnd: 18000, noise: 0.1 };
    const s = locateTransition(synth(grid, p), OPTS);
    expectPlanted(s, grid, p, 'late Gini', 18000);
    expect(s.boundaries[2].reason).toMatch(/^The Gini coefficient of the embedding stopped jumping/);
  });

  it('ignores a single-checkpoint spike in every curve', () => {
    const grid = linearGrid(30000, 100);
    const clean = synth(grid, MAIN);
    const spiked = clean.map((q) => ({ ...q }));
    for (const at of [5000, 12000]) {
      const q = spiked[at / 100];
      Object.assign(q, {
        test_loss: q.test_loss * 1e4,
        excluded_loss: (q.excluded_loss as number) * 1e-4,
        gini_embed: 0,
      });
    }
    expect(boundarySteps(locateTransition(spiked, OPTS))).toEqual(boundarySteps(locateTransition(clean, OPTS)));
  });
});

describe('locateTransition: missing evidence', () => {
  it('falls back to T_mem and test loss alone when the circuit fields are missing, and says so', () => {
    for (const [name, plant, grid] of GRIDS) {
      const full = synth(grid, { ...plant, noise: 0.1 });
      const bare = full.map(({ excluded_loss, restricted_loss, gini_embed, ...rest }) => rest);
      const s = locateTransition(bare, OPTS);
      expect(s.boundaries[0].step, name).toBe(s.t_mem);
      expect(s.boundaries[0].reason).toBe(
        `Train accuracy first reached 0.99 at step ${fmtStep(s.t_mem as number)} (train loss ${fmt(bare.find((q) => q.step === s.t_mem)!.train_loss)}).`,
      );
      // The planted memorisation end is the excluded-loss minimum; T_mem is a little before it.
      expectPlanted(s, grid, { ...plant, mem: rampCross(0.99, ...trainAccRamp(plant)) }, name);
      expect(s.notes).toEqual([
        'Excluded loss is not available; memorisation ends at T_mem instead.',
        'The end of the cleanup is placed by test loss alone since the Gini coefficient is not available.',
      ]);
    }
  });

  it('uses a circuit field recorded on only some checkpoints, and notes it', () => {
    const grid = logGrid(30000, 150);
    const series = synth(grid, { ...MAIN, noise: 0.1 }).map((q, i) => (i % 2 ? { ...q, excluded_loss: undefined } : q));
    const s = locateTransition(series, OPTS);
    expectPlanted(s, grid, MAIN, 'excluded loss on every other checkpoint');
    expect(s.notes).toEqual([
      `Excluded loss is present on ${Math.ceil(grid.length / 2)} of ${grid.length} checkpoints; only those are used.`,
    ]);
  });

  it('gives null T_grok, no cleanup and an open circuit-formation phase for a run that never groks', () => {
    const grid = linearGrid(30000, 100);
    const s = locateTransition(synth(grid, { ...MAIN, groks: false, noise: 0.1 }), OPTS);
    expect([s.t_grok_95, s.t_grok_99, s.delay_95, s.delay_99]).toEqual([null, null, null, null]);
    expect(s.t_mem).not.toBeNull();
    expect(s.phases.map((q) => [q.name, q.end === null])).toEqual([
      ['memorisation', false],
      ['circuit_formation', true],
    ]);
    expect(Math.abs(Math.log(s.boundaries[0].step / MAIN.mem))).toBeLessThanOrEqual(tolerance(grid, MAIN.mem));
    expect(s.notes[0]).toMatch(
      /^Test accuracy never reached 0\.95 \(best 0\.3\d* at step [\d,.k]+\): no cleanup phase\.$/,
    );
    expect(s.notes).toContain(
      'The run never grokked: the contraction is fitted up to the last checkpoint, and v_fit_end is its V.',
    );
    expect(s.contraction?.to).toBe(30000);
  });

  it('places only the memorisation phase, and no fit, for a run that never memorises', () => {
    const s = locateTransition(synth(logGrid(30000, 150), { ...MAIN, memorises: false, groks: false }), OPTS);
    expect(s.t_mem).toBeNull();
    expect(s.phases).toEqual([{ name: 'memorisation', start: 0, end: null }]);
    expect(s.boundaries).toEqual([]);
    expect(s.contraction).toBeNull();
    expect(s.notes[0]).toMatch(
      /^Train accuracy never reached 0\.99 \(best 0\.81 at step [\d,.k]+\): memorisation did not complete/,
    );
    expect(s.notes).toContain('No contraction fit: the run never memorised.');
  });

  it('leaves the cleanup open when the record ends in the middle of the test-loss fall', () => {
    const grid = linearGrid(30000, 100).filter((t) => t <= 12000);
    const s = locateTransition(synth(grid, MAIN), OPTS);
    expect(s.phases.map((q) => q.name)).toEqual(['memorisation', 'circuit_formation', 'cleanup']);
    expect(s.phases[2].end).toBeNull();
    expect(s.notes).toContain('Test loss was still falling sharply at the last checkpoint: no stable phase yet.');
  });

  it('skips circuit formation when test loss falls before memorisation ends (no delay)', () => {
    // Generalisation with memorisation: the test-loss ramp starts before the train-accuracy ramp ends.
    const p: Plant = { mem: 3000, cleanup: 1500, stable: 4000, last: 10000 };
    const s = locateTransition(synth(linearGrid(10000, 50), p), OPTS);
    expect(s.phases.map((q) => q.name)).toEqual(['memorisation', 'cleanup', 'stable']);
    expect(s.boundaries[0].from).toBe('memorisation');
    expect(s.boundaries[0].to).toBe('cleanup');
    expect(s.notes.some((q) => q.startsWith('No circuit-formation phase'))).toBe(true);
  });

  it('notes when a corroborating signal misbehaves (V rising during circuit formation)', () => {
    const grid = linearGrid(30000, 100);
    const s = locateTransition(synth(grid, { ...MAIN, c: -1e-5 }), OPTS);
    expect(
      s.notes.find((q) => q.startsWith('The squared weight norm V did not fall during circuit formation')),
    ).toBeDefined();
  });
});

describe('locateTransition: norm-contraction fit', () => {
  it('recovers c exactly from an exact exponential, on linear and irregular grids', () => {
    for (const [name, plant, grid] of GRIDS) {
      const p = { ...plant, vMem: 3900, c: 3e-4 };
      const s = locateTransition(synth(grid, p), { lr: 1e-3, weightDecay: 0.5 });
      const f = s.contraction!;
      expect(f, name).not.toBeNull();
      expect(f.c / 3e-4 - 1, name).toBeCloseTo(0, 10);
      expect(f.c_over_lr_wd! / (3e-4 / 5e-4) - 1).toBeCloseTo(0, 10);
      expect(f.r2).toBeCloseTo(1, 10);
      expect(f.from).toBe(s.t_mem);
      expect(f.to).toBe(s.boundaries[2].step); // window: T_mem → start of the stable phase
      const at = (t: number) => synth(grid, p).find((q) => q.step === t)!.sq_norm;
      expect(f.v_mem).toBe(at(f.from));
      expect(f.v_fit_end).toBe(at(f.to));
      expect(f.v_at_grok).toBe(at(s.t_grok_95!)); // the delay law's V, at T_grok (95 %)
      expect(f.v_mem_fit / f.v_mem - 1).toBeCloseTo(0, 10); // the fit passes through the measured V_mem
    }
  });

  it('reports c/(lr·wd) as null when weight decay is 0', () => {
    const s = locateTransition(synth(linearGrid(30000, 100), MAIN), { lr: 1e-3, weightDecay: 0 });
    expect(s.contraction?.c_over_lr_wd).toBeNull();
    expect(s.contraction?.c).toBeGreaterThan(0);
  });

  it('weights checkpoints by the stretch of steps they stand for: a log grid gives the continuous fit', () => {
    // ln V = a − b·x − q·x², x = t − T_mem on [0, L]. The continuous least-squares line has slope
    // −(b + q·L) (cov(x, x²)/var(x) = L on a uniform interval), so c = b + q·L. An unweighted fit on
    // a log grid would crowd the start, where the curve is flatter, and give a smaller c.
    const grid = logGrid(30000, 150);
    const base = synth(grid, { ...MAIN, groks: false });
    const tMem = locateTransition(base, OPTS).t_mem!;
    const L = 30000 - tMem;
    const b = 1e-4;
    const q = 5e-9;
    const series = base.map((pt) => ({
      ...pt,
      sq_norm: 4000 * Math.exp(-b * (pt.step - tMem) - q * (pt.step - tMem) ** 2),
    }));
    const f = locateTransition(series, OPTS).contraction!;
    expect(f.from).toBe(tMem);
    expect(f.to).toBe(30000);
    expect(Math.abs(f.c / (b + q * L) - 1)).toBeLessThan(0.01);
    expect(f.r2).toBeLessThan(0.99);
    expect(f.r2).toBeGreaterThan(0.9);
  });

  it('recovers c within 2 % from noisy V on a jittered grid', () => {
    const grid = jitteredGrid(30000, 150, 11);
    const rng = new Rng(5);
    const series = synth(grid, { ...MAIN, c: 2e-4 }).map((pt) => ({
      ...pt,
      sq_norm: pt.sq_norm * Math.exp(0.02 * rng.normal()),
    }));
    const f = locateTransition(series, OPTS).contraction!;
    expect(Math.abs(f.c / 2e-4 - 1)).toBeLessThan(0.02);
  });

  it('fits a constant V exactly with c = 0 and R² = 1', () => {
    const series = synth(linearGrid(30000, 100), MAIN).map((pt) => ({ ...pt, sq_norm: 10 }));
    const f = locateTransition(series, OPTS).contraction!;
    expect(f.c).toBeCloseTo(0, 15);
    expect(f.r2).toBe(1);
    expect(f.v_mem_fit).toBeCloseTo(10, 12);
  });

  it('gives no fit, with a note, when fewer than 3 checkpoints follow T_mem', () => {
    const series = synth(linearGrid(30000, 100), MAIN).filter((q) => q.step <= 1300);
    const s = locateTransition(series, OPTS);
    expect(s.t_mem).toBe(1200);
    expect(s.contraction).toBeNull();
    expect(s.notes).toContain('No contraction fit: only 2 checkpoint(s) between T_mem (step 1.2k) and step 1.3k.');
  });
});

describe('locateTransition: determinism and input checks', () => {
  it('returns identical results on repeated calls and never mutates its input', () => {
    const series = synth(jitteredGrid(30000, 150, 3), { ...MAIN, noise: 0.2, seed: 9 });
    const frozen = series.map((q) => Object.freeze({ ...q }));
    Object.freeze(frozen);
    const a = locateTransition(frozen, OPTS);
    const b = locateTransition(frozen, OPTS);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(frozen).toEqual(series);
  });

  it('rejects bad series and options with the entry, key and value', () => {
    const ok = synth(linearGrid(1000, 100), MAIN);
    const bad = (i: number, patch: Partial<TransitionPoint>) => ok.map((q, j) => (j === i ? { ...q, ...patch } : q));
    expect(() => locateTransition([], OPTS)).toThrow(TransitionInputError);
    expect(() => locateTransition([], OPTS)).toThrow('transition series length: expected at least 1 checkpoint, got 0');
    expect(() => locateTransition(bad(3, { step: 200 }), OPTS)).toThrow(
      'transition series[3].step: expected an integer ≥ 0 above series[2].step, got 200',
    );
    expect(() => locateTransition(bad(2, { test_acc: 1.5 }), OPTS)).toThrow(
      'transition series[2].test_acc: expected a number in [0, 1], got 1.5',
    );
    expect(() => locateTransition(bad(4, { test_loss: NaN }), OPTS)).toThrow(
      'transition series[4].test_loss: expected a finite number ≥ 0, got NaN',
    );
    expect(() => locateTransition(bad(1, { gini_embed: -0.1 }), OPTS)).toThrow(
      'transition series[1].gini_embed: expected a number in [0, 1] or absent, got -0.1',
    );
    expect(() => locateTransition(ok, { lr: -1, weightDecay: 1 })).toThrow(
      'transition option lr: expected a finite number ≥ 0, got -1',
    );
  });
});

describe('smoothing helpers', () => {
  it('local-linear smoothing reproduces a straight line exactly, slope included, on irregular abscissae', () => {
    const rng = new Rng(2);
    const u: number[] = [0];
    for (let i = 1; i < 80; i++) u.push(u[i - 1] + 0.001 + 0.3 * rng.uniform() ** 3);
    const { level, slope } = smooth(
      u,
      u.map((x) => 2.5 - 1.7 * x),
    );
    u.forEach((x, i) => {
      expect(level[i]).toBeCloseTo(2.5 - 1.7 * x, 10);
      // Points with no neighbour inside the kernel keep their value and report slope 0.
      if (slope[i] !== 0) expect(slope[i]).toBeCloseTo(-1.7, 9);
    });
    expect(slope.filter((s) => s !== 0).length).toBeGreaterThan(60);
  });

  it('the running median removes an isolated spike and keeps a monotone sequence as it is', () => {
    expect(runningMedian([1, 1, 1, 50, 1, 1, 1], 2)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const mono = [0, 0.5, 0.7, 3, 3.1, 8, 9];
    expect(runningMedian(mono, 2)).toEqual(mono);
  });
});
