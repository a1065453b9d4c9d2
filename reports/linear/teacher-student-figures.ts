/**
 * Figures of the teacher–student setup (Levi, Beck & Bar-Sinai): one run's loss and accuracy
 * curves with the measured and predicted times marked, its spectrum against Marchenko–Pastur and
 * the λ > 1 plateau; a λ sweep's Δt against λ beside both theories, how far the paper's closed form
 * is from the MP integral, and the plateau against λ; a γ sweep's Δt and plateau against γ.
 */
import type { TeacherStudentRun } from '../../linear/runs.ts';
import type { TeacherStudentSweepRow } from '../../linear/sweeps.ts';
import { fmtNum, fmtPct, fmtStep, pow10Label } from '../format.ts';
import type { Figure } from '../page.ts';
import { OKABE_ITO } from '../palette.ts';
import { renderXYChart, type XYMarker, type XYSeries, type XYSpec } from './xy-chart.ts';

export const STEP_AXIS = { scale: 'log' as const, label: 'gradient-descent step (log scale)', format: fmtStep };
const LOSS_AXIS = { scale: 'log' as const, label: 'loss (log scale)' };

export const TRAIN = OKABE_ITO.blue;
export const GEN = OKABE_ITO.vermillion;
export const SEED_POINTS = '#8a8a8a';

/** Tick labels of a log axis: decades as 10ⁿ, anything else compactly. */
export const decadeLabel = (v: number): string => {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9 ? pow10Label(Math.round(e)) : fmtNum(v);
};

/**
 * A figure from a chart spec; values a log axis cannot show are counted in the caption, and a
 * chart with nothing to draw becomes a note saying why (`empty`).
 */
export function chartFigure(
  doc: Document,
  id: string,
  spec: Omit<XYSpec, 'id' | 'title'>,
  title: string,
  caption: string[],
  empty = 'no value of this chart was reached within the step budget',
): Figure {
  const r = renderXYChart(doc, { ...spec, id: `${id}-svg`, title });
  if (r.drawn === 0) return { id, title, note: `Not drawn: ${empty}.` };
  const hidden = r.hidden ? [`${r.hidden} value${r.hidden === 1 ? '' : 's'} ≤ 0 cannot be shown on a log axis.`] : [];
  return { id, title, svg: r.svg, caption: [...caption, ...hidden] };
}

const t = (v: number | null): string => (v === null ? 'not reached' : `step ${fmtStep(v)}`);

/** Measured and predicted times as vertical markers (simulated dotted, MP dashed). */
function timeMarkers(d: TeacherStudentRun): XYMarker[] {
  const m: XYMarker[] = [];
  const add = (x: number | null, label: string, title: string, colour: string, dash: string) => {
    if (x !== null && x > 0) m.push({ x, label, title, colour, dash });
  };
  add(d.simulated.tTrain, 't_tr', `t_tr = ${d.simulated.tTrain}: first step with simulated L_tr ≤ ε/4`, TRAIN, '1 2');
  add(
    d.mpIntegral.tTrain,
    't_tr MP',
    `MP-integral t_tr = ${d.mpIntegral.tTrain}: first step with the predicted L_tr ≤ ε/4`,
    TRAIN,
    '5 3',
  );
  add(d.simulated.tGen, 't_gen', `t_gen = ${d.simulated.tGen}: first step with simulated L_gen ≤ ε/4`, GEN, '1 2');
  add(
    d.mpIntegral.tGen,
    't_gen MP',
    `MP-integral t_gen = ${d.mpIntegral.tGen}: first step with the predicted L_gen ≤ ε/4`,
    GEN,
    '5 3',
  );
  if (d.closedFormDeltaT !== null && d.mpIntegral.tTrain !== null) {
    const at = d.mpIntegral.tTrain + d.closedFormDeltaT;
    add(
      at,
      't_gen closed form',
      `MP t_tr + the paper's closed-form Δt = ${fmtNum(d.closedFormDeltaT, 4)}: step ${fmtNum(at, 4)}`,
      OKABE_ITO.black,
      '8 3',
    );
  }
  return m;
}

/** Curves without step 0, which a log step axis cannot show. */
function fromStep1(d: TeacherStudentRun, y: (number | null)[] | null): { x: number[]; y: (number | null)[] } {
  const x: number[] = [];
  const out: (number | null)[] = [];
  d.curve.steps.forEach((s, i) => {
    if (s < 1) return;
    x.push(s);
    out.push(y ? y[i] : null);
  });
  return { x, y: out };
}

export function tsLossFigure(doc: Document, id: string, d: TeacherStudentRun): Figure {
  const p = d.params;
  const series: XYSeries[] = [
    { label: 'L_tr simulated', ...fromStep1(d, d.curve.train), colour: TRAIN, width: 2 },
    { label: 'L_gen simulated', ...fromStep1(d, d.curve.gen), colour: GEN, width: 2 },
    { label: 'L_tr MP integral', ...fromStep1(d, d.curve.mpTrain), colour: TRAIN, dash: '6 3', width: 1.3 },
    { label: 'L_gen MP integral', ...fromStep1(d, d.curve.mpGen), colour: GEN, dash: '6 3', width: 1.3 },
    {
      label: 'init-averaged (this spectrum)',
      ...fromStep1(d, d.curve.initAveragedGen),
      colour: OKABE_ITO.bluishGreen,
      dash: '2 2',
      width: 1.2,
    },
    {
      label: 'init-averaged L_tr',
      ...fromStep1(d, d.curve.initAveragedTrain),
      colour: OKABE_ITO.bluishGreen,
      dash: '2 2',
      width: 1.2,
      legend: false,
    },
  ];
  const refLines = [
    {
      y: p.eps / 4,
      label: `ε/4 = ${fmtNum(p.eps / 4)}`,
      title: 'threshold of t_tr and t_gen: 95 % accuracy when dOut = 1',
    },
  ];
  if (d.plateauPredicted !== null)
    refLines.push({
      y: d.plateauPredicted,
      label: `plateau (1 − 1/λ)/d_out = ${fmtNum(d.plateauPredicted)}`,
      title: 'L_gen as t → ∞ for λ > 1 without weight decay',
    });
  return chartFigure(
    doc,
    id,
    { x: STEP_AXIS, y: LOSS_AXIS, series, markers: timeMarkers(d), refLines },
    'Train and generalisation loss, simulated and predicted',
    [
      `Exact gradient-descent dynamics of this draw (closed form in the eigenbasis of Σ_tr) beside the Marchenko–Pastur integral at λ = ${fmtNum(d.lambda, 4)}; step 0 (L_tr ${fmtNum(d.curve.train[0])}, L_gen ${fmtNum(d.curve.gen[0])}) is left off the log axis.`,
      `Simulated: t_tr ${t(d.simulated.tTrain)}, t_gen ${t(d.simulated.tGen)}, Δt ${fmtNum(d.simulated.deltaT, 4)}. MP integral: t_tr ${t(d.mpIntegral.tTrain)}, t_gen ${t(d.mpIntegral.tGen)}, Δt ${fmtNum(d.mpIntegral.deltaT, 4)}. Init-averaged (the drawn spectrum, expectation over T and S₀): Δt ${fmtNum(d.initAveraged.deltaT, 4)}.`,
      d.closedFormDeltaT !== null
        ? `The paper's closed form Δt ≈ log(1/(1−√λ))/(2η(1−√λ)²) = ${fmtNum(d.closedFormDeltaT, 4)} is ${d.mpIntegral.deltaT ? fmtNum(d.closedFormDeltaT / d.mpIntegral.deltaT, 3) + '×' : 'not comparable to'} the MP integral's Δt; its t_gen is marked at MP t_tr + that Δt.`
        : `The paper's closed form applies to λ < 1 without weight decay only (here λ = ${fmtNum(d.lambda, 4)}, γ = ${fmtNum(p.gamma)}).`,
    ],
  );
}

export function tsAccuracyFigure(doc: Document, id: string, d: TeacherStudentRun): Figure {
  const title = 'Train and test accuracy';
  if (!d.curve.trainAccuracy)
    return { id, title, note: 'Not drawn: this result was computed without accuracy curves (--no-accuracy).' };
  const series: XYSeries[] = [
    { label: 'train (N_tr samples)', ...fromStep1(d, d.curve.trainAccuracy), colour: TRAIN, width: 2 },
  ];
  if (d.curve.testAccuracy)
    series.push({ label: 'test (fresh samples)', ...fromStep1(d, d.curve.testAccuracy), colour: GEN, width: 2 });
  if (d.curve.testAccuracyAnalytic)
    series.push({
      label: 'erf(√(ε/2L_gen))',
      ...fromStep1(d, d.curve.testAccuracyAnalytic),
      colour: OKABE_ITO.orange,
      dash: '6 3',
      width: 1.4,
    });
  return chartFigure(
    doc,
    id,
    {
      x: STEP_AXIS,
      y: { scale: 'linear', label: 'accuracy (%)', domain: [0, 1], percent: true },
      series,
      markers: timeMarkers(d),
      refLines: [{ y: 0.95, label: '95 %' }],
    },
    title,
    [
      `Share of samples whose squared error (1/d_out)‖Dᵀx‖² is below ε = ${fmtNum(d.params.eps)}: on the ${d.params.nTrain} training inputs, on fresh inputs, and for d_out = 1 the exact population value erf(√(ε/(2L_gen))), which is 95 % at L_gen = ε/4 — the threshold of the times marked.`,
      ...(d.curve.testAccuracy ? [] : ['No fresh test inputs in this result (--n-test 0).']),
    ],
  );
}

export function spectrumFigure(doc: Document, id: string, d: TeacherStudentRun): Figure {
  const s = d.spectrum;
  const stepX: number[] = [];
  const stepY: number[] = [];
  s.mp.forEach((v, i) => {
    stepX.push(s.edges[i], s.edges[i + 1]);
    stepY.push(v, v);
  });
  const titles = s.empirical.map(
    (v, i) =>
      `eigenvalues in [${fmtNum(s.edges[i], 3)}, ${fmtNum(s.edges[i + 1], 3)}): density ${fmtNum(v, 3)} (MP ${fmtNum(s.mp[i], 3)})`,
  );
  return chartFigure(
    doc,
    id,
    {
      x: {
        scale: 'linear',
        label: 'eigenvalue x of Σ_tr = XᵀX/N_tr',
        domain: [0, s.edges[s.edges.length - 1]],
        format: (v) => fmtNum(v, 3),
      },
      y: { scale: 'linear', label: 'density (per eigenvalue of Σ_tr)' },
      bars: {
        edges: s.edges,
        values: s.empirical,
        colour: OKABE_ITO.skyBlue,
        label: `this draw's spectrum (${d.params.dIn} eigenvalues)`,
        titles,
      },
      series: [
        {
          label: `Marchenko–Pastur, λ = ${fmtNum(s.lambda, 4)}`,
          x: stepX,
          y: stepY,
          colour: OKABE_ITO.black,
          width: 1.6,
        },
      ],
    },
    'Spectrum of the empirical covariance against Marchenko–Pastur',
    [
      `Histogram of the nonzero eigenvalues of Σ_tr, normalised per eigenvalue of Σ_tr, and the Marchenko–Pastur density averaged over the same bins (support [(1−√λ)², (1+√λ)²]). The slow modes at the lower edge set t_gen.`,
      `Exact zeros (the null space of Σ_tr): ${fmtPct(s.zeroShare.empirical)} of the directions; MP atom at 0: ${fmtPct(s.zeroShare.mp)} (1 − 1/λ for λ > 1).`,
    ],
  );
}

/** The approach to the plateau, on a linear loss axis (drawn for λ > 1 without decay). */
export function plateauFigure(doc: Document, id: string, d: TeacherStudentRun): Figure | null {
  if (d.plateauPredicted === null) return null;
  return chartFigure(
    doc,
    id,
    {
      x: STEP_AXIS,
      y: { scale: 'linear', label: 'L_gen' },
      series: [
        { label: 'L_gen simulated', ...fromStep1(d, d.curve.gen), colour: GEN, width: 2 },
        { label: 'L_gen MP integral', ...fromStep1(d, d.curve.mpGen), colour: GEN, dash: '6 3', width: 1.3 },
      ],
      refLines: [
        {
          y: d.plateauPredicted,
          label: `(1 − 1/λ)/d_out = ${fmtNum(d.plateauPredicted, 4)}`,
          title: 'the null space of Σ_tr never moves without weight decay',
        },
      ],
    },
    'The generalisation plateau for λ > 1',
    [
      `With more dimensions than samples the null space of Σ_tr (a share 1 − 1/λ of the directions) keeps its initial error, so L_gen stops at (1 − 1/λ)/d_out = ${fmtNum(d.plateauPredicted, 4)} and t_gen never comes. This draw: L_gen(∞) = ${fmtNum(d.simulated.genLimit, 4)} (${fmtNum((d.simulated.genLimit / d.plateauPredicted - 1) * 100, 2)} % from the prediction); MP integral ${fmtNum(d.mpIntegral.genLimit, 4)}.`,
    ],
  );
}

// ---- sweeps ----

type Pick = (r: TeacherStudentSweepRow) => number | null;

const lambdaName = (r: TeacherStudentSweepRow) => `λ ${fmtNum(r.lambda, 4)}`;
const gammaName = (r: TeacherStudentSweepRow) => `γ ${fmtNum(r.gamma, 3)}`;

function perSeedPoints(
  rows: TeacherStudentSweepRow[],
  xOf: (r: TeacherStudentSweepRow, i: number) => number,
  yOf: (s: TeacherStudentSweepRow['seeds'][number]) => number | null,
  name: (r: TeacherStudentSweepRow) => string,
  what: string,
): XYSeries {
  const x: number[] = [];
  const y: (number | null)[] = [];
  const titles: string[] = [];
  rows.forEach((r, i) =>
    r.seeds.forEach((s) => {
      x.push(xOf(r, i));
      y.push(yOf(s));
      titles.push(`${name(r)}, seed ${s.seed}: ${what} ${yOf(s) === null ? 'not reached' : fmtNum(yOf(s), 4)}`);
    }),
  );
  return {
    label: 'each draw (seed)',
    x,
    y,
    titles,
    colour: SEED_POINTS,
    line: false,
    points: true,
    radius: 2.2,
    opacity: 0.8,
  };
}

function rowSeries(
  rows: TeacherStudentSweepRow[],
  xOf: (r: TeacherStudentSweepRow, i: number) => number,
  pick: Pick,
  label: string,
  colour: string,
  dash: string | null,
  extra: Partial<XYSeries> = {},
): XYSeries {
  return { label, x: rows.map(xOf), y: rows.map(pick), colour, dash, width: 1.6, ...extra };
}

export function deltaTLambdaFigure(doc: Document, id: string, rows: TeacherStudentSweepRow[]): Figure {
  const xOf = (r: TeacherStudentSweepRow) => r.lambda;
  const series: XYSeries[] = [
    perSeedPoints(rows, xOf, (s) => s.deltaT, lambdaName, 'Δt'),
    rowSeries(rows, xOf, (r) => r.simulated.deltaT, 'simulated, mean over seeds', TRAIN, null, {
      points: true,
      width: 2,
      titles: rows.map((r) => `${lambdaName(r)}: mean Δt ${fmtNum(r.simulated.deltaT, 4)}`),
    }),
    rowSeries(rows, xOf, (r) => r.simulatedMeanCurve.deltaT, 'seed-averaged loss curve', OKABE_ITO.skyBlue, '4 2'),
    rowSeries(rows, xOf, (r) => r.initAveraged.deltaT, 'init-averaged', OKABE_ITO.bluishGreen, '2 2'),
    rowSeries(rows, xOf, (r) => r.mpIntegral.deltaT, 'MP integral', OKABE_ITO.black, null, { width: 2.2 }),
    rowSeries(rows, xOf, (r) => r.closedFormDeltaT, "paper's closed form", GEN, '7 3', { width: 2 }),
  ];
  const unreached = rows.filter((r) => r.simulated.deltaT === null).map((r) => fmtNum(r.lambda, 4));
  return chartFigure(
    doc,
    id,
    {
      x: { scale: 'linear', label: 'λ = d_in / N_tr', format: (v) => fmtNum(v, 3) },
      y: { scale: 'log', label: 'Δt = t_gen − t_tr (steps, log scale)' },
      series,
    },
    'Grokking delay Δt against λ: simulation and both theories',
    [
      "Grey points: each draw (exact dynamics of one training set, teacher and initial student). Blue: their mean. Dashed sky blue: Δt of the loss curve averaged over the seeds. Green: this spectrum with the initialisation averaged out exactly. Black: the Marchenko–Pastur integral (the reference). Vermillion: the paper's leading-order closed form log(1/(1−√λ))/(2η(1−√λ)²), for λ < 1 without decay.",
      "A single draw with d_out = 1 tends to cross ε/4 early (its late loss rests on a few edge modes with χ² weights), so the mean of the draws' Δt sits a few per cent below the MP integral while the averaged curves agree with it.",
      ...(unreached.length ? [`Not reached within the step budget (no Δt) at λ = ${unreached.join(', ')}.`] : []),
    ],
  );
}

export function ratioLambdaFigure(doc: Document, id: string, rows: TeacherStudentSweepRow[]): Figure {
  const xOf = (r: TeacherStudentSweepRow) => r.lambda;
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);
  const series: XYSeries[] = [
    rowSeries(
      rows,
      xOf,
      (r) => ratio(r.closedFormDeltaT, r.mpIntegral.deltaT),
      'closed form / MP integral',
      GEN,
      '7 3',
      { points: true, width: 2 },
    ),
    rowSeries(
      rows,
      xOf,
      (r) => ratio(r.simulated.deltaT, r.mpIntegral.deltaT),
      'simulated mean / MP integral',
      TRAIN,
      null,
      { points: true },
    ),
    rowSeries(
      rows,
      xOf,
      (r) => ratio(r.initAveraged.deltaT, r.mpIntegral.deltaT),
      'init-averaged / MP integral',
      OKABE_ITO.bluishGreen,
      '2 2',
      { points: true },
    ),
  ];
  return chartFigure(
    doc,
    id,
    {
      x: { scale: 'linear', label: 'λ = d_in / N_tr', format: (v) => fmtNum(v, 3) },
      y: { scale: 'linear', label: 'Δt ratio to the MP integral' },
      series,
      refLines: [{ y: 1, label: 'MP integral' }],
    },
    'How far the closed form and the simulation are from the MP integral',
    [
      'Δt of each estimate divided by the MP-integral Δt at the same λ. The closed form is a leading-order approximation: at η = 0.01, ε = 10⁻³ it overestimates the MP integral by 1.6–3× over λ = 0.3–0.9 (docs/measures.md#closed-form-delay).',
    ],
  );
}

export function plateauLambdaFigure(doc: Document, id: string, rows: TeacherStudentSweepRow[]): Figure {
  const title = 'Generalisation plateau L_gen(∞) against λ';
  if (!rows.some((r) => r.lambda > 1))
    return {
      id,
      title,
      note: 'Not drawn: this sweep has no λ > 1, where the plateau appears (e.g. groklens linear sweep-lambda --values 0.5:3:11).',
    };
  const xOf = (r: TeacherStudentSweepRow) => r.lambda;
  const series: XYSeries[] = [
    perSeedPoints(rows, xOf, (s) => s.genLimit, lambdaName, 'L_gen(∞)'),
    rowSeries(rows, xOf, (r) => r.simulatedGenLimit, 'simulated, mean over seeds', GEN, null, {
      points: true,
      width: 2,
    }),
    rowSeries(rows, xOf, (r) => r.mpIntegral.genLimit, 'MP integral', OKABE_ITO.black, '6 3'),
    rowSeries(
      rows,
      xOf,
      (r) => r.plateauPredicted ?? (r.lambda <= 1 && r.gamma === 0 ? 0 : null),
      '(1 − 1/λ)/d_out',
      OKABE_ITO.orange,
      '2 2',
      { width: 2 },
    ),
  ];
  return chartFigure(
    doc,
    id,
    {
      x: { scale: 'linear', label: 'λ = d_in / N_tr', format: (v) => fmtNum(v, 3) },
      y: { scale: 'linear', label: 'L_gen as t → ∞' },
      series,
    },
    title,
    [
      'Without weight decay the null space of Σ_tr keeps its initial error: L_gen(∞) = (1 − 1/λ)/d_out for λ > 1 and 0 below. Points: each draw; line: their mean.',
    ],
  );
}

export function gammaFigures(doc: Document, idPrefix: string, rows: TeacherStudentSweepRow[]): Figure[] {
  // The γ values include 0, which a log axis cannot place: one evenly spaced slot per value.
  const xOf = (_r: TeacherStudentSweepRow, i: number) => i;
  const axis = {
    scale: 'linear' as const,
    label: 'weight decay γ',
    domain: [-0.5, rows.length - 0.5] as [number, number],
    ticks: rows.map((_, i) => i),
    format: (v: number) => fmtNum(rows[Math.round(v)]?.gamma, 3),
  };
  const lambda = rows[0]?.lambda ?? NaN;
  const dt = chartFigure(
    doc,
    `${idPrefix}delta-t`,
    {
      x: axis,
      y: { scale: 'log', label: 'Δt = t_gen − t_tr (steps, log scale)' },
      series: [
        perSeedPoints(rows, xOf, (s) => s.deltaT, gammaName, 'Δt'),
        rowSeries(rows, xOf, (r) => r.simulated.deltaT, 'simulated, mean over seeds', TRAIN, null, {
          points: true,
          width: 2,
        }),
        rowSeries(rows, xOf, (r) => r.initAveraged.deltaT, 'init-averaged', OKABE_ITO.bluishGreen, '2 2'),
        rowSeries(rows, xOf, (r) => r.mpIntegral.deltaT, 'MP integral', OKABE_ITO.black, null, { width: 2.2 }),
      ],
    },
    `Δt against weight decay at λ = ${fmtNum(lambda, 4)}`,
    [
      'Weight decay adds γ to every rate and pulls the student towards 0, so for λ < 1 it changes the delay. For λ > 1 the null directions now decay, but towards S = 0 — an error −T there — so L_gen stops at about half the plateau and t_gen is still not reached: decay suppresses grokking there. Missing points: t_gen not reached.',
    ],
    't_gen was not reached for any γ (for λ > 1 weight decay halves the plateau rather than removing it; see the next chart)',
  );
  const limit = chartFigure(
    doc,
    `${idPrefix}limit`,
    {
      x: axis,
      y: { scale: 'linear', label: 'L_gen as t → ∞' },
      series: [
        perSeedPoints(rows, xOf, (s) => s.genLimit, gammaName, 'L_gen(∞)'),
        rowSeries(rows, xOf, (r) => r.simulatedGenLimit, 'simulated, mean over seeds', GEN, null, {
          points: true,
          width: 2,
        }),
        rowSeries(rows, xOf, (r) => r.mpIntegral.genLimit, 'MP integral', OKABE_ITO.black, '6 3'),
      ],
    },
    `Final generalisation loss against weight decay at λ = ${fmtNum(lambda, 4)}`,
    [
      'L_gen at the fixed point of gradient descent with weight decay (the ridge solution); for γ = 0 and λ > 1, the plateau (1 − 1/λ)/d_out, which any γ > 0 roughly halves (the unseen part of T is lost instead of kept).',
    ],
  );
  return [dt, limit];
}
