/**
 * The unit of work of a teacher–student sweep, and the only expensive one: draw a problem, take the
 * float64 eigendecomposition of its Σ_tr, and reduce the exact dynamics for each weight decay γ to
 * its ModalSystem (a few numbers per eigenvalue). Pure and synchronous, with plain typed arrays in
 * and out, so it runs the same inline or in a worker thread (pool.ts) and gives identical bits.
 */
import { covarianceEigen, type EigensolverName } from './linalg.ts';
import { exactDynamics, type ModalSystem } from './modal.ts';
import { drawTeacherStudent, teacherStudentProblem, type TeacherStudentParams } from './teacher-student.ts';

export interface SpectrumJob {
  params: TeacherStudentParams; // the draw (nTrain, seed, …); its gamma is ignored
  gammas: number[]; // one system per weight decay; the draw does not depend on γ
  solver?: EigensolverName; // default: what 'auto' resolves to
}

export interface SpectrumResult {
  values: Float64Array; // [k] the nonzero eigenvalues of Σ_tr, ascending
  systems: ModalSystem[]; // [gammas.length]
}

export function runSpectrumJob(job: SpectrumJob): SpectrumResult {
  const draw = drawTeacherStudent(job.params);
  const eig = covarianceEigen(draw.x, job.solver);
  const problem = teacherStudentProblem(draw);
  return {
    values: eig.values,
    systems: job.gammas.map((gamma) => exactDynamics({ ...problem, decay: gamma }, eig).system),
  };
}
