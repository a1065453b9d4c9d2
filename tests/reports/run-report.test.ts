/** The single-run report as a document: content, shared timeline geometry, missing passes, escaping, validation. */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import type { LinesHover } from '../../reports/chart/lines.ts';
import { fmtStep, roundSig } from '../../reports/format.ts';
import { checkReportInput } from '../../reports/input.ts';
import { renderRunReport } from '../../reports/run-report.ts';
import { FormatError } from '../../src/errors.ts';
import { injectionProblems } from './escape-check.ts';
import { loadFixture } from './fixture.ts';
import { HOSTILE, hostileRun } from './hostile.ts';
import { syntheticRun } from './synthetic.ts';

const parse = (html: string) => new JSDOM(html).window.document;
const hoverOf = (doc: Document, id: string) => JSON.parse(doc.querySelector(`#${id} script.hover-data`)!.textContent!);

describe('run report', () => {
  const input = loadFixture();
  const html = renderRunReport(input);
  const doc = parse(html);

  it('is one self-contained document with every section', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(Array.from(doc.querySelectorAll('section')).map((s) => s.id)).toEqual([
      'run',
      'timeline',
      'explorer',
      'training',
      'circuit',
      'norms',
      'fourier',
      'attention',
    ]);
    expect(injectionProblems(doc, html, [])).toEqual([]);
    // Every figure of a complete analysis is drawn: timeline + 12 charts + 4 attention heads + the explorer's Fourier norms.
    expect(doc.querySelectorAll('figure svg.chart').length).toBe(18);
    expect(doc.querySelectorAll('figure .note').length).toBe(0);
    // No URL at all except the SVG namespace name (an identifier, never fetched).
    expect(html.replaceAll('http://www.w3.org/2000/svg', '').match(/https?:\/\/\S{0,40}/g)).toBeNull();
  });

  it('shows the key numbers of the summary', () => {
    const s = input.analysis.summary;
    const keys = Array.from(doc.querySelectorAll('.key')).map((k) => k.textContent);
    expect(keys.find((k) => k!.startsWith('T_mem'))).toContain(fmtStep(s.t_mem));
    expect(keys.find((k) => k!.startsWith('T_grok'))).toContain(fmtStep(s.t_grok_95));
    expect(keys.find((k) => k!.startsWith('key frequencies'))).toContain(input.analysis.key_frequencies.join(', '));
    expect(doc.querySelector('table.run')!.textContent).toContain('adamw, lr 0.001, weight decay 1');
  });

  it('draws phase bands and boundaries at their steps on the shared x scale of every timeline chart', () => {
    const steps = [...input.analysis.checkpoints.map((c) => c.step), ...input.metrics.map((r) => r.step)];
    const d0 = Math.min(0, ...steps);
    const d1 = Math.max(...steps);
    const innerW = 720 - 64 - 36;
    const px = (s: number) => (innerW * (s - d0)) / (d1 - d0);
    const charts = [
      'loss',
      'accuracy',
      'circuit',
      'per-key',
      'norm',
      'distance',
      'sparsity',
      'non-fourier',
      'fourier-heatmap',
    ];
    for (const id of charts) {
      const svg = doc.querySelector(`#${id} svg`)!;
      for (const ph of input.analysis.summary.phases) {
        const rect = svg.querySelector(`g.phase-${ph.name} rect`)!;
        expect(Number(rect.getAttribute('x')), `${id} ${ph.name}`).toBeCloseTo(px(ph.start), 1);
        expect(Number(rect.getAttribute('width')), `${id} ${ph.name}`).toBeCloseTo(px(ph.end ?? d1) - px(ph.start), 1);
      }
      const lines = Array.from(svg.querySelectorAll('g.boundary line'));
      expect(lines.map((l) => Number(l.getAttribute('x1')))).toEqual(
        input.analysis.summary.boundaries.map((b) => Math.round(px(b.step) * 100) / 100),
      );
      // The reason is in the boundary's tooltip and in the caption.
      input.analysis.summary.boundaries.forEach((b, i) => {
        expect(svg.querySelectorAll('g.boundary title')[i].textContent).toContain(b.reason);
        expect(doc.querySelector(`#${id} ul.boundaries`)!.textContent).toContain(b.reason);
      });
    }
  });

  it('puts the plotted values in the hover data: the metrics rows and the contraction fit', () => {
    const loss = hoverOf(doc, 'loss') as LinesHover;
    expect(loss.series[0].x).toEqual(input.metrics.map((r) => r.step));
    expect(loss.series[0].y).toEqual(input.metrics.map((r) => roundSig(r.train_loss, 4)));
    const norm = hoverOf(doc, 'norm') as LinesHover;
    const f = input.analysis.summary.contraction!;
    const fit = norm.series[1];
    expect(fit.x[0]).toBe(f.from);
    expect(fit.x[fit.x.length - 1]).toBe(f.to);
    const tMem = input.analysis.summary.t_mem!;
    fit.x.forEach((t, i) =>
      expect(fit.y[i]).toBeCloseTo(Number((f.v_mem_fit * Math.exp(-f.c * (t - tMem))).toPrecision(4)), 6),
    );
  });

  it('draws each attention head as two p × p images', () => {
    const heads = doc.querySelectorAll('#attention figure');
    expect(heads.length).toBe(input.attention!.heads.length);
    for (const h of Array.from(heads)) expect(h.querySelectorAll('g.cells image').length).toBe(2);
    const grid = hoverOf(doc, 'attention-0');
    expect(grid.panels[0].values[3][5]).toBe(roundSig(input.attention!.heads[0].to_a[3][5], 2));
  });

  it('renders identically twice', () => {
    expect(renderRunReport(input)).toBe(html);
  });
});

describe('missing passes', () => {
  it('replaces each chart whose pass did not run with a note naming the pass', () => {
    const run = syntheticRun({ p: 23, checkpoints: 20, passes: ['metrics'], attention: false });
    const doc = parse(renderRunReport(run));
    const noteOf = (id: string) => doc.querySelector(`#${id} .note`)?.textContent ?? '';
    for (const [id, pass] of [
      ['circuit', 'circuit'],
      ['per-key', 'circuit'],
      ['sparsity', 'fourier'],
      ['non-fourier', 'fourier'],
      ['fourier-heatmap', 'fourier'],
      ['final-embed', 'fourier'],
      ['final-logit', 'fourier'],
      ['clusters', 'fourier'],
    ]) {
      expect(doc.querySelector(`#${id} svg`), id).toBeNull();
      expect(noteOf(id), id).toContain(`'${pass}'`);
    }
    expect(noteOf('distance')).toMatch(/'ntk' and 'norms' passes were not run/);
    expect(noteOf('attention')).toContain('no attention patterns');
    // Drawn from metrics.jsonl even without the passes.
    for (const id of ['loss', 'accuracy', 'norm']) expect(doc.querySelector(`#${id} svg`), id).not.toBeNull();
    expect(doc.querySelector('#norm figcaption')!.textContent).toContain('No contraction fit');
  });

  it('falls back to the metrics pass when metrics.jsonl is empty, and says when neither exists', () => {
    const run = syntheticRun({ p: 23, checkpoints: 20, attention: false });
    const doc = parse(renderRunReport({ ...run, metrics: [] }));
    expect(doc.querySelector('#loss figcaption')!.textContent).toContain('the metrics pass');
    const bare = syntheticRun({ p: 23, checkpoints: 20, passes: ['fourier'], attention: false });
    const doc2 = parse(renderRunReport({ ...bare, metrics: [] }));
    expect(doc2.querySelector('#loss .note')!.textContent).toContain('no loss values');
  });

  it('says an MLP has no attention', () => {
    const run = syntheticRun({ p: 23, checkpoints: 20, attention: false });
    run.meta.config.model = { kind: 'mlp', d_embed: 32, hidden: [64], act: 'relu', init_scale: 1 };
    expect(parse(renderRunReport(run)).querySelector('#attention .note')!.textContent).toContain(
      'a mlp has no attention',
    );
  });
});

describe('escaping', () => {
  it('renders hostile run names, descriptions, reasons, notes and warnings as text', () => {
    const html = renderRunReport(hostileRun());
    const doc = parse(html);
    expect(
      injectionProblems(
        doc,
        html,
        Object.values(HOSTILE).filter((v) => v !== HOSTILE.configValue),
      ),
    ).toEqual([]);
    expect(doc.querySelector('h1')!.textContent).toBe(HOSTILE.name);
    expect(doc.title).toContain(HOSTILE.name);
    expect(html).not.toContain(HOSTILE.name);
    expect(html).not.toContain('<img');
  });
});

describe('input validation', () => {
  const bad = (mutate: (r: ReturnType<typeof syntheticRun>) => void) => {
    const r = syntheticRun({ p: 23, checkpoints: 10, attention: true });
    r.files = { analysis: 'runs/x/analysis.json', metrics: 'runs/x/metrics.jsonl' };
    mutate(r);
    return () => checkReportInput(r);
  };
  // Types, ascending steps and the key-frequency range are the readers' (analyses/store.ts,
  // src/run/store.ts; tests/analyses/analysis-file.test.ts): here only what the charts pair up.
  it('names the file, the key and the value of arrays whose lengths do not match', () => {
    expect(
      bad((r) => {
        r.analysis.checkpoints[2].fourier!.embed_norms.pop();
      }),
    ).toThrow(FormatError);
    expect(
      bad((r) => {
        r.analysis.checkpoints[2].fourier!.embed_norms.pop();
      }),
    ).toThrow('runs/x/analysis.json: checkpoints[2].fourier.embed_norms: expected 12 numbers, got "11 numbers"');
    expect(
      bad((r) => {
        r.attention!.heads[1].to_b.pop();
      }),
    ).toThrow('runs/x/analysis.json: attention.heads[1].to_b: expected 23 rows (one per a), got "22 rows"');
    expect(
      bad((r) => {
        r.attention!.heads[0].to_a[4].pop();
      }),
    ).toThrow('runs/x/analysis.json: attention.heads[0].to_a[4]: expected 23 numbers, got "22 numbers"');
    expect(
      bad((r) => {
        r.analysis.checkpoints[1].circuit!.excluded_loss_per_key.push(1);
      }),
    ).toThrow(/excluded_loss_per_key: expected 5 numbers/);
  });
  it('accepts null (NaN in JSON) as a gap', () => {
    expect(
      bad((r) => {
        (r.analysis.checkpoints[2].fourier!.embed_norms as (number | null)[])[3] = null;
      }),
    ).not.toThrow();
  });
});

describe('the escaping check itself', () => {
  it('catches a name inserted as HTML instead of text', () => {
    const html = renderRunReport(hostileRun());
    const escaped = '<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>';
    expect(html).toContain(escaped);
    const broken = html.replace(escaped, `<h1>${HOSTILE.name}${HOSTILE.description}</h1>`);
    const problems = injectionProblems(parse(broken), broken, [HOSTILE.name + HOSTILE.description]);
    expect(problems.some((p) => p.startsWith('foreign script'))).toBe(true);
    expect(problems.some((p) => p.includes('onerror'))).toBe(true);
    expect(problems).toContain('injected <img>');
    expect(problems).toContain(`text not shown: ${HOSTILE.name + HOSTILE.description}`);
  });
});

describe('degenerate inputs', () => {
  it('an analysis with no checkpoints and no phases yet renders notes, not broken charts', () => {
    const run = syntheticRun({ p: 23, checkpoints: 10, attention: false });
    run.analysis.checkpoints = [];
    run.analysis.summary = {
      t_mem: null,
      t_grok_95: null,
      t_grok_99: null,
      delay_95: null,
      delay_99: null,
      phases: [],
      boundaries: [],
      contraction: null,
      notes: ['no checkpoint analysed yet'],
    };
    const doc = parse(renderRunReport({ ...run, metrics: [] }));
    expect(doc.querySelector('#timeline figcaption')!.textContent).toContain(
      'no phase boundaries: no checkpoint analysed yet',
    );
    expect(doc.querySelectorAll('figure svg.chart').length).toBe(1); // the empty timeline only
    expect(doc.querySelectorAll('figure .note').length).toBeGreaterThan(8);
  });

  it('gaps (null, NaN in JSON) break the lines instead of drawing zeros', () => {
    const run = syntheticRun({ p: 23, checkpoints: 12, metricsRows: 12, attention: false });
    (run.metrics[5] as { train_loss: number | null }).train_loss = null;
    const doc = parse(renderRunReport(run));
    const d = doc.querySelector('#loss g.series path')!.getAttribute('d')!;
    expect(d.match(/M/g)!.length).toBe(2); // two pieces around the gap
    expect((hoverOf(doc, 'loss') as LinesHover).series[0].y[5]).toBeNull();
  });

  it('a task without a cyclic group (S5) still draws the frequency charts from the array lengths', () => {
    const run = syntheticRun({ p: 23, checkpoints: 12, attention: false });
    run.analysis.group = { kind: 'none', n: 0, description: 'S5' };
    const doc = parse(renderRunReport(run));
    expect(doc.querySelector('#fourier-heatmap svg')).not.toBeNull();
    expect(doc.querySelectorAll('#final-embed g.bars rect').length).toBe(12);
  });
});
