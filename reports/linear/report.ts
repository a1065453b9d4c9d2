/**
 * `groklens linear … --report`: the linear-grokking results (one or several JSON files from
 * `groklens linear`) as one self-contained HTML page, in the run reports' shell (page.ts: CSP,
 * inline CSS, hashed script, print layout). Pure: parsed results in, an HTML string out. One
 * section per result: key numbers, the settings and definitions the result carries, its figures
 * and, for sweeps, a table of every row.
 */
import type { LinearResult } from '../../linear/experiment.ts';
import type { RidgeRun, TeacherStudentRun } from '../../linear/runs.ts';
import type { RidgeSweepRow, TeacherStudentSweepRow } from '../../linear/sweeps.ts';
import { PACKAGE_VERSION } from '../../src/version.ts';
import { UserError } from '../../src/errors.ts';
import { newDocument } from '../dom.ts';
import { fmtNum, fmtStep, fmtValue } from '../format.ts';
import { el, finishPage, renderSections, setupHead, type Figure, type Section } from '../page.ts';
import { checkLinearResult, type LinearReportInput } from './input.ts';
import { ridgeLambdaFigure, ridgeLossFigure, ridgeNu2Figures } from './ridge-figures.ts';
import {
  deltaTLambdaFigure,
  gammaFigures,
  plateauFigure,
  plateauLambdaFigure,
  ratioLambdaFigure,
  spectrumFigure,
  tsAccuracyFigure,
  tsLossFigure,
} from './teacher-student-figures.ts';

export interface LinearReportOptions {
  title?: string;
}

interface Key {
  label: string;
  value: string;
  detail?: string;
}

function keyCards(doc: Document, keys: Key[]): HTMLElement {
  return el(
    doc,
    'div',
    { class: 'keys' },
    ...keys.map((k) =>
      el(
        doc,
        'div',
        { class: 'key' },
        el(doc, 'div', { class: 'k' }, k.label),
        el(doc, 'div', { class: 'v' }, k.value),
        k.detail ? el(doc, 'div', { class: 'd' }, k.detail) : null,
      ),
    ),
  );
}

/** A table; columns from `numericFrom` on are right-aligned numbers. */
function dataTable(doc: Document, cls: string, head: string[], rows: string[][], numericFrom = 1): HTMLElement {
  return el(
    doc,
    'div',
    { class: 'scroll' },
    el(
      doc,
      'table',
      { class: `wide ${cls}` },
      el(doc, 'thead', {}, el(doc, 'tr', {}, ...head.map((h) => el(doc, 'th', {}, h)))),
      el(
        doc,
        'tbody',
        {},
        ...rows.map((r) =>
          el(doc, 'tr', {}, ...r.map((c, i) => el(doc, 'td', i >= numericFrom ? { class: 'num' } : {}, c))),
        ),
      ),
    ),
  );
}

/** The settings and the result's own definitions of its fields (collapsed; open in print). */
function settingsNodes(doc: Document, r: LinearResult): Node[] {
  const settings = Object.entries(r.settings)
    .map(([k, v]) => `${k} ${fmtValue(v)}`)
    .join(', ');
  const sweep = r.sweep
    ? `; swept ${r.sweep.key} over ${r.sweep.values.map((v) => fmtValue(v)).join(', ')}; seeds ${r.sweep.seeds.join(', ')}`
    : '';
  const defs = el(
    doc,
    'details',
    {},
    el(doc, 'summary', {}, 'Definitions (from the result file)'),
    el(
      doc,
      'table',
      { class: 'wide definitions' },
      el(
        doc,
        'tbody',
        {},
        ...Object.entries(r.definitions).map(([k, v]) =>
          el(doc, 'tr', {}, el(doc, 'th', { scope: 'row' }, k), el(doc, 'td', {}, v)),
        ),
      ),
    ),
  );
  return [
    el(
      doc,
      'p',
      {},
      `Source: ${r.source}. Settings: ${settings}${sweep}; step budget ${fmtValue(r.maxSteps)}.${r.eigensolver ? ` Eigensolver: ${r.eigensolver.description}.` : ''}`,
    ),
    defs,
  ];
}

const ratio = (a: number | null, b: number | null): string =>
  a !== null && b !== null && b > 0 ? `${fmtNum(a / b, 3)}×` : '–';
const time = (v: number | null): string => (v === null ? '–' : fmtStep(v));

function teacherStudentSection(doc: Document, id: string, r: LinearResult): Section {
  const d = r.data as TeacherStudentRun;
  const keys: Key[] = [
    {
      label: 'λ = d_in / N_tr',
      value: fmtNum(d.lambda, 4),
      detail: `d_in ${d.params.dIn}, N_tr ${d.params.nTrain}, d_out ${d.params.dOut}`,
    },
    {
      label: 'Δt simulated',
      value: time(d.simulated.deltaT),
      detail: `t_tr ${time(d.simulated.tTrain)}, t_gen ${time(d.simulated.tGen)}`,
    },
    {
      label: 'Δt MP integral',
      value: time(d.mpIntegral.deltaT),
      detail: `t_tr ${time(d.mpIntegral.tTrain)}, t_gen ${time(d.mpIntegral.tGen)}`,
    },
    { label: 'Δt init-averaged', value: time(d.initAveraged.deltaT), detail: 'this spectrum, E over T and S₀' },
    {
      label: "Δt paper's closed form",
      value: d.closedFormDeltaT === null ? '–' : fmtStep(Math.round(d.closedFormDeltaT)),
      detail:
        d.closedFormDeltaT === null
          ? 'λ < 1 and γ = 0 only'
          : `${ratio(d.closedFormDeltaT, d.mpIntegral.deltaT)} the MP integral`,
    },
    {
      label: 'L_gen(∞)',
      value: fmtNum(d.simulated.genLimit, 4),
      detail:
        d.plateauPredicted === null
          ? `MP ${fmtNum(d.mpIntegral.genLimit, 4)}`
          : `plateau (1 − 1/λ)/d_out ${fmtNum(d.plateauPredicted, 4)}`,
    },
  ];
  const figures: Figure[] = [tsLossFigure(doc, `${id}-loss`, d), tsAccuracyFigure(doc, `${id}-accuracy`, d)];
  const plateau = plateauFigure(doc, `${id}-plateau`, d);
  if (plateau) figures.push(plateau);
  figures.push(spectrumFigure(doc, `${id}-spectrum`, d));
  return {
    id,
    title: `Teacher–student, λ = ${fmtNum(d.lambda, 4)}${d.params.gamma ? `, γ = ${fmtNum(d.params.gamma)}` : ''}`,
    intro: [keyCards(doc, keys), ...settingsNodes(doc, r)],
    figures,
  };
}

function teacherStudentSweepSection(doc: Document, id: string, r: LinearResult): Section {
  const rows = r.data as TeacherStudentSweepRow[];
  const byLambda = r.setup === 'sweep-lambda';
  const head = [
    byLambda ? 'λ' : 'γ',
    'N_tr',
    't_tr sim',
    't_gen sim',
    'Δt sim (mean)',
    'Δt mean curve',
    'Δt init-avg',
    'Δt MP',
    'Δt closed form',
    'closed / MP',
    'L_gen(∞) sim',
    'L_gen(∞) MP',
  ];
  const table = dataTable(
    doc,
    'sweep',
    head,
    rows.map((x) => [
      byLambda ? fmtNum(x.lambda, 4) : fmtNum(x.gamma, 3),
      String(x.nTrain),
      x.simulated.tTrain === null ? '–' : fmtNum(x.simulated.tTrain, 4),
      x.simulated.tGen === null ? '–' : fmtNum(x.simulated.tGen, 4),
      x.simulated.deltaT === null ? '–' : fmtNum(x.simulated.deltaT, 4),
      time(x.simulatedMeanCurve.deltaT),
      time(x.initAveraged.deltaT),
      time(x.mpIntegral.deltaT),
      x.closedFormDeltaT === null ? '–' : fmtNum(x.closedFormDeltaT, 4),
      ratio(x.closedFormDeltaT, x.mpIntegral.deltaT),
      fmtNum(x.simulatedGenLimit, 3),
      fmtNum(x.mpIntegral.genLimit, 3),
    ]),
  );
  const seeds = r.sweep?.seeds.length ?? 0;
  const figures = byLambda
    ? [
        deltaTLambdaFigure(doc, `${id}-delta-t`, rows),
        ratioLambdaFigure(doc, `${id}-ratio`, rows),
        plateauLambdaFigure(doc, `${id}-plateau`, rows),
      ]
    : gammaFigures(doc, `${id}-`, rows);
  const lambda = rows[0]?.lambda;
  return {
    id,
    title: byLambda ? 'Teacher–student: Δt against λ' : `Teacher–student: weight decay γ at λ = ${fmtNum(lambda, 4)}`,
    intro: [
      keyCards(doc, [
        {
          label: 'draws',
          value: `${rows.length} × ${seeds}`,
          detail: `${byLambda ? 'λ values' : 'γ values'} × seeds, exact dynamics each`,
        },
        {
          label: 'd_in',
          value: String(r.settings.dIn),
          detail: `η ${fmtNum(r.settings.eta)}, ε ${fmtNum(r.settings.eps)}, d_out ${r.settings.dOut}`,
        },
      ]),
      ...settingsNodes(doc, r),
      table,
    ],
    figures,
  };
}

function ridgeSection(doc: Document, id: string, r: LinearResult): Section {
  const d = r.data as RidgeRun;
  const keys: Key[] = [
    {
      label: 't₁ (train < ε after)',
      value: d.times.t1 === null ? '–' : d.times.t1 < 0 ? 'from step 0' : fmtStep(d.times.t1),
    },
    { label: 't₂ (population ≤ c)', value: time(d.times.t2) },
    {
      label: 'upper bound on t₁',
      value:
        d.t1Bound.t1Upper === null
          ? '–'
          : d.t1Bound.t1Upper < 0
            ? 'from step 0'
            : fmtStep(Math.floor(d.t1Bound.t1Upper)),
      detail:
        d.t1Bound.t1UpperMp === null
          ? 'derived here for this draw'
          : `this draw; ${fmtStep(Math.floor(d.t1Bound.t1UpperMp))} from the MP edges`,
    },
    {
      label: 'lower bound on t₂',
      value: fmtStep(Math.ceil(d.bound.t2Lower)),
      detail: d.bound.applies ? 'conditions met (m > n, ηλ ≤ 0.01)' : 'conditions not met: for reference',
    },
    { label: 't₂ − t₁', value: time(d.times.delay) },
    {
      label: 'population loss at step 0',
      value: fmtNum(d.initial.population, 4),
      detail: `threshold c = ${fmtNum(d.params.c)}`,
    },
  ];
  return {
    id,
    title: `Ridge regression, λ = ${fmtNum(d.params.lambda)}, ν² = ${fmtNum(d.params.nu2)}`,
    intro: [keyCards(doc, keys), ...settingsNodes(doc, r)],
    figures: [ridgeLossFigure(doc, `${id}-loss`, d)],
  };
}

function ridgeSweepSection(doc: Document, id: string, r: LinearResult): Section {
  const rows = r.data as RidgeSweepRow[];
  const byNu = r.setup === 'sweep-ridge-nu2';
  const meanInit = (x: RidgeSweepRow) =>
    x.seeds.reduce((a, s) => a + s.initialPopulation, 0) / Math.max(1, x.seeds.length);
  const table = dataTable(
    doc,
    'sweep',
    [
      byNu ? 'ν²' : 'λ',
      't₁ (mean)',
      'bound on t₁',
      't₂ (mean)',
      't₂ − t₁',
      'bound on t₂',
      't₂ / bound',
      't₂·λ',
      'L_pop(0)',
    ],
    rows.map((x) => [
      fmtNum(byNu ? x.nu2 : x.lambda),
      x.mean.t1 === null ? '–' : fmtNum(x.mean.t1, 4),
      x.t1Bound.t1Upper === null ? '–' : fmtNum(x.t1Bound.t1Upper, 4),
      x.mean.t2 === null ? '–' : fmtNum(x.mean.t2, 5),
      x.mean.delay === null ? '–' : fmtNum(x.mean.delay, 5),
      x.bound.t2Lower > 0 ? fmtNum(x.bound.t2Lower, 5) : '–',
      x.bound.t2Lower > 0 ? ratio(x.mean.t2, x.bound.t2Lower) : '–',
      x.mean.t2 === null ? '–' : fmtNum(x.mean.t2 * x.lambda, 4),
      fmtNum(meanInit(x), 4),
    ]),
  );
  const figures = byNu
    ? ridgeNu2Figures(doc, `${id}-`, rows, r.settings.c)
    : [ridgeLambdaFigure(doc, `${id}-t2`, rows)];
  return {
    id,
    title: byNu ? 'Ridge: amplification and elimination by ν²' : 'Ridge: t₂ against the ridge coefficient λ',
    intro: [...settingsNodes(doc, r), table],
    figures,
  };
}

const SECTION: Record<LinearResult['setup'], (doc: Document, id: string, r: LinearResult) => Section> = {
  'teacher-student': teacherStudentSection,
  'sweep-lambda': teacherStudentSweepSection,
  'sweep-gamma': teacherStudentSweepSection,
  ridge: ridgeSection,
  'sweep-ridge-nu2': ridgeSweepSection,
  'sweep-ridge-lambda': ridgeSweepSection,
};

/** The sections of the report, built in `doc` (exposed for tests that inspect the DOM). */
export function linearSections(doc: Document, inputs: LinearReportInput[]): Section[] {
  const used = new Map<string, number>();
  return inputs.map(({ result }) => {
    const n = (used.get(result.setup) ?? 0) + 1;
    used.set(result.setup, n);
    return SECTION[result.setup](doc, n === 1 ? result.setup : `${result.setup}-${n}`, result);
  });
}

/** The complete HTML page. Throws FormatError on a malformed result, naming its file. */
export function renderLinearReport(inputs: LinearReportInput[], opts: LinearReportOptions = {}): string {
  if (!inputs.length) throw new UserError('linear report: no results to show');
  for (const i of inputs) checkLinearResult(i.result, i.file);
  const doc = newDocument();
  const title = opts.title ?? (inputs.length === 1 ? `Linear grokking: ${inputs[0].result.setup}` : 'Linear grokking');
  setupHead(doc, `${title} · groklens report`);
  const sources = [...new Set(inputs.map((i) => i.result.source))];
  doc.body.append(
    el(
      doc,
      'header',
      {},
      el(doc, 'h1', {}, title),
      el(doc, 'p', { class: 'sub' }, `${sources.join(' · ')} · groklens report`),
    ),
  );
  renderSections(doc, linearSections(doc, inputs));
  doc.body.append(
    el(
      doc,
      'footer',
      {},
      el(
        doc,
        'p',
        {},
        `Made by groklens ${PACKAGE_VERSION} from ${inputs.map((i) => i.file).join(', ')}. Self-contained: no file or network access; hover a point, marker or reference line for its value.`,
      ),
      el(
        doc,
        'p',
        {},
        'Exact dynamics: gradient descent on a quadratic, solved in the eigenbasis of the empirical covariance (float64). Theory: Marchenko–Pastur integral and closed form of Levi, Beck & Bar-Sinai; lower bound on t₂ of Xu, Vardi & Safran (docs/measures.md#linear-grokking).',
      ),
    ),
  );
  return finishPage(doc);
}
