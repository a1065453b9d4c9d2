/**
 * The linear-grokking report as a document: every section and figure, the numbers it shows against
 * the result it was drawn from, the geometry of the log axes, escaping of every string a result
 * file carries, and validation of malformed files.
 */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { fmtStep } from '../../reports/format.ts';
import { checkLinearResult } from '../../reports/linear/input.ts';
import { renderLinearReport } from '../../reports/linear/report.ts';
import { FormatError, UserError } from '../../src/errors.ts';
import type { LinearResult } from '../../linear/experiment.ts';
import type { RidgeRun, TeacherStudentRun } from '../../linear/runs.ts';
import type { RidgeSweepRow, TeacherStudentSweepRow } from '../../linear/sweeps.ts';
import { LINEAR_FIXTURES, loadLinearFixture } from '../linear/report-fixtures.ts';
import { injectionProblems } from './escape-check.ts';

const parse = (html: string) => new JSDOM(html).window.document;
const NAMES = Object.keys(LINEAR_FIXTURES);
const inputs = () => NAMES.map((n) => ({ result: loadLinearFixture(n), file: `fixtures/reports/linear/${n}.json` }));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Plot width of the chart (720 wide, margins 64 + 36). */
const INNER_W = 720 - 64 - 36;

describe('linear report', () => {
  const html = renderLinearReport(inputs());
  const doc = parse(html);

  it('is one self-contained page with a section per result, each figure drawn or explained', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(Array.from(doc.querySelectorAll('section')).map((s) => s.id)).toEqual([
      'teacher-student',
      'teacher-student-2',
      'sweep-lambda',
      'sweep-gamma',
      'sweep-gamma-2',
      'ridge',
      'sweep-ridge-nu2',
      'sweep-ridge-lambda',
    ]);
    expect(injectionProblems(doc, html, [])).toEqual([]);
    const figs = Array.from(doc.querySelectorAll('figure'));
    for (const f of figs) expect(!!f.querySelector('svg.chart') !== !!f.querySelector('.note'), f.id).toBe(true);
    // 3 + 4 (run, plateau run) + 3 (λ sweep) + 2 + 2 (γ sweeps) + 1 (ridge) + 2 + 1 (ridge sweeps)
    expect(figs.length).toBe(18);
    // The only figure not drawn: Δt against γ at λ = 1.5, where t_gen is never reached.
    expect(figs.filter((f) => f.querySelector('.note')).map((f) => f.id)).toEqual(['sweep-gamma-2-delta-t']);
    expect(doc.querySelector('#sweep-gamma-2-delta-t .note')!.textContent).toContain('halves the plateau');
    expect(html.replaceAll('http://www.w3.org/2000/svg', '').match(/https?:\/\/\S{0,40}/g)).toBeNull();
    // Rendering is deterministic.
    expect(renderLinearReport(inputs())).toBe(html);
  });

  it('shows the times of the result in the key numbers and the sweep tables', () => {
    const d = loadLinearFixture('teacher-student').data as TeacherStudentRun;
    const keys = Array.from(doc.querySelectorAll('#teacher-student .key')).map((k) => k.textContent ?? '');
    expect(keys.find((k) => k.startsWith('Δt simulated'))).toContain(fmtStep(d.simulated.deltaT));
    expect(keys.find((k) => k.startsWith('Δt MP integral'))).toContain(`t_gen ${fmtStep(d.mpIntegral.tGen)}`);
    expect(keys.find((k) => k.startsWith("Δt paper's closed form"))).toContain(
      `${(d.closedFormDeltaT! / d.mpIntegral.deltaT!).toPrecision(3)}×`,
    );
    const rows = loadLinearFixture('sweep-lambda').data as TeacherStudentSweepRow[];
    const cells = Array.from(doc.querySelectorAll('#sweep-lambda table.sweep tbody tr')).map((tr) =>
      Array.from(tr.querySelectorAll('td')).map((td) => td.textContent),
    );
    expect(cells.length).toBe(rows.length);
    rows.forEach((r, i) => {
      expect(cells[i][7]).toBe(r.mpIntegral.deltaT === null ? '–' : fmtStep(r.mpIntegral.deltaT));
      expect(cells[i][1]).toBe(String(r.nTrain));
    });
    const ridge = loadLinearFixture('sweep-ridge-lambda').data as RidgeSweepRow[];
    const t2l = Array.from(doc.querySelectorAll('#sweep-ridge-lambda table.sweep tbody tr td:nth-child(8)')).map((td) =>
      Number(td.textContent),
    );
    ridge.forEach((r, i) => expect(t2l[i]).toBeCloseTo(r.mean.t2! * r.lambda, 2));
    // The upper bound on t₁ (mean over seeds) sits beside the mean t₁ it bounds.
    const t1b = Array.from(doc.querySelectorAll('#sweep-ridge-lambda table.sweep tbody tr td:nth-child(3)')).map((td) =>
      Number(td.textContent),
    );
    ridge.forEach((r, i) => {
      expect(t1b[i]).toBeCloseTo(r.t1Bound.t1Upper!, -1);
      expect(t1b[i]).toBeGreaterThanOrEqual(r.mean.t1!);
    });
  });

  it('places each time marker at its step on the log step axis', () => {
    const d = loadLinearFixture('teacher-student').data as TeacherStudentRun;
    const last = d.curve.steps[d.curve.steps.length - 1];
    const d1 = Math.ceil(Math.log10(last)); // the axis runs over whole decades from 10⁰
    const px = (t: number) => (INNER_W * Math.log10(t)) / d1;
    const markers = Array.from(doc.querySelectorAll('#teacher-student-loss g.marker'));
    const at = (label: string) =>
      Number(
        markers
          .find((m) => m.querySelector('text')!.textContent === label)!
          .querySelector('line')!
          .getAttribute('x1'),
      );
    expect(at('t_tr')).toBeCloseTo(px(d.simulated.tTrain!), 1);
    expect(at('t_gen')).toBeCloseTo(px(d.simulated.tGen!), 1);
    expect(at('t_gen MP')).toBeCloseTo(px(d.mpIntegral.tGen!), 1);
    expect(at('t_gen closed form')).toBeCloseTo(px(d.mpIntegral.tTrain! + d.closedFormDeltaT!), 1);
    expect(
      markers.find((m) => m.querySelector('text')!.textContent === 't_gen')!.querySelector('title')!.textContent,
    ).toContain(String(d.simulated.tGen));

    const r = loadLinearFixture('ridge').data as RidgeRun;
    const ridge = Array.from(doc.querySelectorAll('#ridge-loss g.marker'));
    const rd1 = Math.ceil(Math.log10(r.curve.steps[r.curve.steps.length - 1]));
    const bound = ridge.find((m) => m.querySelector('text')!.textContent === 'bound on t₂')!;
    expect(Number(bound.querySelector('line')!.getAttribute('x1'))).toBeCloseTo(
      (INNER_W * Math.log10(r.bound.t2Lower)) / rd1,
      1,
    );
    expect(r.times.t2!).toBeGreaterThan(r.bound.t2Lower); // the fixture shows t₂ past the bound
    const t1Bound = ridge.find((m) => m.querySelector('text')!.textContent === 'bound on t₁')!;
    expect(Number(t1Bound.querySelector('line')!.getAttribute('x1'))).toBeCloseTo(
      (INNER_W * Math.log10(r.t1Bound.t1Upper!)) / rd1,
      1,
    );
    expect(r.t1Bound.t1Upper!).toBeGreaterThanOrEqual(r.times.t1!);
  });

  it('draws one point per draw and the histogram of the spectrum', () => {
    const rows = loadLinearFixture('sweep-lambda').data as TeacherStudentSweepRow[];
    const finite = rows.flatMap((r) => r.seeds).filter((s) => s.deltaT !== null && s.deltaT > 0).length;
    const svg = doc.querySelector('#sweep-lambda-delta-t svg')!;
    const seedPoints = Array.from(svg.querySelectorAll('g.points')).find((g) => g.getAttribute('fill') === '#8a8a8a')!;
    expect(seedPoints.querySelectorAll('circle').length).toBe(finite);
    expect(seedPoints.querySelector('title')!.textContent).toMatch(/^λ [\d.]+, seed 0: Δt \d/);
    const d = loadLinearFixture('teacher-student').data as TeacherStudentRun;
    const bars = Array.from(doc.querySelectorAll('#teacher-student-spectrum svg g.bars rect'));
    const nonzero = d.spectrum.empirical.filter((v) => v > 0);
    expect(bars.length).toBe(nonzero.length);
    // Bar heights are proportional to the densities (a linear axis from 0).
    const h = bars.map((b) => Number(b.getAttribute('height')));
    expect(h[1] / h[0]).toBeCloseTo(nonzero[1] / nonzero[0], 1);
    expect(doc.querySelector('#teacher-student-2-spectrum figcaption')!.textContent).toContain('33.3 %'); // null space at λ = 1.5
  });

  it('has the plateau panels where λ > 1 and a note where a sweep has none', () => {
    expect(doc.querySelector('#teacher-student-plateau')).toBeNull(); // λ = 0.6
    const cap = doc.querySelector('#teacher-student-2-plateau figcaption')!.textContent!;
    expect(cap).toContain('(1 − 1/λ)/d_out = 0.3333');
    expect(doc.querySelector('#sweep-lambda-plateau svg')).not.toBeNull();
    const onlyBelow = clone(loadLinearFixture('sweep-lambda'));
    onlyBelow.data = (onlyBelow.data as TeacherStudentSweepRow[]).filter((r) => r.lambda < 1);
    onlyBelow.sweep!.values = onlyBelow.sweep!.values.filter((v) => v < 1);
    const d2 = parse(renderLinearReport([{ result: onlyBelow, file: 'x.json' }]));
    expect(d2.querySelector('#sweep-lambda-plateau .note')!.textContent).toMatch(/no λ > 1/);
  });
});

describe('escaping', () => {
  it('shows every string of a hand-edited result file as text', () => {
    const hostile = {
      source: '<script>alert(1)</script>',
      definition: '"><img src=x onerror=alert(2)>',
      key: "'><iframe src=javascript:alert(3)>",
      file: '</script><svg onload=alert(4)>.json',
    };
    const r = clone(loadLinearFixture('ridge'));
    r.source = hostile.source;
    r.definitions[hostile.key] = hostile.definition;
    const html = renderLinearReport([{ result: r, file: hostile.file }], { title: hostile.source });
    const doc = parse(html);
    expect(injectionProblems(doc, html, Object.values(hostile))).toEqual([]);
    expect(doc.querySelector('h1')!.textContent).toBe(hostile.source);
    expect(doc.title).toBe(`${hostile.source} · groklens report`);
  });
});

describe('validation', () => {
  const base = () => clone(loadLinearFixture('teacher-student')) as unknown as Record<string, unknown>;
  const check = (v: unknown) => () => checkLinearResult(v, 'runs/linear/x.json');

  it('names the file, the key and the value', () => {
    expect(check({ ...base(), kind: 'groklens.run' })).toThrow(
      /^runs\/linear\/x\.json: kind: expected "groklens\.linear" \(a result of groklens linear\), got "groklens\.run"$/,
    );
    expect(check({ ...base(), version: 2 })).toThrow(/version: expected 1, got 2/);
    expect(check({ ...base(), setup: 'lasso' })).toThrow(/setup: expected one of teacher-student, .*got "lasso"/);
    expect(check({ ...base(), settings: { dIn: '1000' } })).toThrow(/settings\.dIn: expected a number, got "1000"/);
    const short = base();
    ((short.data as TeacherStudentRun).curve.gen as number[]).pop();
    expect(check(short)).toThrow(/data\.curve\.gen\.length: expected \d+, got \d+/);
    const bad = base();
    (bad.data as TeacherStudentRun).simulated.tGen = 'soon' as unknown as number;
    expect(check(bad)).toThrow(/data\.simulated\.tGen: expected a number or null, got "soon"/);
    const sweep = clone(loadLinearFixture('sweep-ridge-nu2')) as LinearResult;
    (sweep.data as RidgeSweepRow[]).pop();
    expect(check(sweep)).toThrow(/data\.length: expected 6, got 5/);
    expect(check({ ...sweep, sweep: null })).toThrow(FormatError);
    expect(check([])).toThrow(/\(top level\): expected an object, got \[\]/);
  });

  it('reads a ridge file written before the upper bound on t₁ as "not computed", and checks it when present', () => {
    const old = clone(loadLinearFixture('ridge')) as LinearResult;
    delete (old.data as Partial<RidgeRun>).t1Bound;
    expect((checkLinearResult(old, 'old.json').data as RidgeRun).t1Bound).toEqual({ t1Upper: null, t1UpperMp: null });
    const html = renderLinearReport([{ result: old, file: 'old.json' }]);
    expect(parse(html).querySelector('#ridge-loss figcaption')!.textContent).toContain('Upper bound on t₁: none (');
    const sweep = clone(loadLinearFixture('sweep-ridge-nu2')) as LinearResult;
    delete (sweep.data as Partial<RidgeSweepRow>[])[0].t1Bound;
    delete ((sweep.data as RidgeSweepRow[])[1].seeds[0] as Partial<RidgeSweepRow['seeds'][0]>).t1Upper;
    expect(check(sweep)).not.toThrow();
    const bad = clone(loadLinearFixture('ridge')) as LinearResult;
    (bad.data as RidgeRun).t1Bound.t1Upper = 'late' as unknown as number;
    expect(check(bad)).toThrow(/data\.t1Bound\.t1Upper: expected a number or null, got "late"/);
  });

  it('refuses to render nothing, and renders nothing malformed', () => {
    expect(() => renderLinearReport([])).toThrow(UserError);
    expect(() =>
      renderLinearReport([{ result: { ...base(), kind: 'x' } as unknown as LinearResult, file: 'bad.json' }]),
    ).toThrow(/^bad\.json: kind/);
  });
});
