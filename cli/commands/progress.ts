/**
 * Progress display for long commands: a cli-progress bar on a terminal, and a plain line every
 * ~10 % (or 60 s) when stderr is not a terminal (CI logs, files), so logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../../src/run/train.ts';

const pct = (x: number | undefined) => (x === undefined ? '  -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);

export function trainingProgress(opts: { quiet?: boolean }): {
  update(p: Progress): void;
  stop(): void;
  log(line: string): void;
} {
  if (opts.quiet) return { update() {}, stop() {}, log: (l) => process.stderr.write(l + '\n') };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          'step {value}/{total} {bar} {speed} steps/s | train acc {train} | test acc {test} | eta {eta_formatted}',
        barsize: 24,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { speed: p.stepsPerSec.toFixed(1), train: pct(p.last?.train_acc), test: pct(p.last?.test_acc) };
        if (!started) {
          bar.start(p.total, p.step, payload);
          started = true;
        } else bar.update(p.step, payload);
      },
      stop: () => started && bar.stop(),
      log: (l) => (started ? bar.stop() : undefined, process.stderr.write(l + '\n')),
    };
  }
  let nextFrac = 0;
  let lastAt = 0;
  return {
    update(p) {
      const t = performance.now();
      if (p.step / p.total >= nextFrac || t - lastAt > 60_000) {
        process.stderr.write(
          `step ${p.step}/${p.total}  ${p.stepsPerSec.toFixed(1)} steps/s  train acc ${pct(p.last?.train_acc)}  test acc ${pct(p.last?.test_acc)}\n`,
        );
        nextFrac = Math.floor((p.step / p.total) * 10 + 1) / 10;
        lastAt = t;
      }
    },
    stop() {},
    log: (l) => process.stderr.write(l + '\n'),
  };
}

/**
 * First Ctrl-C asks the loop to save a checkpoint and stop; a second one exits at once (safe:
 * every file is written atomically, so nothing on disk is half-written).
 */
export function interruptFlag(log: (l: string) => void): { requested: () => boolean; release: () => void } {
  let requested = false;
  const handler = () => {
    if (requested) process.exit(130);
    requested = true;
    log('\ninterrupt: saving a checkpoint, then stopping (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    requested: () => requested,
    release: () => (process.off('SIGINT', handler), process.off('SIGTERM', handler)),
  };
}
