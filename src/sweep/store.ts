/**
 * The sweep directory (documented in the README, "Sweeps"):
 *
 *   sweeps/NAME/manifest.json           the expanded sweep: resolved spec, base config, every run's id,
 *                                       settings and config diff from the base. No status in it, and no
 *                                       time stamp: every process that expands the same sweep file
 *                                       writes the same bytes, so shards can all write it.
 *   sweeps/NAME/runs/ID/                an ordinary run directory (src/run/store.ts), plus three files
 *                                       only the sweep process that owns the run writes:
 *     sweep-config.json                 the run's resolved config, handed to `groklens train`
 *     sweep-attempt.json                the latest attempt: host, pid, heartbeat, outcome, error tail
 *     train.log                         stdout and stderr of every attempt, appended
 *     sweep-claim                       exists while a sweep process owns the run (created exclusively)
 *   sweeps/NAME/aggregate.json          written by `groklens sweep report`
 *
 * A run's status is always derived from its own directory (./status.ts), never stored in a file
 * two processes share.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { validateConfig, type ConfigChange } from '../config/load.ts';
import type { RunConfig } from '../config/types.ts';
import { FormatError, UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { checkJson, preview, readJsonFile } from '../io/json-file.ts';
import { PACKAGE_VERSION } from '../version.ts';
import type { ExpandedSweep } from './expand.ts';
import type { SweepSpec } from './file.ts';
import { ClaimSchema, ManifestSchema, SweepAttemptSchema } from './schemas.ts';

export const SWEEP_FORMAT_VERSION = 1;

export interface ManifestRun {
  id: string;
  index: number;
  dir: string; // relative to the sweep directory: runs/ID
  settings: Record<string, unknown>;
  seed: number | null;
  diff: ConfigChange[];
}

export interface SweepManifest {
  format: 'groklens-sweep';
  format_version: number;
  groklens_version: string;
  name: string;
  sweep: SweepSpec;
  base: { preset: string | null; config: RunConfig };
  runs: ManifestRun[];
}

/** How a sweep worker's attempt at a run went; written by the process that launched it. */
export interface SweepAttempt {
  attempt: number; // 1 for the first, counting every launch
  action: 'start' | 'resume' | 'restart';
  state: 'running' | 'finished' | 'interrupted' | 'failed' | 'diverged';
  host: string;
  pid: number | null; // the worker (child) process
  started_at: string;
  heartbeat_at: string; // refreshed while the worker lives
  ended_at: string | null;
  exit_code: number | null;
  signal: string | null;
  error: string | null; // the last lines of the worker's stderr when it failed
}

export const runDir = (sweepDir: string, id: string): string => join(sweepDir, 'runs', id);
export const manifestPath = (sweepDir: string): string => join(sweepDir, 'manifest.json');

export function buildManifest(x: ExpandedSweep): SweepManifest {
  return {
    format: 'groklens-sweep',
    format_version: SWEEP_FORMAT_VERSION,
    groklens_version: PACKAGE_VERSION,
    name: x.spec.name,
    sweep: x.spec,
    base: { preset: x.preset, config: x.baseConfig },
    runs: x.runs.map((r) => ({
      id: r.id,
      index: r.index,
      dir: `runs/${r.id}`,
      settings: r.settings,
      seed: r.seed,
      diff: r.diff,
    })),
  };
}

/**
 * Write the manifest unless an identical one is there. A different one is replaced only if every
 * run id they share has the same settings: ids that now mean another config would mix two
 * experiments in one directory.
 */
export function writeManifest(sweepDir: string, manifest: SweepManifest): void {
  const file = manifestPath(sweepDir);
  const text = JSON.stringify(manifest, null, 2) + '\n';
  if (existsSync(file)) {
    const old = readFileSync(file, 'utf8');
    if (old === text) return;
    let prev: SweepManifest | null = null;
    try {
      prev = JSON.parse(old) as SweepManifest;
    } catch {
      // an unreadable manifest is simply replaced: the run directories carry the truth
    }
    for (const r of prev?.runs ?? []) {
      const now = manifest.runs.find((m) => m.id === r.id);
      if (now && JSON.stringify(now.diff) !== JSON.stringify(r.diff)) {
        throw new UserError(
          `${file}: run ${r.id} already exists with other settings (${diffText(r.diff)} before, ${diffText(now.diff)} now); ` +
            `the sweep file changed under the same name: give the sweep a new name, or delete ${sweepDir}`,
        );
      }
    }
  }
  mkdirSync(join(sweepDir, 'runs'), { recursive: true });
  writeFileAtomic(file, text);
}

const diffText = (d: ConfigChange[]) =>
  d.length ? d.map((c) => `${c.key}=${JSON.stringify(c.to)}`).join(', ') : 'the base config';

export function readManifest(sweepDir: string): SweepManifest {
  const file = manifestPath(sweepDir);
  if (!existsSync(file))
    throw new UserError(`${sweepDir}: not a sweep directory (no manifest.json); run 'groklens sweep SWEEP.json' first`);
  const raw = readJsonFile(file);
  const top = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  if (top.format !== 'groklens-sweep')
    throw new FormatError(file, `format: expected "groklens-sweep", got ${preview(raw === top ? top.format : raw)}`);
  if (top.format_version !== SWEEP_FORMAT_VERSION) {
    const v = top.format_version;
    const newer =
      typeof v === 'number' && Number.isInteger(v) && v > SWEEP_FORMAT_VERSION
        ? ' (written by a newer groklens: upgrade groklens to read it)'
        : '';
    throw new FormatError(
      file,
      `format_version: this groklens reads version ${SWEEP_FORMAT_VERSION}, the file is version ${preview(v)}${newer}`,
    );
  }
  const m = checkJson(ManifestSchema, raw, file) as unknown as SweepManifest;
  const ids = new Map<string, number>();
  m.runs.forEach((r, i) => {
    const first = ids.get(r.id);
    if (first !== undefined)
      throw new FormatError(
        file,
        `runs[${i}].id: ${preview(r.id)} is not allowed; runs[${first}] has the same id (each run has its own directory)`,
      );
    ids.set(r.id, i);
  });
  m.base.config = validateConfig(m.base.config, `${file}: base.config`);
  return m;
}

export function readAttempt(dir: string): SweepAttempt | null {
  const file = join(dir, 'sweep-attempt.json');
  if (!existsSync(file)) return null;
  try {
    return checkJson(SweepAttemptSchema, readJsonFile(file), file) as SweepAttempt;
  } catch (e) {
    if (e instanceof FormatError) return null; // written atomically, so this is someone else's file (or a hand edit): ignore it
    throw e;
  }
}

export function writeAttempt(dir: string, a: SweepAttempt): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'sweep-attempt.json'), JSON.stringify(a, null, 2) + '\n');
}

export function writeRunConfig(dir: string, preset: string | null, config: RunConfig): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'sweep-config.json');
  writeFileAtomic(file, JSON.stringify(preset ? { preset, ...config } : config, null, 2) + '\n');
  return file;
}

/** Remove what a training process wrote, keeping the sweep's own files: a clean slate for a restart. */
export function clearRunFiles(dir: string): void {
  for (const f of ['run.json', 'status.json', 'split.json', 'metrics.jsonl', 'resume.safetensors', 'checkpoints']) {
    rmSync(join(dir, f), { recursive: true, force: true });
  }
}

/**
 * Claim a run for this process: create runs/ID/sweep-claim exclusively (O_EXCL), so that two sweep
 * processes given overlapping shares never train the same run at once. A claim left by a process
 * that is gone — same host and its pid is dead, or (another host) not refreshed for `staleMs` —
 * is taken over. Returns false if a live process holds it.
 */
export function claimRun(
  dir: string,
  me: { host: string; pid: number },
  isStale: (holder: { host: string; pid: number }, ageMs: number) => boolean,
): boolean {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'sweep-claim');
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(me) + '\n');
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: { host: string; pid: number } | null = null;
    let age = 0;
    try {
      age = Date.now() - statSync(file).mtimeMs;
      const parsed = ClaimSchema.safeParse(readJsonFile(file));
      holder = parsed.success ? parsed.data : null;
    } catch (e) {
      if (!existsSync(file)) continue; // released just now: try again
      if (!(e instanceof FormatError)) throw e;
    }
    // A claim that is not {host, pid} was torn by a crash between its creation and its write (or
    // edited by hand): stale once it is older than a live writer could take to finish it.
    if (holder === null ? age < UNREADABLE_CLAIM_GRACE_MS : !isStale(holder, age)) return false;
    rmSync(file, { force: true });
  }
  return false;
}

/** How long a sweep-claim that holds no {host, pid} is respected before it is taken over. */
export const UNREADABLE_CLAIM_GRACE_MS = 10_000;

/** Keep a claim fresh (other hosts judge it by its modification time). */
export function touchClaim(dir: string): void {
  const now = new Date();
  try {
    utimesSync(join(dir, 'sweep-claim'), now, now);
  } catch {
    // gone: nothing to refresh
  }
}

export function releaseClaim(dir: string): void {
  try {
    unlinkSync(join(dir, 'sweep-claim'));
  } catch {
    // already gone
  }
}
