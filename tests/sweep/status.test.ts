/**
 * A run's sweep status is derived from files in its own directory. Each case lays out the files a
 * real process would have left (a finished run, a run killed mid-way, a failed start, …).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runState, STALE_AFTER_MS, type Environment } from '../../src/sweep/status.ts';
import { claimRun, releaseClaim, type SweepAttempt } from '../../src/sweep/store.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-sweep-status-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NOW = Date.parse('2026-01-01T12:00:00Z');
const env = (alive: number[] = []): Environment => ({ host: 'here', now: NOW, alive: (pid) => alive.includes(pid) });

let n = 0;
function lay(files: { status?: object; run?: boolean; resume?: boolean; attempt?: Partial<SweepAttempt> }): string {
  const id = `r${n++}`;
  const dir = join(root, 'runs', id);
  mkdirSync(dir, { recursive: true });
  if (files.run) writeFileSync(join(dir, 'run.json'), JSON.stringify({ config: { training: { steps: 400 } } }));
  if (files.status)
    writeFileSync(
      join(dir, 'status.json'),
      JSON.stringify({ format_version: 1, final_step: null, checkpoints: [], ...files.status }),
    );
  if (files.resume) writeFileSync(join(dir, 'resume.safetensors'), '');
  if (files.attempt) {
    const a: SweepAttempt = {
      attempt: 1,
      action: 'start',
      state: 'running',
      host: 'here',
      pid: 4242,
      started_at: '2026-01-01T11:00:00Z',
      heartbeat_at: new Date(NOW - 1000).toISOString(),
      ended_at: null,
      exit_code: null,
      signal: null,
      error: null,
      ...files.attempt,
    };
    writeFileSync(join(dir, 'sweep-attempt.json'), JSON.stringify(a));
  }
  return id;
}

describe('runState', () => {
  it('a run with no directory is pending, to start', () => {
    expect(runState(root, 'nothing-here', env())).toMatchObject({
      state: 'pending',
      reason: 'not started',
      action: 'start',
      attempts: 0,
    });
  });

  it('finished is done', () => {
    const id = lay({
      run: true,
      resume: true,
      status: { state: 'finished', step: 400, final_step: 400 },
      attempt: { state: 'finished' },
    });
    expect(runState(root, id, env())).toMatchObject({
      state: 'done',
      reason: 'finished at step 400',
      step: 400,
      total: 400,
      action: 'none',
    });
  });

  it('a live worker on this host is running; a dead one leaves the run pending, to resume', () => {
    const files = { run: true, resume: true, status: { state: 'running', step: 150 }, attempt: { pid: 4242 } };
    const id = lay(files);
    expect(runState(root, id, env([4242]))).toMatchObject({ state: 'running', step: 150, action: 'none' });
    expect(runState(root, id, env([]))).toMatchObject({
      state: 'pending',
      reason: 'worker gone at step 150; resumes from its last checkpoint (step 150)',
      action: 'resume',
    });
  });

  it('a worker on another host counts as running until its heartbeat goes stale', () => {
    const fresh = lay({
      run: true,
      resume: true,
      status: { state: 'running', step: 50 },
      attempt: { host: 'node17', heartbeat_at: new Date(NOW - 10_000).toISOString() },
    });
    expect(runState(root, fresh, env())).toMatchObject({
      state: 'running',
      reason: expect.stringContaining('host node17'),
    });
    const stale = lay({
      run: true,
      resume: true,
      status: { state: 'running', step: 50 },
      attempt: { host: 'node17', heartbeat_at: new Date(NOW - STALE_AFTER_MS - 1).toISOString() },
    });
    expect(runState(root, stale, env())).toMatchObject({ state: 'pending', action: 'resume' });
  });

  it('interrupted runs resume; one killed before its first resume point starts over', () => {
    const int = lay({
      run: true,
      resume: true,
      status: { state: 'interrupted', step: 120 },
      attempt: { state: 'interrupted', exit_code: 130 },
    });
    expect(runState(root, int, env())).toMatchObject({
      state: 'pending',
      reason: 'interrupted at step 120; resumes from there',
      action: 'resume',
    });
    const early = lay({
      run: true,
      status: { state: 'running', step: 0 },
      attempt: { state: 'interrupted', signal: 'SIGKILL' },
    });
    expect(runState(root, early, env())).toMatchObject({
      state: 'pending',
      reason: 'worker killed by SIGKILL at step 0; starts over',
      action: 'restart',
    });
  });

  it('failures carry the telling line of the error', () => {
    const start = lay({
      attempt: {
        state: 'failed',
        exit_code: 2,
        error:
          'backend: wasm (simd on, 1 thread)\ngroklens: config: split.train_fraction: 0.005 of 121 examples gives 0 train',
      },
    });
    expect(runState(root, start, env())).toMatchObject({
      state: 'failed',
      reason: 'groklens: config: split.train_fraction: 0.005 of 121 examples gives 0 train',
      action: 'start',
    });
    const mid = lay({
      run: true,
      resume: true,
      status: { state: 'failed', step: 200, error: 'NaN loss at step 230' },
      attempt: { state: 'failed', exit_code: 1 },
    });
    expect(runState(root, mid, env())).toMatchObject({
      state: 'failed',
      reason: 'NaN loss at step 230',
      action: 'resume',
    });
  });
});

describe('claims', () => {
  it("only one process holds a run; a dead holder's claim is taken over", () => {
    const dir = join(root, 'claimed');
    const holders: { host: string; pid: number }[] = [];
    const stale = (dead: number[]) => (h: { host: string; pid: number }) => (holders.push(h), dead.includes(h.pid));
    expect(claimRun(dir, { host: 'here', pid: 1 }, stale([]))).toBe(true);
    expect(claimRun(dir, { host: 'here', pid: 2 }, stale([]))).toBe(false);
    expect(holders).toEqual([{ host: 'here', pid: 1 }]);
    expect(claimRun(dir, { host: 'here', pid: 2 }, stale([1]))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'sweep-claim'), 'utf8'))).toEqual({ host: 'here', pid: 2 });
    releaseClaim(dir);
    expect(existsSync(join(dir, 'sweep-claim'))).toBe(false);
    expect(claimRun(dir, { host: 'here', pid: 3 }, stale([]))).toBe(true);
  });
});
