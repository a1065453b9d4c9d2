/**
 * Time and size of a report over 400 checkpoints (targets: < 10 s, < 5 MB), and of a comparison.
 *
 *   npx tsx bench/report.ts [--checkpoints 400] [--rows 4000] [--p 113] [--runs 4] [--out FILE]
 *
 * Input is the synthetic grokking run of tests/reports/synthetic.ts (all passes, attention for 4
 * heads of p × p, the explorer's grids of tests/reports/synthetic-grids.ts unless --no-grids), generated before the clock starts; the time covers rendering and serialising.
 */
import { writeFileSync } from 'node:fs';
import { renderCompareReport } from '../reports/compare-report.ts';
import { renderRunReport } from '../reports/run-report.ts';
import { syntheticRun } from '../tests/reports/synthetic.ts';
import { withCheckpointGrids } from '../tests/reports/synthetic-grids.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const outIdx = args.indexOf('--out');
const checkpoints = flag('checkpoints', 400);
const rows = flag('rows', 4000);
const p = flag('p', 113);
const nRuns = flag('runs', 4);

// with the explorer's grids (24 checkpoints × 5 neurons and 4 heads of p × p; --no-grids leaves them out)
const base = syntheticRun({ checkpoints, metricsRows: rows, p });
const input = args.includes('--no-grids') ? base : withCheckpointGrids(base);
const t0 = performance.now();
const html = renderRunReport(input);
const seconds = (performance.now() - t0) / 1000;
const mb = Buffer.byteLength(html) / 1e6;
if (outIdx >= 0) writeFileSync(args[outIdx + 1], html);
process.stdout.write(
  `run report: ${checkpoints} checkpoints, ${rows} metrics rows, p ${p}, 4 attention heads${input.analysis.checkpoint_grids ? `, grids at ${input.analysis.checkpoint_grids.checkpoints.length} checkpoints` : ''}\n`,
);
process.stdout.write(
  `  ${seconds.toFixed(2)} s (target < 10 s), ${mb.toFixed(2)} MB (target < 5 MB)  ${seconds < 10 && mb < 5 ? 'OK' : 'OVER TARGET'}\n`,
);

const runs = Array.from({ length: nRuns }, (_, i) =>
  syntheticRun({
    name: `run-${i}`,
    checkpoints,
    metricsRows: rows,
    p,
    weightDecay: [1, 0.5, 2, 0.7, 1.5, 0.3][i % 6],
    timeScale: 1 / [1, 0.5, 2, 0.7, 1.5, 0.3][i % 6],
    seed: i,
    attention: false,
  }),
);
const t1 = performance.now();
const cmp = renderCompareReport(runs);
process.stdout.write(
  `compare: ${nRuns} runs × ${checkpoints} checkpoints: ${((performance.now() - t1) / 1000).toFixed(2)} s, ${(Buffer.byteLength(cmp) / 1e6).toFixed(2)} MB\n`,
);
