/**
 * Every chart of the linear report rendered from the committed results (fixtures/reports/linear/
 * *.json) and compared with its committed SVG beside them. Output must be byte-identical across
 * renders: stable ids, rounded coordinates.
 */
import { describe, expect, it } from 'vitest';
import { newDocument, svgText } from '../../reports/dom.ts';
import type { Figure } from '../../reports/page.ts';
import { ridgeLambdaFigure, ridgeLossFigure, ridgeNu2Figures } from '../../reports/linear/ridge-figures.ts';
import {
  deltaTLambdaFigure,
  gammaFigures,
  plateauFigure,
  plateauLambdaFigure,
  ratioLambdaFigure,
  spectrumFigure,
  tsAccuracyFigure,
  tsLossFigure,
} from '../../reports/linear/teacher-student-figures.ts';
import type { RidgeRun, TeacherStudentRun } from '../../linear/runs.ts';
import type { RidgeSweepRow, TeacherStudentSweepRow } from '../../linear/sweeps.ts';
import { LINEAR_FIXTURE_DIR, loadLinearFixture } from '../linear/report-fixtures.ts';
import { matchSnapshot } from './snapshot.ts';

const run = (n: string) => loadLinearFixture(n).data as TeacherStudentRun;
const rows = (n: string) => loadLinearFixture(n).data as TeacherStudentSweepRow[];
const ridgeRows = (n: string) => loadLinearFixture(n).data as RidgeSweepRow[];

const CHARTS: [string, (doc: Document) => Figure][] = [
  ['ts-loss', (doc) => tsLossFigure(doc, 'ts-loss', run('teacher-student'))],
  ['ts-accuracy', (doc) => tsAccuracyFigure(doc, 'ts-accuracy', run('teacher-student'))],
  ['ts-spectrum', (doc) => spectrumFigure(doc, 'ts-spectrum', run('teacher-student'))],
  ['ts-plateau-loss', (doc) => tsLossFigure(doc, 'ts-plateau-loss', run('teacher-student-plateau'))],
  ['ts-plateau', (doc) => plateauFigure(doc, 'ts-plateau', run('teacher-student-plateau'))!],
  ['sweep-delta-t', (doc) => deltaTLambdaFigure(doc, 'sweep-delta-t', rows('sweep-lambda'))],
  ['sweep-ratio', (doc) => ratioLambdaFigure(doc, 'sweep-ratio', rows('sweep-lambda'))],
  ['sweep-plateau', (doc) => plateauLambdaFigure(doc, 'sweep-plateau', rows('sweep-lambda'))],
  ['gamma-delta-t', (doc) => gammaFigures(doc, 'gamma-', rows('sweep-gamma'))[0]],
  ['gamma-limit', (doc) => gammaFigures(doc, 'gamma-', rows('sweep-gamma'))[1]],
  ['ridge-loss', (doc) => ridgeLossFigure(doc, 'ridge-loss', loadLinearFixture('ridge').data as RidgeRun)],
  ['ridge-nu2-t2', (doc) => ridgeNu2Figures(doc, 'ridge-nu2-', ridgeRows('sweep-ridge-nu2'), 0.01)[0]],
  ['ridge-nu2-initial', (doc) => ridgeNu2Figures(doc, 'ridge-nu2-', ridgeRows('sweep-ridge-nu2'), 0.01)[1]],
  ['ridge-lambda-t2', (doc) => ridgeLambdaFigure(doc, 'ridge-lambda-t2', ridgeRows('sweep-ridge-lambda'))],
];

const svgOf = (render: (doc: Document) => Figure): string => {
  const f = render(newDocument());
  expect(f.svg, `${f.id}: ${f.note ?? 'no chart'}`).toBeDefined();
  return svgText(f.svg!);
};

describe('linear chart snapshots', () => {
  for (const [name, render] of CHARTS) {
    it(name, () => {
      const text = svgOf(render);
      const r = matchSnapshot(name, text, LINEAR_FIXTURE_DIR);
      expect(r.ok, r.ok ? '' : r.message).toBe(true);
      expect(svgOf(render)).toBe(text); // byte-identical in a fresh document
    });
  }

  it('has no unrounded coordinates, no duplicate ids, and a title on every marker and point', () => {
    for (const [name, render] of CHARTS) {
      const text = svgOf(render);
      const attrs = [...text.matchAll(/ (?:d|transform|x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"/g)].map(
        (m) => m[1],
      );
      const long = attrs.filter((v) => /\d\.\d{3,}/.test(v));
      expect(long, `${name}: ${long.slice(0, 3).join(' | ')}`).toEqual([]);
      const ids = [...text.matchAll(/ id="([^"]*)"/g)].map((m) => m[1]);
      expect(new Set(ids).size, `${name}: duplicate ids`).toBe(ids.length);
      const markers = text.split('<g class="marker">').length - 1;
      const markerTitles = [...text.matchAll(/<g class="marker"><title>[^<]+<\/title>/g)].length;
      expect(markerTitles, name).toBe(markers);
    }
  });
});
