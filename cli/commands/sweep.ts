/**
 * `groklens sweep SWEEP.json`, `sweep status DIR`, `sweep slurm SWEEP.json`, `sweep report DIR`.
 * The machinery lives in src/sweep/; this module parses options, shows progress and prints.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import type { BackendName } from '../../src/config/types.ts';
import { UserError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import type { SweepReportInput } from '../../reports/sweep/input.ts';
import { aggregateSweep, DEFAULT_AGGREGATE_OPTIONS } from '../../analyses/sweep/aggregate.ts';
import type { RunInput, SweepAggregate } from '../../analyses/sweep/types.ts';
import type { ExpandedSweep } from '../../src/sweep/expand.ts';
import { loadSweep } from '../../analyses/sweep/load.ts';
import type { SweepEvent, SweepOutcome } from '../sweep/runner.ts';
import { parseShard, shardFromEnv, type Shard } from '../sweep/shard.ts';
import { slurmScript } from '../sweep/slurm.ts';
import { localEnvironment, runState, type SweepRunState } from '../../src/sweep/status.ts';
import { buildManifest, manifestPath, runDir, writeManifest, type SweepManifest } from '../../src/sweep/store.ts';
import { countsLine, reportText, statusTable } from '../sweep/table.ts';

/** The CLI entry point the workers run. */
export const GROKLENS_BIN = fileURLToPath(new URL('../../bin/groklens.js', import.meta.url));

export interface SweepRunOpts {
  jobs?: string;
  shard?: string;
  backend: BackendName;
  sweepsDir: string;
  retryFailed?: boolean;
  quiet?: boolean;
}

function positiveInt(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw new UserError(`${option}: expected a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Read and expand a sweep file. Imported on demand: the config schema behind it takes a while to
 * load, and `groklens --help` or `sweep status` should not wait for it.
 */
async function loadExpanded(file: string): Promise<ExpandedSweep> {
  const [{ readSweepFile }, { expandSweep }] = await Promise.all([
    import('../../src/sweep/file.ts'),
    import('../../src/sweep/expand.ts'),
  ]);
  return expandSweep(readSweepFile(file), file);
}

/** `groklens sweep SWEEP.json`: run this process's share of the sweep, `--jobs` runs at a time. */
export async function sweepRunCommand(file: string, opts: SweepRunOpts): Promise<SweepOutcome> {
  const expanded = await loadExpanded(file);
  const { runSweep } = await import('../sweep/runner.ts');
  const shard: Shard | null = opts.shard !== undefined ? parseShard(opts.shard) : shardFromEnv(process.env);
  const slurmCpus = process.env.SLURM_CPUS_PER_TASK;
  const jobs =
    opts.jobs !== undefined
      ? positiveInt(opts.jobs, '--jobs')
      : slurmCpus
        ? positiveInt(slurmCpus, 'SLURM_CPUS_PER_TASK')
        : availableParallelism();
  const sweepDir = join(opts.sweepsDir, expanded.spec.name);
  const label = `sweep ${expanded.spec.name}${shard ? ` [shard ${shard.index}/${shard.count}]` : ''}`;
  const totals = new Map(expanded.runs.map((r) => [r.id, r.config.training.steps]));
  const out = sweepProgress(label, sweepDir, opts.quiet ?? false, totals);

  const exec = runSweep({
    sweepDir,
    expanded,
    jobs,
    shard,
    backend: opts.backend,
    retryFailed: opts.retryFailed ?? false,
    bin: GROKLENS_BIN,
    onEvent: out.event,
  });
  // Workers run in their own process groups; pass a signal on once they have had a moment to
  // receive it directly (Slurm signals every process of a job step), so none gets it twice.
  const delayText = process.env.GROKLENS_SWEEP_FORWARD_DELAY_MS ?? '1500';
  const forwardDelay = Number(delayText);
  if (!Number.isFinite(forwardDelay) || forwardDelay < 0) {
    throw new UserError(
      `GROKLENS_SWEEP_FORWARD_DELAY_MS: expected a number of milliseconds ≥ 0, got ${JSON.stringify(delayText)}`,
    );
  }
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      out.log(
        `${label}: ${sig}: asking ${exec.active().length} worker(s) to save a checkpoint and stop (again to stop at once)`,
      );
      setTimeout(() => exec.stop('SIGINT'), forwardDelay).unref();
    } else if (signals === 2) exec.stop('SIGINT');
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await exec.done;
    out.stop();
    const parts = [
      `${result.finished.length} finished`,
      `${result.diverged.length} diverged`,
      `${result.failed.length} failed`,
      `${result.interrupted.length} interrupted`,
      `${result.skipped.length} skipped`,
    ];
    process.stdout.write(`${label}: ${parts.join(', ')}\n`);
    for (const f of result.failed) process.stdout.write(`  failed ${f.id}: ${lastLine(f.error)}\n`);
    const failedBefore = result.skipped.filter((s) => s.reason.startsWith('failed'));
    for (const f of failedBefore) process.stdout.write(`  skipped ${f.id}: ${f.reason}\n`);
    process.stdout.write(`status: groklens sweep status ${sweepDir}\nreport: groklens sweep report ${sweepDir}\n`);
    // 130: stopped, run again to continue; 1: some run of this share has failed (now or before).
    if (result.stopped || result.interrupted.length) process.exitCode = 130;
    else if (result.failed.length || failedBefore.length) process.exitCode = 1;
    return result;
  } finally {
    out.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? s;

/**
 * Progress across the share: counts by state, and each running run's step. On a terminal one line
 * is redrawn every second; elsewhere (logs) a line per event and a summary every minute.
 */
function sweepProgress(label: string, sweepDir: string, quiet: boolean, totals: Map<string, number>) {
  const states = new Map<string, SweepRunState>();
  const tty = process.stderr.isTTY === true && !quiet;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write('\r\x1b[K');
    drawn = false;
  };
  const log = (line: string) => {
    clear();
    if (!quiet) process.stderr.write(line + '\n');
  };
  const summary = () => {
    const c: Record<SweepRunState, number> = { done: 0, running: 0, failed: 0, diverged: 0, pending: 0 };
    for (const s of states.values()) c[s]++;
    const env = localEnvironment();
    const steps = [...states]
      .filter(([, s]) => s === 'running')
      .map(([id]) => {
        const r = runState(sweepDir, id, env);
        return `${id} ${r.step ?? 0}/${totals.get(id)}`;
      });
    return (
      `${label}: ${c.done} done · ${c.running} running · ${c.failed} failed · ${c.diverged} diverged · ${c.pending} pending` +
      (steps.length ? ` | ${steps.join(', ')}` : '')
    );
  };
  const timer = setInterval(
    () => {
      if (tty) {
        clear();
        process.stderr.write(summary().slice(0, (process.stderr.columns ?? 120) - 1));
        drawn = true;
      } else if (!quiet) log(summary());
    },
    tty ? 1000 : 60_000,
  );
  timer.unref();
  const event = (e: SweepEvent) => {
    if (e.kind === 'plan') {
      for (const s of e.share) states.set(s.id, s.state);
      log(`${label}: ${countsLine(e.share)}; ${e.todo.length} to run now`);
    } else if (e.kind === 'start') {
      states.set(e.id, 'running');
      log(`${e.action === 'resume' ? 'resume' : 'start '} ${e.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
    } else {
      states.set(
        e.id,
        e.outcome === 'finished' ? 'done' : e.outcome === 'failed' || e.outcome === 'diverged' ? e.outcome : 'pending',
      );
      log(
        `${e.outcome.padEnd(11)} ${e.id}${e.error ? `: ${lastLine(e.error)}` : ''}   [${summary().split(': ').slice(1).join(': ').split(' | ')[0]}]`,
      );
    }
  };
  return { event, log, stop: () => (clearInterval(timer), clear()) };
}

/** `groklens sweep status DIR`: every run's state and why. */
export async function sweepStatusCommand(sweepDir: string, opts: { json?: boolean } = {}): Promise<void> {
  const { manifest, states, warnings } = loadSweep(sweepDir, localEnvironment());
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ sweep: manifest.name, runs: states.map(({ config: _, ...s }) => s) }, null, 2) + '\n',
    );
    return;
  }
  process.stdout.write(`sweep ${manifest.name} (${sweepDir}): ${countsLine(states)}\n\n${statusTable(states)}\n`);
}

export interface SlurmOpts {
  shards?: string;
  cpusPerTask?: string;
  time?: string;
  partition?: string;
  memPerCpu?: string;
  account?: string;
  sweepsDir: string;
  backend: BackendName;
}

/** `groklens sweep slurm SWEEP.json`: check the sweep, write its manifest, print an sbatch array script. */
export async function sweepSlurmCommand(file: string, opts: SlurmOpts): Promise<string> {
  const expanded = await loadExpanded(file);
  const sweepsDir = resolve(opts.sweepsDir);
  const sweepDir = join(sweepsDir, expanded.spec.name);
  writeManifest(sweepDir, buildManifest(expanded));
  const logDir = join(sweepDir, 'slurm');
  mkdirSync(logDir, { recursive: true });
  const script = slurmScript({
    sweepName: expanded.spec.name,
    runCount: expanded.runs.length,
    shards: opts.shards !== undefined ? positiveInt(opts.shards, '--shards') : undefined,
    cpusPerTask: opts.cpusPerTask !== undefined ? positiveInt(opts.cpusPerTask, '--cpus-per-task') : 1,
    time: opts.time,
    partition: opts.partition,
    memPerCpu: opts.memPerCpu,
    account: opts.account,
    workdir: process.cwd(),
    node: process.execPath,
    bin: GROKLENS_BIN,
    sweepFile: resolve(file),
    sweepsDir,
    logDir,
    backend: opts.backend,
  });
  process.stdout.write(script);
  process.stderr.write(`${expanded.runs.length} runs; manifest in ${sweepDir}; Slurm logs will go to ${logDir}\n`);
  return script;
}

export interface ReportOpts {
  horizon?: string;
  bootstrapSeed?: string;
  resamples?: string;
  json?: boolean;
  phaseAxes?: string; // "key1,key2": the phase diagram's axes
}

/** What the HTML sweep report is drawn from: the loaded sweep, its aggregate, and which runs have a report.html. */
export function sweepReportInput(
  sweepDir: string,
  manifest: SweepManifest,
  inputs: readonly RunInput[],
  agg: SweepAggregate,
): SweepReportInput {
  return {
    manifest,
    aggregate: agg,
    runs: inputs.map((r) => ({
      id: r.id,
      rows: r.rows,
      hasReport: existsSync(join(runDir(sweepDir, r.id), 'report.html')),
    })),
    files: {
      manifest: manifestPath(sweepDir),
      aggregate: join(sweepDir, 'aggregate.json'),
      metrics: (id) => join(runDir(sweepDir, id), 'metrics.jsonl'),
    },
  };
}

/** `groklens sweep report DIR`: aggregate.json, report.html and a table. */
export async function sweepReportCommand(sweepDir: string, opts: ReportOpts = {}): Promise<SweepAggregate> {
  const { manifest, inputs, warnings } = loadSweep(sweepDir, localEnvironment());
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const d = DEFAULT_AGGREGATE_OPTIONS;
  const seed = opts.bootstrapSeed !== undefined ? Number(opts.bootstrapSeed) : d.bootstrap.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new UserError(
      `--bootstrap-seed: expected an integer in [0, 2^32), got ${JSON.stringify(opts.bootstrapSeed)}`,
    );
  const agg = aggregateSweep(manifest.name, inputs, {
    bootstrap: {
      ...d.bootstrap,
      seed,
      resamples: opts.resamples !== undefined ? positiveInt(opts.resamples, '--resamples') : d.bootstrap.resamples,
    },
    predictHorizon: opts.horizon !== undefined ? positiveInt(opts.horizon, '--horizon') : d.predictHorizon,
  });
  const file = join(sweepDir, 'aggregate.json');
  writeFileAtomic(file, JSON.stringify(agg, null, 2) + '\n');
  // Imported on demand: d3 and jsdom take a while to load, and only this command needs them.
  const [{ renderSweepReport }, { sizeText }] = await Promise.all([
    import('../../reports/sweep/report.ts'),
    import('./report.ts'),
  ]);
  const phaseAxes = opts.phaseAxes?.split(',').map((k) => k.trim());
  if (phaseAxes && phaseAxes.length !== 2)
    throw new UserError(
      `--phase-axes: expected two swept keys separated by a comma, got ${JSON.stringify(opts.phaseAxes)}`,
    );
  const html = renderSweepReport(sweepReportInput(sweepDir, manifest, inputs, agg), { source: sweepDir, phaseAxes });
  const htmlFile = join(sweepDir, 'report.html');
  writeFileAtomic(htmlFile, html);
  const wroteHtml = `wrote ${htmlFile} (${sizeText(Buffer.byteLength(html))})\n`;
  if (opts.json) {
    process.stdout.write(JSON.stringify(agg, null, 2) + '\n');
    process.stderr.write(wroteHtml);
  } else process.stdout.write(`${reportText(agg)}\n\nwrote ${file}\n${wroteHtml}`);
  return agg;
}

const backendOption = () =>
  new Option('--backend <name>', 'tensor backend of the workers')
    .choices(['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'])
    .default('auto');

/** The `sweep` command and its subcommands, for cli/main.ts to add with program.addCommand(). */
export function sweepCli(): Command {
  const sweep = new Command('sweep').description(
    'run sweeps of training runs and aggregate them (see README: "Sweeps")',
  );
  // 'run' is the default subcommand, so `groklens sweep SWEEP.json` works; its options stay its
  // own (a subcommand's options never clash with a parent's).
  sweep
    .command('run', { isDefault: true })
    .description(
      "run a sweep (or this process's shard of it), --jobs runs at a time; re-running skips finished runs and resumes interrupted ones",
    )
    .argument('<sweep-file>', 'sweep JSON file: name, base, grid, list, seeds')
    .option('-j, --jobs <n>', 'worker processes (default: SLURM_CPUS_PER_TASK, else the number of cores)')
    .option('--shard <i/n>', 'run only shard i of n (default: from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT)')
    .option('--sweeps-dir <dir>', 'where sweep directories live', 'sweeps')
    .option('--retry-failed', 'run failed runs again (by default they are reported and skipped)')
    .option('-q, --quiet', 'no progress, only the summary')
    .addOption(backendOption())
    .action(async (file, opts) => {
      await sweepRunCommand(file, opts);
    });
  sweep
    .command('status')
    .description('list the runs of a sweep: done / running / failed / pending, with reasons')
    .argument('<sweep-dir>', 'e.g. sweeps/NAME')
    .option('--json', 'machine-readable output')
    .action(async (dir, opts) => sweepStatusCommand(dir, opts));
  sweep
    .command('slurm')
    .description('print an sbatch array script that runs the sweep, one shard per array task')
    .argument('<sweep-file>')
    .option('--shards <n>', 'array size (default: one task per run)')
    .option('--cpus-per-task <n>', 'CPUs, and so workers, per array task', '1')
    .option('--time <limit>', 'Slurm --time, e.g. 04:00:00')
    .option('--partition <name>', 'Slurm --partition')
    .option('--mem-per-cpu <size>', 'Slurm --mem-per-cpu, e.g. 2G')
    .option('--account <name>', 'Slurm --account')
    .option('--sweeps-dir <dir>', 'where sweep directories live', 'sweeps')
    .addOption(backendOption())
    .action(async (file, opts) => {
      await sweepSlurmCommand(file, opts);
    });
  sweep
    .command('report')
    .description(
      'aggregate a sweep: per-run transition times, delay-law fits, delay predictor → aggregate.json, report.html and a table',
    )
    .argument('<sweep-dir>', 'e.g. sweeps/NAME')
    .option(
      '--horizon <k>',
      'the delay predictor sees steps up to T_mem + k',
      String(DEFAULT_AGGREGATE_OPTIONS.predictHorizon),
    )
    .option('--bootstrap-seed <n>', 'seed of the bootstrap resampling', '0')
    .option('--resamples <n>', 'bootstrap resamples', String(DEFAULT_AGGREGATE_OPTIONS.bootstrap.resamples))
    .option('--json', 'print aggregate.json instead of the table')
    .option(
      '--phase-axes <keys>',
      'two swept keys for the phase diagram, comma-separated (default: the two with the most values)',
    )
    .action(async (dir, opts) => {
      await sweepReportCommand(dir, opts);
    });
  return sweep;
}
