/**
 * The phase diagram of a sweep: one cell per combination of two swept values, one square per run in
 * its cell. A grokked run's square is coloured by its delay T_grok − T_mem (viridis, with a colour
 * bar); the others are tinted by outcome and carry a glyph (m memorised only, × failed to memorise,
 * ! failed, … unfinished), so the diagram reads in greyscale too. Each square's <title> names the
 * run. With one swept axis the diagram is a single row.
 */
import { drawColourBar } from '../chart/raster.ts';
import { svgRoot, textWidth, type G } from '../dom.ts';
import type { RunOutcome } from '../../analyses/sweep/types.ts';
import { OUTCOME_STYLE, OUTCOMES, viridisColour } from './outcome.ts';

export interface PhaseRun {
  outcome: RunOutcome;
  delay: number | null; // steps, for grokked runs
  title: string; // tooltip
}

export interface PhaseDiagramSpec {
  id: string;
  title: string;
  columns: { label: string; values: string[] }; // left to right
  rows: { label: string; values: string[] } | null; // bottom to top; null: one row
  cells: { col: number; row: number; run: PhaseRun }[];
  delayLabel: string;
  width?: number;
}

const GAP = 2;

function fit(text: string, width: number, size: number): string {
  if (textWidth(text, size) <= width) return text;
  let t = text;
  while (t.length > 1 && textWidth(t + '…', size) > width) t = t.slice(0, -1);
  return t + '…';
}

/** Text that may be shortened, with the full text as its tooltip. */
function label(g: G, text: string, width: number, size: number) {
  const shown = fit(text, width, size);
  const t = g.append('text').attr('font-size', size).attr('fill', '#222').text(shown);
  if (shown !== text) t.append('title').text(text);
  return t;
}

/** The outcome legend laid out in rows within `width`: each item's text and position, and the height. */
function glyphLayout(
  width: number,
  noDelay: boolean,
): { items: { outcome: RunOutcome; text: string; x: number; y: number }[]; height: number } {
  let x = 0;
  let y = 0;
  const items = OUTCOMES.map((o) => {
    const text =
      o === 'grokked' ? (noDelay ? 'grokked (no delay)' : 'grokked: colour = delay') : OUTCOME_STYLE[o].label;
    const w = 18 + textWidth(text, 11) + 14;
    if (x > 0 && x + w > width) {
      x = 0;
      y += 16;
    }
    const at = { outcome: o, text, x, y };
    x += w;
    return at;
  });
  return { items, height: y + 16 };
}

function drawGlyphLegend(g: G, layout: ReturnType<typeof glyphLayout>, noDelay: boolean): void {
  for (const it of layout.items) {
    const item = g.append('g').attr('transform', `translate(${it.x},${it.y})`);
    drawSquare(
      item,
      1,
      1,
      12,
      it.outcome,
      it.outcome === 'grokked' ? (noDelay ? '#bbbbbb' : viridisColour(0.5, 0, 1)) : null,
    );
    item.append('text').attr('x', 18).attr('y', 7).attr('dy', '0.35em').attr('fill', '#222').text(it.text);
  }
}

function drawSquare(g: G, x: number, y: number, s: number, outcome: RunOutcome, fill: string | null): void {
  const st = OUTCOME_STYLE[outcome];
  const r = g
    .append('rect')
    .attr('x', x)
    .attr('y', y)
    .attr('width', s)
    .attr('height', s)
    .attr('fill', fill ?? st.fill)
    .attr('fill-opacity', fill ? 1 : st.fillOpacity)
    .attr('stroke', fill ? 'none' : st.colour)
    .attr('stroke-width', 1);
  if (st.dash && !fill) r.attr('stroke-dasharray', st.dash);
  const glyph = fill === '#bbbbbb' ? '?' : st.glyph;
  if (glyph) {
    g.append('text')
      .attr('x', x + s / 2)
      .attr('y', y + s / 2)
      .attr('dy', '0.35em')
      .attr('text-anchor', 'middle')
      .attr('font-size', Math.min(12, Math.max(7, s - 3)))
      .attr('font-weight', 'bold')
      .attr('fill', '#222')
      .text(glyph);
  }
}

export function renderPhaseDiagram(doc: Document, spec: PhaseDiagramSpec): SVGSVGElement {
  const width = spec.width ?? 720;
  const nCols = Math.max(1, spec.columns.values.length);
  const nRows = spec.rows ? Math.max(1, spec.rows.values.length) : 1;
  const rowTexts = spec.rows?.values ?? [];
  const left = Math.round(Math.max(64, Math.min(170, Math.max(0, ...rowTexts.map((t) => textWidth(t, 10))) + 34)));
  const innerW = width - left - 20;
  const cellW = Math.min(120, innerW / nCols);

  // Squares: as large as the fullest cell allows, 8–22 px.
  const perCell = new Map<string, number>();
  for (const c of spec.cells) perCell.set(`${c.col},${c.row}`, (perCell.get(`${c.col},${c.row}`) ?? 0) + 1);
  const most = Math.max(1, ...perCell.values());
  const size = Math.max(8, Math.min(22, (cellW - 6) / Math.ceil(Math.sqrt(most)) - GAP));
  const perRow = Math.max(1, Math.floor((cellW - 6) / (size + GAP)));
  const cellH = Math.max(28, Math.ceil(most / perRow) * (size + GAP) + 6);

  const grokked = spec.cells
    .filter((c) => c.run.outcome === 'grokked' && c.run.delay !== null)
    .map((c) => c.run.delay!);
  let d0 = grokked.length ? Math.min(...grokked) : 0;
  let d1 = grokked.length ? Math.max(...grokked) : 1;
  if (!(d1 > d0)) {
    d0 -= 1;
    d1 += 1;
  }

  const legendW = width - left - 20;
  const barH = grokked.length ? 40 : 0;
  const noDelay = grokked.length === 0;
  const legend = glyphLayout(legendW, noDelay);
  const top = 6 + barH + legend.height + 10;
  const plotH = nRows * cellH;
  const svg = svgRoot(doc, spec.id, width, top + plotH + 46, spec.title);
  if (grokked.length)
    drawColourBar(svg.append('g').attr('transform', `translate(${left},4)`), [d0, d1], spec.delayLabel);
  drawGlyphLegend(
    svg
      .append('g')
      .attr('class', 'legend')
      .attr('transform', `translate(${left},${6 + barH})`),
    legend,
    noDelay,
  );

  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${left},${top})`);
  const grid = plot.append('g').attr('class', 'cells');
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      grid
        .append('rect')
        .attr('x', c * cellW)
        .attr('y', (nRows - 1 - r) * cellH)
        .attr('width', cellW)
        .attr('height', cellH)
        .attr('fill', 'none')
        .attr('stroke', '#d0d0d0');
    }
  }
  const placed = new Map<string, number>();
  const runs = plot.append('g').attr('class', 'runs');
  for (const cell of spec.cells) {
    const key = `${cell.col},${cell.row}`;
    const k = placed.get(key) ?? 0;
    placed.set(key, k + 1);
    const inCell = perCell.get(key)!;
    const across = Math.min(inCell, perRow);
    const x0 = cell.col * cellW + (cellW - across * (size + GAP) + GAP) / 2;
    const y0 = (nRows - 1 - cell.row) * cellH + (cellH - Math.ceil(inCell / perRow) * (size + GAP) + GAP) / 2;
    const g = runs.append('g').attr('class', `run run-${cell.run.outcome}`);
    g.append('title').text(cell.run.title);
    const fill =
      cell.run.outcome === 'grokked'
        ? cell.run.delay === null
          ? '#bbbbbb'
          : viridisColour(cell.run.delay, d0, d1)
        : null;
    drawSquare(
      g,
      x0 + (k % perRow) * (size + GAP),
      y0 + Math.floor(k / perRow) * (size + GAP),
      size,
      cell.run.outcome,
      fill,
    );
  }

  const ax = plot.append('g').attr('class', 'axis axis-x').attr('font-size', 10);
  spec.columns.values.forEach((v, c) => {
    label(ax, v, cellW - 4, 10)
      .attr('x', (c + 0.5) * cellW)
      .attr('y', plotH + 14)
      .attr('text-anchor', 'middle');
  });
  label(plot, spec.columns.label, nCols * cellW, 11)
    .attr('class', 'axis-title')
    .attr('x', (nCols * cellW) / 2)
    .attr('y', plotH + 34)
    .attr('text-anchor', 'middle');
  if (spec.rows) {
    const ay = plot.append('g').attr('class', 'axis axis-y');
    spec.rows.values.forEach((v, r) => {
      label(ay, v, left - 34, 10)
        .attr('x', -6)
        .attr('y', (nRows - 1 - r + 0.5) * cellH)
        .attr('dy', '0.35em')
        .attr('text-anchor', 'end');
    });
    label(plot, spec.rows.label, plotH + 40, 11)
      .attr('class', 'axis-title')
      .attr('transform', `translate(${-left + 12},${plotH / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle');
  }
  return svg.node()!;
}
