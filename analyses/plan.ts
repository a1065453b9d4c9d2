/**
 * The planner of `groklens analyze` (./run-analysis.ts): which passes run, which results already in
 * analysis.json no longer hold, and which (checkpoint, pass) pairs are still missing. Pure
 * functions of plain data — no file, no model, no clock — so that every decision analyze makes about
 * what to (re)compute can be tested without a run. What each pass needs is declared by the pass
 * registry (./passes.ts); what is available (the initial weights, the initial kernel K0, the key
 * frequencies, the llc checkpoint subset) is found by analyzeRun and handed in here.
 */
import { UserError } from '../src/errors.ts';
import {
  ALL_PASSES,
  OPT_IN_PASSES,
  type AnalysisFile,
  type CheckpointPassName,
  type CheckpointResult,
  type PassName,
} from './types.ts';

type NtkProbe = NonNullable<AnalysisFile['options']['probe']>;

/**
 * What a per-checkpoint pass needs besides its checkpoint. 'grouped-task' is a property of the run
 * (decided once, by applicablePasses); the others are found while analysing: the initial weights
 * (step 0, readable), the initial kernel K0 (docs/measures.md#empirical-ntk), the key frequencies (with the
 * 'final' source, from the last readable checkpoint; docs/measures.md#key-frequencies) and
 * 'llc-step', membership of the llc checkpoint subset (analyses/llc.ts llcCheckpointSteps).
 */
export type PassNeed = 'grouped-task' | 'initial-weights' | 'initial-kernel' | 'key-frequencies' | 'llc-step';

/** Every per-checkpoint pass's needs (the registry's, ./passes.ts PASS_NEEDS). */
export type PassNeeds = Readonly<Record<CheckpointPassName, readonly PassNeed[]>>;

/** What this analysis has, for the needs decided per checkpoint. */
export interface Availability {
  initialWeights: boolean;
  initialKernel: boolean;
  keyFrequencies: boolean; // always true with the 'per-checkpoint' source: each checkpoint finds its own
  llcSteps: ReadonlySet<number> | null; // null: the llc pass does not run
}

const isCheckpointPass = (p: PassName): p is CheckpointPassName => p !== 'trajectory';

/** The passes that make sense for a run: without a cyclic-group task, none that needs one (trajectory needs nothing). */
export function applicable(needs: PassNeeds, groupedTask: boolean): PassName[] {
  return ALL_PASSES.filter((p) => groupedTask || !isCheckpointPass(p) || !needs[p].includes('grouped-task'));
}

/** The pass names as typed, or a UserError naming the first unknown one (the CLI's `--passes` and the API share it). */
export function checkPassNames(names: readonly string[]): PassName[] {
  for (const p of names)
    if (!ALL_PASSES.includes(p as PassName))
      throw new UserError(`--passes: unknown pass '${p}' (passes: ${ALL_PASSES.join(', ')})`);
  return names as PassName[];
}

/**
 * The passes to run, in the order asked for: `requested` (--passes) or, by default, every
 * applicable pass that is not opt-in. `skipped` are those left out because they do not apply
 * (of the requested ones, or of the default set had the run applied to all), for the note saying so.
 */
export function selectPasses(
  requested: readonly string[] | undefined,
  applicablePasses: readonly PassName[],
): { passes: PassName[]; skipped: PassName[] } {
  const asked = requested === undefined ? undefined : checkPassNames(requested);
  const wanted = asked ?? applicablePasses.filter((p) => !OPT_IN_PASSES.includes(p));
  const skipped = (asked ?? ALL_PASSES.filter((p) => !OPT_IN_PASSES.includes(p))).filter(
    (p) => !applicablePasses.includes(p),
  );
  return { passes: wanted.filter((p) => applicablePasses.includes(p)), skipped };
}

/** Whether two NTK probes are the same examples (the file's and the one re-derived from its seed). */
export function sameProbe(a: NtkProbe | null | undefined, b: NtkProbe | null | undefined): boolean {
  return !!a && !!b && a.n === b.n && a.seed === b.seed && JSON.stringify(a.indices) === JSON.stringify(b.indices);
}

/** What differs from the analysis the previous results were computed in. */
export interface Changes {
  probe?: boolean; // the NTK probe (its size, seed or examples)
  keyFrequencySource?: boolean; // --key-freqs 'final' ↔ 'per-checkpoint'
  keyFrequencies?: boolean; // the key set found on the last readable checkpoint
  llcSettings?: boolean; // a sampler setting of the llc pass (not the checkpoint subset)
}

/**
 * The per-checkpoint results that no longer hold. The NTK distances are relative to K0 on the
 * probe, the Fourier and circuit measures are computed on the key frequencies, λ̂ depends on every
 * sampler setting (docs/measures.md#kernel-distance, #key-frequencies, #llc-estimator). A probe or llc change counts only
 * when that pass runs: otherwise nothing recomputed the probe or the settings, and the file keeps
 * the old ones with their results. A new key set matters only with the 'final' source (with
 * 'per-checkpoint' each checkpoint used its own).
 */
export function invalidatedPasses(
  passes: readonly PassName[],
  keyFreqSource: 'final' | 'per-checkpoint',
  changed: Changes,
): CheckpointPassName[] {
  const drop = new Set<CheckpointPassName>();
  if (changed.probe && passes.includes('ntk')) drop.add('ntk');
  if (changed.keyFrequencySource || (changed.keyFrequencies && keyFreqSource === 'final'))
    (drop.add('fourier'), drop.add('circuit'));
  if (changed.llcSettings && passes.includes('llc')) drop.add('llc');
  return [...drop];
}

/**
 * The results worth keeping, by step: copies of `previous` without the `drop` passes, and only at
 * the `steps` that still have a checkpoint (e.g. not those dropped on resume). Key order of each
 * result is kept (analysis.json stays byte-stable across runs that change nothing).
 */
export function keptResults(
  previous: Iterable<CheckpointResult>,
  drop: readonly CheckpointPassName[],
  steps: readonly number[] | null = null,
): Map<number, CheckpointResult> {
  const out = new Map<number, CheckpointResult>();
  for (const c of previous) {
    if (steps && !steps.includes(c.step)) continue;
    const r = { ...c };
    for (const p of drop) delete r[p];
    out.set(c.step, r);
  }
  return out;
}

/** One checkpoint's missing passes, in the order they were selected. */
export interface PlannedCheckpoint {
  step: number;
  passes: CheckpointPassName[];
}

/**
 * The (checkpoint, pass) pairs still to compute: at each step, the selected per-checkpoint passes
 * whose result is not held and whose needs are met. A step that needs nothing is left out (it is
 * up to date); a pass whose need is not met is left out everywhere (analyzeRun says why in a note).
 */
export function planCheckpoints(p: {
  passes: readonly PassName[];
  steps: readonly number[];
  results: ReadonlyMap<number, Partial<Record<CheckpointPassName, unknown>>>;
  needs: PassNeeds;
  available: Availability;
}): PlannedCheckpoint[] {
  const { available: a } = p;
  const met = (need: PassNeed, step: number): boolean => {
    switch (need) {
      case 'grouped-task':
        return true; // the selected passes already apply to the run (applicable)
      case 'initial-weights':
        return a.initialWeights;
      case 'initial-kernel':
        return a.initialKernel;
      case 'key-frequencies':
        return a.keyFrequencies;
      case 'llc-step':
        return !!a.llcSteps?.has(step);
    }
  };
  const plan: PlannedCheckpoint[] = [];
  for (const step of p.steps) {
    const have = p.results.get(step);
    const passes = p.passes
      .filter(isCheckpointPass)
      .filter((q) => have?.[q] === undefined && p.needs[q].every((n) => met(n, step)));
    if (passes.length > 0) plan.push({ step, passes });
  }
  return plan;
}
