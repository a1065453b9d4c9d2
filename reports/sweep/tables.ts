/**
 * The tables and key numbers of a sweep report: the sweep at a glance (counts, fit quality,
 * predictor error), what was swept over which base, and one row per run linking to the run's own
 * report. Every value goes in as text through the DOM.
 */
import type { ConfigChange } from '../../src/config/load.ts';
import type { RunAggregate, SweepAggregate } from '../../analyses/sweep/types.ts';
import type { SweepManifest } from '../../src/sweep/store.ts';
import { fmtNum, fmtStep, fmtValue } from '../format.ts';
import { el } from '../page.ts';
import { describeModel } from '../../src/config/describe.ts';
import { describeOptimizer, type KeyNumber } from '../summary.ts';
import type { SweptAxis } from './axes.ts';
import type { SweepReportRun } from './input.ts';
import { OUTCOME_STYLE } from './outcome.ts';

/**
 * The relative link from sweeps/NAME/report.html to a run's own report. The id is percent-encoded
 * (a hand-edited manifest could hold any string: it stays one path segment, never a scheme), keeping
 * the characters sweep ids use readable.
 */
export function runReportHref(id: string): string {
  return `runs/${encodeURIComponent(id).replace(/%3D/g, '=').replace(/%40/g, '@').replace(/%2B/g, '+')}/report.html`;
}

function median(v: number[]): number | null {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function sweepKeyNumbers(agg: SweepAggregate): KeyNumber[] {
  const c = agg.counts;
  const fit = (name: string) => agg.fits.find((f) => f.name === name);
  const wd = fit('tgrok_vs_inv_wd');
  const law = fit('delay_vs_norm_law');
  const ratios = agg.runs.filter((r) => r.grokked && r.c_over_lr_wd !== null).map((r) => r.c_over_lr_wd!);
  const p = agg.predictor;
  return [
    {
      label: 'runs',
      value: String(agg.runs.length),
      detail: `${c.grokked} grokked, ${c.memorised} memorised only, ${c['not-memorised']} failed to memorise`,
    },
    {
      label: 'diverged / failed / unfinished',
      value: `${c.diverged} / ${c.failed} / ${c.unfinished}`,
      detail: 'shown in every table and list, never fitted',
    },
    {
      label: 'T_grok vs 1/wd',
      value: wd?.fit ? `R² ${fmtNum(wd.fit.r2)}` : '–',
      detail: wd?.fit ? `slope ${fmtNum(wd.fit.slope)} steps, n ${wd.fit.n}; paper R² 0.97` : (wd?.note ?? 'no fit'),
    },
    {
      label: 'delay vs norm law',
      value: law?.fit ? `r ${fmtNum(law.fit.pearson_r)}` : '–',
      detail: law?.fit ? `slope ${fmtNum(law.fit.slope)}, n ${law.fit.n}; paper r 0.91` : (law?.note ?? 'no fit'),
    },
    {
      label: 'delay predictor error',
      value: p.mean_abs_pct_error === null ? '–' : `${fmtNum(p.mean_abs_pct_error)} %`,
      detail: `mean over ${p.rows.length} run${p.rows.length === 1 ? '' : 's'} at k = ${p.horizon}; paper 34.6 %`,
    },
    {
      label: 'c/(lr·wd), median',
      value: fmtNum(median(ratios)),
      detail: `over ${ratios.length} grokked run${ratios.length === 1 ? '' : 's'}; paper ≈ 1.41 (AdamW)`,
    },
  ];
}

export function keyNumberNodes(doc: Document, keys: KeyNumber[]): HTMLElement {
  return el(
    doc,
    'div',
    { class: 'keys' },
    ...keys.map((k) =>
      el(
        doc,
        'div',
        { class: 'key' },
        el(doc, 'div', { class: 'k' }, k.label),
        el(doc, 'div', { class: 'v' }, k.value),
        k.detail ? el(doc, 'div', { class: 'd' }, k.detail) : null,
      ),
    ),
  );
}

/** The base config and the swept keys with their values. */
export function sweptTable(doc: Document, manifest: SweepManifest, axes: SweptAxis[]): HTMLElement {
  const c = manifest.base.config;
  const task = c.task
    ? Object.entries(c.task)
        .map(([k, v]) => `${k} ${fmtValue(v)}`)
        .join(', ')
    : '–';
  const rows: [string, string][] = [
    [
      'base',
      manifest.base.preset
        ? `preset ${manifest.base.preset}`
        : 'defaults' +
          (manifest.sweep?.base?.set && Object.keys(manifest.sweep.base.set).length
            ? ` with ${Object.entries(manifest.sweep.base.set)
                .map(([k, v]) => `${k} = ${fmtValue(v)}`)
                .join(', ')}`
            : ''),
    ],
    ['task', task],
    ['model', c.model ? describeModel(c.model) : '–'],
    ['optimiser', c.optimizer ? describeOptimizer(c) : '–'],
    ['budget', `${fmtValue(c.training?.steps)} steps, evaluated every ${fmtValue(c.training?.eval_every)}`],
    ...axes.map((a): [string, string] => [`swept: ${a.key}`, a.values.map(fmtValue).join(', ')]),
  ];
  if (!axes.length) rows.push(['swept', 'nothing varies between the runs']);
  return el(
    doc,
    'table',
    { class: 'run wide' },
    el(
      doc,
      'tbody',
      {},
      ...rows.map(([k, v]) => el(doc, 'tr', {}, el(doc, 'th', { scope: 'row' }, k), el(doc, 'td', {}, v))),
    ),
  );
}

/** Last segment of each key ("optimizer.weight_decay" → "weight_decay") unless two keys share it. */
export function shortKeys(keys: string[]): Map<string, string> {
  const last = (k: string) => k.slice(k.lastIndexOf('.') + 1);
  return new Map(keys.map((k) => [k, keys.some((o) => o !== k && last(o) === last(k)) ? k : last(k)]));
}

function diffCell(doc: Document, diff: ConfigChange[] | undefined, short: Map<string, string>): HTMLElement {
  if (!diff?.length) return el(doc, 'td', {}, 'same as base');
  return el(
    doc,
    'td',
    {},
    ...diff.map((c) =>
      el(
        doc,
        'div',
        { title: c.key },
        `${short.get(c.key) ?? c.key} = ${c.to === undefined ? '(absent)' : fmtValue(c.to)}`,
      ),
    ),
  );
}

function statusCell(doc: Document, r: RunAggregate): HTMLElement {
  const s = OUTCOME_STYLE[r.outcome];
  const mark = el(doc, 'span', {
    'aria-hidden': 'true',
    style: `display:inline-block;width:9px;height:9px;margin-right:5px;border:1px solid ${s.colour};background:${s.colour}`,
  });
  const why =
    r.outcome === 'failed' || r.outcome === 'unfinished' || r.outcome === 'diverged'
      ? el(doc, 'div', { class: 'sub' }, `${r.state}: ${r.reason}`)
      : null;
  return el(doc, 'td', {}, mark, s.label, why);
}

/** A run id with line-break opportunities after each '_' (ids are label=value parts joined by '_'). */
function breakable(doc: Document, id: string): Node[] {
  return id
    .split(/(?<=_)/)
    .flatMap((part, i) => (i ? [doc.createElement('wbr'), doc.createTextNode(part)] : [doc.createTextNode(part)]));
}

/** One row per run: its settings, outcome, transition times, norms, contraction and key frequencies. */
export function runsTable(
  doc: Document,
  manifest: SweepManifest,
  agg: SweepAggregate,
  runs: SweepReportRun[],
): HTMLElement {
  const diffs = new Map(manifest.runs.map((m) => [m.id, m.diff]));
  const short = shortKeys([...new Set(manifest.runs.flatMap((m) => m.diff.map((c) => c.key)))]);
  const hasReport = new Map(runs.map((r) => [r.id, r.hasReport]));
  const head = [
    'run',
    'config diff from the base',
    'status',
    'T_mem',
    'T_grok 95 % / 99 %',
    'delay',
    'V_mem',
    'V_at_grok',
    'c (per step)',
    'c/(lr·wd)',
    'key frequencies',
    'report',
  ];
  const rows = agg.runs.map((r) => {
    const linked = hasReport.get(r.id) === true;
    const href = runReportHref(r.id);
    const nums = [
      fmtStep(r.t_mem),
      `${fmtStep(r.t_grok_95)} / ${fmtStep(r.t_grok_99)}`,
      fmtStep(r.delay_95),
      fmtNum(r.v_mem),
      fmtNum(r.v_at_grok),
      r.c === null
        ? '–'
        : `${fmtNum(r.c)}${r.c_source === 'metrics' ? ' (m)' : r.c_source === 'analysis' ? ' (a)' : ''}`,
      fmtNum(r.c_over_lr_wd),
    ];
    return el(
      doc,
      'tr',
      { id: `run-${manifest.runs.findIndex((m) => m.id === r.id)}` },
      el(
        doc,
        'td',
        {},
        linked ? el(doc, 'a', { href }, ...breakable(doc, r.id)) : el(doc, 'span', {}, ...breakable(doc, r.id)),
      ),
      diffCell(doc, diffs.get(r.id), short),
      statusCell(doc, r),
      ...nums.map((c) => el(doc, 'td', { class: 'num' }, c)),
      el(doc, 'td', {}, r.key_frequencies?.length ? r.key_frequencies.join(', ') : '–'),
      el(doc, 'td', { class: 'link' }, linked ? el(doc, 'a', { href }, 'report') : 'no report yet'),
    );
  });
  return el(
    doc,
    'div',
    { class: 'scroll' },
    el(
      doc,
      'table',
      { class: 'wide transitions runs' },
      el(doc, 'thead', {}, el(doc, 'tr', {}, ...head.map((h) => el(doc, 'th', {}, h)))),
      el(doc, 'tbody', {}, ...rows),
    ),
  );
}
