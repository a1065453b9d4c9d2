/**
 * The explorer's per-checkpoint grids (analyses/checkpoint-grids.ts): which checkpoints carry them,
 * the uint8 quantisation and its error bound, the neurons followed, the optional analysis.json
 * field (old files without it still load), and the grids `analyze` writes on a real tiny run.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointGridsEntry,
  dequantiseGrid,
  GRID_CHECKPOINTS,
  GRID_GAP,
  gridCodes,
  gridToJson,
  quantiseGrid,
  selectGridSteps,
  strongestNeurons,
} from '../../analyses/checkpoint-grids.ts';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { checkAnalysisValue, readAnalysis } from '../../analyses/store.ts';
import { FormatError } from '../../src/errors.ts';
import { Rng } from '../../src/rng.ts';
import { trainTinyGrok } from '../helpers/tiny-grok.ts';
import { withCheckpointGrids } from '../reports/synthetic-grids.ts';
import { loadFixture } from '../reports/fixture.ts';

const FIXTURE = join(import.meta.dirname, '../../fixtures/reports/synthetic/analysis.json');

describe('selectGridSteps', () => {
  const steps = [
    0,
    ...Array.from({ length: 20 }, (_, i) => 2 ** i).filter((s) => s < 100),
    ...Array.from({ length: 399 }, (_, i) => 100 * (i + 1)),
  ];
  it('keeps every checkpoint when there are few', () => {
    expect(selectGridSteps([0, 5, 10], {}, 24)).toEqual([0, 5, 10]);
  });
  it('picks `count` checkpoints: the first, the last, both sides of each mark, log-spaced in between', () => {
    const marks = { t_mem: 1250, t_grok_95: 30_050, boundaries: [2000, 35_000] };
    const got = selectGridSteps(steps, marks);
    expect(got).toHaveLength(GRID_CHECKPOINTS);
    expect(got).toEqual([...new Set(got)].sort((a, b) => a - b));
    for (const s of got) expect(steps).toContain(s);
    expect(got[0]).toBe(0);
    expect(got.at(-1)).toBe(steps.at(-1));
    for (const s of [1200, 1300, 1400, 30_000, 30_100, 30_200, 1900, 2000, 2100, 34_900, 35_000, 35_100])
      expect(got).toContain(s);
    // log-spaced: far more of them in the first tenth of the run than a uniform spread would give
    expect(got.filter((s) => s < 4000).length).toBeGreaterThan(GRID_CHECKPOINTS / 3);
  });
  it('a mark past the last checkpoint is the last; unknown marks are ignored', () => {
    const got = selectGridSteps(steps, { t_mem: null, t_grok_95: 10 ** 9 }, 10);
    expect(got).toHaveLength(10);
    expect(got.slice(-2)).toEqual(steps.slice(-2));
  });
});

describe('quantiseGrid', () => {
  it('round-trips within (hi − lo)/508 of every value, with lo ≤ min and hi ≥ max stored exactly at 7 digits', () => {
    const rng = Rng.derive(3, 'q');
    for (const scale of [1e-3, 1, 37.5, 1e4]) {
      const v = Float64Array.from({ length: 2000 }, () => scale * (rng.normal() + 0.3));
      const q = quantiseGrid(v);
      expect(q.lo).toBeLessThanOrEqual(Math.min(...v));
      expect(q.hi).toBeGreaterThanOrEqual(Math.max(...v));
      expect(Number(q.lo.toPrecision(7))).toBe(q.lo);
      expect(Number(q.hi.toPrecision(7))).toBe(q.hi);
      const back = dequantiseGrid(q.lo, q.hi, q.codes);
      const bound = (q.hi - q.lo) / 508;
      let worst = 0;
      for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(back[i] - v[i]));
      expect(worst).toBeLessThanOrEqual(bound * (1 + 1e-9));
      expect(worst).toBeGreaterThan(bound / 4); // the bound is close to what happens, not loose
      expect(Math.max(...q.codes)).toBe(254);
      expect(Math.min(...q.codes)).toBe(0);
    }
  });
  it('marks non-finite cells as gaps, clamps to a given range, and keeps a constant grid constant', () => {
    const q = quantiseGrid([0.25, NaN, 1.5, -0.2, Infinity], [0, 1]);
    expect(Array.from(q.codes)).toEqual([64, GRID_GAP, 254, 0, GRID_GAP]);
    expect(
      Array.from(dequantiseGrid(q.lo, q.hi, q.codes)).map((x) => (Number.isNaN(x) ? 'gap' : Number(x.toFixed(4)))),
    ).toEqual([0.252, 'gap', 1, 0, 'gap']);
    const c = quantiseGrid([2, 2, 2]);
    expect(Array.from(dequantiseGrid(c.lo, c.hi, c.codes))).toEqual([2, 2, 2]);
  });
  it('stores the codes as base64 of p² bytes and refuses the wrong count', () => {
    const q = quantiseGrid(Float64Array.from({ length: 49 }, (_, i) => i));
    const j = gridToJson(q);
    expect(Array.from(gridCodes(j, 49))).toEqual(Array.from(q.codes));
    expect(() => gridCodes(j, 50)).toThrow(RangeError);
  });
});

describe('strongestNeurons and checkpointGridsEntry', () => {
  it('follows, per key frequency, the neuron with the most variance in it', () => {
    const rows = 100;
    const d = 4;
    const acts = new Float64Array(rows * d);
    const rng = Rng.derive(1, 'n');
    for (let r = 0; r < rows; r++) {
      acts[r * d] = 1 * rng.normal(); // k 3, small
      acts[r * d + 1] = 5 * rng.normal(); // k 3, strong
      acts[r * d + 2] = 2 * rng.normal(); // k 7
      acts[r * d + 3] = 9 * rng.normal(); // k 5, not a key
    }
    const nf = { frequency: [3, 3, 7, 5], explained: [0.9, 0.9, 0.95, 0.99] };
    expect(strongestNeurons(acts, d, nf, [3, 7])).toEqual([
      { neuron: 1, frequency: 3, explained: 0.9 },
      { neuron: 2, frequency: 7, explained: 0.95 },
    ]);
    expect(strongestNeurons(acts, d, nf, [3, 7], 1).map((x) => x.neuron)).toEqual([1]);
  });
  it('lays each grid out [a][b] by the operands, with gaps where no example is', () => {
    const p = 3;
    const operands = { a: [0, 0, 1, 2], b: [1, 2, 0, 2] }; // 4 of the 9 pairs
    const neurons = [10, 20, 30, 40]; // width 1
    const attention = new Float64Array(4 * 1 * 3);
    for (let e = 0; e < 4; e++) ((attention[e * 3] = 0.1 * e), (attention[e * 3 + 1] = 0.5));
    const entry = checkpointGridsEntry({
      step: 7,
      p,
      operands,
      n: 4,
      neurons,
      width: 1,
      follow: [{ neuron: 0 }],
      attention,
      heads: 1,
      clusters: { clusters: [], unclustered: 1 },
    });
    const n = dequantiseGrid(entry.neurons[0].lo, entry.neurons[0].hi, gridCodes(entry.neurons[0], 9));
    expect(Array.from(n).map((x) => (Number.isNaN(x) ? null : Math.round(x)))).toEqual([
      null,
      10,
      20,
      30,
      null,
      null,
      null,
      null,
      40,
    ]);
    const to_a = dequantiseGrid(0, 1, gridCodes(entry.attention[0].to_a, 9));
    expect(to_a[2 * 3 + 2]).toBeCloseTo(0.3, 2);
    expect(entry.attention[0].to_a.lo).toBe(0);
    expect(entry.attention[0].to_a.hi).toBe(1);
  });
});

describe('analysis.json checkpoint_grids', () => {
  it('an analysis.json without the field still loads (and has none)', () => {
    const old = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    expect(old.checkpoint_grids).toBeUndefined();
    const a = checkAnalysisValue(old, FIXTURE);
    expect(a.checkpoint_grids).toBeUndefined();
    expect(a.checkpoints.length).toBe(old.checkpoints.length);
  });
  it('a file with the field keeps it through the schema; a malformed one is one FormatError naming the key', () => {
    const withGrids = withCheckpointGrids(loadFixture()).analysis;
    const back = checkAnalysisValue(JSON.parse(JSON.stringify(withGrids)), 'analysis.json');
    expect(back.checkpoint_grids).toEqual(withGrids.checkpoint_grids);
    const bad = JSON.parse(JSON.stringify(withGrids));
    bad.checkpoint_grids.checkpoints[2].neurons[0].data = 'not base64!';
    expect(() => checkAnalysisValue(bad, 'analysis.json')).toThrow(FormatError);
    expect(() => checkAnalysisValue(bad, 'analysis.json')).toThrow(
      /checkpoint_grids\.checkpoints\.2\.neurons\.0\.data|checkpoint_grids/,
    );
  });
});

describe('analyze writes checkpoint_grids', () => {
  let dir = '';
  beforeAll(async () => {
    dir = (await trainTinyGrok('grids')).dir;
  }, 120_000);
  afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

  it('at the selected checkpoints, for the key frequencies, and keeps them on a second call', async () => {
    const { analysis: a } = await analyzeRun(dir, { passes: ['metrics', 'fourier'] });
    const g = a.checkpoint_grids!;
    expect(g).toBeDefined();
    const steps = a.checkpoints.map((c) => c.step);
    const s = a.summary;
    expect(g.checkpoints.map((c) => c.step)).toEqual(
      selectGridSteps(steps, {
        t_mem: s.t_mem,
        t_grok_95: s.t_grok_95,
        t_grok_99: s.t_grok_99,
        boundaries: s.boundaries.map((b) => b.step),
      }),
    );
    expect(g.checkpoints.at(-1)!.step).toBe(steps.at(-1));
    expect(g.neurons.length).toBeGreaterThan(0);
    for (const n of g.neurons) expect(a.key_frequencies).toContain(n.frequency);
    expect(g.heads).toEqual([]); // an MLP: no attention
    const last = g.checkpoints.at(-1)!;
    expect(last.neuron_clusters).toEqual(a.neuron_clusters); // the same rule on the same checkpoint
    for (const c of g.checkpoints) {
      expect(c.neurons).toHaveLength(g.neurons.length);
      for (const q of c.neurons) expect(gridCodes(q, g.p * g.p)).toHaveLength(g.p * g.p);
    }
    // the followed neuron of the last checkpoint has a wide range, the grids differ over training
    expect(new Set(g.checkpoints.map((c) => c.neurons[0].data)).size).toBeGreaterThan(1);
    const written = readAnalysis(dir)!.checkpoint_grids!; // as stored: 7 digits
    expect(written.checkpoints.map((c) => c.neurons.map((q) => q.data))).toEqual(
      g.checkpoints.map((c) => c.neurons.map((q) => q.data)),
    );
    const again = await analyzeRun(dir, { passes: ['metrics', 'fourier'] });
    expect(again.analysis.checkpoint_grids).toEqual(written); // kept, not recomputed
  }, 120_000);
});
