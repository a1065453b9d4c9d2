/**
 * The two eigensolvers of the linear setups: the system's LAPACK through koffi (dsyevd, BLAS dsyrk)
 * and ml-matrix. Both are checked against a planted spectrum (an orthogonal matrix built from
 * Householder reflections and chosen eigenvalues) and against each other on the problems' own
 * covariance matrices; the choice (auto / lapack / ml-matrix) is checked in child processes, where
 * the library can be made to be missing. .ci/run installs libopenblas0, so these run in CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lapackGram, lapackStatus, lapackSymmetricEigen } from '../../linear/lapack.ts';
import { covarianceEigen, gaussian, symmetricEigen, type EigensolverName } from '../../linear/linalg.ts';
import { exactDynamics, lossAt } from '../../linear/modal.ts';
import { createRunner } from '../../linear/pool.ts';
import { drawRidge, ridgeLosses, ridgeProblem, ridgeTimes, RIDGE_DEFAULTS } from '../../linear/ridge.ts';
import { sweepTeacherStudentLambda } from '../../linear/sweeps.ts';
import {
  drawTeacherStudent,
  teacherStudentLosses,
  teacherStudentProblem,
  teacherStudentTimes,
  TEACHER_STUDENT_DEFAULTS,
} from '../../linear/teacher-student.ts';
import { runSpectrumJob } from '../../linear/jobs.ts';
import { Rng } from '../../src/rng.ts';

const status = lapackStatus();
if (!status.ok) console.warn(`LAPACK tests skipped: ${status.reason} (apt-get install libopenblas0)`);
const SOLVERS: EigensolverName[] = status.ok ? ['lapack', 'ml-matrix'] : ['ml-matrix'];

/** Q = H_1·H_2·H_3 (Householder reflections of random unit vectors): orthogonal by construction. */
function plantedOrthogonal(n: number, seed: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const rng = Rng.derive(seed, 'planted');
  for (let r = 0; r < 3; r++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) v[i] /= norm;
    // Q ← Q·(I − 2vvᵀ)
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += q[i * n + j] * v[j];
      for (let j = 0; j < n; j++) q[i * n + j] -= 2 * dot * v[j];
    }
  }
  return q;
}

describe('eigensolvers against a planted spectrum', () => {
  const n = 60;
  const q = plantedOrthogonal(n, 7);
  const planted = Float64Array.from({ length: n }, (_, i) => 0.05 + i * 0.1 + (i % 3) * 0.01); // distinct, ascending
  const a = new Float64Array(n * n); // Q·diag·Qᵀ
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * planted[k] * q[j * n + k];
      a[i * n + j] = s;
    }
  }

  it.each(SOLVERS)('%s recovers the eigenvalues (1e-12 of the largest) and ± the planted vectors (1e-9)', (solver) => {
    const e = symmetricEigen(a, n, solver);
    for (let i = 0; i < n; i++) expect(Math.abs(e.values[i] - planted[i])).toBeLessThan(1e-12 * planted[n - 1]);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += e.vectors[i * n + j] * q[j * n + i]; // column i of Q
      expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-9);
    }
  });

  it.runIf(status.ok)('LAPACK reads the lower triangle only, and leaves its input untouched', () => {
    const lower = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) lower[i * n + j] = Number.NaN;
    const copy = Float64Array.from(lower);
    const e = lapackSymmetricEigen(lower, n);
    for (let i = 0; i < n; i++) expect(Math.abs(e.values[i] - planted[i])).toBeLessThan(1e-12 * planted[n - 1]);
    expect(Object.is(lower[1], copy[1]) && lower.every((v, i) => Object.is(v, copy[i]))).toBe(true);
  });
});

describe.runIf(status.ok)('LAPACK against ml-matrix on the problems themselves', () => {
  it('dsyrk gives the Gram matrices of a triple loop (lower triangle, 1e-13 relative)', () => {
    const x = gaussian(Rng.derive(3, 'x'), 37, 23, 1);
    for (const side of ['columns', 'rows'] as const) {
      const g = lapackGram(x, 0.5, side);
      const n = side === 'columns' ? x.cols : x.rows;
      const k = side === 'columns' ? x.rows : x.cols;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let r = 0; r < k; r++)
            s +=
              side === 'columns'
                ? x.data[r * x.cols + i] * x.data[r * x.cols + j]
                : x.data[i * x.cols + r] * x.data[j * x.cols + r];
          expect(Math.abs(g[i * n + j] - 0.5 * s)).toBeLessThan(1e-13 * Math.max(1, Math.abs(s)));
        }
      }
    }
  });

  it('teacher–student (N > d): the same spectrum, losses and times', () => {
    const draw = drawTeacherStudent({ dIn: 150, dOut: 2, nTrain: 250, eta: 0.01, gamma: 1e-3, eps: 1e-3, seed: 4 });
    const [l, m] = SOLVERS.map((s) => covarianceEigen(draw.x, s));
    expect(l.complete && m.complete).toBe(true);
    const top = m.values[m.values.length - 1];
    l.values.forEach((v, i) => expect(Math.abs(v - m.values[i])).toBeLessThan(1e-12 * top));
    const [ll, lm] = [l, m].map((e) => teacherStudentLosses(exactDynamics(teacherStudentProblem(draw), e)));
    for (const t of [0, 10, 300, 5000]) {
      expect(Math.abs(lossAt(ll.gen, t) / lossAt(lm.gen, t) - 1)).toBeLessThan(1e-10);
      expect(Math.abs(lossAt(ll.train, t) / lossAt(lm.train, t) - 1)).toBeLessThan(1e-10);
    }
    expect(teacherStudentTimes(ll, 1e-3, 1e7)).toEqual(teacherStudentTimes(lm, 1e-3, 1e7));
  });

  it('ridge (n < m, the Gram route and the lumped null space): the same losses and times', () => {
    const p = { ...RIDGE_DEFAULTS, n: 40, m: 200, seed: 2 };
    const draw = drawRidge(p);
    const [l, m] = SOLVERS.map((s) => covarianceEigen(draw.phi, s));
    expect(l.values.length).toBe(m.values.length);
    const [ll, lm] = [l, m].map((e) => ridgeLosses(exactDynamics(ridgeProblem(draw), e)));
    for (const t of [0, 100, 20_000])
      expect(Math.abs(lossAt(ll.population, t) / lossAt(lm.population, t) - 1)).toBeLessThan(1e-10);
    expect(ridgeTimes(ll, p, 1e7)).toEqual(ridgeTimes(lm, p, 1e7));
  });

  describe('worker threads use the solver the sweep names', () => {
    it('a job in a worker runs on the solver it names: bit-identical to that solver inline, not to the other', async () => {
      const params = { ...TEACHER_STUDENT_DEFAULTS, dIn: 40, dOut: 1, nTrain: 70, seed: 2 };
      const runner = createRunner(2);
      try {
        const [viaLapack, viaJs] = await Promise.all(
          (['lapack', 'ml-matrix'] as const).map((solver) => runner.run({ params, gammas: [0], solver })),
        );
        const inline = (solver: EigensolverName) => Array.from(runSpectrumJob({ params, gammas: [0], solver }).values);
        expect(Array.from(viaLapack.values)).toEqual(inline('lapack'));
        expect(Array.from(viaJs.values)).toEqual(inline('ml-matrix'));
        expect(Array.from(viaLapack.values)).not.toEqual(Array.from(viaJs.values)); // two algorithms round differently
      } finally {
        await runner.close();
      }
    });

    it('a λ sweep on 2 workers is bit-identical to inline, and agrees with ml-matrix on every time', async () => {
      const base = { dIn: 120, dOut: 1, eta: 0.01, gamma: 0, eps: 1e-3 };
      const sweep = async (solver: EigensolverName, workers: number) => {
        const runner = createRunner(workers);
        try {
          return await sweepTeacherStudentLambda(base, [0.3, 0.6], [0, 1], 1e7, { runner, solver });
        } finally {
          await runner.close();
        }
      };
      const pooled = await sweep('lapack', 2);
      expect(pooled).toEqual(await sweep('lapack', 1));
      const js = await sweep('ml-matrix', 2);
      expect(pooled.map((r) => r.seeds.map((s) => [s.tTrain, s.tGen]))).toEqual(
        js.map((r) => r.seeds.map((s) => [s.tTrain, s.tGen])),
      );
    });
  });
});

describe('choosing the solver (child processes: the library can be made missing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'groklens-eig-'));
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '../../cli/main.ts'),
        'linear',
        'ridge',
        '--set',
        'n=10',
        '--set',
        'm=40',
        '-q',
        ...args,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      },
    );

  it('--eigensolver lapack without a library: exit 2, naming what was tried and how to install it', () => {
    const r = cli(['--eigensolver', 'lapack', '--out', join(dir, 'a.json')], {
      GROKLENS_LAPACK: '/nonexistent/liblapack.so.3',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /eigensolver lapack: no LAPACK library found \(\/nonexistent\/liblapack\.so\.3: .*\)\. Debian\/Ubuntu: apt-get install libopenblas0/,
    );
  });

  it('auto without a library: says so, falls back to ml-matrix, and records it in the result', () => {
    const out = join(dir, 'b.json');
    const r = cli(['--out', out], { GROKLENS_LAPACK: '/nonexistent/liblapack.so.3' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("using ml-matrix's eigensolver (JavaScript): no LAPACK library found");
    expect(JSON.parse(readFileSync(out, 'utf8')).eigensolver).toEqual({
      name: 'ml-matrix',
      description: 'ml-matrix (JavaScript)',
    });
  });

  it('a library without dsyevd is refused by name; a bad choice is a one-line error', () => {
    const r = cli(['--eigensolver', 'lapack', '--out', join(dir, 'c.json')], { GROKLENS_LAPACK: 'libm.so.6' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/libm\.so\.6: no dsyevd_\/dsyrk_/);
    const bad = cli(['--eigensolver', 'fast', '--out', join(dir, 'd.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('groklens: eigensolver must be one of auto, lapack, ml-matrix, got "fast"');
  });

  it.runIf(status.ok)('auto with a library uses LAPACK and records which', () => {
    const out = join(dir, 'e.json');
    const r = cli(['--out', out]);
    expect(r.status).toBe(0);
    const e = JSON.parse(readFileSync(out, 'utf8')).eigensolver;
    expect(e.name).toBe('lapack');
    expect(e.description).toMatch(/^LAPACK dsyevd \(.+: .*LAPACK \d+\.\d+\.\d+\)$/);
  });
});
