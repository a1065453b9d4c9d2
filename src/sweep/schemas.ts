/**
 * What the files of a sweep directory may hold (./store.ts, README "Sweeps"), as zod schemas, and
 * the parts of a run's own files a sweep reads (status, config, analysis). The sweep checks each
 * before using it: a damaged manifest.json is an error naming the file, key and value; a damaged
 * file of one run makes that run failed (status) or leaves its numbers out with a warning
 * (metrics, analysis) — one run never stops `sweep status` or `sweep report`.
 */
import { z } from 'zod';
import { RunStatusSchema } from '../run/schemas.ts';

const text = z.string().describe('a string');
const nonNegInt = z.int().min(0).describe('a non-negative integer');
const record = z.record(z.string(), z.unknown()).describe('an object');

/** A run id names a directory under runs/: no separators, never '.' or '..'. */
export const RUN_ID_RE = /^(?!\.\.?$)[A-Za-z0-9._+=@,-]+$/;

const ManifestRunSchema = z
  .object({
    id: z.string().regex(RUN_ID_RE).describe('a run id (letters, digits, . _ + = @ , -; a directory name under runs/)'),
    index: nonNegInt,
    dir: text,
    settings: record,
    seed: nonNegInt.nullable().describe('a seed (non-negative integer) or null'),
    diff: z
      .array(
        z
          .object({ key: text, from: z.unknown().optional(), to: z.unknown().optional() })
          .describe('an object {key, from, to}'),
      )
      .describe('a list of {key, from, to}'),
  })
  .describe('an object {id, index, dir, settings, seed, diff}');

const SweepSpecSchema = z
  .object({
    name: text,
    description: text.nullable().describe('a string or null'),
    base: z
      .object({
        preset: text.nullable().describe('a preset name or null'),
        file: text.nullable().describe('a file name or null'),
        set: record,
      })
      .describe('an object {preset, file, set}'),
    grid: z.record(z.string(), z.array(z.unknown())).describe('an object of value lists'),
    list: z.array(record).describe('a list of objects'),
    seeds: z
      .object({
        values: z.array(nonNegInt).describe('a list of seeds'),
        keys: z.array(text).describe('a list of config keys'),
      })
      .nullable()
      .describe('an object {values, keys} or null'),
    labels: z.record(z.string(), z.string()).describe('an object of labels'),
  })
  .describe('an object (the expanded sweep file)');

/** manifest.json after its format and version have been checked; base.config is validated as a config. */
export const ManifestSchema = z.object({
  format: z.literal('groklens-sweep').describe('"groklens-sweep"'),
  format_version: z.int().describe('an integer'),
  groklens_version: text,
  name: text,
  sweep: SweepSpecSchema,
  base: z
    .object({ preset: text.nullable().describe('a preset name or null'), config: record })
    .describe('an object {preset, config}'),
  runs: z.array(ManifestRunSchema).describe('a list of runs'),
});

export const SweepAttemptSchema = z.object({
  attempt: z.int().min(1).describe('a positive integer'),
  action: z.enum(['start', 'resume', 'restart']).describe('start, resume or restart'),
  state: z
    .enum(['running', 'finished', 'interrupted', 'failed', 'diverged'])
    .describe('one of running, finished, interrupted, failed, diverged'),
  host: text,
  pid: z.int().min(1).nullable().describe('a process id or null'),
  started_at: text,
  heartbeat_at: text,
  ended_at: text.nullable().describe('a time or null'),
  exit_code: z.int().nullable().describe('an integer or null'),
  signal: text.nullable().describe('a signal name or null'),
  error: text.nullable().describe('a string or null'),
});

/** What a sweep-claim file holds: the process that owns the run. */
export const ClaimSchema = z.object({ host: text, pid: z.int().min(1).describe('a process id') });

/** The part of a run's status.json that a sweep reads. */
export const SweepStatusView = RunStatusSchema.pick({
  state: true,
  step: true,
  final_step: true,
  error: true,
  divergence: true,
});

/** The part of a run's run.json that a sweep reads: its config (compared with the sweep's). */
export const SweepRunJsonView = z.object({
  // loose: the whole config is returned, to be compared with the sweep's
  config: z
    .looseObject({ training: z.looseObject({ steps: z.int().min(1).describe('a positive integer') }).optional() })
    .describe('an object (the resolved config)'),
});
