/**
 * Charts of the trajectory pass (analyses/trajectory.ts): the checkpoints on PC1–PC2 and PC1–PC3
 * joined in step order and coloured by phase, each phase boundary marked ①, ② … at the first
 * checkpoint past it; the explained variance of the leading components; the effective
 * dimensionality over sliding windows of checkpoints. Every point carries a <title> (no script).
 */
import { scaleLinear } from 'd3';
import type { PhaseName, TrajectoryResult } from '../analyses/types.ts';
import { renderBarChart } from './chart/bars.ts';
import { drawXAxis, drawYAxis } from './chart/axes.ts';
import { drawLegend, LEGEND_ROW, legendRows, type LegendItem } from './chart/legend.ts';
import type { LineSeries } from './chart/lines.ts';
import { boundaryMark, phaseLabel } from './chart/phases.ts';
import { svgRoot } from './dom.ts';
import { fmtNum, fmtStep } from './format.ts';
import type { Figure } from './page.ts';
import { OKABE_ITO, PHASE_STYLE, seriesColour, seriesDash } from './palette.ts';
import { timelineFigure, type RunContext } from './run-figures.ts';
import { missingPassNote, passRan } from './series.ts';

const M = { left: 64, right: 24, bottom: 44 };
const POINT_PHASE: Record<PhaseName, string> = {
  memorisation: OKABE_ITO.orange,
  circuit_formation: OKABE_ITO.blue,
  cleanup: OKABE_ITO.bluishGreen,
  stable: '#555555',
};

function phaseOf(ctx: RunContext, step: number): PhaseName | null {
  const ph = ctx.a.summary.phases.find((p) => step >= p.start && (p.end === null || step < p.end));
  return ph?.name ?? null;
}

/** The scatter of PC1 against PC `k` (2 or 3). */
export function trajectoryScatter(
  ctx: RunContext,
  t: TrajectoryResult,
  k: 1 | 2,
  id: string,
  title: string,
): SVGSVGElement {
  const width = 720;
  const plotH = 300;
  const innerW = width - M.left - M.right;
  const phasesSeen = [...new Set(t.steps.map((s) => phaseOf(ctx, s)).filter((p): p is PhaseName => p !== null))];
  const items: LegendItem[] = phasesSeen.map((p) => ({
    label: phaseLabel(p),
    colour: POINT_PHASE[p],
    dash: null,
    width: 6,
  }));
  const rows = legendRows(items, innerW);
  const top = 8 + Math.max(rows, 1) * LEGEND_ROW + 6;
  const svg = svgRoot(ctx.doc, id, width, top + plotH + M.bottom, title);
  drawLegend(svg.append('g').attr('transform', `translate(${M.left},6)`), items, innerW);
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${M.left},${top})`);
  const xs = t.coords.map((c) => c[0]);
  const ys = t.coords.map((c) => c[k] ?? 0);
  const pad = (lo: number, hi: number): [number, number] => {
    const span = hi - lo || Math.abs(hi) || 1;
    return [lo - 0.05 * span, hi + 0.05 * span];
  };
  const x = scaleLinear()
    .domain(pad(Math.min(...xs), Math.max(...xs)))
    .range([0, innerW])
    .nice(6);
  const y = scaleLinear()
    .domain(pad(Math.min(...ys), Math.max(...ys)))
    .range([plotH, 0])
    .nice(6);
  const ev = t.explained_variance_ratio;
  drawYAxis(
    plot,
    y,
    { scale: 'linear', label: `PC${k + 1} (${fmtPctShort(ev[k])} of the variance)` },
    innerW,
    plotH,
    M.left,
  );
  drawXAxis(plot, x, plotH, innerW, `PC1 (${fmtPctShort(ev[0])} of the variance)`);
  const path = t.coords.map((_, i) => `${i ? 'L' : 'M'}${x(xs[i]).toFixed(2)},${y(ys[i]).toFixed(2)}`).join('');
  plot
    .append('path')
    .attr('class', 'path')
    .attr('d', path)
    .attr('fill', 'none')
    .attr('stroke', '#9a9a9a')
    .attr('stroke-width', 0.8);
  const pts = plot.append('g').attr('class', 'points');
  t.steps.forEach((s, i) => {
    const ph = phaseOf(ctx, s);
    const c = pts
      .append('circle')
      .attr('cx', x(xs[i]))
      .attr('cy', y(ys[i]))
      .attr('r', 2.6)
      .attr('fill', ph ? POINT_PHASE[ph] : '#999')
      .attr('data-step', s);
    c.append('title').text(
      `step ${fmtStep(s)}${ph ? ` (${phaseLabel(ph)})` : ''}: PC1 ${fmtNum(xs[i])}, PC${k + 1} ${fmtNum(ys[i])}`,
    );
  });
  // start, end and the boundaries
  const label = (i: number, text: string, tip: string) => {
    const g = plot.append('g').attr('class', 'mark');
    g.append('title').text(tip);
    g.append('circle')
      .attr('cx', x(xs[i]))
      .attr('cy', y(ys[i]))
      .attr('r', 5)
      .attr('fill', 'none')
      .attr('stroke', '#000')
      .attr('stroke-width', 1);
    g.append('text')
      .attr('x', x(xs[i]) + 7)
      .attr('y', y(ys[i]) - 6)
      .attr('font-size', 11)
      .attr('fill', '#000')
      .text(text);
  };
  if (t.steps.length) {
    label(0, 'start', `step ${fmtStep(t.steps[0])}: the first checkpoint`);
    label(t.steps.length - 1, 'end', `step ${fmtStep(t.steps.at(-1)!)}: the last checkpoint`);
  }
  ctx.a.summary.boundaries.forEach((b, j) => {
    const i = t.steps.findIndex((s) => s >= b.step);
    if (i >= 0)
      label(
        i,
        boundaryMark(j),
        `${boundaryMark(j)} step ${fmtStep(b.step)}, ${phaseLabel(b.from)} → ${phaseLabel(b.to)}: ${b.reason}`,
      );
  });
  return svg.node()!;
}

const fmtPctShort = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;

function missingTrajectory(ctx: RunContext, id: string, title: string): Figure | null {
  if (passRan(ctx.a, 'trajectory') && ctx.a.trajectory && ctx.a.trajectory.steps.length >= 2) return null;
  return {
    id: `${ctx.idPrefix}${id}`,
    title,
    note: passRan(ctx.a, 'trajectory')
      ? 'Not drawn: fewer than 2 usable checkpoints.'
      : missingPassNote(ctx.a, ['trajectory'], ctx.runLabel),
  };
}

export function trajectoryFigures(ctx: RunContext): Figure[] {
  const t = ctx.a.trajectory;
  const first = missingTrajectory(ctx, 'trajectory', 'Trajectory through weight space');
  if (first || !t) return [first!];
  const excluded = t.excluded.length
    ? [`Left out: ${t.excluded.map((e) => `step ${fmtStep(e.step)} (${e.problem})`).join('; ')}.`]
    : [];
  const about = `PCA of the ${t.steps.length} checkpoints' flattened trained parameters (${t.n_params.toLocaleString('en')} numbers each), centred over training, from their ${t.steps.length} × ${t.steps.length} Gram matrix.`;
  const scatter = (k: 1 | 2): Figure => {
    const id = `${ctx.idPrefix}trajectory-pc1-pc${k + 1}`;
    const title = `Trajectory on PC1 and PC${k + 1}`;
    return {
      id,
      title,
      svg: trajectoryScatter(ctx, t, k, `${id}-svg`, title),
      caption: [
        `${about} Points in step order, coloured by phase; ①, ② … mark the first checkpoint past each phase boundary.`,
        ...excluded,
      ],
    };
  };
  const evId = `${ctx.idPrefix}trajectory-variance`;
  const ev = renderBarChart(ctx.doc, {
    id: `${evId}-svg`,
    title: 'Explained variance',
    categories: t.explained_variance_ratio.map((_, i) => `PC${i + 1}`),
    values: t.explained_variance_ratio,
    colours: t.explained_variance_ratio.map(() => OKABE_ITO.blue),
    xLabel: 'principal component',
    y: { scale: 'linear', label: 'share of the variance (%)', percent: true, domain: [0, 1] },
  });
  const perTensor = Object.entries(t.per_tensor);
  const edSeries: LineSeries[] = [
    {
      label: `all parameters (whole run: ${fmtNum(t.effective_dim ?? NaN)})`,
      x: t.window_steps,
      y: t.window_effective_dim.map((v) => v ?? NaN),
      colour: seriesColour(0),
      dash: null,
      width: 2,
    },
    ...perTensor.map(([name, v], i) => ({
      label: `${name} (${fmtNum(v.effective_dim ?? NaN)})`,
      x: t.window_steps,
      y: v.window_effective_dim.map((d) => d ?? NaN),
      colour: seriesColour(i + 1),
      dash: seriesDash(i + 1),
      width: 1.3,
    })),
  ];
  const ed = timelineFigure(
    ctx,
    'trajectory-dimension',
    'Effective dimensionality of the trajectory',
    { scale: 'linear', label: 'participation ratio (components)' },
    edSeries,
    [
      `Participation ratio (Σσ²)²/Σσ⁴ of the spectrum of ${t.window} consecutive checkpoints, each window centred on its own, drawn at its middle checkpoint; in brackets the value over the whole run. 1 means the weights move along a line; a burst marks a turn of the path.`,
    ],
  );
  return [
    scatter(1),
    scatter(2),
    {
      id: evId,
      title: 'Explained variance',
      svg: ev.svg,
      hover: ev.hover,
      caption: [
        `Share of the trajectory's variance along each of its first ${t.explained_variance_ratio.length} principal components (total Σ‖θ_t − θ̄‖² = ${fmtNum(t.total_variance)}). Per tensor, PC1: ${perTensor.map(([n, v]) => `${n} ${fmtPctShort(v.explained_variance_ratio[0])}`).join(', ') || '—'}.`,
      ],
    },
    ed,
  ];
}
