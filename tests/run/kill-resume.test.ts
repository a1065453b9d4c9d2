/**
 * The crash-safety contract: a run killed with SIGKILL at arbitrary points and resumed ends with
 * checkpoints bit-identical to an uninterrupted run (same backend, same machine), and Ctrl-C
 * (SIGINT) saves a checkpoint and exits cleanly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/groklens.js');
const root = mkdtempSync(join(tmpdir(), 'groklens-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Small but real: minibatches (so the data order must survive the crash), warm-up, log-spaced
// early checkpoints, evaluation rows between checkpoints.
const SETS = [
  'task.p=11',
  'split.train_fraction=0.5',
  'split.mode=shuffle',
  'model.d_model=16',
  'model.n_heads=2',
  'model.d_head=8',
  'model.d_mlp=32',
  'training.steps=240',
  'training.batch_size=24',
  'training.eval_every=10',
  'checkpoints.every=40',
  'checkpoints.log_spaced=4',
].flatMap((s) => ['--set', s]);

function trainArgs(name: string): string[] {
  return [BIN, 'train', '--backend', 'wasm', '--quiet', '--runs-dir', root, '--name', name, ...SETS];
}

function runToEnd(args: string[]): void {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
}

/** Start a process and SIGKILL it once `step` in status.json reaches `atLeast` plus `extraMs`. */
async function killWhen(args: string[], dir: string, atLeast: number, extraMs: number): Promise<void> {
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  for (;;) {
    if (child.exitCode !== null) break;
    try {
      const s = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
      if (s.step >= atLeast) break;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, extraMs));
  child.kill('SIGKILL');
  await exited;
}

const checkpointFiles = (dir: string) =>
  readdirSync(join(dir, 'checkpoints'))
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
const metricsWithoutTime = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { wall_time: _, ...rest } = JSON.parse(l);
      return rest;
    });

describe('kill and resume', () => {
  it('SIGKILL at several points, then --resume, gives bit-identical checkpoints and metrics', async () => {
    const ref = join(root, 'ref');
    runToEnd(trainArgs('ref'));

    const crashed = join(root, 'crashed');
    // first segment: killed soon after the first few checkpoints
    await killWhen(trainArgs('crashed'), crashed, 1, 30);
    // kill the resumed process at other points (mid-interval, right after a checkpoint)
    for (const [atLeast, extra] of [
      [40, 0],
      [80, 45],
      [120, 10],
    ] as const) {
      await killWhen([BIN, 'train', '--backend', 'wasm', '--quiet', '--resume', crashed], crashed, atLeast, extra);
    }
    const st = JSON.parse(readFileSync(join(crashed, 'status.json'), 'utf8'));
    if (st.state !== 'finished') runToEnd([BIN, 'train', '--backend', 'wasm', '--quiet', '--resume', crashed]);

    const files = checkpointFiles(ref);
    expect(files.length).toBeGreaterThan(8);
    expect(checkpointFiles(crashed)).toEqual(files);
    for (const f of files) {
      const a = readFileSync(join(ref, 'checkpoints', f));
      const b = readFileSync(join(crashed, 'checkpoints', f));
      expect(b.equals(a), `checkpoint ${f} differs`).toBe(true);
    }
    expect(metricsWithoutTime(crashed)).toEqual(metricsWithoutTime(ref));
    expect(readdirSync(crashed).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('Ctrl-C saves a checkpoint, exits 130, and the run resumes to the same end', async () => {
    const dir = join(root, 'sigint');
    const child = spawn(process.execPath, trainArgs('sigint'), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    for (;;) {
      if (existsSync(join(dir, 'status.json')) && JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')).step >= 40)
        break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGINT');
    expect(await code).toBe(130);
    const st = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
    expect(st.state).toBe('interrupted');
    expect(st.checkpoints).toContain(st.step);
    expect(existsSync(join(dir, 'checkpoints', `step-${String(st.step).padStart(7, '0')}.safetensors`))).toBe(true);
    expect(stderr).toMatch(/--resume/);

    runToEnd([BIN, 'train', '--backend', 'wasm', '--quiet', '--resume', dir]);
    const ref = join(root, 'ref');
    for (const f of checkpointFiles(ref)) {
      expect(readFileSync(join(dir, 'checkpoints', f)).equals(readFileSync(join(ref, 'checkpoints', f))), f).toBe(true);
    }
  });
});
