import { describeBackend, parseThreads, useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import type { BackendName } from '../../src/config/types.ts';
import { UserError } from '../../src/errors.ts';
import { EXIT_DIVERGED } from '../../src/run/divergence.ts';
import { RunStore } from '../../src/run/store.ts';
import { defaultRunName, resumeRun, startRun, type SessionResult } from '../../src/run/session.ts';
import { interruptFlag, trainingProgress } from './progress.ts';

export interface TrainOpts {
  preset?: string;
  set: string[];
  name?: string;
  runsDir: string;
  resume?: string;
  quiet?: boolean;
  backend: BackendName;
  onDivergence?: string;
  threads?: string; // --threads: BLAS and wasm threads (src/backend/index.ts)
}

export async function trainCommand(file: string | undefined, opts: TrainOpts): Promise<SessionResult> {
  if (opts.resume && (file || opts.preset || opts.set.length || opts.name)) {
    throw new UserError(
      '--resume takes the run directory only: its config is read from run.json (no config file, --preset, --set or --name)',
    );
  }
  const onDivergence = opts.onDivergence ?? 'stop';
  if (onDivergence !== 'stop' && onDivergence !== 'continue')
    throw new UserError(`--on-divergence: expected 'stop' or 'continue', got '${onDivergence}'`);
  // Resolve the config before loading any backend, so a typo fails in milliseconds.
  const resolved = opts.resume ? null : resolveConfig({ preset: opts.preset, file, sets: opts.set });
  if (opts.resume) RunStore.open(opts.resume); // same for a directory that is not a run
  const backend = await useBackend(opts.backend, { threads: parseThreads(opts.threads) });
  const progress = trainingProgress({ quiet: opts.quiet });
  progress.log(describeBackend(backend));
  const interrupt = interruptFlag(progress.log);
  const hooks = { onProgress: progress.update, shouldStop: interrupt.requested, log: progress.log };
  try {
    const result = opts.resume
      ? await resumeRun({ dir: opts.resume, backend, hooks, onDivergence })
      : await startRun({
          config: resolved!.config,
          name: opts.name ?? defaultRunName(opts.preset, file, new Date()),
          runsDir: opts.runsDir,
          preset: resolved!.preset ?? null,
          backend,
          hooks,
          onDivergence,
        });
    progress.stop();
    printTimeline(result);
    if (result.divergence) {
      const d = result.divergence;
      const kept =
        result.lastFiniteCheckpoint === null
          ? 'no finite checkpoint'
          : `last finite checkpoint: step ${result.lastFiniteCheckpoint}`;
      process.stderr.write(
        onDivergence === 'stop'
          ? `diverged at step ${d.step}: ${d.detail}; stopped (${kept}; status.json state "diverged"). Try a smaller optimizer.lr.\n`
          : `diverged at step ${d.step}: ${d.detail}; trained on as asked (--on-divergence continue); ${kept}\n`,
      );
      process.exitCode = result.state === 'interrupted' ? 130 : EXIT_DIVERGED;
    } else if (result.state === 'interrupted') {
      process.stderr.write(`stopped at step ${result.step}; continue with: groklens train --resume ${result.dir}\n`);
      process.exitCode = 130;
    }
    return result;
  } finally {
    progress.stop();
    interrupt.release();
  }
}

export function printTimeline(r: SessionResult): void {
  const lines = [
    `run: ${r.dir} (${r.state} at step ${r.step})`,
    `memorised   (train accuracy ≥ 99 %): ${r.memStep ?? 'not within the budget'}`,
    `generalised (test accuracy ≥ 95 %):  ${r.firstGrokStep ?? 'not within the budget'}`,
  ];
  if (r.memStep !== null && r.firstGrokStep !== null) lines.push(`delay: ${r.firstGrokStep - r.memStep} steps`);
  process.stdout.write(lines.join('\n') + '\n');
}
