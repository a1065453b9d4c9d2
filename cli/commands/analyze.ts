/**
 * `groklens analyze runs/NAME`: analysis passes over every checkpoint not yet analysed, written to
 * runs/NAME/analysis.json; `--watch` keeps following a run that is still training.
 */
import cliProgress from 'cli-progress';
import { analyzeRun, type AnalyzeOutcome } from '../../analyses/run-analysis.ts';
import { checkPassNames } from '../../analyses/plan.ts';
import type { PassName } from '../../analyses/types.ts';
import { parseLlcSettings, type LlcOverrides } from '../../analyses/llc.ts';
import { describeBackend, parseThreads, useBackend } from '../../src/backend/index.ts';
import type { BackendName } from '../../src/config/types.ts';
import { UserError } from '../../src/errors.ts';
import { RunStore } from '../../src/run/store.ts';
import { interruptFlag } from './progress.ts';

export interface AnalyzeCommandOpts {
  passes?: string;
  keyFreqs: string;
  probeSize?: string;
  watch?: boolean;
  interval: string;
  quiet?: boolean;
  backend: BackendName;
  threads?: string; // --threads: BLAS and wasm threads (src/backend/index.ts)
  llc?: string; // --llc key=value,…: settings of the llc pass
  trajectoryWindow?: string; // --trajectory-window N
}

function parsePasses(s: string | undefined): PassName[] | undefined {
  if (s === undefined) return undefined;
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (list.length === 0) throw new UserError('--passes: expected a comma-separated list of passes');
  return checkPassNames(list);
}

export async function analyzeCommand(dir: string, opts: AnalyzeCommandOpts): Promise<void> {
  const passes = parsePasses(opts.passes);
  if (opts.keyFreqs !== 'final' && opts.keyFreqs !== 'per-checkpoint')
    throw new UserError(`--key-freqs: expected 'final' or 'per-checkpoint', got '${opts.keyFreqs}'`);
  const probeSize = opts.probeSize === undefined ? undefined : Number(opts.probeSize);
  if (probeSize !== undefined && !(Number.isInteger(probeSize) && probeSize >= 2))
    throw new UserError(`--probe-size: expected an integer ≥ 2, got '${opts.probeSize}'`);
  const llc: LlcOverrides | undefined = opts.llc === undefined ? undefined : parseLlcSettings(opts.llc);
  const trajectoryWindow = opts.trajectoryWindow === undefined ? undefined : Number(opts.trajectoryWindow);
  if (trajectoryWindow !== undefined && !(Number.isInteger(trajectoryWindow) && trajectoryWindow >= 2))
    throw new UserError(`--trajectory-window: expected an integer ≥ 2, got '${opts.trajectoryWindow}'`);
  const interval = Number(opts.interval);
  if (!(interval > 0)) throw new UserError(`--interval: expected a number of seconds > 0, got '${opts.interval}'`);
  RunStore.open(dir); // a clear error before loading a backend
  const backend = await useBackend(opts.backend, { threads: parseThreads(opts.threads) });
  const log = (l: string) => process.stderr.write(l + '\n');
  if (!opts.quiet) log(describeBackend(backend));
  const interrupt = interruptFlag(log);
  try {
    for (;;) {
      const outcome = await once(dir, {
        passes,
        llc,
        trajectoryWindow,
        keyFreqs: opts.keyFreqs,
        probeSize,
        quiet: opts.quiet,
        shouldStop: interrupt.requested,
        log,
      });
      if (!opts.watch || outcome.stopped || interrupt.requested()) {
        summarise(dir, outcome);
        if (outcome.stopped) process.exitCode = 130;
        return;
      }
      const state = RunStore.open(dir).status().state;
      if (state !== 'running') {
        // One last pass picks up the final checkpoint written just before the state changed.
        const last = await once(dir, {
          passes,
          llc,
          trajectoryWindow,
          keyFreqs: opts.keyFreqs,
          probeSize,
          quiet: opts.quiet,
          shouldStop: interrupt.requested,
          log,
        });
        summarise(dir, last);
        log(`the run is ${state}; stopped watching`);
        return;
      }
      const until = Date.now() + interval * 1000;
      while (Date.now() < until && !interrupt.requested()) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    interrupt.release();
  }
}

async function once(
  dir: string,
  o: {
    passes?: PassName[];
    llc?: LlcOverrides;
    trajectoryWindow?: number;
    keyFreqs: string;
    probeSize?: number;
    quiet?: boolean;
    shouldStop: () => boolean;
    log: (l: string) => void;
  },
): Promise<AnalyzeOutcome> {
  const bar =
    !o.quiet && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'analyse {bar} {value}/{total} checkpoints | step {step} | eta {eta_formatted}',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  let started = false;
  let nextFrac = 0;
  try {
    return await analyzeRun(dir, {
      passes: o.passes,
      llc: o.llc,
      trajectoryWindow: o.trajectoryWindow,
      keyFreqs: o.keyFreqs as 'final' | 'per-checkpoint',
      probeSize: o.probeSize,
      shouldStop: o.shouldStop,
      onLog: o.log,
      onWarning: (file, problem) => {
        bar?.stop();
        started = false;
        o.log(`warning: ${file}: ${problem}`);
      },
      onProgress: ({ done, total, step }) => {
        if (bar) {
          if (!started) bar.start(total, done, { step });
          else bar.update(done, { step });
          started = true;
        } else if (!o.quiet && done / total >= nextFrac) {
          o.log(`analysed ${done}/${total} checkpoints (step ${step})`);
          nextFrac = Math.floor((done / total) * 10 + 1) / 10;
        }
      },
    });
  } finally {
    bar?.stop();
  }
}

function summarise(dir: string, r: AnalyzeOutcome): void {
  const a = r.analysis;
  const s = a.summary;
  const lines = [
    `${dir}/analysis.json: ${a.checkpoints.length} checkpoints (${r.analysed} analysed now, ${r.upToDate} already up to date)`,
  ];
  if (a.key_frequencies.length)
    lines.push(`key frequencies: ${a.key_frequencies.join(', ')} (neuron rule, step ${a.key_frequencies_step})`);
  lines.push(
    `T_mem ${s.t_mem ?? '—'}, T_grok (95 %) ${s.t_grok_95 ?? '—'}, (99 %) ${s.t_grok_99 ?? '—'}, delay ${s.delay_95 ?? '—'}`,
  );
  for (const b of s.boundaries) lines.push(`  ${b.from} → ${b.to} at ${b.step}: ${b.reason}`);
  if (s.contraction)
    lines.push(
      `norm contraction: c = ${s.contraction.c.toExponential(3)}, c/(lr·wd) = ${s.contraction.c_over_lr_wd?.toFixed(3) ?? '—'}, V_mem ${s.contraction.v_mem.toFixed(1)}, V_at_grok ${s.contraction.v_at_grok?.toFixed(1) ?? '—'}, V at the fit's end ${s.contraction.v_fit_end.toFixed(1)}`,
    );
  for (const n of s.notes) lines.push(`note: ${n}`);
  if (a.warnings.length) lines.push(`${a.warnings.length} warning(s): ${a.warnings.map((w) => w.file).join(', ')}`);
  process.stdout.write(lines.join('\n') + '\n');
}
