/**
 * The linear results the report tests render, at small sizes (a few seconds in all): committed
 * under fixtures/reports/linear/ so that snapshots depend on the renderer only. report-fixtures
 * .test.ts checks the committed files are what this generator writes (with ml-matrix's solver, see
 * below); regenerate with
 *   npx tsx tests/linear/make-report-fixtures.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLinear, type LinearRequest, type LinearResult } from '../../linear/experiment.ts';

export const LINEAR_FIXTURE_DIR = join(import.meta.dirname, '../../fixtures/reports/linear');

export const LINEAR_FIXTURES: Record<string, LinearRequest> = {
  'teacher-student': { setup: 'teacher-student', settings: { dIn: 120, lambda: 0.6 }, points: 60, nTest: 300 },
  'teacher-student-plateau': {
    setup: 'teacher-student',
    settings: { dIn: 120, lambda: 1.5, seed: 2 },
    points: 50,
    nTest: 0,
  },
  'sweep-lambda': {
    setup: 'sweep-lambda',
    settings: { dIn: 60 },
    values: [0.2, 0.4, 0.6, 0.8, 1.5, 2.5],
    seeds: [0, 1, 2],
  },
  'sweep-gamma': {
    setup: 'sweep-gamma',
    settings: { dIn: 60, lambda: 0.5 },
    values: [0, 1e-3, 1e-2, 0.1],
    seeds: [0, 1],
  },
  'sweep-gamma-plateau': { setup: 'sweep-gamma', settings: { dIn: 60, lambda: 1.5 }, values: [0, 1e-2], seeds: [0] },
  ridge: { setup: 'ridge', settings: { n: 50, m: 300 }, points: 60 },
  'sweep-ridge-nu2': {
    setup: 'sweep-ridge-nu2',
    settings: { n: 50, m: 300 },
    values: [1e-3, 1e-2, 0.1, 1, 10, 100],
    seeds: [0, 1],
  },
  'sweep-ridge-lambda': {
    setup: 'sweep-ridge-lambda',
    settings: { n: 50, m: 300 },
    values: [5e-5, 1e-4, 2e-4, 5e-4, 1e-3],
    seeds: [0, 1],
  },
};

/** 7 significant digits, as the other report fixtures. */
const round7 = (_k: string, v: unknown): unknown =>
  typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v;

export async function linearFixtureFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  // ml-matrix on every machine: pure JavaScript, so the committed bits do not depend on which
  // LAPACK (if any) the machine has; tests/linear/lapack.test.ts holds the two solvers together.
  for (const [name, req] of Object.entries(LINEAR_FIXTURES))
    out[`${name}.json`] = JSON.stringify(await runLinear({ ...req, eigensolver: 'ml-matrix' }), round7) + '\n';
  return out;
}

export function loadLinearFixture(name: keyof typeof LINEAR_FIXTURES | string): LinearResult {
  return JSON.parse(readFileSync(join(LINEAR_FIXTURE_DIR, `${name}.json`), 'utf8')) as LinearResult;
}
