/**
 * The shared timeline on its own: the phases as labelled bands over the step axis, the numbered
 * boundaries and the T_mem / T_grok marks. Every chart below uses the same x scale and margins, so
 * a boundary here sits exactly above the same boundary in every chart.
 */
import { scaleLinear } from 'd3';
import { svgRoot, textWidth } from '../dom.ts';
import { fmtStep } from '../format.ts';
import { PHASE_STYLE } from '../palette.ts';
import { drawXAxis } from './axes.ts';
import { MARGIN } from './lines.ts';
import { boundaryMark, boundaryText, type PhaseOverlay } from './phases.ts';

export interface TimelineSpec {
  id: string;
  title: string;
  domain: [number, number];
  xLabel: string;
  phases: PhaseOverlay | null;
  markers: { x: number; label: string; title: string }[];
  width?: number;
}

export function renderTimeline(doc: Document, spec: TimelineSpec): SVGSVGElement {
  const width = spec.width ?? 720;
  const innerW = width - MARGIN.left - MARGIN.right;
  const bandH = 34;
  const top = 18;
  const svg = svgRoot(doc, spec.id, width, top + bandH + MARGIN.bottom, spec.title);
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${MARGIN.left},${top})`);
  const x = scaleLinear().domain(spec.domain).range([0, innerW]);
  const [d0, d1] = spec.domain;
  plot.append('rect').attr('width', innerW).attr('height', bandH).attr('fill', 'none').attr('stroke', '#ccc');
  for (const ph of spec.phases?.phases ?? []) {
    const style = PHASE_STYLE[ph.name];
    if (!style) continue;
    const a = Math.max(d0, ph.start);
    const b = Math.min(d1, ph.end ?? d1);
    if (!(b > a)) continue;
    const g = plot.append('g').attr('class', `phase phase-${ph.name}`);
    g.append('title').text(`${style.label}: steps ${fmtStep(ph.start)}–${ph.end === null ? 'end' : fmtStep(ph.end)}`);
    g.append('rect')
      .attr('x', x(a))
      .attr('width', x(b) - x(a))
      .attr('height', bandH)
      .attr('fill', style.fill)
      .attr('fill-opacity', Math.min(1, style.opacity * 2.5));
    const w = x(b) - x(a);
    if (textWidth(style.label, 11) + 6 < w)
      g.append('text')
        .attr('x', x(a) + w / 2)
        .attr('y', bandH / 2)
        .attr('dy', '0.35em')
        .attr('text-anchor', 'middle')
        .attr('fill', '#111')
        .text(style.label);
  }
  (spec.phases?.boundaries ?? []).forEach((b, i) => {
    if (b.step < d0 || b.step > d1) return;
    const g = plot.append('g').attr('class', 'boundary').attr('data-step', b.step);
    g.append('title').text(boundaryText(b, i));
    g.append('line')
      .attr('x1', x(b.step))
      .attr('x2', x(b.step))
      .attr('y1', -4)
      .attr('y2', bandH)
      .attr('stroke', '#333')
      .attr('stroke-dasharray', '3 3');
    g.append('text')
      .attr('x', x(b.step) + 2)
      .attr('y', -5)
      .attr('font-size', 11)
      .attr('fill', '#111')
      .text(`${boundaryMark(i)} ${fmtStep(b.step)}`);
  });
  for (const m of spec.markers) {
    if (m.x < d0 || m.x > d1) continue;
    const g = plot.append('g').attr('class', 'marker');
    g.append('title').text(m.title);
    g.append('path')
      .attr('d', `M${x(m.x)},${bandH}l-4,7h8z`)
      .attr('fill', '#000');
    g.append('text')
      .attr('x', x(m.x) + 5)
      .attr('y', bandH + 8)
      .attr('font-size', 9)
      .attr('fill', '#000')
      .text(m.label);
  }
  drawXAxis(plot, x, bandH + 10, innerW, spec.xLabel);
  return svg.node()!;
}
