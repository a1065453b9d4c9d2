/**
 * A ready-to-submit Slurm array script for a sweep: task i of n runs `groklens sweep` on shard
 * i/n (read from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT), with as many workers as it has
 * CPUs. Shards write only their own run directories, so any shared file system will do, and a
 * resubmitted array picks up where the last one stopped (finished runs are skipped, interrupted
 * ones resumed).
 */
import { UserError } from '../../src/errors.ts';

export interface SlurmOptions {
  sweepName: string;
  runCount: number;
  /** Array size; default one task per run. */
  shards?: number;
  cpusPerTask: number;
  time?: string; // e.g. "04:00:00"
  partition?: string;
  memPerCpu?: string; // e.g. "2G"
  account?: string;
  /** Absolute paths: where to cd, the node binary, the CLI entry, the sweep file, the sweeps dir. */
  workdir: string;
  node: string;
  bin: string;
  sweepFile: string;
  sweepsDir: string;
  logDir: string;
  backend: string;
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function slurmScript(o: SlurmOptions): string {
  const shards = o.shards ?? o.runCount;
  if (!Number.isInteger(shards) || shards < 1)
    throw new UserError(`--shards: expected a positive integer, got ${o.shards}`);
  if (shards > o.runCount)
    throw new UserError(
      `--shards: ${shards} shards for ${o.runCount} runs would leave ${shards - o.runCount} array task(s) with nothing to do`,
    );
  if (!Number.isInteger(o.cpusPerTask) || o.cpusPerTask < 1)
    throw new UserError(`--cpus-per-task: expected a positive integer, got ${o.cpusPerTask}`);
  const perShard = Math.ceil(o.runCount / shards);
  const sb = (flag: string, v: string | undefined) => (v === undefined ? [] : [`#SBATCH --${flag}=${v}`]);
  return [
    '#!/bin/bash',
    `# groklens sweep "${o.sweepName}": ${o.runCount} runs in ${shards} array task(s), at most ${perShard} run(s) each.`,
    `# Submit with: sbatch THIS_FILE    (resubmit to resume: finished runs are skipped, interrupted ones resumed)`,
    `# Progress:    ${shellQuote(o.node)} ${shellQuote(o.bin)} sweep status ${shellQuote(`${o.sweepsDir}/${o.sweepName}`)}`,
    `#SBATCH --job-name=groklens-${o.sweepName}`,
    `#SBATCH --array=0-${shards - 1}`,
    `#SBATCH --ntasks=1`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask}`,
    ...sb('time', o.time),
    ...sb('partition', o.partition),
    ...sb('mem-per-cpu', o.memPerCpu),
    ...sb('account', o.account),
    `#SBATCH --output=${o.logDir}/%A_%a.out`,
    '',
    'set -euo pipefail',
    `cd ${shellQuote(o.workdir)}`,
    '# The shard comes from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT; one worker per CPU.',
    `exec ${shellQuote(o.node)} ${shellQuote(o.bin)} sweep ${shellQuote(o.sweepFile)} --sweeps-dir ${shellQuote(o.sweepsDir)} \\`,
    `  --jobs "\${SLURM_CPUS_PER_TASK:-${o.cpusPerTask}}" --backend ${shellQuote(o.backend)}`,
    '',
  ].join('\n');
}
