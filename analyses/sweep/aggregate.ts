/**
 * Aggregating a sweep (measures.md §6–§7): per-run transition times, norms and contraction, and
 * the across-run fits of the norm-separation delay law (Truong et al.):
 *
 *   T_grok  vs 1/wd
 *   T_grok  vs 1/lr
 *   delay   vs (1/(lr·wd))·log(V_mem/V_post)     (slope ≈ lr·wd/γ_eff; ≈ 1/1.41 for AdamW)
 *
 * T_grok is the 0.95 test-accuracy time. Runs that did not grok within their budget (or failed,
 * or are unfinished) are kept in the per-run table and listed under each fit's `excluded`, with
 * the reason. Everything here is a pure function of the loaded runs: ./load.ts reads the disk.
 */
import type { RunConfig } from '../../src/config/types.ts';
import { CheckpointSchedule } from '../../src/run/schedule.ts';
import type { MetricsRow } from '../../src/run/store.ts';
import { DEFAULT_BOOTSTRAP, fitLine, type BootstrapOptions, type LinearFitReport } from './fit.ts';
import { predictDelays, type PredictorReport } from './predict.ts';
import type { SweepRunState } from '../../src/sweep/status.ts';
import { fitDecay, transitions, type Transitions } from './transitions.ts';

export const AGGREGATE_FORMAT_VERSION = 1;

/** What aggregation needs of one run, as loaded from its directory. */
export interface RunInput {
  id: string;
  settings: Record<string, unknown>;
  seed: number | null;
  state: SweepRunState;
  reason: string;
  config: RunConfig; // from run.json, or the sweep's expansion if the run never started
  rows: MetricsRow[];
  /** From runs/ID/analysis.json when present. */
  analysis: { contraction_c: number | null; key_frequencies: number[] | null } | null;
}

export type RunOutcome = 'grokked' | 'memorised' | 'not-memorised' | 'diverged' | 'failed' | 'unfinished';

export interface RunAggregate extends Transitions {
  id: string;
  settings: Record<string, unknown>;
  seed: number | null;
  state: SweepRunState;
  reason: string;
  outcome: RunOutcome;
  /** Test accuracy ≥ 0.95 within the step budget. */
  grokked: boolean;
  optimizer: string;
  lr: number;
  weight_decay: number;
  budget: number;
  c: number | null; // norm contraction rate per step
  c_source: 'analysis' | 'metrics' | null;
  c_fit: { from: number; to: number; n: number; r2: number | null } | null; // when fitted here
  c_over_lr_wd: number | null;
  key_frequencies: number[] | null;
  wall_time: number | null; // seconds of training, from the last metrics row
}

export interface FitSection {
  name: 'tgrok_vs_inv_wd' | 'tgrok_vs_inv_lr' | 'delay_vs_norm_law';
  x_label: string;
  y_label: string;
  points: { id: string; x: number; y: number }[];
  excluded: { id: string; reason: string }[];
  fit: LinearFitReport | null;
  /** Why there is no fit, or a caveat about it. */
  note: string | null;
}

export interface SweepAggregate {
  format: 'groklens-sweep-aggregate';
  format_version: number;
  sweep: string;
  counts: Record<RunOutcome, number>;
  runs: RunAggregate[];
  fits: FitSection[];
  predictor: PredictorReport;
  /** How many runs (with an analysis.json) have each key frequency. */
  key_frequency_counts: Record<string, number>;
  options: { bootstrap: BootstrapOptions; predict_horizon: number };
}

export interface AggregateOptions {
  bootstrap: BootstrapOptions;
  /** The delay predictor sees metrics up to T_mem + this many steps. */
  predictHorizon: number;
}

export const DEFAULT_AGGREGATE_OPTIONS: AggregateOptions = { bootstrap: DEFAULT_BOOTSTRAP, predictHorizon: 500 };

/**
 * The rows the training schedule always writes: every eval_every steps, every checkpoint step and
 * the last row. A run stopped with Ctrl-C also logs the step it stopped at; dropping that row makes
 * the times independent of when (and whether) a run was interrupted and resumed.
 */
export function scheduledRows(rows: readonly MetricsRow[], config: RunConfig): MetricsRow[] {
  const schedule = new CheckpointSchedule(config.checkpoints.every, config.checkpoints.log_spaced);
  const every = config.training.eval_every;
  return rows.filter((r, i) => r.step % every === 0 || schedule.has(r.step) || i === rows.length - 1);
}

export function aggregateRun(input: RunInput): RunAggregate {
  const r = { ...input, rows: scheduledRows(input.rows, input.config) };
  const t = transitions(r.rows);
  const { lr, weight_decay } = r.config.optimizer;
  const budget = r.config.training.steps;
  const grokked = t.t_grok_95 !== null && t.t_grok_95 <= budget;
  const outcome: RunOutcome =
    r.state === 'failed' ? 'failed' : r.state === 'diverged' ? 'diverged' : grokked ? 'grokked' : r.state !== 'done' ? 'unfinished' : t.t_mem !== null ? 'memorised' : 'not-memorised';

  let c: number | null = null;
  let c_source: RunAggregate['c_source'] = null;
  let c_fit: RunAggregate['c_fit'] = null;
  if (r.analysis?.contraction_c != null) {
    c = r.analysis.contraction_c;
    c_source = 'analysis';
  } else if (t.t_mem !== null) {
    const to = t.t_grok_95 ?? t.last_step!;
    const f = fitDecay(r.rows, t.t_mem, to);
    if (f !== null) {
      c = f.c;
      c_source = 'metrics';
      c_fit = { from: f.from, to: f.to, n: f.n, r2: f.r2 };
    }
  }
  const lrwd = lr * weight_decay;
  return {
    id: r.id,
    settings: r.settings,
    seed: r.seed,
    state: r.state,
    reason: r.reason,
    outcome,
    grokked,
    optimizer: r.config.optimizer.kind,
    lr,
    weight_decay,
    budget,
    ...t,
    c,
    c_source,
    c_fit,
    c_over_lr_wd: c !== null && lrwd > 0 ? c / lrwd : null,
    key_frequencies: r.analysis?.key_frequencies ?? null,
    wall_time: r.rows.at(-1)?.wall_time ?? null,
  };
}

/** Why a run has no T_grok, for the `excluded` lists. */
export function whyNoGrok(r: RunAggregate): string {
  switch (r.outcome) {
    case 'failed':
      return `run failed: ${r.reason}`;
    case 'diverged':
      return `run ${r.reason}`;
    case 'unfinished':
      return `not finished (${r.state}: ${r.reason})`;
    case 'not-memorised':
      return `never memorised (train accuracy < 0.99) within ${r.budget} steps`;
    default:
      return `memorised at ${r.t_mem} but did not grok within ${r.budget} steps`;
  }
}

interface FitSpec {
  name: FitSection['name'];
  x_label: string;
  y_label: string;
  /** A point, or the reason this run has none. */
  point: (r: RunAggregate) => { x: number; y: number } | string;
  /** The setting that should be held fixed for the fit to mean what it says. */
  heldFixed?: (r: RunAggregate) => number;
  heldName?: string;
}

const FITS: FitSpec[] = [
  {
    name: 'tgrok_vs_inv_wd',
    x_label: '1 / weight decay',
    y_label: 'T_grok (steps, test acc ≥ 0.95)',
    point: (r) => (!r.grokked ? whyNoGrok(r) : r.weight_decay <= 0 ? 'weight decay 0: 1/wd undefined' : { x: 1 / r.weight_decay, y: r.t_grok_95! }),
    heldFixed: (r) => r.lr,
    heldName: 'learning rate',
  },
  {
    name: 'tgrok_vs_inv_lr',
    x_label: '1 / learning rate',
    y_label: 'T_grok (steps, test acc ≥ 0.95)',
    point: (r) => (!r.grokked ? whyNoGrok(r) : { x: 1 / r.lr, y: r.t_grok_95! }),
    heldFixed: (r) => r.weight_decay,
    heldName: 'weight decay',
  },
  {
    name: 'delay_vs_norm_law',
    x_label: '(1/(lr·wd))·log(V_mem/V_post)',
    y_label: 'delay T_grok − T_mem (steps)',
    point: (r) => {
      if (!r.grokked) return whyNoGrok(r);
      if (r.t_mem === null || r.delay_95 === null) return 'grokked without memorising first (no T_mem)';
      if (!(r.v_mem! > 0 && r.v_post! > 0)) return 'norm not positive';
      if (r.lr * r.weight_decay <= 0) return 'lr·wd = 0: the law is undefined';
      return { x: Math.log(r.v_mem! / r.v_post!) / (r.lr * r.weight_decay), y: r.delay_95 };
    },
  },
];

export function fitSection(spec: FitSpec, runs: readonly RunAggregate[], bootstrap: BootstrapOptions): FitSection {
  const points: FitSection['points'] = [];
  const excluded: FitSection['excluded'] = [];
  for (const r of runs) {
    const p = spec.point(r);
    if (typeof p === 'string') excluded.push({ id: r.id, reason: p });
    else points.push({ id: r.id, ...p });
  }
  let fit: LinearFitReport | null = null;
  let note: string | null = null;
  const distinctX = new Set(points.map((p) => p.x)).size;
  if (distinctX < 2) note = `no fit: ${points.length} grokked run(s) with ${distinctX} distinct x value(s); a line needs two`;
  else fit = fitLine(points.map((p) => p.x), points.map((p) => p.y), bootstrap);
  if (spec.heldFixed && fit) {
    const used = runs.filter((r) => points.some((p) => p.id === r.id));
    const held = new Set(used.map(spec.heldFixed));
    if (held.size > 1) note = `the ${spec.heldName} varies across these runs (${[...held].join(', ')}): the fit mixes both effects`;
  }
  return { name: spec.name, x_label: spec.x_label, y_label: spec.y_label, points, excluded, fit, note };
}

export function aggregateSweep(name: string, inputs: readonly RunInput[], opts: AggregateOptions = DEFAULT_AGGREGATE_OPTIONS): SweepAggregate {
  const runs = inputs.map(aggregateRun);
  const scheduled = inputs.map((r) => ({ ...r, rows: scheduledRows(r.rows, r.config) }));
  const counts: Record<RunOutcome, number> = { grokked: 0, memorised: 0, 'not-memorised': 0, diverged: 0, failed: 0, unfinished: 0 };
  for (const r of runs) counts[r.outcome]++;
  const keyCounts: Record<string, number> = {};
  for (const r of runs) for (const k of r.key_frequencies ?? []) keyCounts[k] = (keyCounts[k] ?? 0) + 1;
  return {
    format: 'groklens-sweep-aggregate',
    format_version: AGGREGATE_FORMAT_VERSION,
    sweep: name,
    counts,
    runs,
    fits: FITS.map((f) => fitSection(f, runs, opts.bootstrap)),
    predictor: predictDelays(runs, scheduled, opts.predictHorizon),
    key_frequency_counts: keyCounts,
    options: { bootstrap: opts.bootstrap, predict_horizon: opts.predictHorizon },
  };
}
