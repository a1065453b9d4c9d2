/**
 * Setting up a run — fresh or resumed — from a resolved config or a run directory, and running it
 * to completion. Shared by `groklens train`, `groklens demo` and (later) sweeps.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BackendInfo } from '../backend/index.ts';
import { blasChange, type BlasRecord } from '../backend/blas.ts';
import { configDiff, validateConfig } from '../config/load.ts';
import type { RunConfig } from '../config/types.ts';
import { FormatError, UserError } from '../errors.ts';
import { createModel, countParams, trainedSpecs, type Model } from '../models/index.ts';
import { createOptimizer } from '../optim/index.ts';
import { Rng } from '../rng.ts';
import { buildDataset, describeTask, type Dataset, type Split } from '../tasks/index.ts';
import { makeSplit } from '../tasks/split.ts';
import { PACKAGE_VERSION, RUN_FORMAT_VERSION } from '../version.ts';
import { checkRunFits } from './memory.ts';
import { loadRun, withShapes, type LoadedRun } from './open.ts';
import { RunStore, type MetricsRow, type NamedTensors, type ResumeState, type RunMeta } from './store.ts';
import { train, type OnDivergence, type Progress, type TrainArgs, type TrainResult } from './train.ts';

export interface SessionHooks {
  onProgress?: (p: Progress) => void;
  shouldStop?: () => boolean;
  log?: (line: string) => void;
}

export interface SessionResult extends TrainResult {
  dir: string;
  name: string;
  resumedFrom: number | null;
}

const now = () => performance.now() / 1000;

/** Create runs/NAME from a config and train it. */
export async function startRun(opts: {
  config: RunConfig;
  name: string;
  runsDir: string;
  preset: string | null;
  backend: BackendInfo;
  hooks?: SessionHooks;
  onDivergence?: OnDivergence;
}): Promise<SessionResult> {
  const { config, backend } = opts;
  if (!/^[A-Za-z0-9._+=-][A-Za-z0-9._+=@-]*$/.test(opts.name) || opts.name === '.' || opts.name === '..') {
    throw new UserError(`--name: "${opts.name}" is not a usable directory name (letters, digits, . _ - + = @)`);
  }
  checkRunFits(config); // before the dataset exists: a run that cannot fit is refused at once
  const dataset = buildDataset(config.task);
  const split = makeSplit(dataset.n, config.split);
  const model = createModel(config.model, {
    d_vocab: dataset.d_vocab,
    n_ctx: dataset.n_ctx,
    d_vocab_out: dataset.d_vocab_out,
  });
  const init = model.init(Rng.derive(config.training.seed, 'init'));
  const params = withShapes(model, init);
  const meta: RunMeta = {
    format: 'groklens-run',
    format_version: RUN_FORMAT_VERSION,
    groklens_version: PACKAGE_VERSION,
    name: opts.name,
    created_at: new Date().toISOString(),
    preset: opts.preset,
    backend: {
      name: backend.name,
      requested: backend.requested,
      tfjs_version: backend.tfjsVersion,
      simd: backend.simd,
      threads: backend.threads,
      ...(backend.blas ? { blas: backend.blas } : {}),
    },
    config,
    dataset: {
      description: describeTask(config.task),
      n: dataset.n,
      n_ctx: dataset.n_ctx,
      d_vocab: dataset.d_vocab,
      d_vocab_out: dataset.d_vocab_out,
      n_train: split.train.length,
      n_test: split.test.length,
    },
    params: model.specs,
    n_params: countParams(trainedSpecs(model.specs)),
  };
  const dir = join(opts.runsDir, opts.name);
  const store = RunStore.create(dir, meta, split, {
    train_fraction: config.split.train_fraction,
    seed: config.split.seed,
    mode: config.split.mode,
  });
  opts.hooks?.log?.(
    `run ${dir}: ${meta.dataset.description}, ${config.model.kind} with ${meta.n_params.toLocaleString('en')} parameters, ${split.train.length} train / ${split.test.length} test`,
  );
  const result = await trainSession(
    { store, config, model, dataset, split },
    { params, startStep: 0, priorMetrics: [], wallTimeOffset: 0 },
    opts,
  );
  return { ...result, dir, name: opts.name, resumedFrom: null };
}

/**
 * Train with a fresh optimiser (loaded with `optimizerState` when resuming); a failure is
 * recorded in status.json before it propagates. Shared by starting, resuming and restarting.
 */
async function trainSession(
  run: Pick<LoadedRun, 'store' | 'config' | 'model' | 'dataset' | 'split'>,
  from: Pick<TrainArgs, 'params' | 'startStep' | 'priorMetrics' | 'wallTimeOffset' | 'priorDivergence'> & {
    optimizerState?: ResumeState['optimizer'];
  },
  opts: { hooks?: SessionHooks; onDivergence?: OnDivergence },
): Promise<TrainResult> {
  const optimizer = createOptimizer(run.config.optimizer, trainedSpecs(run.model.specs));
  if (from.optimizerState) {
    try {
      optimizer.setState(from.optimizerState); // a bad resume state is the file's fault, not the run's
    } catch (e) {
      optimizer.dispose();
      throw e;
    }
  }
  try {
    return await train({
      ...run,
      optimizer,
      params: from.params,
      startStep: from.startStep,
      priorMetrics: from.priorMetrics,
      wallTimeOffset: from.wallTimeOffset,
      priorDivergence: from.priorDivergence,
      onProgress: opts.hooks?.onProgress,
      shouldStop: opts.hooks?.shouldStop,
      now,
      onDivergence: opts.onDivergence,
    });
  } catch (e) {
    markFailed(run.store, e);
    throw e;
  } finally {
    optimizer.dispose();
  }
}

/** Continue runs/NAME from its resume point. A finished run is reported, not retrained. */
export async function resumeRun(opts: {
  dir: string;
  backend: BackendInfo;
  hooks?: SessionHooks;
  onDivergence?: OnDivergence;
}): Promise<SessionResult> {
  const { store, meta, config, dataset, split, model } = loadRun(opts.dir);
  if (meta.imported_from) {
    throw new UserError(
      `${opts.dir}: this run was imported (groklens import, layout ${meta.imported_from.layout}) and has no optimiser state; it cannot be resumed`,
    );
  }
  if (!existsSync(store.path('resume.safetensors')))
    return restartRun(opts, { store, meta, config, dataset, split, model });
  const status = store.status();
  if (status.state === 'finished' || (status.state === 'diverged' && status.final_step !== null)) {
    throw new UserError(
      `${opts.dir}: this run already ${status.state === 'finished' ? 'finished' : 'trained through its divergence to the end'} at step ${status.final_step}; nothing to resume`,
    );
  }
  const d = status.divergence;
  if (d && d.on_divergence === 'stop' && opts.onDivergence !== 'continue') {
    throw new UserError(
      `${opts.dir}: this run diverged at step ${d.step} (${d.detail}); resuming from step ${status.step} would replay the same updates and diverge again. ` +
        `Start a new run with a smaller optimizer.lr (or a longer optimizer.warmup_steps), or resume with --on-divergence continue to train on through it`,
    );
  }
  if (meta.backend.name !== opts.backend.name) {
    opts.hooks?.log?.(
      `warning: ${opts.dir} was trained on backend '${meta.backend.name}', resuming on '${opts.backend.name}': results will not be bit-identical to an uninterrupted run`,
    );
  }
  const blasChanged = blasChange((meta.backend as { blas?: BlasRecord }).blas, opts.backend.blas);
  if (blasChanged)
    opts.hooks?.log?.(`warning: ${blasChanged}: results will not be bit-identical to an uninterrupted run`);
  for (const note of meta.notes ?? []) opts.hooks?.log?.(`note: ${note}`);
  const resume = store.readResume(model.specs);
  checkConfigUnchanged(opts.dir, store.path('run.json'), resume.config_json, config);
  const removed = store.removeCheckpointsAfter(resume.step);
  const prior = store.truncateMetrics(resume.step);
  opts.hooks?.log?.(
    `resuming ${opts.dir} from step ${resume.step}` +
      (removed.length ? ` (dropped ${removed.length} checkpoint(s) written after it)` : ''),
  );
  const result = await trainSession(
    { store, config, model, dataset, split },
    {
      params: resume.params,
      startStep: resume.step,
      priorMetrics: prior as MetricsRow[],
      wallTimeOffset: resume.wall_time,
      optimizerState: resume.optimizer,
      priorDivergence: d && d.on_divergence === 'continue' ? d : null,
    },
    opts,
  );
  return { ...result, dir: opts.dir, name: meta.name, resumedFrom: resume.step };
}

/**
 * A run stopped before its first resume point (killed in its first moments, or while being
 * created) starts again from step 0: the initial weights come from the seed, so this is the run
 * it would have been. Checkpoints beyond step 0 without a resume point are never deleted for it:
 * the message says what to remove.
 */
async function restartRun(
  opts: { dir: string; backend: BackendInfo; hooks?: SessionHooks; onDivergence?: OnDivergence },
  run: LoadedRun,
): Promise<SessionResult> {
  const { store, meta, config, dataset, split, model } = run;
  const later = store.checkpointSteps().filter((s) => s > 0);
  if (later.length > 0) {
    throw new UserError(
      `${opts.dir}: resume.safetensors is missing but checkpoints up to step ${later.at(-1)} exist, so the run cannot continue; ` +
        `to train it again from step 0, delete ${store.checkpointsDir}, ${store.path('metrics.jsonl')} and ${store.path('status.json')}, then run this command again`,
    );
  }
  opts.hooks?.log?.(
    `${opts.dir}: no resume point yet (the run stopped before its first checkpoint was saved): starting again from step 0`,
  );
  store.removeCheckpointsAfter(-1);
  mkdirSync(store.checkpointsDir, { recursive: true });
  if (existsSync(store.path('metrics.jsonl'))) store.truncateMetrics(-1); // appending creates it otherwise
  store.writeStatus({
    format_version: RUN_FORMAT_VERSION,
    state: 'running',
    step: 0,
    final_step: null,
    checkpoints: [],
    updated_at: new Date().toISOString(),
  });
  const params = withShapes(model, model.init(Rng.derive(config.training.seed, 'init')));
  const result = await trainSession(
    { store, config, model, dataset, split },
    { params, startStep: 0, priorMetrics: [], wallTimeOffset: 0 },
    opts,
  );
  return { ...result, dir: opts.dir, name: meta.name, resumedFrom: 0 };
}

/**
 * run.json is written once; the resume state records the config it was trained with. A run.json
 * edited since (say optimizer.lr or training.seed) is refused: resuming would splice two runs.
 */
function checkConfigUnchanged(dir: string, runJson: string, recorded: string | undefined, config: RunConfig): void {
  if (recorded === undefined) return; // written before groklens 0.2.0
  let trained: RunConfig;
  try {
    trained = JSON.parse(recorded) as RunConfig;
  } catch {
    throw new FormatError(join(dir, 'resume.safetensors'), 'metadata config: not valid JSON');
  }
  const changes = configDiff(trained, config);
  if (changes.length === 0) return;
  const shown = changes
    .slice(0, 5)
    .map((c) => `${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
    .join(', ');
  throw new UserError(
    `${runJson}: the config was edited after training started (${shown}${changes.length > 5 ? `, and ${changes.length - 5} more` : ''}); ` +
      `resuming would continue a different run. Undo the edit, or start a new run with the new settings`,
  );
}

function markFailed(store: RunStore, e: unknown): void {
  try {
    store.writeStatus({
      ...store.status(),
      state: 'failed',
      error: (e as Error).message ?? String(e),
      updated_at: new Date().toISOString(),
    });
  } catch {
    // the original error matters more than a failure to record it
  }
}

/** Default run name: what it came from plus a UTC timestamp, e.g. nanda-2023-20261122-071501. */
export function defaultRunName(preset: string | undefined, file: string | undefined, date: Date): string {
  const base = preset ?? (file ? basename(file).replace(/\.json$/i, '') : 'run');
  const t = date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${base}-${t}`;
}
