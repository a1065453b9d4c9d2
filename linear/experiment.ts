/**
 * The linear setups by name: settings (plain key → number) in, a self-describing JSON result out.
 * Pure: no file system, no clock — the CLI (cli/commands/linear.ts) reads options and writes files.
 */
import { UserError } from '../src/errors.ts';
import { resolveEigensolver, type EigensolverChoice, type EigensolverName } from './linalg.ts';
import { createRunner } from './pool.ts';
import { runRidge, runTeacherStudent, type RidgeRun, type TeacherStudentRun } from './runs.ts';
import { RIDGE_DEFAULTS, type RidgeParams } from './ridge.ts';
import {
  sweepRidge,
  sweepTeacherStudentGamma,
  sweepTeacherStudentLambda,
  type RidgeSweepRow,
  type SweepHooks,
  type TeacherStudentSweepRow,
} from './sweeps.ts';
import { nTrainFor, TEACHER_STUDENT_DEFAULTS, type TeacherStudentParams } from './teacher-student.ts';

export const LINEAR_SETUPS = [
  'teacher-student',
  'ridge',
  'sweep-lambda',
  'sweep-gamma',
  'sweep-ridge-nu2',
  'sweep-ridge-lambda',
] as const;
export type LinearSetup = (typeof LINEAR_SETUPS)[number];

export interface LinearRequest {
  setup: LinearSetup;
  settings: Record<string, number>; // overrides of the setup's defaults, e.g. { dIn: 500, lambda: 0.3 }
  values?: number[]; // the swept values (sweeps only; defaults per sweep)
  seeds?: number[]; // sweeps only (default [0, 1, 2])
  maxSteps?: number; // budget of the threshold searches (default 1e7)
  points?: number; // curve points (single runs)
  nTest?: number; // teacher-student: fresh inputs for the empirical test accuracy
  accuracy?: boolean; // teacher-student: accuracy curves
  workers?: number; // teacher-student sweeps: worker threads for the eigendecompositions (default 1: inline)
  eigensolver?: EigensolverChoice; // default 'auto': the system's LAPACK when there is one, else ml-matrix
}

export const LINEAR_RESULT_KIND = 'groklens.linear';
export const LINEAR_RESULT_VERSION = 1;

export interface LinearResult {
  kind: typeof LINEAR_RESULT_KIND;
  version: typeof LINEAR_RESULT_VERSION;
  setup: LinearSetup;
  source: string; // the paper the setup reproduces
  definitions: Record<string, string>; // what every field means, in the spec's notation
  settings: Record<string, number>; // the full parameter set used (defaults filled in)
  sweep: { key: string; values: number[]; seeds: number[] } | null;
  maxSteps: number;
  /** What decomposed Σ (absent in files written before the choice existed). */
  eigensolver?: { name: EigensolverName; description: string };
  data: TeacherStudentRun | RidgeRun | TeacherStudentSweepRow[] | RidgeSweepRow[];
}

/** Teacher–student settings: the parameters plus `lambda` (sets nTrain = round(dIn/lambda) unless nTrain is given). */
const TS_KEYS = ['dIn', 'dOut', 'nTrain', 'lambda', 'eta', 'gamma', 'eps', 'seed'] as const;
const RIDGE_KEYS = ['n', 'm', 'eta', 'lambda', 'nu2', 'eps', 'c', 'seed'] as const;

export const DEFAULT_VALUES: Record<string, number[]> = {
  'sweep-lambda': Array.from({ length: 20 }, (_, i) => Math.round((0.1 + (0.8 * i) / 19) * 1e4) / 1e4), // 0.1 … 0.9
  'sweep-gamma': [0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1],
  'sweep-ridge-nu2': [1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100],
  'sweep-ridge-lambda': [2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3],
};

const TS_DEFINITIONS: Record<string, string> = {
  data: 'x ~ N(0, I_dIn); labels Tᵀx; nTrain samples; lambda = dIn / nTrain',
  init: 'S_0, T ~ N(0, 1/(2·dIn·dOut)) entrywise; D = S − T',
  update:
    'full-batch GD S ← S − 2·eta·(Σ_tr·D + gamma·S), Σ_tr = XᵀX / nTrain (float64, exact closed form in the eigenbasis of Σ_tr)',
  train: 'L_tr = (1/dOut)·Tr[DᵀΣ_tr D]',
  gen: 'L_gen = (1/dOut)·‖D‖²_F, the exact population loss',
  tTrain: 'first step with L_tr ≤ eps/4 (null: not within maxSteps)',
  tGen: 'first step with L_gen ≤ eps/4 (null: not within maxSteps, e.g. the plateau for lambda > 1)',
  deltaT: 'tGen − tTrain',
  accuracy:
    'share of samples with squared error (1/dOut)‖Dᵀx‖² < eps: trainAccuracy on the training set, testAccuracy on nTest fresh inputs, testAccuracyAnalytic = erf(√(eps/(2·L_gen))) (dOut = 1)',
  initAveraged:
    'times of the expected losses over the initialisation (T, S_0) given the drawn Σ_tr — the simulation with the χ² noise of single draws averaged out exactly; seed sweeps average these curves over seeds',
  simulatedMeanCurve: 'sweeps: times of the loss curve averaged over the seeds (not the mean of the times)',
  mpIntegral:
    'expected losses with the spectrum of Σ_tr replaced by Marchenko–Pastur at ratio lambda (din → ∞), same thresholds',
  closedFormDeltaT: "the paper's approximation log(1/(1−√λ)) / (2·eta·(1−√λ)²), lambda < 1 and gamma = 0",
  plateau:
    'genLimit: L_gen as t → ∞ (sweeps: per seed, and simulatedGenLimit their mean); plateauPredicted = (1 − 1/lambda)/dOut for lambda > 1, gamma = 0',
  spectrum:
    'histogram of the eigenvalues of Σ_tr (density per eigenvalue) against the MP density; zeroShare = null-space share vs the MP atom 1 − 1/lambda',
  simulated:
    "single runs: the drawn run; sweeps: mean over seeds of each draw's times (null if any seed did not cross)",
};

const RIDGE_DEFINITIONS: Record<string, string> = {
  data: 'features φ_i ~ N(0, I/m), n samples; unit-norm teacher θ*; θ_0 ~ N(0, nu2·I_m)',
  update: 'GD θ ← θ − eta·(Σ(θ − θ*) + lambda·θ), Σ = ΦᵀΦ/n: the gradient of (1/2n)Σ⟨θ − θ*, φ_i⟩² + (lambda/2)‖θ‖²',
  train: 'train loss (1/2n)Σ⟨θ − θ*, φ_i⟩² (the data term)',
  population: 'population loss ‖θ − θ*‖²/(2m)',
  t1: 'last step with train loss ≥ eps (−1: below from the start; null: not below for good within maxSteps)',
  t2: 'first step with population loss ≤ c (null: not within maxSteps)',
  delay: 't2 − t1',
  bound:
    "Xu et al.'s lower bound t2 ≥ ln((m − n)·nu2/(8·m·c)) / (2.02·eta·lambda); applies when m > n and eta·lambda ≤ 0.01",
  initialPopulation: 'population loss at step 0: below c means grokking is eliminated (t2 = 0)',
  t1Bound:
    'upper bound on t1, derived by groklens (not from the paper): sqrt(train(t)) ≤ sqrt(A) + rho^t·sqrt(B) in the eigenbasis of Σ, so t1 ≤ t1Upper = ln(sqrt(B)/(sqrt(eps) − sqrt(A)))/ln(1/rho) with A the train loss at the ridge solution, B that of the initial distance to it, rho the slowest rate |1 − eta·(x + lambda)| over nonzero eigenvalues x (null when A ≥ eps; −1 when below from the start); t1UpperMp: the same expression from (n, m, eta, lambda, nu2, eps) with the Marchenko–Pastur edges and expected A, B — an estimate, not a bound; in sweeps t1Upper is the mean over seeds',
};

function pick<K extends string>(
  setup: string,
  settings: Record<string, number>,
  keys: readonly K[],
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (!(keys as readonly string[]).includes(k))
      throw new UserError(`${setup}: unknown setting "${k}" (expected one of ${keys.join(', ')})`);
    if (!Number.isFinite(v)) throw new UserError(`${setup}: ${k} must be a number, got ${v}`);
    out[k as K] = v;
  }
  return out;
}

function teacherStudentParams(
  setup: string,
  settings: Record<string, number>,
): TeacherStudentParams & { lambda: number } {
  const s = pick(setup, settings, TS_KEYS);
  if (s.nTrain !== undefined && s.lambda !== undefined)
    throw new UserError(`${setup}: give lambda or nTrain, not both`);
  const base = { ...TEACHER_STUDENT_DEFAULTS, ...s };
  const nTrain = s.nTrain ?? (s.lambda !== undefined ? nTrainFor(base.dIn, s.lambda) : nTrainFor(base.dIn, 0.5));
  const { lambda: _ignored, ...rest } = base as TeacherStudentParams & { lambda?: number };
  return { ...rest, nTrain, lambda: base.dIn / nTrain };
}

/** The key a sweep varies: setting it too would be silently ignored, so it is an error. */
const SWEPT: Partial<Record<LinearSetup, string[]>> = {
  'sweep-lambda': ['lambda', 'nTrain', 'seed'],
  'sweep-gamma': ['gamma', 'seed'],
  'sweep-ridge-nu2': ['nu2', 'seed'],
  'sweep-ridge-lambda': ['lambda', 'seed'],
};

/** Runs a setup. Teacher–student sweeps spread their draws over `req.workers` threads. */
export async function runLinear(req: LinearRequest, hooks: Omit<SweepHooks, 'runner'> = {}): Promise<LinearResult> {
  const solver = resolveEigensolver(req.eigensolver ?? 'auto');
  const parallel = req.setup === 'sweep-lambda' || req.setup === 'sweep-gamma';
  const runner = parallel ? createRunner(req.workers ?? 1) : undefined;
  try {
    const result = await runSetup(req, { ...hooks, runner, solver: solver.name });
    return { ...result, eigensolver: { name: solver.name, description: solver.description } };
  } finally {
    await runner?.close();
  }
}

async function runSetup(req: LinearRequest, hooks: SweepHooks): Promise<LinearResult> {
  for (const k of SWEPT[req.setup] ?? []) {
    if (k in req.settings)
      throw new UserError(`${req.setup}: ${k} is set by the sweep (use --values and --seeds), not by a setting`);
  }
  const maxSteps = req.maxSteps ?? 1e7;
  const seeds = req.seeds ?? [0, 1, 2];
  const values = req.values ?? DEFAULT_VALUES[req.setup] ?? [];
  if (req.setup.startsWith('sweep') && values.length === 0) throw new UserError(`${req.setup}: no values to sweep`);
  const common = { kind: LINEAR_RESULT_KIND, version: LINEAR_RESULT_VERSION, setup: req.setup, maxSteps } as const;
  const lrs = 'Levi, Beck & Bar-Sinai, "Grokking in linear estimators" (teacher–student)';
  const xvs = 'Xu, Vardi & Safran, "To grok grokking: provable grokking in ridge regression"';
  switch (req.setup) {
    case 'teacher-student': {
      const { lambda, ...p } = teacherStudentParams(req.setup, req.settings);
      const data = runTeacherStudent(p, {
        maxSteps,
        points: req.points,
        nTest: req.nTest,
        accuracy: req.accuracy,
        solver: hooks.solver,
      });
      return { ...common, source: lrs, definitions: TS_DEFINITIONS, settings: { ...p, lambda }, sweep: null, data };
    }
    case 'sweep-lambda': {
      const { lambda: _l, nTrain: _n, seed: _s, ...base } = teacherStudentParams(req.setup, req.settings);
      const data = await sweepTeacherStudentLambda(base, values, seeds, maxSteps, hooks);
      return {
        ...common,
        source: lrs,
        definitions: TS_DEFINITIONS,
        settings: base,
        sweep: { key: 'lambda', values, seeds },
        data,
      };
    }
    case 'sweep-gamma': {
      const { lambda, nTrain: _n, seed: _s, ...base } = teacherStudentParams(req.setup, req.settings);
      const data = await sweepTeacherStudentGamma(base, lambda, values, seeds, maxSteps, hooks);
      return {
        ...common,
        source: lrs,
        definitions: TS_DEFINITIONS,
        settings: { ...base, lambda },
        sweep: { key: 'gamma', values, seeds },
        data,
      };
    }
    case 'ridge': {
      const p: RidgeParams = { ...RIDGE_DEFAULTS, ...pick(req.setup, req.settings, RIDGE_KEYS) };
      const data = runRidge(p, { maxSteps, points: req.points, solver: hooks.solver });
      return { ...common, source: xvs, definitions: RIDGE_DEFINITIONS, settings: { ...p }, sweep: null, data };
    }
    case 'sweep-ridge-nu2':
    case 'sweep-ridge-lambda': {
      const { seed: _s, ...base } = { ...RIDGE_DEFAULTS, ...pick(req.setup, req.settings, RIDGE_KEYS) };
      const key = req.setup === 'sweep-ridge-nu2' ? 'nu2' : 'lambda';
      const grid = values.map((v) => ({ nu2: base.nu2, lambda: base.lambda, [key]: v }));
      const data = sweepRidge(base, grid, seeds, maxSteps, hooks);
      return {
        ...common,
        source: xvs,
        definitions: RIDGE_DEFINITIONS,
        settings: { ...base },
        sweep: { key, values, seeds },
        data,
      };
    }
    default:
      throw new UserError(
        `unknown linear setup "${req.setup as string}" (expected one of ${LINEAR_SETUPS.join(', ')})`,
      );
  }
}
