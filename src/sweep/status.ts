/**
 * A sweep run's status, derived from its directory alone: the run's own status.json (written by
 * the training process) and the sweep's sweep-attempt.json (written by the worker that launched
 * it). Nothing here writes.
 *
 *   done     status.json says finished
 *   failed   the training process reported an error (status.json failed, or the worker exited
 *            non-zero without being killed); the reason is its error
 *   running  a live worker holds it: same host and its pid is alive, or (another host) its
 *            heartbeat is recent
 *   pending  not started, interrupted (Ctrl-C, SIGTERM, SIGKILL, a dead host): resumes from its
 *            last checkpoint
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../config/types.ts';
import { FormatError } from '../errors.ts';
import { checkJson, readJsonFile } from '../io/json-file.ts';
import type { z } from 'zod';
import { SweepRunJsonView, SweepStatusView } from './schemas.ts';
import { readAttempt, runDir, type SweepAttempt } from './store.ts';

export type SweepRunState = 'done' | 'running' | 'failed' | 'diverged' | 'pending';

/** What a worker would do with the run: nothing, train it from scratch, or continue it. */
export type NextAction = 'none' | 'start' | 'resume' | 'restart';

export interface RunState {
  id: string;
  state: SweepRunState;
  reason: string;
  step: number | null; // last step on disk
  total: number | null; // the step budget
  /** For pending runs (and failed ones, if retried): how to continue. */
  action: NextAction;
  attempts: number;
  /** The run's config on disk, when it has one (to check it still matches the sweep). */
  config: RunConfig | null;
}

/** A heartbeat older than this means the worker is gone (its host died, or it was SIGKILLed). */
export const STALE_AFTER_MS = 3 * 60_000;

export interface Environment {
  host: string;
  now: number; // ms since the epoch
  alive: (pid: number) => boolean;
}

export const localEnvironment = (): Environment => ({ host: hostname(), now: Date.now(), alive: pidAlive });

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run file checked against the part of it a sweep reads; null when absent, a FormatError's message when damaged. */
function readChecked<S extends z.ZodType>(
  file: string,
  schema: S,
): { value: z.output<S> | null; problem: string | null } {
  if (!existsSync(file)) return { value: null, problem: null };
  try {
    return { value: checkJson(schema, readJsonFile(file), file), problem: null };
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return { value: null, problem: e.message };
  }
}

/** Is the worker of this attempt still at work? */
export function workerAlive(a: SweepAttempt, env: Environment): boolean {
  if (a.state !== 'running') return false;
  if (a.host === env.host) return a.pid !== null && env.alive(a.pid);
  return env.now - Date.parse(a.heartbeat_at) < STALE_AFTER_MS;
}

export function runState(sweepDir: string, id: string, env: Environment): RunState {
  const dir = runDir(sweepDir, id);
  const statusFile = readChecked(join(dir, 'status.json'), SweepStatusView);
  const metaFile = readChecked(join(dir, 'run.json'), SweepRunJsonView);
  const status = statusFile.value;
  const meta = metaFile.value;
  const attempt = readAttempt(dir);
  const config = (meta?.config as RunConfig | undefined) ?? null;
  const total = config?.training?.steps ?? null;
  const step = status?.step ?? null;
  const attempts = attempt?.attempt ?? 0;
  const base = { id, step, total, attempts, config };
  // A run.json without a resume point (killed within its first moments) cannot be resumed.
  const continueAction: NextAction =
    meta === null ? 'start' : existsSync(join(dir, 'resume.safetensors')) ? 'resume' : 'restart';
  // A damaged run.json or status.json: the run cannot be judged; it is failed, naming the file. A
  // retry resumes it, which fails the same way until the file is repaired: never a restart, which
  // would delete the run's checkpoints.
  const damaged = metaFile.problem ?? statusFile.problem;
  if (damaged) return { ...base, state: 'failed', reason: damaged, action: 'resume' };

  if (status?.state === 'finished')
    return { ...base, state: 'done', reason: `finished at step ${status.final_step ?? status.step}`, action: 'none' };
  // An outcome, not an error: retrying would replay the same updates.
  if (status?.state === 'diverged')
    return {
      ...base,
      state: 'diverged',
      reason: `diverged at step ${status.divergence?.step ?? status.step}${status.divergence ? ` (${status.divergence.what} not finite)` : ''}`,
      action: 'none',
    };
  if (attempt && workerAlive(attempt, env)) {
    const where = attempt.host === env.host ? `pid ${attempt.pid}` : `host ${attempt.host}, pid ${attempt.pid}`;
    return {
      ...base,
      state: 'running',
      reason: `${attempt.action === 'resume' ? 'resumed' : 'started'} ${attempt.started_at} (${where})`,
      action: 'none',
    };
  }
  if (status?.state === 'failed')
    return {
      ...base,
      state: 'failed',
      reason: firstLine(status.error ?? attempt?.error ?? 'failed'),
      action: continueAction,
    };
  if (attempt?.state === 'failed') {
    return {
      ...base,
      state: 'failed',
      reason: firstLine(attempt.error ?? `exit code ${attempt.exit_code}`),
      action: continueAction,
    };
  }
  if (status === null && attempt === null) return { ...base, state: 'pending', reason: 'not started', action: 'start' };
  if (status?.state === 'interrupted')
    return {
      ...base,
      state: 'pending',
      reason: `interrupted at step ${status.step}; resumes from there`,
      action: continueAction,
    };
  // status 'running' (or no status yet) with no live worker: the process died without saying so.
  const how = attempt?.signal
    ? `worker killed by ${attempt.signal}`
    : attempt?.state === 'running'
      ? 'worker gone'
      : 'stopped';
  const from =
    continueAction === 'resume' ? `resumes from its last checkpoint (step ${status?.step ?? 0})` : 'starts over';
  return { ...base, state: 'pending', reason: `${how} at step ${step ?? 0}; ${from}`, action: continueAction };
}

/** The most telling line of an error: the last line that says 'groklens:' or 'Error', else the last. */
function firstLine(error: string): string {
  const lines = error
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const telling = [...lines].reverse().find((l) => /^groklens:|Error\b/.test(l));
  return telling ?? lines.at(-1) ?? error;
}

export interface SweepCounts {
  done: number;
  running: number;
  failed: number;
  diverged: number;
  pending: number;
}

export function countStates(states: readonly { state: SweepRunState }[]): SweepCounts {
  const c: SweepCounts = { done: 0, running: 0, failed: 0, diverged: 0, pending: 0 };
  for (const s of states) c[s.state]++;
  return c;
}
