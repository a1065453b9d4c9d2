/**
 * Glue between groklens' real training and the float64 reference: train a run with the CLI's own
 * code path (resolveConfig → startRun on the wasm backend) with a checkpoint after every update,
 * read every checkpoint back from the run directory, replay the same updates in float64 from the
 * step-0 checkpoint, and measure how far apart the two trajectories are, tensor by tensor and
 * step by step.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { MODEL_DEFAULTS } from '../../src/config/schema.ts';
import type { RunConfig } from '../../src/config/types.ts';
import { startRun } from '../../src/run/session.ts';
import { RunStore, type NamedTensors } from '../../src/run/store.ts';
import { additionBatch, type Batch, type Params64, type RefModel } from './reference-common.ts';
import { RefOptimizer, type OptimSettings } from './reference-optim.ts';

export const STEPS = 30;

/** Whether this groklens knows `model.attn_bias` (before it did, attention biases were always trained). */
export const HAS_ATTN_BIAS_KEY = 'attn_bias' in MODEL_DEFAULTS.transformer;

export interface GroklensRun {
  config: RunConfig;
  train: Batch; // the run's own train split, from split.json
  checkpoints: NamedTensors[]; // [STEPS + 1], index = number of updates applied
}

let runsDir: string | null = null;
let count = 0;

/** Train STEPS full-batch updates with a checkpoint after each, and read them all back. */
export async function trainGroklens(sets: string[]): Promise<GroklensRun> {
  const backend = await useBackend('wasm');
  const { config } = resolveConfig({
    sets: [
      'task.kind=modular',
      'task.op=add',
      'split.train_fraction=0.5',
      'training.batch_size=null',
      'optimizer.linf_penalty=0',
      `training.steps=${STEPS}`,
      'training.eval_every=10',
      'checkpoints.every=1',
      'checkpoints.log_spaced=0',
      ...sets,
    ],
  });
  // tmpfs when there is one: the store fsyncs every checkpoint, which on a busy disk costs more
  // than the training itself (31 checkpoints per run); the files and code path are the same.
  runsDir ??= mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'groklens-trajectory-'));
  const res = await startRun({ config, name: `run-${count++}`, runsDir, preset: null, backend });
  const store = RunStore.open(res.dir);
  const specs = store.meta().params;
  const checkpoints: NamedTensors[] = [];
  for (let s = 0; s <= STEPS; s++) checkpoints.push(store.readCheckpoint(s, specs));
  if (config.task.kind !== 'modular') throw new Error('trajectory tests use a modular task');
  return { config, train: additionBatch(config.task.p, store.split().train), checkpoints };
}

/** Delete the temporary runs directory (call from afterAll). */
export function removeRuns(): void {
  if (runsDir) rmSync(runsDir, { recursive: true, force: true });
  runsDir = null;
}

export function optimSettings(c: RunConfig): OptimSettings {
  const o = c.optimizer;
  return {
    kind: o.kind,
    lr: o.lr,
    weight_decay: o.weight_decay,
    betas: [o.betas[0], o.betas[1]],
    eps: o.eps,
    momentum: o.momentum,
    nesterov: o.nesterov,
    decoupled_weight_decay: o.decoupled_weight_decay,
    warmup_steps: o.warmup_steps,
  };
}

/** The reference's trajectory: STEPS updates from the step-0 checkpoint, a float64 copy after each. */
export function referenceTrajectory(model: RefModel, start: NamedTensors, batch: Batch, o: OptimSettings): Params64[] {
  const params: Params64 = {};
  for (const name of model.trained) {
    if (!start[name]) throw new Error(`the checkpoint has no tensor '${name}'`);
    params[name] = { shape: start[name].shape.slice(), data: Float64Array.from(start[name].data) };
  }
  const opt = new RefOptimizer(o, model.trained);
  const out: Params64[] = [snapshot(params)];
  for (let s = 0; s < STEPS; s++) {
    opt.step(params, model.lossAndGrad(params, batch).grads);
    out.push(snapshot(params));
  }
  return out;
}

function snapshot(p: Params64): Params64 {
  const out: Params64 = {};
  for (const [k, t] of Object.entries(p)) out[k] = { shape: t.shape, data: Float64Array.from(t.data) };
  return out;
}

/** |got − want| ≤ atol + rtol·|want| elementwise; `ratio` is the largest |got − want| / (atol + rtol·|want|). */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Tensors held to an absolute bound instead of the reference: for a tensor whose exact gradient is
 * zero, what float32 training does with its rounding noise is not a property of the spec.
 */
export interface Bounded {
  match: RegExp;
  maxAbs: number;
}

export interface Deviation {
  ratio: number; // worst normalised deviation; ≤ 1 passes
  maxAbs: number; // largest |got − want| anywhere
  at: string; // where the worst normalised deviation is: step, tensor, index, values
  firstFailingStep: number | null;
  perStep: number[]; // worst ratio at each step
  nonZeroFrozen: string[]; // stored tensors that are not parameters but are not all zero
  missing: string[]; // reference tensors absent from the checkpoints, or of another shape
  overBound: string[]; // bounded tensors that exceed their bound
  boundedMax: number; // largest |w| over the bounded tensors
}

/**
 * Compare every tensor of every checkpoint with the reference. A stored tensor the reference does
 * not have (the attention biases of the spec's model) must be exactly zero at every step.
 */
export function compare(
  run: NamedTensors[],
  ref: Params64[],
  tol: Tolerance,
  bounded: Bounded | null = null,
): Deviation {
  const d: Deviation = {
    ratio: 0,
    maxAbs: 0,
    at: '',
    firstFailingStep: null,
    perStep: [],
    nonZeroFrozen: [],
    missing: [],
    overBound: [],
    boundedMax: 0,
  };
  for (let s = 0; s < run.length; s++) {
    let stepRatio = 0;
    for (const [name, t] of Object.entries(run[s])) {
      if (bounded?.match.test(name)) {
        const m = t.data.reduce((acc, x) => Math.max(acc, Math.abs(x)), 0);
        d.boundedMax = Math.max(d.boundedMax, m);
        if (m > bounded.maxAbs)
          d.overBound.push(`${name} at step ${s}: max |w| ${m.toExponential(2)} > ${bounded.maxAbs.toExponential(2)}`);
        continue;
      }
      // A stored tensor that is not a reference parameter is compared with zero (so that trained
      // attention biases count in the deviation too) and must also be exactly zero.
      const r = ref[s][name] ?? null;
      if (!r && t.data.some((x) => x !== 0) && !d.nonZeroFrozen.some((f) => f.startsWith(`${name} `))) {
        d.nonZeroFrozen.push(`${name} (from step ${s})`);
      }
      if (r && r.shape.join() !== t.shape.join()) {
        if (s === 0) d.missing.push(`${name}: shape [${t.shape}] vs reference [${r.shape}]`);
        continue;
      }
      for (let i = 0; i < t.data.length; i++) {
        const want = r ? r.data[i] : 0;
        const diff = Math.abs(t.data[i] - want);
        const ratio = diff / (tol.atol + tol.rtol * Math.abs(want));
        d.maxAbs = Math.max(d.maxAbs, diff);
        stepRatio = Math.max(stepRatio, ratio);
        if (ratio > d.ratio) {
          d.ratio = ratio;
          d.at = `step ${s}, ${name}[${i}]: groklens ${t.data[i]}, reference ${want}`;
        }
      }
    }
    for (const name of Object.keys(ref[s]))
      if (!run[s][name] && s === 0) d.missing.push(`${name}: not in the checkpoint`);
    d.perStep.push(stepRatio);
    if (stepRatio > 1 && d.firstFailingStep === null) d.firstFailingStep = s;
  }
  return d;
}

export function explain(d: Deviation): string {
  return (
    `worst |Δ|/(atol+rtol·|w|) = ${d.ratio.toPrecision(3)} at ${d.at || '-'}; max |Δ| = ${d.maxAbs.toExponential(2)}` +
    (d.firstFailingStep !== null ? `; first step over tolerance: ${d.firstFailingStep}` : '') +
    (d.nonZeroFrozen.length ? `; non-parameters that are not zero: ${d.nonZeroFrozen.join(', ')}` : '') +
    (d.missing.length ? `; missing: ${d.missing.join(', ')}` : '') +
    (d.overBound.length ? `; over their bound: ${d.overBound.slice(0, 3).join(', ')}` : '')
  );
}
