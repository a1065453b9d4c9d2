/**
 * The sweep report's other figures: the phase diagram over two swept axes, test accuracy of every
 * run as small multiples (grouped by the phase diagram's row axis), and how often each key
 * frequency was found across the runs.
 */
import type { RunAggregate, SweepAggregate } from '../../analyses/sweep/types.ts';
import type { ManifestRun, SweepManifest } from '../../src/sweep/store.ts';
import { renderBarChart } from '../chart/bars.ts';
import { renderSmallMultiples } from '../chart/multiples.ts';
import { fmtStep, fmtValue } from '../format.ts';
import type { Figure } from '../page.ts';
import { KEY_COLOUR } from '../palette.ts';
import { STEP_LABEL } from '../run-figures.ts';
import { axisIndex, runValues, type SweptAxis } from './axes.ts';
import type { SweepReportRun } from './input.ts';
import { OUTCOME_STYLE, OUTCOMES } from './outcome.ts';
import { renderPhaseDiagram, type PhaseDiagramSpec } from './phase-diagram.ts';

/** Panels per small-multiples figure: each panel draws every other run of its figure in grey. */
export const MAX_PANELS = 12;

export function runTitle(r: RunAggregate): string {
  const s = OUTCOME_STYLE[r.outcome].label;
  switch (r.outcome) {
    case 'grokked':
      return `${r.id}: ${s}, delay ${fmtStep(r.delay_95)} (T_mem ${fmtStep(r.t_mem)}, T_grok ${fmtStep(r.t_grok_95)})`;
    case 'memorised':
      return `${r.id}: ${s} (T_mem ${fmtStep(r.t_mem)}, no T_grok within ${fmtStep(r.budget)} steps)`;
    case 'not-memorised':
      return `${r.id}: ${s} within ${fmtStep(r.budget)} steps`;
    default:
      return `${r.id}: ${s} (${r.state}: ${r.reason})`;
  }
}

/** Each run's position on the phase axes (−1 when its value is not on the axis). */
function positions(manifest: SweepManifest, axes: SweptAxis[]): Map<string, number[]> {
  const valueOf = runValues(manifest);
  return new Map(manifest.runs.map((m: ManifestRun) => [m.id, axes.map((a) => axisIndex(a, valueOf(m, a.key)))]));
}

export function phaseFigure(
  doc: Document,
  manifest: SweepManifest,
  agg: SweepAggregate,
  swept: SweptAxis[],
  axes: SweptAxis[],
  chosen = false,
): Figure {
  const id = 'phase-diagram';
  const title =
    axes.length === 2
      ? `Outcome over ${axes[0].key} and ${axes[1].key}`
      : axes.length === 1
        ? `Outcome over ${axes[0].key}`
        : 'Outcome';
  if (!axes.length) return { id, title, note: 'Not drawn: no setting varies between the runs of this sweep.' };
  const pos = positions(manifest, axes);
  const spec: PhaseDiagramSpec = {
    id: `${id}-svg`,
    title,
    columns: { label: axes[0].key, values: axes[0].values.map(fmtValue) },
    rows: axes[1] ? { label: axes[1].key, values: axes[1].values.map(fmtValue) } : null,
    cells: agg.runs.map((r) => {
      const [c, row] = pos.get(r.id) ?? [0, 0];
      return {
        col: Math.max(0, c),
        row: Math.max(0, row ?? 0),
        run: { outcome: r.outcome, delay: r.delay_95, title: runTitle(r) },
      };
    }),
    delayLabel: 'delay T_grok − T_mem (steps)',
  };
  const others = swept.filter((a) => !axes.includes(a));
  const caption = [
    'One square per run, in the cell of its two values. Grokked runs are coloured by their delay T_grok − T_mem (test accuracy ≥ 95 % minus train accuracy ≥ 99 %); the others are marked by outcome. Hover a square for the run.',
    chosen
      ? 'Axes: as asked for with --phase-axes.'
      : `Axes: the two swept settings with the most distinct values${axes.some((a) => a.seed) ? ' (the seed only because nothing else varies enough)' : ''}.`,
  ];
  if (others.length)
    caption.push(
      `The runs also differ in ${others.map((a) => `${a.key} (${a.values.map(fmtValue).join(', ')})`).join('; ')}: each cell holds every run with its two values.`,
    );
  return { id, title, svg: renderPhaseDiagram(doc, spec), caption };
}

/**
 * Run ids without the `label=value` parts every one of them shares ("wd=0.5_lr=0.001_seed=0" →
 * "wd=0.5" when all are at lr 0.001, seed 0), so panel titles stay short; an id left empty keeps
 * its full text.
 */
export function shortLabels(ids: string[]): { labels: Map<string, string>; common: string[] } {
  const parts = ids.map((id) => id.split('_'));
  const common = ids.length > 1 ? parts[0].filter((p) => parts.every((q) => q.includes(p))) : [];
  const labels = new Map(
    ids.map((id, i) => {
      const rest = parts[i].filter((p) => !common.includes(p)).join('_');
      return [id, rest || id];
    }),
  );
  return { labels, common };
}

/** Test accuracy per run, one figure per value of the phase diagram's row axis, at most MAX_PANELS panels each. */
export function accuracyFigures(
  doc: Document,
  manifest: SweepManifest,
  agg: SweepAggregate,
  runs: SweepReportRun[],
  axes: SweptAxis[],
): Figure[] {
  const rowsOf = new Map(runs.map((r) => [r.id, r.rows]));
  const pos = positions(manifest, axes);
  const order = agg.runs.map((r, i) => ({ r, i, p: pos.get(r.id) ?? [] }));
  order.sort((a, b) => (a.p[1] ?? 0) - (b.p[1] ?? 0) || (a.p[0] ?? 0) - (b.p[0] ?? 0) || a.i - b.i);
  let maxStep = 0;
  for (const r of agg.runs) maxStep = Math.max(maxStep, r.budget || 0, r.last_step ?? 0);
  const domain: [number, number] = [0, maxStep > 0 ? maxStep : 1];

  const groupAxis = axes[1];
  const groups: { label: string; items: typeof order }[] = [];
  for (const o of order) {
    const label = groupAxis ? `${groupAxis.key} = ${fmtValue(groupAxis.values[o.p[1]])}` : '';
    const last = groups[groups.length - 1];
    if (last && last.label === label && last.items.length < MAX_PANELS) last.items.push(o);
    else groups.push({ label, items: [o] });
  }
  const legend = `Colour: outcome (${OUTCOMES.map((o) => `${OUTCOME_STYLE[o].label} ${OUTCOME_STYLE[o].colourName}`).join(', ')}).`;
  return groups.map((g, gi) => {
    const id = `accuracy-${gi}`;
    const range =
      groups.length > 1
        ? ` (${g.label || `runs ${order.indexOf(g.items[0]) + 1}–${order.indexOf(g.items[g.items.length - 1]) + 1}`})`
        : '';
    const title = `Test accuracy per run${range}`;
    const withRows = g.items.filter((o) => (rowsOf.get(o.r.id) ?? []).length > 0);
    const without = g.items.filter((o) => !withRows.includes(o));
    const caption = without.length
      ? [`No metrics logged: ${without.map((o) => `${o.r.id} (${OUTCOME_STYLE[o.r.outcome].label})`).join('; ')}.`]
      : [];
    if (!withRows.length)
      return { id, title, note: 'Not drawn: none of these runs has logged a metrics row.', caption };
    const { labels, common } = shortLabels(withRows.map((o) => o.r.id));
    if (common.length)
      caption.unshift(`Panels are labelled by run id without the parts all of them share (${common.join('_')}).`);
    const svg = renderSmallMultiples(doc, {
      id: `${id}-svg`,
      title,
      x: { domain, label: STEP_LABEL },
      y: { scale: 'linear', label: 'test accuracy (%)', domain: [0, 1], percent: true },
      runs: withRows.map((o) => {
        const rows = rowsOf.get(o.r.id)!;
        return {
          label: labels.get(o.r.id)!,
          colour: OUTCOME_STYLE[o.r.outcome].colour,
          x: rows.map((row) => row.step),
          y: rows.map((row) => (typeof row.test_acc === 'number' ? row.test_acc : NaN)),
        };
      }),
    });
    return {
      id,
      title,
      svg,
      caption: [
        `One panel per run (from its metrics.jsonl), the other runs of this figure in grey. ${legend}`,
        ...caption,
      ],
    };
  });
}

/** How many runs found each key frequency (from their analysis.json). */
export function keyFrequencyFigure(doc: Document, agg: SweepAggregate): Figure {
  const id = 'key-frequencies';
  const title = 'Key frequencies across runs';
  const entries = Object.entries(agg.key_frequency_counts)
    .map(([k, n]) => [Number(k), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const analysed = agg.runs.filter((r) => r.key_frequencies !== null).length;
  if (!entries.length)
    return {
      id,
      title,
      note: `Not drawn: no run has key frequencies (${analysed} of ${agg.runs.length} runs have an analysis.json with them). Run \`groklens analyze\` on the runs to fill this chart.`,
    };
  const r = renderBarChart(doc, {
    id: `${id}-svg`,
    title,
    categories: entries.map(([k]) => String(k)),
    values: entries.map(([, n]) => n),
    colours: entries.map(() => KEY_COLOUR),
    above: entries.map(([, n]) => String(n)),
    xLabel: 'frequency k',
    y: {
      scale: 'linear',
      label: 'runs with k as a key frequency',
      format: (v) => (Number.isInteger(v) ? String(v) : ''),
    },
  });
  return {
    id,
    title,
    svg: r.svg,
    hover: r.hover,
    caption: [
      `Counted over the ${analysed} run${analysed === 1 ? '' : 's'} whose analysis.json lists key frequencies.`,
    ],
  };
}
