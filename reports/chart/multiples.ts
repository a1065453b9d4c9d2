/**
 * Small multiples for comparisons with many runs: one panel per run on shared scales, the run in
 * its colour over the others in light grey (so each panel still shows where the run sits among
 * the rest), with that run's phase bands behind it.
 */
import { line, scaleLinear } from 'd3';
import { svgRoot, textWidth, type G } from '../dom.ts';
import { drawXAxis, drawYAxis, extentOf, makeYScale, type YAxisSpec } from './axes.ts';
import { thinIndices } from './lines.ts';
import { drawPhaseBands, type PhaseOverlay } from './phases.ts';

export interface MultiplesRun {
  label: string;
  colour: string;
  x: number[];
  y: number[];
  phases?: PhaseOverlay | null;
}

export interface MultiplesSpec {
  id: string;
  title: string;
  x: { domain: [number, number]; label: string; format?: (v: number) => string };
  y: YAxisSpec;
  runs: MultiplesRun[];
  columns?: number;
  width?: number;
}

const M = { left: 56, right: 12, top: 24, bottom: 40, gap: 18 };
const PLOT_H = 110;

function path(
  xs: number[],
  ys: number[],
  x: (v: number) => number,
  y: (v: number) => number,
  log: boolean,
  cols: number,
  perColumn: 1 | 4,
): string {
  const px = xs.map(x);
  const keep = thinIndices(px, ys, cols, perColumn);
  const [y0, y1] = (y as unknown as { domain(): number[] }).domain();
  return (
    line<number>()
      .defined((i) => Number.isFinite(ys[i]) && (!log || ys[i] > 0))
      .x((i) => px[i])
      .y((i) => y(Math.min(y1, Math.max(y0, ys[i]))))
      .digits(1)(keep) ?? ''
  );
}

export function renderSmallMultiples(doc: Document, spec: MultiplesSpec): SVGSVGElement {
  const width = spec.width ?? 720;
  const cols = spec.columns ?? 3;
  const rows = Math.ceil(spec.runs.length / cols);
  const panelW = (width - M.left - M.right - (cols - 1) * (M.gap + M.left / 2)) / cols;
  const cellH = M.top + PLOT_H + M.bottom;
  const head = 18; // the y-axis title, once, above the panels (rotated it would not fit a short panel)
  const svg = svgRoot(doc, spec.id, width, head + rows * cellH + 6, spec.title);
  svg
    .append('text')
    .attr('class', 'axis-title')
    .attr('x', 4)
    .attr('y', 12)
    .attr('fill', '#333')
    .text(`y: ${spec.y.label}`);
  const log = spec.y.scale === 'log';
  const x = scaleLinear().domain(spec.x.domain).range([0, panelW]);
  const y = makeYScale(
    spec.y,
    extentOf(
      spec.runs.flatMap((r) => r.y),
      log,
    ),
    PLOT_H,
  );
  spec.runs.forEach((run, i) => {
    const c = i % cols;
    const r = Math.floor(i / cols);
    const left = M.left + c * (panelW + M.gap + M.left / 2);
    const g: G = svg
      .append('g')
      .attr('class', 'panel')
      .attr('transform', `translate(${left},${head + r * cellH + M.top})`);
    let title = run.label;
    while (title.length > 4 && textWidth(title, 11) > panelW) title = title.slice(0, -2);
    if (title !== run.label) title = title.slice(0, -1) + '…';
    g.append('text')
      .attr('x', 0)
      .attr('y', -8)
      .attr('font-weight', 'bold')
      .attr('fill', run.colour === '#F0E442' ? '#8a7f00' : run.colour)
      .text(title)
      .append('title')
      .text(run.label);
    if (run.phases) drawPhaseBands(g, x, PLOT_H, run.phases, { strip: false });
    drawYAxis(g, y, { ...spec.y, label: '' }, panelW, PLOT_H, M.left);
    const bottomRow = i >= spec.runs.length - cols;
    drawXAxis(g, x, PLOT_H, panelW, bottomRow ? spec.x.label : '', { format: spec.x.format, ticks: 3 });
    const lines = g.append('g').attr('fill', 'none');
    spec.runs.forEach((other, j) => {
      if (j !== i)
        lines
          .append('path')
          .attr('d', path(other.x, other.y, x, y, log, Math.ceil(panelW / 2), 1))
          .attr('stroke', '#c8c8c8')
          .attr('stroke-width', 0.8);
    });
    lines
      .append('path')
      .attr('d', path(run.x, run.y, x, y, log, Math.ceil(panelW), 4))
      .attr('stroke', run.colour)
      .attr('stroke-width', 1.8);
  });
  return svg.node()!;
}
