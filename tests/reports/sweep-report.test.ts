/**
 * The sweep report rendered from the committed synthetic sweep (fixtures/reports/sweep/input.json):
 * chart snapshots, what each figure shows checked against the aggregate, runs that did not grok
 * never dropped, hostile strings escaped, malformed input named.
 */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { newDocument, svgText } from '../../reports/dom.ts';
import { fmtNum, fmtStep } from '../../reports/format.ts';
import { phaseAxes, sweptAxes } from '../../reports/sweep/axes.ts';
import { accuracyFigures, phaseFigure, shortLabels } from '../../reports/sweep/figures.ts';
import { fitFigure, predictorFigure } from '../../reports/sweep/fit-figures.ts';
import { OUTCOME_STYLE } from '../../reports/sweep/outcome.ts';
import { renderSweepReport } from '../../reports/sweep/report.ts';
import { runReportHref } from '../../reports/sweep/tables.ts';
import type { SweepReportInput } from '../../reports/sweep/input.ts';
import { FormatError, UserError } from '../../src/errors.ts';
import type { SweepManifest } from '../../src/sweep/store.ts';
import { injectionProblems } from './escape-check.ts';
import { HOSTILE } from './hostile.ts';
import { matchSnapshot } from './snapshot.ts';
import {
  FAILED_ID,
  HOSTILE_IDS,
  hostileSweepInput,
  loadSweepFixture,
  SWEEP_FIXTURE_DIR,
  UNFINISHED_ID,
  WITH_REPORT_ID,
} from './sweep-fixture.ts';

const input = loadSweepFixture();
const agg = input.aggregate;
const parse = (html: string) => new JSDOM(html).window.document;
const html = renderSweepReport(input);
const doc = parse(html);
const num = (e: Element, a: string) => Number(e.getAttribute(a));

function figures() {
  const d = newDocument();
  const swept = sweptAxes(input.manifest);
  const axes = phaseAxes(swept);
  const fit = (name: string) =>
    fitFigure(
      d,
      agg,
      agg.fits.find((f) => f.name === name)!,
    );
  return {
    'sweep-phase-diagram': () => phaseFigure(d, input.manifest, agg, swept, axes),
    'sweep-fit-tgrok-vs-inv-wd': () => fit('tgrok_vs_inv_wd'),
    'sweep-fit-delay-vs-norm-law': () => fit('delay_vs_norm_law'),
    'sweep-predictor': () => predictorFigure(d, agg),
    'sweep-accuracy': () => accuracyFigures(d, input.manifest, agg, input.runs, axes)[0],
  };
}

describe('sweep chart snapshots', () => {
  for (const [name, render] of Object.entries(figures())) {
    it(name, () => {
      const svg = render().svg;
      expect(svg, `${name} was not drawn`).toBeDefined();
      const text = svgText(svg!);
      const r = matchSnapshot(name, text, SWEEP_FIXTURE_DIR);
      expect(r.ok, r.ok ? '' : r.message).toBe(true);
      expect(svgText((figures() as Record<string, () => { svg?: SVGSVGElement }>)[name]().svg!)).toBe(text); // a fresh document, the same bytes
      const long = [...text.matchAll(/ (?:d|transform|x|y|x1|x2|y1|y2|cx|cy|width|height|points)="([^"]*)"/g)]
        .map((m) => m[1])
        .filter((v) => /\d\.\d{3,}/.test(v));
      expect(long, `${name}: unrounded ${long.slice(0, 3).join(' | ')}`).toEqual([]);
      const ids = [...text.matchAll(/ id="([^"]*)"/g)].map((m) => m[1]);
      expect(new Set(ids).size, `${name}: duplicate ids`).toBe(ids.length);
    });
  }

  it('renders the whole page byte for byte the same twice', () => {
    expect(renderSweepReport(loadSweepFixture())).toBe(html);
  });
});

describe('swept axes', () => {
  it('finds every key that varies, values in order, and picks the two with most values', () => {
    const axes = sweptAxes(input.manifest);
    expect(axes.map((a) => [a.key, a.values])).toEqual([
      ['optimizer.weight_decay', [0.1, 0.5, 1, 2]],
      ['optimizer.lr', [0.001, 0.003]],
      ['optimizer.kind', ['adamw', 'sgd']],
      ['optimizer.momentum', [0, 0.9]],
    ]);
    expect(phaseAxes(axes).map((a) => a.key)).toEqual(['optimizer.weight_decay', 'optimizer.lr']);
    expect(phaseAxes(axes, ['optimizer.kind', 'optimizer.lr']).map((a) => a.key)).toEqual([
      'optimizer.kind',
      'optimizer.lr',
    ]);
    expect(() => phaseAxes(axes, ['optimizer.betas'])).toThrow(UserError);
    expect(() => phaseAxes(axes, ['optimizer.betas'])).toThrow(
      '"optimizer.betas": not a swept key; swept: optimizer.weight_decay, optimizer.lr, optimizer.kind, optimizer.momentum',
    );
  });

  it('takes the seed as an axis only when nothing else varies, and one seed key for all', () => {
    const m = structuredClone(input.manifest) as SweepManifest;
    m.sweep = {
      ...m.sweep,
      grid: { 'model.d_mlp': [64, 128, 256] },
      list: [],
      seeds: { values: [0, 1, 2, 3], keys: ['training.seed', 'split.seed'] },
    };
    m.runs = [64, 128, 256].flatMap((d, i) =>
      [0, 1, 2, 3].map((s) => ({
        id: `d_mlp=${d}_seed=${s}`,
        index: i * 4 + s,
        dir: '',
        settings: { 'model.d_mlp': d, 'training.seed': s, 'split.seed': s },
        seed: s,
        diff: [],
      })),
    );
    const axes = sweptAxes(m);
    expect(axes.map((a) => [a.key, a.seed])).toEqual([
      ['model.d_mlp', false],
      ['training.seed', true],
    ]);
    expect(phaseAxes(axes).map((a) => a.key)).toEqual(['model.d_mlp', 'training.seed']); // the seed has more values, yet comes second
    m.sweep.grid = {};
    m.runs.forEach((r) => delete r.settings['model.d_mlp']);
    expect(phaseAxes(sweptAxes(m)).map((a) => a.key)).toEqual(['training.seed']);
  });

  it('names the swept keys the phase diagram does not show', () => {
    const kinds = doc.querySelectorAll('#phase-diagram figcaption');
    expect(kinds[0].textContent).toContain('optimizer.kind (adamw, sgd); optimizer.momentum (0, 0.9)');
  });
});

describe('phase diagram', () => {
  const fig = doc.querySelector('#phase-diagram')!;
  const squares = Array.from(fig.querySelectorAll('g.run'));

  it('has one square per run, classed by outcome, with the counts of the aggregate', () => {
    expect(squares.length).toBe(agg.runs.length);
    for (const [outcome, n] of Object.entries(agg.counts))
      expect(fig.querySelectorAll(`g.run-${outcome}`).length, outcome).toBe(n);
    expect(agg.counts).toEqual({ grokked: 6, memorised: 1, 'not-memorised': 7, diverged: 0, failed: 1, unfinished: 1 });
  });

  it('colours grokked runs by delay: shortest at the dark end of viridis, longest at the bright end', () => {
    const grokked = agg.runs.filter((r) => r.outcome === 'grokked');
    const fillOf = (id: string) =>
      squares
        .find((s) => s.querySelector('title')!.textContent!.startsWith(`${id}:`))!
        .querySelector('rect')!
        .getAttribute('fill');
    const byDelay = [...grokked].sort((a, b) => a.delay_95! - b.delay_95!);
    expect(fillOf(byDelay[0].id)).toBe('#440154'); // viridis(0)
    expect(fillOf(byDelay.at(-1)!.id)).toBe('#fde725'); // viridis(1)
    // Luminance grows with delay along viridis.
    const lum = (hex: string) =>
      0.2126 * parseInt(hex.slice(1, 3), 16) +
      0.7152 * parseInt(hex.slice(3, 5), 16) +
      0.0722 * parseInt(hex.slice(5, 7), 16);
    const l = byDelay.map((r) => lum(fillOf(r.id)!));
    for (let i = 1; i < l.length; i++) expect(l[i]).toBeGreaterThanOrEqual(l[i - 1]);
  });

  it('puts each run in the cell of its weight decay (column) and learning rate (row)', () => {
    const cells = Array.from(fig.querySelectorAll('g.cells rect'));
    expect(cells.length).toBe(8);
    const xs = [...new Set(cells.map((c) => num(c, 'x')))].sort((a, b) => a - b);
    const ys = [...new Set(cells.map((c) => num(c, 'y')))].sort((a, b) => a - b);
    const w = num(cells[0], 'width');
    const h = num(cells[0], 'height');
    const wds = [0.1, 0.5, 1, 2];
    for (const r of agg.runs) {
      const sq = squares
        .find((s) => s.querySelector('title')!.textContent!.startsWith(`${r.id}:`))!
        .querySelector('rect')!;
      const col = Math.floor((num(sq, 'x') - xs[0]) / w);
      const row = Math.floor((num(sq, 'y') - ys[0]) / h);
      expect(col, r.id).toBe(wds.indexOf(r.weight_decay));
      expect(row, r.id).toBe(r.lr === 0.003 ? 0 : 1); // larger lr on top
    }
    expect(Array.from(fig.querySelectorAll('.axis-x text')).map((t) => t.textContent)).toEqual([
      '0.1',
      '0.5',
      '1',
      '2',
    ]);
    expect(Array.from(fig.querySelectorAll('.axis-y text')).map((t) => t.textContent)).toEqual(['0.001', '0.003']);
  });

  it('marks the runs that did not grok with glyphs readable without colour', () => {
    const glyph = (outcome: string) =>
      Array.from(fig.querySelectorAll(`g.run-${outcome} text`)).map((t) => t.textContent);
    expect(glyph('memorised')).toEqual(['m']);
    expect(glyph('not-memorised')).toEqual(Array(7).fill('×'));
    expect(glyph('failed')).toEqual(['!']);
    expect(glyph('unfinished')).toEqual(['…']);
    expect(glyph('grokked')).toEqual([]);
  });
});

describe('delay-law fits', () => {
  /** OLS in pixel space: an affine change of either axis maps the OLS line onto the OLS line. */
  function olsPx(pts: [number, number][]): (x: number) => number {
    const n = pts.length;
    const mx = pts.reduce((a, p) => a + p[0], 0) / n;
    const my = pts.reduce((a, p) => a + p[1], 0) / n;
    const b = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    return (x) => my + b * (x - mx);
  }

  for (const f of agg.fits) {
    const id = `fit-${f.name.replace(/_/g, '-')}`;
    it(`${f.name}: every run is a point, a ▲ or named with its reason`, () => {
      const fig = doc.querySelector(`#${id}`)!;
      const dots = Array.from(fig.querySelectorAll('g.points circle'));
      expect(dots.length).toBe(f.points.length);
      const caption = fig.querySelector('figcaption')!.textContent!;
      const shown = new Set(
        Array.from(fig.querySelectorAll('g.points title')).map((t) => t.textContent!.split(':')[0]),
      );
      for (const r of agg.runs) {
        const inFit = f.points.some((p) => p.id === r.id);
        expect(inFit || caption.includes(r.id), `${r.id} dropped from ${f.name}`).toBe(true);
        if (inFit) expect(shown.has(r.id)).toBe(true);
      }
      for (const e of f.excluded) expect(caption).toContain(e.reason);
      // ▲ for the runs that finished without grokking, where x exists without T_grok.
      const tri = fig.querySelectorAll('g.censored path').length;
      const finishedWithout = agg.runs.filter((r) => r.outcome === 'memorised' || r.outcome === 'not-memorised').length;
      expect(tri).toBe(f.name === 'delay_vs_norm_law' ? 0 : finishedWithout);
    });

    it(`${f.name}: the line is the least-squares line of the points, with its numbers printed`, () => {
      const fig = doc.querySelector(`#${id}`)!;
      const pts = Array.from(fig.querySelectorAll('g.points circle')).map(
        (c) => [num(c, 'cx'), num(c, 'cy')] as [number, number],
      );
      const line = fig.querySelector('line.fit-line')!;
      const at = olsPx(pts);
      expect(Math.abs(num(line, 'y1') - at(num(line, 'x1')))).toBeLessThan(0.5);
      expect(Math.abs(num(line, 'y2') - at(num(line, 'x2')))).toBeLessThan(0.5);
      const stats = fig.querySelector('text.stats')!.textContent!;
      const fit = f.fit!;
      expect(stats).toBe(
        `slope ${fmtNum(fit.slope)} [95 % CI ${fmtNum(fit.slope_ci!.lo)}, ${fmtNum(fit.slope_ci!.hi)}] · intercept ${fmtNum(fit.intercept)} · R² ${fmtNum(fit.r2)} · r ${fmtNum(fit.pearson_r)} · n ${fit.n}`,
      );
      expect(fig.querySelector('polygon.interval')).not.toBeNull();
    });
  }

  it('lists the fits beside the paper in one table', () => {
    const rows = Array.from(doc.querySelectorAll('table.fits tbody tr')).map((r) =>
      Array.from(r.querySelectorAll('td')).map((c) => c.textContent),
    );
    expect(rows.length).toBe(3);
    const law = agg.fits.find((f) => f.name === 'delay_vs_norm_law')!;
    expect(rows[2].slice(1, 7)).toEqual([
      String(law.fit!.n),
      fmtNum(law.fit!.slope),
      `${fmtNum(law.fit!.slope_ci!.lo)} … ${fmtNum(law.fit!.slope_ci!.hi)} (95 %)`,
      fmtNum(law.fit!.intercept),
      fmtNum(law.fit!.r2),
      fmtNum(law.fit!.pearson_r),
    ]);
    expect(rows[0][0]).toContain('the learning rate varies across these runs');
  });

  it('says why a fit is missing and still shows the runs', () => {
    const a = structuredClone(agg);
    const f = a.fits[0];
    f.fit = null;
    f.note = 'no fit: 1 grokked run(s) with 1 distinct x value(s); a line needs two';
    f.points = f.points.slice(0, 1);
    const fig = fitFigure(newDocument(), a, f);
    expect(fig.svg!.querySelector('line.fit-line')).toBeNull();
    expect(fig.svg!.querySelectorAll('g.points circle').length).toBe(1);
    expect(fig.svg!.querySelector('text.stats')!.textContent).toBe(`no fit: ${f.note}`);
    f.points = [];
    const censoredOnly = fitFigure(newDocument(), a, f);
    expect(censoredOnly.svg!.querySelectorAll('g.censored path').length).toBe(8);
    a.fits[2].points = [];
    a.fits[2].fit = null;
    const none = fitFigure(newDocument(), a, a.fits[2]);
    expect(none.svg).toBeUndefined();
    expect(none.note).toMatch(/^Not drawn: no run has a point here/);
    expect(none.caption!.join(' ')).toContain(FAILED_ID);
  });
});

describe('delay predictor', () => {
  const p = agg.predictor;
  it('plots predicted against actual T_grok around y = x and tabulates each run', () => {
    const fig = doc.querySelector('#predictor-scatter')!;
    expect(fig.querySelectorAll('g.points circle').length).toBe(p.rows.length);
    const id = fig.querySelector('line.identity')!;
    // y = x with equal domains: the diagonal of the plot square in data units.
    const dots = Array.from(fig.querySelectorAll('g.points circle'));
    const x1 = num(id, 'x1'),
      y1 = num(id, 'y1'),
      x2 = num(id, 'x2'),
      y2 = num(id, 'y2');
    p.rows.forEach((r, i) => {
      // Pixel position along each axis, interpolated from the identity line's ends.
      const t = (num(dots[i], 'cx') - x1) / (x2 - x1);
      const u = (num(dots[i], 'cy') - y1) / (y2 - y1);
      expect(u / t).toBeCloseTo(r.predicted_t_grok / r.actual_t_grok, 2);
    });
    expect(fig.querySelector('text.stats')!.textContent).toBe(
      `mean absolute error ${fmtNum(p.mean_abs_pct_error)} % over ${p.rows.length} runs (Truong et al.: 34.6 %)`,
    );
    const rows = Array.from(doc.querySelectorAll('table.predictor tbody tr')).map((r) =>
      Array.from(r.querySelectorAll('td')).map((c) => c.textContent),
    );
    expect(rows.map((r) => r[0])).toEqual(p.rows.map((r) => r.id));
    expect(rows.map((r) => r[4])).toEqual(p.rows.map((r) => `${fmtNum(r.abs_pct_error)} %`));
    for (const e of p.excluded) expect(fig.querySelector('figcaption')!.textContent).toContain(e.id);
  });
});

describe('test accuracy small multiples', () => {
  it('draws every run once, grouped by learning rate, in its outcome colour', () => {
    const figs = Array.from(doc.querySelectorAll('#accuracy figure'));
    expect(figs.map((f) => f.querySelector('h3')!.textContent)).toEqual([
      'Test accuracy per run (optimizer.lr = 0.001)',
      'Test accuracy per run (optimizer.lr = 0.003)',
    ]);
    const panels = figs.flatMap((f) => Array.from(f.querySelectorAll('g.panel')));
    expect(panels.length).toBe(agg.runs.length);
    const titles = panels.map(
      (p) => p.querySelector('text title')?.textContent ?? p.querySelector('text')!.textContent,
    );
    const colours = panels.map(
      (p) => Array.from(p.querySelectorAll('path[stroke-width="1.8"]')).map((x) => x.getAttribute('stroke'))[0],
    );
    for (const r of agg.runs) {
      const i = titles.findIndex(
        (t, k) =>
          t === shortLabels(agg.runs.filter((x) => x.lr === r.lr).map((x) => x.id)).labels.get(r.id) &&
          colours[k] === OUTCOME_STYLE[r.outcome].colour,
      );
      expect(i, r.id).toBeGreaterThanOrEqual(0);
    }
  });

  it('drops the shared parts of ids from panel titles', () => {
    expect(shortLabels(['wd=0.1_lr=0.001_seed=0', 'opt=sgd_wd=0.1_lr=0.001_seed=0', 'wd=2_lr=0.001_seed=0'])).toEqual({
      labels: new Map([
        ['wd=0.1_lr=0.001_seed=0', 'wd=0.1'],
        ['opt=sgd_wd=0.1_lr=0.001_seed=0', 'opt=sgd_wd=0.1'],
        ['wd=2_lr=0.001_seed=0', 'wd=2'],
      ]),
      common: ['lr=0.001', 'seed=0'],
    });
    expect(shortLabels(['a_b']).labels.get('a_b')).toBe('a_b');
  });

  it('lists runs without metrics instead of drawing an empty panel', () => {
    const i = structuredClone(input) as SweepReportInput;
    i.runs.find((r) => r.id === FAILED_ID)!.rows = [];
    const figs = accuracyFigures(newDocument(), i.manifest, i.aggregate, i.runs, phaseAxes(sweptAxes(i.manifest)));
    expect(figs.flatMap((f) => Array.from(f.svg!.querySelectorAll('g.panel'))).length).toBe(agg.runs.length - 1);
    expect(figs[1].caption!.join(' ')).toContain(`No metrics logged: ${FAILED_ID} (run failed (error))`);
  });
});

describe('runs table', () => {
  const rows = Array.from(doc.querySelectorAll('table.runs tbody tr'));

  it('has one row per run with its numbers from the aggregate', () => {
    expect(rows.length).toBe(agg.runs.length);
    rows.forEach((row, i) => {
      const r = agg.runs[i];
      const cells = Array.from(row.querySelectorAll('td')).map((c) => c.textContent);
      expect(cells[0]).toBe(r.id);
      expect(cells.slice(3, 6)).toEqual([
        fmtStep(r.t_mem),
        `${fmtStep(r.t_grok_95)} / ${fmtStep(r.t_grok_99)}`,
        fmtStep(r.delay_95),
      ]);
      expect(cells[9]).toBe(fmtNum(r.c_over_lr_wd));
      expect(cells[10]).toBe(r.key_frequencies?.join(', ') ?? '–');
      expect(cells[2]).toContain(OUTCOME_STYLE[r.outcome].label);
    });
    const unfinished = rows[agg.runs.findIndex((r) => r.id === UNFINISHED_ID)];
    expect(unfinished.textContent).toContain('pending: interrupted at step 100; resumes from there');
    const failed = rows[agg.runs.findIndex((r) => r.id === FAILED_ID)];
    expect(failed.textContent).toContain('RuntimeError: Aborted(OOM) in wasm backend');
  });

  it("shows each run's config diff from the base by short key", () => {
    const cell = (id: string) => rows[agg.runs.findIndex((r) => r.id === id)].querySelectorAll('td')[1];
    expect(
      Array.from(cell(FAILED_ID).querySelectorAll('div')).map((d) => [d.textContent, d.getAttribute('title')]),
    ).toEqual([
      ['kind = sgd', 'optimizer.kind'],
      ['lr = 0.003', 'optimizer.lr'],
      ['weight_decay = 2', 'optimizer.weight_decay'],
      ['momentum = 0.9', 'optimizer.momentum'],
    ]);
    expect(cell(WITH_REPORT_ID).textContent).toBe('same as base');
  });

  it('links runs that have a report, and says so for the others', () => {
    const links = Array.from(doc.querySelectorAll('table.runs a'));
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      `runs/${WITH_REPORT_ID}/report.html`,
      `runs/${WITH_REPORT_ID}/report.html`,
    ]);
    const last = rows.map((r) => r.querySelector('td:last-child')!.textContent);
    expect(last.filter((t) => t === 'no report yet').length).toBe(agg.runs.length - 1);
  });

  it('encodes a run id into one relative path segment', () => {
    expect(runReportHref('wd=0.5_lr=1e-3+x@y')).toBe('runs/wd=0.5_lr=1e-3+x@y/report.html');
    expect(runReportHref('javascript:alert(1)')).toBe('runs/javascript%3Aalert(1)/report.html');
    expect(runReportHref('a/../../b?c#d')).toBe('runs/a%2F..%2F..%2Fb%3Fc%23d/report.html');
  });

  it('counts key frequencies over the analysed runs', () => {
    const bars = Array.from(doc.querySelectorAll('#key-frequencies g.bars text')).map((t) => t.textContent);
    expect(bars).toEqual(
      Object.entries(agg.key_frequency_counts)
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, n]) => String(n)),
    );
  });
});

describe('escaping', () => {
  function check(page: string, texts: string[]): Document {
    const d = parse(page);
    // The only links besides in-page anchors go to a run's report, one encoded path segment deep.
    for (const a of Array.from(d.querySelectorAll('a[href]'))) {
      const href = a.getAttribute('href')!;
      if (href.startsWith('#')) continue;
      expect(href).toMatch(/^runs\/[A-Za-z0-9%=@+._~!*'()-]+\/report\.html$/);
      a.removeAttribute('href'); // checked: injectionProblems allows only in-page and data: URLs
    }
    expect(injectionProblems(d, page, texts)).toEqual([]);
    return d;
  }

  it('shows hostile sweep names, run ids, config values and reasons as text', () => {
    const h = hostileSweepInput();
    const page = renderSweepReport(h, {
      phaseAxes: ['optimizer.kind', 'optimizer.weight_decay'],
      source: HOSTILE.warningFile,
    });
    const d = check(page, [
      HOSTILE.name,
      HOSTILE.description,
      HOSTILE.note,
      HOSTILE.configValue,
      HOSTILE.reason,
      HOSTILE_IDS.linked,
      HOSTILE_IDS.failed,
      HOSTILE.warningFile,
    ]);
    expect(d.querySelector('h1')!.textContent).toBe(`Sweep ${HOSTILE.name}`);
    expect(d.title).toBe(`${HOSTILE.name} · groklens sweep report`);
    expect(parse(page).querySelector('table.runs a')!.getAttribute('href')).toBe(runReportHref(HOSTILE_IDS.linked));
    // In the SVG too: axis labels, tooltips.
    const ticks = Array.from(d.querySelectorAll('#phase-diagram .axis-x text'));
    // A label too long for its cell is shortened, the full text in its tooltip.
    expect(ticks[0].textContent).toBe('adamw');
    expect(ticks[1].firstChild!.textContent).toMatch(/^<script>alert\(6\)<.*…$/);
    expect(ticks[1].querySelector('title')!.textContent).toBe(HOSTILE.configValue);
    expect(Array.from(d.querySelectorAll('#phase-diagram title')).map((t) => t.textContent)).toContain(
      HOSTILE.configValue,
    );
    expect(Array.from(d.querySelectorAll('svg title')).some((t) => t.textContent!.startsWith(HOSTILE_IDS.failed))).toBe(
      true,
    );
  });
});

describe('input checks', () => {
  const broken = (mutate: (i: SweepReportInput) => void) => {
    const i = structuredClone(input) as SweepReportInput;
    mutate(i);
    return () => renderSweepReport(i);
  };

  it('names the file, the key and the value', () => {
    expect(broken((i) => ((i.aggregate as { format: string }).format = 'nope'))).toThrow(FormatError);
    expect(broken((i) => ((i.aggregate as { format: string }).format = 'nope'))).toThrow(
      'aggregate.json: format: expected "groklens-sweep-aggregate", got "nope"',
    );
    expect(broken((i) => (i.runs[2].rows[5].step = 1))).toThrow(
      `runs/${i2id(2)}/metrics.jsonl: row 6: step: expected steps in ascending order (previous 200), got 1`,
    );
    expect(broken((i) => ((i.runs[0].rows[0] as { test_acc: unknown }).test_acc = 'high'))).toThrow(
      /row 1: test_acc: expected a number, got "high"/,
    );
    expect(broken((i) => (i.aggregate.runs[0].id = 'ghost'))).toThrow(
      'aggregate.json: runs[0].id: expected a run of the manifest manifest.json, got "ghost"',
    );
    expect(broken((i) => ((i.manifest as { runs: unknown }).runs = {}))).toThrow(
      'manifest.json: runs: expected an array, got {}',
    );
    const named = structuredClone(input) as SweepReportInput;
    named.files = {
      aggregate: '/s/aggregate.json',
      manifest: '/s/manifest.json',
      metrics: (id) => `/s/runs/${id}/metrics.jsonl`,
    };
    named.runs[0].rows[1].step = -1;
    expect(() => renderSweepReport(named)).toThrow(`/s/runs/${input.runs[0].id}/metrics.jsonl: row 2: step`);
  });
});

function i2id(i: number): string {
  return input.runs[i].id;
}
