/**
 * The checkpoint explorer section of a run report (the script is ./script.ts): a slider over the
 * analysed checkpoints that stays at the top of the window while the report scrolls, the
 * embedding's Fourier norms at the chosen checkpoint, and a read-out of its numbers. Drawn for the
 * last checkpoint, so that without script it still reads as a static view.
 *
 * Size: per checkpoint one read-out line and, with the fourier pass, the bar heights quantised to
 * whole pixels (K + 1 small integers): about 70 kB for 400 checkpoints at p = 113.
 * With analysis.json's checkpoint_grids it also holds the neuron-cluster, neuron-grid and attention
 * views at the checkpoints that carry grids (./grids.ts: at most GRID_IMAGE_BUDGET bytes of images).
 */
import { scaleBand, scaleLinear } from 'd3';
import { drawXAxis, drawYAxis } from '../chart/axes.ts';
import { svgRoot } from '../dom.ts';
import { fmtNum, fmtStep } from '../format.ts';
import { el, jsonForScript, type Section } from '../page.ts';
import { KEY_COLOUR, OTHER_COLOUR } from '../palette.ts';
import type { RunContext } from '../run-figures.ts';
import { maxFrequency } from '../input.ts';
import { explorerGrids, type ExplorerGridData } from './grids.ts';

export interface ExplorerData {
  domain: [number, number]; // the report's step axis: the charts a marker goes on
  steps: number[];
  labels: string[]; // the read-out of each checkpoint
  bars: { top: number; height: number; heights: number[][] } | null; // px, per checkpoint per frequency k = 1…K
  /** Neuron clusters, neuron and attention grids at the checkpoints that carry them (./grids.ts). */
  grids: ExplorerGridData | null;
}

const W = 720;
const M = { left: 64, right: 16, top: 10, bottom: 44 };
const PLOT_H = 150;

const pct = (v: number | null | undefined) => (typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '–');

function label(ctx: RunContext, i: number): string {
  const c = ctx.a.checkpoints[i];
  const parts = [`step ${fmtStep(c.step)}`];
  if (c.metrics)
    parts.push(
      `train acc ${pct(c.metrics.train_acc)}`,
      `test acc ${pct(c.metrics.test_acc)}`,
      `test loss ${fmtNum(c.metrics.test_loss ?? NaN)}`,
    );
  if (c.fourier) parts.push(`Gini ${fmtNum(c.fourier.gini_embed ?? NaN)}`);
  if (c.circuit) parts.push(`excluded loss ${fmtNum(c.circuit.excluded_loss ?? NaN)}`);
  if (c.llc) parts.push(`λ̂ ${c.llc.llc === null ? '–' : fmtNum(c.llc.llc)}`);
  const t = ctx.a.trajectory;
  const ti = t ? t.steps.indexOf(c.step) : -1;
  if (t && ti >= 0) parts.push(`PC1 ${fmtNum(t.coords[ti][0])}, PC2 ${fmtNum(t.coords[ti][1] ?? NaN)}`);
  const ph = ctx.a.summary.phases.find((p) => c.step >= p.start && (p.end === null || c.step < p.end));
  if (ph) parts.push(ph.name.replace('_', ' '));
  return parts.join(' · ');
}

export function explorerSection(ctx: RunContext): Section | null {
  const cps = ctx.a.checkpoints;
  if (cps.length < 2) return null;
  const { doc } = ctx;
  const last = cps.length - 1;
  const withNorms = cps.filter((c) => Array.isArray(c.fourier?.embed_norms));
  const K = withNorms.length ? Math.max(...withNorms.map((c) => c.fourier!.embed_norms.length)) - 1 : 0;
  const keys = new Set(ctx.a.key_frequencies);
  let bars: ExplorerData['bars'] = null;
  let figure: HTMLElement | null = null;
  if (K >= 1) {
    let max = 0;
    for (const c of withNorms) for (let k = 1; k <= K; k++) max = Math.max(max, c.fourier!.embed_norms[k] ?? 0);
    const y = scaleLinear()
      .domain([0, max || 1])
      .range([PLOT_H, 0])
      .nice(5);
    const top = M.top;
    const heights = cps.map((c) =>
      Array.from({ length: K }, (_, j) => {
        const v = c.fourier?.embed_norms[j + 1];
        return typeof v === 'number' ? Math.round(PLOT_H - y(v)) : 0;
      }),
    );
    bars = { top, height: PLOT_H, heights };
    const svg = svgRoot(
      doc,
      'explorer-embed-svg',
      W,
      top + PLOT_H + M.bottom,
      'Fourier norms of the embedding at the chosen checkpoint',
    );
    const plot = svg.append('g').attr('transform', `translate(${M.left},${top})`);
    const innerW = W - M.left - M.right;
    const x = scaleBand<number>()
      .domain(Array.from({ length: K }, (_, j) => j + 1))
      .range([0, innerW])
      .padding(0.15);
    drawYAxis(plot, y, { scale: 'linear', label: '‖W_E row pair‖' }, innerW, PLOT_H, M.left);
    const xl = scaleLinear()
      .domain([0.5, K + 0.5])
      .range([0, innerW]);
    drawXAxis(plot, xl, PLOT_H, innerW, 'frequency k (key frequencies in colour)', {
      values: Array.from({ length: K }, (_, j) => j + 1).filter((k) => k === 1 || k % 5 === 0 || keys.has(k)),
    });
    const g = svg.append('g').attr('class', 'bars');
    heights[last].forEach((h, j) => {
      const k = j + 1;
      g.append('rect')
        .attr('class', 'explorer-bar')
        .attr('x', M.left + x(k)!)
        .attr('width', x.bandwidth())
        .attr('y', top + PLOT_H - h)
        .attr('height', h)
        .attr('fill', keys.has(k) ? KEY_COLOUR : OTHER_COLOUR)
        .append('title')
        .text(`k = ${k}${keys.has(k) ? ' (key frequency)' : ''}`);
    });
    figure = el(
      doc,
      'figure',
      { id: 'explorer-embed' },
      el(doc, 'h3', {}, 'Embedding Fourier norms at the chosen checkpoint'),
    );
    figure.append(svg.node()!);
    figure.append(
      el(
        doc,
        'figcaption',
        {},
        el(
          doc,
          'p',
          {},
          `The embedding's norm per frequency (the fourier pass's embed_norms, k = 1…${K}) at the checkpoint the slider shows; heights quantised to whole pixels for the page's size. The Fourier heatmap above shows the same numbers for every checkpoint at once.`,
        ),
      ),
    );
  }
  const grids = explorerGrids(ctx, K >= 1 ? K : (maxFrequency(ctx.a) ?? 0));
  const data: ExplorerData = {
    domain: ctx.domain,
    steps: cps.map((c) => c.step),
    labels: cps.map((_, i) => label(ctx, i)),
    bars,
    grids: grids?.data ?? null,
  };
  const dataNode = el(doc, 'script', { type: 'application/json', class: 'hover-data explorer-data' });
  dataNode.textContent = jsonForScript(data);
  const slider = el(doc, 'input', {
    id: 'explorer-slider',
    class: 'explorer-slider',
    type: 'range',
    min: '0',
    max: String(last),
    step: '1',
    value: String(last),
    disabled: '',
    'aria-label': 'checkpoint',
    style: 'width: 100%',
  });
  const bar = el(
    doc,
    'div',
    {
      class: 'explorer-bar',
      style:
        'position: sticky; top: 0; z-index: 2; background: #fff; padding: 6px 0 4px; border-bottom: 1px solid #ddd',
    },
    el(
      doc,
      'label',
      { for: 'explorer-slider', style: 'font-size: 12px; color: #555' },
      `checkpoint (${cps.length} analysed, steps ${fmtStep(cps[0].step)}–${fmtStep(cps[last].step)})`,
    ),
    slider,
    el(
      doc,
      'output',
      { class: 'explorer-readout readout', 'aria-live': 'polite', for: 'explorer-slider' },
      data.labels[last],
    ),
  );
  const note = el(
    doc,
    'p',
    { class: 'sub' },
    "Drag the slider, or press ← → (Home, End), to move every chart over training steps to one checkpoint: a marker on each timeline chart, the checkpoint ringed on the trajectory plots, the embedding's Fourier norms below" +
      (grids
        ? ', the neuron clusters, the neuron activations over (a, b) and the attention patterns (at the nearest checkpoint that carries grids)'
        : '') +
      '. With scripts on, the slider sits at the top of the window wherever you scroll. Without scripts it is inactive and the views show the last checkpoint.',
  );
  return {
    id: 'explorer',
    title: 'Checkpoint explorer',
    intro: [note, bar, dataNode, ...(figure ? [figure] : []), ...(grids?.nodes ?? [])],
    figures: [],
  };
}
