/**
 * Wall time of a full teacher–student λ sweep (spec §8 / issue #6): 20 values of λ × 3 seeds at
 * din = 1000, each an exact run (one float64 eigendecomposition of Σ_tr, then the closed form and
 * the threshold searches), beside the MP integral and the paper's closed form.
 *
 *   npx tsx bench/linear.ts [--d-in 1000] [--seeds 0,1,2] [--values 0.1:0.9:20] [--breakdown]
 *
 * --breakdown first times the phases of one draw at λ = 0.5 (draw, Gram, eigendecomposition,
 * closed form + thresholds, MP integral), which shows where the time goes.
 */
import { parseValues } from '../src/commands/linear.ts';
import { DEFAULT_VALUES } from '../src/linear/experiment.ts';
import { covarianceEigen, rowGram, symmetricEigen, transpose } from '../src/linear/linalg.ts';
import { exactDynamics } from '../src/linear/modal.ts';
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
const base = { dIn, dOut: 1, eta: 0.01, gamma: 0, eps: 1e-3 };
const MAX = 10_000_000;
const sec = (ms: number) => (ms / 1000).toFixed(2);

if (args.includes('--breakdown')) {
  const nTrain = nTrainFor(dIn, 0.5);
  let t = performance.now();
  const draw = drawTeacherStudent({ ...base, nTrain, seed: 0 });
  const tDraw = performance.now() - t;
  t = performance.now();
  const gram = rowGram(transpose(draw.x), 1 / nTrain);
  const tGram = performance.now() - t;
  t = performance.now();
  symmetricEigen(gram, dIn);
  const tEvd = performance.now() - t;
  const eig = covarianceEigen(draw.x); // the same two steps, as the sweep runs them
  t = performance.now();
  teacherStudentTimes(teacherStudentLosses(exactDynamics(teacherStudentProblem(draw), eig)), base.eps, MAX);
  const tClosed = performance.now() - t;
  t = performance.now();
  mpTeacherStudentPrediction({ lambda: 0.5, eta: base.eta, gamma: 0, eps: base.eps, dOut: 1 }, MAX);
  const tMp = performance.now() - t;
  process.stdout.write(`one draw at λ = 0.5, din = ${dIn} (N_tr = ${nTrain}):\n`);
  printTable(
    ['phase', 'seconds'],
    [
      ['draw X, T, S_0', sec(tDraw)],
      ['Gram XᵀX/N (float64 loops)', sec(tGram)],
      ['eigendecomposition (ml-matrix)', sec(tEvd)],
      ['closed form + threshold search', sec(tClosed)],
      ['MP integral prediction', sec(tMp)],
    ],
  );
  process.stdout.write('\n');
}

const cpu0 = process.cpuUsage();
const start = performance.now();
let lastLine = start;
const rows = sweepTeacherStudentLambda(base, values, seeds, MAX, {
  onProgress: (done, total) => {
    const now = performance.now();
    process.stderr.write(`draw ${done}/${total}: ${sec(now - lastLine)} s\n`);
    lastLine = now;
  },
});
const wall = performance.now() - start;
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
  `\nsweep: ${values.length} λ × ${seeds.length} seeds at din = ${dIn}: ${sec(wall)} s wall ` +
    `(${sec(wall / draws)} s a draw; process CPU/wall ${((cpu.user + cpu.system) / 1000 / wall).toFixed(2)}); target < 60 s\n`,
);
