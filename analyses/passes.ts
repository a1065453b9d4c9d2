/**
 * The registry of per-checkpoint passes of `groklens analyze`: one entry per pass with its name,
 * whether it is opt-in, what it needs (read by the planner, ./plan.ts) and its run function — a
 * pure function of one checkpoint (plus the initial one for norms and the NTK, and the key
 * frequencies). The run-level `trajectory` pass is not here: it reads every checkpoint at once
 * (./trajectory-run.ts), and analyzeRun runs it after the loop.
 */
import type { RunConfig } from '../src/config/types.ts';
import type { Model } from '../src/models/types.ts';
import type { Dataset, Split } from '../src/tasks/index.ts';
import { circuitResult } from './circuit.ts';
import { forwardAll, type ForwardAll } from './forward.ts';
import { fourierResult, neuronFrequencies } from './frequencies.ts';
import { gatherLogits, type GroupGrid } from './group-view.ts';
import { llcResult } from './llc.ts';
import { lossAndAccuracy, metricsResult } from './metrics.ts';
import { normsResult } from './norms.ts';
import { empiricalNtk, ntkResult, type NtkKernels, type NtkProbe, type ntkTargets } from './ntk.ts';
import type { PassNeed, PassNeeds } from './plan.ts';
import type { CheckpointPassName, CheckpointResult, LlcOptions, PassName } from './types.ts';
import { weightsView } from './weights-view.ts';

type Params = Record<string, Float32Array>;

/** One checkpoint and everything its passes may read; what a run lacks is null. */
export interface CheckpointInput {
  model: Model;
  config: RunConfig;
  dataset: Dataset;
  split: Split;
  grid: GroupGrid | null;
  trainMask: Uint8Array | null;
  params: Params;
  keyInfo: { key_frequencies: number[] };
  keyFreqSource: 'final' | 'per-checkpoint';
  prior: CheckpointResult; // what this checkpoint already has
  init: Params | null;
  initFile: string;
  file: string;
  K0: NtkKernels | null;
  probe: NtkProbe | null;
  probeData: { tokens: Int32Array; labels: Int32Array } | null;
  ntkTarget: ReturnType<typeof ntkTargets> | null;
  llcSettings: LlcOptions | null;
}

/** What a pass's run function sees: the checkpoint, the shared forward pass and what ran before it here. */
export interface PassInput extends CheckpointInput {
  fw: ForwardAll | undefined; // undefined: not needed, or it failed (and was reported)
  keys(): number[] | undefined; // the key frequencies to use (undefined: they failed on this checkpoint, reported)
  done: Partial<CheckpointResult>; // results of the passes before this one on this checkpoint
}

export interface CheckpointPass<P extends CheckpointPassName = CheckpointPassName> {
  name: P;
  optIn: boolean; // run only when --passes names it (types.ts OPT_IN_PASSES, which also lists trajectory)
  needs: readonly PassNeed[];
  forward: boolean; // reads the forward pass over the whole dataset (computed once per checkpoint, shared)
  uses?: readonly CheckpointPassName[]; // results of the same checkpoint it reads: computed with it when not held
  /** The result, or undefined when an input is missing (its failure was reported where it was made). Throwing reports the pass as failed. */
  run(c: PassInput): CheckpointResult[P] | undefined;
}

/** The registry, keyed by name so that every per-checkpoint pass has exactly one entry; run in ALL_PASSES order. */
export const PASSES: { readonly [P in CheckpointPassName]: CheckpointPass<P> } = {
  metrics: {
    name: 'metrics',
    optIn: false,
    needs: [],
    forward: true,
    run: (c) => (c.fw ? metricsResult(c.fw.logits, c.fw.classes, c.dataset.labels, c.split) : undefined),
  },
  fourier: {
    name: 'fourier',
    optIn: false,
    needs: ['grouped-task', 'key-frequencies'],
    forward: false, // the weights only; the forward pass just for per-checkpoint key frequencies
    run: (c) => {
      if (!c.grid) return undefined;
      const k = c.keys();
      if (!k) return undefined;
      return fourierResult(weightsView(c.params, c.model, c.config.task), k, {
        reportKeyFrequencies: c.keyFreqSource === 'per-checkpoint',
      });
    },
  },
  circuit: {
    name: 'circuit',
    optIn: false,
    needs: ['grouped-task', 'key-frequencies'],
    forward: true,
    uses: ['metrics'], // the test-to-restricted ratio divides by the test loss (docs/measures.md#test-to-restricted-ratio)
    run: (c) => {
      const { grid, fw } = c;
      if (!grid) return undefined;
      const k = c.keys(); // first, so that a failure to find them is reported even when circuit lacks another input
      const metrics = c.done.metrics ?? c.prior.metrics;
      if (!c.trainMask || !fw || !k || !metrics) return undefined;
      const testLoss = metrics.test_loss;
      const r = circuitResult({
        L: gatherLogits(grid, fw.logits),
        n: grid.n,
        trainMask: c.trainMask,
        keyFrequencies: k,
        testLoss: Number.isFinite(testLoss) ? testLoss : NaN,
      });
      if (grid.outside.length > 0) {
        const o = lossAndAccuracy(fw.logits, fw.classes, c.dataset.labels, grid.outside);
        r.outside_group = { n: grid.outside.length, loss: o.loss, acc: o.acc };
      }
      return r;
    },
  },
  norms: {
    name: 'norms',
    optIn: false,
    needs: ['initial-weights'],
    forward: false,
    run: (c) =>
      c.init ? normsResult(c.params, c.init, c.model.specs, { current: c.file, init: c.initFile }) : undefined,
  },
  ntk: {
    name: 'ntk',
    optIn: false,
    needs: ['initial-weights', 'initial-kernel'],
    forward: false,
    run: (c) => {
      const { K0, probe, probeData, ntkTarget } = c;
      if (!K0 || !probe || !probeData || !ntkTarget) return undefined;
      return ntkResult(empiricalNtk(c.model, c.params, probeData.tokens, probe.projection), K0, ntkTarget);
    },
  },
  llc: {
    name: 'llc',
    optIn: true, // seconds per checkpoint
    needs: ['llc-step'],
    forward: false,
    run: (c) =>
      c.llcSettings
        ? llcResult({
            model: c.model,
            config: c.config,
            dataset: c.dataset,
            split: c.split,
            params: c.params,
            options: c.llcSettings,
          })
        : undefined,
  },
};

/** The entries in the order they run (and their results appear in analysis.json). */
export const CHECKPOINT_PASSES: readonly CheckpointPass[] = (
  ['metrics', 'fourier', 'circuit', 'norms', 'ntk', 'llc'] as const
).map((p) => PASSES[p] as CheckpointPass);

/** What each pass needs, for the planner. */
export const PASS_NEEDS: PassNeeds = Object.fromEntries(CHECKPOINT_PASSES.map((p) => [p.name, p.needs])) as PassNeeds;

/**
 * The wanted passes on one checkpoint. A pass that throws on it is reported through `fail` and
 * left out; the others still run (a pass that needs the forward pass is left out with it, the
 * failure of the forward pass being reported once, under the first wanted pass that reads it).
 */
export function runCheckpointPasses(
  c: CheckpointInput,
  want: readonly CheckpointPassName[],
  fail: (pass: PassName, e: unknown) => void,
): Partial<CheckpointResult> {
  const attempt = <T>(pass: PassName, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      fail(pass, e);
      return undefined;
    }
  };
  // With the 'per-checkpoint' source the key frequencies come from this checkpoint's neurons, so
  // the passes that need them need the forward pass too (docs/measures.md#key-frequencies).
  const needsKeys = (p: CheckpointPassName) => PASSES[p].needs.includes('key-frequencies');
  const perCheckpointKeys = c.keyFreqSource === 'per-checkpoint' && want.some(needsKeys);
  const needForward = want.some((p) => PASSES[p].forward) || perCheckpointKeys;
  const firstForwardPass = want.find((p) => PASSES[p].forward || needsKeys(p)) ?? 'metrics';
  const fw = needForward
    ? attempt(firstForwardPass, () =>
        forwardAll(c.model, c.params, c.dataset.tokens, c.dataset.n, { neurons: perCheckpointKeys }),
      )
    : undefined;
  // Found once, when the first pass that reads them runs (a failure is reported under fourier).
  let keys: { value: number[] | undefined } | null = null;
  const grid = c.grid;
  const keyFrequencies = (): number[] | undefined => {
    if (!keys) {
      keys = { value: c.keyInfo.key_frequencies };
      if (perCheckpointKeys && grid)
        keys.value = fw?.neurons
          ? attempt(
              'fourier',
              () => neuronFrequencies(fw.neurons!, grid.n, fw.width, { rowOfCell: grid.exampleOfCell }).keyFrequencies,
            )
          : undefined;
    }
    return keys.value;
  };
  const out: Partial<CheckpointResult> = {};
  for (const pass of CHECKPOINT_PASSES) {
    const usedHere = CHECKPOINT_PASSES.some(
      (q) => want.includes(q.name) && q.uses?.includes(pass.name) && !c.prior[pass.name],
    );
    if (!want.includes(pass.name) && !usedHere) continue;
    const r = attempt(pass.name, () => pass.run({ ...c, fw, keys: keyFrequencies, done: out }));
    if (r !== undefined) (out as Record<string, unknown>)[pass.name] = r;
  }
  return out;
}
