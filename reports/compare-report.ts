/**
 * `groklens compare`: several runs in one self-contained page — what differs between their configs,
 * a table of their transitions, and their progress measures overlaid by step and aligned at T_mem
 * and at T_grok (small multiples past OVERLAY_MAX_RUNS runs).
 */
import { logNormRatio } from '../src/grokking.ts';
import { boundaryMark, phaseLabel } from './chart/phases.ts';
import { compareRuns, delayLawFigure, measureFigure, OVERLAY_MAX_RUNS, type CompareRun } from './compare/figures.ts';
import { labelRuns, type RunLabels } from './compare/labels.ts';
import { measuresFor, type Alignment } from './compare/measures.ts';
import { newDocument } from './dom.ts';
import { fmtNum, fmtPct, fmtStep } from './format.ts';
import { checkReportInput, type RunReportInput } from './input.ts';
import { el, finishPage, renderSections, setupHead, type Section } from './page.ts';
import { UserError } from '../src/errors.ts';

export interface CompareOptions {
  title?: string;
}

function swatch(doc: Document, run: CompareRun): HTMLElement {
  const s = el(doc, 'span', {
    'aria-hidden': 'true',
    style: `display:inline-block;width:18px;height:3px;margin-right:6px;vertical-align:middle;background:${run.colour}`,
  });
  return s;
}

function differsTable(doc: Document, runs: CompareRun[], labels: RunLabels): HTMLElement {
  if (!labels.keys.length)
    return el(doc, 'p', { class: 'note' }, 'The runs have identical configurations; they are labelled by name.');
  return el(
    doc,
    'div',
    { class: 'scroll' },
    el(
      doc,
      'table',
      { class: 'wide differs' },
      el(
        doc,
        'thead',
        {},
        el(
          doc,
          'tr',
          {},
          el(doc, 'th', {}, 'run'),
          el(doc, 'th', {}, 'directory name'),
          ...labels.keys.map((k) => el(doc, 'th', {}, k)),
        ),
      ),
      el(
        doc,
        'tbody',
        {},
        ...runs.map((r, i) =>
          el(
            doc,
            'tr',
            {},
            el(doc, 'td', {}, swatch(doc, r), r.label),
            el(doc, 'td', {}, r.input.meta.name),
            ...labels.values[i].map((v) => el(doc, 'td', {}, v)),
          ),
        ),
      ),
    ),
  );
}

function transitionTable(doc: Document, runs: CompareRun[]): HTMLElement {
  const diverged = runs.some((r) => r.input.analysis.run.divergence);
  const head = [
    'run',
    'T_mem',
    'T_grok 95 % / 99 %',
    'delay',
    'boundaries ①, ②, …',
    'key frequencies',
    'V_mem / V_at_grok (log ratio)',
    'c/(lr·wd)',
    'final test acc',
    ...(diverged ? ['diverged at'] : []),
  ];
  const rows = runs.map((r) => {
    const a = r.input.analysis;
    const s = a.summary;
    const f = s.contraction;
    const last =
      r.input.metrics[r.input.metrics.length - 1]?.test_acc ??
      [...a.checkpoints].reverse().find((c) => c.metrics)?.metrics?.test_acc;
    const bounds = s.boundaries.map((b) => fmtStep(b.step)).join(', ') || '–';
    const cells = [
      fmtStep(s.t_mem),
      `${fmtStep(s.t_grok_95)} / ${fmtStep(s.t_grok_99)}`,
      fmtStep(s.delay_95),
      bounds,
      a.key_frequencies.join(', ') || '–',
      f ? `${fmtNum(f.v_mem)} / ${fmtNum(f.v_at_grok)} (${fmtNum(logNormRatio(f.v_mem, f.v_at_grok))})` : '–',
      f ? fmtNum(f.c_over_lr_wd) : '–',
      fmtPct(last),
      ...(diverged ? [a.run.divergence ? `step ${fmtStep(a.run.divergence.step)}` : '–'] : []),
    ];
    return el(
      doc,
      'tr',
      {},
      el(doc, 'td', {}, swatch(doc, r), r.label),
      ...cells.map((c, j) => el(doc, 'td', { class: j === 3 || j === 4 ? '' : 'num' }, c)),
    );
  });
  const table = el(
    doc,
    'table',
    { class: 'wide transitions' },
    el(doc, 'thead', {}, el(doc, 'tr', {}, ...head.map((h) => el(doc, 'th', {}, h)))),
    el(doc, 'tbody', {}, ...rows),
  );
  const names = [
    ...new Set(
      runs.flatMap((r) =>
        r.input.analysis.summary.boundaries.map(
          (b, i) => `${boundaryMark(i)} ${phaseLabel(b.from)} → ${phaseLabel(b.to)}`,
        ),
      ),
    ),
  ];
  return el(
    doc,
    'div',
    { class: 'scroll' },
    table,
    names.length
      ? el(doc, 'p', { class: 'sub' }, `Boundaries: ${names.join('; ')}. Reasons are in each run's own report.`)
      : null,
  );
}

export function compareSections(doc: Document, inputs: RunReportInput[]): Section[] {
  const labels = labelRuns(inputs.map((i) => ({ name: i.meta.name, config: i.meta.config })));
  const runs = compareRuns(inputs, labels.labels);
  const section = (align: Alignment, id: string, title: string, intro: string): Section => ({
    id,
    title,
    intro: [el(doc, 'p', {}, intro)],
    figures: measuresFor(inputs).map((m) => measureFigure(doc, runs, m, align)),
  });
  const notes = inputs.flatMap((i) => i.analysis.summary.notes.map((n) => `${i.meta.name}: ${n}`));
  return [
    {
      id: 'runs',
      title: 'Runs',
      intro: [
        el(doc, 'h3', {}, 'What differs'),
        differsTable(doc, runs, labels),
        el(doc, 'h3', {}, 'Transitions'),
        transitionTable(doc, runs),
        ...notes.map((n) => el(doc, 'p', { class: 'note' }, n)),
      ],
      figures: [],
    },
    section(
      'step',
      'by-step',
      'By step',
      'Each measure against the training step.' +
        (runs.length > OVERLAY_MAX_RUNS ? ` With ${runs.length} runs, small multiples replace overlays.` : ''),
    ),
    section(
      't_mem',
      'at-t-mem',
      'Aligned at T_mem',
      "The same measures shifted so that each run's T_mem (first checkpoint with train accuracy ≥ 99 %) is at 0: differences in how long circuit formation takes.",
    ),
    section(
      't_grok',
      'at-t-grok',
      'Aligned at T_grok',
      "Shifted so that each run's T_grok (test accuracy ≥ 95 %) is at 0: whether the runs approach grokking the same way.",
    ),
    { id: 'delay', title: 'Delay law', figures: [delayLawFigure(doc, runs)] },
  ];
}

/** The complete HTML page comparing `inputs` (at least one run). */
export function renderCompareReport(inputs: RunReportInput[], opts: CompareOptions = {}): string {
  if (!inputs.length) throw new UserError('compare: give at least one run directory');
  for (const i of inputs) checkReportInput(i);
  const doc = newDocument();
  const title = opts.title ?? `Comparison of ${inputs.length} run${inputs.length === 1 ? '' : 's'}`;
  setupHead(doc, `${title} · groklens`);
  const tasks = [...new Set(inputs.map((i) => i.meta.dataset?.description ?? i.analysis.run.task))];
  doc.body.append(
    el(
      doc,
      'header',
      {},
      el(doc, 'h1', {}, title),
      el(doc, 'p', { class: 'sub' }, `${tasks.join('; ')} · ${inputs.map((i) => i.meta.name).join(', ')}`),
    ),
  );
  renderSections(doc, compareSections(doc, inputs));
  const version = inputs[0].analysis.groklens_version;
  doc.body.append(
    el(
      doc,
      'footer',
      {},
      el(
        doc,
        'p',
        {},
        `Made by groklens ${version} from each run's run.json, metrics.jsonl and analysis.json. Self-contained: no file or network access.`,
      ),
    ),
  );
  return finishPage(doc);
}
