/**
 * The run directory: a public, versioned contract (documented in the README).
 *
 *   runs/NAME/run.json                 immutable after creation: resolved config, dataset, params, backend, versions
 *   runs/NAME/status.json              mutable: state, last step, checkpoint steps, final step
 *   runs/NAME/split.json               the exact train / test indices into the dataset (a-major pair order)
 *   runs/NAME/metrics.jsonl            one row per evaluation step
 *   runs/NAME/checkpoints/step-SSSSSSS.safetensors   float32 weights, TransformerLens names
 *   runs/NAME/resume.safetensors       weights + optimiser slots + step, one atomic file
 *
 * Only this module and the CLI touch the file system. Every write is atomic (temp, fsync, rename).
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../config/load.ts';
import type { RunConfig } from '../config/types.ts';
import { FormatError, UserError } from '../errors.ts';
import { appendLineDurable, readJsonlTolerant, removeStaleTemps, writeFileAtomic } from '../io/atomic.ts';
import { checkJson, listSome, nameText, preview, readJsonFile } from '../io/json-file.ts';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import type { ParamSpec } from '../models/types.ts';
import type { DivergenceRecord } from './divergence.ts';
import type { Split } from '../tasks/types.ts';
import { CHECKPOINT_FORMAT_VERSION, READABLE_RUN_FORMAT_VERSIONS, RUN_FORMAT_VERSION } from '../version.ts';
import { MetricsRowSchema, RunMetaSchema, RunStatusSchema, SplitFileSchema } from './schemas.ts';
import { checkMetadata, checkRunFormatVersion, checkSplit } from './checks.ts';

export { checkMetaDataset, checkMetaModel, checkSplit } from './checks.ts';

export interface RunMeta {
  format: 'groklens-run';
  format_version: number;
  groklens_version: string;
  name: string;
  created_at: string;
  preset: string | null;
  backend: { name: string; requested: string; tfjs_version: string; simd?: boolean; threads?: number };
  config: RunConfig;
  dataset: {
    description: string;
    n: number;
    n_ctx: number;
    d_vocab: number;
    d_vocab_out: number;
    n_train: number;
    n_test: number;
  };
  params: ParamSpec[];
  n_params: number; // trained parameters (frozen tensors not counted; before format 2, every tensor)
  /** Set by `groklens import` (src/import/run-writer.ts): where the weights came from and every conversion applied. */
  imported_from?: {
    sources: { file: string; sha256: string; bytes: number }[];
    layout: string;
    conversions: string[];
    imported_at: string;
    notes: string[];
  };
  /**
   * Not in the file: what reading it changed, e.g. a version-1 run read with attn_bias = true.
   * Commands print these; analyze records them in analysis.json's warnings.
   */
  notes?: string[];
}

export interface RunStatus {
  format_version: number;
  state: 'running' | 'finished' | 'interrupted' | 'failed' | 'diverged';
  step: number; // last step whose checkpoint and resume state are on disk
  final_step: number | null;
  checkpoints: number[];
  error?: string;
  /** Set once the loss, a gradient or the weights went non-finite (see src/run/divergence.ts). */
  divergence?: DivergenceRecord;
  updated_at: string;
}

/** One metrics.jsonl row. A value that was not finite is written (and read back) as null. */
export interface MetricsRow {
  step: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  sq_norm: number; // ‖θ‖², every parameter
  lr: number; // learning rate of the next update
  wall_time: number; // seconds since the run (or its first segment) started, cumulative across resumes
}

export type NamedTensors = Record<string, { shape: number[]; data: Float32Array }>;

export interface ResumeState {
  step: number;
  params: NamedTensors;
  optimizer: { tensors: NamedTensors; stepsTaken: number };
  wall_time: number;
  /**
   * The resolved config the state was trained with, as JSON (metadata `config`), so that resuming
   * with an edited run.json is noticed. Absent in resume states of groklens before 0.2.0.
   */
  config_json?: string;
}

export const checkpointName = (step: number): string => `step-${String(step).padStart(7, '0')}.safetensors`;
const CHECKPOINT_RE = /^step-(\d{7,})\.safetensors$/;

export class RunStore {
  readonly checkpointsDir: string;
  constructor(readonly dir: string) {
    this.checkpointsDir = join(dir, 'checkpoints');
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  /** Create a fresh run directory. Refuses to overwrite an existing run. */
  static create(dir: string, meta: RunMeta, split: Split, splitInfo: object): RunStore {
    if (existsSync(join(dir, 'run.json'))) {
      throw new UserError(
        `${dir}: a run already exists here; resume it with 'groklens train --resume ${dir}' or choose another --name`,
      );
    }
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    const store = new RunStore(dir);
    writeFileAtomic(
      store.path('split.json'),
      JSON.stringify({
        format_version: RUN_FORMAT_VERSION,
        ...splitInfo,
        n_train: split.train.length,
        n_test: split.test.length,
        train: Array.from(split.train),
        test: Array.from(split.test),
      }) + '\n',
    );
    writeFileAtomic(store.path('metrics.jsonl'), '');
    writeFileAtomic(store.path('run.json'), JSON.stringify(meta, null, 2) + '\n');
    store.writeStatus({
      format_version: RUN_FORMAT_VERSION,
      state: 'running',
      step: 0,
      final_step: null,
      checkpoints: [],
      updated_at: new Date().toISOString(),
    });
    return store;
  }

  /** Open an existing run directory, validating run.json's format and version. */
  static open(dir: string): RunStore {
    const store = new RunStore(dir);
    if (!existsSync(store.path('run.json'))) throw new UserError(`${dir}: not a run directory (no run.json)`);
    store.meta(); // validates
    for (const d of [dir, store.checkpointsDir]) if (existsSync(d)) removeStaleTemps(d);
    return store;
  }

  /**
   * run.json, checked against its schema (./schemas.ts) and its config against the config schema;
   * a format-1 file is read as what that run did (upgradeMeta). Any problem is a FormatError or a
   * ConfigError naming the file, the key and the value.
   */
  meta(): RunMeta {
    const file = this.path('run.json');
    const raw = readJsonFile(file);
    const top =
      raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
    if (top === null)
      throw new FormatError(file, `(top level): ${preview(raw)} is not allowed; expected an object (a run's run.json)`);
    if (top.format !== 'groklens-run')
      throw new FormatError(file, `format: expected "groklens-run", got ${preview(top.format)}`);
    checkRunFormatVersion(file, top.format_version);
    // Unknown keys — `notes` among them: the reader makes those — are left out.
    const meta = upgradeMeta(checkJson(RunMetaSchema, raw, file) as unknown as RunMeta);
    return { ...meta, config: validateConfig(meta.config, `${file}: config`) };
  }

  status(): RunStatus {
    const file = this.path('status.json');
    const raw = readJsonFile(file);
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
      checkRunFormatVersion(file, (raw as { format_version?: unknown }).format_version);
    return checkJson(RunStatusSchema, raw, file) as RunStatus;
  }

  writeStatus(s: RunStatus): void {
    writeFileAtomic(this.path('status.json'), JSON.stringify(s, null, 2) + '\n');
  }

  /**
   * split.json's train and test indices. With `n` (the task's example count) every index must lie
   * in [0, n), each example must appear exactly once in train or test, and both must be non-empty;
   * without it only the indices themselves and duplicates are checked.
   */
  split(n?: number): Split {
    const file = this.path('split.json');
    const raw = readJsonFile(file);
    const s = checkJson(SplitFileSchema, raw, file);
    if (s.format_version !== undefined) checkRunFormatVersion(file, s.format_version);
    return checkSplit(file, s.train, s.test, n, { n_train: s.n_train, n_test: s.n_test });
  }

  appendMetrics(row: MetricsRow): void {
    appendLineDurable(this.path('metrics.jsonl'), JSON.stringify(row));
  }

  metrics(): MetricsRow[] {
    return readMetrics(this.path('metrics.jsonl'));
  }

  /** Keep only metric rows up to `step` (used on resume, so the log matches the restored state). */
  truncateMetrics(step: number): MetricsRow[] {
    const rows = this.metrics().filter((r) => r.step <= step);
    writeFileAtomic(this.path('metrics.jsonl'), rows.map((r) => JSON.stringify(r) + '\n').join(''));
    return rows;
  }

  writeCheckpoint(step: number, params: NamedTensors, specs: ParamSpec[]): void {
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const { name } of specs) tensors[name] = { dtype: 'F32', shape: params[name].shape, data: params[name].data };
    writeSafetensors(join(this.checkpointsDir, checkpointName(step)), tensors, {
      format: 'groklens-checkpoint',
      format_version: String(CHECKPOINT_FORMAT_VERSION),
      step: String(step),
    });
  }

  /** Steps of the checkpoint files present, ascending. */
  checkpointSteps(): number[] {
    if (!existsSync(this.checkpointsDir)) return [];
    return readdirSync(this.checkpointsDir)
      .map((f) => CHECKPOINT_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  checkpointPath(step: number): string {
    return join(this.checkpointsDir, checkpointName(step));
  }

  /** Read one checkpoint, checking that it holds exactly the run's parameters with their shapes. */
  readCheckpoint(step: number, specs: ParamSpec[]): NamedTensors {
    const file = this.checkpointPath(step);
    const { tensors, metadata } = readSafetensors(file);
    checkMetadata(file, metadata, 'format', 'groklens-checkpoint', 'a groklens checkpoint');
    checkMetadata(
      file,
      metadata,
      'format_version',
      String(CHECKPOINT_FORMAT_VERSION),
      `this groklens reads checkpoint format version ${CHECKPOINT_FORMAT_VERSION}`,
    );
    if (metadata.step === undefined)
      throw new FormatError(file, `metadata step: missing; expected "${step}" (the step in the file name)`);
    if (metadata.step !== String(step)) {
      throw new FormatError(file, `metadata step is ${nameText(metadata.step)} but the file name says ${step}`);
    }
    return checkParams(file, tensors, specs);
  }

  /** Delete checkpoints later than `step` (left by a run killed after its last resume point). */
  removeCheckpointsAfter(step: number): number[] {
    const gone = this.checkpointSteps().filter((s) => s > step);
    for (const s of gone) rmSync(this.checkpointPath(s));
    return gone;
  }

  writeResume(state: ResumeState, specs: ParamSpec[]): void {
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const { name } of specs) tensors[`param.${name}`] = { dtype: 'F32', ...state.params[name] };
    for (const [name, t] of Object.entries(state.optimizer.tensors)) tensors[`optim.${name}`] = { dtype: 'F32', ...t };
    writeSafetensors(this.path('resume.safetensors'), tensors, {
      format: 'groklens-resume',
      format_version: String(RUN_FORMAT_VERSION),
      step: String(state.step),
      optimizer_steps: String(state.optimizer.stepsTaken),
      wall_time: String(state.wall_time),
      ...(state.config_json !== undefined ? { config: state.config_json } : {}),
    });
  }

  readResume(specs: ParamSpec[]): ResumeState {
    const file = this.path('resume.safetensors');
    if (!existsSync(file)) throw new UserError(`${this.dir}: no resume.safetensors, nothing to resume from`);
    const { tensors, metadata } = readSafetensors(file);
    checkMetadata(file, metadata, 'format', 'groklens-resume', 'a groklens resume state');
    if (!READABLE_RUN_FORMAT_VERSIONS.map(String).includes(metadata.format_version)) {
      checkMetadata(
        file,
        metadata,
        'format_version',
        String(RUN_FORMAT_VERSION),
        `this groklens reads resume states of run format versions ${READABLE_RUN_FORMAT_VERSIONS.join(' and ')}`,
      );
    }
    const num = (key: string): number => {
      const v = Number(metadata[key]);
      if (metadata[key] === undefined || !Number.isFinite(v))
        throw new FormatError(file, `metadata ${key}: expected a number, got ${JSON.stringify(metadata[key])}`);
      return v;
    };
    const params: NamedTensors = {};
    const optim: NamedTensors = {};
    for (const [name, t] of Object.entries(tensors)) {
      if (!(t.data instanceof Float32Array))
        throw new FormatError(file, `tensor '${name}': expected F32, got ${t.dtype}`);
      if (name.startsWith('param.')) params[name.slice(6)] = { shape: t.shape, data: t.data };
      else if (name.startsWith('optim.')) optim[name.slice(6)] = { shape: t.shape, data: t.data };
      else throw new FormatError(file, `tensor '${name}': expected a 'param.' or 'optim.' prefix`);
    }
    return {
      step: num('step'),
      params: checkParams(file, params, specs),
      optimizer: { tensors: optim, stepsTaken: num('optimizer_steps') },
      wall_time: num('wall_time'),
      ...(metadata.config !== undefined ? { config_json: metadata.config } : {}),
    };
  }
}

/**
 * A version-1 run.json read as what the run actually did. Before format 2 a transformer had no
 * model.attn_bias key and trained its attention biases, so it reads as attn_bias = true (the
 * file is left as it is). A version-2 file is returned unchanged.
 */
export function upgradeMeta(meta: RunMeta): RunMeta {
  if (meta.format_version !== 1) return meta;
  if (typeof meta.config !== 'object' || meta.config === null) return meta; // validateConfig names the problem
  const model = (meta.config as { model?: unknown }).model as Record<string, unknown> | undefined;
  if (typeof model !== 'object' || model === null || model.kind !== 'transformer' || Object.hasOwn(model, 'attn_bias'))
    return meta;
  return {
    ...meta,
    config: { ...meta.config, model: { ...model, attn_bias: true } as RunConfig['model'] },
    notes: [
      ...(meta.notes ?? []),
      'run.json is format version 1 (groklens before 0.2.0), whose transformer trained its attention biases: read with model.attn_bias = true',
    ],
  };
}

function checkParams(
  file: string,
  tensors: Record<string, { dtype?: string; shape: number[]; data: ArrayLike<number> }>,
  specs: ParamSpec[],
): NamedTensors {
  const out: NamedTensors = {};
  for (const { name, shape } of specs) {
    const t = tensors[name];
    if (!t) throw new FormatError(file, `missing tensor '${name}'`);
    if (!(t.data instanceof Float32Array))
      throw new FormatError(file, `tensor '${name}': expected F32, got ${t.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(file, `tensor '${name}': shape [${t.shape}] but the run's model needs [${shape}]`);
    }
    out[name] = { shape: t.shape, data: t.data };
  }
  const names = new Set(specs.map((s) => s.name));
  const extra = Object.keys(tensors).filter((k) => !names.has(k));
  if (extra.length) {
    // bounded: a file with 100k extra tensors gives a short message
    throw new FormatError(file, `unexpected tensor(s) ${listSome(extra)} not in the run's model`);
  }
  return out;
}

/** Every row of a metrics.jsonl file, checked (a torn last line, from a crash mid-append, is left out). */
export function readMetrics(file: string): MetricsRow[] {
  const { rows, lines } = readJsonlTolerant(file);
  let prev: { step: number; line: number } | null = null;
  return rows.map((row, i) => {
    const r = checkJson(MetricsRowSchema, row, file, `line ${lines[i]}`) as MetricsRow;
    if (prev && r.step < prev.step) {
      throw new FormatError(
        file,
        `line ${lines[i]}: step: ${r.step} is not allowed; expected steps in ascending order (line ${prev.line} has step ${prev.step})`,
      );
    }
    prev = { step: r.step, line: lines[i] };
    return r;
  });
}
