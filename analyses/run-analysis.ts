/**
 * `groklens analyze`: turn a run directory into analysis.json. Each checkpoint gets the requested
 * passes (metrics, fourier, circuit, norms, ntk, llc; the registry ./passes.ts) — pure functions of
 * that checkpoint (plus the initial one for norms and the NTK, and the key frequencies) — and the
 * run gets a transition summary. Incremental: what analysis.json already holds is kept and only
 * missing (checkpoint, pass) pairs are computed; the file is rewritten atomically every few
 * seconds, so an interrupted analysis loses nothing. A checkpoint that cannot be read is skipped
 * with a warning naming it. What to (re)compute is decided by the pure planner (./plan.ts); this
 * file is the impure loop around it: reading the run and analysis.json, the clock, the saves.
 */
import { describeModel } from '../src/config/describe.ts';
import { basename } from 'node:path';
import type { RunConfig } from '../src/config/types.ts';
import { UserError } from '../src/errors.ts';
import type { Model } from '../src/models/types.ts';
import { loadRun } from '../src/run/open.ts';
import type { RunMeta, RunStore } from '../src/run/store.ts';
import type { Dataset, Split } from '../src/tasks/index.ts';
import { PACKAGE_VERSION } from '../src/version.ts';
import { forwardAll, type ForwardAll } from './forward.ts';
import { neuronFrequencies } from './frequencies.ts';
import { gridTrainMask, groupGrid, groupView, type GroupGrid } from './group-view.ts';
import {
  chooseProbe,
  DEFAULT_PROBE_SIZE,
  empiricalNtk,
  ntkTargets,
  probeBatch,
  type NtkKernels,
  type NtkProbe,
} from './ntk.ts';
import { PASS_NEEDS, runCheckpointPasses } from './passes.ts';
import { applicable, invalidatedPasses, keptResults, planCheckpoints, sameProbe, selectPasses } from './plan.ts';
import { readAnalysisForUpdate, writeAnalysis } from './store.ts';
import { locateTransition, type TransitionPoint } from './transition.ts';
import {
  ANALYSIS_FORMAT_VERSION,
  type AnalysisFile,
  type AttentionMaps,
  type LlcOptions,
  type CheckpointResult,
  type PassName,
} from './types.ts';
import { llcBoundarySteps, llcCheckpointSteps, llcSettingsFor, sameLlcSettings, type LlcOverrides } from './llc.ts';
import { trajectoryOfCheckpoints } from './trajectory-run.ts';
import { updateCheckpointGrids } from './checkpoint-grids.ts';

export interface AnalyzeOptions {
  passes?: PassName[]; // default: every pass that applies to the run, except the opt-in llc and trajectory
  llc?: LlcOverrides; // settings of the llc pass (defaults: analyses/llc.ts LLC_DEFAULTS)
  trajectoryWindow?: number; // checkpoints per sliding window of the trajectory pass (default 10)
  keyFreqs?: 'final' | 'per-checkpoint';
  probeSize?: number;
  probeSeed?: number; // default: the run's training seed
  saveEveryMs?: number; // default 5000
  onProgress?: (p: { done: number; total: number; step: number }) => void;
  onWarning?: (file: string, problem: string) => void;
  onLog?: (line: string) => void;
  shouldStop?: () => boolean;
}

export interface AnalyzeOutcome {
  analysis: AnalysisFile;
  analysed: number; // checkpoints that got at least one pass this time
  upToDate: number; // checkpoints that needed nothing
  stopped: boolean;
}

type Params = Record<string, Float32Array>;

/** Which passes make sense for a run: the Fourier and circuit passes need a cyclic-group task. */
export function applicablePasses(config: RunConfig): PassName[] {
  return applicable(PASS_NEEDS, groupView(config.task).kind !== 'none');
}

export async function analyzeRun(dir: string, opts: AnalyzeOptions = {}): Promise<AnalyzeOutcome> {
  const { store, meta, config, dataset, split, model } = loadRun(dir);
  const { passes, skipped: skippedPasses } = selectPasses(opts.passes, applicablePasses(config));
  const notes: string[] = [...(meta.notes ?? [])]; // e.g. how an older run.json was read
  if (skippedPasses.length)
    notes.push(
      `${skippedPasses.join(' and ')} skipped: they need a modular +, −, × or ÷ task, and this run is ${meta.dataset.description}`,
    );
  const keyFreqSource = opts.keyFreqs ?? 'final';
  const warnings: AnalysisFile['warnings'] = [];
  // Bounded: each warning at most 300 characters, at most MAX_WARNINGS_PER_FILE per file (then one
  // saying more were left out), each reported once.
  const warn = (file: string, problem: string) => {
    const text = problem.length > 300 ? problem.slice(0, 297) + '...' : problem;
    if (warnings.some((w) => w.file === file && w.problem === text)) return;
    const count = warnings.filter((w) => w.file === file).length;
    if (count > MAX_WARNINGS_PER_FILE) return;
    const entry =
      count < MAX_WARNINGS_PER_FILE
        ? text
        : `more than ${MAX_WARNINGS_PER_FILE} warnings about this file; the rest are left out`;
    warnings.push({ file, problem: entry });
    opts.onWarning?.(file, entry);
  };

  // ---- what we already have (a newer analysis.json is refused, a damaged one moved aside) ----
  const previous: AnalysisFile | null = readAnalysisForUpdate(dir, (line) => opts.onLog?.(line));
  const probeSize = opts.probeSize ?? previous?.options.probe?.n ?? DEFAULT_PROBE_SIZE;
  const probeSeed = opts.probeSeed ?? previous?.options.probe?.seed ?? config.training.seed;
  // Re-derived from its seed, never taken from the file: exact (the file holds 7 digits), and a
  // hand-edited probe cannot point outside the dataset.
  const probe: NtkProbe | null = passes.includes('ntk') ? chooseProbe(dataset, split, probeSeed, probeSize) : null;
  // llc: every setting is recorded; results computed with other sampler settings are recomputed
  // (the checkpoint subset only decides which checkpoints without λ̂ get one).
  const llcSettings: LlcOptions | null = passes.includes('llc')
    ? llcSettingsFor(split.train.length, config.training.seed, previous?.options.llc, opts.llc)
    : (previous?.options.llc ?? null);
  const steps = store.checkpointSteps();
  if (steps.length === 0) throw new UserError(`${store.checkpointsDir}: no checkpoints to analyse`);
  // what the previous results were computed with and no longer holds (the planner says which go)
  const stale = previous
    ? invalidatedPasses(passes, keyFreqSource, {
        probe: !sameProbe(previous.options.probe, probe),
        keyFrequencySource: previous.options.key_freq_source !== keyFreqSource,
        llcSettings: !sameLlcSettings(previous.options.llc, llcSettings),
      })
    : [];
  let results = keptResults(previous?.checkpoints ?? [], stale, steps); // only steps that still have a checkpoint (e.g. not those dropped on resume)

  // ---- reading checkpoints; the initial weights ----
  const load = (step: number): Params | null => {
    const file = store.checkpointPath(step);
    try {
      const t = store.readCheckpoint(step, model.specs);
      const problem = unusableWeights(t);
      if (problem) {
        warn(file, `step ${step}: ${problem}; skipped`);
        return null;
      }
      return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.data]));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      warn(file, (e as Error).message.replace(`${file}: `, ''));
      return null;
    }
  };
  const init = steps[0] === 0 ? load(0) : null;
  if (!init && (passes.includes('norms') || passes.includes('ntk'))) {
    const problem =
      steps[0] === 0 ? 'initial checkpoint unusable (see the warnings)' : 'no initial checkpoint (step 0)';
    notes.push(`norms distance from initialisation and the NTK pass need the initial weights: ${problem}; skipped`);
  }
  const initFile = store.checkpointPath(0);
  const probeData = probe ? probeBatch(dataset, probe) : null;
  let K0: NtkKernels | null = null;
  if (init && probeData && probe && passes.includes('ntk')) {
    try {
      K0 = empiricalNtk(model, init, probeData.tokens, probe.projection);
      // the reference every distance divides by must be usable
      if (![...K0.projection, ...K0.first_output].every(Number.isFinite))
        throw new Error('the initial kernel is not finite');
    } catch (e) {
      K0 = null;
      notes.push(
        `the NTK pass needs the initial kernel, which cannot be computed from ${basename(initFile)} (${firstLine(e)}); skipped`,
      );
    }
  }
  const ntkTarget = probeData && probe ? ntkTargets(probeData.labels, probe.projection) : null;

  // ---- key frequencies (neuron rule on the last readable checkpoint) ----
  const grid: GroupGrid | null = passes.includes('fourier') || passes.includes('circuit') ? groupGrid(dataset) : null;
  const trainMask = grid ? gridTrainMask(grid, split.train) : null;
  let keyInfo: Pick<
    AnalysisFile,
    'key_frequencies' | 'key_frequencies_step' | 'neuron_clusters' | 'unclustered_neurons'
  > = {
    key_frequencies: previous?.key_frequencies ?? [],
    key_frequencies_step: previous?.key_frequencies_step ?? null,
    neuron_clusters: previous?.neuron_clusters ?? [],
    unclustered_neurons: previous?.unclustered_neurons ?? 0,
  };
  let attention: AttentionMaps | undefined = previous?.attention;
  const lastStep = steps.at(-1)!;
  if (
    grid &&
    (keyInfo.key_frequencies_step !== lastStep ||
      keyInfo.key_frequencies.length === 0 ||
      (model.attention !== null && attention?.step !== lastStep))
  ) {
    for (let i = steps.length - 1; i >= 0; i--) {
      const params = load(steps[i]);
      if (!params) continue;
      let fw: ForwardAll;
      let nf: ReturnType<typeof neuronFrequencies>;
      try {
        fw = forwardAll(model, params, dataset.tokens, dataset.n, {
          neurons: true,
          attention: model.attention !== null,
        });
        nf = neuronFrequencies(fw.neurons!, grid.n, fw.width, { rowOfCell: grid.exampleOfCell });
      } catch (e) {
        warn(
          store.checkpointPath(steps[i]),
          `step ${steps[i]}: key frequencies cannot be computed (${firstLine(e)}); using an earlier checkpoint`,
        );
        continue;
      }
      const changed = JSON.stringify(nf.keyFrequencies) !== JSON.stringify(keyInfo.key_frequencies);
      keyInfo = {
        key_frequencies: nf.keyFrequencies,
        key_frequencies_step: steps[i],
        neuron_clusters: nf.clusters,
        unclustered_neurons: nf.unclustered,
      };
      // measures that depend on the key set are recomputed with the new one
      const stale = invalidatedPasses(passes, keyFreqSource, { keyFrequencies: changed });
      if (stale.length) results = keptResults(results.values(), stale);
      attention =
        fw.attention && dataset.operands
          ? attentionMaps(fw, dataset, steps[i], model.attention?.layer ?? 0)
          : undefined;
      break;
    }
  }

  // ---- the per-checkpoint passes ----
  const llcSteps =
    llcSettings && passes.includes('llc')
      ? new Set(llcCheckpointSteps(steps, llcSettings.checkpoints, llcBoundaries(store, previous, config)))
      : null;
  const todo = planCheckpoints({
    passes,
    steps,
    results,
    needs: PASS_NEEDS,
    // with the 'final' source, no key set (no readable checkpoint) means no fourier or circuit
    available: {
      initialWeights: !!init,
      initialKernel: !!K0,
      keyFrequencies: keyFreqSource === 'per-checkpoint' || keyInfo.key_frequencies.length > 0,
      llcSteps,
    },
  });
  // ‖θ‖² as training logged it: the transition's V when the norms pass is not run.
  let loggedSqNorm = new Map<number, number>();
  try {
    loggedSqNorm = new Map(store.metrics().map((r) => [r.step, r.sq_norm]));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    warn(
      store.path('metrics.jsonl'),
      `${firstLine(e).replace(`${store.path('metrics.jsonl')}: `, '')}; the logged ‖θ‖² is not used`,
    );
  }
  const divergence = runDivergence(store, warn);
  let trajectory = previous?.trajectory;
  // the explorer's grids (./checkpoint-grids.ts): kept while their checkpoints exist, updated below with the fourier pass
  let checkpointGrids = previous?.checkpoint_grids?.checkpoints.every((c) => steps.includes(c.step))
    ? previous.checkpoint_grids
    : undefined;
  const analysis = (): AnalysisFile => {
    const a = assemble(
      meta,
      config,
      passes,
      keyFreqSource,
      probe,
      grid,
      keyInfo,
      attention,
      results,
      warnings,
      notes,
      loggedSqNorm,
      divergence,
    );
    return {
      ...a,
      options: { ...a.options, ...(llcSettings ? { llc: llcSettings } : {}) },
      ...(trajectory ? { trajectory } : {}),
      ...(checkpointGrids ? { checkpoint_grids: checkpointGrids } : {}),
    };
  };
  let lastSave = performance.now();
  let done = 0;
  let stopped = false;
  for (const { step, passes: want } of todo) {
    if (opts.shouldStop?.()) {
      stopped = true;
      break;
    }
    const params = step === 0 && init ? init : load(step);
    if (params) {
      const file = store.checkpointPath(step);
      const r: CheckpointResult = results.get(step) ?? { step, file: basename(file) };
      const fail = (pass: PassName, e: unknown) => warn(file, `step ${step}, ${pass} pass: ${firstLine(e)}; skipped`);
      Object.assign(
        r,
        runCheckpointPasses(
          {
            model,
            config,
            dataset,
            split,
            grid,
            trainMask,
            params,
            keyInfo,
            keyFreqSource,
            prior: r,
            init,
            initFile,
            file,
            K0,
            probe,
            probeData,
            ntkTarget,
            llcSettings,
          },
          want,
          fail,
        ),
      );
      results.set(step, r);
    }
    done++;
    opts.onProgress?.({ done, total: todo.length, step });
    if (performance.now() - lastSave > (opts.saveEveryMs ?? 5000)) {
      writeAnalysis(dir, analysis());
      lastSave = performance.now();
    }
    await new Promise<void>((res) => setImmediate(res)); // let Ctrl-C and timers through
  }
  // ---- the run-level trajectory (recomputed when the checkpoints or the window changed) ----
  if (passes.includes('trajectory') && !stopped) {
    const t = trajectory;
    const had = t ? [...t.steps, ...t.excluded.map((e) => e.step)].sort((x, y) => x - y) : null;
    if (
      !t ||
      JSON.stringify(had) !== JSON.stringify(steps) ||
      (opts.trajectoryWindow !== undefined && opts.trajectoryWindow !== t.window)
    ) {
      try {
        trajectory = trajectoryOfCheckpoints(
          steps.map((s) => ({ step: s, file: store.checkpointPath(s) })),
          model.specs,
          { window: opts.trajectoryWindow ?? t?.window },
        );
        for (const e of trajectory.excluded)
          warn(store.checkpointPath(e.step), `step ${e.step}, trajectory pass: ${e.problem}; left out`);
      } catch (e) {
        warn(store.checkpointsDir, `trajectory pass: ${firstLine(e)}; skipped`);
      }
    }
  }
  // ---- the explorer's grids over (a, b) at a subset of checkpoints ----
  if (grid && passes.includes('fourier') && !stopped) {
    const s = analysis().summary;
    checkpointGrids =
      updateCheckpointGrids({
        model,
        dataset,
        grid,
        steps,
        keyFrequencies: keyInfo.key_frequencies,
        keyStep: keyInfo.key_frequencies_step,
        previous: checkpointGrids,
        load,
        marks: {
          t_mem: s.t_mem,
          t_grok_95: s.t_grok_95,
          t_grok_99: s.t_grok_99,
          boundaries: s.boundaries.map((b) => b.step),
        },
        warn: (step, problem) =>
          warn(store.checkpointPath(step), `step ${step}, checkpoint grids: ${problem}; left out`),
      }) ?? checkpointGrids;
  }
  const out = analysis();
  writeAnalysis(dir, out);
  return { analysis: out, analysed: done, upToDate: steps.length - todo.length, stopped };
}

/**
 * Weights no analysis can use, or null. Beyond |w| = 1e6 the float32 forward pass overflows long
 * before the logits (no trained model of this kind comes near); non-finite values mean a diverged
 * or damaged file.
 */
export const MAX_USABLE_WEIGHT = 1e6;

/** Warnings kept (and printed) per file; a damaged checkpoint says what is wrong once, not 100k times. */
export const MAX_WARNINGS_PER_FILE = 10;
function unusableWeights(t: Record<string, { data: Float32Array }>): string | null {
  for (const [name, { data }] of Object.entries(t)) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isFinite(v)) return `weights not finite (${name}[${i}] = ${v})`;
      if (Math.abs(v) > MAX_USABLE_WEIGHT)
        return `weights out of range (${name}[${i}] = ${v}, beyond ±${MAX_USABLE_WEIGHT})`;
    }
  }
  return null;
}

/** The first line of an error's message, at most 300 characters (a warning, not a dump). */
function firstLine(e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return m.length > 300 ? m.slice(0, 297) + '...' : m;
}

/**
 * Attention of the last position ('=') to a and to b, per head of the last layer, as p × p maps
 * indexed [a][b] by the operands (pairs outside the task, e.g. b = 0 for ÷, stay 0).
 */
function attentionMaps(fw: ForwardAll, dataset: Dataset, step: number, layer: number): AttentionMaps {
  const ops = dataset.operands!;
  const p = ops.size;
  const T = fw.attention!.length / (fw.n * fw.heads);
  const heads: AttentionMaps['heads'] = Array.from({ length: fw.heads }, (_, head) => ({
    layer,
    head,
    to_a: Array.from({ length: p }, () => new Array<number>(p).fill(0)),
    to_b: Array.from({ length: p }, () => new Array<number>(p).fill(0)),
  }));
  for (let e = 0; e < fw.n; e++) {
    for (let h = 0; h < fw.heads; h++) {
      const o = (e * fw.heads + h) * T;
      heads[h].to_a[ops.a[e]][ops.b[e]] = round4(fw.attention![o]);
      heads[h].to_b[ops.a[e]][ops.b[e]] = round4(fw.attention![o + 1]);
    }
  }
  return { step, p, heads };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

function assemble(
  meta: RunMeta,
  config: RunConfig,
  passes: PassName[],
  keyFreqSource: 'final' | 'per-checkpoint',
  probe: NtkProbe | null,
  grid: GroupGrid | null,
  keyInfo: Pick<AnalysisFile, 'key_frequencies' | 'key_frequencies_step' | 'neuron_clusters' | 'unclustered_neurons'>,
  attention: AttentionMaps | undefined,
  results: Map<number, CheckpointResult>,
  warnings: AnalysisFile['warnings'],
  notes: string[],
  loggedSqNorm: Map<number, number>,
  divergence: AnalysisFile['run']['divergence'] | null,
): AnalysisFile {
  const checkpoints = [...results.values()].sort((a, b) => a.step - b.step);
  const o = config.optimizer;
  const series: TransitionPoint[] = checkpoints
    .filter((c) => c.metrics)
    .map((c) => ({
      step: c.step,
      train_acc: c.metrics!.train_acc,
      test_acc: c.metrics!.test_acc,
      train_loss: c.metrics!.train_loss,
      test_loss: c.metrics!.test_loss,
      sq_norm: c.norms?.sq_norm_total ?? loggedSqNorm.get(c.step) ?? NaN,
      excluded_loss: c.circuit?.excluded_loss ?? null,
      restricted_loss: c.circuit?.restricted_loss ?? null,
      gini_embed: c.fourier?.gini_embed ?? null,
    }))
    // a point the transition cannot use (a metric that was not finite, read back as null) is left out
    .filter((p) =>
      [p.sq_norm, p.train_acc, p.test_acc, p.train_loss, p.test_loss].every(
        (v) => typeof v === 'number' && Number.isFinite(v),
      ),
    );
  const summary =
    series.length > 0
      ? locateTransition(series, { lr: o.lr, weightDecay: o.weight_decay })
      : emptySummary('no checkpoint has the metrics pass yet');
  summary.notes = [...notes, ...summary.notes];
  return {
    format: 'groklens-analysis',
    format_version: ANALYSIS_FORMAT_VERSION,
    groklens_version: PACKAGE_VERSION,
    run: {
      name: meta.name,
      task: meta.dataset.description,
      model: describeModel(config.model),
      n_params: meta.n_params,
      n_train: meta.dataset.n_train,
      n_test: meta.dataset.n_test,
      lr: o.lr,
      weight_decay: o.weight_decay,
      optimizer: o.kind,
      seed: config.training.seed,
      backend: meta.backend.name,
      steps: config.training.steps,
      ...(divergence ? { divergence } : {}),
    },
    options: { passes, key_freq_source: keyFreqSource, probe },
    group: grid?.view ?? groupView(config.task),
    ...keyInfo,
    ...(attention ? { attention } : {}),
    checkpoints,
    summary,
    warnings,
    updated_at: new Date().toISOString(),
  };
}

/** The phase boundaries the llc checkpoint subset is refined around (analyses/llc.ts llcBoundarySteps). */
function llcBoundaries(store: RunStore, previous: AnalysisFile | null, config: RunConfig): number[] {
  let rows: ReturnType<RunStore['metrics']> = [];
  if (!previous?.summary.boundaries.length) {
    try {
      rows = store.metrics();
    } catch (e) {
      if (!(e instanceof UserError)) throw e; // reported where the logged ‖θ‖² is read
    }
  }
  return llcBoundarySteps(previous?.summary, rows, {
    lr: config.optimizer.lr,
    weightDecay: config.optimizer.weight_decay,
  });
}

/** status.json's divergence record, if training found one (an unreadable status counts as none, with a warning). */
function runDivergence(
  store: RunStore,
  warn: (file: string, problem: string) => void,
): AnalysisFile['run']['divergence'] | null {
  const file = store.path('status.json');
  try {
    const d = store.status().divergence;
    if (!d) return null;
    return { step: d.step, what: d.what, detail: d.detail, last_finite_checkpoint: d.last_finite_checkpoint };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    warn(file, `${firstLine(e).replace(`${file}: `, '')}; read as a run that did not diverge`);
    return null;
  }
}

function emptySummary(note: string): AnalysisFile['summary'] {
  return {
    t_mem: null,
    t_grok_95: null,
    t_grok_99: null,
    delay_95: null,
    delay_99: null,
    phases: [],
    boundaries: [],
    contraction: null,
    notes: [note],
  };
}
