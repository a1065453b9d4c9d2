/**
 * `groklens report`: one run as one self-contained HTML page. Pure: run.json, metrics rows and
 * analysis.json in, an HTML string out.
 */
import { phaseOverlay } from './chart/phases.ts';
import { renderTimeline } from './chart/timeline.ts';
import { newDocument } from './dom.ts';
import { attentionFigures, clustersFigure, finalNormsFigure, fourierHeatmapFigure } from './fourier-figures.ts';
import { checkReportInput, type RunReportInput } from './input.ts';
import { el, finishPage, renderSections, setupHead, type Section } from './page.ts';
import {
  accuracyFigure,
  circuitFigure,
  distanceFigure,
  lossFigure,
  nonFourierFigure,
  normFigure,
  perKeyFigure,
  sparsityFigure,
  STEP_LABEL,
  stepRange,
  transitionMarkers,
  type RunContext,
} from './run-figures.ts';
import { explorerSection } from './explorer/section.ts';
import { llcFigure, llcTraceFigure } from './llc-figures.ts';
import { passRan, timelineDomain } from './series.ts';
import { trajectoryFigures } from './trajectory-figures.ts';
import { summaryNodes } from './summary.ts';

export interface RunReportOptions {
  /** Shown in the footer: where the report came from (e.g. the run directory). */
  source?: string;
}

/** The sections of a run report, built in `doc` (exposed for tests that inspect the DOM). */
export function runSections(doc: Document, input: RunReportInput): Section[] {
  const { meta, metrics: rows, analysis: a } = input;
  const ctx: RunContext = {
    doc,
    a,
    rows,
    domain: timelineDomain(a, rows),
    phases: phaseOverlay(a.summary),
    runLabel: `run "${meta.name}"`,
    idPrefix: '',
  };
  const timeline = renderTimeline(doc, {
    id: 'timeline-svg',
    title: 'Phases of training',
    domain: ctx.domain,
    xLabel: STEP_LABEL,
    phases: ctx.phases,
    markers: transitionMarkers(a),
  });
  const explorer = explorerSection(ctx);
  const noPhases = ctx.phases
    ? []
    : ['The analysis placed no phase boundaries' + (a.summary.notes.length ? `: ${a.summary.notes.join(' ')}` : '.')];
  return [
    { id: 'run', title: 'Run', intro: summaryNodes(doc, meta, a, rows), figures: [] },
    {
      id: 'timeline',
      title: 'Timeline',
      figures: [
        {
          id: 'timeline',
          title: 'Phases of training',
          svg: timeline,
          boundaries: ctx.phases,
          caption: [
            'Memorisation, circuit formation and cleanup (Nanda et al. 2023) as placed by the analysis; each numbered boundary gives the signal that placed it. Every chart below shares this step axis. ▲ T_mem and T_grok.',
            ...noPhases,
          ],
        },
      ],
    },
    ...(explorer ? [explorer] : []),
    { id: 'training', title: 'Loss and accuracy', figures: [lossFigure(ctx), accuracyFigure(ctx)] },
    { id: 'circuit', title: 'Progress measures of the circuit', figures: [circuitFigure(ctx), perKeyFigure(ctx)] },
    { id: 'norms', title: 'Weight norm and distances', figures: [normFigure(ctx), distanceFigure(ctx)] },
    {
      id: 'fourier',
      title: 'Fourier structure',
      figures: [
        sparsityFigure(ctx),
        nonFourierFigure(ctx),
        fourierHeatmapFigure(ctx),
        finalNormsFigure(ctx, 'embed'),
        finalNormsFigure(ctx, 'logit'),
        clustersFigure(ctx),
      ],
    },
    {
      id: 'attention',
      title: 'Attention',
      figures: attentionFigures(ctx, input.attention, meta.config?.model?.kind ?? 'model'),
    },
    // The opt-in passes get a section only when they ran (reports of other runs stay as they were).
    ...(passRan(a, 'llc')
      ? [
          {
            id: 'learning-coefficient',
            title: 'Local learning coefficient',
            figures: [llcFigure(ctx), llcTraceFigure(ctx)],
          },
        ]
      : []),
    ...(passRan(a, 'trajectory')
      ? [{ id: 'weight-trajectory', title: 'Trajectory through weight space', figures: trajectoryFigures(ctx) }]
      : []),
  ];
}

/** The complete HTML page for one run. Throws FormatError on malformed input. */
export function renderRunReport(input: RunReportInput, opts: RunReportOptions = {}): string {
  checkReportInput(input);
  const doc = newDocument();
  const { meta, analysis: a } = input;
  setupHead(doc, `${meta.name} · groklens report`);
  doc.body.append(
    el(
      doc,
      'header',
      {},
      el(doc, 'h1', {}, meta.name),
      el(doc, 'p', { class: 'sub' }, `${meta.dataset?.description ?? a.run.task} · ${stepRange(a)} · groklens report`),
    ),
  );
  renderSections(doc, runSections(doc, input));
  const files = input.files ?? {};
  doc.body.append(
    el(
      doc,
      'footer',
      {},
      el(
        doc,
        'p',
        {},
        `Made by groklens ${a.groklens_version} from ${[files.run, files.metrics, files.analysis].filter(Boolean).join(', ') || 'run.json, metrics.jsonl and analysis.json'}${opts.source ? ` (${opts.source})` : ''}. Self-contained: no file or network access; hover a chart for values (scripts on) or its elements for tooltips.`,
      ),
      el(
        doc,
        'p',
        {},
        'Definitions: restricted / excluded loss and phases (Nanda et al. 2023), Gini (Hurley & Rickard 2009), IPR (Gromov 2023), kernel distance (Fort et al. 2020), contraction, V_mem and V_at_grok (Truong et al.); every measure is defined in docs/measures.md of the groklens repository.',
      ),
    ),
  );
  return finishPage(doc);
}
