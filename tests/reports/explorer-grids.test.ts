/**
 * The explorer's grid views in the page (reports/explorer/grids.ts): present only with
 * checkpoint_grids, the page says which checkpoints carry grids and that they are quantised, the
 * static view is the last checkpoint, every checkpoint maps to its nearest grid checkpoint, and a
 * 400-checkpoint report at p = 113 with every view stays within the 5 MB budget.
 */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { gridCodes } from '../../analyses/checkpoint-grids.ts';
import { GRID_IMAGE_BUDGET, nearestIndex, thinToBudget, type ExplorerGridData } from '../../reports/explorer/grids.ts';
import { checkReportInput } from '../../reports/input.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import { FormatError } from '../../src/errors.ts';
import { loadFixture } from './fixture.ts';
import { withNewPasses } from './new-passes-fixture.ts';
import { syntheticRun } from './synthetic.ts';
import { withCheckpointGrids } from './synthetic-grids.ts';

const page = (html: string) => new JSDOM(html).window.document;
const explorerData = (doc: Document) =>
  JSON.parse(doc.querySelector('script.explorer-data')!.textContent!) as {
    steps: number[];
    grids: ExplorerGridData | null;
  };

describe('nearestIndex and thinToBudget', () => {
  it('maps each step to the nearest grid checkpoint', () => {
    expect(nearestIndex([0, 10, 100], [0, 4, 6, 54, 56, 1000])).toEqual([0, 0, 1, 1, 2, 2]);
  });
  it('halves the grid checkpoints (the last kept) until they fit', () => {
    expect(thinToBudget([10, 10, 10, 10, 10], 100)).toEqual([0, 1, 2, 3, 4]);
    const kept = thinToBudget([10, 10, 10, 10, 10, 10, 10, 10], 35);
    expect(kept.at(-1)).toBe(7);
    expect(kept.length * 10).toBeLessThanOrEqual(35);
  });
});

describe('grid views in the run report', () => {
  const input = withCheckpointGrids(loadFixture());
  const g = input.analysis.checkpoint_grids!;
  const doc = page(renderRunReport(input));
  const data = explorerData(doc);

  it('draws the clusters, neuron and attention views for the last checkpoint', () => {
    expect(doc.querySelectorAll('#explorer-neurons image.explorer-grid')).toHaveLength(1);
    expect(doc.querySelectorAll('#explorer-neurons use')).toHaveLength(g.neurons.length);
    expect(doc.querySelectorAll('#explorer-attention use')).toHaveLength(2 * g.heads.length);
    const last = g.checkpoints.at(-1)!;
    const ranges = Array.from(doc.querySelectorAll('text.explorer-grid-range'), (t) => t.textContent);
    expect(ranges).toHaveLength(g.neurons.length);
    expect(ranges[0]).toContain(String(Number(last.neurons[0].hi.toPrecision(3))));
    const total = last.neuron_clusters.reduce((s, c) => s + c.neurons, 0);
    expect(doc.querySelector('output.explorer-cluster-text')!.textContent).toContain(
      `${last.unclustered_neurons} unclustered`,
    );
    expect(total).toBeGreaterThan(0);
    const heights = Array.from(doc.querySelectorAll('rect.explorer-cluster-bar'), (r) =>
      Number(r.getAttribute('height')),
    );
    expect(heights.filter((h) => h > 0)).toHaveLength(last.neuron_clusters.filter((c) => c.neurons > 0).length);
  });

  it('says which checkpoints carry grids and that they are quantised, and snaps each checkpoint to the nearest', () => {
    const text = doc.querySelector('#explorer')!.textContent!;
    expect(text).toContain(`kept for ${g.checkpoints.length} of the ${input.analysis.checkpoints.length} checkpoints`);
    expect(text).toMatch(/quantised to 255 levels/);
    const d = data.grids!;
    expect(d.steps).toEqual(g.checkpoints.map((c) => c.step));
    data.steps.forEach((s, i) => {
      const best = Math.min(...d.steps.map((t) => Math.abs(t - s)));
      expect(Math.abs(d.steps[d.of[i]] - s)).toBe(best);
      expect(d.notes[i]).toMatch(d.steps[d.of[i]] === s ? /^grids of step/ : /the nearest checkpoint with grids/);
    });
    // one image per view per grid checkpoint, the last taken from the page, and all of them differ
    expect(d.images.neurons.at(-1)).toBeNull();
    expect(new Set(d.images.neurons.slice(0, -1)).size).toBe(d.steps.length - 1);
    expect(new Set(d.images.attention.slice(0, -1)).size).toBe(d.steps.length - 1);
  });

  it('leaves the views out without checkpoint_grids', () => {
    const plain = page(renderRunReport(loadFixture()));
    expect(plain.querySelector('#explorer-neurons')).toBeNull();
    expect(plain.querySelector('#explorer-attention')).toBeNull();
    expect(explorerData(plain).grids).toBeNull();
    expect(plain.querySelector('#explorer-embed')).not.toBeNull();
  });

  it('refuses grids whose data do not hold p² codes', () => {
    const bad = structuredClone(input);
    const q = bad.analysis.checkpoint_grids!.checkpoints[1].attention[0].to_b;
    q.data = q.data.slice(0, 40);
    expect(() => checkReportInput(bad)).toThrow(FormatError);
    expect(() => checkReportInput(bad)).toThrow(/checkpoint_grids\.checkpoints\[1\]\.attention\[0\]\.to_b\.data/);
    expect(gridCodes(input.analysis.checkpoint_grids!.checkpoints[1].attention[0].to_b, g.p * g.p)).toHaveLength(
      g.p * g.p,
    );
  });

  it('400 checkpoints at p = 113 with llc, trajectory and grids stay within the 5 MB budget', () => {
    const big = withCheckpointGrids(withNewPasses(syntheticRun({ checkpoints: 400, metricsRows: 4000, p: 113 })));
    const html = renderRunReport(big);
    const bytes = Buffer.byteLength(html);
    expect(bytes).toBeLessThan(5e6);
    const d = explorerData(page(html)).grids!;
    const images = [...d.images.neurons, ...d.images.attention].reduce((s, b) => s + (b?.length ?? 0), 0);
    expect(images).toBeLessThanOrEqual(GRID_IMAGE_BUDGET);
    expect(d.steps.length).toBeGreaterThanOrEqual(12); // thinned at most once
  }, 60_000);
});
