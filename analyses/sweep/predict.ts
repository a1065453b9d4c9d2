/**
 * Predicting when a run will grok from what it shows shortly after memorising (Truong et al.
 * report a 34.6 % mean absolute error for theirs). Our rule — the paper gives the law, not the
 * exact procedure:
 *
 *   1. Fit V(t) ≈ V_mem·e^{−c(t − T_mem)} to the run's own ‖θ‖² on [T_mem, T_mem + k] only.
 *   2. The log norm ratio it must cover, log(V_mem/V_at_grok), is not known before grokking: take
 *      the median of that ratio over the OTHER grokked runs of the sweep (leave-one-out).
 *   3. Predicted T_grok = T_mem + median ratio / c.
 *
 * Error per run: |predicted − actual| / actual T_grok (0.95). Runs that grokked by T_mem + k
 * (nothing left to predict), whose norm was not shrinking by then (c ≤ 0), or that did not grok
 * are listed as excluded with the reason.
 */
import { fitNormDecay, logNormRatio } from '../../src/grokking.ts';
import { median } from './fit.ts';
import type { PredictionRow, PredictorReport, RunAggregate, RunInput } from './types.ts';

export function predictDelays(
  runs: readonly RunAggregate[],
  inputs: readonly RunInput[],
  horizon: number,
): PredictorReport {
  const logRatio = new Map<string, number>();
  for (const r of runs) {
    const ratio = logNormRatio(r.v_mem, r.v_at_grok);
    if (r.grokked && r.t_mem !== null && ratio !== null) logRatio.set(r.id, ratio);
  }
  const rows: PredictionRow[] = [];
  const excluded: PredictorReport['excluded'] = [];
  runs.forEach((r, i) => {
    if (!r.grokked) return excluded.push({ id: r.id, reason: 'did not grok: nothing to compare a prediction with' });
    if (r.t_mem === null) return excluded.push({ id: r.id, reason: 'no T_mem' });
    if (r.t_grok_95! <= r.t_mem)
      return excluded.push({ id: r.id, reason: `grokked at ${r.t_grok_95}, before memorising (T_mem ${r.t_mem})` });
    if (r.t_grok_95! <= r.t_mem + horizon)
      return excluded.push({ id: r.id, reason: `grokked at ${r.t_grok_95}, within the horizon T_mem + ${horizon}` });
    const others = [...logRatio].filter(([id]) => id !== r.id).map(([, v]) => v);
    if (others.length === 0)
      return excluded.push({ id: r.id, reason: 'no other grokked run to take the norm ratio from' });
    const f = fitNormDecay(inputs[i].rows, r.t_mem, r.t_mem + horizon);
    if (f === null)
      return excluded.push({ id: r.id, reason: `fewer than 3 metrics rows in [T_mem, T_mem + ${horizon}]` });
    if (!(f.c > 0))
      return excluded.push({
        id: r.id,
        reason: `‖θ‖² not shrinking by T_mem + ${horizon} (c = ${f.c.toPrecision(3)})`,
      });
    const ratio = median(others);
    const predicted = r.t_mem + ratio / f.c;
    const actual = r.t_grok_95!;
    rows.push({
      id: r.id,
      t_mem: r.t_mem,
      actual_t_grok: actual,
      predicted_t_grok: predicted,
      abs_pct_error: (100 * Math.abs(predicted - actual)) / actual,
      c_early: f.c,
      log_ratio_used: ratio,
    });
  });
  return {
    horizon,
    method: 'T_mem + median_{other grokked runs} log(V_mem/V_at_grok) / c, c fitted on [T_mem, T_mem + k]',
    rows,
    excluded,
    mean_abs_pct_error: rows.length ? rows.reduce((a, r) => a + r.abs_pct_error, 0) / rows.length : null,
  };
}
