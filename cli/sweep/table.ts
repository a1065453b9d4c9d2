/**
 * Plain-text tables for `groklens sweep status` and `groklens sweep report`: aligned columns, no
 * colour, so they read the same in a terminal, a Slurm log and a CI transcript.
 */
import type { FitSection, SweepAggregate } from '../../analyses/sweep/types.ts';
import type { RunState } from '../../src/sweep/status.ts';
import { countStates } from '../../src/sweep/status.ts';

export function textTable(header: string[], rows: string[][]): string {
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, j) => (j === cells.length - 1 ? c : c.padEnd(width[j])))
      .join('  ')
      .trimEnd();
  return [line(header), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Numbers at a glance: integers as they are, others to 3 significant digits; '-' for none. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}

export function statusTable(states: readonly RunState[]): string {
  const order = { failed: 0, diverged: 1, running: 2, pending: 3, done: 4 } as const;
  const sorted = [...states].sort((a, b) => order[a.state] - order[b.state]);
  return textTable(
    ['run', 'state', 'step', 'reason'],
    sorted.map((s) => [s.id, s.state, s.step === null ? '-' : `${s.step}/${s.total ?? '?'}`, s.reason]),
  );
}

export function countsLine(states: readonly RunState[]): string {
  const c = countStates(states);
  return `${states.length} runs: ${c.done} done, ${c.running} running, ${c.failed} failed, ${c.diverged} diverged, ${c.pending} pending`;
}

function fitLine(f: FitSection): string {
  const head = `${f.y_label} vs ${f.x_label}:`;
  const excl = f.excluded.length ? `; ${f.excluded.length} run(s) left out, listed in aggregate.json` : '';
  if (!f.fit) return `${head} ${f.note ?? 'no fit'}${excl}`;
  const ci = f.fit.slope_ci
    ? ` [${Math.round(f.fit.slope_ci.level * 100)} % CI ${num(f.fit.slope_ci.lo)}, ${num(f.fit.slope_ci.hi)}]`
    : '';
  return (
    `${head} slope ${num(f.fit.slope)}${ci}, intercept ${num(f.fit.intercept)}, R² ${num(f.fit.r2)}, r ${num(f.fit.pearson_r)} (n ${f.fit.n}${excl})` +
    (f.note ? `\n  note: ${f.note}` : '')
  );
}

export function reportText(a: SweepAggregate): string {
  const table = textTable(
    ['run', 'outcome', 'T_mem', 'T_grok95', 'T_grok99', 'delay', 'V_mem', 'V_at_grok', 'c', 'c/(lr·wd)'],
    a.runs.map((r) => [
      r.id,
      r.outcome,
      num(r.t_mem),
      num(r.t_grok_95),
      num(r.t_grok_99),
      num(r.delay_95),
      num(r.v_mem),
      num(r.v_at_grok),
      num(r.c),
      num(r.c_over_lr_wd),
    ]),
  );
  const c = a.counts;
  const p = a.predictor;
  const lines = [
    `sweep ${a.sweep}: ${a.runs.length} runs: ${c.grokked} grokked, ${c.memorised} memorised only, ${c['not-memorised']} never memorised, ${c.diverged} diverged, ${c.failed} failed, ${c.unfinished} unfinished`,
    '',
    table,
    '',
    ...a.fits.map(fitLine),
    p.mean_abs_pct_error === null
      ? `delay predictor (k = ${p.horizon}): no run to predict (${p.excluded.length} left out)`
      : `delay predictor (k = ${p.horizon}): mean absolute error ${num(p.mean_abs_pct_error)} % over ${p.rows.length} run(s) (${p.excluded.length} left out; Truong et al.: 34.6 %)`,
  ];
  const keys = Object.entries(a.key_frequency_counts);
  if (keys.length) lines.push(`key frequencies (runs): ${keys.map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  return lines.join('\n');
}
