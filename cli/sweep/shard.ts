/**
 * Splitting a sweep between processes that share nothing but a file system. Shard i of n takes
 * the runs whose expansion index ≡ i (mod n): a deterministic, balanced share (neighbouring runs,
 * which often differ only by seed, land on different shards), independent of which shards run.
 */
import { UserError } from '../../src/errors.ts';

export interface Shard {
  index: number; // 0-based
  count: number;
}

/** '--shard 1/4' → { index: 1, count: 4 }. */
export function parseShard(text: string, source = '--shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m)
    throw new UserError(
      `${source}: expected i/n such as 0/4 (shard i of n, counting from 0), got ${JSON.stringify(text)}`,
    );
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UserError(`${source}: the shard count must be at least 1, got ${JSON.stringify(text)}`);
  if (index >= count)
    throw new UserError(`${source}: shard index ${index} is out of range for ${count} shard(s): use 0 to ${count - 1}`);
  return { index, count };
}

/**
 * The shard a Slurm array task plays, from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT
 * (offset by SLURM_ARRAY_TASK_MIN, so `--array=1-8` works too); null outside an array job.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv): Shard | null {
  const id = env.SLURM_ARRAY_TASK_ID;
  const count = env.SLURM_ARRAY_TASK_COUNT;
  if (id === undefined || id === '') return null;
  if (count === undefined || count === '') {
    throw new UserError(`SLURM_ARRAY_TASK_ID is ${id} but SLURM_ARRAY_TASK_COUNT is not set; pass --shard i/n instead`);
  }
  const min = env.SLURM_ARRAY_TASK_MIN ? Number(env.SLURM_ARRAY_TASK_MIN) : 0;
  const index = Number(id) - min;
  if (!Number.isInteger(index) || !/^\d+$/.test(count)) {
    throw new UserError(
      `SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_MIN=${env.SLURM_ARRAY_TASK_MIN ?? ''}, SLURM_ARRAY_TASK_COUNT=${count}: not a usable shard`,
    );
  }
  return parseShard(`${index}/${count}`, 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT');
}

export function inShard(index: number, shard: Shard | null): boolean {
  return shard === null || index % shard.count === shard.index;
}
