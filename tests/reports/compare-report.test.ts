/** The comparison page: labels, alignment, small multiples, tables, escaping. */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import type { LinesHover } from '../../reports/chart/lines.ts';
import { renderCompareReport } from '../../reports/compare-report.ts';
import { OVERLAY_MAX_RUNS } from '../../reports/compare/figures.ts';
import { MEASURES } from '../../reports/compare/measures.ts';
import { fmtStep, roundSig } from '../../reports/format.ts';
import { injectionProblems } from './escape-check.ts';
import { HOSTILE, hostileCompareRuns } from './hostile.ts';
import { syntheticRun } from './synthetic.ts';

const parse = (html: string) => new JSDOM(html).window.document;
const hoverOf = (doc: Document, id: string) =>
  JSON.parse(doc.querySelector(`#${id} script.hover-data`)!.textContent!) as LinesHover;

const runs = (wds: number[], extra: Parameters<typeof syntheticRun>[0] = {}) =>
  wds.map((wd, i) =>
    syntheticRun({
      name: `run-${i}`,
      p: 23,
      checkpoints: 24,
      metricsRows: 48,
      weightDecay: wd,
      timeScale: 1 / wd,
      seed: i,
      attention: false,
      ...extra,
    }),
  );

describe('compare report', () => {
  const inputs = runs([1, 0.5, 2]);
  const html = renderCompareReport(inputs);
  const doc = parse(html);

  it('labels runs by what differs and tabulates their transitions', () => {
    const legend = Array.from(doc.querySelectorAll('#step-test-acc .legend text')).map((t) => t.textContent);
    expect(legend).toEqual([
      'weight_decay=1, steps=3000',
      'weight_decay=0.5, steps=6000',
      'weight_decay=2, steps=1500',
    ]);
    const head = Array.from(doc.querySelectorAll('table.differs th')).map((t) => t.textContent);
    expect(head).toEqual(['run', 'directory name', 'optimizer.weight_decay', 'training.steps']);
    const rows = Array.from(doc.querySelectorAll('table.transitions tbody tr'));
    expect(rows.length).toBe(3);
    rows.forEach((r, i) => {
      const cells = Array.from(r.querySelectorAll('td')).map((c) => c.textContent);
      const s = inputs[i].analysis.summary;
      expect(cells[1]).toBe(fmtStep(s.t_mem));
      expect(cells[2]).toBe(`${fmtStep(s.t_grok_95)} / ${fmtStep(s.t_grok_99)}`);
      expect(cells[4]).toBe(s.boundaries.map((b) => fmtStep(b.step)).join(', '));
      expect(cells[5]).toBe(inputs[i].analysis.key_frequencies.join(', '));
    });
  });

  it('overlays every measure three ways', () => {
    for (const align of ['step', 't_mem', 't_grok']) {
      for (const m of MEASURES) {
        const fig = doc.querySelector(`#${align}-${m.id}`)!;
        expect(fig.querySelectorAll('g.series path').length, `${align}-${m.id}`).toBe(3);
      }
    }
  });

  it('shifts each run so that its T_mem (or T_grok) is at 0', () => {
    for (const [align, key] of [
      ['t_mem', 't_mem'],
      ['t_grok', 't_grok_95'],
    ] as const) {
      const h = hoverOf(doc, `${align}-test-loss`);
      h.series.forEach((s, i) => {
        const t = inputs[i].analysis.summary[key]!;
        expect(s.x).toEqual(inputs[i].metrics.map((r) => r.step - t));
        expect(s.y).toEqual(inputs[i].metrics.map((r) => roundSig(r.test_loss, 4)));
      });
    }
  });

  it('draws the delay against the norm ratio, one point per run', () => {
    expect(doc.querySelectorAll('#delay-law g.series circle').length).toBe(3);
  });

  it('uses small multiples past the overlay limit, one panel per run', () => {
    const many = runs([1, 0.5, 2, 0.7, 1.5].slice(0, OVERLAY_MAX_RUNS + 1));
    const d = parse(renderCompareReport(many));
    const fig = d.querySelector('#step-test-acc')!;
    expect(fig.querySelectorAll('g.panel').length).toBe(OVERLAY_MAX_RUNS + 1);
    // Each panel: the run in colour over every other run in grey.
    for (const p of Array.from(fig.querySelectorAll('g.panel')))
      expect(p.querySelectorAll('path[stroke="#c8c8c8"]').length).toBe(OVERLAY_MAX_RUNS);
    expect(fig.querySelector('script.hover-data')).toBeNull();
  });

  it('leaves out runs without a measure or without the alignment point, and says so', () => {
    const a = runs([1, 0.5]);
    const b = syntheticRun({
      name: 'no-circuit',
      p: 23,
      checkpoints: 24,
      passes: ['metrics', 'fourier'],
      attention: false,
    });
    b.analysis.summary.t_grok_95 = null;
    const d = parse(renderCompareReport([...a, b]));
    expect(d.querySelectorAll('#step-restricted g.series path').length).toBe(2);
    expect(d.querySelector('#step-restricted figcaption')!.textContent).toContain('no-circuit');
    expect(d.querySelectorAll('#t_grok-test-acc g.series path').length).toBe(2);
    expect(d.querySelector('#t_grok-test-acc figcaption')!.textContent).toMatch(/never reached T_grok\): .*no-circuit/);
  });

  it('escapes hostile run names and config values', () => {
    const hostile = hostileCompareRuns();
    const h = renderCompareReport(hostile);
    const d = parse(h);
    expect(injectionProblems(d, h, [HOSTILE.name, HOSTILE.description, HOSTILE.configValue])).toEqual([]);
    expect(Array.from(d.querySelectorAll('#step-test-acc .legend text')).map((t) => t.textContent)[1]).toContain(
      HOSTILE.configValue,
    );
  });
});
