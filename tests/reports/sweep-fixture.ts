/**
 * A synthetic sweep for the sweep-report tests: wd ∈ {0.1, 0.5, 1, 2} × lr ∈ {1e-3, 3e-3} × {AdamW,
 * SGD with momentum}, 16 runs, written as a real sweep directory (manifest.json from the real
 * expansion, and per run run.json, status.json, metrics.jsonl and for some an analysis.json).
 * AdamW runs memorise at a step set by lr, then their ‖θ‖² contracts at c = k·lr·wd (k ≈ 1.4 with
 * noise) and they grok once it has covered a log ratio L ≈ 1.2: T_grok − T_mem ≈ L/(k·lr·wd), so
 * wd 0.1 at lr 1e-3 does not grok within the 3000-step budget. SGD runs never memorise; one of them
 * fails with an error and one AdamW run is left unfinished. All randomness is seeded.
 *
 * fixtures/reports/sweep/input.json is the renderer input built from that directory, which the
 * snapshot tests render from (so a snapshot depends on the renderer only). Rewrite it with:
 *   npx tsx tests/reports/sweep-fixture.ts
 */
import { ANALYSIS_FORMAT_VERSION } from '../../src/version.ts';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SweepReportInput } from '../../reports/sweep/input.ts';
import { HOSTILE } from './hostile.ts';
import { sweepReportInput } from '../../cli/commands/sweep.ts';
import { Rng } from '../../src/rng.ts';
import type { MetricsRow } from '../../src/run/store.ts';
import { aggregateSweep } from '../../analyses/sweep/aggregate.ts';
import { expandSweep } from '../../src/sweep/expand.ts';
import { parseSweep } from '../../src/sweep/file.ts';
import { loadSweep } from '../../analyses/sweep/load.ts';
import type { Environment } from '../../src/sweep/status.ts';
import { buildManifest, runDir, type SweepManifest } from '../../src/sweep/store.ts';

export const SWEEP_FIXTURE_DIR = join(import.meta.dirname, '../../fixtures/reports/sweep');
export const SWEEP_FIXTURE_FILE = join(SWEEP_FIXTURE_DIR, 'input.json');

export const SWEEP_DOC = {
  name: 'fixture',
  description: 'weight decay × learning rate, AdamW against SGD (synthetic)',
  base: { set: { 'training.steps': 3000, 'training.eval_every': 50 } },
  grid: { 'optimizer.weight_decay': [0.1, 0.5, 1, 2], 'optimizer.lr': [0.001, 0.003] },
  list: [{}, { 'optimizer.kind': 'sgd', 'optimizer.momentum': 0.9 }],
  seeds: [0],
};

export const FAILED_ID = 'opt=sgd_momentum=0.9_wd=2_lr=0.003_seed=0';
export const UNFINISHED_ID = 'wd=2_lr=0.003_seed=0';
export const WITH_REPORT_ID = 'wd=1_lr=0.001_seed=0';
/** Runs whose analysis.json gives c (the others have theirs fitted on metrics). */
export const ANALYSED_C_ID = 'wd=0.5_lr=0.003_seed=0';

/** An environment in which no worker is alive: states come from status.json alone. */
export const NO_WORKERS: Environment = { host: 'fixture-host', now: 0, alive: () => false };

const r6 = (v: number) => Number(v.toPrecision(6));

interface Plan {
  rows: MetricsRow[];
  status: 'finished' | 'failed' | 'interrupted';
  analysis: { c: number | null; key_frequencies: number[] } | null;
}

function plan(id: string, kind: string, lr: number, wd: number, steps: number, every: number): Plan {
  const rng = Rng.derive(7, id);
  const rows: MetricsRow[] = [];
  const row = (step: number, train: number, test: number, norm: number) =>
    rows.push({
      step,
      train_loss: r6(1.02 - train),
      train_acc: r6(train),
      test_loss: r6(1.02 - test),
      test_acc: r6(test),
      sq_norm: r6(norm),
      lr,
      wall_time: r6(step / 200),
    });
  if (kind === 'sgd') {
    const last = id === FAILED_ID ? 200 : steps;
    for (let t = 0; t <= last; t += every)
      row(t, 0.05 + 0.6 * (1 - Math.exp(-t / 500)), 0.02 + 0.005 * rng.uniform(), 1500 * Math.exp(-5e-5 * t));
    return { rows, status: id === FAILED_ID ? 'failed' : 'finished', analysis: null };
  }
  const tMem = lr >= 0.003 ? 150 : 300;
  const c = 1.4 * (1 + 0.08 * rng.normal()) * lr * wd;
  const L = 1.2 * (1 + 0.1 * rng.normal());
  const tGrok = tMem + L / c;
  const last = id === UNFINISHED_ID ? 100 : steps;
  for (let t = 0; t <= last; t += every) {
    const train = t >= tMem ? 1 : 0.05 + 0.9 * (t / tMem) ** 2;
    const test =
      t >= tGrok
        ? Math.min(1, 0.95 + (0.05 * (t - tGrok)) / 200)
        : 0.02 + 0.9 * Math.exp(-(tGrok - t) / (0.15 * (tGrok - tMem) + 50));
    const norm = t <= tMem ? 1500 + 2500 * (t / tMem) : 4000 * Math.exp(-c * (t - tMem)) * (1 + 0.003 * rng.normal());
    row(t, train, test, norm);
  }
  const grokked = tGrok <= steps && id !== UNFINISHED_ID;
  const sets = [
    [14, 35, 41],
    [14, 35, 52],
    [4, 14, 35],
  ];
  return {
    rows,
    status: id === UNFINISHED_ID ? 'interrupted' : 'finished',
    analysis: grokked ? { c: id === ANALYSED_C_ID ? r6(c) : null, key_frequencies: sets[rng.int(sets.length)] } : null,
  };
}

/** Write the synthetic sweep directory into `sweepDir` (created); returns its manifest. */
export function writeSyntheticSweep(sweepDir: string, opts: { reports?: string[] } = {}): SweepManifest {
  const expanded = expandSweep(parseSweep(SWEEP_DOC, 'fixture.json'), 'fixture.json');
  const manifest = { ...buildManifest(expanded), groklens_version: '0.0.0-fixture' };
  mkdirSync(sweepDir, { recursive: true });
  writeFileSync(join(sweepDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const run of expanded.runs) {
    const dir = runDir(sweepDir, run.id);
    mkdirSync(dir, { recursive: true });
    const o = run.config.optimizer;
    const p = plan(run.id, o.kind, o.lr, o.weight_decay, run.config.training.steps, run.config.training.eval_every);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: run.id, config: run.config }) + '\n');
    const step = p.rows.at(-1)?.step ?? 0;
    const status = {
      format_version: 1,
      state: p.status,
      step,
      final_step: p.status === 'finished' ? step : null,
      checkpoints: [],
      updated_at: '2026-01-01T00:00:00.000Z',
      ...(p.status === 'failed' ? { error: 'RuntimeError: Aborted(OOM) in wasm backend' } : {}),
    };
    writeFileSync(join(dir, 'status.json'), JSON.stringify(status) + '\n');
    writeFileSync(join(dir, 'metrics.jsonl'), p.rows.map((r) => JSON.stringify(r) + '\n').join(''));
    if (p.analysis) {
      writeFileSync(
        join(dir, 'analysis.json'),
        JSON.stringify(minimalAnalysis(run.id, p.analysis.c, p.analysis.key_frequencies)) + '\n',
      );
    }
    if ((opts.reports ?? [WITH_REPORT_ID]).includes(run.id))
      writeFileSync(join(dir, 'report.html'), `<!DOCTYPE html><title>${run.id}</title><h1>run report</h1>\n`);
  }
  return manifest;
}

/** The renderer input of a sweep directory, as `groklens sweep report` builds it (no file names). */
export function inputFromDir(sweepDir: string): SweepReportInput {
  const { manifest, inputs } = loadSweep(sweepDir, NO_WORKERS);
  const agg = aggregateSweep(manifest.name, inputs, {
    bootstrap: { resamples: 500, seed: 0, level: 0.95 },
    predictHorizon: 300,
  });
  const input = sweepReportInput(sweepDir, manifest, inputs, agg);
  return {
    manifest,
    aggregate: agg,
    runs: input.runs.map((r) => ({
      id: r.id,
      hasReport: r.hasReport,
      rows: r.rows.map((x) => ({ step: x.step, train_acc: x.train_acc, test_acc: x.test_acc })),
    })),
  };
}

/** The text of fixtures/reports/sweep/input.json, generated afresh. */
export function sweepFixtureText(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gl-sweep-fixture-'));
  try {
    writeSyntheticSweep(join(dir, 'fixture'));
    const input = inputFromDir(join(dir, 'fixture'));
    return JSON.stringify(input) + '\n';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The committed fixture as renderer input. */
export function loadSweepFixture(): SweepReportInput {
  return JSON.parse(readFileSync(SWEEP_FIXTURE_FILE, 'utf8')) as SweepReportInput;
}

/** Hostile run ids: no '/' (a run id is a directory name), so the linked one can exist on disk. */
export const HOSTILE_IDS = { linked: '"><img src=x onerror=alert(7)>', failed: "'><svg onload=alert(8)>" };

/** Replace every string equal to `from` (a run id) anywhere in a JSON-like value. */
function renameRun<T>(value: T, from: string, to: string): T {
  const walk = (v: unknown): unknown => {
    if (v === from) return to;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * The fixture with injection attempts wherever a user string reaches the page: the sweep name and
 * description (a hand-edited manifest), run ids (one grokked with a report, one failed), a config
 * value on a swept axis (every SGD run's optimizer.kind), the base preset and a failure reason.
 */
export function hostileSweepInput(): SweepReportInput {
  let input = loadSweepFixture();
  input = renameRun(input, WITH_REPORT_ID, HOSTILE_IDS.linked);
  input = renameRun(input, FAILED_ID, HOSTILE_IDS.failed);
  input.manifest.name = HOSTILE.name;
  input.manifest.sweep.description = HOSTILE.description;
  input.manifest.base.preset = HOSTILE.note;
  for (const m of input.manifest.runs) {
    if (m.settings['optimizer.kind'] !== 'sgd') continue;
    m.settings['optimizer.kind'] = HOSTILE.configValue;
    for (const c of m.diff) if (c.key === 'optimizer.kind') c.to = HOSTILE.configValue;
  }
  const failed = input.aggregate.runs.find((r) => r.id === HOSTILE_IDS.failed)!;
  failed.reason = HOSTILE.reason;
  for (const f of input.aggregate.fits)
    for (const e of f.excluded) if (e.id === HOSTILE_IDS.failed) e.reason = `run failed: ${HOSTILE.reason}`;
  return input;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  mkdirSync(SWEEP_FIXTURE_DIR, { recursive: true });
  writeFileSync(SWEEP_FIXTURE_FILE, sweepFixtureText());
  process.stdout.write(`wrote ${SWEEP_FIXTURE_FILE}\n`);
}

/**
 * A valid analysis.json (it passes analyses/store.ts, the one reader) carrying only what a sweep
 * takes from it: the contraction rate and the key frequencies. No checkpoints.
 */
export function minimalAnalysis(name: string, c: number | null, keyFrequencies: number[]): Record<string, unknown> {
  return {
    format: 'groklens-analysis',
    format_version: ANALYSIS_FORMAT_VERSION,
    groklens_version: '0.0.0-test',
    run: {
      name,
      task: 'a + b mod 113',
      model: 'transformer',
      n_params: 1,
      n_train: 1,
      n_test: 1,
      lr: 1e-3,
      weight_decay: 1,
      optimizer: 'adamw',
      seed: 0,
      backend: 'wasm',
      steps: 1,
    },
    options: { passes: ['metrics'], key_freq_source: 'final', probe: null },
    group: { kind: 'additive', n: 113, description: 'Z/113' },
    key_frequencies: keyFrequencies,
    key_frequencies_step: null,
    neuron_clusters: [],
    unclustered_neurons: 0,
    checkpoints: [],
    summary: {
      t_mem: null,
      t_grok_95: null,
      t_grok_99: null,
      delay_95: null,
      delay_99: null,
      phases: [],
      boundaries: [],
      contraction:
        c === null
          ? null
          : { c, c_over_lr_wd: null, v_mem: 1, v_mem_fit: 1, v_at_grok: null, v_fit_end: 1, r2: 1, from: 0, to: 1 },
      notes: [],
    },
    warnings: [],
    updated_at: '2026-01-01T00:00:00Z',
  };
}
