/**
 * Comparison charts: each measure overlaid across runs (by step, or shifted so every run's T_mem or
 * T_grok sits at 0), as small multiples when there are too many runs to overlay, and the delay
 * against the norm ratio (Truong et al.'s delay law).
 */
import { logNormRatio } from '../../src/grokking.ts';
import { phaseOverlay } from '../chart/phases.ts';
import { renderLineChart, type LineSeries } from '../chart/lines.ts';
import { renderSmallMultiples } from '../chart/multiples.ts';
import { fmtNum, fmtStep } from '../format.ts';
import type { RunReportInput } from '../input.ts';
import type { Figure } from '../page.ts';
import { seriesColour, seriesDash } from '../palette.ts';
import { ALIGN_LABEL, alignOffset, type Alignment, type Measure } from './measures.ts';

/** More runs than this and a chart becomes small multiples. */
export const OVERLAY_MAX_RUNS = 4;

export interface CompareRun {
  input: RunReportInput;
  label: string;
  colour: string;
  dash: string | null;
}

export function compareRuns(inputs: RunReportInput[], labels: string[]): CompareRun[] {
  return inputs.map((input, i) => ({ input, label: labels[i], colour: seriesColour(i), dash: seriesDash(i) }));
}

function shiftedPhases(run: RunReportInput, offset: number) {
  const ov = phaseOverlay(run.analysis.summary);
  if (!ov) return null;
  return {
    phases: ov.phases.map((p) => ({ ...p, start: p.start - offset, end: p.end === null ? null : p.end - offset })),
    boundaries: ov.boundaries.map((b) => ({ ...b, step: b.step - offset })),
  };
}

export function measureFigure(doc: Document, runs: CompareRun[], m: Measure, align: Alignment): Figure {
  const id = `${align}-${m.id}`;
  const title = `${m.title}${align === 'step' ? ', by step' : align === 't_mem' ? ', aligned at T_mem' : ', aligned at T_grok'}`;
  const used: { run: CompareRun; x: number[]; y: number[]; offset: number }[] = [];
  const noData: string[] = [];
  const notReached: string[] = [];
  for (const run of runs) {
    const col = m.pick(run.input);
    const offset = alignOffset(run.input, align);
    if (!col) noData.push(run.label);
    else if (offset === null) notReached.push(run.label);
    else used.push({ run, x: col.x.map((s) => s - offset), y: col.y, offset });
  }
  const caption: string[] = [];
  if (noData.length)
    caption.push(
      `Not shown (the ${m.passes.join('/')} pass was not run and metrics.jsonl lacks it): ${noData.join('; ')}.`,
    );
  if (notReached.length)
    caption.push(`Not shown (never reached ${align === 't_mem' ? 'T_mem' : 'T_grok'}): ${notReached.join('; ')}.`);
  if (!used.length)
    return {
      id,
      title,
      note: `Not drawn: no run has this measure${align === 'step' ? '' : ' and the alignment point'}. ${caption.join(' ')}`,
    };
  let lo = Infinity;
  let hi = -Infinity;
  for (const u of used)
    for (const v of u.x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  const domain: [number, number] = hi > lo ? [lo, hi] : [lo - 1, lo + 1];
  const format = align === 'step' ? undefined : (v: number) => (v > 0 ? '+' : '') + fmtStep(v);
  if (runs.length > OVERLAY_MAX_RUNS) {
    const svg = renderSmallMultiples(doc, {
      id: `${id}-svg`,
      title,
      x: { domain, label: ALIGN_LABEL[align], format },
      y: m.y,
      runs: used.map((u) => ({
        label: u.run.label,
        colour: u.run.colour,
        x: u.x,
        y: u.y,
        phases: shiftedPhases(u.run.input, u.offset),
      })),
    });
    caption.unshift(`${runs.length} runs: one panel per run (its phases shaded), the other runs in grey.`);
    return { id, title, svg, caption };
  }
  const series: LineSeries[] = used.map((u) => ({
    label: u.run.label,
    x: u.x,
    y: u.y,
    colour: u.run.colour,
    dash: u.run.dash,
  }));
  const r = renderLineChart(doc, {
    id: `${id}-svg`,
    title,
    x: { domain, label: ALIGN_LABEL[align], format },
    y: m.y,
    series,
    vMarkers:
      align === 'step' ? [] : [{ x: 0, label: align === 't_mem' ? 'T_mem' : 'T_grok', title: 'alignment point' }],
  });
  if (r.hidden) caption.push(`${r.hidden} values ≤ 0 cannot be shown on the log scale.`);
  return { id, title, svg: r.svg, hover: r.hover, caption };
}

/** Delay T_grok − T_mem against log(V_mem / V_at_grok), one point per run that has both. */
export function delayLawFigure(doc: Document, runs: CompareRun[]): Figure {
  const id = 'delay-law';
  const title = 'Delay against the norm ratio';
  const pts = runs.flatMap((r) => {
    const s = r.input.analysis.summary;
    const f = s.contraction;
    const ratio = logNormRatio(f?.v_mem, f?.v_at_grok);
    if (s.delay_95 === null || ratio === null) return [];
    return [{ run: r, x: ratio, y: s.delay_95 }];
  });
  if (pts.length < 2)
    return {
      id,
      title,
      note: `Not drawn: needs at least two runs with both a delay and a contraction fit (${pts.length} ha${pts.length === 1 ? 's' : 've'}).`,
    };
  const xs = pts.map((p) => p.x);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = hi > lo ? (hi - lo) * 0.1 : 0.5;
  const r = renderLineChart(doc, {
    id: `${id}-svg`,
    title,
    x: {
      domain: [Math.max(0, lo - pad), hi + pad],
      label: 'log(V_mem / V_at_grok) (natural log of ‖θ‖² at T_mem over ‖θ‖² at T_grok)',
      format: (v) => fmtNum(v, 3),
    },
    y: { scale: 'linear', label: 'delay T_grok − T_mem (steps)', format: (v) => fmtStep(v) },
    series: pts.map((p) => ({ label: p.run.label, x: [p.x], y: [p.y], colour: p.run.colour, legend: false })),
    legendItems: pts.map((p) => ({ label: p.run.label, colour: p.run.colour, kind: 'point' as const })),
  });
  return {
    id,
    title,
    svg: r.svg,
    caption: [
      'Truong et al.: T_grok − T_mem = Θ((1/γ_eff)·log(V_mem/V_at_grok)), γ_eff = lr·wd for SGD and ≥ lr·wd for AdamW. Runs with the same lr·wd should fall on one line through the origin.',
    ],
  };
}
