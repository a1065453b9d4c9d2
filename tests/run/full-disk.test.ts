/**
 * A full disk (issue 14, defect 4) used to end `train`, `analyze` and `report` with a stack trace
 * (`Error: ENOSPC … at writeSync`). Now each prints one line naming the file and what failed,
 * exits 2, loses nothing, and the run resumes after space is freed. Needs a small tmpfs (mount
 * needs root); skipped with a warning where one cannot be mounted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IoError, ioError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';

const mnt = mkdtempSync(join(tmpdir(), 'groklens-full-disk-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'ignore' });
  mounted = true;
} catch {
  console.warn(`full-disk tests skipped: cannot mount a tmpfs at ${mnt} (needs root)`);
}
afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

const cli = (args: string[]) => spawnSync(process.execPath, ['bin/groklens.js', ...args], { encoding: 'utf8' });
/** Fill the tmpfs, leaving about `leave` bytes. */
function fill(leave: number): string {
  const ballast = join(mnt, 'ballast');
  writeFileSync(ballast, '');
  for (let size = 1 << 20; size >= 1024; size >>= 1) {
    try {
      for (;;) {
        execFileSync('sh', ['-c', `head -c ${size} /dev/zero >> ${ballast}`], { stdio: 'ignore' });
      }
    } catch {
      // this size no longer fits: try a smaller one
    }
  }
  execFileSync('truncate', ['-s', `-${leave}`, ballast]);
  return ballast;
}
const oneLine = (stderr: string) => {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('groklens:'));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0];
};

describe.runIf(mounted)('a full disk', () => {
  it('train: one line naming the file, exit 2, and the run resumes bit-identically once there is room', () => {
    const runs = join(mnt, 'runs');
    mkdirSync(runs);
    const sets = [
      'task.p=23',
      'model.d_model=32',
      'model.d_mlp=64',
      'model.d_head=8',
      'training.steps=200',
      'checkpoints.every=10',
      'checkpoints.log_spaced=0',
    ].flatMap((s) => ['--set', s]);
    const ballast = fill(300_000); // room for a few checkpoints of ~40 kB, not for 20
    const r = cli(['train', '-q', '--runs-dir', runs, '--name', 'full', ...sets]);
    expect(r.status, r.stderr).toBe(2);
    expect(oneLine(r.stderr)).toMatch(
      /^groklens: .*full\/.*: cannot (write|append to): no space left on device \(ENOSPC\)$/,
    );
    rmSync(ballast);
    const again = cli(['train', '-q', '--resume', join(runs, 'full')]);
    expect(again.status, again.stderr).toBe(0);
    // The same run trained where there is room: identical final checkpoint.
    const roomy = mkdtempSync(join(tmpdir(), 'groklens-roomy-'));
    try {
      expect(cli(['train', '-q', '--runs-dir', roomy, '--name', 'full', ...sets]).status).toBe(0);
      const a = execFileSync('sha256sum', [join(runs, 'full', 'checkpoints', 'step-0000200.safetensors')], {
        encoding: 'utf8',
      }).split(' ')[0];
      const b = execFileSync('sha256sum', [join(roomy, 'full', 'checkpoints', 'step-0000200.safetensors')], {
        encoding: 'utf8',
      }).split(' ')[0];
      expect(a).toBe(b);
    } finally {
      rmSync(roomy, { recursive: true, force: true });
    }
    // analyze and report on a full disk: one line each, nothing half-written left behind.
    const ballast2 = fill(2_000);
    const an = cli(['analyze', '-q', '--passes', 'metrics', join(runs, 'full')]);
    expect(an.status, an.stderr).toBe(2);
    expect(oneLine(an.stderr)).toMatch(/analysis\.json: cannot write: no space left on device \(ENOSPC\)/);
    expect(readdirSync(join(runs, 'full')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    rmSync(ballast2);
    expect(cli(['analyze', '-q', '--passes', 'metrics', join(runs, 'full')]).status).toBe(0);
    const ballast3 = fill(2_000);
    const rep = cli(['report', join(runs, 'full')]);
    expect(rep.status, rep.stderr).toBe(2);
    expect(oneLine(rep.stderr)).toMatch(/report\.html: cannot write: no space left on device \(ENOSPC\)/);
    expect(existsSync(join(runs, 'copy', 'report.html'))).toBe(false);
    rmSync(ballast3);
  });
});

describe('ioError', () => {
  it('names the file, the operation and the reason of an operating-system error', () => {
    const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    const io = ioError(e, 'runs/x/metrics.jsonl', 'write');
    expect(io).toBeInstanceOf(IoError);
    expect(io!.message).toBe('runs/x/metrics.jsonl: cannot write: no space left on device (ENOSPC)');
    expect(ioError(new Error('plain bug'), 'f', 'write')).toBeNull();
    expect(ioError(new TypeError('x'), 'f', 'write')).toBeNull();
  });

  it('writeFileAtomic under a path whose parent is a file is an IoError naming the target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'groklens-notdir-'));
    try {
      writeFileSync(join(dir, 'file'), 'x');
      const target = join(dir, 'file', 'a.json');
      expect(() => writeFileAtomic(target, '{}')).toThrow(IoError);
      expect(() => writeFileAtomic(target, '{}')).toThrow(
        `${target}: cannot write: a component of the path is not a directory (ENOTDIR)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
