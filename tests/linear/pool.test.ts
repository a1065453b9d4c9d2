/**
 * The worker pool of the teacher–student sweeps: the same rows as inline, in the order of the
 * values, errors carried across the thread boundary, and a closed pool refuses work.
 */
import { describe, expect, it } from 'vitest';
import { runSpectrumJob } from '../../linear/jobs.ts';
import { createRunner, inlineRunner } from '../../linear/pool.ts';
import { sweepTeacherStudentGamma, sweepTeacherStudentLambda } from '../../linear/sweeps.ts';
import { exactDynamics } from '../../linear/modal.ts';
import { covarianceEigen } from '../../linear/linalg.ts';
import { drawTeacherStudent, teacherStudentProblem, TEACHER_STUDENT_DEFAULTS } from '../../linear/teacher-student.ts';

const BASE = { dIn: 30, dOut: 2, eta: 0.01, gamma: 0, eps: 1e-3 };

describe('spectrum jobs', () => {
  it('a job gives the eigenvalues and, per γ, the system exactDynamics builds from the same draw', () => {
    const params = { ...TEACHER_STUDENT_DEFAULTS, dIn: 20, dOut: 2, nTrain: 45, seed: 5 };
    const r = runSpectrumJob({ params, gammas: [0, 1e-2] });
    const draw = drawTeacherStudent(params);
    const eig = covarianceEigen(draw.x);
    expect(Array.from(r.values)).toEqual(Array.from(eig.values));
    const direct = exactDynamics({ ...teacherStudentProblem(draw), decay: 1e-2 }, eig).system;
    expect(Array.from(r.systems[1].ww)).toEqual(Array.from(direct.ww));
    expect(Array.from(r.systems[1].uw)).toEqual(Array.from(direct.uw));
    expect(r.systems[0].uu.every((v) => v === 0)).toBe(true); // no decay, no fixed-point offset
  });
});

describe('worker pool', () => {
  it('sweeps on 2 workers give exactly the inline rows, in the order of the values', async () => {
    const lambdas = [0.7, 0.2, 1.6, 0.45]; // unsorted, and one past 1 (N < din, the Gram route)
    const inline = await sweepTeacherStudentLambda(BASE, lambdas, [0, 1, 2], 1e6);
    const runner = createRunner(2);
    let calls = 0;
    try {
      const pooled = await sweepTeacherStudentLambda(BASE, lambdas, [0, 1, 2], 1e6, {
        runner,
        onProgress: () => calls++,
      });
      expect(pooled).toEqual(inline);
      const g = await sweepTeacherStudentGamma(BASE, 0.5, [0, 1e-3, 1e-2], [4, 5], 1e6, { runner });
      expect(g).toEqual(await sweepTeacherStudentGamma(BASE, 0.5, [0, 1e-3, 1e-2], [4, 5], 1e6));
    } finally {
      await runner.close();
    }
    expect(calls).toBe(12);
    expect(inline.map((r) => r.nTrain)).toEqual([43, 150, 19, 67]);
    expect(inline[2].simulated.tGen).toBeNull(); // λ > 1: the plateau
    // Plateau (1 − 1/λ)/dOut = 0.183 at λ = 30/19, dOut = 2; three draws of 30 directions scatter.
    expect(Math.abs(inline[2].simulatedGenLimit / ((1 - 19 / 30) / 2) - 1)).toBeLessThan(0.3);
  });

  it('a closed pool refuses jobs; a job with bad parameters rejects with the same message inline and pooled', async () => {
    const runner = createRunner(2);
    const bad = { params: { ...TEACHER_STUDENT_DEFAULTS, dIn: 10, nTrain: 20, eta: 3 }, gammas: [0] };
    const pooled = runner.run(bad).catch((e: Error) => e.message);
    const inline = inlineRunner()
      .run(bad)
      .catch((e: Error) => e.message);
    expect(await pooled).toBe(await inline);
    expect(await pooled).toMatch(/eta = 3 makes gradient descent diverge/);
    await runner.close();
    await expect(runner.run(bad)).rejects.toThrow(/closed/);
    expect(() => createRunner(0)).toThrow(/workers must be a positive integer, got 0/);
  });
});
