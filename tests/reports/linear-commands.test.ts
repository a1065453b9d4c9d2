/** `groklens linear … --report` and `linearReportCommand`: the files they write, and their errors. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { linearCommand, linearReportCommand, reportPathFor } from '../../cli/commands/linear.ts';
import { FormatError, UserError } from '../../src/errors.ts';

describe('linear report commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'groklens-linear-report-'));
  let write: MockInstance;
  beforeEach(() => {
    write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => write.mockRestore());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const printed = () => write.mock.calls.map((c) => String(c[0])).join('');

  it('--report writes the report beside the JSON, or where it is told', async () => {
    const out = join(dir, 'ridge.json');
    await linearCommand('ridge', { set: ['n=30', 'm=120'], points: '30', out, report: true, quiet: true });
    expect(reportPathFor(out)).toBe(join(dir, 'ridge.html'));
    const doc = new JSDOM(readFileSync(join(dir, 'ridge.html'), 'utf8')).window.document;
    expect(doc.querySelector('section#ridge h2')!.textContent).toContain('Ridge regression');
    expect(doc.querySelector('footer')!.textContent).toContain(out);
    expect(printed()).toContain(`wrote ${join(dir, 'ridge.html')}`);

    const custom = join(dir, 'sub', 'sweep.html');
    await linearCommand('sweep-lambda', {
      set: ['dIn=20'],
      values: '0.4,0.8',
      seeds: '0,1',
      workers: '1',
      out: join(dir, 'sweep.json'),
      report: custom,
      quiet: true,
    });
    expect(existsSync(custom)).toBe(true);
    expect(existsSync(join(dir, 'sweep.html'))).toBe(false);
  });

  it('renders several saved results into one page', async () => {
    const out = await linearReportCommand([join(dir, 'ridge.json'), join(dir, 'sweep.json')], { title: 'Both' });
    expect(out).toBe(join(dir, 'linear-report.html'));
    const doc = new JSDOM(readFileSync(out, 'utf8')).window.document;
    expect(Array.from(doc.querySelectorAll('section')).map((s) => s.id)).toEqual(['ridge', 'sweep-lambda']);
    expect(doc.querySelector('h1')!.textContent).toBe('Both');
  });

  it('names the file that is missing, not JSON, or not a linear result', async () => {
    await expect(linearReportCommand([])).rejects.toThrow(UserError);
    await expect(linearReportCommand([join(dir, 'nope.json')])).rejects.toThrow(/nope\.json: not found/);
    writeFileSync(join(dir, 'broken.json'), '{"kind": ');
    await expect(linearReportCommand([join(dir, 'broken.json')])).rejects.toThrow(FormatError);
    await expect(linearReportCommand([join(dir, 'broken.json')])).rejects.toThrow(/broken\.json: not valid JSON/);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'a run', config: {} }));
    await expect(linearReportCommand([join(dir, 'run.json')])).rejects.toThrow(
      /run\.json: kind: expected "groklens\.linear"/,
    );
    await expect(linearCommand('ridge', { set: [], workers: '0' })).rejects.toThrow(
      /--workers: must be an integer ≥ 1, got 0/,
    );
  });
});
