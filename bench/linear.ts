/**
 * Wall time of a full teacher–student λ sweep (docs/measures.md#linear-grokking / issue #6): 20 values of λ × 3 seeds at
 * din = 1000, each an exact run (one float64 eigendecomposition of Σ_tr, then the closed form and
 * the threshold searches), beside the MP integral and the paper's closed form. Before the sweep,
 * one draw (λ = 0.5) is decomposed by both eigensolvers — the system's LAPACK and ml-matrix — as
 * the baseline measured in the same run, with how far their results are apart.
 *
 *   npx tsx bench/linear.ts [--d-in 1000] [--seeds 0,1,2] [--values 0.1:0.9:20] [--workers 2]
 *                           [--eigensolver auto|lapack|ml-matrix] [--no-baseline] [--no-sweep]
 *
 * --workers: threads the draws are spread over (default: one per core; 1 runs inline).
 * --eigensolver: the sweep's solver (default auto: LAPACK when installed).
 */
import { parseValues } from '../cli/commands/linear.ts';
import { DEFAULT_VALUES } from '../linear/experiment.ts';
import { lapackGram } from '../linear/lapack.ts';
import {
  covarianceEigen,
  resolveEigensolver,
  rowGram,
  transpose,
  type EigensolverChoice,
  type EigensolverName,
} from '../linear/linalg.ts';
import { exactDynamics } from '../linear/modal.ts';
import { createRunner, defaultWorkers } from '../linear/pool.ts';
import { sweepTeacherStudentLambda } from '../linear/sweeps.ts';
import {
  drawTeacherStudent,
  nTrainFor,
  teacherStudentLosses,
  teacherStudentProblem,
  teacherStudentTimes,
} from '../linear/teacher-student.ts';
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
const solver = resolveEigensolver((flag('eigensolver') ?? 'auto') as EigensolverChoice);
process.stdout.write(
  `eigensolver of the sweep: ${solver.description}${solver.fallback ? ` — ${solver.fallback}` : ''}\n\n`,
);
const base = { dIn, dOut: 1, eta: 0.01, gamma: 0, eps: 1e-3 };
const MAX = 10_000_000;
const sec = (ms: number) => (ms / 1000).toFixed(2);
const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
};

if (!args.includes('--no-baseline')) {
  const nTrain = nTrainFor(dIn, 0.5);
  const [draw, tDraw] = time(() => drawTeacherStudent({ ...base, nTrain, seed: 0 }));
  const names: EigensolverName[] =
    resolveEigensolver('auto').name === 'lapack' ? ['lapack', 'ml-matrix'] : ['ml-matrix'];
  const rows: string[][] = [['draw X, T, S_0', sec(tDraw), sec(tDraw)]];
  const per = names.map((name) => {
    const [, tGram] = time(() =>
      name === 'lapack' ? lapackGram(draw.x, 1 / nTrain, 'columns') : rowGram(transpose(draw.x), 1 / nTrain),
    );
    const [eig, tAll] = time(() => covarianceEigen(draw.x, name));
    const [times, tClosed] = time(() =>
      teacherStudentTimes(teacherStudentLosses(exactDynamics(teacherStudentProblem(draw), eig)), base.eps, MAX),
    );
    return { name, tGram, tEvd: tAll - tGram, tClosed, eig, times };
  });
  const cell = (f: (p: (typeof per)[number]) => string) => names.map((_, i) => f(per[i]));
  rows.push(['Gram XᵀX/N (LAPACK: BLAS dsyrk; ml-matrix: JavaScript)', ...cell((p) => sec(p.tGram))]);
  rows.push(['eigendecomposition of Σ with vectors (dsyevd / ml-matrix EVD)', ...cell((p) => sec(p.tEvd))]);
  rows.push(['closed form + threshold search', ...cell((p) => sec(p.tClosed))]);
  process.stdout.write(`one draw at λ = 0.5, din = ${dIn} (N_tr = ${nTrain}), seconds:\n`);
  printTable(['phase', ...names], rows);
  if (per.length === 2) {
    const [a, b] = per;
    const top = a.eig.values[dIn - 1];
    const dv = Math.max(...Array.from(a.eig.values, (v, i) => Math.abs(v - b.eig.values[i]) / top));
    process.stdout.write(
      `LAPACK vs ml-matrix: eigenvalues within ${dv.toExponential(1)} of the largest; t_tr ${a.times.tTrain} vs ${b.times.tTrain}, t_gen ${a.times.tGen} vs ${b.times.tGen}; ` +
        `decomposition ${(b.tEvd / a.tEvd).toFixed(0)}× faster, Gram ${(b.tGram / a.tGram).toFixed(0)}× faster\n`,
    );
  }
  process.stdout.write('\n');
}

if (!args.includes('--no-sweep')) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let lastLine = start;
  const runner = createRunner(workers);
  const rows = await sweepTeacherStudentLambda(base, values, seeds, MAX, {
    runner,
    solver: solver.name,
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
