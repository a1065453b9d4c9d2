/**
 * An ImportPlan → an ordinary run directory (README "The run directory"): checkpoints first, each
 * converted and written before the next is read, then run.json (with `imported_from`), split.json,
 * metrics.jsonl (the source's losses, rows marked "imported": true) and status.json 'finished'.
 * run.json appears last, so an interrupted import never leaves a directory that reads as a run.
 * No resume.safetensors: an imported run cannot be resumed (train --resume says so).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateConfig, parseSet } from '../config/load.ts';
import { DEFAULTS } from '../config/schema.ts';
import type { RunConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { countParams, createModel, trainedSpecs } from '../models/index.ts';
import { RunStore, type RunMeta } from '../run/store.ts';
import { buildDataset, describeTask } from '../tasks/index.ts';
import type { Split } from '../tasks/types.ts';
import { makeSplit } from '../tasks/split.ts';
import { PACKAGE_VERSION, RUN_FORMAT_VERSION } from '../version.ts';
import { expandSources } from './tl-files.ts';
import type { ImportPlan, ImportedMetricsRow } from './types.ts';

export interface ImportedFrom {
  sources: { file: string; sha256: string; bytes: number }[];
  layout: string;
  conversions: string[];
  imported_at: string;
  notes: string[];
}

export interface WriteResult {
  dir: string;
  meta: RunMeta;
  steps: number[];
}

export async function writeImportedRun(
  plan: ImportPlan,
  opts: { name: string; runsDir: string; sources: string[]; sets?: string[]; log?: (line: string) => void },
): Promise<WriteResult> {
  if (!/^[A-Za-z0-9._+=-][A-Za-z0-9._+=@-]*$/.test(opts.name) || opts.name === '.' || opts.name === '..') {
    throw new UserError(`--name: "${opts.name}" is not a usable directory name (letters, digits, . _ - + = @)`);
  }
  const dir = join(opts.runsDir, opts.name);
  if (existsSync(join(dir, 'run.json')))
    throw new UserError(`${dir}: a run already exists here; choose another --name`);
  const notes = [...plan.notes];
  const task = { kind: 'modular' as const, op: plan.task.op, p: plan.task.p };
  const dataset = buildDataset(task, 'import');
  const { split, splitInfo } = buildSplit(plan, dataset.n);

  // Checkpoints, one at a time. Shapes are checked against our transformer of the plan's sizes.
  const probe = createModel(
    { ...plan.model, attn_bias: true },
    { d_vocab: dataset.d_vocab, n_ctx: dataset.n_ctx, d_vocab_out: dataset.d_vocab_out },
  );
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  const store = new RunStore(dir);
  let biasNonzero = false;
  const steps: number[] = [];
  const sqNorms = new Map<number, number>(); // ‖θ‖² of each checkpoint, for the rows at checkpoint steps
  for await (const { step, params } of plan.checkpoints()) {
    let sq = 0;
    for (const t of Object.values(params)) for (const x of t.data) sq += x * x;
    sqNorms.set(step, sq);
    for (const { name, shape } of probe.specs) {
      const t = params[name];
      if (!t || t.shape.join() !== shape.join()) {
        throw new UserError(
          `${plan.layout} checkpoint of step ${step}: ${name} has shape [${t?.shape ?? 'none'}], but the first checkpoint's model needs [${shape}]`,
        );
      }
      if (/\.attn\.b_[QKVO]$/.test(name) && t.data.some((x) => x !== 0)) biasNonzero = true;
    }
    store.writeCheckpoint(step, params, probe.specs);
    steps.push(step);
    opts.log?.(`step ${step}`);
  }
  plan.close();
  plan.conversions.add('metrics: sq_norm at each checkpoint step is ‖θ‖² of the imported weights, computed on import');
  if (steps.length === 0) throw new UserError(`${opts.sources[0]}: no checkpoints to import`);

  const model = { ...plan.model, attn_bias: biasNonzero };
  if (biasNonzero)
    notes.push('some attention biases are nonzero: model.attn_bias = true (they are used by the forward pass)');
  const config = buildConfig(plan, model, task, split, steps, notes, opts.sets ?? []);
  const net = createModel(config.model, {
    d_vocab: dataset.d_vocab,
    n_ctx: dataset.n_ctx,
    d_vocab_out: dataset.d_vocab_out,
  });
  const imported: ImportedFrom = {
    sources: await Promise.all(
      expandSources(opts.sources).map(async (f) => ({
        file: resolve(f),
        sha256: await sha256(f),
        bytes: statSync(f).size,
      })),
    ),
    layout: plan.layout,
    conversions: [...plan.conversions],
    imported_at: new Date().toISOString(),
    notes,
  };
  const meta: RunMeta = {
    format: 'groklens-run',
    format_version: RUN_FORMAT_VERSION,
    groklens_version: PACKAGE_VERSION,
    name: opts.name,
    created_at: imported.imported_at,
    preset: null,
    backend: { name: 'imported', requested: 'none', tfjs_version: 'none' },
    config,
    dataset: {
      description: describeTask(task),
      n: dataset.n,
      n_ctx: dataset.n_ctx,
      d_vocab: dataset.d_vocab,
      d_vocab_out: dataset.d_vocab_out,
      n_train: split.train.length,
      n_test: split.test.length,
    },
    params: net.specs,
    n_params: countParams(trainedSpecs(net.specs)),
    imported_from: imported,
  };
  RunStore.create(dir, meta, split, splitInfo);
  writeFileAtomic(
    store.path('metrics.jsonl'),
    metricsRows(plan, sqNorms)
      .map((r) => JSON.stringify(r) + '\n')
      .join(''),
  );
  store.writeStatus({
    format_version: RUN_FORMAT_VERSION,
    state: 'finished',
    step: steps.at(-1)!,
    final_step: steps.at(-1)!,
    checkpoints: steps,
    updated_at: new Date().toISOString(),
  });
  return { dir, meta, steps };
}

/**
 * The source's loss rows, plus ‖θ‖² (float64 sum over every tensor written) at each checkpoint step,
 * computed on import from the weights themselves: analyze uses the logged ‖θ‖² to place the
 * transition when a source has no initial checkpoint for its norms pass.
 */
function metricsRows(plan: ImportPlan, sqNorms: Map<number, number>): ImportedMetricsRow[] {
  const byStep = new Map(plan.metrics.map((r) => [r.step, { ...r }]));
  for (const [step, sq] of sqNorms) {
    const row = byStep.get(step) ?? {
      step,
      train_loss: null,
      train_acc: null,
      test_loss: null,
      test_acc: null,
      sq_norm: null,
      lr: null,
      wall_time: null,
      imported: true as const,
    };
    row.sq_norm = sq;
    byStep.set(step, row);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function buildSplit(plan: ImportPlan, n: number): { split: Split; splitInfo: object } {
  const s = plan.split;
  if (s.kind === 'rule') {
    return {
      split: makeSplit(n, s.config, s.source),
      splitInfo: {
        train_fraction: s.config.train_fraction,
        seed: s.config.seed,
        mode: s.config.mode,
        source: s.source,
      },
    };
  }
  const check = (list: number[], what: string) => {
    for (const [i, x] of list.entries()) {
      if (!Number.isInteger(x) || x < 0 || x >= n)
        throw new UserError(
          `${s.source}: ${what}[${i}] is ${x}; example indices run from 0 to ${n - 1} (a-major pairs n = a·p + b)`,
        );
    }
  };
  check(s.train, 'train');
  const inTrain = new Uint8Array(n);
  for (const x of s.train) {
    if (inTrain[x]) throw new UserError(`${s.source}: example ${x} is listed twice in the train indices`);
    inTrain[x] = 1;
  }
  let test: number[];
  if (s.test) {
    check(s.test, 'test');
    const seen = new Uint8Array(n);
    for (const x of s.test) {
      if (inTrain[x] || seen[x])
        throw new UserError(
          `${s.source}: example ${x} is ${inTrain[x] ? 'in both train and test' : 'listed twice in test'}`,
        );
      seen[x] = 1;
    }
    if (s.train.length + s.test.length !== n)
      throw new UserError(
        `${s.source}: ${s.train.length} train + ${s.test.length} test indices, but the task has ${n} examples`,
      );
    test = s.test;
  } else test = [...Array(n).keys()].filter((x) => !inTrain[x]);
  if (s.train.length === 0 || test.length === 0)
    throw new UserError(`${s.source}: the split leaves ${s.train.length ? 'no test' : 'no train'} examples`);
  return {
    split: { train: Int32Array.from(s.train), test: Int32Array.from(test) },
    splitInfo: { train_fraction: s.train.length / n, seed: null, mode: 'indices', source: s.source },
  };
}

function buildConfig(
  plan: ImportPlan,
  model: RunConfig['model'],
  task: RunConfig['task'],
  split: Split,
  steps: number[],
  notes: string[],
  sets: string[],
): RunConfig {
  const r = plan.record;
  const o = r.optimizer ?? {};
  const defined = <T extends object>(x: T) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined));
  const n = split.train.length + split.test.length;
  const splitCfg =
    plan.split.kind === 'rule'
      ? plan.split.config
      : { train_fraction: split.train.length / n, seed: 0, mode: 'shuffle' as const };
  if (plan.split.kind === 'indices')
    notes.push(
      'config.split only describes the split (its fraction); split.json holds the exact indices the source recorded',
    );
  const gaps = steps
    .slice(1)
    .map((s, i) => s - steps[i])
    .filter((d) => d > 0);
  const config: RunConfig = structuredClone({
    ...DEFAULTS,
    task,
    split: splitCfg,
    model,
    optimizer: { ...DEFAULTS.optimizer, ...defined(o) },
    training: {
      ...DEFAULTS.training,
      steps: Math.max(1, steps.at(-1)!),
      eval_every: r.eval_every ?? 1,
      seed: r.seed ?? 0,
    },
    checkpoints: { every: r.checkpoints_every ?? (gaps.length ? Math.min(...gaps) : 1), log_spaced: 0 },
  }) as RunConfig;
  const missing = ['lr', 'weight_decay', 'betas', 'warmup_steps'].filter(
    (k) => (o as Record<string, unknown>)[k] === undefined,
  );
  if (missing.length)
    notes.push(
      `the source does not record optimizer ${missing.join(', ')}: config.optimizer keeps groklens' defaults there, for the record only (set them with --set optimizer.KEY=VALUE)`,
    );
  if (r.seed === undefined) notes.push('the training seed is not recorded: config.training.seed is 0 (give --seed)');
  // --set: record-only corrections, applied last.
  if (sets.some((s) => /^(task|model)\./.test(s)))
    throw new UserError(
      '--set: task and model come from the source (use --task, --p, --act); only optimizer, training, checkpoints and split keys can be set',
    );
  for (const arg of sets) {
    const { path, value } = parseSet(arg);
    let at: Record<string, unknown> = config as unknown as Record<string, unknown>;
    for (const k of path.slice(0, -1)) {
      if (typeof at[k] !== 'object' || at[k] === null)
        throw new UserError(`--set ${arg}: ${path.join('.')} is not a config key`);
      at = at[k] as Record<string, unknown>;
    }
    at[path.at(-1)!] = value;
  }
  return validateConfig(config, 'import');
}

function sha256(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => ok(h.digest('hex')))
      .on('error', fail);
  });
}
