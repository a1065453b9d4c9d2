/**
 * Wall time of a full teacher–student λ sweep (spec §8 / issue #6): 20 values of λ × 3 seeds at
 * din = 1000, each an exact run (one float64 eigendecomposition of Σ_tr, then the closed form and
 * the threshold searches), beside the MP integral and the paper's closed form.
 *
 *   npx tsx bench/linear.ts [--d-in 1000] [--seeds 0,1,2] [--values 0.1:0.9:20] [--workers 2]
 *                           [--breakdown] [--solvers] [--no-sweep]
 *
 * --workers: threads the draws are spread over (default: one per core; 1 runs inline).
 * --breakdown: the phases of one draw at λ = 0.5 (draw, Gram, eigendecomposition, closed form +
 *   thresholds, MP integral), which shows where the time goes.
 * --solvers: the other decompositions ml-matrix offers for the same spectrum, timed on the same
 *   draw: the SVD of the covariance without vectors (eigenvalues only), the SVD of X itself, and
 *   the N×N Gram route at λ = 1.5 (N < din).
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { parseValues } from '../src/commands/linear.ts';
import { DEFAULT_VALUES } from '../src/linear/experiment.ts';
import { covarianceEigen, rowGram, symmetricEigen, transpose, type Dense } from '../src/linear/linalg.ts';
import { exactDynamics } from '../src/linear/modal.ts';
import { createRunner, defaultWorkers } from '../src/linear/pool.ts';
import { sweepTeacherStudentLambda } from '../src/linear/sweeps.ts';
import { drawTeacherStudent, nTrainFor, teacherStudentLosses, teacherStudentProblem, teacherStudentTimes } from '../src/linear/teacher-student.ts';
import { mpTeacherStudentPrediction } from '../src/linear/teacher-student-theory.ts';
import { printTable } from './timing.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const dIn = Number(flag('d-in') ?? 1000);
const seeds = parseValues('--seeds', flag('seeds') ?? '0,1,2');
const values = flag('values') ? parseValues('--values', flag('values')!) : DEFAULT_VALUES['sweep-lambda'];
const workers = Number(flag('workers') ?? defaultWorkers());
const base = { dIn, dOut: 1, eta: 0.01, gamma: 0, eps: 1e-3 };
const MAX = 10_000_000;
const sec = (ms: number) => (ms / 1000).toFixed(2);
const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
};

/** The Gram matrix one entry at a time (the kernel before the 2 × 4 blocks), for comparison. */
function naiveRowGram(a: Dense, scale: number): Float64Array {
  const { rows, cols, data } = a;
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += data[i * cols + k] * data[j * cols + k];
      g[i * rows + j] = g[j * rows + i] = s * scale;
    }
  }
  return g;
}

const toMatrix = (flat: Float64Array, rows: number, cols: number) =>
  new Matrix(Array.from({ length: rows }, (_, i) => Array.from(flat.subarray(i * cols, (i + 1) * cols))));

if (args.includes('--breakdown') || args.includes('--solvers')) {
  const nTrain = nTrainFor(dIn, 0.5);
  const [draw, tDraw] = time(() => drawTeacherStudent({ ...base, nTrain, seed: 0 }));
  const xt = transpose(draw.x);
  const [, tNaive] = time(() => naiveRowGram(xt, 1 / nTrain));
  const [gram, tGram] = time(() => rowGram(xt, 1 / nTrain));
  const [eig, tEvd] = time(() => symmetricEigen(gram, dIn));
  const full = { dim: dIn, values: eig.values, vectors: eig.vectors, complete: true };
  const [, tClosed] = time(() => teacherStudentTimes(teacherStudentLosses(exactDynamics(teacherStudentProblem(draw), full)), base.eps, MAX));
  const [, tMp] = time(() => mpTeacherStudentPrediction({ lambda: 0.5, eta: base.eta, gamma: 0, eps: base.eps, dOut: 1 }, MAX));
  const rows = [
    ['draw X, T, S_0', sec(tDraw)],
    ['Gram XᵀX/N, one entry at a time (before)', sec(tNaive)],
    ['Gram XᵀX/N, 2 × 4 blocks (now)', sec(tGram)],
    ['EVD of Σ with vectors (ml-matrix, used)', sec(tEvd)],
    ['closed form + threshold search', sec(tClosed)],
    ['MP integral prediction', sec(tMp)],
  ];
  if (args.includes('--solvers')) {
    const [svd, tSvdCov] = time(() => new SingularValueDecomposition(toMatrix(gram, dIn, dIn), { computeLeftSingularVectors: false, computeRightSingularVectors: false }));
    const sv = [...svd.diagonal].sort((a, b) => a - b);
    const agree = Math.max(...sv.map((s, i) => Math.abs(s - eig.values[i]) / eig.values[dIn - 1]));
    rows.push([`SVD of Σ, no vectors (eigenvalues only; max rel. diff ${agree.toExponential(1)})`, sec(tSvdCov)]);
    const [, tSvdX] = time(() => new SingularValueDecomposition(toMatrix(draw.x.data, nTrain, dIn), { computeLeftSingularVectors: false, computeRightSingularVectors: true }));
    rows.push([`SVD of X [${nTrain}, ${dIn}] with right vectors`, sec(tSvdX)]);
    const wide = drawTeacherStudent({ ...base, nTrain: nTrainFor(dIn, 1.5), seed: 0 });
    const [, tWide] = time(() => covarianceEigen(wide.x));
    rows.push([`λ = 1.5: Gram XXᵀ/N [${wide.x.rows}, ${wide.x.rows}] + EVD + lift`, sec(tWide)]);
    const [, tWideFull] = time(() => new EigenvalueDecomposition(toMatrix(rowGram(transpose(wide.x), 1 / wide.x.rows), dIn, dIn), { assumeSymmetric: true }));
    rows.push([`λ = 1.5: EVD of the ${dIn}×${dIn} Σ instead`, sec(tWideFull)]);
  }
  process.stdout.write(`one draw at λ = 0.5, din = ${dIn} (N_tr = ${nTrain}):\n`);
  printTable(['phase', 'seconds'], rows);
  process.stdout.write('\n');
}

if (!args.includes('--no-sweep')) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let lastLine = start;
  const runner = createRunner(workers);
  const rows = await sweepTeacherStudentLambda(base, values, seeds, MAX, {
    runner,
    onProgress: (done, total) => {
      const now = performance.now();
      process.stderr.write(`draw ${done}/${total}: +${sec(now - lastLine)} s\n`);
      lastLine = now;
    },
  });
  const wall = performance.now() - start;
  await runner.close();
  const cpu = process.cpuUsage(cpu0);

  printTable(
    ['λ', 'N_tr', 'Δt sim (mean)', 'Δt mean curve', 'Δt init-avg', 'Δt MP', 'Δt closed'],
    rows.map((r) => [
      r.lambda.toFixed(4),
      String(r.nTrain),
      r.simulated.deltaT?.toFixed(1) ?? '—',
      String(r.simulatedMeanCurve.deltaT ?? '—'),
      String(r.initAveraged.deltaT ?? '—'),
      String(r.mpIntegral.deltaT ?? '—'),
      r.closedFormDeltaT?.toFixed(0) ?? '—',
    ]),
  );
  const draws = values.length * seeds.length;
  process.stdout.write(
    `\nsweep: ${values.length} λ × ${seeds.length} seeds at din = ${dIn}, ${workers} worker${workers === 1 ? '' : 's'}: ${sec(wall)} s wall ` +
      `(${sec((wall * workers) / draws)} s a draw per worker; process CPU ${sec((cpu.user + cpu.system) / 1000)} s, CPU/wall ${((cpu.user + cpu.system) / 1000 / wall).toFixed(2)} of ${workers} possible); target < 60 s\n`,
  );
}
