/**
 * Teacher–student grokking against Levi et al.'s theory (docs/measures.md#marchenko-pastur-theory): the MP integral's reference
 * numbers, the simulation at din = 1000 against it, the λ > 1 plateau, weight decay, accuracy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { iterateGd } from '../../linear/gd.ts';
import { covarianceEigen, gaussian, type CovarianceEigen } from '../../linear/linalg.ts';
import { errorAt, exactDynamics, limitLoss, lossAt, meanLoss } from '../../linear/modal.ts';
import {
  accuracyOn,
  analyticAccuracy,
  drawTeacherStudent,
  nTrainFor,
  teacherStudentAccuracy,
  teacherStudentLosses,
  teacherStudentProblem,
  teacherStudentTimes,
  type TeacherStudentDraw,
} from '../../linear/teacher-student.ts';
import {
  closedFormDeltaT,
  initAveragedTeacherStudentLosses,
  mpTeacherStudentPrediction,
  plateauGen,
} from '../../linear/teacher-student-theory.ts';
import { lapackStatus } from '../../linear/lapack.ts';
import { sweepTeacherStudentLambda } from '../../linear/sweeps.ts';
import { Rng } from '../../src/rng.ts';

const SPEC = { eta: 0.01, eps: 1e-3, dOut: 1, gamma: 0 };
const MAX = 10_000_000;

describe('MP-integral prediction at the spec settings (η = 0.01, ε = 1e-3, dout = 1)', () => {
  // docs/measures.md#closed-form-delay: exact dynamics and the MP integral give about 120 / 432 / 1850 / 20k; the paper's
  // closed form 194 / 716 / 3396 / 56k.
  it.each([
    [0.3, 120, 194],
    [0.5, 432, 716],
    [0.7, 1850, 3396],
    [0.9, 20_000, 56_000],
  ])('λ = %f: Δt ≈ %i (MP), ≈ %i (closed form)', (lambda, mp, closed) => {
    const p = mpTeacherStudentPrediction({ lambda, ...SPEC }, MAX);
    expect(Math.abs(p.deltaT! / mp - 1)).toBeLessThan(lambda === 0.9 ? 0.03 : 0.01);
    expect(Math.abs(closedFormDeltaT(lambda, SPEC.eta)! / closed - 1)).toBeLessThan(lambda === 0.9 ? 0.01 : 0.002);
    // "They differ by 1.6–3× at the paper's settings."
    const ratio = closedFormDeltaT(lambda, SPEC.eta)! / p.deltaT!;
    expect(ratio).toBeGreaterThan(1.6);
    expect(ratio).toBeLessThan(3);
  });

  it('λ > 1 without decay: L_gen plateaus at 1 − 1/λ, so t_gen never comes; decay removes the plateau', () => {
    const p = mpTeacherStudentPrediction({ lambda: 1.5, ...SPEC }, MAX);
    expect(p.genLimit).toBeCloseTo(1 / 3, 12);
    expect(plateauGen(1.5, 1)).toBeCloseTo(1 / 3, 15);
    expect(p.tTrain).not.toBeNull();
    expect(p.tGen).toBeNull();
    // With decay the null directions shrink to −T: half the initial error there (S → 0, T stays).
    const wd = mpTeacherStudentPrediction({ lambda: 1.5, ...SPEC, gamma: 0.01 }, MAX);
    expect(wd.genLimit).toBeGreaterThan(1 / 6);
    expect(wd.genLimit).toBeLessThan(1 / 3);
  });

  it('the closed form exists only for λ < 1', () => {
    expect(closedFormDeltaT(1, 0.01)).toBeNull();
    expect(closedFormDeltaT(1.5, 0.01)).toBeNull();
  });
});

describe('simulation at din = 1000 against the MP integral', () => {
  const dIn = 1000;
  const LAMBDAS = [0.3, 0.5, 0.7];
  const draws = new Map<number, { draw: TeacherStudentDraw; eig: CovarianceEigen }>();

  beforeAll(() => {
    // One training set per λ (a 1000×1000 eigendecomposition each: the slow part of this file).
    for (const lambda of LAMBDAS) {
      const draw = drawTeacherStudent({ dIn, nTrain: nTrainFor(dIn, lambda), seed: 1, ...SPEC });
      draws.set(lambda, { draw, eig: covarianceEigen(draw.x) });
    }
  }, 900_000);

  it.each(LAMBDAS)('λ = %f: Δt of the drawn spectrum, averaged over the initialisation, within 5 % of MP', (lambda) => {
    const { draw, eig } = draws.get(lambda)!;
    const mp = mpTeacherStudentPrediction({ lambda: dIn / draw.params.nTrain, ...SPEC }, MAX);
    const t = teacherStudentTimes(initAveragedTeacherStudentLosses(eig.values, dIn, SPEC), SPEC.eps, MAX);
    expect(Math.abs(t.deltaT! / mp.deltaT! - 1)).toBeLessThan(0.05);
  });

  // With dout = 1 a single draw's Δt spreads by ~9 % (1σ at λ = 0.7): the late loss sits on a
  // handful of edge modes with χ²₁ weights. Averaging the curves over 24 draws of (T, S_0) brings
  // that to ~2 %, so 5 % tests the dynamics rather than the luck of a draw.
  it.each(LAMBDAS)('λ = %f: Δt of the loss curve averaged over 24 seeds of (T, S_0) within 5 % of MP', (lambda) => {
    const { draw, eig } = draws.get(lambda)!;
    const mp = mpTeacherStudentPrediction({ lambda: dIn / draw.params.nTrain, ...SPEC }, MAX);
    const std = Math.sqrt(1 / (2 * dIn));
    const runs = Array.from({ length: 24 }, (_, s) => {
      const reseeded = {
        ...draw,
        teacher: gaussian(new Rng(100 + s), dIn, 1, std),
        student0: gaussian(new Rng(200 + s), dIn, 1, std),
      };
      return teacherStudentLosses(exactDynamics(teacherStudentProblem(reseeded), eig));
    });
    const mean = { train: meanLoss(runs.map((r) => r.train)), gen: meanLoss(runs.map((r) => r.gen)) };
    const curve = teacherStudentTimes(mean, SPEC.eps, MAX);
    expect(Math.abs(curve.deltaT! / mp.deltaT! - 1)).toBeLessThan(0.05);
    // The mean of the single draws' Δt is a different statistic (E of a time, not the time of E L):
    // single draws tend to cross early since E log L < log E L; still within 15 %.
    const single = runs.map((r) => teacherStudentTimes(r, SPEC.eps, MAX).deltaT!);
    const meanSingle = single.reduce((a, b) => a + b, 0) / single.length;
    expect(Math.abs(meanSingle / mp.deltaT! - 1)).toBeLessThan(0.15);
  });

  // The issue's own statistic: whole draws (X, T and S_0 all new per seed), Δt of each, averaged
  // over seeds. Twelve seeds (36 eigendecompositions at din = 1000): seconds with LAPACK, so it
  // runs only with one (without, ml-matrix would need ~8 minutes; the tests above cover the same).
  it.runIf(lapackStatus().ok)(
    'mean over 12 whole draws of the simulated Δt within 5 % of MP at λ = 0.3 / 0.5 / 0.7 (and of the seed-averaged curve)',
    async () => {
      const rows = await sweepTeacherStudentLambda(
        { dIn, ...SPEC },
        LAMBDAS,
        Array.from({ length: 12 }, (_, i) => i),
        MAX,
      );
      for (const r of rows) {
        expect(r.seeds.every((s) => s.deltaT !== null)).toBe(true);
        expect(Math.abs(r.simulated.deltaT! / r.mpIntegral.deltaT! - 1)).toBeLessThan(0.05);
        expect(Math.abs(r.simulatedMeanCurve.deltaT! / r.mpIntegral.deltaT! - 1)).toBeLessThan(0.05);
      }
    },
    300_000,
  );

  it('weight decay γ = 1e-3 at λ = 0.5: simulation (init-averaged) and MP move together, within 5 %', () => {
    const { draw, eig } = draws.get(0.5)!;
    const setup = { ...SPEC, gamma: 1e-3 };
    const mp = mpTeacherStudentPrediction({ lambda: 0.5, ...setup }, MAX);
    const noDecay = mpTeacherStudentPrediction({ lambda: 0.5, ...SPEC }, MAX);
    expect(mp.deltaT!).toBeGreaterThan(noDecay.deltaT!); // decay slows the approach here
    const t = teacherStudentTimes(initAveragedTeacherStudentLosses(eig.values, dIn, setup), setup.eps, MAX);
    expect(Math.abs(t.deltaT! / mp.deltaT! - 1)).toBeLessThan(0.05);
    // The drawn run with decay (its own teacher) has the same plateau-free behaviour.
    const dyn = exactDynamics({ ...teacherStudentProblem(draw), decay: 1e-3 }, eig);
    expect(teacherStudentTimes(teacherStudentLosses(dyn), setup.eps, MAX).tGen).not.toBeNull();
  });
});

describe('the λ = 1.5 plateau', () => {
  it('dout·L_gen(∞) = 1 − 1/λ = 1/3 within 5 % (din = 600, dout = 16 to average the draw)', () => {
    // dout = 16 independent columns make the null-space share of ‖D_0‖² a ratio of χ² with
    // 9600 degrees of freedom: its relative spread is ~2 %, so 5 % is a real test of 1 − 1/λ.
    const dIn = 600;
    const dOut = 16;
    const draw = drawTeacherStudent({ dIn, dOut, nTrain: 400, eta: 0.01, gamma: 0, eps: 1e-3, seed: 2 });
    const dyn = exactDynamics(teacherStudentProblem(draw));
    const { gen } = teacherStudentLosses(dyn);
    // Normalised by the expected initial loss 1/dout, as the spec's "1 − 1/λ" is.
    expect(Math.abs(limitLoss(gen) * dOut - 1 / 3) / (1 / 3)).toBeLessThan(0.05);
    expect(Math.abs(limitLoss(gen) / plateauGen(1.5, dOut) - 1)).toBeLessThan(0.05);
    expect(teacherStudentTimes(teacherStudentLosses(dyn), 1e-3, MAX).tGen).toBeNull();
    // The plateau is reached: by step 20 000 the loss is within 1e-6 of its limit.
    expect(lossAt(gen, 20_000) - limitLoss(gen)).toBeLessThan(1e-6);
  });
});

describe('accuracy', () => {
  const draw = drawTeacherStudent({ dIn: 40, dOut: 1, nTrain: 80, eta: 0.01, gamma: 0, eps: 1e-3, seed: 9 });
  const dyn = exactDynamics(teacherStudentProblem(draw));
  const losses = teacherStudentLosses(dyn);

  it('train accuracy from the closed form counts the same samples as the iterated loop', () => {
    const checks = [0, 300, 900, 2500];
    const byStep = new Map<number, number>();
    iterateGd(teacherStudentProblem(draw), 2500, (r, d) => {
      if (!checks.includes(r.step)) return;
      let hits = 0;
      for (let i = 0; i < draw.x.rows; i++) {
        let pred = 0;
        for (let j = 0; j < draw.x.cols; j++) pred += draw.x.data[i * draw.x.cols + j] * d.data[j];
        if (pred * pred < draw.params.eps) hits++;
      }
      byStep.set(r.step, hits / draw.x.rows);
    });
    for (const t of checks) {
      expect(teacherStudentAccuracy(draw, dyn, t, lossAt(losses.gen, t)).train).toBe(byStep.get(t));
    }
    expect(byStep.get(0)).toBeLessThan(0.2);
    expect(byStep.get(2500)).toBe(1);
  });

  it('on fresh inputs the share below ε matches erf(√(ε/2L_gen)) — 95.45 % at L_gen = ε/4', () => {
    expect(analyticAccuracy(1e-3 / 4, 1e-3)).toBeCloseTo(0.9544997361036416, 14);
    const test = gaussian(new Rng(77), 20_000, 40, 1);
    for (const t of [200, 600, 1200]) {
      const l = lossAt(losses.gen, t);
      const acc = accuracyOn(test, errorAt(dyn, t), 1e-3);
      const p = analyticAccuracy(l, 1e-3);
      // Binomial spread √(p(1−p)/n) ≤ 0.0036; 4σ.
      expect(Math.abs(acc - p)).toBeLessThan(0.015);
    }
  });
});
