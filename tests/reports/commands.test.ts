/** `groklens report` and `groklens compare` on run directories written to a temp dir. */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compareCommand, writeCompareReport } from '../../cli/commands/compare.ts';
import { loadReportInput, reportCommand, writeRunReport } from '../../cli/commands/report.ts';
import { FormatError, UserError } from '../../src/errors.ts';
import { FIXTURE_DIR } from './fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'gl-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runDir(name: string, mutate?: (files: { analysis: Record<string, unknown> }) => void): string {
  const dir = join(root, name);
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  if (mutate) {
    const file = join(dir, 'analysis.json');
    const analysis = JSON.parse(readFileSync(file, 'utf8'));
    mutate({ analysis });
    writeFileSync(file, JSON.stringify(analysis));
  }
  return dir;
}

describe('groklens report', () => {
  it('writes runs/NAME/report.html by default and prints its path', async () => {
    const dir = runDir('a');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let printed = '';
    try {
      await reportCommand(dir, {});
      printed = String(out.mock.calls[0]?.[0]);
    } finally {
      out.mockRestore();
    }
    const file = join(dir, 'report.html');
    expect(readFileSync(file, 'utf8').startsWith('<!DOCTYPE html>')).toBe(true);
    expect(printed).toMatch(new RegExp(`^wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ kB\\)`));
  });

  it('writes to -o FILE', () => {
    const dir = runDir('b');
    const target = join(root, 'b.html');
    expect(writeRunReport(dir, target)).toBe(target);
    expect(existsSync(target)).toBe(true);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('reads the optional attention field from analysis.json', () => {
    expect(loadReportInput(runDir('c')).attention?.heads.length).toBe(4);
    const without = loadReportInput(
      runDir('d', ({ analysis }) => {
        delete analysis.attention;
      }),
    );
    expect(without.attention).toBeNull();
  });

  it('asks for `groklens analyze` when analysis.json is missing', () => {
    const dir = runDir('e');
    rmSync(join(dir, 'analysis.json'));
    expect(() => writeRunReport(dir)).toThrow(UserError);
    expect(() => writeRunReport(dir)).toThrow(
      `${join(dir, 'analysis.json')}: not found; run \`groklens analyze ${dir}\` first`,
    );
  });

  it('names the file and key of a malformed analysis.json', () => {
    const dir = runDir('f', ({ analysis }) => {
      (analysis.checkpoints as { step: number }[])[4].step = 1;
    });
    expect(() => writeRunReport(dir)).toThrow(FormatError);
    expect(() => writeRunReport(dir)).toThrow(new RegExp(`${join(dir, 'analysis.json')}: checkpoints\\[4\\]\\.step`));
  });

  it('names the file, the key and the value, whether the reader (analyses/store.ts) or the charts refuse it', () => {
    const cases: [string, (a: Record<string, unknown>) => void, string][] = [
      [
        'g1',
        (a) => ((a.attention as { p: unknown }).p = 0),
        'attention.p: 0 is not allowed; expected a positive integer',
      ],
      [
        'g2',
        (a) => ((a.attention as { heads: { to_b: unknown[] }[] }).heads[2].to_b[7] = 'x'),
        'attention.heads[2].to_b[7]: "x" is not allowed; expected a list of numbers',
      ],
      [
        'g3',
        (a) => (a.attention as { heads: { to_b: unknown[] }[] }).heads[1].to_b.pop(),
        'attention.heads[1].to_b: expected 31 rows (one per a), got "30 rows"',
      ],
    ];
    for (const [name, edit, problem] of cases) {
      const dir = runDir(name, ({ analysis }) => edit(analysis));
      expect(() => writeRunReport(dir), name).toThrow(FormatError);
      expect(() => writeRunReport(dir), name).toThrow(`${join(dir, 'analysis.json')}: ${problem}`);
    }
  });

  it('refuses a directory that is not a run', () => {
    expect(() => writeRunReport(join(root, 'nope'))).toThrow(/not a run directory/);
  });
});

describe('groklens compare', () => {
  it('writes one page for several runs', () => {
    const a = runDir('ca');
    const b = runDir('cb');
    const target = join(root, 'cmp.html');
    writeCompareReport([a, b], target);
    const html = readFileSync(target, 'utf8');
    expect(html).toContain('Comparison of 2 runs');
  });

  it('requires -o and distinct runs', async () => {
    await expect(compareCommand([runDir('cc')], {})).rejects.toThrow('compare: -o FILE is required');
    const d = runDir('cd');
    expect(() => writeCompareReport([d, d], join(root, 'x.html'))).toThrow(`compare: ${d} is given twice`);
    expect(() => writeCompareReport([], join(root, 'x.html'))).toThrow('at least one run directory');
  });
});
