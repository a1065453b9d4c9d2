/**
 * The planner of `groklens analyze` (analyses/plan.ts) on plain data, no run: which passes are
 * selected, which previous results a change invalidates (a new probe only the NTK, a new key source
 * or key set only fourier and circuit, new llc settings only λ̂), and which (checkpoint, pass)
 * pairs are planned (nothing already held, λ̂ only on the llc steps, nothing that lacks the
 * initial weights, K0 or the key frequencies). Also that the registry (analyses/passes.ts) has one
 * entry per per-checkpoint pass and agrees with types.ts on which are opt-in.
 */
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_PASSES, PASS_NEEDS, PASSES } from '../../analyses/passes.ts';
import {
  applicable,
  invalidatedPasses,
  keptResults,
  planCheckpoints,
  sameProbe,
  selectPasses,
  type Availability,
} from '../../analyses/plan.ts';
import {
  ALL_PASSES,
  OPT_IN_PASSES,
  type CheckpointPassName,
  type CheckpointResult,
  type PassName,
} from '../../analyses/types.ts';
import { UserError } from '../../src/errors.ts';

const GROUPED = applicable(PASS_NEEDS, true);
const UNGROUPED = applicable(PASS_NEEDS, false);

/** A checkpoint result holding the given passes (placeholder values: the planner only asks which are there). */
function result(step: number, passes: readonly CheckpointPassName[]): CheckpointResult {
  const r: Record<string, unknown> = { step, file: `step-${step}.safetensors` };
  for (const p of passes) r[p] = { at: step, pass: p };
  return r as unknown as CheckpointResult;
}
const held = (r: CheckpointResult) => Object.keys(r).filter((k) => k !== 'step' && k !== 'file');

const everything: Availability = { initialWeights: true, initialKernel: true, keyFrequencies: true, llcSteps: null };
const plan = (
  passes: readonly PassName[],
  steps: number[],
  results: CheckpointResult[],
  available: Partial<Availability> = {},
) =>
  planCheckpoints({
    passes,
    steps,
    results: new Map(results.map((r) => [r.step, r])),
    needs: PASS_NEEDS,
    available: { ...everything, ...available },
  });

describe('selectPasses', () => {
  it('by default runs every applicable pass except the opt-in llc and trajectory', () => {
    expect(selectPasses(undefined, GROUPED)).toEqual({
      passes: ['metrics', 'fourier', 'circuit', 'norms', 'ntk'],
      skipped: [],
    });
  });

  it('without a cyclic-group task leaves out fourier and circuit and says so', () => {
    expect(UNGROUPED).toEqual(['metrics', 'norms', 'ntk', 'llc', 'trajectory']);
    expect(selectPasses(undefined, UNGROUPED)).toEqual({
      passes: ['metrics', 'norms', 'ntk'],
      skipped: ['fourier', 'circuit'],
    });
    expect(selectPasses(['circuit', 'llc', 'metrics'], UNGROUPED)).toEqual({
      passes: ['llc', 'metrics'],
      skipped: ['circuit'],
    });
  });

  it('keeps the order --passes gives', () => {
    expect(selectPasses(['ntk', 'trajectory', 'metrics'], GROUPED).passes).toEqual(['ntk', 'trajectory', 'metrics']);
  });

  it('refuses an unknown pass name, listing the passes', () => {
    expect(() => selectPasses(['metrics', 'fourrier'], GROUPED)).toThrow(UserError);
    expect(() => selectPasses(['metrics', 'fourrier'], GROUPED)).toThrow(
      `--passes: unknown pass 'fourrier' (passes: ${ALL_PASSES.join(', ')})`,
    );
  });
});

describe('invalidatedPasses and keptResults', () => {
  const all: CheckpointPassName[] = ['metrics', 'fourier', 'circuit', 'norms', 'ntk', 'llc'];
  const previous = [result(0, all), result(10, all), result(20, ['metrics', 'ntk'])];

  it('a changed probe drops the NTK results only, and only when the ntk pass runs', () => {
    const drop = invalidatedPasses(['metrics', 'ntk'], 'final', { probe: true });
    expect(drop).toEqual(['ntk']);
    const kept = keptResults(previous, drop, [0, 10, 20]);
    expect(held(kept.get(0)!)).toEqual(['metrics', 'fourier', 'circuit', 'norms', 'llc']);
    expect(held(kept.get(20)!)).toEqual(['metrics']);
    // without the ntk pass the probe is not re-derived: the file keeps the old one and its results
    expect(invalidatedPasses(['metrics', 'fourier'], 'final', { probe: true })).toEqual([]);
  });

  it('a changed key-frequency source drops fourier and circuit, even when they do not run now', () => {
    for (const passes of [['fourier'], ['metrics']] as PassName[][])
      expect(invalidatedPasses(passes, 'per-checkpoint', { keyFrequencySource: true }).sort()).toEqual([
        'circuit',
        'fourier',
      ]);
    const kept = keptResults(previous, invalidatedPasses(['metrics'], 'final', { keyFrequencySource: true }));
    expect(held(kept.get(10)!)).toEqual(['metrics', 'norms', 'ntk', 'llc']);
  });

  it('a new key set drops fourier and circuit with the final source, nothing with per-checkpoint keys', () => {
    expect(invalidatedPasses(['fourier', 'circuit'], 'final', { keyFrequencies: true }).sort()).toEqual([
      'circuit',
      'fourier',
    ]);
    expect(invalidatedPasses(['fourier', 'circuit'], 'per-checkpoint', { keyFrequencies: true })).toEqual([]);
  });

  it('changed llc settings drop λ̂ only when the llc pass runs', () => {
    expect(invalidatedPasses(['llc'], 'final', { llcSettings: true })).toEqual(['llc']);
    expect(invalidatedPasses(['metrics'], 'final', { llcSettings: true })).toEqual([]);
  });

  it('nothing changed drops nothing', () => {
    expect(invalidatedPasses(ALL_PASSES, 'final', {})).toEqual([]);
    expect(
      invalidatedPasses(ALL_PASSES, 'final', {
        probe: false,
        keyFrequencySource: false,
        keyFrequencies: false,
        llcSettings: false,
      }),
    ).toEqual([]);
  });

  it('keeps only the steps that still have a checkpoint, copies, and leaves the previous results alone', () => {
    const kept = keptResults(previous, ['fourier'], [0, 20]);
    expect([...kept.keys()]).toEqual([0, 20]);
    expect(held(previous[0])).toContain('fourier');
    expect(kept.get(0)).not.toBe(previous[0]);
    expect(kept.get(0)!.metrics).toBe(previous[0].metrics);
  });

  it('compares probes by size, seed and examples', () => {
    const p = { n: 4, seed: 1, indices: [3, 1, 4, 5], projection: [] } as unknown as NonNullable<
      Parameters<typeof sameProbe>[0]
    >;
    expect(sameProbe(p, { ...p, indices: [...p.indices] })).toBe(true);
    expect(sameProbe(p, { ...p, seed: 2 })).toBe(false);
    expect(sameProbe(p, { ...p, indices: [3, 1, 4, 6] })).toBe(false);
    expect(sameProbe(null, p)).toBe(false);
    expect(sameProbe(undefined, null)).toBe(false); // no probe is never "the same": there is nothing the results were computed on
  });
});

describe('planCheckpoints', () => {
  const passes: PassName[] = ['metrics', 'fourier', 'circuit', 'norms', 'ntk'];

  it('plans every selected pass at every checkpoint of a fresh analysis, in the selected order', () => {
    expect(plan(['ntk', 'metrics'], [0, 10], [])).toEqual([
      { step: 0, passes: ['ntk', 'metrics'] },
      { step: 10, passes: ['ntk', 'metrics'] },
    ]);
  });

  it('does not plan a step that already has every pass, and only the missing passes of one that has some', () => {
    const got = plan(
      passes,
      [0, 10, 20],
      [
        result(0, ['metrics', 'fourier', 'circuit', 'norms', 'ntk']),
        result(10, ['metrics', 'norms']),
        result(20, ['llc']),
      ],
    );
    expect(got).toEqual([
      { step: 10, passes: ['fourier', 'circuit', 'ntk'] },
      { step: 20, passes },
    ]);
  });

  it('plans λ̂ only on the llc steps', () => {
    const got = plan(
      ['metrics', 'llc'],
      [0, 10, 20, 30],
      [result(0, ['metrics']), result(10, ['metrics']), result(20, ['metrics', 'llc'])],
      { llcSteps: new Set([10, 20]) },
    );
    expect(got).toEqual([
      { step: 10, passes: ['llc'] },
      { step: 30, passes: ['metrics'] },
    ]);
    expect(plan(['llc'], [0, 10], [], { llcSteps: null })).toEqual([]);
  });

  it('without the initial weights leaves out norms and ntk, and without K0 only ntk', () => {
    expect(plan(passes, [0, 10], [], { initialWeights: false, initialKernel: false })).toEqual([
      { step: 0, passes: ['metrics', 'fourier', 'circuit'] },
      { step: 10, passes: ['metrics', 'fourier', 'circuit'] },
    ]);
    expect(plan(['norms', 'ntk'], [5], [], { initialKernel: false })).toEqual([{ step: 5, passes: ['norms'] }]);
    // a step with everything that can be computed is up to date
    expect(
      plan(['metrics', 'norms', 'ntk'], [5], [result(5, ['metrics'])], { initialWeights: false, initialKernel: false }),
    ).toEqual([]);
  });

  it('without key frequencies leaves out fourier and circuit', () => {
    expect(plan(passes, [7], [], { keyFrequencies: false })).toEqual([
      { step: 7, passes: ['metrics', 'norms', 'ntk'] },
    ]);
  });

  it('never plans the run-level trajectory pass per checkpoint', () => {
    expect(plan(['trajectory'], [0, 10], [])).toEqual([]);
    expect(plan(['trajectory', 'metrics'], [0], [])).toEqual([{ step: 0, passes: ['metrics'] }]);
  });

  it('after a probe change plans the NTK again at every step and nothing else', () => {
    const previous = [0, 10, 20].map((s) => result(s, passes as CheckpointPassName[]));
    const results = keptResults(previous, invalidatedPasses(passes, 'final', { probe: true }), [0, 10, 20]);
    expect(planCheckpoints({ passes, steps: [0, 10, 20], results, needs: PASS_NEEDS, available: everything })).toEqual(
      [0, 10, 20].map((step) => ({ step, passes: ['ntk'] })),
    );
  });
});

describe('the pass registry', () => {
  it('has one entry per per-checkpoint pass, in the order of ALL_PASSES', () => {
    expect(CHECKPOINT_PASSES.map((p) => p.name)).toEqual(ALL_PASSES.filter((p) => p !== 'trajectory'));
    for (const [name, p] of Object.entries(PASSES)) expect(p.name).toBe(name);
  });

  it('agrees with types.ts on which passes are opt-in', () => {
    expect(CHECKPOINT_PASSES.filter((p) => p.optIn).map((p) => p.name)).toEqual(
      OPT_IN_PASSES.filter((p) => p !== 'trajectory'),
    );
  });

  it('declares what each pass needs', () => {
    expect(PASS_NEEDS).toEqual({
      metrics: [],
      fourier: ['grouped-task', 'key-frequencies'],
      circuit: ['grouped-task', 'key-frequencies'],
      norms: ['initial-weights'],
      ntk: ['initial-weights', 'initial-kernel'],
      llc: ['llc-step'],
    });
  });
});
