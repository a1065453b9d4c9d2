/**
 * The llc and trajectory charts (reports/llc-figures.ts, trajectory-figures.ts) from the committed
 * synthetic fixture plus planted llc and trajectory results: SVG snapshots, the report's sections,
 * and the analysis.json schema accepting (and refusing) the new fields.
 */
import { describe, expect, it } from 'vitest';
import { checkAnalysisValue } from '../../analyses/store.ts';
import { phaseOverlay } from '../../reports/chart/phases.ts';
import { compareSections } from '../../reports/compare-report.ts';
import { newDocument, svgText } from '../../reports/dom.ts';
import { llcFigure, llcTraceFigure } from '../../reports/llc-figures.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import type { RunContext } from '../../reports/run-figures.ts';
import { timelineDomain } from '../../reports/series.ts';
import { trajectoryFigures } from '../../reports/trajectory-figures.ts';
import { loadFixture } from './fixture.ts';
import { matchSnapshot } from './snapshot.ts';
import { withNewPasses } from './new-passes-fixture.ts';

function ctx(input: ReturnType<typeof loadFixture>): RunContext {
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

describe('llc and trajectory charts', () => {
  const input = withNewPasses();
  const figs = trajectoryFigures(ctx(input));
  const charts: [string, SVGSVGElement | undefined][] = [
    ['llc', llcFigure(ctx(input)).svg],
    ['llc-traces', llcTraceFigure(ctx(input), input.analysis.checkpoints[30].step).svg],
    ['trajectory-pc1-pc2', figs[0].svg],
    ['trajectory-pc1-pc3', figs[1].svg],
    ['trajectory-variance', figs[2].svg],
    ['trajectory-dimension', figs[3].svg],
  ];
  it.each(charts)('%s matches its snapshot', (name, svg) => {
    expect(svg).toBeDefined();
    const r = matchSnapshot(name, svgText(svg!));
    if (!r.ok) expect.fail(r.message);
  });

  it('the trace chart names the diverged chain; the λ̂ caption counts it', () => {
    const f = llcTraceFigure(ctx(input), input.analysis.checkpoints[30].step);
    expect(svgText(f.svg!)).toContain('chain 3 (diverged, left out)');
    expect(llcFigure(ctx(input)).caption!.join(' ')).toMatch(/1 checkpoint has diverged chains/);
  });

  it('the run report gets the two sections only when the passes ran', () => {
    const html = renderRunReport(input);
    expect(html).toContain('id="llc"');
    expect(html).toContain('id="trajectory-pc1-pc2"');
    const plain = renderRunReport(loadFixture());
    expect(plain).not.toContain('Local learning coefficient');
    expect(plain).not.toContain('Trajectory through weight space');
  });

  it('compare overlays λ̂ only when a run has it', () => {
    const ids = (ins: ReturnType<typeof loadFixture>[]) =>
      compareSections(newDocument(), ins).flatMap((s) => s.figures.map((f) => f.id));
    expect(ids([input, loadFixture()]).some((id) => id.includes('llc'))).toBe(true);
    expect(ids([loadFixture(), loadFixture()]).some((id) => id.includes('llc'))).toBe(false);
  });

  it('analysis.json with the new fields passes the schema, and a malformed one is refused by key', () => {
    expect(() => checkAnalysisValue(JSON.parse(JSON.stringify(input.analysis)), 'analysis.json')).not.toThrow();
    const bad = JSON.parse(JSON.stringify(input.analysis));
    bad.checkpoints[3].llc.chains[0].status = 'fine';
    expect(() => checkAnalysisValue(bad, 'analysis.json')).toThrow(/analysis\.json.*checkpoints.*llc/);
    const bad2 = JSON.parse(JSON.stringify(input.analysis));
    bad2.trajectory.steps = 'all';
    expect(() => checkAnalysisValue(bad2, 'analysis.json')).toThrow(/trajectory/);
  });
});

describe('report input checks of the new fields', () => {
  it('refuses a trajectory whose coordinates do not match its steps, naming the key', async () => {
    const { checkReportInput } = await import('../../reports/input.ts');
    const input = withNewPasses();
    expect(() => checkReportInput(input)).not.toThrow();
    input.analysis.trajectory!.coords.pop();
    expect(() => checkReportInput(input)).toThrow(/trajectory\.coords/);
    const other = withNewPasses();
    other.analysis.trajectory!.per_tensor['embed.W_E'].window_effective_dim.push(1);
    expect(() => checkReportInput(other)).toThrow(/per_tensor\.embed\.W_E\.window_effective_dim/);
  });
});
