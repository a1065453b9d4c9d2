/**
 * Charts of the llc pass (analyses/llc.ts): λ̂ over training with its chains' spread and the phase
 * bands, and the SGLD loss traces of one checkpoint's chains, the diagnostic devinterp recommends
 * (a healthy chain rises from L_n(w*) and levels off; a diverged one is drawn and named).
 */
import { renderLineChart, type LineSeries } from './chart/lines.ts';
import { fmtNum, fmtStep } from './format.ts';
import type { Figure } from './page.ts';
import { OKABE_ITO, seriesColour, seriesDash } from './palette.ts';
import { timelineFigure, type RunContext } from './run-figures.ts';
import { fromCheckpoints, missingPassNote, passRan } from './series.ts';

const LLC_COLOUR = OKABE_ITO.bluishGreen;

function settingsText(ctx: RunContext): string {
  const o = ctx.a.options.llc;
  if (!o) return '';
  return `SGLD localised at each checkpoint: ε = ${fmtNum(o.epsilon)}, γ = ${fmtNum(o.gamma)}, nβ = ${fmtNum(o.nbeta)} (${o.nbeta_rule === 'n/ln n' ? `n/ln n, n = ${o.n}` : 'given'}), ${o.chains} chains × ${o.draws} draws after ${o.burnin} burn-in steps, minibatches of ${o.batch_size}, seed ${o.seed}.`;
}

/** Which checkpoints carry λ̂, when not all of them do. */
function subsetText(ctx: RunContext, measured: number): string {
  const total = ctx.a.checkpoints.length;
  if (measured >= total) return '';
  const k = ctx.a.options.llc?.checkpoints;
  const rule =
    typeof k === 'number'
      ? ` (checkpoints=${k}: about ${k} log-spaced in step, the first and last included, plus the three around each phase boundary, T_mem and T_grok; dots mark them)`
      : ' (dots mark them)';
  return ` λ̂ is computed at ${measured} of the ${total} checkpoints${rule}.`;
}

export function llcFigure(ctx: RunContext): Figure {
  const title = 'Local learning coefficient λ̂';
  const id = `${ctx.idPrefix}llc`;
  if (!passRan(ctx.a, 'llc')) return { id, title, note: missingPassNote(ctx.a, ['llc'], ctx.runLabel) };
  // Only the checkpoints that have λ̂ (the pass's checkpoint subset): the line joins them, and a
  // checkpoint whose chains all diverged (λ̂ null) stays a gap.
  const measured = { ...ctx.a, checkpoints: ctx.a.checkpoints.filter((c) => c.llc) };
  const mean = fromCheckpoints(measured, (c) => c.llc?.llc);
  const sd = fromCheckpoints(measured, (c) => c.llc?.llc_std);
  const lo = { x: mean.x, y: mean.y.map((v, i) => v - sd.y[i]) };
  const hi = { x: mean.x, y: mean.y.map((v, i) => v + sd.y[i]) };
  const diverged = ctx.a.checkpoints.filter((c) => (c.llc?.diverged_chains ?? 0) > 0);
  const series: LineSeries[] = [
    {
      label: 'λ̂ (mean over chains)',
      ...mean,
      colour: LLC_COLOUR,
      dash: null,
      width: 2,
      points: measured.checkpoints.length < ctx.a.checkpoints.length,
    },
    { label: '± one standard deviation over chains', ...lo, colour: LLC_COLOUR, dash: '2 2', width: 0.9 },
    { label: '+1 sd', ...hi, colour: LLC_COLOUR, dash: '2 2', width: 0.9, legend: false },
  ];
  const flagged = diverged.length
    ? [
        `${diverged.length} checkpoint${diverged.length === 1 ? ' has' : 's have'} diverged chains, left out of the mean (${diverged
          .slice(0, 8)
          .map((c) => `step ${fmtStep(c.step)}: ${c.llc!.diverged_chains}`)
          .join(', ')}${diverged.length > 8 ? ', …' : ''}); a smaller ε avoids them.`,
      ]
    : ['No chain diverged.'];
  const subset = subsetText(ctx, measured.checkpoints.length);
  return timelineFigure(ctx, 'llc', title, { scale: 'linear', label: 'λ̂ (effective parameters / 2)' }, series, [
    `λ̂(w*) = nβ·(E[L_n(w)] − L_n(w*)) (Lau et al. 2023), the expectation over SGLD draws around each checkpoint on the training loss alone. ${settingsText(ctx)}${subset} Lower means a more degenerate, simpler solution: it typically rises during memorisation and falls as the circuit replaces it.`,
    ...flagged,
  ]);
}

/** SGLD loss traces of the chains at one checkpoint (the last one with the pass, by default). */
export function llcTraceFigure(ctx: RunContext, step?: number): Figure {
  const title = 'SGLD loss traces (diagnostic)';
  const id = `${ctx.idPrefix}llc-traces`;
  if (!passRan(ctx.a, 'llc')) return { id, title, note: missingPassNote(ctx.a, ['llc'], ctx.runLabel) };
  const withLlc = ctx.a.checkpoints.filter((c) => c.llc);
  const cp = step === undefined ? withLlc.at(-1)! : (withLlc.find((c) => c.step === step) ?? withLlc.at(-1)!);
  const r = cp.llc!;
  const o = ctx.a.options.llc;
  const total = o ? o.burnin + o.draws : Math.max(...r.chains.map((c) => c.trace.length * c.trace_every));
  const series: LineSeries[] = r.chains.map((c, i) => ({
    label: `chain ${i + 1}${c.status === 'diverged' ? ' (diverged, left out)' : `: λ̂ ${fmtNum(c.llc ?? NaN)}`}`,
    x: c.trace.map((_, k) => k * c.trace_every),
    y: c.trace,
    colour: seriesColour(i),
    dash: seriesDash(i),
    width: 1.3,
  }));
  const chart = renderLineChart(ctx.doc, {
    id: `${id}-svg`,
    title: `${title}, step ${fmtStep(cp.step)}`,
    x: { domain: [0, Math.max(total, 1)], label: 'SGLD step (burn-in included)' },
    y: { scale: 'log', label: 'minibatch training loss (log scale)' },
    series,
    refLines: r.init_loss > 0 ? [{ y: r.init_loss, label: 'L_n(w*)' }] : [],
    vMarkers:
      o && o.burnin > 0 ? [{ x: o.burnin, label: 'burn-in ends', title: `draws start after ${o.burnin} steps` }] : [],
  });
  return {
    id,
    title,
    svg: chart.svg,
    hover: chart.hover,
    caption: [
      `The loss along each chain at step ${fmtStep(cp.step)}, every ${r.chains[0]?.trace_every ?? 1} SGLD steps. A chain should rise from the checkpoint's loss L_n(w*) = ${fmtNum(r.init_loss)} and level off before the draws begin; one that keeps climbing or stops being finite (ε too large) is flagged and left out. Share of draws below L_n(w*) (w* not a local minimum when near 1): ${r.chains.map((c) => `${Math.round(c.below_init * 100)} %`).join(', ')}.`,
    ],
  };
}
