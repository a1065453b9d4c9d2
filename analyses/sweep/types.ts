/**
 * The shapes of aggregate.json (format "groklens-sweep-aggregate"), written by `groklens sweep
 * report` from the sweep's runs and read by the sweep report. Kept apart from the code that
 * computes them (./aggregate.ts, ./predict.ts) so that neither imports the other for a type.
 *
 * Version 2 renamed v_post to v_at_grok (‖θ‖² at T_grok, 95 %), see src/grokking.ts; version 1
 * files are not read back (the command recomputes the aggregate from the runs every time).
 */
import type { RunConfig } from '../../src/config/types.ts';
import type { MetricsRow } from '../../src/run/store.ts';
import type { SweepRunState } from '../../src/sweep/status.ts';
import type { TransitionTimes } from '../../src/grokking.ts';
import type { BootstrapOptions, LinearFitReport } from './fit.ts';

export const AGGREGATE_FORMAT_VERSION = 2;

/** A run's transition times from its metrics rows, with the norms the delay law uses. */
export interface Transitions extends TransitionTimes {
  v_mem: number | null; // ‖θ‖² at T_mem
  v_at_grok: number | null; // ‖θ‖² at T_grok (95 %)
  last_step: number | null;
}

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

export interface PredictionRow {
  id: string;
  t_mem: number;
  actual_t_grok: number;
  predicted_t_grok: number;
  abs_pct_error: number; // 100·|predicted − actual| / actual
  c_early: number;
  log_ratio_used: number;
}

export interface PredictorReport {
  horizon: number; // k
  method: string;
  rows: PredictionRow[];
  excluded: { id: string; reason: string }[];
  mean_abs_pct_error: number | null;
}
