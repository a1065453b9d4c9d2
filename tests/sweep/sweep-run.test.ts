/**
 * A tiny sweep end to end, through the CLI as a user or a Slurm array task runs it: three real
 * runs (a+b mod 11, quadratic network, 400 steps) and one that fails at train time (a train
 * fraction that leaves no training pair for p = 11, which config validation cannot know).
 *
 *   A: two workers; the sweep is stopped with SIGINT mid-way, then run again: interrupted runs
 *      resume from their checkpoint, the rest start, the failure is recorded, nothing else stops.
 *      A third run launches nothing.
 *   B: the same sweep as two shard processes (--shard 0/2, and SLURM_ARRAY_TASK_ID=1 of 2) at once.
 *   A and B must agree: identical checkpoint bytes, identical aggregate apart from wall times.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregateSweep } from '../../analyses/sweep/aggregate.ts';
import { loadSweep } from '../../analyses/sweep/load.ts';
import { localEnvironment } from '../../src/sweep/status.ts';
import type { SweepAttempt } from '../../src/sweep/store.ts';

const CLI = join(import.meta.dirname, 'fixtures/groklens-sweep.js');
const root = mkdtempSync(join(tmpdir(), 'groklens-sweep-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SWEEP = join(root, 'tiny.json');
writeFileSync(
  SWEEP,
  JSON.stringify({
    name: 'tiny',
    base: {
      set: {
        'task.p': 11,
        'split.train_fraction': 0.8,
        'split.mode': 'shuffle',
        'model.kind': 'quadratic',
        'model.hidden': 64,
        'optimizer.lr': 0.01,
        'training.steps': 400,
        'training.eval_every': 10,
        'checkpoints.every': 50,
        'checkpoints.log_spaced': 0,
      },
    },
    list: [
      { 'optimizer.weight_decay': 1 },
      { 'optimizer.weight_decay': 2 },
      { 'optimizer.weight_decay': 2, 'optimizer.lr': 0.02 },
      { 'optimizer.weight_decay': 2, 'split.train_fraction': 0.005 },
    ],
    seeds: [0],
  }),
);
const IDS = ['wd=1_seed=0', 'wd=2_seed=0', 'wd=2_lr=0.02_seed=0', 'wd=2_frac=0.005_seed=0'];
const FAILING = IDS[3];
const A = join(root, 'A');
const B = join(root, 'B');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; onSpawn?: (kill: (s: NodeJS.Signals) => void) => void } = {},
): Promise<Exit> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  opts.onSpawn?.((s) => child.kill(s));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

const runSweep = (sweepsDir: string, extra: string[] = [], env?: NodeJS.ProcessEnv) =>
  cli(['sweep', SWEEP, '--sweeps-dir', sweepsDir, '--backend', 'wasm', '--quiet', ...extra], { env });

const runPath = (sweepsDir: string, id: string, file = '') => join(sweepsDir, 'tiny', 'runs', id, file);
const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const attempt = (sweepsDir: string, id: string) => json<SweepAttempt>(runPath(sweepsDir, id, 'sweep-attempt.json'));
const stepOf = (sweepsDir: string, id: string): number => {
  try {
    return json<{ step: number }>(runPath(sweepsDir, id, 'status.json')).step;
  } catch {
    return -1;
  }
};

/** The aggregate without wall times (the only thing allowed to differ between A and B). */
function aggregateOf(sweepsDir: string): unknown {
  const { manifest, inputs } = loadSweep(join(sweepsDir, 'tiny'), localEnvironment());
  const agg = aggregateSweep(manifest.name, inputs, {
    bootstrap: { resamples: 200, seed: 0, level: 0.95 },
    predictHorizon: 50,
  });
  return JSON.parse(JSON.stringify(agg, (k, v) => (k === 'wall_time' ? undefined : v)));
}

describe('groklens sweep, end to end', () => {
  it('A: stops cleanly on SIGINT, resumes interrupted runs, records the failure, skips finished runs', async () => {
    // First pass: stop the sweep once a run has passed its first checkpoint after step 0.
    let kill!: (s: NodeJS.Signals) => void;
    // The sweep passes the signal on to its workers at once (by default it waits 1.5 s, in which
    // a fast machine could finish these short runs).
    const first = cli(['sweep', SWEEP, '--sweeps-dir', A, '--jobs', '2', '--backend', 'wasm', '--quiet'], {
      onSpawn: (k) => (kill = k),
      env: { GROKLENS_SWEEP_FORWARD_DELAY_MS: '0' },
    });
    const deadline = Date.now() + 90_000;
    while (!IDS.some((id) => stepOf(A, id) >= 50) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    kill('SIGINT');
    const stopped = await first;
    expect(stopped.code, stopped.stderr).toBe(130);

    const interrupted = IDS.filter(
      (id) =>
        existsSync(runPath(A, id, 'status.json')) &&
        json<{ state: string }>(runPath(A, id, 'status.json')).state === 'interrupted',
    );
    expect(interrupted.length).toBeGreaterThanOrEqual(1);
    for (const id of interrupted)
      expect(attempt(A, id)).toMatchObject({ attempt: 1, state: 'interrupted', exit_code: 130 });
    const notStarted = IDS.filter((id) => !existsSync(runPath(A, id)));
    expect(notStarted.length).toBeGreaterThanOrEqual(1); // two workers, four runs: something was still queued

    const midway = await cli(['sweep', 'status', join(A, 'tiny')]);
    expect(midway.code).toBe(0);
    for (const id of interrupted)
      expect(midway.stdout).toMatch(
        new RegExp(
          `${id.replace(/[.=]/g, '\\$&')}\\s+pending\\s+\\d+/400\\s+interrupted at step \\d+; resumes from there`,
        ),
      );
    for (const id of notStarted)
      expect(midway.stdout).toMatch(new RegExp(`${id.replace(/[.=]/g, '\\$&')}\\s+pending\\s+-\\s+not started`));

    // Second pass: everything runs to its end; the failing run fails alone.
    const second = await runSweep(A, ['--jobs', '2']);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stdout).toContain(
      `failed ${FAILING}: groklens: config: split.train_fraction: 0.005 of 121 examples gives 0 train / 121 test`,
    );
    for (const id of IDS.slice(0, 3))
      expect(json<{ state: string }>(runPath(A, id, 'status.json')).state).toBe('finished');
    for (const id of interrupted) {
      expect(attempt(A, id)).toMatchObject({ attempt: 2, action: 'resume', state: 'finished', exit_code: 0 });
      expect(readFileSync(runPath(A, id, 'train.log'), 'utf8')).toMatch(/resuming .* from step \d+/);
    }
    expect(attempt(A, FAILING)).toMatchObject({ attempt: 1, action: 'start', state: 'failed', exit_code: 2 });
    expect(existsSync(runPath(A, FAILING, 'run.json'))).toBe(false);

    const status = await cli(['sweep', 'status', join(A, 'tiny')]);
    expect(status.stdout).toContain('4 runs: 3 done, 0 running, 1 failed, 0 diverged, 0 pending');
    expect(status.stdout).toMatch(
      /wd=2_frac=0\.005_seed=0\s+failed\s+-\s+groklens: config: split\.train_fraction: 0\.005 of 121 examples/,
    );

    // Third pass: nothing left to do; finished runs are not touched, the failure is not retried.
    const before = IDS.map((id) => attempt(A, id));
    const third = await runSweep(A, ['--jobs', '2']);
    expect(third.code).toBe(1);
    expect(third.stdout).toContain('sweep tiny: 0 finished, 0 diverged, 0 failed, 0 interrupted, 4 skipped');
    expect(IDS.map((id) => attempt(A, id))).toEqual(before);
  });

  it('B: two shard processes at once, one told by Slurm variables, give what A gave', async () => {
    const [s0, s1] = await Promise.all([
      runSweep(B, ['--jobs', '1', '--shard', '0/2']),
      runSweep(B, ['--jobs', '1'], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }),
    ]);
    // shard 0 owns runs 0 and 2, shard 1 owns runs 1 and 3 (the failing one)
    expect(s0.code, s0.stderr).toBe(0);
    expect(s0.stdout).toContain('sweep tiny [shard 0/2]: 2 finished, 0 diverged, 0 failed, 0 interrupted, 0 skipped');
    expect(s1.code, s1.stderr).toBe(1);
    expect(s1.stdout).toContain('sweep tiny [shard 1/2]: 1 finished, 0 diverged, 1 failed, 0 interrupted, 0 skipped');
    expect(readFileSync(join(B, 'tiny', 'manifest.json'), 'utf8')).toBe(
      readFileSync(join(A, 'tiny', 'manifest.json'), 'utf8'),
    );

    // Every checkpoint of the uninterrupted runs is in A, byte for byte (A also holds the
    // checkpoints its Ctrl-C wrote at the steps where it stopped).
    for (const id of IDS.slice(0, 3)) {
      const files = readdirSync(runPath(B, id, 'checkpoints')).sort();
      expect(files.length).toBe(9); // steps 0, 50, …, 400
      for (const f of files) {
        const same = readFileSync(runPath(A, id, `checkpoints/${f}`)).equals(
          readFileSync(runPath(B, id, `checkpoints/${f}`)),
        );
        expect(same, `${id}/${f}`).toBe(true);
      }
    }

    const aggA = aggregateOf(A) as { runs: { id: string; outcome: string }[] };
    expect(aggregateOf(B)).toEqual(aggA);
    expect(aggA.runs.map((r) => r.outcome)).toEqual([
      expect.stringMatching(/grokked|memorised/),
      expect.stringMatching(/grokked|memorised/),
      expect.stringMatching(/grokked|memorised/),
      'failed',
    ]);

    // The report command writes the same aggregate to disk.
    const report = await cli(['sweep', 'report', join(B, 'tiny'), '--resamples', '200', '--horizon', '50']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/sweep tiny: 4 runs: .* 1 failed/);
    const onDisk = json<unknown>(join(B, 'tiny', 'aggregate.json'));
    expect(JSON.parse(JSON.stringify(onDisk, (k, v) => (k === 'wall_time' ? undefined : v)))).toEqual(aggregateOf(B));
  });
});
