/**
 * `groklens sweep report`: a whole sweep as one self-contained HTML page, in the run reports' shell
 * (same CSS, Content-Security-Policy and hashed script). Pure: the manifest, the aggregate and each
 * run's metrics rows in, an HTML string out.
 */
import { PACKAGE_VERSION } from '../../src/version.ts';
import { newDocument } from '../dom.ts';
import { fmtNum } from '../format.ts';
import { el, finishPage, renderSections, setupHead, type Section } from '../page.ts';
import { phaseAxes, sweptAxes } from './axes.ts';
import { accuracyFigures, keyFrequencyFigure, phaseFigure } from './figures.ts';
import { fitFigure, fitsTable, predictorFigure, predictorTable } from './fit-figures.ts';
import { checkSweepReportInput, type SweepReportInput } from './input.ts';
import { keyNumberNodes, runsTable, sweepKeyNumbers, sweptTable } from './tables.ts';

export interface SweepReportOptions {
  /** Dotted config keys for the phase diagram's x and y (default: the two with the most values). */
  phaseAxes?: string[];
  /** Shown in the footer: where the report came from (e.g. the sweep directory). */
  source?: string;
}

/** The sections of a sweep report, built in `doc` (exposed for tests that inspect the DOM). */
export function sweepSections(doc: Document, input: SweepReportInput, opts: SweepReportOptions = {}): Section[] {
  const { manifest, aggregate: agg, runs } = input;
  const swept = sweptAxes(manifest);
  const axes = phaseAxes(swept, opts.phaseAxes);
  const p = agg.predictor;
  const excluded = (n: number) =>
    n ? ` ${n} run${n === 1 ? ' is' : 's are'} left out of it, each named with the reason under its chart.` : '';
  return [
    {
      id: 'sweep',
      title: 'Sweep',
      intro: [keyNumberNodes(doc, sweepKeyNumbers(agg)), sweptTable(doc, manifest, swept)],
      figures: [],
    },
    {
      id: 'phases',
      title: 'Phase diagram',
      figures: [phaseFigure(doc, manifest, agg, swept, axes, Boolean(opts.phaseAxes?.length))],
    },
    {
      id: 'fits',
      title: 'Delay law',
      intro: [
        el(
          doc,
          'p',
          {},
          'Truong et al. (arXiv 2603.13331): T_grok − T_mem = Θ((1/γ_eff)·log(V_mem/V_at_grok)), with γ_eff = lr·wd for SGD and ≥ lr·wd for AdamW. T_grok is the first step with test accuracy ≥ 95 %, T_mem the first with train accuracy ≥ 99 %, V = ‖θ‖² at those steps. Runs that did not grok have no T_grok: they are never dropped silently.',
        ),
        fitsTable(doc, agg),
      ],
      figures: agg.fits.map((f) => fitFigure(doc, agg, f)),
    },
    {
      id: 'predictor',
      title: 'Delay predictor',
      intro: [
        el(
          doc,
          'p',
          {},
          `Each grokked run's T_grok predicted from its metrics up to T_mem + ${p.horizon} steps: the contraction rate c fitted there, and the median log(V_mem/V_at_grok) of the other grokked runs. ` +
            (p.mean_abs_pct_error === null
              ? 'No run could be predicted.'
              : `Mean absolute error ${fmtNum(p.mean_abs_pct_error)} % over ${p.rows.length} run${p.rows.length === 1 ? '' : 's'}; Truong et al. report 34.6 %.`) +
            excluded(p.excluded.length),
        ),
        ...(p.rows.length ? [predictorTable(doc, agg)] : []),
      ],
      figures: [predictorFigure(doc, agg)],
    },
    {
      id: 'accuracy',
      title: 'Test accuracy',
      figures: accuracyFigures(doc, manifest, agg, runs, axes),
    },
    {
      id: 'runs',
      title: 'Runs',
      intro: [
        el(
          doc,
          'p',
          {},
          "T_grok at test accuracy ≥ 95 % and ≥ 99 %; delay at 95 %; V_mem and V_at_grok are ‖θ‖² at T_mem and at T_grok (95 %); c is the norm contraction rate per step, (a) from the run's analysis.json, (m) fitted here on its metrics. Each run links to its own report once `groklens report` has written it.",
        ),
        runsTable(doc, manifest, agg, runs),
      ],
      figures: [keyFrequencyFigure(doc, agg)],
    },
  ];
}

/** Added to the shared CSS: the per-run table is wide, and run ids are long words. */
const SWEEP_CSS = `table.runs td:first-child { min-width: 8em; max-width: 15em; overflow-wrap: break-word; }
table.runs td.link { white-space: nowrap; }
table.runs div.sub, table.fits div.sub { font-size: 11px; margin: 0; }
`;

/** The complete HTML page for a sweep. Throws FormatError on malformed input. */
export function renderSweepReport(input: SweepReportInput, opts: SweepReportOptions = {}): string {
  checkSweepReportInput(input);
  const doc = newDocument();
  const { manifest, aggregate: agg } = input;
  setupHead(doc, `${manifest.name} · groklens sweep report`);
  doc.head.querySelector('style')!.textContent += SWEEP_CSS;
  const desc = manifest.sweep?.description;
  doc.body.append(
    el(
      doc,
      'header',
      {},
      el(doc, 'h1', {}, `Sweep ${manifest.name}`),
      el(
        doc,
        'p',
        { class: 'sub' },
        `${desc ? `${desc} · ` : ''}${agg.runs.length} run${agg.runs.length === 1 ? '' : 's'} · groklens sweep report`,
      ),
    ),
  );
  renderSections(doc, sweepSections(doc, input, opts));
  doc.body.append(
    el(
      doc,
      'footer',
      {},
      el(
        doc,
        'p',
        {},
        `Made by groklens ${PACKAGE_VERSION} from manifest.json, aggregate.json and each run's metrics.jsonl${opts.source ? ` (${opts.source})` : ''}. Self-contained: no file or network access, except the links to each run's own report; hover a chart's elements for tooltips.`,
      ),
      el(
        doc,
        'p',
        {},
        "Definitions: docs/measures.md#sweeps-and-the-delay-law; the delay law and the 34.6 % predictor error are Truong et al.'s; T_grok at 95 % follows Power et al.",
      ),
    ),
  );
  return finishPage(doc);
}
