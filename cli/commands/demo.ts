import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import type { BackendName } from '../../src/config/types.ts';
import { writeRunReport } from './report.ts';
import { trainCommand } from './train.ts';

/**
 * `groklens demo`: the embedded 'demo' preset trained into a fresh runs/demo[-N], then analysed
 * (every pass) and reported: the path of the HTML report is the last line it prints.
 */
export async function demoCommand(opts: { runsDir: string; backend: BackendName }): Promise<void> {
  let name = 'demo';
  for (let i = 2; existsSync(join(opts.runsDir, name)); i++) name = `demo-${i}`;
  const run = await trainCommand(undefined, {
    preset: 'demo',
    set: [],
    name,
    runsDir: opts.runsDir,
    backend: opts.backend,
  });
  if (run.state !== 'finished') return; // interrupted: trainCommand said how to resume
  process.stderr.write(`analysing ${run.dir} …\n`);
  const t0 = performance.now();
  const { analysis } = await analyzeRun(run.dir);
  process.stderr.write(
    `analysed ${analysis.checkpoints.length} checkpoints in ${((performance.now() - t0) / 1000).toFixed(1)} s; key frequencies ${analysis.key_frequencies.join(', ')}\n`,
  );
  const out = writeRunReport(run.dir);
  process.stdout.write(`report: ${out}\n`);
}
