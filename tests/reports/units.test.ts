/** Formatting, scales, thinning, rasterising, run labels and the snapshot helper. */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeYScale, yTicks } from '../../reports/chart/axes.ts';
import { columnSpans } from '../../reports/chart/heatmaps.ts';
import { thinIndices } from '../../reports/chart/lines.ts';
import { level, rasterIndices } from '../../reports/chart/raster.ts';
import { labelRuns } from '../../reports/compare/labels.ts';
import { fmtNum, fmtStep, pow10Label, roundNumbersIn } from '../../reports/format.ts';
import { Rng } from '../../src/rng.ts';
import { matchSnapshot } from './snapshot.ts';
import { syntheticConfig } from './synthetic.ts';

describe('format', () => {
  it('prints numbers, steps and powers of ten compactly', () => {
    expect([
      fmtNum(0.012345),
      fmtNum(1234.5),
      fmtNum(-2.5e-7),
      fmtNum(3e9),
      fmtNum(NaN),
      fmtNum(null),
      fmtNum(Infinity),
    ]).toEqual(['0.0123', '1230', '−2.5e-7', '3e9', '–', '–', '∞']);
    expect([fmtStep(950), fmtStep(1400), fmtStep(14000), fmtStep(1250000), fmtStep(-2500), fmtStep(null)]).toEqual([
      '950',
      '1.4k',
      '14k',
      '1.25M',
      '−2.5k',
      '–',
    ]);
    expect([pow10Label(-3), pow10Label(0), pow10Label(1), pow10Label(12)]).toEqual(['10⁻³', '1', '10', '10¹²']);
  });
  it('rounds long decimals in attribute strings and nothing else', () => {
    expect(roundNumbersIn('M0.123456,10L2.5,3.33333 translate(12.005,0.1)')).toBe(
      'M0.12,10L2.5,3.33 translate(12.01,0.1)',
    );
    expect(roundNumbersIn('M-0.0001,5')).toBe('M0,5');
  });
});

describe('axes', () => {
  it('log scales span whole decades and tick every decade, every other past seven', () => {
    const y = makeYScale({ scale: 'log', label: '' }, [3e-4, 42], 100);
    expect(y.domain()).toEqual([1e-4, 100]);
    const t = yTicks(y, { scale: 'log', label: '' });
    expect(t.values.map((v) => Math.round(Math.log10(v)))).toEqual([-4, -3, -2, -1, 0, 1, 2]);
    expect(t.format(1e-3)).toBe('10⁻³');
    const wide = makeYScale({ scale: 'log', label: '' }, [3e-6, 42], 100);
    expect(yTicks(wide, { scale: 'log', label: '' }).values.map((v) => Math.round(Math.log10(v)))).toEqual([
      -6, -4, -2, 0, 2,
    ]);
  });
  it('a log scale with no positive data still gets a valid domain', () => {
    const y = makeYScale({ scale: 'log', label: '' }, null, 100);
    expect(y.domain()[0]).toBeGreaterThan(0);
    expect(y.domain()[1]).toBeGreaterThan(y.domain()[0]);
  });
});

describe('thinIndices', () => {
  it("keeps every column's first, last, lowest and highest point, and at most four per column", () => {
    const rng = new Rng(11);
    const n = 5000;
    const px = Float64Array.from({ length: n }, (_, i) => (i / n) * 100); // 50 points per pixel column
    const y = Float64Array.from({ length: n }, () => rng.normal());
    y[1234] = NaN; // a gap must survive
    const keep = thinIndices(px, y, 100);
    expect(keep.length).toBeLessThanOrEqual(100 * 5);
    expect(keep).toEqual([...keep].sort((a, b) => a - b));
    expect(keep).toContain(1234);
    for (let c = 0; c < 100; c++) {
      const idx = Array.from({ length: n }, (_, i) => i).filter((i) => Math.floor(px[i]) === c);
      const finite = idx.filter((i) => Number.isFinite(y[i]));
      const lo = finite.reduce((a, b) => (y[b] < y[a] ? b : a));
      const hi = finite.reduce((a, b) => (y[b] > y[a] ? b : a));
      for (const i of [idx[0], idx[idx.length - 1], lo, hi]) expect(keep).toContain(i);
    }
  });
  it('leaves short series alone', () => {
    expect(thinIndices([0, 1, 2], [1, 2, 3], 100)).toEqual([0, 1, 2]);
  });
});

describe('raster', () => {
  it('maps values to 255 levels and gaps to the transparent index', () => {
    expect([
      level(0, 0, 1),
      level(1, 0, 1),
      level(0.5, 0, 1),
      level(-3, 0, 1),
      level(7, 0, 1),
      level(NaN, 0, 1),
    ]).toEqual([0, 254, 127, 0, 254, 255]);
  });
  it('each image column takes the data column whose span holds its centre (uneven spans)', () => {
    const steps = [0, 1, 3, 10, 50, 100];
    const spans = columnSpans(steps, [0, 100]);
    // Halfway to each neighbour, clipped to the domain.
    expect(spans.start).toEqual([0, 0.5, 2, 6.5, 30, 75]);
    expect(spans.end).toEqual([0.5, 2, 6.5, 30, 75, 100]);
    const values = [steps.map((_, j) => j / 5)]; // one row, level j·51
    const idx = rasterIndices({ values, colStart: spans.start, colEnd: spans.end, imgWidth: 100, domain: [0, 1] });
    for (let c = 0; c < 100; c++) {
      const j = spans.start.findIndex((s, k) => s <= c + 0.5 && c + 0.5 < spans.end[k]);
      expect(idx[c], `pixel ${c}`).toBe(level(values[0][j], 0, 1));
    }
  });
});

describe('labelRuns', () => {
  const base = syntheticConfig(113, 1e-3, 1, 3000);
  it('labels by the keys that differ, shortened where unambiguous', () => {
    const b = structuredClone(base);
    b.optimizer.weight_decay = 0.5;
    const c = structuredClone(base);
    c.training.seed = 3;
    const l = labelRuns([
      { name: 'a', config: base },
      { name: 'b', config: b },
      { name: 'c', config: c },
    ]);
    expect(l.keys).toEqual(['optimizer.weight_decay', 'training.seed']);
    expect(l.labels).toEqual(['weight_decay=1, seed=0', 'weight_decay=0.5, seed=0', 'weight_decay=1, seed=3']);
  });
  it('keeps the dotted path when two differing keys end the same', () => {
    const b = structuredClone(base);
    b.training.seed = 1;
    b.split.seed = 2;
    const l = labelRuns([
      { name: 'a', config: base },
      { name: 'b', config: b },
    ]);
    expect(l.labels).toEqual(['split.seed=0, training.seed=0', 'split.seed=2, training.seed=1']);
  });
  it('falls back to run names when the configs are identical, and disambiguates repeats', () => {
    expect(
      labelRuns([
        { name: 'x', config: base },
        { name: 'y', config: structuredClone(base) },
      ]).labels,
    ).toEqual(['x', 'y']);
    const b = structuredClone(base);
    b.optimizer.lr = 0.01;
    const l = labelRuns([
      { name: 'p', config: base },
      { name: 'q', config: b },
      { name: 'r', config: structuredClone(base) },
    ]);
    expect(l.labels).toEqual(['p: lr=0.001', 'q: lr=0.01', 'r: lr=0.001']);
  });
  it('marks keys a run does not have (a model kind switch)', () => {
    const b = structuredClone(base);
    b.model = { kind: 'mlp', d_embed: 32, hidden: [64], act: 'relu', init_scale: 1 };
    const l = labelRuns([
      { name: 'a', config: base },
      { name: 'b', config: b },
    ]);
    expect(l.values[0][l.keys.indexOf('model.d_embed')]).toBe('(absent)');
    expect(l.values[1][l.keys.indexOf('model.kind')]).toBe('mlp');
  });
});

describe('matchSnapshot', () => {
  it('writes NAME-changed.svg beside a mismatching snapshot and removes it once it matches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-snap-'));
    expect(matchSnapshot('x', '<svg>1</svg>', dir).ok).toBe(false); // created, not passed silently
    expect(matchSnapshot('x', '<svg>1</svg>', dir).ok).toBe(true);
    const r = matchSnapshot('x', '<svg>2</svg>', dir);
    expect(r.ok).toBe(false);
    expect(readFileSync(join(dir, 'x-changed.svg'), 'utf8')).toBe('<svg>2</svg>');
    expect(readFileSync(join(dir, 'x.svg'), 'utf8')).toBe('<svg>1</svg>');
    expect(matchSnapshot('x', '<svg>1</svg>', dir).ok).toBe(true);
    expect(existsSync(join(dir, 'x-changed.svg'))).toBe(false);
  });
});
