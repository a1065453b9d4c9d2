/**
 * A sweep checks every file it reads (issue 14, "one line, exit 2, for every bad file"): a damaged
 * manifest is an error naming the file, key and value; a damaged file of one run never stops
 * `sweep status` — the run is failed (status.json, run.json) — and a damaged analysis.json is left
 * out of `sweep report` with a warning, never silently; a damaged metrics.jsonl, which the
 * aggregate is made of, is an error naming the file and the line.
 */
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { loadSweep } from '../../analyses/sweep/load.ts';
import { runState } from '../../src/sweep/status.ts';
import {
  claimRun,
  manifestPath,
  readAttempt,
  readManifest,
  runDir,
  UNREADABLE_CLAIM_GRACE_MS,
} from '../../src/sweep/store.ts';
import {
  ANALYSED_C_ID,
  FAILED_ID,
  minimalAnalysis,
  NO_WORKERS,
  UNFINISHED_ID,
  WITH_REPORT_ID,
  writeSyntheticSweep,
} from '../reports/sweep-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-sweep-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const sweep = () => {
  const dir = join(root, `s${n++}`);
  writeSyntheticSweep(dir);
  return dir;
};

function formatError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('manifest.json', () => {
  it('wrong-shaped runs, unsafe or repeated ids and a bad base config are one error naming the key', () => {
    const cases: [
      (m: { runs: Record<string, unknown>[]; base: { config: Record<string, unknown> } }) => void,
      RegExp,
    ][] = [
      [
        (m) => (m.runs[0] = null as never),
        /manifest\.json: runs\[0\]: null is not allowed; expected an object \{id, index, dir, settings, seed, diff\}/,
      ],
      [
        (m) => (m.runs[1].id = '../../elsewhere'),
        /runs\[1\]\.id: "\.\.\/\.\.\/elsewhere" is not allowed; expected a run id/,
      ],
      [(m) => (m.runs[1].id = '..'), /runs\[1\]\.id: "\.\." is not allowed/],
      [(m) => (m.runs[2].id = m.runs[0].id), /runs\[2\]\.id: ".*" is not allowed; runs\[0\] has the same id/],
      [
        (m) => (m.runs[0].diff = 'none'),
        /runs\[0\]\.diff: "none" is not allowed; expected a list of \{key, from, to\}/,
      ],
      [
        (m) => ((m.base.config.optimizer as Record<string, unknown>).lr = -1),
        /manifest\.json: base\.config: optimizer\.lr: -1 is not allowed/,
      ],
    ];
    for (const [edit, problem] of cases) {
      const dir = sweep();
      const m = JSON.parse(readFileSync(manifestPath(dir), 'utf8'));
      edit(m);
      writeFileSync(manifestPath(dir), JSON.stringify(m));
      expect(() => loadSweep(dir, NO_WORKERS)).toThrow(UserError);
      expect(formatError(() => readManifest(dir))).toMatch(problem);
    }
  });

  it('a newer format version says so', () => {
    const dir = sweep();
    const m = JSON.parse(readFileSync(manifestPath(dir), 'utf8'));
    writeFileSync(manifestPath(dir), JSON.stringify({ ...m, format_version: 2 }));
    expect(formatError(() => readManifest(dir))).toMatch(
      /format_version: this groklens reads version 1, the file is version 2 \(written by a newer groklens/,
    );
  });
});

describe('the files of one run', () => {
  it('a damaged analysis.json is left out with a warning naming it, not silently', () => {
    const dir = sweep();
    const file = join(runDir(dir, ANALYSED_C_ID), 'analysis.json');
    writeFileSync(file, JSON.stringify({ ...minimalAnalysis(ANALYSED_C_ID, 1e-3, [1]), key_frequencies: 'x' }));
    const { inputs, warnings } = loadSweep(dir, NO_WORKERS);
    expect(inputs.find((r) => r.id === ANALYSED_C_ID)!.analysis).toBeNull();
    expect(warnings).toEqual([
      `${file}: key_frequencies: "x" is not allowed; expected a list of frequencies (positive integers); its contraction rate and key frequencies are left out`,
    ]);
    writeFileSync(file, JSON.stringify({ format: 'groklens-analysis', format_version: 9 }));
    expect(loadSweep(dir, NO_WORKERS).warnings[0]).toMatch(
      /analysis\.json: format_version: the file is version 9, written by a newer groklens; this groklens \(.*\) reads version 2 and leaves the file as it is/,
    );
  });

  it('a damaged metrics.jsonl is an error naming the file and the line (the aggregate is made of its rows)', () => {
    const dir = sweep();
    const file = join(runDir(dir, WITH_REPORT_ID), 'metrics.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.splice(1, 0, 'null');
    writeFileSync(file, lines.join('\n'));
    expect(formatError(() => loadSweep(dir, NO_WORKERS))).toBe(
      `${file}: line 2: null is not allowed; expected an object {step, train_loss, train_acc, test_loss, test_acc, sq_norm, lr, wall_time}`,
    );
  });

  it('a damaged status.json or run.json makes that run failed, naming the file; a retry would resume, never restart', () => {
    const dir = sweep();
    const status = join(runDir(dir, WITH_REPORT_ID), 'status.json');
    for (const [text, problem] of [
      ['null', /status\.json: \(top level\): null is not allowed/],
      [
        '{"state": "finished", "step": "x", "final_step": null}',
        /status\.json: step: "x" is not allowed; expected a non-negative integer/,
      ],
      [
        '{"state": "diverged", "step": 3, "final_step": null, "divergence": 5}',
        /status\.json: divergence: 5 is not allowed/,
      ],
    ] as const) {
      writeFileSync(status, text);
      expect(runState(dir, WITH_REPORT_ID, NO_WORKERS)).toMatchObject({
        state: 'failed',
        reason: expect.stringMatching(problem),
        action: 'resume',
      });
    }
    writeFileSync(join(runDir(dir, UNFINISHED_ID), 'run.json'), '{"config": {"training": {"steps": "many"}}}');
    expect(runState(dir, UNFINISHED_ID, NO_WORKERS)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/run\.json: config\.training\.steps: "many" is not allowed/),
    });
    expect(
      loadSweep(dir, NO_WORKERS)
        .states.filter((s) => s.state === 'failed')
        .map((s) => s.id)
        .sort(),
    ).toEqual([FAILED_ID, UNFINISHED_ID, WITH_REPORT_ID].sort());
  });

  it('a sweep-attempt.json of the wrong shape is ignored, not a crash', () => {
    const dir = sweep();
    const run = runDir(dir, UNFINISHED_ID);
    writeFileSync(join(run, 'sweep-attempt.json'), JSON.stringify({ attempt: 1, state: 'failed', error: 5 }));
    expect(readAttempt(run)).toBeNull();
    expect(() => runState(dir, UNFINISHED_ID, NO_WORKERS)).not.toThrow();
  });

  it('a torn sweep-claim (a crash between creating and writing it) is taken over once it is old', () => {
    const dir = join(root, `claim${n++}`);
    const me = { host: 'here', pid: 7 };
    const never = () => false;
    expect(claimRun(dir, me, never)).toBe(true);
    writeFileSync(join(dir, 'sweep-claim'), '');
    expect(claimRun(dir, me, never)).toBe(false); // could still be being written
    const old = new Date(Date.now() - UNREADABLE_CLAIM_GRACE_MS - 1000);
    utimesSync(join(dir, 'sweep-claim'), old, old);
    expect(claimRun(dir, me, never)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'sweep-claim'), 'utf8'))).toEqual(me);
  });
});
