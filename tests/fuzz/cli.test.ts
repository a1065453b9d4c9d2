/**
 * The reproductions through the real command line (issue 14, defects 5, 6, 7, 11): each
 * damaged file gives exit status 2 and exactly one error line naming the file, with no stack
 * frames — or, where one bad file must not stop the command (analyze), exit 0 and one short
 * warning naming it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { checkpointName } from '../../src/run/store.ts';
import { smallRun, type SmallRun } from './fixture.ts';

const BIN = join(import.meta.dirname, '../../bin/groklens.js');

let run: SmallRun;
beforeAll(async () => {
  run = await smallRun();
  const status = JSON.parse(readFileSync(join(run.dir, 'status.json'), 'utf8'));
  writeFileSync(
    join(run.dir, 'status.json'),
    JSON.stringify({ ...status, state: 'interrupted', final_step: null }, null, 2),
  );
});
afterAll(() => rmSync(run.root, { recursive: true, force: true }));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GROKLENS_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000); // a hang fails the test, not the suite
    child.on('error', reject);
    child.on('close', (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
  });
}

let n = 0;
function damaged(file: string, edit: (text: string) => string): string {
  const dir = run.copy(`cli-${n++}`);
  const path = join(dir, file);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return dir;
}

const json = (edit: (v: Record<string, unknown>) => unknown) => (text: string) => {
  const v = JSON.parse(text);
  const out = edit(v);
  return JSON.stringify(out === undefined ? v : out);
};

/** Exit 2; one "groklens:" line, last, naming `file` and matching `problem`; the other lines are progress. */
function expectOneLine(r: Result, file: string, problem: RegExp): void {
  expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  const errors = lines.filter((l) => l.startsWith('groklens:'));
  expect(errors, r.stderr).toHaveLength(1);
  expect(lines.at(-1)).toBe(errors[0]);
  expect(errors[0]).toContain(file);
  expect(errors[0]).toMatch(problem);
  for (const l of lines.slice(0, -1)) expect(l).toMatch(/^(backend|note|warning): /);
}

describe('one line, exit 2, for every bad file', () => {
  it('run.json = null in analyze, report and train --resume', async () => {
    const dir = damaged('run.json', () => 'null');
    const file = join(dir, 'run.json');
    const rs = await Promise.all([
      cli(['analyze', dir, '-q', '--backend', 'wasm']),
      cli(['report', dir]),
      cli(['train', '--resume', dir, '-q', '--backend', 'wasm']),
    ]);
    for (const r of rs) expectOneLine(r, file, /\(top level\): null is not allowed; expected an object/);
  });

  it('run.json with "backend": null; status.json null or "checkpoints": "x"; a null metrics line — in train --resume', async () => {
    const cases: [string, (t: string) => string, RegExp][] = [
      ['run.json', json((v) => void (v.backend = null)), /backend: null is not allowed; expected an object/],
      ['status.json', () => 'null', /\(top level\): null is not allowed/],
      [
        'status.json',
        json((v) => void (v.checkpoints = 'x')),
        /checkpoints: "x" is not allowed; expected a list of steps/,
      ],
      ['metrics.jsonl', (t) => t.replace('\n', '\nnull\n'), /line 2: null is not allowed; expected an object \{step/],
      [
        'split.json',
        json((v) => void ((v.train as number[])[0] = 100_000)),
        /train\[0\]: 100000 is not allowed; expected an example index in \[0, 120\]/,
      ],
      [
        'split.json',
        json((v) => void ((v.test as number[])[0] = (v.train as number[])[0])),
        /test\[0\]: \d+ is not allowed; example \d+ is already train\[0\]/,
      ],
    ];
    const rs = await Promise.all(
      cases.map(([file, edit]) => {
        const dir = damaged(file, edit);
        return cli(['train', '--resume', dir, '-q', '--backend', 'wasm']).then((r) => ({ r, file: join(dir, file) }));
      }),
    );
    rs.forEach(({ r, file }, i) => expectOneLine(r, file, cases[i][2]));
  });

  it('analysis.json with "warnings": "x" in report; a newer analysis.json in analyze, left untouched', async () => {
    const bad = damaged(
      'analysis.json',
      json((v) => void (v.warnings = 'x')),
    );
    const newer = damaged(
      'analysis.json',
      json((v) => void (v.format_version = 3)),
    );
    const before = readFileSync(join(newer, 'analysis.json'));
    const [r1, r2] = await Promise.all([cli(['report', bad]), cli(['analyze', newer, '-q', '--backend', 'wasm'])]);
    expectOneLine(r1, join(bad, 'analysis.json'), /warnings: "x" is not allowed; expected a list of \{file, problem\}/);
    expectOneLine(
      r2,
      join(newer, 'analysis.json'),
      /the file is version 3, written by a newer groklens; this groklens .* reads version 2 and leaves the file as it is/,
    );
    expect(readFileSync(join(newer, 'analysis.json')).equals(before)).toBe(true);
  });

  it('inspect refuses a duplicated __metadata__ in one line', async () => {
    const dir = run.copy(`cli-${n++}`);
    const file = join(dir, 'checkpoints', checkpointName(5));
    const bytes = readFileSync(file);
    const len = Number(bytes.readBigUInt64LE(0));
    const header = bytes
      .subarray(8, 8 + len)
      .toString('utf8')
      .trimEnd();
    const twice = Buffer.from(`{"__metadata__":{"step":"999"},${header.slice(1)}`);
    const out = Buffer.alloc(8);
    out.writeBigUInt64LE(BigInt(twice.length));
    writeFileSync(file, Buffer.concat([out, twice, bytes.subarray(8 + len)]));
    expectOneLine(await cli(['inspect', file]), file, /header: key "__metadata__" appears twice/);
  });
});

describe('analyze goes on past one bad file, with one short warning', () => {
  it('a checkpoint with 100k extra tensors, and a null line in metrics.jsonl', async () => {
    const dir = run.copy(`cli-${n++}`);
    rmSync(join(dir, 'analysis.json'));
    const file = join(dir, 'checkpoints', checkpointName(15));
    const { tensors, metadata } = readSafetensors(file);
    const out: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(tensors))
      out[k] = { dtype: 'F32', shape: t.shape, data: t.data as Float32Array };
    for (let i = 0; i < 100_000; i++) out[`junk.${i}`] = { dtype: 'F32', shape: [0], data: new Float32Array(0) };
    writeSafetensors(file, out, metadata);
    const metrics = join(dir, 'metrics.jsonl');
    writeFileSync(metrics, readFileSync(metrics, 'utf8').replace('\n', '\nnull\n'));
    const r = await cli(['analyze', dir, '-q', '--backend', 'wasm', '--probe-size', '16']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings.filter((l) => l.includes(file))).toHaveLength(1);
    expect(warnings.filter((l) => l.includes(metrics))).toHaveLength(1);
    for (const w of warnings) expect(w.length).toBeLessThan(400);
    expect(r.stdout).toMatch(/analysis\.json: 4 checkpoints \(5 analysed now/); // step 15 skipped
  });
});
