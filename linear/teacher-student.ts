/**
 * Teacher–student linear regression (Levi, Beck & Bar-Sinai, "Grokking in linear estimators";
 * docs/measures.md#teacher-student-setup). Inputs x ~ N(0, I_din), labels Tᵀx for a fixed teacher T [din, dout], a linear student S,
 * N_tr training samples, λ = din/N_tr. With D = S − T and Σ_tr = XᵀX/N_tr:
 *   L_tr = (1/dout)·Tr[DᵀΣ_tr D],   L_gen = (1/dout)·‖D‖²_F   (exact: E_x ‖Dᵀx‖² = ‖D‖²_F),
 * S, T ~ N(0, 1/(2·din·dout)) entrywise, full-batch GD S ← S − 2η(Σ_tr D + γS).
 * A sample's squared error is (1/dout)‖Dᵀx‖²; accuracy is the share of samples with error < ε, for
 * dout = 1 and a fresh sample erf(√(ε/(2L_gen))). t_tr, t_gen: first step with L ≤ ε/4.
 */
import { Rng } from '../src/rng.ts';
import type { LinearGdProblem } from './gd.ts';
import { gaussian, matmul, type Dense } from './linalg.ts';
import { errorAt, type ModalDynamics, type ModalLoss } from './modal.ts';
import { z } from 'zod';
import {
  checkParams,
  grokTimes,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
  seedNumber,
  type GrokTimes,
} from './params.ts';
import { erf } from './special.ts';
import { firstStepAtOrBelow } from './thresholds.ts';

export interface TeacherStudentParams {
  dIn: number; // input dimension
  dOut: number; // output dimension
  nTrain: number; // training samples N_tr (λ = dIn / nTrain)
  eta: number; // GD step η
  gamma: number; // weight decay γ
  eps: number; // accuracy threshold ε on a sample's squared error; times use ε/4 on the losses
  seed: number;
}

/** docs/measures.md#teacher-student-setup reference setting (λ = 0.5). */
export const TEACHER_STUDENT_DEFAULTS: TeacherStudentParams = {
  dIn: 1000,
  dOut: 1,
  nTrain: 2000,
  eta: 0.01,
  gamma: 0,
  eps: 1e-3,
  seed: 0,
};

const TeacherStudentSchema = z.object({
  dIn: positiveInteger,
  dOut: positiveInteger,
  nTrain: positiveInteger,
  eta: positiveNumber,
  gamma: nonNegativeNumber,
  eps: positiveNumber,
  seed: seedNumber,
});

export function checkTeacherStudent(p: TeacherStudentParams): TeacherStudentParams {
  checkParams('teacher-student', TeacherStudentSchema, p);
  return p;
}

/** The training set size for a ratio λ = dIn/nTrain (rounded; report dIn/nTrain as the actual λ). */
export function nTrainFor(dIn: number, lambda: number): number {
  checkParams('teacher-student', z.object({ lambda: positiveNumber }), { lambda });
  return Math.max(1, Math.round(dIn / lambda));
}

export interface TeacherStudentDraw {
  params: TeacherStudentParams;
  x: Dense; // [nTrain, dIn] training inputs
  teacher: Dense; // T [dIn, dOut]
  student0: Dense; // S_0 [dIn, dOut]
}

/** Independent streams per object, so the teacher and initial student do not depend on nTrain. */
export function drawTeacherStudent(p: TeacherStudentParams): TeacherStudentDraw {
  checkTeacherStudent(p);
  const std = Math.sqrt(1 / (2 * p.dIn * p.dOut));
  return {
    params: p,
    x: gaussian(Rng.derive(p.seed, 'teacher-student/x'), p.nTrain, p.dIn, 1),
    teacher: gaussian(Rng.derive(p.seed, 'teacher-student/teacher'), p.dIn, p.dOut, std),
    student0: gaussian(Rng.derive(p.seed, 'teacher-student/student'), p.dIn, p.dOut, std),
  };
}

/** Fresh inputs for test accuracy [nTest, dIn], from their own stream. */
export function drawTestInputs(p: TeacherStudentParams, nTest: number): Dense {
  return gaussian(Rng.derive(p.seed, 'teacher-student/test'), nTest, p.dIn, 1);
}

export function teacherStudentProblem(draw: TeacherStudentDraw): LinearGdProblem {
  const { eta, gamma } = draw.params;
  return { data: draw.x, teacher: draw.teacher, init: draw.student0, kappa: 2, eta, decay: gamma };
}

export function teacherStudentLosses(dyn: ModalDynamics): { train: ModalLoss; gen: ModalLoss } {
  const scale = 1 / dyn.out;
  return {
    train: { system: dyn.system, weighting: 'covariance', scale },
    gen: { system: dyn.system, weighting: 'identity', scale },
  };
}

/** t_tr, t_gen (first step with L ≤ ε/4) and Δt, from the closed form. */
export function teacherStudentTimes(
  losses: { train: ModalLoss; gen: ModalLoss },
  eps: number,
  maxSteps: number,
): GrokTimes {
  return grokTimes(
    firstStepAtOrBelow(losses.train, eps / 4, maxSteps),
    firstStepAtOrBelow(losses.gen, eps / 4, maxSteps),
  );
}

/** Share of the rows of X [n, dIn] whose squared error (1/dOut)‖Dᵀx‖² is below ε. */
export function accuracyOn(x: Dense, d: Dense, eps: number): number {
  const r = matmul(x, d); // [n, dOut]
  let hits = 0;
  for (let i = 0; i < r.rows; i++) {
    let s = 0;
    for (let o = 0; o < r.cols; o++) s += r.data[i * r.cols + o] ** 2;
    if (s / r.cols < eps) hits++;
  }
  return hits / r.rows;
}

/** erf(√(ε/(2L))): the accuracy on fresh inputs when dOut = 1, since Dᵀx ~ N(0, L_gen). */
export function analyticAccuracy(genLoss: number, eps: number): number {
  if (genLoss <= 0) return 1;
  return erf(Math.sqrt(eps / (2 * genLoss)));
}

export interface AccuracyPoint {
  train: number;
  test: number | null; // on `test` inputs, when given
  testAnalytic: number | null; // dOut = 1 only
}

/** Accuracies at step t from the closed form. */
export function teacherStudentAccuracy(
  draw: TeacherStudentDraw,
  dyn: ModalDynamics,
  t: number,
  genLoss: number,
  test?: Dense,
): AccuracyPoint {
  const d = errorAt(dyn, t);
  const { eps, dOut } = draw.params;
  return {
    train: accuracyOn(draw.x, d, eps),
    test: test ? accuracyOn(test, d, eps) : null,
    testAnalytic: dOut === 1 ? analyticAccuracy(genLoss, eps) : null,
  };
}
