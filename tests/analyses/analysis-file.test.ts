/**
 * analysis.json is checked against its schema wherever it is read (issue 14, defects 5, 6, 11):
 * `report` refuses a wrong-shaped file with one line naming the key; `analyze` refuses to
 * overwrite a file of a newer format version, moves a damaged one aside (never destroys it),
 * keeps its warnings short, and re-derives the NTK probe from its seed instead of trusting the
 * file (exact after an interruption, and safe from a hand-edited probe).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { checkAnalysisValue, NewerAnalysisError, parseAnalysis } from '../../analyses/store.ts';
import { ANALYSIS_FORMAT_VERSION, type AnalysisFile } from '../../analyses/types.ts';
import { writeRunReport } from '../../cli/commands/report.ts';
import { FormatError } from '../../src/errors.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { checkpointName } from '../../src/run/store.ts';
import { smallRun, type SmallRun } from '../fuzz/fixture.ts';

let run: SmallRun;
let pristine: AnalysisFile;
beforeAll(async () => {
  run = await smallRun();
  pristine = JSON.parse(readFileSync(join(run.dir, 'analysis.json'), 'utf8'));
});
afterAll(() => rmSync(run.root, { recursive: true, force: true }));

let n = 0;
/** A copy of the run whose analysis.json is `edit`ed. */
function withAnalysis(edit: (a: Record<string, unknown>) => void): string {
  const dir = run.copy(`a${n++}`);
  const a = structuredClone(pristine) as unknown as Record<string, unknown>;
  edit(a);
  writeFileSync(join(dir, 'analysis.json'), JSON.stringify(a));
  return dir;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('report on a wrong-shaped analysis.json', () => {
  it('"warnings": "x" and other wrong types are one FormatError naming the key', () => {
    const cases: [(a: Record<string, unknown>) => void, RegExp][] = [
      [(a) => (a.warnings = 'x'), /analysis\.json: warnings: "x" is not allowed; expected a list of \{file, problem\}/],
      [(a) => (a.warnings = [{ file: 1 }]), /warnings\[0\]\.file: 1 is not allowed; expected a string/],
      [
        (a) => ((a.checkpoints as { metrics: { test_acc: unknown } }[])[1].metrics.test_acc = 'high'),
        /checkpoints\[1\]\.metrics\.test_acc: "high" is not allowed; expected a number in \[0, 1\] or null/,
      ],
      [
        (a) => ((a.summary as Record<string, unknown>).boundaries = {}),
        /summary\.boundaries: \{\} is not allowed; expected a list of \{from, to, step, reason\}/,
      ],
      [
        (a) => ((a.options as Record<string, unknown>).passes = ['metrics', 'magic']),
        /options\.passes\[1\]: "magic" is not allowed; expected one of "metrics", "fourier"/,
      ],
      [(a) => (a.run = null), /run: null is not allowed; expected an object \{name, task, model, n_params/],
      [
        (a) => (a.key_frequencies = [1, 9]),
        /key_frequencies\[1\]: 9 is not allowed; expected a frequency in 1…5 \(the group has order 11\)/,
      ],
      [
        (a) => ((a.checkpoints as { step: number }[])[2].step = 1),
        /checkpoints\[2\]\.step: 1 is not allowed; expected steps in strictly ascending order/,
      ],
    ];
    for (const [edit, problem] of cases) {
      const dir = withAnalysis(edit);
      const e = thrown(() => writeRunReport(dir));
      expect(e, e.stack).toBeInstanceOf(FormatError);
      expect(e.message).toMatch(problem);
      expect(e.message.startsWith(join(dir, 'analysis.json'))).toBe(true);
    }
  });

  it('arrays the charts pair up must match: checked by the report after the reader, naming the file, key and value', () => {
    const K = Math.floor(pristine.group.n / 2);
    const cases: [(a: Record<string, unknown>) => void, string][] = [
      [
        (a) => (a.checkpoints as AnalysisFile['checkpoints'])[1].fourier!.embed_norms.pop(),
        `checkpoints[1].fourier.embed_norms: expected ${K + 1} numbers, got "${K} numbers"`,
      ],
      [
        (a) => (a.checkpoints as AnalysisFile['checkpoints'])[3].circuit!.excluded_loss_per_key.push(0.5),
        `checkpoints[3].circuit.excluded_loss_per_key: expected ${pristine.key_frequencies.length} numbers, got "${pristine.key_frequencies.length + 1} numbers"`,
      ],
    ];
    for (const [edit, problem] of cases) {
      const dir = withAnalysis(edit);
      const e = thrown(() => writeRunReport(dir));
      expect(e, e.stack).toBeInstanceOf(FormatError);
      expect(e.message).toBe(`${join(dir, 'analysis.json')}: ${problem}`);
    }
  });

  it('an analysis built in memory goes through the same reader: "warnings": "x" is refused by key', () => {
    const e = thrown(() => checkAnalysisValue({ ...pristine, warnings: 'x' }, 'analysis.json'));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toBe('analysis.json: warnings: "x" is not allowed; expected a list of {file, problem}');
  });

  it('the files analyze writes pass the schema', () => {
    expect(
      parseAnalysis(readFileSync(join(run.dir, 'analysis.json'), 'utf8'), 'analysis.json').checkpoints.map(
        (c) => c.step,
      ),
    ).toEqual([0, 5, 10, 15, 20]);
    const fixture = join(import.meta.dirname, '../../fixtures/reports/synthetic/analysis.json');
    expect(() => parseAnalysis(readFileSync(fixture, 'utf8'), fixture)).not.toThrow();
  });
});

describe('analyze and an existing analysis.json (defect 6)', () => {
  it('refuses a newer format version and leaves the file exactly as it was', async () => {
    const dir = withAnalysis((a) => (a.format_version = ANALYSIS_FORMAT_VERSION + 1));
    const before = readFileSync(join(dir, 'analysis.json'));
    const e = await analyzeRun(dir).catch((x: Error) => x);
    expect(e).toBeInstanceOf(NewerAnalysisError);
    expect((e as Error).message).toMatch(
      /analysis\.json: format_version: the file is version 3, written by a newer groklens; this groklens \(.*\) reads version 2 and leaves the file as it is/,
    );
    expect(readFileSync(join(dir, 'analysis.json')).equals(before)).toBe(true);
  });

  it('moves an older or damaged one aside to analysis.json.bak (then .bak.2), and starts afresh', async () => {
    const dir = withAnalysis((a) => (a.warnings = 'x'));
    const damaged = readFileSync(join(dir, 'analysis.json'), 'utf8');
    const logs: string[] = [];
    const { analysis } = await analyzeRun(dir, { probeSize: 16, onLog: (l) => logs.push(l) });
    expect(readFileSync(join(dir, 'analysis.json.bak'), 'utf8')).toBe(damaged);
    expect(logs.join('\n')).toMatch(
      /analysis\.json: warnings: "x" is not allowed.*: moved it to .*analysis\.json\.bak, starting afresh/,
    );
    expect(analysis.checkpoints.map((c) => c.step)).toEqual([0, 5, 10, 15, 20]);
    writeFileSync(join(dir, 'analysis.json'), JSON.stringify({ ...analysis, format_version: 0 }));
    await analyzeRun(dir, { probeSize: 16 });
    expect(JSON.parse(readFileSync(join(dir, 'analysis.json.bak.2'), 'utf8')).format_version).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8')).format_version).toBe(ANALYSIS_FORMAT_VERSION);
  });

  it('reads a version-1 file: v_post becomes v_fit_end, v_at_grok comes from the T_grok checkpoint', () => {
    const a = JSON.parse(readFileSync(join(run.dir, 'analysis.json'), 'utf8'));
    const step = a.checkpoints[2].step;
    const sq = a.checkpoints[2].norms.sq_norm_total;
    a.format_version = 1;
    a.summary.t_grok_95 = step;
    a.summary.contraction = { c: 1e-3, c_over_lr_wd: 1, v_mem: 9, v_mem_fit: 9, v_post: 7.5, r2: 0.9, from: 0, to: 20 };
    const read = parseAnalysis(JSON.stringify(a), 'old.json');
    expect(read.format_version).toBe(ANALYSIS_FORMAT_VERSION);
    expect(read.summary.contraction).toEqual({
      c: 1e-3,
      c_over_lr_wd: 1,
      v_mem: 9,
      v_mem_fit: 9,
      v_at_grok: sq,
      v_fit_end: 7.5,
      r2: 0.9,
      from: 0,
      to: 20,
    });
    a.summary.t_grok_95 = null; // never grokked: no V at T_grok
    expect(parseAnalysis(JSON.stringify(a), 'old.json').summary.contraction!.v_at_grok).toBeNull();
    a.format_version = 2; // a version-2 file must carry the new names
    expect(() => parseAnalysis(JSON.stringify(a), 'new.json')).toThrow(/summary\.contraction/);
  });
});

describe('warnings and damaged side files', () => {
  it('a checkpoint with 100k extra tensors gives one short warning, reported once', async () => {
    const dir = run.copy(`w${n++}`);
    rmSync(join(dir, 'analysis.json'));
    const file = join(dir, 'checkpoints', checkpointName(20));
    const { tensors, metadata } = readSafetensors(file);
    const out: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(tensors))
      out[k] = { dtype: 'F32', shape: t.shape, data: t.data as Float32Array };
    for (let i = 0; i < 100_000; i++) out[`junk.${i}`] = { dtype: 'F32', shape: [0], data: new Float32Array(0) };
    writeSafetensors(file, out, metadata);
    const printed: string[] = [];
    const { analysis } = await analyzeRun(dir, { probeSize: 16, onWarning: (f, p) => printed.push(`${f}: ${p}`) });
    const mine = analysis.warnings.filter((w) => w.file === file);
    expect(mine).toHaveLength(1);
    expect(mine[0].problem.length).toBeLessThanOrEqual(300);
    expect(mine[0].problem).toMatch(/unexpected tensor\(s\) 'junk\.0', .* and 99995 more/);
    expect(printed.filter((l) => l.startsWith(file))).toHaveLength(1);
    expect(JSON.stringify(analysis).length).toBeLessThan(100_000);
    expect(analysis.checkpoints.filter((c) => c.metrics).map((c) => c.step)).toEqual([0, 5, 10, 15]);
  });

  it('a damaged metrics.jsonl or status.json is a warning, not the end of the analysis', async () => {
    const dir = run.copy(`m${n++}`);
    rmSync(join(dir, 'analysis.json'));
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n');
    lines.splice(1, 0, 'null');
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n'));
    const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
    writeFileSync(join(dir, 'status.json'), JSON.stringify({ ...status, checkpoints: 'x' }));
    const { analysis } = await analyzeRun(dir, { probeSize: 16 });
    expect(analysis.checkpoints).toHaveLength(5);
    const text = analysis.warnings.map((w) => `${w.file}: ${w.problem}`).join('\n');
    expect(text).toMatch(
      /metrics\.jsonl: line 2: null is not allowed; expected an object .*; the logged ‖θ‖² is not used/,
    );
    expect(text).toMatch(
      /status\.json: checkpoints: "x" is not allowed; expected a list of steps .*; read as a run that did not diverge/,
    );
  });
});

describe('the NTK probe is re-derived from its seed (defect 11)', () => {
  it('an analysis interrupted and resumed gives the NTK results of an uninterrupted one', async () => {
    const dir = withAnalysis((a) => {
      for (const c of (a.checkpoints as { step: number; ntk?: unknown }[]).slice(2)) delete c.ntk;
    });
    await analyzeRun(dir, { probeSize: 16 });
    const resumed = JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8')) as AnalysisFile;
    expect(resumed.checkpoints.map((c) => c.ntk)).toEqual(pristine.checkpoints.map((c) => c.ntk));
    expect(resumed.summary.contraction).toEqual(pristine.summary.contraction);
  });

  it('a hand-edited probe pointing outside the dataset does not stop the analysis', async () => {
    const dir = withAnalysis((a) => ((a.options as { probe: { indices: number[] } }).probe.indices[0] = 99_999));
    const { analysis } = await analyzeRun(dir, { probeSize: 16 });
    expect(analysis.options.probe?.indices).toEqual(pristine.options.probe?.indices);
    expect(analysis.checkpoints.every((c) => c.ntk)).toBe(true);
    expect(existsSync(join(dir, 'analysis.json.bak'))).toBe(false);
  });
});
