/**
 * `groklens compare RUN... -o FILE`: several runs' progress measures in one self-contained HTML
 * file, labelled by what differs between their configs.
 */
import { readFileSync } from 'node:fs';
import { renderCompareReport } from '../../reports/compare-report.ts';
import { UserError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { loadReportInput, sizeText } from './report.ts';

export function writeCompareReport(runDirs: string[], output: string): string {
  if (!runDirs.length) throw new UserError('compare: give at least one run directory');
  const seen = new Set<string>();
  for (const d of runDirs) {
    if (seen.has(d)) throw new UserError(`compare: ${d} is given twice`);
    seen.add(d);
  }
  const html = renderCompareReport(runDirs.map(loadReportInput));
  writeFileAtomic(output, html);
  return output;
}

export async function compareCommand(runDirs: string[], opts: { output?: string }): Promise<void> {
  if (!opts.output) throw new UserError('compare: -o FILE is required (where to write the HTML)');
  const out = writeCompareReport(runDirs, opts.output);
  process.stdout.write(
    `wrote ${out}: ${runDirs.length} run${runDirs.length === 1 ? '' : 's'} (${sizeText(readFileSync(out).length)})\n`,
  );
}
