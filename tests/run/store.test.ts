/**
 * The run directory is validated on load: every malformed file is an error that names the file
 * and what is wrong, never a crash or a silent misread.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, UserError } from '../../src/errors.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { fixtureMeta, SPECS } from './store-fixture.ts';
import { RunStore, checkpointName } from '../../src/run/store.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const specs = SPECS;
const meta = fixtureMeta;
const split = { train: Int32Array.from([0, 2]), test: Int32Array.from([1, 3]) };
let count = 0;
const fresh = () => {
  const name = `r${count++}`;
  return RunStore.create(join(root, name), meta(name), split, { train_fraction: 0.5, seed: 0, mode: 'shuffle' });
};
const params = () => ({
  a: { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  b: { shape: [3], data: new Float32Array([7, 8, 9]) },
});

function expectFormatError(f: () => unknown, file: string, problem: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(problem);
}

describe('run store', () => {
  it('round-trips meta, split, metrics and checkpoints', () => {
    const s = fresh();
    const o = RunStore.open(s.dir);
    expect(o.meta().name).toBe(s.meta().name);
    expect(Array.from(o.split().train)).toEqual([0, 2]);
    s.appendMetrics({
      step: 0,
      train_loss: 1,
      train_acc: 0,
      test_loss: 1,
      test_acc: 0,
      sq_norm: 3,
      lr: 0,
      wall_time: 0,
    });
    expect(o.metrics()).toHaveLength(1);
    s.writeCheckpoint(5, params(), specs);
    expect(o.checkpointSteps()).toEqual([5]);
    expect(Array.from(o.readCheckpoint(5, specs).b.data)).toEqual([7, 8, 9]);
  });

  it('refuses to create a run over an existing one', () => {
    const s = fresh();
    expect(() => RunStore.create(s.dir, meta('x'), split, {})).toThrow(UserError);
    expect(() => RunStore.create(s.dir, meta('x'), split, {})).toThrow(/already exists/);
  });

  it('rejects a directory without run.json, naming it', () => {
    expect(() => RunStore.open(join(root, 'nothing'))).toThrow(/nothing: not a run directory/);
  });

  it('rejects run.json that is not JSON, of another format, or of another version', () => {
    const cases: [string, RegExp][] = [
      ['{"format": "groklens-run", "format_ver', /not valid JSON/],
      [JSON.stringify({ ...meta('x'), format: 'other' }), /format: expected "groklens-run", got "other"/],
      [
        JSON.stringify({ ...meta('x'), format_version: 99 }),
        /format_version: .* reads versions 1 and 2, the file is version 99/,
      ],
      [JSON.stringify({ ...meta('x'), config: undefined }), /config: missing/],
    ];
    for (const [text, problem] of cases) {
      const s = fresh();
      writeFileSync(s.path('run.json'), text);
      expectFormatError(() => RunStore.open(s.dir), s.path('run.json'), problem);
    }
  });

  it('rejects a split.json whose indices are not non-negative integers', () => {
    const s = fresh();
    writeFileSync(s.path('split.json'), JSON.stringify({ train: [0, -1], test: [1] }));
    expectFormatError(
      () => s.split(),
      s.path('split.json'),
      /train\[1\]: -1 is not allowed; expected a non-negative integer/,
    );
    writeFileSync(s.path('split.json'), JSON.stringify({ train: [0], test: 'all' }));
    expectFormatError(
      () => s.split(),
      s.path('split.json'),
      /test: "all" is not allowed; expected a list of example indices/,
    );
  });

  it('ignores a torn last metrics line (a crash mid-append) but keeps every whole line', () => {
    const s = fresh();
    const row = { step: 1, train_loss: 1, train_acc: 0, test_loss: 1, test_acc: 0, sq_norm: 3, lr: 0, wall_time: 0 };
    writeFileSync(
      s.path('metrics.jsonl'),
      JSON.stringify(row) + '\n' + JSON.stringify({ ...row, step: 2 }) + '\n{"step":3,"train_lo',
    );
    expect(s.metrics().map((r) => r.step)).toEqual([1, 2]);
  });

  it('rejects checkpoints that do not hold exactly the run parameters', () => {
    const s = fresh();
    const file = s.checkpointPath(7);
    const write = (tensors: Record<string, { shape: number[]; data: Float32Array | Float64Array }>, step = '7') =>
      writeSafetensors(
        file,
        Object.fromEntries(
          Object.entries(tensors).map(([k, t]) => [k, { dtype: t.data instanceof Float64Array ? 'F64' : 'F32', ...t }]),
        ) as never,
        { format: 'groklens-checkpoint', format_version: '1', step },
      );
    write({ a: params().a });
    expectFormatError(() => s.readCheckpoint(7, specs), file, /missing tensor 'b'/);
    write({ ...params(), c: { shape: [1], data: new Float32Array(1) } });
    expectFormatError(() => s.readCheckpoint(7, specs), file, /unexpected tensor\(s\) 'c'/);
    write({ ...params(), b: { shape: [1, 3], data: new Float32Array(3) } });
    expectFormatError(
      () => s.readCheckpoint(7, specs),
      file,
      /tensor 'b': shape \[1,3\] but the run's model needs \[3\]/,
    );
    write({ ...params(), b: { shape: [3], data: new Float64Array(3) } });
    expectFormatError(() => s.readCheckpoint(7, specs), file, /tensor 'b': expected F32, got F64/);
    write(params(), '8');
    expectFormatError(() => s.readCheckpoint(7, specs), file, /metadata step is 8 but the file name says 7/);
    writeFileSync(file, readFileSync(file).subarray(0, 40)); // truncated
    expect(() => s.readCheckpoint(7, specs)).toThrow(FormatError);
  });

  it('names checkpoints with zero-padded steps that sort in step order', () => {
    expect(checkpointName(42)).toBe('step-0000042.safetensors');
    const names = [1, 20, 300, 12345678].map(checkpointName);
    expect([...names].sort()).toEqual(names);
  });
});
