/**
 * `groklens sweep report sweeps/NAME` on a synthetic sweep directory: it still writes aggregate.json
 * and the table, and now also report.html (its path printed), linking the runs that have a report.
 * Also: the committed fixture is what the generator writes today.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { sweepReportCommand } from '../../cli/commands/sweep.ts';
import { FormatError } from '../../src/errors.ts';
import { SWEEP_FIXTURE_FILE, sweepFixtureText, WITH_REPORT_ID, writeSyntheticSweep } from './sweep-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'gl-sweep-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function capture(fn: () => Promise<unknown>): Promise<{ out: string; err: string }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await fn();
    return {
      out: out.mock.calls.map((c) => String(c[0])).join(''),
      err: err.mock.calls.map((c) => String(c[0])).join(''),
    };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('the committed sweep fixture', () => {
  it('is what tests/reports/sweep-fixture.ts generates (rewrite: npx tsx tests/reports/sweep-fixture.ts)', () => {
    expect(sweepFixtureText() === readFileSync(SWEEP_FIXTURE_FILE, 'utf8')).toBe(true);
  });
});

describe('groklens sweep report', () => {
  it('writes aggregate.json, report.html and the table, and prints both paths', async () => {
    const dir = join(root, 'a');
    writeSyntheticSweep(dir);
    const { out } = await capture(() => sweepReportCommand(dir, { resamples: '200' }));
    const html = join(dir, 'report.html');
    expect(out).toMatch(
      /^sweep fixture: 16 runs: 6 grokked, 1 memorised only, 7 never memorised, 0 diverged, 1 failed, 1 unfinished/,
    );
    expect(out).toMatch(
      new RegExp(`\\nwrote ${escapeRe(join(dir, 'aggregate.json'))}\\nwrote ${escapeRe(html)} \\(\\d+ kB\\)\\n$`),
    );
    const doc = new JSDOM(readFileSync(html, 'utf8')).window.document;
    expect(doc.querySelector('h1')!.textContent).toBe('Sweep fixture');
    const agg = JSON.parse(readFileSync(join(dir, 'aggregate.json'), 'utf8'));
    expect(agg.fits[0].fit.slope_ci.resamples).toBe(200);
    // The run with a report.html is linked, relative to the sweep directory; the link resolves.
    const links = Array.from(doc.querySelectorAll('table.runs a')).map((a) => a.getAttribute('href')!);
    expect(links).toEqual([`runs/${WITH_REPORT_ID}/report.html`, `runs/${WITH_REPORT_ID}/report.html`]);
    expect(existsSync(join(dir, decodeURIComponent(links[0])))).toBe(true);
    expect(doc.querySelectorAll('table.runs tbody tr').length).toBe(16);
    expect(doc.querySelector('footer')!.textContent).toContain(`(${dir})`);
  });

  it('links a run once its report exists', async () => {
    const dir = join(root, 'b');
    writeSyntheticSweep(dir, { reports: [] });
    await capture(() => sweepReportCommand(dir, { resamples: '50' }));
    const before = new JSDOM(readFileSync(join(dir, 'report.html'), 'utf8')).window.document;
    expect(before.querySelectorAll('table.runs a').length).toBe(0);
    expect(
      Array.from(before.querySelectorAll('table.runs td.link')).every((td) => td.textContent === 'no report yet'),
    ).toBe(true);
    writeFileSync(join(dir, 'runs', WITH_REPORT_ID, 'report.html'), '<!DOCTYPE html><title>r</title>\n');
    await capture(() => sweepReportCommand(dir, { resamples: '50' }));
    const after = new JSDOM(readFileSync(join(dir, 'report.html'), 'utf8')).window.document;
    expect(after.querySelectorAll('table.runs a').length).toBe(2);
  });

  it('draws the phase diagram over the axes asked for with --phase-axes, and names a bad request', async () => {
    const dir = join(root, 'axes');
    writeSyntheticSweep(dir, { reports: [] });
    await capture(() => sweepReportCommand(dir, { resamples: '50', phaseAxes: 'optimizer.kind,optimizer.lr' }));
    const fig = new JSDOM(readFileSync(join(dir, 'report.html'), 'utf8')).window.document.querySelector(
      '#phase-diagram',
    )!;
    expect(fig.textContent).toContain('optimizer.kind');
    expect(fig.textContent).toContain('optimizer.lr');
    expect(fig.querySelector('svg')!.textContent).not.toContain('optimizer.weight_decay'); // not an axis (the caption says the runs differ in it)
    expect(fig.textContent).toContain('Axes: as asked for with --phase-axes.');
    await expect(sweepReportCommand(dir, { resamples: '50', phaseAxes: 'optimizer.lr' })).rejects.toThrow(
      /--phase-axes: expected two swept keys/,
    );
    await expect(sweepReportCommand(dir, { resamples: '50', phaseAxes: 'optimizer.lr,model.d_model' })).rejects.toThrow(
      /model\.d_model.*not a swept key/,
    );
  });

  it('keeps stdout pure JSON with --json and names the report on stderr', async () => {
    const dir = join(root, 'c');
    writeSyntheticSweep(dir);
    const { out, err } = await capture(() => sweepReportCommand(dir, { resamples: '50', json: true }));
    expect(JSON.parse(out).format).toBe('groklens-sweep-aggregate');
    expect(err).toBe(`wrote ${join(dir, 'report.html')} (${err.match(/\((\d+ kB)\)/)![1]})\n`);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
  });

  it('names a malformed metrics file of a run', async () => {
    const dir = join(root, 'd');
    writeSyntheticSweep(dir);
    const file = join(dir, 'runs', WITH_REPORT_ID, 'metrics.jsonl');
    const rows = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    rows[3].test_acc = 'high';
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await expect(capture(() => sweepReportCommand(dir, { resamples: '50' }))).rejects.toThrow(FormatError);
    await expect(capture(() => sweepReportCommand(dir, { resamples: '50' }))).rejects.toThrow(
      `${file}: line 4: test_acc: "high" is not allowed; expected a number in [0, 1] or null (not finite)`,
    );
  });
});
