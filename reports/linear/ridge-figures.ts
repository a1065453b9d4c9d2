/**
 * Figures of the ridge setup (Xu, Vardi & Safran): one run's train and population loss with t₁, t₂
 * and the lower bound on t₂ marked; a ν² sweep (amplification by larger ν², elimination by small
 * ν²) and a ridge-λ sweep (t₂ ∝ 1/λ), both beside the bound.
 */
import type { RidgeRun } from '../../linear/runs.ts';
import type { RidgeT1Bound } from '../../linear/ridge.ts';
import type { RidgeSweepRow } from '../../linear/sweeps.ts';
import { fmtNum, fmtStep } from '../format.ts';
import type { Figure } from '../page.ts';
import { OKABE_ITO } from '../palette.ts';
import { chartFigure, decadeLabel, GEN, SEED_POINTS, STEP_AXIS, TRAIN } from './teacher-student-figures.ts';
import type { XYMarker, XYSeries } from './xy-chart.ts';

const BOUND = OKABE_ITO.black;

const step = (v: number | null): string =>
  v === null ? 'not reached' : v < 0 ? 'below from the start' : `step ${fmtStep(v)}`;

/** The upper bound on t₁ in words: this draw's value, and the one predicted from the hyperparameters. */
export function t1BoundText(b: RidgeT1Bound): string {
  if (b.t1Upper === null)
    return b.t1UpperMp === null
      ? 'none (the loss at the ridge solution is not below ε, or the file predates the bound)'
      : `none for this draw (MP estimate ${fmtNum(b.t1UpperMp, 4)})`;
  const own = b.t1Upper < 0 ? 'below ε from step 0' : fmtNum(b.t1Upper, 4);
  return `${own} from this draw's spectrum (√L̂(t) ≤ √A + ρ^t√B, derived here, not Xu et al.'s statement), ${b.t1UpperMp === null ? 'no MP estimate' : `${fmtNum(b.t1UpperMp, 4)} from (n, m, η, λ, ν², ε) with the MP edges`}`;
}

export function ridgeLossFigure(doc: Document, id: string, d: RidgeRun): Figure {
  const p = d.params;
  const x: number[] = [];
  const train: number[] = [];
  const pop: number[] = [];
  d.curve.steps.forEach((s, i) => {
    if (s < 1) return;
    x.push(s);
    train.push(d.curve.train[i]);
    pop.push(d.curve.population[i]);
  });
  const markers: XYMarker[] = [];
  if (d.times.t1 !== null && d.times.t1 > 0)
    markers.push({
      x: d.times.t1,
      label: 't₁',
      title: `t₁ = ${d.times.t1}: last step with train loss ≥ ε`,
      colour: TRAIN,
      dash: '1 2',
    });
  if (d.times.t2 !== null && d.times.t2 > 0)
    markers.push({
      x: d.times.t2,
      label: 't₂',
      title: `t₂ = ${d.times.t2}: first step with population loss ≤ c`,
      colour: GEN,
      dash: '1 2',
    });
  const t1Up = d.t1Bound.t1Upper;
  if (t1Up !== null && t1Up > 0)
    markers.push({
      x: t1Up,
      label: 'bound on t₁',
      title: `t₁ ≤ ${fmtNum(t1Up, 4)}: upper bound on t₁ for this draw, ln(√B/(√ε − √A))/ln(1/ρ) (derived here, not Xu et al.'s)`,
      colour: TRAIN,
      dash: '8 3',
    });
  if (d.bound.t2Lower > 0)
    markers.push({
      x: d.bound.t2Lower,
      label: 'bound on t₂',
      title: `Xu et al.: t₂ ≥ ln((m − n)ν²/(8mc))/(2.02ηλ) = ${fmtNum(d.bound.t2Lower, 5)}${d.bound.applies ? '' : ' (conditions not met here)'}`,
      colour: BOUND,
      dash: '8 3',
    });
  const series: XYSeries[] = [
    { label: 'train loss (1/2n)Σ⟨θ − θ*, φ_i⟩²', x, y: train, colour: TRAIN, width: 2 },
    { label: 'population loss ‖θ − θ*‖²/(2m)', x, y: pop, colour: GEN, width: 2 },
  ];
  const refLines = [
    { y: p.eps, label: `ε = ${fmtNum(p.eps)} (t₁)`, title: 't₁: the train loss stays below ε after it' },
    { y: p.c, label: `c = ${fmtNum(p.c)} (t₂)`, title: 't₂: the population loss reaches c' },
  ];
  return chartFigure(
    doc,
    id,
    { x: STEP_AXIS, y: { scale: 'log', label: 'loss (log scale)' }, series, markers, refLines },
    'Train and population loss with t₁, t₂ and their bounds',
    [
      `Exact gradient descent (closed form in the eigenbasis of Σ = ΦᵀΦ/n; the m − n null directions lumped, shrinking only by (1 − ηλ) a step). n ${p.n}, m ${p.m}, η ${fmtNum(p.eta)}, λ ${fmtNum(p.lambda)}, ν² ${fmtNum(p.nu2)}, seed ${p.seed}. Step 0 (train ${fmtNum(d.initial.train)}, population ${fmtNum(d.initial.population)}) is left off the log axis.`,
      `t₁ ${step(d.times.t1)}, t₂ ${step(d.times.t2)}, t₂ − t₁ = ${fmtNum(d.times.delay, 4)}. Upper bound on t₁: ${t1BoundText(d.t1Bound)}. Lower bound on t₂: ${fmtNum(d.bound.t2Lower, 5)}${d.bound.applies ? '' : " — the theorem's conditions (m > n, ηλ ≤ 0.01) do not hold here, shown for reference"}. At the ridge solution: train ${fmtNum(d.limit.train)}, population ${fmtNum(d.limit.population)}.`,
      'No accuracy is defined for this regression setup (Xu et al. measure grokking by the two losses).',
    ],
  );
}

interface RidgeSweepView {
  key: 'nu2' | 'lambda';
  name: string; // axis symbol
  label: string;
}

function sweepSeries(rows: RidgeSweepRow[], v: RidgeSweepView): XYSeries[] {
  const xOf = (r: RidgeSweepRow) => r[v.key];
  const px: number[] = [];
  const py: (number | null)[] = [];
  const titles: string[] = [];
  for (const r of rows) {
    for (const s of r.seeds) {
      px.push(xOf(r));
      py.push(s.t2);
      titles.push(
        `${v.name} ${fmtNum(xOf(r))}, seed ${s.seed}: t₂ ${s.t2 ?? 'not reached'}, t₁ ${s.t1 ?? 'not reached'}`,
      );
    }
  }
  return [
    {
      label: 't₂ of each draw (seed)',
      x: px,
      y: py,
      titles,
      colour: SEED_POINTS,
      line: false,
      points: true,
      radius: 2.2,
    },
    {
      label: 't₂, mean over seeds',
      x: rows.map(xOf),
      y: rows.map((r) => r.mean.t2),
      colour: GEN,
      width: 2,
      points: true,
      titles: rows.map((r) => `${v.name} ${fmtNum(xOf(r))}: mean t₂ ${fmtNum(r.mean.t2, 5)}`),
    },
    {
      label: "Xu et al.'s lower bound on t₂",
      x: rows.map(xOf),
      y: rows.map((r) => (r.bound.t2Lower > 0 ? r.bound.t2Lower : null)),
      colour: BOUND,
      dash: '8 3',
      width: 1.8,
    },
    {
      label: 't₁, mean over seeds',
      x: rows.map(xOf),
      y: rows.map((r) => (r.mean.t1 !== null && r.mean.t1 > 0 ? r.mean.t1 : null)),
      colour: TRAIN,
      dash: '2 2',
      width: 1.6,
    },
    {
      label: 'upper bound on t₁, mean over seeds',
      x: rows.map(xOf),
      y: rows.map((r) => (r.t1Bound.t1Upper !== null && r.t1Bound.t1Upper > 0 ? r.t1Bound.t1Upper : null)),
      colour: TRAIN,
      dash: '8 3',
      width: 1.2,
    },
  ];
}

const eliminated = (rows: RidgeSweepRow[], v: RidgeSweepView): string[] => {
  const e = rows.filter((r) => r.mean.t2 === 0).map((r) => fmtNum(r[v.key]));
  return e.length
    ? [
        `Grokking eliminated (t₂ = 0: the population loss starts below c) at ${v.name} = ${e.join(', ')}; not drawable on the log axis.`,
      ]
    : [];
};

export function ridgeNu2Figures(doc: Document, idPrefix: string, rows: RidgeSweepRow[], c: number): Figure[] {
  const v: RidgeSweepView = { key: 'nu2', name: 'ν²', label: 'initialisation variance ν² (log scale)' };
  const lambda = rows[0]?.lambda;
  const t2 = chartFigure(
    doc,
    `${idPrefix}t2`,
    {
      x: { scale: 'log', label: v.label, format: decadeLabel },
      y: { scale: 'log', label: 'step (log scale)' },
      series: sweepSeries(rows, v),
    },
    `Amplification and elimination: t₂ against ν² (ridge λ = ${fmtNum(lambda)})`,
    [
      'A larger initialisation leaves more error in the m − n directions the data cannot see, which only the ridge penalty removes, at rate ηλ: t₂ grows like ln ν² (amplification) while t₁ hardly moves. A small enough ν² starts below c: no grokking (elimination).',
      ...eliminated(rows, v),
    ],
  );
  const x: number[] = [];
  const y: number[] = [];
  const titles: string[] = [];
  for (const r of rows)
    for (const s of r.seeds) {
      x.push(r.nu2);
      y.push(s.initialPopulation);
      titles.push(`ν² ${fmtNum(r.nu2)}, seed ${s.seed}: initial population loss ${fmtNum(s.initialPopulation, 4)}`);
    }
  const init = chartFigure(
    doc,
    `${idPrefix}initial`,
    {
      x: { scale: 'log', label: v.label, format: decadeLabel },
      y: { scale: 'log', label: 'population loss at step 0 (log scale)' },
      series: [
        {
          label: 'initial population loss, each seed',
          x,
          y,
          titles,
          colour: GEN,
          line: false,
          points: true,
          radius: 2.6,
        },
      ],
      refLines: [{ y: c, label: `c = ${fmtNum(c)}`, title: 'the population threshold of t₂' }],
    },
    'Where grokking is eliminated: the initial population loss against ν²',
    [
      'Population loss ‖θ₀ − θ*‖²/(2m) ≈ (1 + ν²m)/(2m) at step 0. Below the threshold c the population loss is below c from the start (t₂ = 0).',
    ],
  );
  return [t2, init];
}

export function ridgeLambdaFigure(doc: Document, id: string, rows: RidgeSweepRow[]): Figure {
  const v: RidgeSweepView = { key: 'lambda', name: 'λ', label: 'ridge coefficient λ (log scale)' };
  return chartFigure(
    doc,
    id,
    {
      x: { scale: 'log', label: v.label, format: decadeLabel },
      y: { scale: 'log', label: 'step (log scale)' },
      series: sweepSeries(rows, v),
    },
    `t₂ against the ridge coefficient λ (ν² = ${fmtNum(rows[0]?.nu2)})`,
    [
      'The unseen directions shrink by (1 − ηλ) a step, so t₂ ∝ 1/λ (a line of slope −1 here), as does the bound; smaller λ amplifies grokking. The table gives t₂·λ.',
      ...eliminated(rows, v),
    ],
  );
}
