/** A legend laid out in rows above the plot; text widths are estimated (jsdom has no layout). */
import { textWidth, type G } from '../dom.ts';

export interface LegendItem {
  label: string;
  colour: string;
  dash?: string | null;
  kind?: 'line' | 'box' | 'point';
  width?: number;
}

const ROW = 16;
const SWATCH = 22;

/** Rows needed for the items within `width` px. */
export function legendRows(items: LegendItem[], width: number): number {
  return layout(items, width).rows;
}

function layout(items: LegendItem[], width: number): { rows: number; at: [number, number][] } {
  let x = 0;
  let row = 0;
  const at: [number, number][] = [];
  for (const it of items) {
    const w = SWATCH + 4 + textWidth(it.label, 11) + 14;
    if (x > 0 && x + w > width) {
      x = 0;
      row++;
    }
    at.push([x, row * ROW]);
    x += w;
  }
  return { rows: items.length ? row + 1 : 0, at };
}

export const LEGEND_ROW = ROW;

/** Draw at the group's origin (top-left of the legend area). */
export function drawLegend(g: G, items: LegendItem[], width: number): void {
  const { at } = layout(items, width);
  const lg = g.append('g').attr('class', 'legend');
  items.forEach((it, i) => {
    const [x, y] = at[i];
    const item = lg.append('g').attr('transform', `translate(${x},${y})`);
    if (it.kind === 'box') {
      item
        .append('rect')
        .attr('x', 2)
        .attr('y', 3)
        .attr('width', SWATCH - 4)
        .attr('height', 10)
        .attr('fill', it.colour);
    } else if (it.kind === 'point') {
      item
        .append('circle')
        .attr('cx', SWATCH / 2)
        .attr('cy', 8)
        .attr('r', 4)
        .attr('fill', it.colour);
    } else {
      const l = item
        .append('line')
        .attr('x1', 0)
        .attr('x2', SWATCH)
        .attr('y1', 8)
        .attr('y2', 8)
        .attr('stroke', it.colour)
        .attr('stroke-width', it.width ?? 2);
      if (it.dash) l.attr('stroke-dasharray', it.dash);
    }
    item
      .append('text')
      .attr('x', SWATCH + 4)
      .attr('y', 8)
      .attr('dy', '0.35em')
      .attr('fill', '#222')
      .text(it.label);
  });
}
