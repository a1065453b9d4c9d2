/**
 * Frequency-resolved charts of a run: the embedding's Fourier norms over time, the final norms of
 * the embedding and the neuron-to-logit map with the key frequencies marked, the neuron clusters,
 * and the attention from '=' to each operand per head.
 */
import type { AttentionMaps } from '../analyses/types.ts';
import { renderBarChart } from './chart/bars.ts';
import { renderAttentionMaps, renderTimelineHeatmap } from './chart/heatmaps.ts';
import { fmtNum } from './format.ts';
import { maxFrequency, num } from './input.ts';
import type { Figure } from './page.ts';
import { KEY_COLOUR, OKABE_ITO, OTHER_COLOUR } from './palette.ts';
import { STEP_LABEL, type RunContext } from './run-figures.ts';
import { missingPassNote, passRan } from './series.ts';

const frequencyLabel = (a: RunContext['a']): string =>
  a.group.kind === 'multiplicative'
    ? `frequency k (over the multiplicative group of order ${a.group.n})`
    : 'frequency k';

export function fourierHeatmapFigure(ctx: RunContext): Figure {
  const id = `${ctx.idPrefix}fourier-heatmap`;
  const title = 'Embedding Fourier norms over training';
  if (!passRan(ctx.a, 'fourier')) return { id, title, note: missingPassNote(ctx.a, ['fourier'], ctx.runLabel) };
  const K = maxFrequency(ctx.a);
  const cks = ctx.a.checkpoints.filter((c) => c.fourier);
  const nRows = K === null ? Math.max(...cks.map((c) => c.fourier!.embed_norms.length)) : K + 1;
  const rows = Array.from({ length: nRows }, (_, k) => k);
  const values = rows.map((k) => cks.map((c) => num(c.fourier!.embed_norms[k])));
  const r = renderTimelineHeatmap(ctx.doc, {
    id: `${id}-svg`,
    title,
    steps: cks.map((c) => c.step),
    rows,
    values,
    domain: ctx.domain,
    xLabel: STEP_LABEL,
    rowLabel: frequencyLabel(ctx.a),
    valueLabel: '‖W_E Fourier component‖₂ (√(cos² + sin²))',
    marked: ctx.a.key_frequencies,
    phases: ctx.phases,
  });
  return {
    id,
    title,
    svg: r.svg,
    hover: r.hover,
    boundaries: ctx.phases,
    caption: [
      `Norm of each frequency's cos and sin components of the embedding W_E, one column per analysed checkpoint (${cks.length}); row 0 is the constant component. Key frequencies (◀) grow during circuit formation; the others fade in cleanup.`,
    ],
  };
}

function lastFourier(ctx: RunContext) {
  return [...ctx.a.checkpoints].reverse().find((c) => c.fourier);
}

export function finalNormsFigure(ctx: RunContext, which: 'embed' | 'logit'): Figure {
  const id = `${ctx.idPrefix}final-${which}`;
  const title =
    which === 'embed'
      ? 'Final Fourier norms of the embedding W_E'
      : 'Final Fourier norms of the neuron-to-logit map W_L';
  if (!passRan(ctx.a, 'fourier')) return { id, title, note: missingPassNote(ctx.a, ['fourier'], ctx.runLabel) };
  const ck = lastFourier(ctx)!;
  const norms = which === 'embed' ? ck.fourier!.embed_norms : ck.fourier!.logit_map_norms;
  const keys = new Set(ctx.a.key_frequencies);
  const r = renderBarChart(ctx.doc, {
    id: `${id}-svg`,
    title,
    categories: norms.map((_, k) => String(k)),
    values: norms.map((v) => num(v)),
    colours: norms.map((_, k) => (keys.has(k) ? KEY_COLOUR : OTHER_COLOUR)),
    above: norms.map((_, k) => (keys.has(k) ? String(k) : null)),
    xLabel: frequencyLabel(ctx.a),
    y: { scale: 'linear', label: 'L2 norm' },
    legend: [
      { label: 'key frequency', colour: KEY_COLOUR, kind: 'box' },
      { label: 'other frequency (0 = constant)', colour: OTHER_COLOUR, kind: 'box' },
    ],
  });
  const what =
    which === 'embed'
      ? 'rows of the embedding W_E (number tokens)'
      : 'W_L = W_out·W_U (neurons × classes), transformed along the classes';
  return {
    id,
    title,
    svg: r.svg,
    hover: r.hover,
    caption: [
      `At step ${ck.step}: norm per frequency of the ${what}. Gini ${fmtNum(which === 'embed' ? ck.fourier!.gini_embed : ck.fourier!.gini_logit_map)}.`,
    ],
  };
}

export function clustersFigure(ctx: RunContext): Figure {
  const id = `${ctx.idPrefix}clusters`;
  const title = 'Neuron frequency clusters';
  if (!passRan(ctx.a, 'fourier')) return { id, title, note: missingPassNote(ctx.a, ['fourier'], ctx.runLabel) };
  const cl = [...ctx.a.neuron_clusters].sort((x, y) => x.frequency - y.frequency);
  if (!cl.length && !ctx.a.unclustered_neurons)
    return { id, title, note: 'Not drawn: the analysis lists no neuron clusters.' };
  const r = renderBarChart(ctx.doc, {
    id: `${id}-svg`,
    title,
    categories: [...cl.map((c) => `k = ${c.frequency}`), 'unclustered'],
    values: [...cl.map((c) => c.neurons), ctx.a.unclustered_neurons],
    colours: [...cl.map(() => OKABE_ITO.blue), OTHER_COLOUR],
    above: [...cl.map((c) => `${fmtNum(c.mean_explained * 100, 3)} %`), null],
    xLabel: 'frequency cluster',
    y: { scale: 'linear', label: 'neurons (count)' },
    width: Math.min(720, 200 + 70 * (cl.length + 1)),
  });
  return {
    id,
    title,
    svg: r.svg,
    hover: r.hover,
    caption: [
      `MLP neurons grouped by the frequency that explains most of their activation's variance (at step ${ctx.a.key_frequencies_step ?? '–'}); a neuron counts when that fraction is ≥ 85 %. Above each bar: the mean explained fraction.`,
    ],
  };
}

export function attentionFigures(ctx: RunContext, att: AttentionMaps | null | undefined, modelKind: string): Figure[] {
  const title = "Attention from '=' to a and b";
  if (!att || !att.heads.length) {
    const why =
      modelKind === 'transformer'
        ? 'Not drawn: no attention patterns were given for this transformer run (analysis.json has no "attention" field).'
        : `Not drawn: a ${modelKind} has no attention.`;
    return [{ id: `${ctx.idPrefix}attention`, title, note: why }];
  }
  return att.heads.map((h, i) => {
    const id = `${ctx.idPrefix}attention-${i}`;
    const t = `${title}: layer ${h.layer}, head ${h.head}`;
    const r = renderAttentionMaps(ctx.doc, {
      id: `${id}-svg`,
      title: t,
      p: att.p,
      panels: [
        { label: 'to a (position 0)', values: h.to_a },
        { label: 'to b (position 1)', values: h.to_b },
      ],
    });
    return {
      id,
      title: t,
      svg: r.svg,
      hover: r.hover,
      caption:
        i === 0
          ? [
              `Softmax weight of the last position ('=') on each operand, for every input pair (a, b), at step ${att.step}. Stripes along a or b show a head reading one operand at a key frequency.`,
            ]
          : [],
    };
  });
}
