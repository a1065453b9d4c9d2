/**
 * The delay-law fits of a sweep (aggregate.json `fits`) as scatter plots with their least-squares
 * line and slope interval, a table of the three fits beside the paper's numbers, and the delay
 * predictor (predicted against actual T_grok). Runs left out of a fit are always named with the
 * reason; those that finished without grokking also appear as ▲ above the plot, at their x.
 */
import type { FitSection, RunAggregate, SweepAggregate } from '../../analyses/sweep/types.ts';
import type { LegendItem } from '../chart/legend.ts';
import { fmtNum, fmtStep, fmtValue } from '../format.ts';
import { el, type Figure } from '../page.ts';
import { OKABE_ITO } from '../palette.ts';
import { OUTCOME_STYLE } from './outcome.ts';
import {
  FIT_COLOUR,
  INTERVAL_COLOUR,
  renderScatter,
  scatterDomain,
  type CensoredPoint,
  type ScatterPoint,
} from './scatter.ts';

interface FitView {
  title: string;
  /** What Truong et al. found, for the table. */
  paper: string;
  /** The setting that colours the points (the one that should be held fixed). */
  group: { name: string; of: (r: RunAggregate) => unknown };
  /** x of a run that has no y (for the ▲ strip), or null. */
  censoredX: (r: RunAggregate) => number | null;
  yFormat: (v: number) => string;
}

const VIEWS: Record<FitSection['name'], FitView> = {
  tgrok_vs_inv_wd: {
    title: 'T_grok against 1 / weight decay',
    paper: 'linear, R² 0.97',
    group: { name: 'lr', of: (r) => r.lr },
    censoredX: (r) => (r.weight_decay > 0 ? 1 / r.weight_decay : null),
    yFormat: (v) => fmtStep(v),
  },
  tgrok_vs_inv_lr: {
    title: 'T_grok against 1 / learning rate',
    paper: 'linear, R² 0.92',
    group: { name: 'wd', of: (r) => r.weight_decay },
    censoredX: (r) => (r.lr > 0 ? 1 / r.lr : null),
    yFormat: (v) => fmtStep(v),
  },
  delay_vs_norm_law: {
    title: 'Delay against the norm-separation law',
    paper: 'slope ≈ 1/1.41 (AdamW), r 0.91',
    group: { name: 'optimizer', of: (r) => r.optimizer },
    censoredX: () => null,
    yFormat: (v) => fmtStep(v),
  },
};

export const fitTitle = (name: FitSection['name']): string => VIEWS[name]?.title ?? name;

/** "slope 1000 [95 % CI 950, 1050] · intercept 100 · R² 0.99 · r 0.995 · n 8" */
export function fitStats(f: FitSection): string {
  if (!f.fit) return '';
  const ci = f.fit.slope_ci
    ? ` [${Math.round(f.fit.slope_ci.level * 100)} % CI ${fmtNum(f.fit.slope_ci.lo)}, ${fmtNum(f.fit.slope_ci.hi)}]`
    : ' [no interval]';
  return `slope ${fmtNum(f.fit.slope)}${ci} · intercept ${fmtNum(f.fit.intercept)} · R² ${fmtNum(f.fit.r2)} · r ${fmtNum(f.fit.pearson_r)} · n ${f.fit.n}`;
}

/** Colours of point groups: Okabe–Ito without orange and vermillion, which mark the outcomes. */
const GROUP_COLOURS = [
  OKABE_ITO.blue,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.black,
];
const groupColour = (i: number): string => GROUP_COLOURS[i % GROUP_COLOURS.length];

/** "What (n): reason: id, id; reason: id." — runs with the same reason listed together. */
export function leftOut(list: { id: string; reason: string }[], what: string): string[] {
  if (!list.length) return [];
  const byReason = new Map<string, string[]>();
  for (const e of list) byReason.set(e.reason, [...(byReason.get(e.reason) ?? []), e.id]);
  return [
    `${what} (${list.length}): ${[...byReason].map(([reason, ids]) => `${reason}: ${ids.join(', ')}`).join('; ')}.`,
  ];
}

export function fitFigure(doc: Document, agg: SweepAggregate, f: FitSection): Figure {
  const id = `fit-${f.name.replace(/_/g, '-')}`;
  const view = VIEWS[f.name];
  const title = view?.title ?? `${f.y_label} against ${f.x_label}`;
  const byId = new Map(agg.runs.map((r) => [r.id, r]));
  const group = view?.group;
  const groupValues: unknown[] = [];
  const groupOf = (r: RunAggregate | undefined) => {
    const v = r && group ? group.of(r) : null;
    let i = groupValues.findIndex((u) => u === v);
    if (i < 0) i = groupValues.push(v) - 1;
    return i;
  };
  const pts = f.points.map((p) => ({ p, g: groupOf(byId.get(p.id)) }));
  const coloured = groupValues.length > 1;
  const yFormat = view?.yFormat ?? ((v: number) => fmtNum(v));
  const points: ScatterPoint[] = pts.map(({ p, g }) => ({
    x: p.x,
    y: p.y,
    colour: coloured ? groupColour(g) : OKABE_ITO.blue,
    title: `${p.id}: x ${fmtNum(p.x, 4)}, y ${yFormat(p.y)}`,
  }));
  const censored: CensoredPoint[] = [];
  for (const e of f.excluded) {
    const r = byId.get(e.id);
    if (!r || (r.outcome !== 'memorised' && r.outcome !== 'not-memorised')) continue;
    const x = view?.censoredX(r) ?? null;
    if (x === null || !Number.isFinite(x)) continue;
    censored.push({ x, colour: OUTCOME_STYLE[r.outcome].colour, title: `${e.id}: ${e.reason}` });
  }
  const caption: string[] = [];
  const leftOutText = leftOut(f.excluded, 'Not in the fit');
  if (!points.length && !censored.length) {
    return {
      id,
      title,
      note: `Not drawn: no run has a point here.${f.note ? ` ${f.note}` : ''}`,
      caption: leftOutText,
    };
  }
  const fit = f.fit;
  const legend: LegendItem[] = coloured
    ? groupValues.map((v, i) => ({
        label: `${group!.name} = ${fmtValue(v)}`,
        colour: groupColour(i),
        kind: 'point' as const,
      }))
    : [{ label: 'run (grokked)', colour: OKABE_ITO.blue, kind: 'point' }];
  if (fit) legend.push({ label: 'least-squares line', colour: FIT_COLOUR, width: 1.5 });
  if (fit?.slope_ci)
    legend.push({
      label: `slope ${Math.round(fit.slope_ci.level * 100)} % interval`,
      colour: INTERVAL_COLOUR,
      kind: 'box',
    });
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const svg = renderScatter(doc, {
    id: `${id}-svg`,
    title,
    x: { label: f.x_label },
    y: { label: f.y_label, format: yFormat },
    points,
    fit: fit
      ? {
          slope: fit.slope,
          intercept: fit.intercept,
          interval: fit.slope_ci ? [fit.slope_ci.lo, fit.slope_ci.hi] : null,
          centre: [mean(f.points.map((p) => p.x)), mean(f.points.map((p) => p.y))],
        }
      : null,
    stats: fit ? fitStats(f) : `no fit${f.note ? `: ${f.note}` : ''}`,
    censored,
    censoredLabel: 'no T_grok',
    legend,
  });
  caption.push(
    fit?.slope_ci
      ? `Each dot a grokked run; the line the least-squares fit; the band the percentile-bootstrap ${Math.round(fit.slope_ci.level * 100)} % interval of its slope (${fit.slope_ci.resamples} resamples, seed ${fit.slope_ci.seed}), drawn as a fan about the mean point, through which the fitted line passes.`
      : 'Each dot a grokked run' +
          (fit ? '; the line the least-squares fit (too few points for a bootstrap interval).' : '.'),
  );
  if (coloured) caption.push(`Colours: ${group!.name}, which varies across these runs.`);
  if (censored.length)
    caption.push(
      `▲ in the strip above the plot: ${censored.length} run${censored.length === 1 ? '' : 's'} that finished without grokking (T_grok beyond the budget), at their x; orange memorised only, vermillion failed to memorise.`,
    );
  if (f.note && fit) caption.push(`Note: ${f.note}.`);
  caption.push(...leftOutText);
  return { id, title, svg, caption };
}

/** The three fits side by side with Truong et al.'s numbers. */
export function fitsTable(doc: Document, agg: SweepAggregate): HTMLElement {
  const head = ['fit', 'n', 'slope', 'slope interval', 'intercept', 'R²', 'Pearson r', 'left out', 'Truong et al.'];
  const rows = agg.fits.map((f) => {
    const fit = f.fit;
    const ci = fit?.slope_ci
      ? `${fmtNum(fit.slope_ci.lo)} … ${fmtNum(fit.slope_ci.hi)} (${Math.round(fit.slope_ci.level * 100)} %)`
      : '–';
    const cells = fit
      ? [String(fit.n), fmtNum(fit.slope), ci, fmtNum(fit.intercept), fmtNum(fit.r2), fmtNum(fit.pearson_r)]
      : [String(f.points.length), '–', '–', '–', '–', '–'];
    return el(
      doc,
      'tr',
      {},
      el(
        doc,
        'td',
        {},
        el(doc, 'a', { href: `#fit-${f.name.replace(/_/g, '-')}` }, fitTitle(f.name)),
        f.note ? el(doc, 'div', { class: 'sub' }, f.note) : null,
      ),
      ...cells.map((c) => el(doc, 'td', { class: 'num' }, c)),
      el(doc, 'td', { class: 'num' }, String(f.excluded.length)),
      el(doc, 'td', {}, VIEWS[f.name]?.paper ?? '–'),
    );
  });
  return el(
    doc,
    'div',
    { class: 'scroll' },
    el(
      doc,
      'table',
      { class: 'wide fits' },
      el(doc, 'thead', {}, el(doc, 'tr', {}, ...head.map((h) => el(doc, 'th', {}, h)))),
      el(doc, 'tbody', {}, ...rows),
    ),
  );
}

/** Predicted against actual T_grok, with y = x. */
export function predictorFigure(doc: Document, agg: SweepAggregate): Figure {
  const p = agg.predictor;
  const id = 'predictor-scatter';
  const title = 'Predicted against actual T_grok';
  const excluded = leftOut(p.excluded, 'Not predicted');
  if (!p.rows.length)
    return { id, title, note: `Not drawn: no run could be predicted at horizon k = ${p.horizon}.`, caption: excluded };
  const d = scatterDomain(p.rows.flatMap((r) => [r.actual_t_grok, r.predicted_t_grok]));
  const svg = renderScatter(doc, {
    id: `${id}-svg`,
    title,
    x: { label: 'actual T_grok (steps, test acc ≥ 0.95)', format: fmtStep, domain: d },
    y: { label: 'predicted T_grok (steps)', format: fmtStep, domain: d },
    identity: true,
    points: p.rows.map((r) => ({
      x: r.actual_t_grok,
      y: r.predicted_t_grok,
      colour: OKABE_ITO.blue,
      title: `${r.id}: actual ${fmtStep(r.actual_t_grok)}, predicted ${fmtStep(r.predicted_t_grok)} (error ${fmtNum(r.abs_pct_error)} %)`,
    })),
    stats: `mean absolute error ${fmtNum(p.mean_abs_pct_error)} % over ${p.rows.length} run${p.rows.length === 1 ? '' : 's'} (Truong et al.: 34.6 %)`,
    legend: [
      { label: 'run', colour: OKABE_ITO.blue, kind: 'point' },
      { label: 'perfect prediction (y = x)', colour: '#777', dash: '4 3', width: 1 },
    ],
  });
  return {
    id,
    title,
    svg,
    caption: [
      `Each dot a run predicted from its metrics up to T_mem + ${p.horizon} steps. Method: ${p.method}.`,
      ...excluded,
    ],
  };
}

/** One row per predicted run. */
export function predictorTable(doc: Document, agg: SweepAggregate): HTMLElement {
  const p = agg.predictor;
  const head = ['run', 'T_mem', 'actual T_grok', 'predicted T_grok', 'error', 'early c (per step)', 'log ratio used'];
  return el(
    doc,
    'div',
    { class: 'scroll' },
    el(
      doc,
      'table',
      { class: 'wide predictor' },
      el(doc, 'thead', {}, el(doc, 'tr', {}, ...head.map((h) => el(doc, 'th', {}, h)))),
      el(
        doc,
        'tbody',
        {},
        ...p.rows.map((r) =>
          el(
            doc,
            'tr',
            {},
            el(doc, 'td', {}, r.id),
            ...[
              fmtStep(r.t_mem),
              fmtStep(r.actual_t_grok),
              fmtStep(r.predicted_t_grok),
              `${fmtNum(r.abs_pct_error)} %`,
              fmtNum(r.c_early),
              fmtNum(r.log_ratio_used),
            ].map((c) => el(doc, 'td', { class: 'num' }, c)),
          ),
        ),
      ),
    ),
  );
}
