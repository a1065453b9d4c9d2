/**
 * Line charts over the shared timeline (or any numeric x): several series, linear or log y, phase
 * bands and boundaries, reference lines, a legend. Returns the SVG and the data for the hover
 * read-out. Series longer than the plot is wide are thinned to the first, lowest, highest and last
 * point of each pixel column, which keeps the drawn envelope and the file size bounded.
 */
import { line, scaleLinear } from 'd3';
import { svgRoot, type Svg } from '../dom.ts';
import { roundSig } from '../format.ts';
import { drawRefLines, drawXAxis, drawYAxis, extentOf, makeYScale, type NumScale, type YAxisSpec } from './axes.ts';
import { drawLegend, LEGEND_ROW, legendRows, type LegendItem } from './legend.ts';
import { drawBoundaries, drawPhaseBands, STRIP_HEIGHT, type PhaseOverlay } from './phases.ts';

export interface LineSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>; // NaN = gap
  colour: string;
  dash?: string | null;
  width?: number;
  opacity?: number;
  legend?: boolean; // default true
  points?: boolean; // a dot at every drawn point (a sparse series, e.g. λ̂ on a checkpoint subset)
}

export interface LineChartSpec {
  id: string;
  title: string;
  x: { domain: [number, number]; label: string; format?: (v: number) => string };
  y: YAxisSpec;
  series: LineSeries[];
  phases?: PhaseOverlay | null;
  refLines?: { y: number; label: string }[];
  vMarkers?: { x: number; label: string; title: string }[];
  width?: number;
  plotHeight?: number;
  legendItems?: LegendItem[]; // extra entries (e.g. a fitted curve drawn as a series already has one)
}

export interface LinesHover {
  kind: 'lines';
  plot: [number, number, number, number]; // left, top, width, height in SVG units
  domain: [number, number];
  log: boolean;
  percent: boolean;
  series: { label: string; colour: string; x: number[]; y: (number | null)[] }[];
}

export interface ChartResult<H> {
  svg: SVGSVGElement;
  hover: H;
  /** Values not drawable (≤ 0 on a log scale): the caption says so. */
  hidden: number;
}

export const MARGIN = { left: 64, right: 36, bottom: 44 };

/**
 * Indices to keep so that at most ~4 points fall in each pixel column (first, min, max, last), or
 * with `perColumn` 1 only the first point of each column (for context lines whose extremes do not
 * matter). Gaps (non-finite y) inside a column are kept so the line still breaks there.
 */
export function thinIndices(
  xPx: ArrayLike<number>,
  y: ArrayLike<number>,
  columns: number,
  perColumn: 1 | 4 = 4,
): number[] {
  const n = xPx.length;
  if (n <= columns * perColumn) return Array.from({ length: n }, (_, i) => i);
  const keep: number[] = [];
  let i = 0;
  while (i < n) {
    const col = Math.floor(xPx[i]);
    let j = i;
    let lo = -1;
    let hi = -1;
    while (j < n && Math.floor(xPx[j]) === col) {
      if (Number.isFinite(y[j])) {
        if (lo < 0 || y[j] < y[lo]) lo = j;
        if (hi < 0 || y[j] > y[hi]) hi = j;
      }
      j++;
    }
    const set = new Set(perColumn === 1 ? [i] : [i, j - 1]);
    if (lo >= 0 && perColumn === 4) set.add(lo);
    if (hi >= 0 && perColumn === 4) set.add(hi);
    // A gap inside the column must survive thinning, so the line breaks there too.
    for (let k = i; k < j; k++)
      if (!Number.isFinite(y[k])) {
        set.add(k);
        break;
      }
    keep.push(...[...set].sort((a, b) => a - b));
    i = j;
  }
  return keep;
}

export function renderLineChart(doc: Document, spec: LineChartSpec): ChartResult<LinesHover> {
  const width = spec.width ?? 720;
  const plotH = spec.plotHeight ?? 190;
  const innerW = width - MARGIN.left - MARGIN.right;
  const log = spec.y.scale === 'log';
  const items: LegendItem[] = [
    ...spec.series
      .filter((s) => s.legend !== false)
      .map((s) => ({ label: s.label, colour: s.colour, dash: s.dash, width: s.width })),
    ...(spec.legendItems ?? []),
  ];
  const rows = legendRows(items, innerW);
  const top = 8 + rows * LEGEND_ROW + (spec.phases ? STRIP_HEIGHT + 8 : 6);
  const height = top + plotH + MARGIN.bottom;
  const svg: Svg = svgRoot(doc, spec.id, width, height, spec.title);
  drawLegend(svg.append('g').attr('transform', `translate(${MARGIN.left},6)`), items, innerW);
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${MARGIN.left},${top})`);

  const x: NumScale = scaleLinear().domain(spec.x.domain).range([0, innerW]);
  const extent = extentOf(
    spec.series.flatMap((s) => Array.from(s.y)),
    log,
  );
  const y = makeYScale(spec.y, extent, plotH);
  if (spec.phases) drawPhaseBands(plot, x, plotH, spec.phases);
  drawYAxis(plot, y, spec.y, innerW, plotH, MARGIN.left);
  drawXAxis(plot, x, plotH, innerW, spec.x.label, { format: spec.x.format });

  drawRefLines(plot, y, innerW, spec.refLines ?? [], 36);

  const [y0, y1] = y.domain();
  let hidden = 0;
  const lines = plot.append('g').attr('class', 'series').attr('fill', 'none');
  const hover: LinesHover = {
    kind: 'lines',
    plot: [MARGIN.left, top, innerW, plotH],
    domain: [spec.x.domain[0], spec.x.domain[1]],
    log,
    percent: !!spec.y.percent,
    series: [],
  };
  spec.series.forEach((s) => {
    const n = Math.min(s.x.length, s.y.length);
    const px = Float64Array.from({ length: n }, (_, i) => x(s.x[i]));
    const keep = thinIndices(px, s.y, Math.ceil(innerW));
    const pts: [number, number, boolean][] = keep.map((i) => {
      const v = s.y[i];
      const ok = Number.isFinite(v) && Number.isFinite(s.x[i]) && (!log || v > 0);
      if (Number.isFinite(v) && log && v <= 0) hidden++;
      // Clamp into the plot so a value past a fixed domain runs along the edge instead of off the chart.
      const yv = ok ? Math.min(y1, Math.max(y0, v)) : y0;
      return [px[i], ok ? y(yv) : 0, ok];
    });
    const path = line<[number, number, boolean]>()
      .defined((d) => d[2])
      .x((d) => d[0])
      .y((d) => d[1])
      .digits(2)(pts);
    const el = lines
      .append('path')
      .attr('d', path ?? '')
      .attr('stroke', s.colour)
      .attr('stroke-width', s.width ?? 1.6)
      .attr('stroke-linejoin', 'round');
    if (s.dash) el.attr('stroke-dasharray', s.dash);
    if (s.opacity !== undefined) el.attr('stroke-opacity', s.opacity);
    // An isolated point between gaps draws nothing as a path: mark it.
    pts.forEach((p, k) => {
      if (p[2] && (s.points || (!pts[k - 1]?.[2] && !pts[k + 1]?.[2])))
        lines.append('circle').attr('cx', p[0]).attr('cy', p[1]).attr('r', 2).attr('fill', s.colour);
    });
    if (s.legend !== false) {
      hover.series.push({
        label: s.label,
        colour: s.colour,
        x: keep.map((i) => s.x[i]),
        y: keep.map((i) => roundSig(s.y[i], 4)),
      });
    }
  });

  for (const m of spec.vMarkers ?? []) {
    if (m.x < spec.x.domain[0] || m.x > spec.x.domain[1]) continue;
    const g = plot.append('g').attr('class', 'marker');
    g.append('title').text(m.title);
    g.append('line')
      .attr('x1', x(m.x))
      .attr('x2', x(m.x))
      .attr('y1', 0)
      .attr('y2', plotH)
      .attr('stroke', '#000')
      .attr('stroke-width', 0.8)
      .attr('stroke-dasharray', '1 2');
    g.append('text')
      .attr('x', x(m.x) + 2)
      .attr('y', plotH - 4)
      .attr('font-size', 9)
      .attr('fill', '#000')
      .text(m.label);
  }
  if (spec.phases) drawBoundaries(plot, x, plotH, spec.phases);
  return { svg: svg.node()!, hover, hidden };
}
