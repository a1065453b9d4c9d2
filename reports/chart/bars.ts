/**
 * Bar charts over categories: per-frequency norms at the final checkpoint with the key frequencies
 * marked, and neuron clusters per frequency. A label above a bar names it when it matters.
 */
import { axisBottom, scaleBand } from 'd3';
import { svgRoot } from '../dom.ts';
import { drawYAxis, extentOf, makeYScale, type YAxisSpec } from './axes.ts';
import { drawLegend, LEGEND_ROW, legendRows, type LegendItem } from './legend.ts';
import type { ChartResult } from './lines.ts';

export interface BarSpec {
  id: string;
  title: string;
  categories: string[];
  values: number[];
  colours: string[]; // one per bar
  above?: (string | null)[]; // text over a bar
  xLabel: string;
  y: YAxisSpec;
  legend?: LegendItem[];
  /** Label every n-th category on the axis (all labelled bars are always shown). */
  tickEvery?: number;
  width?: number;
}

export interface BarsHover {
  kind: 'bars';
  plot: [number, number, number, number];
  categories: string[];
  values: (number | null)[];
  valueName: string;
}

const M = { left: 64, right: 16, bottom: 44 };

export function renderBarChart(doc: Document, spec: BarSpec): ChartResult<BarsHover> {
  const width = spec.width ?? 720;
  const innerW = width - M.left - M.right;
  const plotH = 170;
  const items = spec.legend ?? [];
  const top = 10 + legendRows(items, innerW) * LEGEND_ROW + 14;
  const svg = svgRoot(doc, spec.id, width, top + plotH + M.bottom, spec.title);
  drawLegend(svg.append('g').attr('transform', `translate(${M.left},6)`), items, innerW);
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${M.left},${top})`);
  const x = scaleBand<string>().domain(spec.categories).range([0, innerW]).paddingInner(0.15).paddingOuter(0.1);
  const y = makeYScale(spec.y, extentOf(spec.values, spec.y.scale === 'log'), plotH);
  drawYAxis(plot, y, spec.y, innerW, plotH, M.left);
  const base = spec.y.scale === 'log' ? y.domain()[0] : 0;
  const bars = plot.append('g').attr('class', 'bars');
  let hidden = 0;
  spec.categories.forEach((c, i) => {
    const v = spec.values[i];
    if (!Number.isFinite(v) || (spec.y.scale === 'log' && v <= 0)) {
      if (Number.isFinite(v)) hidden++;
      return;
    }
    const y0 = y(base);
    const y1 = y(v);
    bars
      .append('rect')
      .attr('x', x(c)!)
      .attr('y', Math.min(y0, y1))
      .attr('width', x.bandwidth())
      .attr('height', Math.abs(y0 - y1))
      .attr('fill', spec.colours[i]);
    const label = spec.above?.[i];
    if (label) {
      bars
        .append('text')
        .attr('x', x(c)! + x.bandwidth() / 2)
        .attr('y', Math.min(y0, y1) - 3)
        .attr('text-anchor', 'middle')
        .attr('font-size', 9)
        .attr('fill', spec.colours[i])
        .text(label);
    }
  });
  const every = spec.tickEvery ?? Math.max(1, Math.ceil(spec.categories.length / 30));
  const ticks = spec.categories.filter((_, i) => i % every === 0);
  const ax = plot
    .append('g')
    .attr('class', 'axis axis-x')
    .attr('transform', `translate(0,${plotH})`)
    .call(axisBottom(x).tickValues(ticks).tickSizeOuter(0));
  ax.attr('font-family', null).attr('font-size', 10);
  plot
    .append('text')
    .attr('class', 'axis-title')
    .attr('x', innerW / 2)
    .attr('y', plotH + 32)
    .attr('text-anchor', 'middle')
    .attr('fill', '#333')
    .text(spec.xLabel);
  const hover: BarsHover = {
    kind: 'bars',
    plot: [M.left, top, innerW, plotH],
    categories: spec.categories,
    values: spec.values.map((v) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : null)),
    valueName: spec.y.label,
  };
  return { svg: svg.node()!, hover, hidden };
}
