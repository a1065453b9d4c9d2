/**
 * Sweeps of the linear setups: measured times (exact closed form, several seeds) beside the
 * predicted ones. Each eigendecomposition is done once per (seed, data) and reused for every value
 * that leaves the data unchanged (γ, η; ν² and the ridge λ), which is what makes these cheap. The
 * teacher–student draws are independent jobs (jobs.ts) that a JobRunner spreads over worker
 * threads; rows come out in the order of the values whatever order the jobs finish in.
 */
import { covarianceEigen, type EigensolverName } from './linalg.ts';
import { exactDynamics, limitLoss, lossAt, meanLoss, type ModalLoss, type ModalSystem } from './modal.ts';
import { z } from 'zod';
import { checkParams, grokTimes, nonNegativeNumber, positiveNumber, type GrokTimes } from './params.ts';
import { inlineRunner, type JobRunner } from './pool.ts';
import { firstStepAtOrBelow } from './thresholds.ts';
import {
  drawRidge,
  ridgeLosses,
  ridgeProblem,
  ridgeT1UpperBound,
  ridgeT1UpperBoundMp,
  ridgeT2LowerBound,
  ridgeTimes,
  type RidgeBound,
  type RidgeParams,
  type RidgeT1Bound,
  type RidgeTimes,
} from './ridge.ts';
import { checkTeacherStudent, nTrainFor, type TeacherStudentParams } from './teacher-student.ts';
import {
  closedFormDeltaT,
  initAveragedTeacherStudentLosses,
  mpTeacherStudentPrediction,
  plateauGen,
  type TeacherStudentPrediction,
} from './teacher-student-theory.ts';

/** Mean of the values, or null if any is null (a seed that never crossed) or there are none. */
export function meanOrNull(values: (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
}

function meanTimes(rows: GrokTimes[]): GrokTimes {
  return {
    tTrain: meanOrNull(rows.map((r) => r.tTrain)),
    tGen: meanOrNull(rows.map((r) => r.tGen)),
    deltaT: meanOrNull(rows.map((r) => r.deltaT)),
  };
}

export interface TeacherStudentSweepRow {
  lambda: number; // dIn / nTrain as drawn (the requested λ rounded through nTrain)
  nTrain: number;
  gamma: number;
  seeds: (GrokTimes & { seed: number; initAveraged: GrokTimes; genLimit: number })[];
  simulated: GrokTimes; // mean over seeds of each draw's times (null if any seed did not cross)
  simulatedMeanCurve: GrokTimes; // times of the loss curves averaged over the seeds' draws
  initAveraged: GrokTimes; // times of the curves averaged over the initialisation exactly, and over seeds
  simulatedGenLimit: number; // mean over seeds of L_gen as t → ∞ (the plateau for λ > 1)
  plateauPredicted: number | null; // (1 − 1/λ)/dOut for λ > 1 and γ = 0
  mpIntegral: TeacherStudentPrediction;
  closedFormDeltaT: number | null;
}

interface SeedOutcome {
  seed: number;
  losses: { train: ModalLoss; gen: ModalLoss };
  averaged: { train: ModalLoss; gen: ModalLoss };
}

function seedOutcome(
  seed: number,
  values: Float64Array,
  system: ModalSystem,
  p: { dIn: number; eta: number; gamma: number; dOut: number },
): SeedOutcome {
  const scale = 1 / p.dOut; // as teacherStudentLosses
  return {
    seed,
    losses: { train: { system, weighting: 'covariance', scale }, gen: { system, weighting: 'identity', scale } },
    averaged: initAveragedTeacherStudentLosses(values, p.dIn, p),
  };
}

const timesOf = (l: { train: ModalLoss; gen: ModalLoss }, eps: number, maxSteps: number): GrokTimes =>
  grokTimes(firstStepAtOrBelow(l.train, eps / 4, maxSteps), firstStepAtOrBelow(l.gen, eps / 4, maxSteps));

const meanOf = (ls: { train: ModalLoss; gen: ModalLoss }[]) => ({
  train: meanLoss(ls.map((l) => l.train)),
  gen: meanLoss(ls.map((l) => l.gen)),
});

export interface SweepHooks {
  onProgress?: (done: number, total: number) => void;
  /** Where the eigendecompositions run (default: inline). The caller closes it. */
  runner?: JobRunner;
  /** Which eigensolver they use (default: what 'auto' resolves to). */
  solver?: EigensolverName;
}

type TeacherStudentBase = Omit<TeacherStudentParams, 'nTrain' | 'seed'>;

/** Δt against λ = dIn/N_tr: simulated (exact), MP integral, the paper's closed form. */
export async function sweepTeacherStudentLambda(
  base: TeacherStudentBase,
  lambdas: number[],
  seeds: number[],
  maxSteps: number,
  hooks: SweepHooks = {},
): Promise<TeacherStudentSweepRow[]> {
  checkParams('sweep lambda', z.object({ lambda: z.array(positiveNumber) }), { lambda: lambdas });
  const runner = hooks.runner ?? inlineRunner();
  const total = lambdas.length * seeds.length;
  let done = 0;
  // Every draw is queued at once (largest training sets first, the slowest Gram matrices), so the
  // workers stay busy across λ values.
  const jobs = lambdas.flatMap((requested, v) => {
    const nTrain = nTrainFor(base.dIn, requested);
    return seeds.map((seed) => ({ v, seed, nTrain, params: checkTeacherStudent({ ...base, nTrain, seed }) }));
  });
  const order = [...jobs].sort((a, b) => b.nTrain - a.nTrain);
  const finished = await Promise.all(
    order.map((j) =>
      runner.run({ params: j.params, gammas: [base.gamma], solver: hooks.solver }).then((r) => {
        hooks.onProgress?.(++done, total);
        return { job: j, outcome: seedOutcome(j.seed, r.values, r.systems[0], base) };
      }),
    ),
  );
  const byJob = new Map(finished.map((f) => [f.job, f.outcome]));
  return lambdas.map((requested, v) => {
    const nTrain = nTrainFor(base.dIn, requested);
    const outcomes = jobs.filter((j) => j.v === v).map((j) => byJob.get(j)!);
    return summarise(base, base.dIn / nTrain, nTrain, base.gamma, outcomes, maxSteps);
  });
}

/** Δt against the weight decay γ at one λ; one eigendecomposition per seed serves every γ. */
export async function sweepTeacherStudentGamma(
  base: TeacherStudentBase,
  lambda: number,
  gammas: number[],
  seeds: number[],
  maxSteps: number,
  hooks: SweepHooks = {},
): Promise<TeacherStudentSweepRow[]> {
  const nTrain = nTrainFor(base.dIn, lambda);
  checkParams('sweep gamma', z.object({ gamma: z.array(nonNegativeNumber) }), { gamma: gammas });
  const runner = hooks.runner ?? inlineRunner();
  let done = 0;
  // γ does not enter the draw: the same data, teacher and initial student for every γ.
  const perSeed = await Promise.all(
    seeds.map((seed) =>
      runner.run({ params: checkTeacherStudent({ ...base, nTrain, seed }), gammas, solver: hooks.solver }).then((r) => {
        hooks.onProgress?.(++done, seeds.length);
        return { seed, ...r };
      }),
    ),
  );
  return gammas.map((gamma, g) => {
    const outcomes = perSeed.map((s) => seedOutcome(s.seed, s.values, s.systems[g], { ...base, gamma }));
    return summarise({ ...base, gamma }, base.dIn / nTrain, nTrain, gamma, outcomes, maxSteps);
  });
}

function summarise(
  base: TeacherStudentBase,
  lambda: number,
  nTrain: number,
  gamma: number,
  outcomes: SeedOutcome[],
  maxSteps: number,
): TeacherStudentSweepRow {
  const rows = outcomes.map((o) => ({
    seed: o.seed,
    ...timesOf(o.losses, base.eps, maxSteps),
    initAveraged: timesOf(o.averaged, base.eps, maxSteps),
    genLimit: limitLoss(o.losses.gen),
  }));
  return {
    lambda,
    nTrain,
    gamma,
    seeds: rows,
    simulated: meanTimes(rows),
    simulatedMeanCurve: timesOf(meanOf(outcomes.map((o) => o.losses)), base.eps, maxSteps),
    initAveraged: timesOf(meanOf(outcomes.map((o) => o.averaged)), base.eps, maxSteps),
    simulatedGenLimit: rows.reduce((a, r) => a + r.genLimit, 0) / Math.max(1, rows.length),
    plateauPredicted: lambda > 1 && gamma === 0 ? plateauGen(lambda, base.dOut) : null,
    mpIntegral: mpTeacherStudentPrediction({ lambda, eta: base.eta, gamma, eps: base.eps, dOut: base.dOut }, maxSteps),
    closedFormDeltaT: gamma === 0 ? closedFormDeltaT(lambda, base.eta) : null,
  };
}

export interface RidgeSweepRow {
  nu2: number;
  lambda: number;
  seeds: (RidgeTimes & { seed: number; initialPopulation: number; t1Upper: number | null })[];
  mean: { t1: number | null; t2: number | null; delay: number | null };
  bound: RidgeBound;
  t1Bound: RidgeT1Bound; // t1Upper: mean over seeds of each draw's bound (null if any is null)
}

/**
 * t₁, t₂ and the bound over a grid of (ν², ridge λ) — amplification (larger ν², smaller λ) and
 * elimination (small ν²). The features, and so the eigendecomposition, depend on the seed only.
 */
export function sweepRidge(
  base: Omit<RidgeParams, 'seed'>,
  grid: { nu2: number; lambda: number }[],
  seeds: number[],
  maxSteps: number,
  hooks: SweepHooks = {},
): RidgeSweepRow[] {
  const eigs = seeds.map((seed) => covarianceEigen(drawRidge({ ...base, seed }).phi, hooks.solver));
  let done = 0;
  return grid.map(({ nu2, lambda }) => {
    const rows = seeds.map((seed, s) => {
      const p: RidgeParams = { ...base, nu2, lambda, seed };
      const losses = ridgeLosses(exactDynamics(ridgeProblem(drawRidge(p)), eigs[s]));
      hooks.onProgress?.(++done, grid.length * seeds.length);
      const { t1Upper } = ridgeT1UpperBound(losses.train, p);
      return { seed, ...ridgeTimes(losses, p, maxSteps), initialPopulation: lossAt(losses.population, 0), t1Upper };
    });
    return {
      nu2,
      lambda,
      seeds: rows,
      mean: {
        t1: meanOrNull(rows.map((r) => r.t1)),
        t2: meanOrNull(rows.map((r) => r.t2)),
        delay: meanOrNull(rows.map((r) => r.delay)),
      },
      bound: ridgeT2LowerBound({ ...base, nu2, lambda, seed: 0 }),
      t1Bound: {
        t1Upper: meanOrNull(rows.map((r) => r.t1Upper)),
        t1UpperMp: ridgeT1UpperBoundMp({ ...base, nu2, lambda, seed: 0 }),
      },
    };
  });
}
