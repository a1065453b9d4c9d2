/**
 * The charts of a single-run report, one function each. Each returns a Figure: the chart, or a note
 * saying which pass is missing. All timeline charts share one x domain and the phase overlay.
 */
import type { AnalysisFile, PassName } from '../analyses/types.ts';
import type { MetricsRow } from '../src/run/store.ts';
import { renderLineChart, type LineSeries } from './chart/lines.ts';
import type { PhaseOverlay } from './chart/phases.ts';
import { fmtNum, fmtStep } from './format.ts';
import type { Figure } from './page.ts';
import { OKABE_ITO, seriesColour, seriesDash } from './palette.ts';
import { fromCheckpoints, fromRows, hasData, missingPassNote, passRan, type Column } from './series.ts';

export interface RunContext {
  doc: Document;
  a: AnalysisFile;
  rows: MetricsRow[];
  domain: [number, number];
  phases: PhaseOverlay | null;
  runLabel: string;
  idPrefix: string;
}

export const STEP_LABEL = 'training step (optimiser updates)';
const LOSS_LABEL = 'cross-entropy (nats, log scale)';

const TRAIN = { colour: OKABE_ITO.blue, dash: null };
const TEST = { colour: OKABE_ITO.vermillion, dash: '6 3' };

/** Markers for T_mem and T_grok on the timeline charts. */
export function transitionMarkers(a: AnalysisFile): { x: number; label: string; title: string }[] {
  const s = a.summary;
  const out: { x: number; label: string; title: string }[] = [];
  if (s.t_mem !== null)
    out.push({
      x: s.t_mem,
      label: 'T_mem',
      title: `T_mem = step ${s.t_mem}: first checkpoint with train accuracy ≥ 99 %`,
    });
  if (s.t_grok_95 !== null)
    out.push({
      x: s.t_grok_95,
      label: 'T_grok',
      title: `T_grok = step ${s.t_grok_95}: first checkpoint with test accuracy ≥ 95 %`,
    });
  const d = a.run.divergence;
  if (d && typeof d.step === 'number')
    out.push({ x: d.step, label: 'diverged', title: `diverged at step ${d.step}: ${d.detail}` });
  return out;
}

function missing(ctx: RunContext, id: string, title: string, passes: PassName[]): Figure | null {
  if (passes.every((p) => passRan(ctx.a, p))) return null;
  return { id: `${ctx.idPrefix}${id}`, title, note: missingPassNote(ctx.a, passes, ctx.runLabel) };
}

function hiddenNote(hidden: number): string[] {
  return hidden ? [`${hidden} value${hidden === 1 ? '' : 's'} ≤ 0 cannot be shown on the log scale.`] : [];
}

export function timelineFigure(
  ctx: RunContext,
  id: string,
  title: string,
  y: Parameters<typeof renderLineChart>[1]['y'],
  series: LineSeries[],
  caption: string[],
  extra: Partial<Parameters<typeof renderLineChart>[1]> = {},
): Figure {
  const fid = `${ctx.idPrefix}${id}`;
  const r = renderLineChart(ctx.doc, {
    id: `${fid}-svg`,
    title,
    x: { domain: ctx.domain, label: STEP_LABEL },
    y,
    series,
    phases: ctx.phases,
    ...extra,
  });
  return {
    id: fid,
    title,
    svg: r.svg,
    hover: r.hover,
    caption: [...caption, ...hiddenNote(r.hidden)],
    boundaries: ctx.phases,
  };
}

/** Train and test columns: metrics.jsonl when it has them (denser), else the metrics pass. */
function trainTest(ctx: RunContext, key: 'loss' | 'acc'): { train: Column; test: Column; source: string } | null {
  const train = fromRows(ctx.rows, `train_${key}`);
  const test = fromRows(ctx.rows, `test_${key}`);
  if (hasData(train) || hasData(test)) return { train, test, source: `metrics.jsonl (${ctx.rows.length} rows)` };
  if (passRan(ctx.a, 'metrics')) {
    return {
      train: fromCheckpoints(ctx.a, (c) => c.metrics?.[`train_${key}`]),
      test: fromCheckpoints(ctx.a, (c) => c.metrics?.[`test_${key}`]),
      source: `the metrics pass (${ctx.a.checkpoints.length} checkpoints)`,
    };
  }
  return null;
}

export function lossFigure(ctx: RunContext): Figure {
  const title = 'Train and test loss';
  const tt = trainTest(ctx, 'loss');
  if (!tt)
    return {
      id: `${ctx.idPrefix}loss`,
      title,
      note: `Not drawn: ${ctx.runLabel} has no loss values in metrics.jsonl and the metrics pass was not run.`,
    };
  return timelineFigure(
    ctx,
    'loss',
    title,
    { scale: 'log', label: LOSS_LABEL },
    [
      { label: 'train loss', ...tt.train, ...TRAIN },
      { label: 'test loss', ...tt.test, ...TEST },
    ],
    [
      `Cross-entropy on the train and test splits, from ${tt.source}. Memorisation drives the train loss down while the test loss rises; the test loss only falls in cleanup.`,
    ],
  );
}

export function accuracyFigure(ctx: RunContext): Figure {
  const title = 'Train and test accuracy';
  const tt = trainTest(ctx, 'acc');
  if (!tt)
    return {
      id: `${ctx.idPrefix}accuracy`,
      title,
      note: `Not drawn: ${ctx.runLabel} has no accuracy values in metrics.jsonl and the metrics pass was not run.`,
    };
  return timelineFigure(
    ctx,
    'accuracy',
    title,
    { scale: 'linear', label: 'accuracy (%)', domain: [0, 1], percent: true },
    [
      { label: 'train accuracy', ...tt.train, ...TRAIN },
      { label: 'test accuracy', ...tt.test, ...TEST },
    ],
    [`From ${tt.source}. Dotted lines: 99 % (T_mem on train) and 95 % (T_grok on test).`],
    {
      refLines: [
        { y: 0.99, label: '99 %' },
        { y: 0.95, label: '95 %' },
      ],
      vMarkers: transitionMarkers(ctx.a),
    },
  );
}

export function circuitFigure(ctx: RunContext): Figure {
  const title = 'Restricted and excluded loss';
  const miss = missing(ctx, 'circuit', title, ['circuit']);
  if (miss) return miss;
  const tt = trainTest(ctx, 'loss');
  const series: LineSeries[] = [];
  if (tt)
    series.push(
      { label: 'train loss', ...tt.train, colour: '#9a9a9a', dash: null, width: 1.2 },
      { label: 'test loss', ...tt.test, colour: '#9a9a9a', dash: '6 3', width: 1.2 },
    );
  series.push(
    {
      label: 'restricted loss (all pairs)',
      ...fromCheckpoints(ctx.a, (c) => c.circuit?.restricted_loss),
      colour: OKABE_ITO.bluishGreen,
      dash: null,
      width: 2,
    },
    {
      label: 'excluded loss (train pairs)',
      ...fromCheckpoints(ctx.a, (c) => c.circuit?.excluded_loss),
      colour: OKABE_ITO.reddishPurple,
      dash: '2 2',
      width: 2,
    },
  );
  return timelineFigure(ctx, 'circuit', title, { scale: 'log', label: LOSS_LABEL }, series, [
    `Restricted loss keeps only the key frequencies (${ctx.a.key_frequencies.join(', ') || 'none'}) of the logits; excluded loss removes them. The excluded loss rising while the train loss stays low marks circuit formation; the restricted loss falling ahead of the test loss shows the circuit before the test accuracy does.`,
  ]);
}

export function perKeyFigure(ctx: RunContext): Figure {
  const title = 'Excluded loss per key frequency';
  const miss = missing(ctx, 'per-key', title, ['circuit', 'fourier']);
  if (miss) return miss;
  const keys = ctx.a.key_frequencies;
  if (!keys.length)
    return { id: `${ctx.idPrefix}per-key`, title, note: 'Not drawn: the analysis found no key frequencies.' };
  const series: LineSeries[] = keys.map((k, i) => ({
    label: `k = ${k} removed`,
    // per-checkpoint key sets: k's own entry, a gap where k was not a key at that checkpoint
    ...fromCheckpoints(ctx.a, (c) => {
      const own = c.fourier?.key_frequencies;
      return c.circuit?.excluded_loss_per_key[own ? own.indexOf(k) : i];
    }),
    colour: seriesColour(i),
    dash: seriesDash(i),
  }));
  const lastMaxK = [...ctx.a.checkpoints].reverse().find((c) => c.circuit)?.circuit?.excluded_loss_max_k;
  series.push({
    label: `max over all k (k = ${lastMaxK ?? '–'} at the end)`,
    ...fromCheckpoints(ctx.a, (c) => c.circuit?.excluded_loss_max),
    colour: '#000',
    dash: '1 2',
    width: 1.2,
  });
  const tt = trainTest(ctx, 'loss');
  if (tt) series.push({ label: 'train loss', ...tt.train, colour: '#9a9a9a', dash: null, width: 1 });
  return timelineFigure(ctx, 'per-key', title, { scale: 'log', label: LOSS_LABEL }, series, [
    'Train cross-entropy with one key frequency removed from the logits at a time, and the largest such loss over every frequency (independent of which frequencies are key).',
  ]);
}

export function normFigure(ctx: RunContext): Figure {
  const title = 'Sum of squared weights ‖θ‖²';
  const rows = fromRows(ctx.rows, 'sq_norm');
  let V: Column;
  let source: string;
  if (hasData(rows)) {
    V = rows;
    source = 'metrics.jsonl';
  } else if (passRan(ctx.a, 'norms')) {
    V = fromCheckpoints(ctx.a, (c) => c.norms?.sq_norm_total);
    source = 'the norms pass';
  } else {
    return { id: `${ctx.idPrefix}norm`, title, note: missingPassNote(ctx.a, ['norms'], ctx.runLabel) };
  }
  const series: LineSeries[] = [{ label: '‖θ‖²', ...V, colour: OKABE_ITO.blue, dash: null }];
  const fit = ctx.a.summary.contraction;
  const caption = [`Every parameter, from ${source}.`];
  if (fit) {
    const n = 60;
    const x = Array.from({ length: n + 1 }, (_, i) => fit.from + ((fit.to - fit.from) * i) / n);
    const tMem = ctx.a.summary.t_mem ?? fit.from;
    series.push({
      label: `fit V_mem·exp(−c·(t − T_mem)), c/(lr·wd) = ${fmtNum(fit.c_over_lr_wd)}`,
      x,
      y: x.map((t) => fit.v_mem_fit * Math.exp(-fit.c * (t - tMem))),
      colour: OKABE_ITO.vermillion,
      dash: '6 3',
      width: 2,
    });
    caption.push(
      `Least-squares fit of log ‖θ‖² over steps ${fit.from}–${fit.to}: c = ${fmtNum(fit.c)} per step (R² ${fmtNum(fit.r2)}); V_mem = ${fmtNum(fit.v_mem)}, V at the window's end (v_fit_end) = ${fmtNum(fit.v_fit_end)}. Truong et al. report c/(lr·wd) ≈ 1.41 for AdamW.`,
    );
  } else {
    caption.push('No contraction fit: ' + (ctx.a.summary.notes.join(' ') || 'the analysis could not place one.'));
  }
  return timelineFigure(
    ctx,
    'norm',
    title,
    { scale: 'log', label: '‖θ‖² (sum of squares, log scale)' },
    series,
    caption,
  );
}

export function sparsityFigure(ctx: RunContext): Figure {
  const title = 'Fourier sparsity: Gini coefficient and IPR';
  const miss = missing(ctx, 'sparsity', title, ['fourier']);
  if (miss) return miss;
  return timelineFigure(
    ctx,
    'sparsity',
    title,
    { scale: 'linear', label: 'coefficient (0 = dense, 1 = sparse)', domain: [0, 1] },
    [
      {
        label: 'Gini of W_E norms',
        ...fromCheckpoints(ctx.a, (c) => c.fourier?.gini_embed),
        colour: OKABE_ITO.blue,
        dash: null,
      },
      {
        label: 'Gini of W_L norms',
        ...fromCheckpoints(ctx.a, (c) => c.fourier?.gini_logit_map),
        colour: OKABE_ITO.vermillion,
        dash: '6 3',
      },
      {
        label: 'mean IPR of first-layer neurons',
        ...fromCheckpoints(ctx.a, (c) => c.fourier?.ipr_mean),
        colour: OKABE_ITO.bluishGreen,
        dash: '2 2',
      },
    ],
    [
      'Gini coefficient (Hurley & Rickard) of the per-frequency norms of the embedding W_E and the neuron-to-logit map W_L, and the mean inverse participation ratio (Gromov) of the first layer: both jump in cleanup, when the network drops every frequency but the key ones.',
    ],
  );
}

export function nonFourierFigure(ctx: RunContext): Figure {
  const title = 'Non-Fourier energy of the embedding';
  const miss = missing(ctx, 'non-fourier', title, ['fourier']);
  if (miss) return miss;
  return timelineFigure(
    ctx,
    'non-fourier',
    title,
    { scale: 'log', label: 'share of squared mass (log scale)' },
    [
      {
        label: 'W_E mass outside key frequencies and constant',
        ...fromCheckpoints(ctx.a, (c) => c.fourier?.non_fourier_energy),
        colour: OKABE_ITO.reddishPurple,
        dash: null,
      },
    ],
    ['Truong et al.: falls from about 0.1–0.16 to below 0.004 at grokking.'],
  );
}

export function distanceFigure(ctx: RunContext): Figure {
  const title = 'Kernel distance and distance from initialisation';
  const hasNtk = passRan(ctx.a, 'ntk');
  const hasNorms = passRan(ctx.a, 'norms');
  if (!hasNtk && !hasNorms)
    return { id: `${ctx.idPrefix}distance`, title, note: missingPassNote(ctx.a, ['ntk', 'norms'], ctx.runLabel) };
  const series: LineSeries[] = [];
  if (hasNtk) {
    series.push(
      {
        label: 'kernel distance S(K_t, K_0), r·logits',
        ...fromCheckpoints(ctx.a, (c) => c.ntk?.projection.kernel_distance),
        colour: OKABE_ITO.blue,
        dash: null,
      },
      {
        label: 'kernel distance, first logit',
        ...fromCheckpoints(ctx.a, (c) => c.ntk?.first_output.kernel_distance),
        colour: OKABE_ITO.skyBlue,
        dash: '2 2',
      },
    );
  }
  if (hasNorms)
    series.push({
      label: '‖θ_t − θ_0‖ / ‖θ_0‖',
      ...fromCheckpoints(ctx.a, (c) => c.norms?.rel_dist_total),
      colour: OKABE_ITO.vermillion,
      dash: '6 3',
    });
  const caption = [
    'Kernel distance (Fort et al.) of the empirical NTK on the probe set from its value at initialisation (0 = same kernel up to scale, 1 = orthogonal), and the relative parameter distance from initialisation (Kumar et al.). Both are dimensionless.',
  ];
  if (!hasNtk) caption.push(missingPassNote(ctx.a, ['ntk'], ctx.runLabel));
  if (!hasNorms) caption.push(missingPassNote(ctx.a, ['norms'], ctx.runLabel));
  if (hasNtk && ctx.a.options.probe)
    caption.push(`Probe: ${ctx.a.options.probe.n} inputs, seed ${ctx.a.options.probe.seed}.`);
  return timelineFigure(
    ctx,
    'distance',
    title,
    { scale: 'linear', label: 'distance (dimensionless)' },
    series,
    caption,
  );
}

export const stepRange = (a: AnalysisFile): string =>
  a.checkpoints.length
    ? `${a.checkpoints.length} checkpoints, steps ${fmtStep(a.checkpoints[0].step)}–${fmtStep(a.checkpoints[a.checkpoints.length - 1].step)}`
    : 'no checkpoints';
