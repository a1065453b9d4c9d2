/**
 * Every file of a run directory is checked against its schema on load (issue 14, defects 5, 7 and
 * 11): valid JSON of the wrong shape, a tampered split, a checkpoint of another format — each is a
 * FormatError (one line, exit 2 in the CLI) naming the file, the key and the value, never a
 * TypeError from deep inside a command.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FormatError, UserError } from '../../src/errors.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { loadRun } from '../../src/run/open.ts';
import { fixtureMeta, SPECS } from './store-fixture.ts';
import { RunStore } from '../../src/run/store.ts';
import { smallRun, type SmallRun } from '../fuzz/fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-run-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const specs = SPECS;
const meta = fixtureMeta;
let count = 0;
const fresh = () => {
  const name = `r${count++}`;
  return RunStore.create(
    join(root, name),
    meta(name),
    { train: Int32Array.from([0, 2]), test: Int32Array.from([1, 3]) },
    { train_fraction: 0.5, seed: 0, mode: 'shuffle' },
  );
};
const row = (step: number) => ({
  step,
  train_loss: 1,
  train_acc: 0.5,
  test_loss: 1,
  test_acc: 0.25,
  sq_norm: 3,
  lr: 0.001,
  wall_time: 0.5,
});

/** The message of the FormatError `f` throws; fails if it throws anything else or nothing. */
function formatError(f: () => unknown, klass: typeof FormatError | typeof ConfigError = FormatError): string {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(klass);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('run.json', () => {
  const withRunJson = (text: string) => {
    const s = fresh();
    writeFileSync(s.path('run.json'), text);
    return s;
  };
  const edited = (edit: (m: Record<string, unknown>) => void) => {
    const m = meta('x') as unknown as Record<string, unknown>;
    edit(m);
    return withRunJson(JSON.stringify(m));
  };

  it('null, an array or a number is one error naming the file', () => {
    for (const text of ['null', '[]', '5', '"run"']) {
      const s = withRunJson(text);
      expect(formatError(() => RunStore.open(s.dir))).toMatch(
        new RegExp(`^${s.path('run.json')}: \\(top level\\): .* is not allowed; expected an object`),
      );
    }
  });

  it('wrong-typed fields name the key and the value', () => {
    const cases: [(m: Record<string, unknown>) => void, RegExp][] = [
      [
        (m) => (m.backend = null),
        /run\.json: backend: null is not allowed; expected an object \{name, requested, tfjs_version/,
      ],
      [(m) => ((m.backend as Record<string, unknown>).name = 5), /backend\.name: 5 is not allowed; expected a string/],
      [(m) => (m.dataset = 'x'), /dataset: "x" is not allowed; expected an object \{description, n,/],
      [
        (m) => ((m.dataset as Record<string, unknown>).n = -3),
        /dataset\.n: -3 is not allowed; expected a positive integer/,
      ],
      [
        (m) => (m.params = [{ name: 'a', shape: 'big' }]),
        /params\[0\]\.shape: "big" is not allowed; expected a list of non-negative integers/,
      ],
      [(m) => (m.n_params = '9'), /n_params: "9" is not allowed; expected a non-negative integer/],
      [(m) => (m.config = null), /config: null is not allowed; expected an object/],
      [(m) => delete m.name, /name: missing; expected a string/],
      [
        (m) => (m.imported_from = { sources: 'x' }),
        /imported_from\.sources: "x" is not allowed; expected a list of \{file, sha256, bytes\}/,
      ],
    ];
    for (const [edit, problem] of cases) {
      const s = edited(edit);
      expect(formatError(() => s.meta())).toMatch(problem);
    }
  });

  it('a wrong config value is a ConfigError naming run.json, the key and the value', () => {
    const s = edited((m) => ((m.config as { optimizer: { lr: unknown } }).optimizer.lr = 'fast'));
    expect(formatError(() => s.meta(), ConfigError)).toBe(
      `${s.path('run.json')}: config: optimizer.lr: "fast" is not allowed; expected a number > 0`,
    );
  });

  it('a newer format version says so', () => {
    const s = edited((m) => (m.format_version = 3));
    expect(formatError(() => s.meta())).toMatch(
      /reads versions 1 and 2, the file is version 3 \(written by a newer groklens/,
    );
  });

  it('notes are never taken from the file', () => {
    const s = edited((m) => (m.notes = 5));
    expect(s.meta().notes).toBeUndefined();
  });

  it('values are shown bounded: a 1 MB string gives a short message', () => {
    const s = edited((m) => (m.preset = { x: 'y'.repeat(1e6) }));
    const message = formatError(() => s.meta());
    expect(message.length).toBeLessThan(300);
    expect(message).toMatch(/preset: \{"x":"yyy.*\.\.\. is not allowed; expected a preset name or null/);
  });

  it('a value nested a million deep is refused without overflowing the stack', () => {
    const deep = '['.repeat(1e6) + ']'.repeat(1e6);
    const s = withRunJson(JSON.stringify(meta('x')).replace('"preset":null', `"preset":${deep}`));
    expect(formatError(() => s.meta())).toMatch(/preset: \[\[\[.*is not allowed/);
  });

  it('a config value nested 100k deep is a one-line ConfigError, not a stack overflow', () => {
    const deep = '['.repeat(1e5) + ']'.repeat(1e5);
    const text = JSON.stringify(meta('x'));
    const at = text.indexOf('"checkpoints":{') + '"checkpoints":'.length;
    const s = withRunJson(text.slice(0, at) + deep + text.slice(text.indexOf('}', at) + 1));
    expect(formatError(() => s.meta(), ConfigError)).toMatch(
      /run\.json: config: checkpoints: \[\[\[.*\]\]\] is not allowed; expected an object/,
    );
  });

  it('a FIFO named run.json is refused at once, never waited on', () => {
    const s = fresh();
    rmSync(s.path('run.json'));
    execFileSync('mkfifo', [s.path('run.json')]);
    expect(formatError(() => RunStore.open(s.dir))).toMatch(/run\.json: not a regular file/);
  });
});

describe('status.json', () => {
  it('null, or checkpoints of the wrong type, name the key', () => {
    const s = fresh();
    writeFileSync(s.path('status.json'), 'null');
    expect(formatError(() => s.status())).toMatch(
      /status\.json: \(top level\): null is not allowed; expected an object \{format_version, state/,
    );
    const good = { format_version: 2, state: 'running', step: 0, final_step: null, checkpoints: [], updated_at: 'now' };
    const cases: [object, RegExp][] = [
      [{ ...good, checkpoints: 'x' }, /checkpoints: "x" is not allowed; expected a list of steps/],
      [{ ...good, checkpoints: [0, -5] }, /checkpoints\[1\]: -5 is not allowed; expected a non-negative integer/],
      [{ ...good, state: 'sleeping' }, /state: "sleeping" is not allowed; expected one of running, finished/],
      [{ ...good, step: 1.5 }, /step: 1\.5 is not allowed/],
      [
        { ...good, divergence: { step: 3, what: 'train loss', detail: 'x', on_divergence: 'stop' } },
        /divergence\.last_finite_checkpoint: missing; expected a step/,
      ],
      [
        {
          ...good,
          divergence: { step: 3, what: 'luck', detail: 'x', last_finite_checkpoint: null, on_divergence: 'stop' },
        },
        /divergence\.what: "luck" is not allowed/,
      ],
      [{ ...good, error: 42 }, /error: 42 is not allowed; expected a string/],
      [{ ...good, format_version: 7 }, /format_version: .*version 7 \(written by a newer groklens/],
    ];
    for (const [status, problem] of cases) {
      writeFileSync(s.path('status.json'), JSON.stringify(status));
      expect(formatError(() => s.status())).toMatch(problem);
    }
  });
});

describe('metrics.jsonl', () => {
  it('a null or non-object line in the middle is an error naming the line', () => {
    const s = fresh();
    for (const bad of ['null', '[1, 2]', '"x"', '{"step": "ten"}']) {
      writeFileSync(s.path('metrics.jsonl'), `${JSON.stringify(row(1))}\n${bad}\n${JSON.stringify(row(2))}\n`);
      expect(formatError(() => s.metrics())).toMatch(/metrics\.jsonl: line 2: /);
    }
    writeFileSync(s.path('metrics.jsonl'), `${JSON.stringify(row(1))}\nnull\n${JSON.stringify(row(2))}\n`);
    expect(formatError(() => s.metrics())).toBe(
      `${s.path('metrics.jsonl')}: line 2: null is not allowed; expected an object {step, train_loss, train_acc, test_loss, test_acc, sq_norm, lr, wall_time}`,
    );
  });

  it('checks each value, and that steps ascend', () => {
    const s = fresh();
    const cases: [object, RegExp][] = [
      [{ ...row(5), train_acc: 3 }, /line 2: train_acc: 3 is not allowed; expected a number in \[0, 1\] or null/],
      [{ ...row(5), sq_norm: 'big' }, /line 2: sq_norm: "big" is not allowed/],
      [{ ...row(0) }, /line 2: step: 0 is not allowed; expected steps in ascending order \(line 1 has step 1\)/],
    ];
    for (const [r, problem] of cases) {
      writeFileSync(s.path('metrics.jsonl'), `${JSON.stringify(row(1))}\n${JSON.stringify(r)}\n`);
      expect(formatError(() => s.metrics())).toMatch(problem);
    }
  });

  it('still ignores a torn last line, and reads non-finite values (null) and imported rows', () => {
    const s = fresh();
    const imported = {
      step: 3,
      train_loss: null,
      train_acc: null,
      test_loss: null,
      test_acc: null,
      sq_norm: 2,
      lr: null,
      wall_time: null,
      imported: true,
    };
    writeFileSync(
      s.path('metrics.jsonl'),
      `${JSON.stringify({ ...row(1), train_loss: null })}\n${JSON.stringify(imported)}\n{"step": 4, "tra`,
    );
    expect(s.metrics().map((r) => r.step)).toEqual([1, 3]);
  });
});

describe('split.json against the task (defect 7)', () => {
  const withSplit = (train: unknown, test: unknown, extra: object = {}) => {
    const s = fresh();
    writeFileSync(s.path('split.json'), JSON.stringify({ format_version: 2, train, test, ...extra }));
    return s;
  };
  it('refuses indices outside the task, negative or fractional ones, duplicates and overlaps, naming key and index', () => {
    const cases: [unknown, unknown, RegExp][] = [
      [
        [0, 100000],
        [1, 3],
        /train\[1\]: 100000 is not allowed; expected an example index in \[0, 3\] \(the task has 4 examples\)/,
      ],
      [[0, 2], [1, -1], /test\[1\]: -1 is not allowed; expected an example index in \[0, 3\]/],
      [[0, 2.5], [1, 3], /train\[1\]: 2\.5 is not allowed/],
      [[0, '2'], [1, 3], /train\[1\]: "2" is not allowed/],
      [
        [0, 2],
        [2, 1],
        /test\[0\]: 2 is not allowed; example 2 is already train\[1\] \(each example is in train or test, once\)/,
      ],
      [[0, 0], [1, 3], /train\[1\]: 0 is not allowed; example 0 is already train\[0\]/],
      [[0, 2], [1], /2\+1 indices but the task has 4 examples/],
      [[], [0, 1, 2, 3], /train: \[\] is not allowed; expected at least one example index/],
    ];
    for (const [train, test, problem] of cases) {
      const s = withSplit(train, test);
      expect(formatError(() => s.split(4))).toMatch(problem);
    }
    expect(formatError(() => withSplit([0, 2], [1, 3], { n_train: 3 }).split(4))).toMatch(
      /n_train: 3 is not allowed; expected 2 \(the length of train\)/,
    );
    expect(Array.from(withSplit([0, 2], [1, 3]).split(4).test)).toEqual([1, 3]);
  });
});

describe('checkpoints (defect 11)', () => {
  const params = {
    a: { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array(6) },
    b: { dtype: 'F32' as const, shape: [3], data: new Float32Array(3) },
  };
  it('refuses another format or format_version in the metadata, or a missing step', () => {
    const s = fresh();
    const file = s.checkpointPath(5);
    const cases: [Record<string, string>, RegExp][] = [
      [
        { format: 'groklens-resume', format_version: '1', step: '5' },
        /metadata format: "groklens-resume" is not allowed; expected "groklens-checkpoint"/,
      ],
      [{ format_version: '1', step: '5' }, /metadata format: missing; expected "groklens-checkpoint"/],
      [
        { format: 'groklens-checkpoint', format_version: '2', step: '5' },
        /metadata format_version: "2" is not allowed; expected "1" \(this groklens reads checkpoint format version 1; the file was written by a newer groklens\)/,
      ],
      [
        { format: 'groklens-checkpoint', format_version: 'one', step: '5' },
        /metadata format_version: "one" is not allowed/,
      ],
      [{ format: 'groklens-checkpoint', format_version: '1' }, /metadata step: missing; expected "5"/],
      [
        { format: 'groklens-checkpoint', format_version: '1', step: '5.0' },
        /metadata step is 5\.0 but the file name says 5/,
      ],
    ];
    for (const [metadata, problem] of cases) {
      writeSafetensors(file, params, metadata);
      expect(formatError(() => s.readCheckpoint(5, specs))).toMatch(problem);
    }
    writeSafetensors(file, params, { format: 'groklens-checkpoint', format_version: '1', step: '5' });
    expect(Object.keys(s.readCheckpoint(5, specs))).toEqual(['a', 'b']);
  });

  it('100k extra tensors give a short message', () => {
    const s = fresh();
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = { ...params };
    for (let i = 0; i < 100_000; i++)
      tensors[`extra.${i}.${'x'.repeat(20)}`] = { dtype: 'F32', shape: [0], data: new Float32Array(0) };
    writeSafetensors(s.checkpointPath(5), tensors, { format: 'groklens-checkpoint', format_version: '1', step: '5' });
    const message = formatError(() => s.readCheckpoint(5, specs));
    expect(message.length).toBeLessThan(600);
    expect(message).toMatch(/unexpected tensor\(s\) 'extra\.0\.x+', .* and 99995 more not in the run's model/);
  });
});

describe('resume.safetensors', () => {
  it('refuses another format in its metadata', () => {
    const s = fresh();
    writeSafetensors(
      s.path('resume.safetensors'),
      { 'param.a': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) } },
      { format: 'groklens-checkpoint', format_version: '2', step: '1' },
    );
    expect(formatError(() => s.readResume(specs))).toMatch(
      /resume\.safetensors: metadata format: "groklens-checkpoint" is not allowed; expected "groklens-resume"/,
    );
  });
});

it('the run directory files written by groklens itself pass every check', () => {
  const s = fresh();
  s.appendMetrics(row(0));
  expect(readFileSync(s.path('run.json'), 'utf8')).toMatch(/"format_version": 2/);
  expect(s.meta().name).toMatch(/^r\d+$/);
  expect(s.status().state).toBe('running');
  expect(s.split(4).train.length).toBe(2);
  expect(s.metrics()).toHaveLength(1);
});

describe('run.json against the dataset and model its config builds', () => {
  let small: SmallRun;
  beforeAll(async () => {
    small = await smallRun({ analyse: false });
  });
  afterAll(() => rmSync(small.root, { recursive: true, force: true }));

  it('a lying dataset, split size or params entry is refused naming run.json; a huge p is refused before any allocation', () => {
    const cases: [
      (m: {
        dataset: Record<string, number>;
        config: { task: { p: number } };
        params: { shape: number[] }[];
      }) => unknown,
      RegExp,
    ][] = [
      [
        (m) => (m.dataset.n = 144),
        /run\.json: dataset\.n: 144 is not allowed; the config's task \(a\+b mod 11\) has 121/,
      ],
      [
        (m) => (m.config.task.p = 12),
        /run\.json: dataset\.n: 121 is not allowed; the config's task \(a\+b mod 12\) has 144/,
      ],
      [
        (m) => (m.dataset.n_train = 61),
        /run\.json: dataset\.n_train: 61 is not allowed; split\.json has 60 train examples/,
      ],
      [
        (m) => (m.params[0].shape = [12, 17]),
        /run\.json: params\[0\]: embed\.W_E \[12, 17\] is not allowed; the config's model has embed\.W_E \[12, 16\]/,
      ],
      [
        (m) => m.params.pop(),
        /run\.json: params\[\d+\]: nothing is not allowed; the config's model has unembed\.b_U \[11\]/,
      ],
      [(m) => (m.config.task.p = 1e6), /run\.json: config: task\.p: this run needs about .* of memory/],
    ];
    for (const [edit, problem] of cases) {
      const dir = small.copy(`lie-${count++}`);
      const m = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      edit(m);
      writeFileSync(join(dir, 'run.json'), JSON.stringify(m));
      let message = '';
      try {
        loadRun(dir);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        message = (e as Error).message;
      }
      expect(message).toMatch(problem);
    }
    expect(loadRun(small.dir).split.train.length).toBe(60);
  });
});
