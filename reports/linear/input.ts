/**
 * What the linear-grokking report is drawn from: the JSON results `groklens linear` writes
 * (linear/experiment.ts, kind "groklens.linear"). Checked here, where the data enters the
 * renderers, so a malformed or hand-edited file fails with its name, the key and the value rather
 * than drawing a broken chart. Numbers may be null where the result says a time was not reached.
 */
import { FormatError } from '../../src/errors.ts';
import {
  LINEAR_RESULT_KIND,
  LINEAR_RESULT_VERSION,
  LINEAR_SETUPS,
  type LinearResult,
} from '../../linear/experiment.ts';

export interface LinearReportInput {
  result: LinearResult;
  file: string; // where it came from: error messages and the footer
}

function fail(file: string, key: string, expected: string, got: unknown): never {
  let shown: string;
  try {
    shown = JSON.stringify(got) ?? String(got);
  } catch {
    shown = String(got);
  }
  throw new FormatError(
    file,
    `${key}: expected ${expected}, got ${shown.length > 60 ? shown.slice(0, 57) + '...' : shown}`,
  );
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  constructor(readonly file: string) {}
  obj(v: unknown, key: string): Rec {
    if (!isRec(v)) fail(this.file, key, 'an object', v);
    return v;
  }
  num(v: unknown, key: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(this.file, key, 'a number', v);
    return v;
  }
  numOrNull(v: unknown, key: string): void {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) fail(this.file, key, 'a number or null', v);
  }
  arr(v: unknown, key: string, length?: number): unknown[] {
    if (!Array.isArray(v)) fail(this.file, key, 'an array', v);
    if (length !== undefined && v.length !== length) fail(this.file, `${key}.length`, `${length}`, v.length);
    return v;
  }
  nums(v: unknown, key: string, length?: number): void {
    this.arr(v, key, length).forEach((x, i) => this.num(x, `${key}[${i}]`));
  }
  numsOrNull(v: unknown, key: string, length?: number): void {
    if (v === null) return;
    this.arr(v, key, length).forEach((x, i) => this.numOrNull(x, `${key}[${i}]`));
  }
  times(v: unknown, key: string, names: string[]): void {
    const o = this.obj(v, key);
    for (const n of names) this.numOrNull(o[n], `${key}.${n}`);
  }
}

const GROK = ['tTrain', 'tGen', 'deltaT'];

function checkTeacherStudentRun(c: Checker, d: Rec): void {
  c.obj(d.params, 'data.params');
  c.num(d.lambda, 'data.lambda');
  c.times(d.simulated, 'data.simulated', [...GROK, 'genLimit']);
  c.times(d.initAveraged, 'data.initAveraged', GROK);
  c.times(d.mpIntegral, 'data.mpIntegral', [...GROK, 'genLimit']);
  c.numOrNull(d.closedFormDeltaT, 'data.closedFormDeltaT');
  c.numOrNull(d.plateauPredicted, 'data.plateauPredicted');
  const curve = c.obj(d.curve, 'data.curve');
  const n = c.arr(curve.steps, 'data.curve.steps').length;
  c.nums(curve.steps, 'data.curve.steps');
  for (const k of ['train', 'gen', 'initAveragedTrain', 'initAveragedGen', 'mpTrain', 'mpGen'])
    c.nums(curve[k], `data.curve.${k}`, n);
  for (const k of ['trainAccuracy', 'testAccuracy', 'testAccuracyAnalytic'])
    c.numsOrNull(curve[k], `data.curve.${k}`, n);
  const sp = c.obj(d.spectrum, 'data.spectrum');
  const bins = c.arr(sp.empirical, 'data.spectrum.empirical').length;
  c.nums(sp.edges, 'data.spectrum.edges', bins + 1);
  c.nums(sp.empirical, 'data.spectrum.empirical');
  c.nums(sp.mp, 'data.spectrum.mp', bins);
  const z = c.obj(sp.zeroShare, 'data.spectrum.zeroShare');
  c.num(z.empirical, 'data.spectrum.zeroShare.empirical');
  c.num(z.mp, 'data.spectrum.zeroShare.mp');
}

function checkTeacherStudentRows(c: Checker, rows: unknown[]): void {
  rows.forEach((r, i) => {
    const k = `data[${i}]`;
    const o = c.obj(r, k);
    for (const n of ['lambda', 'nTrain', 'gamma', 'simulatedGenLimit']) c.num(o[n], `${k}.${n}`);
    c.arr(o.seeds, `${k}.seeds`).forEach((s, j) => {
      c.times(s, `${k}.seeds[${j}]`, GROK);
      c.num((s as Rec).seed, `${k}.seeds[${j}].seed`);
      c.num((s as Rec).genLimit, `${k}.seeds[${j}].genLimit`);
    });
    for (const n of ['simulated', 'simulatedMeanCurve', 'initAveraged']) c.times(o[n], `${k}.${n}`, GROK);
    c.times(o.mpIntegral, `${k}.mpIntegral`, [...GROK, 'genLimit']);
    c.numOrNull(o.closedFormDeltaT, `${k}.closedFormDeltaT`);
    c.numOrNull(o.plateauPredicted, `${k}.plateauPredicted`);
  });
}

function checkRidgeRun(c: Checker, d: Rec): void {
  c.obj(d.params, 'data.params');
  c.times(d.times, 'data.times', ['t1', 't2', 'delay']);
  const b = c.obj(d.bound, 'data.bound');
  c.num(b.t2Lower, 'data.bound.t2Lower');
  if (typeof b.applies !== 'boolean') fail(c.file, 'data.bound.applies', 'true or false', b.applies);
  checkT1Bound(c, d, 'data');
  for (const k of ['initial', 'limit']) {
    const o = c.obj(d[k], `data.${k}`);
    c.num(o.train, `data.${k}.train`);
    c.num(o.population, `data.${k}.population`);
  }
  const curve = c.obj(d.curve, 'data.curve');
  const n = c.arr(curve.steps, 'data.curve.steps').length;
  c.nums(curve.steps, 'data.curve.steps');
  c.nums(curve.train, 'data.curve.train', n);
  c.nums(curve.population, 'data.curve.population', n);
}

function checkRidgeRows(c: Checker, rows: unknown[]): void {
  rows.forEach((r, i) => {
    const k = `data[${i}]`;
    const o = c.obj(r, k);
    c.num(o.nu2, `${k}.nu2`);
    c.num(o.lambda, `${k}.lambda`);
    c.arr(o.seeds, `${k}.seeds`).forEach((s, j) => {
      c.times(s, `${k}.seeds[${j}]`, ['t1', 't2', 'delay']);
      c.num((s as Rec).seed, `${k}.seeds[${j}].seed`);
      c.num((s as Rec).initialPopulation, `${k}.seeds[${j}].initialPopulation`);
      if ((s as Rec).t1Upper === undefined) (s as Rec).t1Upper = null; // written before the t₁ bound
      c.numOrNull((s as Rec).t1Upper, `${k}.seeds[${j}].t1Upper`);
    });
    c.times(o.mean, `${k}.mean`, ['t1', 't2', 'delay']);
    const b = c.obj(o.bound, `${k}.bound`);
    c.num(b.t2Lower, `${k}.bound.t2Lower`);
    checkT1Bound(c, o, k);
  });
}

/** The upper bound on t₁ (absent from files written before it existed: read as not computed). */
function checkT1Bound(c: Checker, holder: Rec, key: string): void {
  if (holder.t1Bound === undefined) holder.t1Bound = { t1Upper: null, t1UpperMp: null };
  const t = c.obj(holder.t1Bound, `${key}.t1Bound`);
  c.numOrNull(t.t1Upper, `${key}.t1Bound.t1Upper`);
  c.numOrNull(t.t1UpperMp, `${key}.t1Bound.t1UpperMp`);
}

/** Validate a parsed result file; returns it typed. Throws FormatError naming the file, key and value. */
export function checkLinearResult(value: unknown, file: string): LinearResult {
  const c = new Checker(file);
  const r = c.obj(value, '(top level)');
  if (r.kind !== LINEAR_RESULT_KIND)
    fail(file, 'kind', `"${LINEAR_RESULT_KIND}" (a result of groklens linear)`, r.kind);
  if (r.version !== LINEAR_RESULT_VERSION) fail(file, 'version', `${LINEAR_RESULT_VERSION}`, r.version);
  if (!(LINEAR_SETUPS as readonly unknown[]).includes(r.setup))
    fail(file, 'setup', `one of ${LINEAR_SETUPS.join(', ')}`, r.setup);
  if (typeof r.source !== 'string') fail(file, 'source', 'a string', r.source);
  const defs = c.obj(r.definitions, 'definitions');
  for (const [k, v] of Object.entries(defs)) if (typeof v !== 'string') fail(file, `definitions.${k}`, 'a string', v);
  const settings = c.obj(r.settings, 'settings');
  for (const [k, v] of Object.entries(settings)) c.num(v, `settings.${k}`);
  c.num(r.maxSteps, 'maxSteps');
  if (r.eigensolver !== undefined) {
    const e = c.obj(r.eigensolver, 'eigensolver');
    if (e.name !== 'lapack' && e.name !== 'ml-matrix')
      fail(file, 'eigensolver.name', '"lapack" or "ml-matrix"', e.name);
    if (typeof e.description !== 'string') fail(file, 'eigensolver.description', 'a string', e.description);
  }
  if (r.sweep !== null) {
    const s = c.obj(r.sweep, 'sweep');
    if (typeof s.key !== 'string') fail(file, 'sweep.key', 'a string', s.key);
    c.nums(s.values, 'sweep.values');
    c.nums(s.seeds, 'sweep.seeds');
  }
  const swept = r.sweep !== null ? ((r.sweep as Rec).values as unknown[]).length : undefined; // rows a sweep must have
  switch (r.setup as LinearResult['setup']) {
    case 'teacher-student':
      checkTeacherStudentRun(c, c.obj(r.data, 'data'));
      break;
    case 'sweep-lambda':
    case 'sweep-gamma':
      checkTeacherStudentRows(c, c.arr(r.data, 'data', swept));
      break;
    case 'ridge':
      checkRidgeRun(c, c.obj(r.data, 'data'));
      break;
    case 'sweep-ridge-nu2':
    case 'sweep-ridge-lambda':
      checkRidgeRows(c, c.arr(r.data, 'data', swept));
      break;
  }
  if (r.setup !== 'teacher-student' && r.setup !== 'ridge' && r.sweep === null)
    fail(file, 'sweep', 'the swept key, values and seeds', null);
  return r as unknown as LinearResult;
}
