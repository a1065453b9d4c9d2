/**
 * Every chart kind rendered from the committed synthetic fixture and compared with its committed
 * SVG (fixtures/reports/*.svg). Output must be byte-identical across renders: stable ids, rounded
 * coordinates, a deterministic PNG encoder.
 */
import { describe, expect, it } from 'vitest';
import { phaseOverlay } from '../../reports/chart/phases.ts';
import { renderTimeline } from '../../reports/chart/timeline.ts';
import { compareRuns, measureFigure } from '../../reports/compare/figures.ts';
import { labelRuns } from '../../reports/compare/labels.ts';
import { MEASURES } from '../../reports/compare/measures.ts';
import { newDocument, svgText } from '../../reports/dom.ts';
import {
  attentionFigures,
  clustersFigure,
  finalNormsFigure,
  fourierHeatmapFigure,
} from '../../reports/fourier-figures.ts';
import type { Figure } from '../../reports/page.ts';
import {
  accuracyFigure,
  circuitFigure,
  distanceFigure,
  lossFigure,
  normFigure,
  perKeyFigure,
  sparsityFigure,
  STEP_LABEL,
  transitionMarkers,
  type RunContext,
} from '../../reports/run-figures.ts';
import { timelineDomain } from '../../reports/series.ts';
import { loadFixture } from './fixture.ts';
import { matchSnapshot } from './snapshot.ts';
import { syntheticRun } from './synthetic.ts';

const input = loadFixture();

function ctx(): RunContext {
  const doc = newDocument();
  return {
    doc,
    a: input.analysis,
    rows: input.metrics,
    domain: timelineDomain(input.analysis, input.metrics),
    phases: phaseOverlay(input.analysis.summary),
    runLabel: 'run "synthetic"',
    idPrefix: '',
  };
}

const CHARTS: [string, () => SVGSVGElement | undefined][] = [
  [
    'timeline',
    () => {
      const c = ctx();
      return renderTimeline(c.doc, {
        id: 'timeline-svg',
        title: 'Phases',
        domain: c.domain,
        xLabel: STEP_LABEL,
        phases: c.phases,
        markers: transitionMarkers(c.a),
      });
    },
  ],
  ['loss', () => lossFigure(ctx()).svg],
  ['accuracy', () => accuracyFigure(ctx()).svg],
  ['circuit', () => circuitFigure(ctx()).svg],
  ['per-key', () => perKeyFigure(ctx()).svg],
  ['norm', () => normFigure(ctx()).svg],
  ['sparsity', () => sparsityFigure(ctx()).svg],
  ['distance', () => distanceFigure(ctx()).svg],
  ['fourier-heatmap', () => fourierHeatmapFigure(ctx()).svg],
  ['final-embed', () => finalNormsFigure(ctx(), 'embed').svg],
  ['clusters', () => clustersFigure(ctx()).svg],
  ['attention', () => attentionFigures(ctx(), input.attention, 'transformer')[0].svg],
];

function compareFigure(n: number, align: 'step' | 't_mem'): Figure {
  const inputs = [1, 0.5, 2, 0.3, 1.5].slice(0, n).map((wd, i) =>
    syntheticRun({
      name: `r${i}`,
      p: 31,
      checkpoints: 30,
      metricsRows: 60,
      weightDecay: wd,
      timeScale: 1 / wd,
      seed: i,
      attention: false,
    }),
  );
  const labels = labelRuns(inputs.map((i) => ({ name: i.meta.name, config: i.meta.config })));
  const m = MEASURES.find((x) => x.id === 'test-loss')!;
  return measureFigure(newDocument(), compareRuns(inputs, labels.labels), m, align);
}

describe('chart snapshots', () => {
  for (const [name, render] of CHARTS) {
    it(name, () => {
      const svg = render();
      expect(svg, `${name} was not drawn`).toBeDefined();
      const text = svgText(svg!);
      const r = matchSnapshot(name, text);
      expect(r.ok, r.ok ? '' : r.message).toBe(true);
      // Byte-identical on a second render in a fresh document.
      expect(svgText(render()!)).toBe(text);
    });
  }
  it('compare overlay aligned at T_mem', () => {
    const f = compareFigure(3, 't_mem');
    const r = matchSnapshot('compare-overlay-t-mem', svgText(f.svg!));
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
  });
  it('compare small multiples by step', () => {
    const f = compareFigure(5, 'step');
    const r = matchSnapshot('compare-multiples', svgText(f.svg!));
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
  });
});

describe('chart output', () => {
  it('has no unrounded coordinates and no random ids', () => {
    for (const [name, render] of CHARTS) {
      const text = svgText(render()!);
      const attrs = [...text.matchAll(/ (?:d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g)].map((m) => m[1]);
      const long = attrs.filter((v) => /\d\.\d{3,}/.test(v));
      expect(long, `${name}: ${long.slice(0, 3).join(' | ')}`).toEqual([]);
      const ids = [...text.matchAll(/ id="([^"]*)"/g)].map((m) => m[1]);
      expect(new Set(ids).size, `${name}: duplicate ids`).toBe(ids.length);
    }
  });
});
