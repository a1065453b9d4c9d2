/**
 * Local execution of a sweep (or one shard of it): a pool of `jobs` worker processes, each
 * running one run through the CLI (`node bin/groklens.js train …`), so a run that crashes — an
 * exception, a wasm abort, the OOM killer — takes only itself down.
 *
 * Each worker gets its own process group (detached): a signal for the sweep reaches the workers
 * once, through stop(), which asks each of them to save a checkpoint and exit, as Ctrl-C does for
 * `groklens train`. The outcome of every attempt is written to the run's sweep-attempt.json, and
 * its output appended to the run's train.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName } from '../../src/config/types.ts';
import { configDiff } from '../../src/config/load.ts';
import { UserError } from '../../src/errors.ts';
import { EXIT_DIVERGED } from '../../src/run/divergence.ts';
import type { ExpandedSweep, SweepRun } from '../../src/sweep/expand.ts';
import { inShard, type Shard } from './shard.ts';
import {
  localEnvironment,
  runState,
  STALE_AFTER_MS,
  type Environment,
  type NextAction,
  type RunState,
} from '../../src/sweep/status.ts';
import {
  buildManifest,
  claimRun,
  clearRunFiles,
  readAttempt,
  releaseClaim,
  runDir,
  touchClaim,
  writeAttempt,
  writeManifest,
  writeRunConfig,
  type SweepAttempt,
} from '../../src/sweep/store.ts';

/** Signals after which a run is interrupted (resumable), not failed. */
const INTERRUPT_SIGNALS = new Set(['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGHUP']);
const ERROR_TAIL_BYTES = 4000;
const HEARTBEAT_MS = 30_000;

export interface RunnerOptions {
  sweepDir: string;
  expanded: ExpandedSweep;
  jobs: number;
  shard: Shard | null;
  backend: BackendName;
  retryFailed: boolean;
  /** The CLI entry point the workers run (bin/groklens.js). */
  bin: string;
  onEvent?: (e: SweepEvent) => void;
  environment?: () => Environment;
}

export type SweepEvent =
  | { kind: 'plan'; share: RunState[]; todo: { id: string; action: NextAction }[] }
  | { kind: 'start'; id: string; action: NextAction; attempt: number }
  | { kind: 'end'; id: string; outcome: 'finished' | 'interrupted' | 'failed' | 'diverged'; error: string | null };

export interface SweepOutcome {
  finished: string[];
  /** Runs whose loss went non-finite: an outcome of the experiment, never retried as a failure. */
  diverged: string[];
  interrupted: string[];
  failed: { id: string; error: string }[];
  /** Runs of this share not launched: done before, running elsewhere, failed before (no retry), or stopped. */
  skipped: { id: string; reason: string }[];
  stopped: boolean;
}

export interface SweepExecution {
  done: Promise<SweepOutcome>;
  /** Ask every worker to checkpoint and exit; start nothing new. A second call is passed on too. */
  stop(signal?: NodeJS.Signals): void;
  /** Runs being trained right now, oldest first. */
  active(): string[];
}

/** Plan this share of the sweep: which runs to launch, and how. Throws if a run on disk no longer matches. */
export function planShare(
  opts: Pick<RunnerOptions, 'sweepDir' | 'expanded' | 'shard' | 'retryFailed'>,
  env: Environment,
) {
  const share = opts.expanded.runs.filter((r) => inShard(r.index, opts.shard));
  const states = share.map((r) => runState(opts.sweepDir, r.id, env));
  const conflicts = share.flatMap((r, i) => {
    const onDisk = states[i].config;
    if (onDisk === null) return [];
    const d = configDiff(r.config, onDisk);
    return d.length
      ? [
          `${r.id} (${d
            .slice(0, 3)
            .map((c) => `${c.key}: sweep ${JSON.stringify(c.from)}, on disk ${JSON.stringify(c.to)}`)
            .join('; ')})`,
        ]
      : [];
  });
  if (conflicts.length) {
    throw new UserError(
      `${opts.sweepDir}: ${conflicts.length} run director${conflicts.length === 1 ? 'y holds' : 'ies hold'} a different config than the sweep file gives: ` +
        `${conflicts.join(', ')}; give the sweep a new name, or delete those runs`,
    );
  }
  const todo: { run: SweepRun; action: NextAction }[] = [];
  const skipped: { id: string; reason: string }[] = [];
  share.forEach((run, i) => {
    const s = states[i];
    if (s.state === 'pending' || (s.state === 'failed' && opts.retryFailed)) todo.push({ run, action: s.action });
    else
      skipped.push({
        id: run.id,
        reason:
          s.state === 'failed'
            ? `failed before (${s.reason}); --retry-failed runs it again`
            : `${s.state}: ${s.reason}`,
      });
  });
  return { share, states, todo, skipped };
}

export function runSweep(opts: RunnerOptions): SweepExecution {
  const env = opts.environment ?? localEnvironment;
  writeManifest(opts.sweepDir, buildManifest(opts.expanded));
  const plan = planShare(opts, env());
  opts.onEvent?.({
    kind: 'plan',
    share: plan.states,
    todo: plan.todo.map((t) => ({ id: t.run.id, action: t.action })),
  });

  const queue = [...plan.todo];
  const active = new Map<string, { child: ChildProcess; attempt: SweepAttempt }>();
  const outcome: SweepOutcome = {
    finished: [],
    diverged: [],
    interrupted: [],
    failed: [],
    skipped: [...plan.skipped],
    stopped: false,
  };
  const killAll = () => {
    for (const { child } of active.values()) child.kill('SIGTERM');
  };
  process.on('exit', killAll); // never leave orphans behind if this process dies of a bug
  const heartbeat = setInterval(() => {
    const at = new Date().toISOString();
    for (const [id, a] of active) {
      a.attempt.heartbeat_at = at;
      writeAttempt(runDir(opts.sweepDir, id), a.attempt);
      touchClaim(runDir(opts.sweepDir, id));
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let finish!: (o: SweepOutcome) => void;
  const done = new Promise<SweepOutcome>((res) => (finish = res));

  const me = { host: env().host, pid: process.pid };
  const isStale = (holder: { host: string; pid: number }, ageMs: number) => {
    const e = env();
    return holder.host === e.host ? !e.alive(holder.pid) : ageMs > STALE_AFTER_MS;
  };

  /**
   * Launch a run unless, since the plan was made, another process has claimed or finished it.
   * Returns false if it was skipped.
   */
  const launch = ({ run }: { run: SweepRun }): boolean => {
    const dir = runDir(opts.sweepDir, run.id);
    if (!claimRun(dir, me, isStale)) {
      outcome.skipped.push({ id: run.id, reason: 'claimed by another sweep process' });
      return false;
    }
    // Re-read the state now that we hold the claim: the plan may be hours old.
    const now = runState(opts.sweepDir, run.id, env());
    if (!(now.state === 'pending' || (now.state === 'failed' && opts.retryFailed))) {
      releaseClaim(dir);
      outcome.skipped.push({ id: run.id, reason: `${now.state}: ${now.reason}` });
      return false;
    }
    const action = now.action;
    if (action === 'restart') clearRunFiles(dir);
    const args =
      action === 'resume'
        ? ['train', '--resume', dir]
        : [
            'train',
            writeRunConfig(dir, opts.expanded.preset, run.config),
            '--runs-dir',
            join(opts.sweepDir, 'runs'),
            '--name',
            run.id,
          ];
    const child = spawn(process.execPath, [resolve(opts.bin), ...args, '--quiet', '--backend', opts.backend], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prev = readAttempt(dir);
    const started = new Date().toISOString();
    const attempt: SweepAttempt = {
      attempt: (prev?.attempt ?? 0) + 1,
      action: action as SweepAttempt['action'],
      state: 'running',
      host: env().host,
      pid: child.pid ?? null,
      started_at: started,
      heartbeat_at: started,
      ended_at: null,
      exit_code: null,
      signal: null,
      error: null,
    };
    writeAttempt(dir, attempt);
    active.set(run.id, { child, attempt });
    opts.onEvent?.({ kind: 'start', id: run.id, action, attempt: attempt.attempt });

    const log = createWriteStream(join(dir, 'train.log'), { flags: 'a' });
    log.write(`=== attempt ${attempt.attempt} (${action}) on ${attempt.host}, pid ${attempt.pid}, ${started}\n`);
    let tail = '';
    child.stdout!.on('data', (d: Buffer) => log.write(d));
    child.stderr!.on('data', (d: Buffer) => {
      log.write(d);
      tail = (tail + d.toString('utf8')).slice(-ERROR_TAIL_BYTES);
    });
    let spawnError: Error | null = null;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => {
      log.end(`=== exit ${signal ?? code}\n`);
      const state = endState(dir, code, signal, spawnError);
      attempt.state = state;
      attempt.exit_code = code;
      attempt.signal = signal;
      attempt.ended_at = new Date().toISOString();
      attempt.heartbeat_at = attempt.ended_at;
      const error =
        state === 'failed'
          ? spawnError
            ? `cannot start the worker: ${spawnError.message}`
            : tail.trim() || `exit code ${code}`
          : null;
      attempt.error = error;
      writeAttempt(dir, attempt);
      releaseClaim(dir);
      active.delete(run.id);
      if (state === 'finished') outcome.finished.push(run.id);
      else if (state === 'interrupted') outcome.interrupted.push(run.id);
      else if (state === 'diverged') outcome.diverged.push(run.id);
      else outcome.failed.push({ id: run.id, error: error! });
      opts.onEvent?.({ kind: 'end', id: run.id, outcome: state, error });
      pump();
    });
    return true;
  };

  const pump = () => {
    while (!outcome.stopped && active.size < opts.jobs && queue.length) launch(queue.shift()!);
    // (a skipped launch leaves the slot free, so the loop goes on to the next run)
    if (active.size === 0 && (queue.length === 0 || outcome.stopped)) {
      for (const t of queue.splice(0))
        outcome.skipped.push({ id: t.run.id, reason: 'not started: the sweep was stopped' });
      clearInterval(heartbeat);
      process.off('exit', killAll);
      finish(outcome);
    }
  };
  pump();

  return {
    done,
    stop(signal = 'SIGINT') {
      outcome.stopped = true;
      for (const { child } of active.values()) child.kill(signal);
      if (active.size === 0) pump();
    },
    active: () => [...active.keys()],
  };
}

/** How an attempt ended, from the exit and the run's own status. */
function endState(
  dir: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  spawnError: Error | null,
): 'finished' | 'interrupted' | 'failed' | 'diverged' {
  if (spawnError) return 'failed';
  if (signal !== null) return INTERRUPT_SIGNALS.has(signal) ? 'interrupted' : 'failed';
  if (code === 130) return 'interrupted';
  if (code !== 0 && code !== EXIT_DIVERGED) return 'failed';
  const status = join(dir, 'status.json');
  try {
    const state = existsSync(status) ? JSON.parse(readFileSync(status, 'utf8')).state : null;
    if (code === EXIT_DIVERGED) return state === 'diverged' ? 'diverged' : 'failed';
    return state === 'finished' ? 'finished' : 'failed';
  } catch {
    return 'failed';
  }
}
