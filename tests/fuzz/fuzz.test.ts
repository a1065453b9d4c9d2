/**
 * The fuzz corpus (issue 14): seeded mutants of every file of a real run directory, each placed
 * in a copy of the run and read by what reads it in groklens — RunStore (meta, status, split,
 * metrics, checkpoints), loadRun, resumeRun, analyzeRun, loadReportInput, readSafetensors and the
 * inspect listing. For every case:
 *
 *   - no crash: the readers either accept the file or throw a UserError (FormatError,
 *     ConfigError…); anything else fails the test;
 *   - the error is one line without stack frames, of bounded length, naming a file of the run;
 *   - a checkpoint mutant placed as a checkpoint of the run never stops `analyzeRun`: the
 *     checkpoint is analysed, or skipped with a warning naming its file;
 *   - a damaged analysis.json is never lost: analyze refuses (a newer version, untouched) or moves
 *     it to analysis.json.bak;
 *   - no hang: each case within CASE_BOUND_MS.
 *
 * GROKLENS_FUZZ_CASES sets the number of cases (default 320; the seed is fixed, so a count is a
 * fixed corpus); GROKLENS_FUZZ_SEED another corpus. A summary line (cases by file, outcomes,
 * slowest case, peak RSS) is printed for the record.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import type { AnalysisFile } from '../../analyses/types.ts';
import { useBackend, type BackendInfo } from '../../src/backend/index.ts';
import { loadReportInput } from '../../cli/commands/report.ts';
import { UserError } from '../../src/errors.ts';
import { formatInspect, readSafetensors, readSafetensorsHeader } from '../../src/io/safetensors.ts';
import { Rng } from '../../src/rng.ts';
import { resumeRun } from '../../src/run/session.ts';
import { loadRun } from '../../src/run/open.ts';
import { checkpointName, RunStore } from '../../src/run/store.ts';
import { smallRun, type SmallRun } from './fixture.ts';
import { mutateJson, mutateJsonl, mutateSafetensors, type Mutant } from './mutate.ts';

const CASES = Number(process.env.GROKLENS_FUZZ_CASES ?? 320);
const SEED = Number(process.env.GROKLENS_FUZZ_SEED ?? 14);
const CASE_BOUND_MS = 15_000;
const MAX_MESSAGE = 2_000;

/** Which file each case damages, by share of the cases. */
const FILES = [
  { file: 'checkpoint', share: 0.4 },
  { file: 'run.json', share: 0.14 },
  { file: 'status.json', share: 0.1 },
  { file: 'split.json', share: 0.1 },
  { file: 'metrics.jsonl', share: 0.1 },
  { file: 'analysis.json', share: 0.16 },
] as const;
type FileKind = (typeof FILES)[number]['file'];

type Outcome =
  'accepted' | 'refused' | 'analysed' | 'skipped with a warning' | 'moved aside' | 'refused, left as it was';

let run: SmallRun;
let backend: BackendInfo;
beforeAll(async () => {
  backend = await useBackend('wasm');
  run = await smallRun({ analyse: true });
  // As if stopped at its last resume point, so that resumeRun gets past "already finished" and
  // reads everything a resume reads (it then has no step left to train).
  const status = JSON.parse(readFileSync(join(run.dir, 'status.json'), 'utf8'));
  writeFileSync(
    join(run.dir, 'status.json'),
    JSON.stringify({ ...status, state: 'interrupted', final_step: null }, null, 2) + '\n',
  );
});
afterAll(() => rmSync(run.root, { recursive: true, force: true }));

/** A reader's verdict on a damaged run: fine, or a UserError whose message is checked here. */
function verdict(dir: string, label: string, f: () => unknown): 'accepted' | 'refused' {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return refusal(dir, label, e);
  }
}

async function verdictAsync(dir: string, label: string, f: () => Promise<unknown>): Promise<'accepted' | 'refused'> {
  try {
    await f();
    return 'accepted';
  } catch (e) {
    return refusal(dir, label, e);
  }
}

function refusal(dir: string, label: string, e: unknown): 'refused' {
  if (!(e instanceof UserError)) throw new Error(`${label}: not a user error: ${(e as Error)?.stack ?? String(e)}`);
  const m = e.message;
  if (/\n/.test(m) || /^\s+at /m.test(m))
    throw new Error(`${label}: the message is not one line: ${JSON.stringify(m.slice(0, 500))}`);
  if (m.length > MAX_MESSAGE) throw new Error(`${label}: a ${m.length}-character message: ${m.slice(0, 200)}…`);
  if (!m.includes(dir)) throw new Error(`${label}: the message names no file of the run: ${m}`);
  if (process.env.GROKLENS_FUZZ_VERBOSE) console.log(`${label}\n    → ${m.replace(dir, 'RUN')}`);
  return 'refused';
}

/** Warnings must be short and few per file. */
function checkWarnings(label: string, a: AnalysisFile): void {
  const perFile = new Map<string, number>();
  for (const w of a.warnings) {
    expect(w.problem.length, `${label}: warning length`).toBeLessThanOrEqual(300);
    expect(w.problem, label).not.toMatch(/\n/);
    perFile.set(w.file, (perFile.get(w.file) ?? 0) + 1);
  }
  for (const [file, count] of perFile) expect(count, `${label}: warnings about ${file}`).toBeLessThanOrEqual(11);
}

/** The analysis.json of `dir` without the results of `step`, so that analyze reads it again. */
function forget(dir: string, step: number): void {
  const file = join(dir, 'analysis.json');
  const a = JSON.parse(readFileSync(file, 'utf8')) as AnalysisFile;
  a.checkpoints = a.checkpoints.filter((c) => c.step !== step);
  writeFileSync(file, JSON.stringify(a));
}

const ANALYZE = { probeSize: 16, saveEveryMs: 60_000 };

/** Damage one file of a fresh copy of the run, run every reader of it, and classify what happened. */
async function exercise(k: number, kind: FileKind, rng: Rng): Promise<{ what: string; outcomes: Outcome[] }> {
  const dir = run.copy(`case-${k}`);
  const outcomes: Outcome[] = [];
  try {
    if (kind === 'checkpoint') {
      const step = pick(rng, [0, 10, 20]);
      const file = join(dir, 'checkpoints', checkpointName(step));
      const m = mutateSafetensors(new Uint8Array(readFileSync(file)), rng);
      const label = `case ${k}: ${checkpointName(step)}: ${m.what}`;
      writeFileSync(file, m.bytes);
      outcomes.push(verdict(dir, `${label} (readSafetensors)`, () => readSafetensors(file)));
      outcomes.push(verdict(dir, `${label} (inspect)`, () => formatInspect(readSafetensorsHeader(file), file)));
      forget(dir, step);
      const warned: string[] = [];
      const { analysis } = await analyzeRun(dir, { ...ANALYZE, onWarning: (f) => warned.push(f) });
      checkWarnings(label, analysis);
      const analysed = analysis.checkpoints.find((c) => c.step === step)?.metrics !== undefined;
      const named = analysis.warnings.some((w) => w.file === file);
      expect(analysed || named, `${label}: neither analysed nor a warning naming it`).toBe(true);
      outcomes.push(analysed ? 'analysed' : 'skipped with a warning');
      return { what: label, outcomes };
    }
    const name = kind;
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    const m: Mutant = kind === 'metrics.jsonl' ? mutateJsonl(text, rng) : mutateJson(text, rng);
    const label = `case ${k}: ${name}: ${m.what}`;
    writeFileSync(file, m.bytes);
    const store = () => new RunStore(dir);
    switch (kind) {
      case 'run.json':
        outcomes.push(verdict(dir, `${label} (open)`, () => RunStore.open(dir).meta()));
        outcomes.push(verdict(dir, `${label} (loadRun)`, () => loadRun(dir)));
        outcomes.push(verdict(dir, `${label} (report input)`, () => loadReportInput(dir)));
        outcomes.push(await verdictAsync(dir, `${label} (resume)`, () => resumeRun({ dir, backend })));
        break;
      case 'status.json':
        outcomes.push(verdict(dir, `${label} (status)`, () => store().status()));
        outcomes.push(await verdictAsync(dir, `${label} (resume)`, () => resumeRun({ dir, backend })));
        outcomes.push(
          await verdictAsync(dir, `${label} (analyze)`, async () =>
            checkWarnings(label, (await analyzeRun(dir, ANALYZE)).analysis),
          ),
        );
        break;
      case 'split.json':
        outcomes.push(verdict(dir, `${label} (split)`, () => store().split()));
        outcomes.push(verdict(dir, `${label} (loadRun)`, () => loadRun(dir)));
        outcomes.push(await verdictAsync(dir, `${label} (resume)`, () => resumeRun({ dir, backend })));
        break;
      case 'metrics.jsonl':
        outcomes.push(verdict(dir, `${label} (metrics)`, () => store().metrics()));
        outcomes.push(verdict(dir, `${label} (report input)`, () => loadReportInput(dir)));
        outcomes.push(
          await verdictAsync(dir, `${label} (analyze)`, async () =>
            checkWarnings(label, (await analyzeRun(dir, ANALYZE)).analysis),
          ),
        );
        break;
      case 'analysis.json': {
        outcomes.push(verdict(dir, `${label} (report input)`, () => loadReportInput(dir)));
        const v = await verdictAsync(dir, `${label} (analyze)`, async () =>
          checkWarnings(label, (await analyzeRun(dir, ANALYZE)).analysis),
        );
        // never lost: refused and untouched, or moved aside byte for byte, or read as it is
        const now = existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
        const bak = join(dir, 'analysis.json.bak');
        if (v === 'refused') {
          expect(now && Buffer.from(now).equals(Buffer.from(m.bytes)), `${label}: refused but changed`).toBe(true);
          outcomes.push('refused, left as it was');
        } else if (existsSync(bak)) {
          expect(Buffer.from(readFileSync(bak)).equals(Buffer.from(m.bytes)), `${label}: the copy differs`).toBe(true);
          outcomes.push('moved aside');
        } else outcomes.push('accepted');
        break;
      }
    }
    return { what: label, outcomes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

describe('fuzz corpus', () => {
  it(`${CASES} seeded mutants of a run's files: no crash, no hang, one-line errors naming the file`, async () => {
    const rng = new Rng(SEED);
    const byFile = new Map<string, number>();
    const byOutcome = new Map<string, number>();
    let slowest = { ms: 0, what: '' };
    let peakRss = process.memoryUsage().rss;
    const t0 = performance.now();
    // the cases are laid out by share, then shuffled, so any count keeps the proportions
    const kinds: FileKind[] = [];
    for (const { file, share } of FILES) for (let i = 0; i < Math.round(share * CASES); i++) kinds.push(file);
    while (kinds.length < CASES) kinds.push('checkpoint');
    rng.shuffle(kinds);
    for (let k = 0; k < CASES; k++) {
      const kind = kinds[k];
      const start = performance.now();
      const { what, outcomes } = await exercise(k, kind, rng);
      const ms = performance.now() - start;
      expect(ms, `${what}: took ${ms.toFixed(0)} ms`).toBeLessThan(CASE_BOUND_MS);
      if (ms > slowest.ms) slowest = { ms, what };
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      byFile.set(kind, (byFile.get(kind) ?? 0) + 1);
      for (const o of outcomes) byOutcome.set(o, (byOutcome.get(o) ?? 0) + 1);
    }
    const seconds = (performance.now() - t0) / 1000;
    const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(
      `fuzz: ${CASES} cases (seed ${SEED}) in ${seconds.toFixed(1)} s — by file: ${list(byFile)}; reader outcomes: ${list(byOutcome)}; ` +
        `slowest ${slowest.ms.toFixed(0)} ms (${slowest.what}); peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`,
    );
    // The corpus must reach both sides of every reader to mean anything.
    expect(byOutcome.get('refused') ?? 0).toBeGreaterThan(CASES / 4);
    expect(byOutcome.get('accepted') ?? 0).toBeGreaterThan(CASES / 10);
    expect(byOutcome.get('skipped with a warning') ?? 0).toBeGreaterThan(CASES / 20);
    expect(byOutcome.get('analysed') ?? 0).toBeGreaterThan(CASES / 50);
    expect(readdirSync(run.root)).toEqual(['pristine']); // every copy cleaned up
  }, 600_000);
});
