/**
 * Two heatmaps: a quantity per frequency over the shared timeline (the embedding's Fourier norms,
 * frequency × checkpoint), aligned with the line charts above it, and p × p attention maps per head.
 */
import { axisBottom, axisLeft, scaleLinear } from 'd3';
import { svgRoot, textWidth } from '../dom.ts';
import { KEY_COLOUR } from '../palette.ts';
import { drawXAxis } from './axes.ts';
import { MARGIN, type ChartResult } from './lines.ts';
import { drawBoundaries, drawPhaseBands, STRIP_HEIGHT, type PhaseOverlay } from './phases.ts';
import { drawColourBar, drawRaster, roundGrid, type GridHover } from './raster.ts';

export interface TimelineHeatmapSpec {
  id: string;
  title: string;
  steps: number[]; // one column per checkpoint, ascending
  rows: number[]; // the value each row stands for (frequency k), top to bottom
  values: ArrayLike<number>[]; // [rows][columns]
  domain: [number, number]; // x (step) domain, shared with the line charts
  xLabel: string;
  rowLabel: string; // with units
  valueLabel: string; // colour bar title, with units
  marked?: number[]; // rows to mark (key frequencies)
  phases?: PhaseOverlay | null;
  width?: number;
}

/** Column spans in step units: each checkpoint reaches halfway to its neighbours, the ends to the domain. */
export function columnSpans(steps: number[], domain: [number, number]): { start: number[]; end: number[] } {
  const n = steps.length;
  const start: number[] = [];
  const end: number[] = [];
  for (let j = 0; j < n; j++) {
    const prev = j > 0 ? (steps[j - 1] + steps[j]) / 2 : n > 1 ? steps[0] - (steps[1] - steps[0]) / 2 : steps[0] - 0.5;
    const next =
      j < n - 1 ? (steps[j] + steps[j + 1]) / 2 : n > 1 ? steps[j] + (steps[j] - steps[j - 1]) / 2 : steps[0] + 0.5;
    start.push(Math.max(domain[0], prev));
    end.push(Math.min(domain[1], next));
  }
  return { start, end };
}

export function renderTimelineHeatmap(doc: Document, spec: TimelineHeatmapSpec): ChartResult<GridHover> {
  const width = spec.width ?? 720;
  const innerW = Math.round(width - MARGIN.left - MARGIN.right); // whole pixels: one image column each
  const nRows = spec.rows.length;
  const rowH = Math.max(3, Math.min(14, 240 / Math.max(1, nRows)));
  const plotH = nRows * rowH;
  const top = 44 + (spec.phases ? STRIP_HEIGHT + 8 : 6);
  const svg = svgRoot(doc, spec.id, width, top + plotH + MARGIN.bottom, spec.title);
  let dMax = 0;
  for (const row of spec.values) for (const v of Array.from(row)) if (Number.isFinite(v) && v > dMax) dMax = v;
  const domain: [number, number] = [0, dMax > 0 ? dMax : 1];
  drawColourBar(svg.append('g').attr('transform', `translate(${MARGIN.left},4)`), domain, spec.valueLabel);
  if (spec.marked?.length) {
    const lg = svg
      .append('g')
      .attr('transform', `translate(${MARGIN.left + Math.max(190, textWidth(spec.valueLabel) + 24)},4)`);
    lg.append('path').attr('d', 'M0,8L8,4L8,12Z').attr('fill', KEY_COLOUR);
    lg.append('text').attr('x', 12).attr('y', 8).attr('dy', '0.35em').attr('fill', '#222').text('key frequency');
  }
  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${MARGIN.left},${top})`);
  const x = scaleLinear().domain(spec.domain).range([0, innerW]);
  const spans = columnSpans(spec.steps, spec.domain);
  const colStart = spans.start.map((s) => x(s));
  const colEnd = spans.end.map((s) => x(s));
  if (spec.phases) drawPhaseBands(plot, x, 0, spec.phases); // strip only: the cells cover the plot
  drawRaster(
    plot.append('g').attr('class', 'cells'),
    { values: spec.values, colStart, colEnd, imgWidth: Math.ceil(innerW), domain },
    innerW,
    plotH,
  );

  const y = scaleLinear()
    .domain([-0.5, nRows - 0.5])
    .range([0, plotH]);
  const every = Math.max(1, Math.ceil(nRows / 12));
  const tickRows = spec.rows.map((_, i) => i).filter((i) => i % every === 0);
  const ax = plot
    .append('g')
    .attr('class', 'axis axis-y')
    .call(
      axisLeft(y)
        .tickValues(tickRows)
        .tickFormat((i) => String(spec.rows[Number(i)]))
        .tickSizeOuter(0),
    );
  ax.attr('font-family', null).attr('font-size', 10);
  const marks = plot.append('g').attr('class', 'key-marks').attr('fill', KEY_COLOUR);
  let lastY = -Infinity;
  let shift = 0;
  for (const i of (spec.marked ?? [])
    .map((k) => spec.rows.indexOf(k))
    .filter((i) => i >= 0)
    .sort((a, b) => a - b)) {
    // Labels of adjacent rows would overlap: step each one right of the previous.
    shift = y(i) - lastY < 9 ? shift + 12 : 0;
    lastY = y(i);
    marks.append('path').attr('d', `M${innerW + 2},${y(i)}L${innerW + 9},${y(i) - 4}L${innerW + 9},${y(i) + 4}Z`);
    marks
      .append('text')
      .attr('x', innerW + 11 + shift)
      .attr('y', y(i))
      .attr('dy', '0.35em')
      .attr('font-size', 9)
      .text(spec.rows[i]);
  }
  plot
    .append('text')
    .attr('class', 'axis-title')
    .attr('transform', `translate(${-MARGIN.left + 12},${plotH / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('fill', '#333')
    .text(spec.rowLabel);
  drawXAxis(plot, x, plotH, innerW, spec.xLabel);
  if (spec.phases) drawBoundaries(plot, x, plotH, spec.phases, '#fff');

  const edges = [...colStart, colEnd[colEnd.length - 1] ?? 0];
  const hover: GridHover = {
    kind: 'grid',
    panels: [
      {
        plot: [MARGIN.left, top, innerW, plotH],
        rowName: 'k',
        colName: 'step',
        valueName: 'norm',
        rowValues: spec.rows,
        colValues: spec.steps,
        colEdges: edges,
        values: roundGrid(spec.values, 3),
      },
    ],
  };
  return { svg: svg.node()!, hover, hidden: 0 };
}

export interface AttentionMapSpec {
  id: string;
  title: string;
  p: number;
  panels: { label: string; values: number[][] }[]; // each [p][p] indexed [a][b]
}

const PANEL = 190;

/** Side-by-side p × p maps (a down, b across) on a shared colour scale [0, 1]. */
export function renderAttentionMaps(doc: Document, spec: AttentionMapSpec): ChartResult<GridHover> {
  const left = 48;
  const gap = 60;
  const top = 62;
  const width = left + spec.panels.length * (PANEL + gap) - gap + 20;
  const height = top + PANEL + 44;
  const svg = svgRoot(doc, spec.id, width, height, spec.title);
  drawColourBar(
    svg.append('g').attr('transform', `translate(${left},4)`),
    [0, 1],
    'attention weight (softmax probability)',
  );
  const s = scaleLinear().domain([0, spec.p]).range([0, PANEL]);
  const ticks = [0, 1, 2, 3, 4].map((i) => Math.round((i * (spec.p - 1)) / 4)).filter((v, i, a) => a.indexOf(v) === i);
  const hover: GridHover = { kind: 'grid', panels: [] };
  const cols = Array.from({ length: spec.p }, (_, j) => j);
  spec.panels.forEach((panel, i) => {
    const px = left + i * (PANEL + gap);
    const g = svg.append('g').attr('class', 'panel').attr('transform', `translate(${px},${top})`);
    g.append('text')
      .attr('x', PANEL / 2)
      .attr('y', -8)
      .attr('text-anchor', 'middle')
      .attr('font-weight', 'bold')
      .attr('fill', '#222')
      .text(panel.label);
    drawRaster(
      g.append('g').attr('class', 'cells'),
      {
        values: panel.values,
        colStart: cols,
        colEnd: cols.map((j) => j + 1),
        imgWidth: spec.p,
        domain: [0, 1],
      },
      PANEL,
      PANEL,
    );
    const ax = g
      .append('g')
      .attr('transform', `translate(0,${PANEL})`)
      .call(
        axisBottom(s)
          .tickValues(ticks.map((t) => t + 0.5))
          .tickFormat((v) => String(Number(v) - 0.5))
          .tickSizeOuter(0),
      );
    ax.attr('font-family', null).attr('font-size', 10);
    const ay = g.append('g').call(
      axisLeft(s)
        .tickValues(ticks.map((t) => t + 0.5))
        .tickFormat((v) => String(Number(v) - 0.5))
        .tickSizeOuter(0),
    );
    ay.attr('font-family', null).attr('font-size', 10);
    g.append('text')
      .attr('x', PANEL / 2)
      .attr('y', PANEL + 32)
      .attr('text-anchor', 'middle')
      .attr('fill', '#333')
      .text('b (second operand)');
    g.append('text')
      .attr('transform', `translate(-34,${PANEL / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', '#333')
      .text('a (first operand)');
    hover.panels.push({
      plot: [px, top, PANEL, PANEL],
      rowName: 'a',
      colName: 'b',
      valueName: 'weight',
      rowValues: cols,
      colValues: cols,
      colEdges: [...cols.map((j) => s(j)), PANEL],
      values: roundGrid(panel.values, 2),
    });
  });
  return { svg: svg.node()!, hover, hidden: 0 };
}
