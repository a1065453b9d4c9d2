/**
 * One simulated run of each linear setup, with its theory beside it, as a plain JSON-ready record:
 * the numbers a report draws (curves with the times marked, spectrum against MP) and nothing else.
 */
import { covarianceEigen, type EigensolverName } from './linalg.ts';
import { spectrumHistogram, type SpectrumHistogram } from './marchenko-pastur.ts';
import { exactDynamics, limitLoss, lossAt } from './modal.ts';
import { stepGrid, type GrokTimes } from './params.ts';
import {
  drawRidge,
  ridgeLosses,
  ridgeProblem,
  ridgeT1UpperBound,
  ridgeT2LowerBound,
  ridgeTimes,
  type RidgeBound,
  type RidgeParams,
  type RidgeT1Bound,
  type RidgeTimes,
} from './ridge.ts';
import {
  checkTeacherStudent,
  drawTeacherStudent,
  drawTestInputs,
  teacherStudentAccuracy,
  teacherStudentLosses,
  teacherStudentProblem,
  teacherStudentTimes,
  type TeacherStudentParams,
} from './teacher-student.ts';
import {
  closedFormDeltaT,
  initAveragedTeacherStudentLosses,
  mpTeacherStudentCurve,
  mpTeacherStudentPrediction,
  plateauGen,
  type TeacherStudentPrediction,
} from './teacher-student-theory.ts';

export interface CurveOptions {
  maxSteps: number; // budget for the threshold searches
  horizon?: number; // last step of the curves (default: 3× the latest predicted or simulated time)
  points?: number; // log-spaced curve points (default 160)
  solver?: EigensolverName; // the eigensolver (default: what 'auto' resolves to)
}

export interface TeacherStudentRunOptions extends CurveOptions {
  nTest?: number; // fresh inputs for the empirical test accuracy (default 1000; 0: none)
  accuracy?: boolean; // compute accuracy curves (default true; costs O(N_tr·din·dout) a point)
}

export interface TeacherStudentRun {
  params: TeacherStudentParams;
  lambda: number; // dIn / nTrain as drawn
  simulated: GrokTimes & { genLimit: number };
  initAveraged: GrokTimes; // this draw's spectrum, the initialisation averaged out exactly
  mpIntegral: TeacherStudentPrediction;
  closedFormDeltaT: number | null; // the paper's approximation (λ < 1, γ = 0)
  plateauPredicted: number | null; // (1 − 1/λ)/dout for λ > 1, γ = 0
  curve: {
    steps: number[];
    train: number[]; // L_tr, simulated (closed form)
    gen: number[]; // L_gen, simulated (closed form)
    initAveragedTrain: number[];
    initAveragedGen: number[];
    mpTrain: number[]; // MP integral
    mpGen: number[];
    trainAccuracy: number[] | null;
    testAccuracy: number[] | null; // on nTest fresh inputs
    testAccuracyAnalytic: number[] | null; // erf(√(ε/2L_gen)), dout = 1
  };
  spectrum: SpectrumHistogram;
}

function horizonFor(opts: CurveOptions, times: (number | null)[]): number {
  if (opts.horizon !== undefined) return opts.horizon;
  const known = times.filter((t): t is number => t !== null && t > 0);
  const latest = known.length ? Math.max(...known) : Math.min(opts.maxSteps, 10_000);
  return Math.max(10, Math.min(opts.maxSteps, 3 * latest));
}

export function runTeacherStudent(p: TeacherStudentParams, opts: TeacherStudentRunOptions): TeacherStudentRun {
  checkTeacherStudent(p);
  const draw = drawTeacherStudent(p);
  const dyn = exactDynamics(teacherStudentProblem(draw), covarianceEigen(draw.x, opts.solver));
  const losses = teacherStudentLosses(dyn);
  const lambda = p.dIn / p.nTrain;
  const times = teacherStudentTimes(losses, p.eps, opts.maxSteps);
  const setup = { lambda, eta: p.eta, gamma: p.gamma, eps: p.eps, dOut: p.dOut };
  const mp = mpTeacherStudentPrediction(setup, opts.maxSteps);
  const averaged = initAveragedTeacherStudentLosses(dyn.eig.values, p.dIn, p);
  const initAveraged = teacherStudentTimes(averaged, p.eps, opts.maxSteps);
  const horizon = horizonFor(opts, [times.tTrain, times.tGen, mp.tTrain, mp.tGen]);
  const steps = stepGrid(horizon, opts.points ?? 160, [times.tTrain, times.tGen, mp.tTrain, mp.tGen]);
  const train = steps.map((t) => lossAt(losses.train, t));
  const gen = steps.map((t) => lossAt(losses.gen, t));
  const mpCurve = mpTeacherStudentCurve(setup, steps);
  const nTest = opts.nTest ?? 1000;
  const test = nTest > 0 ? drawTestInputs(p, nTest) : undefined;
  const acc = opts.accuracy === false ? null : steps.map((t, i) => teacherStudentAccuracy(draw, dyn, t, gen[i], test));
  return {
    params: p,
    lambda,
    simulated: { ...times, genLimit: limitLoss(losses.gen) },
    initAveraged,
    mpIntegral: mp,
    closedFormDeltaT: p.gamma === 0 ? closedFormDeltaT(lambda, p.eta) : null,
    plateauPredicted: lambda > 1 && p.gamma === 0 ? plateauGen(lambda, p.dOut) : null,
    curve: {
      steps,
      train,
      gen,
      initAveragedTrain: steps.map((t) => lossAt(averaged.train, t)),
      initAveragedGen: steps.map((t) => lossAt(averaged.gen, t)),
      mpTrain: mpCurve.train,
      mpGen: mpCurve.gen,
      trainAccuracy: acc ? acc.map((a) => a.train) : null,
      testAccuracy: acc && test ? acc.map((a) => a.test as number) : null,
      testAccuracyAnalytic: acc && p.dOut === 1 ? acc.map((a) => a.testAnalytic as number) : null,
    },
    spectrum: spectrumHistogram(dyn.eig.values, p.dIn, lambda),
  };
}

export interface RidgeRun {
  params: RidgeParams;
  times: RidgeTimes;
  bound: RidgeBound;
  t1Bound: RidgeT1Bound; // upper bound on t₁ (derived here; see ridge.ts)
  initial: { train: number; population: number };
  limit: { train: number; population: number }; // at the ridge solution (t → ∞)
  curve: { steps: number[]; train: number[]; population: number[] };
}

export function runRidge(p: RidgeParams, opts: CurveOptions): RidgeRun {
  const draw = drawRidge(p);
  const dyn = exactDynamics(ridgeProblem(draw), covarianceEigen(draw.phi, opts.solver));
  const losses = ridgeLosses(dyn);
  const times = ridgeTimes(losses, p, opts.maxSteps);
  const bound = ridgeT2LowerBound(p);
  const t1Bound = ridgeT1UpperBound(losses.train, p);
  const horizon = horizonFor(opts, [times.t1, times.t2, bound.t2Lower > 0 ? Math.ceil(bound.t2Lower) : null]);
  const marks = [times.t1, times.t1 !== null ? times.t1 + 1 : null, times.t2];
  const steps = stepGrid(horizon, opts.points ?? 160, marks);
  return {
    params: p,
    times,
    bound,
    t1Bound,
    initial: { train: lossAt(losses.train, 0), population: lossAt(losses.population, 0) },
    limit: { train: limitLoss(losses.train), population: limitLoss(losses.population) },
    curve: {
      steps,
      train: steps.map((t) => lossAt(losses.train, t)),
      population: steps.map((t) => lossAt(losses.population, t)),
    },
  };
}
