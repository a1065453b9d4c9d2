/**
 * A scatter plot across runs: one point per run, an optional least-squares line with the bootstrap
 * interval of its slope drawn as a fan about the mean point (the OLS line passes through it), an
 * optional y = x reference, and a strip above the plot for runs without a y value (they did not
 * grok within their budget: their T_grok lies above anything plotted). Points carry <title>
 * tooltips, so no script is needed to identify a run.
 */
import { scaleLinear } from 'd3';
import { drawLegend, LEGEND_ROW, legendRows, type LegendItem } from '../chart/legend.ts';
import { drawXAxis, drawYAxis, makeYScale, type NumScale } from '../chart/axes.ts';
import { MARGIN } from '../chart/lines.ts';
import { svgRoot } from '../dom.ts';
import { fmtNum } from '../format.ts';
import { OKABE_ITO } from '../palette.ts';

export interface ScatterPoint {
  x: number;
  y: number;
  colour: string;
  title: string; // tooltip: the run and its values
}

export interface CensoredPoint {
  x: number;
  colour: string;
  title: string;
}

export interface ScatterSpec {
  id: string;
  title: string;
  x: { label: string; format?: (v: number) => string; domain?: [number, number] };
  y: { label: string; format?: (v: number) => string; domain?: [number, number] };
  points: ScatterPoint[];
  /** y = intercept + slope·x; `interval` bounds the slope, pivoting at `centre` (x̄, ȳ). */
  fit?: { slope: number; intercept: number; interval: [number, number] | null; centre: [number, number] } | null;
  /** One line of text above the plot (the fit's numbers). */
  stats?: string;
  identity?: boolean;
  /** Runs with an x but no y, drawn as ▲ in a strip above the plot labelled `censoredLabel`. */
  censored?: CensoredPoint[];
  censoredLabel?: string;
  legend?: LegendItem[];
  width?: number;
  plotHeight?: number;
}

export const FIT_COLOUR = OKABE_ITO.black;
export const INTERVAL_COLOUR = OKABE_ITO.skyBlue;
const STRIP = 18;
const R = 3.5;

/** A domain around values: from 0 when they start near it, padded, extended to round numbers. */
export function scatterDomain(values: number[]): [number, number] {
  const fin = values.filter(Number.isFinite);
  if (!fin.length) return [0, 1];
  let lo = Math.min(...fin);
  let hi = Math.max(...fin);
  if (lo > 0 && lo < hi * 0.5) lo = 0;
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(hi) * 0.1 || 1;
  const d = scaleLinear()
    .domain([lo === 0 ? 0 : lo - pad, hi + pad])
    .nice(5)
    .domain();
  return [d[0], d[1]];
}

/** Pixel offsets that spread markers sharing (nearly) one x position side by side. */
function spread(px: number[], gap: number): number[] {
  const out = px.slice();
  const groups = new Map<number, number[]>();
  px.forEach((p, i) => {
    const k = Math.round(p / gap);
    groups.set(k, [...(groups.get(k) ?? []), i]);
  });
  for (const idx of groups.values()) idx.forEach((i, j) => (out[i] = px[idx[0]] + (j - (idx.length - 1) / 2) * gap));
  return out;
}

export function renderScatter(doc: Document, spec: ScatterSpec): SVGSVGElement {
  const width = spec.width ?? 720;
  const plotH = spec.plotHeight ?? 220;
  const innerW = width - MARGIN.left - MARGIN.right;
  const items = spec.legend ?? [];
  const censored = spec.censored ?? [];
  const statsH = spec.stats ? 16 : 0;
  const stripH = censored.length ? STRIP + 6 : 0;
  const top = 8 + legendRows(items, innerW) * LEGEND_ROW + statsH + stripH + 6;
  const svg = svgRoot(doc, spec.id, width, top + plotH + MARGIN.bottom, spec.title);
  drawLegend(svg.append('g').attr('transform', `translate(${MARGIN.left},6)`), items, innerW);
  if (spec.stats) {
    svg
      .append('text')
      .attr('class', 'stats')
      .attr('x', MARGIN.left)
      .attr('y', top - stripH - 8)
      .attr('fill', '#222')
      .text(spec.stats);
  }
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${MARGIN.left},${top})`);

  const xd = spec.x.domain ?? scatterDomain([...spec.points.map((p) => p.x), ...censored.map((c) => c.x)]);
  const x: NumScale = scaleLinear().domain(xd).range([0, innerW]);
  const ys = spec.points.map((p) => p.y);
  const yAxis = { scale: 'linear' as const, label: spec.y.label, format: spec.y.format, domain: spec.y.domain };
  const y = makeYScale(yAxis, ys.length ? [Math.min(...ys), Math.max(...ys)] : null, plotH);
  drawYAxis(plot, y, yAxis, innerW, plotH, MARGIN.left);
  drawXAxis(plot, x, plotH, innerW, spec.x.label, { format: spec.x.format ?? ((v) => fmtNum(v, 3)), ticks: 6 });

  const clipId = `${spec.id}-clip`;
  svg.append('defs').append('clipPath').attr('id', clipId).append('rect').attr('width', innerW).attr('height', plotH);
  const lines = plot.append('g').attr('class', 'fit').attr('clip-path', `url(#${clipId})`);
  const [x0, x1] = x.domain();
  if (spec.identity) {
    const [y0, y1] = y.domain();
    const lo = Math.max(x0, y0);
    const hi = Math.min(x1, y1);
    if (hi > lo) {
      lines
        .append('line')
        .attr('class', 'identity')
        .attr('x1', x(lo))
        .attr('y1', y(lo))
        .attr('x2', x(hi))
        .attr('y2', y(hi))
        .attr('stroke', '#777')
        .attr('stroke-dasharray', '4 3')
        .attr('stroke-width', 1);
    }
  }
  const f = spec.fit;
  if (f) {
    const at = (slope: number, xv: number) => f.centre[1] + slope * (xv - f.centre[0]);
    if (f.interval) {
      const [lo, hi] = f.interval;
      const pts = [
        [x0, at(lo, x0)],
        [x1, at(lo, x1)],
        [x1, at(hi, x1)],
        [x0, at(hi, x0)],
      ]
        .map(([a, b]) => `${x(a)},${y(b)}`)
        .join(' ');
      lines
        .append('polygon')
        .attr('class', 'interval')
        .attr('points', pts)
        .attr('fill', INTERVAL_COLOUR)
        .attr('fill-opacity', 0.25);
    }
    lines
      .append('line')
      .attr('class', 'fit-line')
      .attr('x1', x(x0))
      .attr('y1', y(f.intercept + f.slope * x0))
      .attr('x2', x(x1))
      .attr('y2', y(f.intercept + f.slope * x1))
      .attr('stroke', FIT_COLOUR)
      .attr('stroke-width', 1.5);
  }

  const dots = plot.append('g').attr('class', 'points');
  for (const p of spec.points) {
    const g = dots.append('g').attr('class', 'point');
    g.append('title').text(p.title);
    g.append('circle')
      .attr('cx', x(p.x))
      .attr('cy', y(p.y))
      .attr('r', R)
      .attr('fill', p.colour)
      .attr('stroke', '#fff')
      .attr('stroke-width', 0.8);
  }

  if (censored.length) {
    const strip = plot
      .append('g')
      .attr('class', 'censored')
      .attr('transform', `translate(0,${-STRIP - 6})`);
    strip.append('rect').attr('width', innerW).attr('height', STRIP).attr('fill', '#f2f2f2');
    strip
      .append('text')
      .attr('x', -6)
      .attr('y', STRIP / 2)
      .attr('dy', '0.35em')
      .attr('text-anchor', 'end')
      .attr('font-size', 10)
      .attr('fill', '#333')
      .text(spec.censoredLabel ?? 'no y');
    const px = spread(
      censored.map((c) => x(c.x)),
      9,
    );
    censored.forEach((c, i) => {
      const g = strip.append('g').attr('class', 'point');
      g.append('title').text(c.title);
      const cx = px[i];
      const cy = STRIP / 2;
      g.append('path')
        .attr('d', `M${cx},${cy - 5}L${cx + 5},${cy + 4}L${cx - 5},${cy + 4}Z`)
        .attr('fill', c.colour);
    });
  }
  return svg.node()!;
}
