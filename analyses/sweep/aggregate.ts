/**
 * Aggregating a sweep (docs/measures.md#sweeps-and-the-delay-law): per-run transition times, norms and contraction, and
 * the across-run fits of the norm-separation delay law (Truong et al.):
 *
 *   T_grok  vs 1/wd
 *   T_grok  vs 1/lr
 *   delay   vs (1/(lr·wd))·log(V_mem/V_at_grok)     (slope ≈ lr·wd/γ_eff; ≈ 1/1.41 for AdamW)
 *
 * T_grok is the 95 % test-accuracy time (src/grokking.ts defines every quantity). Runs that did not grok within their budget (or failed,
 * or are unfinished) are kept in the per-run table and listed under each fit's `excluded`, with
 * the reason. Everything here is a pure function of the loaded runs: ./load.ts reads the disk.
 */
import type { RunConfig } from '../../src/config/types.ts';
import {
  cOverLrWd,
  fitNormDecay,
  logNormRatio,
  THRESHOLDS,
  thresholdIndices,
  transitionTimes,
} from '../../src/grokking.ts';
import { CheckpointSchedule } from '../../src/run/schedule.ts';
import type { MetricsRow } from '../../src/run/store.ts';
import { DEFAULT_BOOTSTRAP, fitLine, type BootstrapOptions, type LinearFitReport } from './fit.ts';
import { predictDelays } from './predict.ts';
import {
  AGGREGATE_FORMAT_VERSION,
  type FitSection,
  type RunAggregate,
  type RunInput,
  type RunOutcome,
  type SweepAggregate,
  type Transitions,
} from './types.ts';

/**
 * Transition times and norms from a run's metrics rows. Rows are evaluations every
 * `training.eval_every` steps, which include every checkpoint step, so these times are at least
 * as fine as the checkpoint-based ones of `groklens analyze`.
 */
export function transitions(
  rows: readonly (MetricsRow | { step: number; train_acc: number; test_acc: number; sq_norm: number })[],
): Transitions {
  const i = thresholdIndices(rows);
  return {
    ...transitionTimes(rows),
    v_mem: i.mem >= 0 ? rows[i.mem].sq_norm : null,
    v_at_grok: i.grok95 >= 0 ? rows[i.grok95].sq_norm : null,
    last_step: rows.at(-1)?.step ?? null,
  };
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
    r.state === 'failed'
      ? 'failed'
      : r.state === 'diverged'
        ? 'diverged'
        : grokked
          ? 'grokked'
          : r.state !== 'done'
            ? 'unfinished'
            : t.t_mem !== null
              ? 'memorised'
              : 'not-memorised';

  let c: number | null = null;
  let c_source: RunAggregate['c_source'] = null;
  let c_fit: RunAggregate['c_fit'] = null;
  if (r.analysis?.contraction_c != null) {
    c = r.analysis.contraction_c;
    c_source = 'analysis';
  } else if (t.t_mem !== null) {
    const to = t.t_grok_95 ?? t.last_step!;
    const f = fitNormDecay(r.rows, t.t_mem, to);
    if (f !== null) {
      c = f.c;
      c_source = 'metrics';
      c_fit = { from: f.from, to: f.to, n: f.n, r2: f.r2 };
    }
  }
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
    c_over_lr_wd: c !== null ? cOverLrWd(c, lr, weight_decay) : null,
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
      return `never memorised (train accuracy < ${THRESHOLDS.memAcc}) within ${r.budget} steps`;
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
    y_label: `T_grok (steps, test acc ≥ ${THRESHOLDS.grokAcc95})`,
    point: (r) =>
      !r.grokked
        ? whyNoGrok(r)
        : r.weight_decay <= 0
          ? 'weight decay 0: 1/wd undefined'
          : { x: 1 / r.weight_decay, y: r.t_grok_95! },
    heldFixed: (r) => r.lr,
    heldName: 'learning rate',
  },
  {
    name: 'tgrok_vs_inv_lr',
    x_label: '1 / learning rate',
    y_label: `T_grok (steps, test acc ≥ ${THRESHOLDS.grokAcc95})`,
    point: (r) => (!r.grokked ? whyNoGrok(r) : { x: 1 / r.lr, y: r.t_grok_95! }),
    heldFixed: (r) => r.weight_decay,
    heldName: 'weight decay',
  },
  {
    name: 'delay_vs_norm_law',
    x_label: '(1/(lr·wd))·log(V_mem/V_at_grok)',
    y_label: 'delay T_grok − T_mem (steps)',
    point: (r) => {
      if (!r.grokked) return whyNoGrok(r);
      if (r.t_mem === null || r.delay_95 === null) return 'grokked without memorising first (no T_mem)';
      const ratio = logNormRatio(r.v_mem, r.v_at_grok);
      if (ratio === null) return 'norm not positive';
      if (r.lr * r.weight_decay <= 0) return 'lr·wd = 0: the law is undefined';
      return { x: ratio / (r.lr * r.weight_decay), y: r.delay_95 };
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
  if (distinctX < 2)
    note = `no fit: ${points.length} grokked run(s) with ${distinctX} distinct x value(s); a line needs two`;
  else
    fit = fitLine(
      points.map((p) => p.x),
      points.map((p) => p.y),
      bootstrap,
    );
  if (spec.heldFixed && fit) {
    const used = runs.filter((r) => points.some((p) => p.id === r.id));
    const held = new Set(used.map(spec.heldFixed));
    if (held.size > 1)
      note = `the ${spec.heldName} varies across these runs (${[...held].join(', ')}): the fit mixes both effects`;
  }
  return { name: spec.name, x_label: spec.x_label, y_label: spec.y_label, points, excluded, fit, note };
}

export function aggregateSweep(
  name: string,
  inputs: readonly RunInput[],
  opts: AggregateOptions = DEFAULT_AGGREGATE_OPTIONS,
): SweepAggregate {
  const runs = inputs.map(aggregateRun);
  const scheduled = inputs.map((r) => ({ ...r, rows: scheduledRows(r.rows, r.config) }));
  const counts: Record<RunOutcome, number> = {
    grokked: 0,
    memorised: 0,
    'not-memorised': 0,
    diverged: 0,
    failed: 0,
    unfinished: 0,
  };
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
