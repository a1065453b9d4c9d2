/**
 * The shared timeline's phase overlay, drawn on every chart over steps: faint bands for
 * memorisation, circuit formation and cleanup across the plot, a labelled strip above it, and each
 * boundary as a dashed line numbered ①, ②, … whose <title> (a native tooltip, no script needed)
 * gives the reason the detector placed it there. Figure captions repeat the reasons in print.
 */
import type { PhaseBoundary, PhaseName, TransitionSummary } from '../../analyses/types.ts';
import { textWidth, type G } from '../dom.ts';
import { fmtStep } from '../format.ts';
import { PHASE_STYLE } from '../palette.ts';
import type { NumScale } from './axes.ts';

export interface PhaseOverlay {
  phases: { name: PhaseName; start: number; end: number | null }[];
  boundaries: PhaseBoundary[];
}

export const STRIP_HEIGHT = 14; // px above the plot

export function phaseOverlay(summary: TransitionSummary): PhaseOverlay | null {
  if (!summary.phases.length && !summary.boundaries.length) return null;
  return { phases: summary.phases, boundaries: summary.boundaries };
}

const CIRCLED = '①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳';
export const boundaryMark = (i: number): string => (i < CIRCLED.length ? CIRCLED[i] : `(${i + 1})`);

export const phaseLabel = (name: PhaseName): string => PHASE_STYLE[name]?.label ?? name;

/** One line per boundary: "① 1.4k memorisation → circuit formation: reason". */
export function boundaryText(b: PhaseBoundary, i: number): string {
  return `${boundaryMark(i)} step ${fmtStep(b.step)}, ${phaseLabel(b.from)} → ${phaseLabel(b.to)}: ${b.reason}`;
}

/** Bands behind the data: call before drawing series. Clipped to the x domain. */
export function drawPhaseBands(
  plot: G,
  x: NumScale,
  height: number,
  overlay: PhaseOverlay,
  opts: { strip?: boolean } = {},
): void {
  const [d0, d1] = x.domain();
  const g = plot.append('g').attr('class', 'phases');
  overlay.phases.forEach((ph, i) => {
    const style = PHASE_STYLE[ph.name];
    if (!style) return;
    const a = Math.max(d0, ph.start);
    const b = Math.min(d1, ph.end ?? d1);
    if (!(b > a)) return;
    const x0 = x(a);
    const w = x(b) - x0;
    const band = g.append('g').attr('class', `phase phase-${ph.name}`).attr('data-phase', i);
    band
      .append('title')
      .text(`${style.label}: steps ${fmtStep(ph.start)}–${ph.end === null ? 'end' : fmtStep(ph.end)}`);
    if (height > 0)
      band
        .append('rect')
        .attr('x', x0)
        .attr('y', 0)
        .attr('width', w)
        .attr('height', height)
        .attr('fill', style.fill)
        .attr('fill-opacity', style.opacity);
    if (opts.strip === false) return;
    band
      .append('rect')
      .attr('x', x0)
      .attr('y', -STRIP_HEIGHT - 2)
      .attr('width', w)
      .attr('height', STRIP_HEIGHT)
      .attr('fill', style.fill)
      .attr('fill-opacity', Math.min(1, style.opacity * 3));
    if (textWidth(style.label, 10) + 6 < w) {
      band
        .append('text')
        .attr('x', x0 + w / 2)
        .attr('y', -STRIP_HEIGHT / 2 - 2)
        .attr('dy', '0.35em')
        .attr('text-anchor', 'middle')
        .attr('font-size', 10)
        .attr('fill', '#222')
        .text(style.label);
    }
  });
}

/** Boundary lines and their numbered labels, drawn over the data. */
export function drawBoundaries(plot: G, x: NumScale, height: number, overlay: PhaseOverlay, colour = '#444'): void {
  const [d0, d1] = x.domain();
  const g = plot.append('g').attr('class', 'boundaries');
  overlay.boundaries.forEach((b, i) => {
    if (b.step < d0 || b.step > d1) return;
    const bx = x(b.step);
    const m = g.append('g').attr('class', 'boundary').attr('data-step', b.step);
    m.append('title').text(boundaryText(b, i));
    m.append('line')
      .attr('x1', bx)
      .attr('x2', bx)
      .attr('y1', -STRIP_HEIGHT - 2)
      .attr('y2', height)
      .attr('stroke', colour)
      .attr('stroke-width', 1)
      .attr('stroke-dasharray', '3 3');
    m.append('text')
      .attr('x', bx + 2)
      .attr('y', 10)
      .attr('font-size', 11)
      .attr('fill', colour)
      .text(boundaryMark(i));
  });
}
