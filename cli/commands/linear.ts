/**
 * `groklens linear <setup>`: run a linear-grokking setup or sweep (linear/), print a table and
 * write the self-describing JSON result, and with --report its HTML report (reports/linear/).
 * `linearReportCommand` renders saved results into one report. Only this file touches the file
 * system and the clock.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkLinearResult, type LinearReportInput } from '../../reports/linear/input.ts';
import { renderLinearReport } from '../../reports/linear/report.ts';
import { FormatError, UserError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { LINEAR_SETUPS, runLinear, type LinearResult, type LinearSetup } from '../../linear/experiment.ts';
import { resolveEigensolver, type EigensolverChoice } from '../../linear/linalg.ts';
import { defaultWorkers } from '../../linear/pool.ts';
import type { RidgeRun, TeacherStudentRun } from '../../linear/runs.ts';
import type { RidgeSweepRow, TeacherStudentSweepRow } from '../../linear/sweeps.ts';

export interface LinearOpts {
  set: string[]; // key=value
  values?: string; // '0.1,0.2' | 'start:stop:count' | 'start:stop:count:log'
  seeds?: string; // '0,1,2'
  maxSteps?: string;
  points?: string;
  nTest?: string;
  accuracy?: boolean; // commander's --no-accuracy sets false
  workers?: string; // sweeps: worker threads (default: one per core)
  eigensolver?: string; // auto | lapack | ml-matrix
  report?: string | boolean; // --report [file]: also write the HTML report (default: beside the JSON)
  out?: string;
  quiet?: boolean;
}

function number(option: string, text: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw new UserError(`${option}: "${text}" is not a number`);
  return v;
}

/** '0.1,0.2,0.5', or 'start:stop:count' (evenly spaced), or 'start:stop:count:log' (geometric). */
export function parseValues(option: string, text: string): number[] {
  if (text.includes(':')) {
    const parts = text.split(':');
    if (parts.length < 3 || parts.length > 4 || (parts.length === 4 && parts[3] !== 'log')) {
      throw new UserError(`${option}: "${text}" should be start:stop:count or start:stop:count:log`);
    }
    const [a, b, n] = parts.slice(0, 3).map((p) => number(option, p));
    if (!Number.isInteger(n) || n < 1)
      throw new UserError(`${option}: count must be a positive integer, got ${parts[2]}`);
    const log = parts.length === 4;
    if (log && !(a > 0 && b > 0)) throw new UserError(`${option}: a log range needs start and stop > 0, got "${text}"`);
    return Array.from({ length: n }, (_, i) => {
      const f = n === 1 ? 0 : i / (n - 1);
      const v = log ? Math.exp(Math.log(a) + f * (Math.log(b) - Math.log(a))) : a + f * (b - a);
      return Number(v.toPrecision(12));
    });
  }
  return text.split(',').map((p) => number(option, p));
}

function parseSettings(sets: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set: expected key=value, got "${s}"`);
    out[s.slice(0, eq).trim()] = number(`--set ${s.slice(0, eq).trim()}`, s.slice(eq + 1));
  }
  return out;
}

function optionalInt(option: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = number(option, text);
  if (!Number.isInteger(v) || v < min) throw new UserError(`${option}: must be an integer ≥ ${min}, got ${text}`);
  return v;
}

export async function linearCommand(setup: string, opts: LinearOpts): Promise<LinearResult> {
  if (!(LINEAR_SETUPS as readonly string[]).includes(setup)) {
    throw new UserError(`linear: unknown setup "${setup}" (expected one of ${LINEAR_SETUPS.join(', ')})`);
  }
  const solver = resolveEigensolver((opts.eigensolver ?? 'auto') as EigensolverChoice);
  if (solver.fallback)
    process.stderr.write(`groklens linear: using ml-matrix's eigensolver (JavaScript): ${solver.fallback}\n`);
  else if (!opts.quiet) process.stderr.write(`eigensolver: ${solver.description}\n`);
  const started = performance.now();
  const result = await runLinear(
    {
      setup: setup as LinearSetup,
      settings: parseSettings(opts.set),
      values: opts.values !== undefined ? parseValues('--values', opts.values) : undefined,
      seeds:
        opts.seeds !== undefined
          ? parseValues('--seeds', opts.seeds).map((s) => optionalInt('--seeds', String(s), 0)!)
          : undefined,
      maxSteps: optionalInt('--max-steps', opts.maxSteps, 1),
      points: optionalInt('--points', opts.points, 2),
      nTest: optionalInt('--n-test', opts.nTest, 0),
      accuracy: opts.accuracy,
      workers: optionalInt('--workers', opts.workers, 1) ?? defaultWorkers(),
      eigensolver: solver.name,
    },
    { onProgress: opts.quiet ? undefined : progressLine(setup) },
  );
  const elapsed = (performance.now() - started) / 1000;
  const out = opts.out ?? `runs/linear/${setup}.json`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify(result, null, 1) + '\n');
  process.stdout.write(formatLinearTable(result) + `\nwrote ${out} (${elapsed.toFixed(1)} s)\n`);
  if (opts.report) {
    const html = typeof opts.report === 'string' ? opts.report : reportPathFor(out);
    writeReport(html, [{ result, file: out }]);
    process.stdout.write(`wrote ${html}\n`);
  }
  return result;
}

/** The report beside a result: runs/linear/ridge.json → runs/linear/ridge.html. */
export const reportPathFor = (json: string): string => (json.endsWith('.json') ? json.slice(0, -5) : json) + '.html';

function writeReport(file: string, inputs: LinearReportInput[], title?: string): void {
  const html = renderLinearReport(inputs, { title });
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, html);
}

/** Read and check one saved result; errors name the file. */
export function readLinearResult(file: string): LinearReportInput {
  if (!existsSync(file))
    throw new UserError(`${file}: not found (write one with groklens linear <setup> --out ${file})`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FormatError(file, `not valid JSON (${(e as Error).message})`);
  }
  return { result: checkLinearResult(value, file), file };
}

export interface LinearReportOpts {
  out?: string; // default: beside the first result
  title?: string;
}

/** `groklens linear-report a.json b.json … [-o FILE]`: saved results as one report; returns its path. */
export async function linearReportCommand(files: string[], opts: LinearReportOpts = {}): Promise<string> {
  if (!files.length) throw new UserError('linear-report: give at least one result file (from groklens linear <setup>)');
  const inputs = files.map(readLinearResult);
  const out =
    opts.out ?? (files.length === 1 ? reportPathFor(files[0]) : join(dirname(files[0]), 'linear-report.html'));
  writeReport(out, inputs, opts.title);
  process.stdout.write(`wrote ${out} (${inputs.length} result${inputs.length === 1 ? '' : 's'})\n`);
  return out;
}

/** `setup: done/total` redrawn in place on a terminal, a line every 10 % otherwise (logs). */
function progressLine(setup: string): (done: number, total: number) => void {
  let next = 0;
  return (done, total) => {
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${setup}: ${done}/${total}${done === total ? '\n' : ''}`);
    } else if (done / total >= next || done === total) {
      process.stderr.write(`${setup}: ${done}/${total}\n`);
      next = Math.floor((done / total) * 10 + 1) / 10;
    }
  };
}

const show = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined
    ? '—'
    : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)
      ? v.toExponential(3)
      : v.toFixed(digits);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The printed summary of a result (the JSON holds everything). */
export function formatLinearTable(r: LinearResult): string {
  switch (r.setup) {
    case 'teacher-student': {
      const d = r.data as TeacherStudentRun;
      const rows = [
        ['t_tr', show(d.simulated.tTrain), show(d.mpIntegral.tTrain), '—'],
        ['t_gen', show(d.simulated.tGen), show(d.mpIntegral.tGen), '—'],
        ['Δt', show(d.simulated.deltaT), show(d.mpIntegral.deltaT), show(d.closedFormDeltaT)],
        ['L_gen(∞)', show(d.simulated.genLimit, 4), show(d.mpIntegral.genLimit, 4), show(d.plateauPredicted, 4)],
      ];
      rows.forEach((row, i) =>
        row.splice(2, 0, i < 3 ? show([d.initAveraged.tTrain, d.initAveraged.tGen, d.initAveraged.deltaT][i]) : '—'),
      );
      return (
        `teacher-student  λ = ${d.lambda.toFixed(4)} (dIn ${d.params.dIn}, nTrain ${d.params.nTrain}), η ${d.params.eta}, γ ${d.params.gamma}, ε ${d.params.eps}\n` +
        table(['', 'simulated', 'init-averaged', 'MP integral', 'closed form'], rows)
      );
    }
    case 'sweep-lambda':
    case 'sweep-gamma': {
      const rows = (r.data as TeacherStudentSweepRow[]).map((d) => [
        r.setup === 'sweep-lambda' ? d.lambda.toFixed(4) : String(d.gamma),
        show(d.simulated.tTrain, 1),
        show(d.simulated.tGen, 1),
        show(d.simulated.deltaT, 1),
        show(d.initAveraged.deltaT),
        show(d.mpIntegral.deltaT),
        show(d.closedFormDeltaT),
        d.closedFormDeltaT !== null && d.mpIntegral.deltaT
          ? (d.closedFormDeltaT / d.mpIntegral.deltaT).toFixed(2)
          : '—',
      ]);
      return table(
        [
          r.setup === 'sweep-lambda' ? 'λ' : 'γ',
          't_tr sim',
          't_gen sim',
          'Δt sim',
          'Δt init-avg',
          'Δt MP',
          'Δt closed',
          'closed/MP',
        ],
        rows,
      );
    }
    case 'ridge': {
      const d = r.data as RidgeRun;
      return table(
        ['', 'value'],
        [
          ['t₁ (train < ε after)', show(d.times.t1)],
          ['t₂ (population ≤ c)', show(d.times.t2)],
          ['t₂ − t₁', show(d.times.delay)],
          ['bound t₁ ≤ (this draw)', show(d.t1Bound.t1Upper)],
          ['bound t₁ ≤ (MP edges)', show(d.t1Bound.t1UpperMp)],
          [`bound t₂ ≥${d.bound.applies ? '' : ' (not applicable)'}`, show(d.bound.t2Lower)],
          ['initial population loss', show(d.initial.population, 4)],
        ],
      );
    }
    case 'sweep-ridge-nu2':
    case 'sweep-ridge-lambda': {
      const rows = (r.data as RidgeSweepRow[]).map((d) => [
        r.setup === 'sweep-ridge-nu2' ? String(d.nu2) : String(d.lambda),
        show(d.mean.t1, 1),
        show(d.t1Bound.t1Upper, 1),
        show(d.mean.t2, 1),
        show(d.mean.delay, 1),
        show(d.bound.t2Lower),
        show(d.seeds.reduce((a, s) => a + s.initialPopulation, 0) / d.seeds.length, 4),
      ]);
      return table(
        [r.setup === 'sweep-ridge-nu2' ? 'ν²' : 'λ', 't₁', 'bound t₁', 't₂', 't₂ − t₁', 'bound t₂', 'L_pop(0)'],
        rows,
      );
    }
  }
}
