/**
 * The chart of the linear-grokking report: numeric x and y, each linear or log, with lines, points,
 * a histogram, vertical markers and horizontal reference lines. Grokking in these problems spans
 * decades of steps (ridge: t₁ in the hundreds, t₂ in the tens of thousands), which the shared
 * timeline chart (chart/lines.ts, linear steps) cannot show, so this one adds log x; everything
 * else — axes, decade ticks, legend, thinning, palette, rounding — is the shared machinery.
 *
 * No hover read-out (the report script reads linear step axes only): every point, marker and
 * reference line carries a <title> tooltip instead, which needs no script, and the figures'
 * captions and tables give the numbers.
 */
import { scaleLinear, scaleLog, line } from 'd3';
import { svgRoot, textWidth, type G } from '../dom.ts';
import {
  drawRefLines,
  drawXAxis,
  drawYAxis,
  extentOf,
  makeYScale,
  yTicks,
  type NumScale,
  type YAxisSpec,
} from '../chart/axes.ts';
import { drawLegend, LEGEND_ROW, legendRows, type LegendItem } from '../chart/legend.ts';
import { MARGIN, thinIndices } from '../chart/lines.ts';

export interface XAxisSpec {
  scale: 'linear' | 'log';
  label: string;
  domain?: [number, number]; // fixed; otherwise from the data (log: whole decades)
  format?: (v: number) => string; // tick labels
  /** Ticks at these values (e.g. the swept values of a categorical axis). */
  ticks?: number[];
}

export interface XYSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number | null>; // null / NaN = gap
  colour: string;
  dash?: string | null;
  width?: number;
  opacity?: number;
  line?: boolean; // default true
  points?: boolean; // circles at the data points (default false)
  radius?: number;
  titles?: (string | null)[]; // a tooltip per point (points only)
  legend?: boolean; // default true
}

export interface XYMarker {
  x: number;
  label: string;
  title: string; // tooltip: what the time is and how it was found
  colour?: string;
  dash?: string;
}

export interface XYBars {
  edges: number[]; // [bins + 1]
  values: number[]; // [bins]
  colour: string;
  label: string;
  titles?: string[];
}

export interface XYSpec {
  id: string;
  title: string;
  x: XAxisSpec;
  y: YAxisSpec;
  series: XYSeries[];
  bars?: XYBars;
  markers?: XYMarker[];
  refLines?: { y: number; label: string; title?: string }[];
  width?: number;
  plotHeight?: number;
}

export interface XYResult {
  svg: SVGSVGElement;
  /** Finite values a log axis cannot show (≤ 0): the caption says so. */
  hidden: number;
  /** Points drawn (series and bars): 0 means an empty chart. */
  drawn: number;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function xScale(spec: XAxisSpec, values: number[], width: number): NumScale {
  const log = spec.scale === 'log';
  const extent = spec.domain ?? extentOf(values, log);
  if (log) {
    // Whole decades, as the y axes do (makeYScale's rule, reused on a [0, width] range).
    const d = makeYScale({ scale: 'log', label: '' }, extent, 1).domain() as [number, number];
    return scaleLog().domain(d).range([0, width]);
  }
  if (spec.domain) return scaleLinear().domain(spec.domain).range([0, width]);
  let [lo, hi] = extent ?? [0, 1];
  if (hi === lo) {
    lo -= Math.abs(lo) * 0.1 || 0.5;
    hi += Math.abs(hi) * 0.1 || 0.5;
  }
  const pad = (hi - lo) * 0.04;
  return scaleLinear()
    .domain([lo - pad, hi + pad])
    .range([0, width]);
}

/** Marker labels stacked in rows from the top of the plot, so near-equal times stay readable. */
function markerRows(markers: XYMarker[], x: NumScale): number[] {
  const ends: number[] = [];
  return markers.map((m) => {
    const left = x(m.x) + 2;
    let row = ends.findIndex((end) => end < left);
    if (row < 0) row = ends.length;
    ends[row] = left + textWidth(m.label, 9) + 4;
    return row;
  });
}

export function renderXYChart(doc: Document, spec: XYSpec): XYResult {
  const width = spec.width ?? 720;
  const plotH = spec.plotHeight ?? 220;
  const innerW = width - MARGIN.left - MARGIN.right;
  const items: LegendItem[] = [
    ...(spec.bars ? [{ label: spec.bars.label, colour: spec.bars.colour, kind: 'box' as const }] : []),
    ...spec.series
      .filter((s) => s.legend !== false)
      .map((s) => ({
        label: s.label,
        colour: s.colour,
        dash: s.dash,
        width: s.width,
        kind: s.line === false ? ('point' as const) : ('line' as const),
      })),
  ];
  const top = 8 + legendRows(items, innerW) * LEGEND_ROW + 6;
  const height = top + plotH + MARGIN.bottom;
  const svg = svgRoot(doc, spec.id, width, height, spec.title);
  drawLegend(svg.append('g').attr('transform', `translate(${MARGIN.left},6)`), items, innerW);
  const plot: G = svg.append('g').attr('class', 'plot').attr('transform', `translate(${MARGIN.left},${top})`);

  const xLog = spec.x.scale === 'log';
  const yLog = spec.y.scale === 'log';
  const xs = [...spec.series.flatMap((s) => Array.from(s.x)), ...(spec.bars?.edges ?? [])];
  const x = xScale(spec.x, xs, innerW);
  const ys = [
    ...spec.series.flatMap((s) => Array.from(s.y, (v) => (finite(v) ? v : NaN))),
    ...(spec.bars?.values ?? []),
  ];
  const y = makeYScale(spec.y, extentOf(ys, yLog), plotH);
  drawYAxis(plot, y, spec.y, innerW, plotH, MARGIN.left);
  const tickValues = spec.x.ticks ?? (xLog ? yTicks(x, { scale: 'log', label: '' }).values : undefined);
  drawXAxis(plot, x, plotH, innerW, spec.x.label, { format: spec.x.format ?? ((v) => String(v)), values: tickValues });

  const [x0, x1] = x.domain();
  const [y0, y1] = y.domain();
  const inX = (v: number) => finite(v) && (!xLog || v > 0) && v >= Math.min(x0, x1) && v <= Math.max(x0, x1);
  const okY = (v: number) => finite(v) && (!yLog || v > 0);
  let hidden = 0;
  let drawn = 0;

  if (spec.bars) {
    const b = spec.bars;
    const g = plot.append('g').attr('class', 'bars');
    const base = yLog ? y0 : 0;
    b.values.forEach((v, i) => {
      if (v === 0) return; // an empty bin: nothing to draw
      if (!okY(v) || !inX(b.edges[i]) || !inX(b.edges[i + 1])) {
        if (finite(v) && yLog && v <= 0) hidden++;
        return;
      }
      drawn++;
      const top = y(Math.min(y1, v));
      const r = g
        .append('rect')
        .attr('x', x(b.edges[i]))
        .attr('width', Math.max(0, x(b.edges[i + 1]) - x(b.edges[i])))
        .attr('y', top)
        .attr('height', Math.max(0, y(base) - top))
        .attr('fill', b.colour);
      if (b.titles?.[i]) r.append('title').text(b.titles[i]);
    });
  }

  drawRefLines(plot, y, innerW, spec.refLines ?? [], 150, true);

  const layer = plot.append('g').attr('class', 'series').attr('fill', 'none');
  for (const s of spec.series) {
    const n = Math.min(s.x.length, s.y.length);
    const ok = (i: number) => inX(s.x[i]) && okY(s.y[i] as number);
    for (let i = 0; i < n; i++) {
      if (finite(s.y[i]) && ((yLog && (s.y[i] as number) <= 0) || (xLog && s.x[i] <= 0))) hidden++;
      if (ok(i)) drawn++;
    }
    if (s.line !== false) {
      // Only points inside the x domain, in order (thinning needs a pixel column for each).
      const at = Array.from({ length: n }, (_, i) => i).filter((i) => inX(s.x[i]));
      const px = Float64Array.from(at, (i) => x(s.x[i]));
      const yv = at.map((i) => (ok(i) ? (s.y[i] as number) : NaN));
      const keep = thinIndices(px, yv, Math.ceil(innerW)).map((k) => at[k]);
      const pts: [number, number, boolean][] = keep.map((i) =>
        ok(i) ? [x(s.x[i]), y(Math.min(y1, Math.max(y0, s.y[i] as number))), true] : [0, 0, false],
      );
      const d = line<[number, number, boolean]>()
        .defined((p) => p[2])
        .x((p) => p[0])
        .y((p) => p[1])
        .digits(2)(pts);
      const path = layer
        .append('path')
        .attr('d', d ?? '')
        .attr('stroke', s.colour)
        .attr('stroke-width', s.width ?? 1.6)
        .attr('stroke-linejoin', 'round');
      if (s.dash) path.attr('stroke-dasharray', s.dash);
      if (s.opacity !== undefined) path.attr('stroke-opacity', s.opacity);
    }
    if (s.points) {
      const g = layer.append('g').attr('class', 'points').attr('fill', s.colour).attr('stroke', 'none');
      if (s.opacity !== undefined) g.attr('fill-opacity', s.opacity);
      for (let i = 0; i < n; i++) {
        if (!ok(i)) continue;
        const c = g
          .append('circle')
          .attr('cx', x(s.x[i]))
          .attr('cy', y(Math.min(y1, Math.max(y0, s.y[i] as number))))
          .attr('r', s.radius ?? 2.5);
        const t = s.titles?.[i];
        if (t) c.append('title').text(t);
      }
    }
  }

  const markers = (spec.markers ?? []).filter((m) => inX(m.x));
  const rows = markerRows(markers, x);
  markers.forEach((m, i) => {
    const g = plot.append('g').attr('class', 'marker');
    g.append('title').text(m.title);
    g.append('line')
      .attr('x1', x(m.x))
      .attr('x2', x(m.x))
      .attr('y1', 0)
      .attr('y2', plotH)
      .attr('stroke', m.colour ?? '#000')
      .attr('stroke-width', 0.9)
      .attr('stroke-dasharray', m.dash ?? '1 2');
    g.append('text')
      .attr('x', x(m.x) + 2)
      .attr('y', 10 + 11 * rows[i])
      .attr('font-size', 9)
      .attr('fill', m.colour ?? '#000')
      .text(m.label);
  });
  return { svg: svg.node()!, hidden, drawn };
}
