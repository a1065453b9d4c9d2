/**
 * The explorer's per-checkpoint grids (analysis.json → checkpoint_grids, analyses/checkpoint-grids.ts):
 * the neuron-frequency clusters, the activation of the strongest neuron of each key frequency over
 * every pair (a, b), and the attention from '=' to a and to b per head. Only some checkpoints carry
 * grids; the slider snaps these views to the nearest one and says which. Each grid's uint8 codes
 * become the palette indices of a small PNG (deflated), one per grid checkpoint and panel, kept in
 * the section's JSON; the script swaps the <image> sources. Drawn for the last checkpoint, so the
 * page reads without script.
 */
import { scaleBand, scaleLinear } from 'd3';
import { gridCodes } from '../../analyses/checkpoint-grids.ts';
import type { CheckpointGrids } from '../../analyses/types.ts';
import { drawXAxis, drawYAxis } from '../chart/axes.ts';
import { drawColourBar } from '../chart/raster.ts';
import { svgRoot, type Svg } from '../dom.ts';
import { fmtNum, fmtStep } from '../format.ts';
import { el } from '../page.ts';
import { KEY_COLOUR, OKABE_ITO, viridisPalette } from '../palette.ts';
import { encodeIndexedPng } from '../png.ts';
import type { RunContext } from '../run-figures.ts';

/** At most this many bytes of grid images in a page; beyond it grid checkpoints are thinned (the last kept). */
export const GRID_IMAGE_BUDGET = 2_500_000;

export interface ExplorerGridData {
  steps: number[]; // the checkpoints with grids
  of: number[]; // per explorer checkpoint: the index of the nearest checkpoint with grids
  /** Per grid checkpoint one base64 PNG per view holding its panels stacked top to bottom; null for the last (the page's own). */
  images: { neurons: (string | null)[]; attention: (string | null)[] };
  ranges: string[][]; // [grid checkpoint][panel]: the value range under the panel ('' = fixed)
  clusters: { top: number; height: number; heights: number[][]; text: string[] } | null; // bar px per k = 1…K
  notes: string[]; // per explorer checkpoint: which grid checkpoint the views show
}

const WHITE: [number, number, number] = [255, 255, 255];
const PALETTE_8 = [...viridisPalette(255), WHITE]; // codes 0…254 are the levels, 255 the gap
const PALETTE_4 = [...viridisPalette(15), WHITE]; // 15 levels, index 15 the gap
const W = 720;
const PANEL = 150;
const PANEL_GAP = 24;
const LEFT = 40;
const PER_ROW = 4;

/** One checkpoint's panels (codes stacked top to bottom, p columns) as a base64 PNG, at 255 or 15 colour levels. */
export function spritePng(codes: Uint8Array, p: number, levels: 255 | 15): string {
  const rows = codes.length / p;
  if (levels === 255)
    return Buffer.from(encodeIndexedPng(p, rows, codes, PALETTE_8, 255, { compress: true })).toString('base64');
  const idx = codes.map((c) => (c === 255 ? 15 : Math.round((c * 14) / 254)));
  return Buffer.from(encodeIndexedPng(p, rows, idx, PALETTE_4, 15, { compress: true, bitDepth: 4 })).toString('base64');
}

/** Nearest grid checkpoint of each step (ties go to the earlier one). */
export function nearestIndex(gridSteps: readonly number[], steps: readonly number[]): number[] {
  return steps.map((s) => {
    let best = 0;
    for (let g = 1; g < gridSteps.length; g++) if (Math.abs(gridSteps[g] - s) < Math.abs(gridSteps[best] - s)) best = g;
    return best;
  });
}

/** Every other grid checkpoint but the last dropped, until the images fit `budget` bytes. */
export function thinToBudget(sizes: readonly number[], budget: number): number[] {
  let keep = sizes.map((_, i) => i);
  const total = () => keep.reduce((s, i) => s + sizes[i], 0);
  while (keep.length > 1 && total() > budget) keep = keep.filter((_, j) => j === keep.length - 1 || j % 2 === 1);
  return keep;
}

function panelsSvg(
  doc: Document,
  id: string,
  title: string,
  p: number,
  panels: { label: string; index: number; range: string }[],
  sprite: string,
  colourLabel: string,
  domain: [number, number],
): Svg {
  const rows = Math.ceil(panels.length / PER_ROW);
  const top = 50;
  const rowH = PANEL + 52;
  const svg = svgRoot(doc, id, W, top + rows * rowH, title);
  drawColourBar(svg.append('g').attr('transform', `translate(${LEFT},4)`), domain, colourLabel);
  // One image holds every panel (in <defs>, so the page carries it once); each panel shows its part.
  svg
    .append('defs')
    .append('image')
    .attr('id', `${id}-sprite`)
    .attr('class', 'explorer-grid')
    .attr('width', p)
    .attr('height', panels.length * p)
    .attr('preserveAspectRatio', 'none')
    .attr('style', 'image-rendering:pixelated')
    .attr('href', `data:image/png;base64,${sprite}`);
  panels.forEach((panel, i) => {
    const x = LEFT + (i % PER_ROW) * (PANEL + PANEL_GAP);
    const y = top + Math.floor(i / PER_ROW) * rowH + 16;
    const g = svg.append('g').attr('class', 'grid-panel').attr('transform', `translate(${x},${y})`);
    g.append('title').text(`${panel.label}: a down (0…${p - 1}), b across (0…${p - 1})`);
    g.append('text')
      .attr('x', PANEL / 2)
      .attr('y', -5)
      .attr('text-anchor', 'middle')
      .attr('font-weight', 'bold')
      .attr('fill', '#222')
      .text(panel.label);
    g.append('rect').attr('width', PANEL).attr('height', PANEL).attr('fill', '#f2f2f2');
    // the checkpoint's one image holds every panel; this window shows panel `index` of it
    const view = g
      .append('svg')
      .attr('width', PANEL)
      .attr('height', PANEL)
      .attr('viewBox', `0 ${i * p} ${p} ${p}`)
      .attr('preserveAspectRatio', 'none');
    view.append('use').attr('href', `#${id}-sprite`);
    if (panel.range)
      g.append('text')
        .attr('class', 'explorer-grid-range')
        .attr('data-panel', String(panel.index))
        .attr('x', PANEL / 2)
        .attr('y', PANEL + 13)
        .attr('text-anchor', 'middle')
        .attr('font-size', 10)
        .attr('fill', '#444')
        .text(panel.range);
    g.append('text')
      .attr('x', 0)
      .attr('y', PANEL + 26)
      .attr('font-size', 9)
      .attr('fill', '#666')
      .text('a ↓ · b →');
  });
  return svg;
}

const rangeText = (lo: number, hi: number) => `${fmtNum(lo)} – ${fmtNum(hi)}`;

function clusterText(c: CheckpointGrids['checkpoints'][number]): string {
  const parts = [...c.neuron_clusters]
    .sort((x, y) => x.frequency - y.frequency)
    .map((k) => `k ${k.frequency}: ${k.neurons} (${fmtNum((k.mean_explained ?? NaN) * 100, 3)} %)`);
  return `${parts.length ? parts.join(', ') : 'no cluster'} · ${c.unclustered_neurons} unclustered`;
}

/** The grid views, their JSON data, and the sentence saying which checkpoints carry grids; null without grids. */
export function explorerGrids(ctx: RunContext, K: number): { data: ExplorerGridData; nodes: HTMLElement[] } | null {
  const g = ctx.a.checkpoint_grids;
  if (!g || !g.checkpoints.length) return null;
  const { doc } = ctx;
  const p = g.p;
  const cells = p * p;
  // Per checkpoint two images: the neurons followed, and to a and to b per head; each holds its panels.
  const stack = (grids: CheckpointGrids['checkpoints'][number]['neurons']) => {
    const codes = new Uint8Array(grids.length * cells);
    grids.forEach((q, j) => codes.set(gridCodes(q, cells), j * cells));
    return codes;
  };
  const all = g.checkpoints.map((c) => ({
    c,
    neurons: stack(c.neurons),
    attention: stack(c.attention.flatMap((h) => [h.to_a, h.to_b])),
    ranges: c.neurons.map((q) => rangeText(q.lo, q.hi)),
  }));
  // 255 colour levels when they fit the budget, else 15 (4-bit images); then thinned if still over.
  const encode = (levels: 255 | 15) =>
    all.map((x) => ({
      neurons: x.neurons.length ? spritePng(x.neurons, p, levels) : '',
      attention: x.attention.length ? spritePng(x.attention, p, levels) : '',
    }));
  let levels: 255 | 15 = 255;
  let images = encode(255);
  const bytes = () => images.map((x) => x.neurons.length + x.attention.length);
  if (bytes().reduce((s, b) => s + b, 0) > GRID_IMAGE_BUDGET) {
    levels = 15;
    images = encode(15);
  }
  const keep = thinToBudget(bytes(), GRID_IMAGE_BUDGET);
  const kept = keep.map((i) => ({ ...all[i], image: images[i] }));
  const steps = kept.map((x) => x.c.step);
  const cps = ctx.a.checkpoints;
  const of = nearestIndex(
    steps,
    cps.map((c) => c.step),
  );
  const last = kept.length - 1;
  const gl = kept[last].c;
  const notes = cps.map((c, i) => {
    const s = steps[of[i]];
    return s === c.step
      ? `grids of step ${fmtStep(s)}`
      : `grids of step ${fmtStep(s)}, the nearest checkpoint with grids to step ${fmtStep(c.step)}`;
  });
  const listed = steps.map((s) => fmtStep(s)).join(', ');
  const nodes: HTMLElement[] = [];
  const intro = el(
    doc,
    'p',
    { class: 'sub' },
    `Grids over the ${p} × ${p} input pairs (a, b) are kept for ${steps.length} of the ${cps.length} checkpoints (${g.selection.replace(/^\d+ of \d+ checkpoints: /, '')}${kept.length < all.length ? `; thinned from ${all.length} to fit the page's size budget` : ''}): steps ${listed}. Each grid is quantised to 255 levels over its own range in analysis.json (error at most 1/508 of that range) and drawn with ${levels} colour levels${levels === 15 ? " to fit the page's size budget" : ''}. The slider snaps the views below to the nearest of these checkpoints and says which.`,
  );
  nodes.push(
    intro,
    el(doc, 'output', { class: 'explorer-grid-note readout', 'aria-live': 'polite' }, notes[cps.length - 1]),
  );

  // Neuron clusters: neurons per frequency k = 1…K at each grid checkpoint.
  let clusters: ExplorerGridData['clusters'] = null;
  if (K >= 1) {
    const H = 120;
    const M = { left: 64, right: 16, top: 10, bottom: 44 };
    let max = 1;
    for (const x of kept) for (const c of x.c.neuron_clusters) max = Math.max(max, c.neurons);
    const y = scaleLinear().domain([0, max]).range([H, 0]).nice(4);
    const heights = kept.map(({ c }) =>
      Array.from({ length: K }, (_, j) => {
        const n = c.neuron_clusters.find((q) => q.frequency === j + 1)?.neurons ?? 0;
        return Math.round(H - y(n));
      }),
    );
    clusters = { top: M.top, height: H, heights, text: kept.map((x) => clusterText(x.c)) };
    const svg = svgRoot(
      doc,
      'explorer-clusters-svg',
      W,
      M.top + H + M.bottom,
      'Neuron frequency clusters at the chosen checkpoint',
    );
    const plot = svg.append('g').attr('transform', `translate(${M.left},${M.top})`);
    const innerW = W - M.left - M.right;
    const x = scaleBand<number>()
      .domain(Array.from({ length: K }, (_, j) => j + 1))
      .range([0, innerW])
      .padding(0.15);
    drawYAxis(plot, y, { scale: 'linear', label: 'neurons (count)' }, innerW, H, M.left);
    const keys = new Set(ctx.a.key_frequencies);
    drawXAxis(
      plot,
      scaleLinear()
        .domain([0.5, K + 0.5])
        .range([0, innerW]),
      H,
      innerW,
      'frequency k of the cluster',
      { values: Array.from({ length: K }, (_, j) => j + 1).filter((k) => k === 1 || k % 5 === 0 || keys.has(k)) },
    );
    const bars = svg.append('g').attr('class', 'bars');
    heights[last].forEach((h, j) => {
      bars
        .append('rect')
        .attr('class', 'explorer-cluster-bar')
        .attr('x', M.left + x(j + 1)!)
        .attr('width', x.bandwidth())
        .attr('y', M.top + H - h)
        .attr('height', h)
        .attr('fill', keys.has(j + 1) ? KEY_COLOUR : OKABE_ITO.blue)
        .append('title')
        .text(`k = ${j + 1}${keys.has(j + 1) ? ' (a final key frequency)' : ''}`);
    });
    nodes.push(
      captionedFigure(
        doc,
        'explorer-clusters',
        'Neuron frequency clusters at the chosen checkpoint',
        [svg.node()!, el(doc, 'output', { class: 'explorer-cluster-text readout' }, clusters.text[last])],
        `MLP neurons grouped by the frequency that explains most of their activation's variance at that checkpoint (counted when the fraction is ≥ 85 %); the line above lists each cluster's neurons and mean explained fraction. The final key frequencies are in vermillion.`,
      ),
    );
  }

  // The followed neurons' activations over (a, b).
  if (g.neurons.length && gl.neurons.length === g.neurons.length) {
    const panels = g.neurons.map((n, j) => ({
      label: `neuron ${n.neuron} (k = ${n.frequency})`,
      index: j,
      range: kept[last].ranges[j],
    }));
    const svg = panelsSvg(
      doc,
      'explorer-neurons-svg',
      'Activations of the strongest neuron of each key frequency',
      p,
      panels,
      kept[last].image.neurons,
      "activation, from the panel's low to its high (under it)",
      [0, 1],
    );
    nodes.push(
      captionedFigure(
        doc,
        'explorer-neurons',
        'Neuron activations over (a, b) at the chosen checkpoint',
        [svg.node()!],
        `For each key frequency, the neuron of that frequency with the most variance in it at step ${fmtStep(g.neurons_step)} (the same neurons at every checkpoint): its activation for every input pair, a down and b across. Each panel is coloured over its own range, printed under it. A clean Fourier neuron shows a periodic pattern in a + b.`,
      ),
    );
  }

  // Attention from '=' per head.
  if (g.heads.length && gl.attention.length === g.heads.length) {
    const panels = g.heads.flatMap((h, j) => [
      { label: `L${h.layer} H${h.head} → a`, index: 2 * j, range: '' },
      { label: `L${h.layer} H${h.head} → b`, index: 2 * j + 1, range: '' },
    ]);
    const svg = panelsSvg(
      doc,
      'explorer-attention-svg',
      "Attention from '=' to a and b at the chosen checkpoint",
      p,
      panels,
      kept[last].image.attention,
      'attention weight (softmax probability)',
      [0, 1],
    );
    nodes.push(
      captionedFigure(
        doc,
        'explorer-attention',
        "Attention from '=' at the chosen checkpoint",
        [svg.node()!],
        `Softmax weight of the last position ('=') on position 0 (a) and position 1 (b), per head of the last layer, for every input pair; the Attention section below shows the same at full resolution for step ${fmtStep(ctx.a.attention?.step ?? gl.step)}.`,
      ),
    );
  }
  const lastNull = <T>(xs: T[]): (T | null)[] => xs.map((x, i) => (i === last ? null : x));
  const images2 = {
    neurons: lastNull(kept.map((x) => x.image.neurons)),
    attention: lastNull(kept.map((x) => x.image.attention)),
  };
  return { data: { steps, of, images: images2, ranges: kept.map((x) => x.ranges), clusters, notes }, nodes };
}

/** A figure of the explorer: its heading, the body nodes, and a one-paragraph caption. */
function captionedFigure(doc: Document, id: string, title: string, body: Node[], caption: string): HTMLElement {
  const fig = el(doc, 'figure', { id }, el(doc, 'h3', {}, title));
  fig.append(...body, el(doc, 'figcaption', {}, el(doc, 'p', {}, caption)));
  return fig;
}
