/**
 * The sbatch script is checked by running it: bash executes it with a stand-in for `node` that
 * records its arguments, under the variables Slurm sets for an array task.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { slurmScript, type SlurmOptions } from '../../cli/sweep/slurm.ts';

const dir = mkdtempSync(join(tmpdir(), 'groklens sweep slurm-')); // a space, to test quoting
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fakeNode = join(dir, 'node');
writeFileSync(fakeNode, `#!/bin/bash\nprintf '%s\\n' "$@" > "$(dirname "$0")/args.txt"\n`);
chmodSync(fakeNode, 0o755);

const opts: SlurmOptions = {
  sweepName: 'wd',
  runCount: 30,
  cpusPerTask: 4,
  time: '02:00:00',
  partition: 'cpu',
  workdir: dir,
  node: fakeNode,
  bin: '/opt/groklens/bin/groklens.js',
  sweepFile: join(dir, 'wd sweep.json'),
  sweepsDir: join(dir, 'sweeps'),
  logDir: join(dir, 'sweeps', 'wd', 'slurm'),
  backend: 'wasm',
  shards: 8,
};

describe('slurmScript', () => {
  it('declares an array with one task per shard and the resources asked for', () => {
    const s = slurmScript(opts);
    const directives = s.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --job-name=groklens-wd',
      '#SBATCH --array=0-7',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --time=02:00:00',
      '#SBATCH --partition=cpu',
      `#SBATCH --output=${join(dir, 'sweeps', 'wd', 'slurm')}/%A_%a.out`,
    ]);
    expect(slurmScript({ ...opts, shards: undefined })).toContain('#SBATCH --array=0-29');
  });

  it("runs the sweep with the task's CPUs as workers, the shard left to the Slurm variables", () => {
    const script = join(dir, 'job.sh');
    writeFileSync(script, slurmScript(opts));
    const r = spawnSync('bash', [script], {
      env: { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '8', SLURM_CPUS_PER_TASK: '4' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'args.txt'), 'utf8').trim().split('\n')).toEqual([
      '/opt/groklens/bin/groklens.js',
      'sweep',
      join(dir, 'wd sweep.json'),
      '--sweeps-dir',
      join(dir, 'sweeps'),
      '--jobs',
      '4',
      '--backend',
      'wasm',
    ]);
  });

  it('refuses more shards than runs', () => {
    expect(() => slurmScript({ ...opts, shards: 31 })).toThrow(/31 shards for 30 runs would leave 1 array task/);
  });
});
