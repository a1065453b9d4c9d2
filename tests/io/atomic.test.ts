import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { appendLineDurable, readJsonlTolerant, removeStaleTemps, writeFileAtomic } from '../../src/io/atomic.ts';
import { FormatError } from '../../src/errors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'groklens-atomic-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A pid above Linux's pid_max (2^22), so no process can have it. */
const DEAD_PID = 99_999_999;

describe('writeFileAtomic', () => {
  test('writes strings as UTF-8 and bytes as given, replacing the old contents, leaving no temp file', () => {
    const target = join(dir, 'status.json');
    writeFileAtomic(target, '{"phase":"init"} — π');
    expect(readFileSync(target, 'utf8')).toBe('{"phase":"init"} — π');
    writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(target)]).toEqual([1, 2, 3]);
    writeFileAtomic(target, '');
    expect(readFileSync(target).length).toBe(0);
    expect(readdirSync(dir)).toEqual(['status.json']);
  });

  test('a crashed writer leaves a temp file that does not touch the target and is cleaned up', () => {
    const target = join(dir, 'run.json');
    writeFileAtomic(target, 'old, complete');
    // What a writer killed between write and rename leaves behind: a partial temp file.
    const stale = `.run.json.${DEAD_PID}.0.tmp`;
    writeFileSync(join(dir, stale), 'new, parti');
    expect(readFileSync(target, 'utf8')).toBe('old, complete');

    expect(removeStaleTemps(dir)).toEqual([stale]);
    expect(readdirSync(dir)).toEqual(['run.json']);
    expect(readFileSync(target, 'utf8')).toBe('old, complete');
    writeFileAtomic(target, 'new, complete');
    expect(readFileSync(target, 'utf8')).toBe('new, complete');
  });

  test('removeStaleTemps spares live writers and files it did not make', () => {
    const ours = `.a.${process.pid}.7.tmp`; // this process: writes are synchronous, so never in flight
    const live = `.b.${process.ppid}.0.tmp`; // a live process's temp file may be mid-write
    for (const name of [ours, live, 'notes.tmp', '.c.tmp', 'd.safetensors']) writeFileSync(join(dir, name), 'x');
    expect(removeStaleTemps(dir)).toEqual([ours]);
    expect(readdirSync(dir).sort()).toEqual([live, '.c.tmp', 'd.safetensors', 'notes.tmp'].sort());
    expect(removeStaleTemps(dir)).toEqual([]);
  });

  test('a temp name left by an earlier process with our pid (pid reuse) is skipped, not fatal', () => {
    const target = join(dir, 'status.json');
    // The counter is private; occupy far more names than this process can have used so far.
    const squatters = Array.from({ length: 2000 }, (_, i) => `.status.json.${process.pid}.${i}.tmp`);
    for (const name of squatters) writeFileSync(join(dir, name), 'stale');
    writeFileAtomic(target, 'fresh');
    expect(readFileSync(target, 'utf8')).toBe('fresh');
    expect(readdirSync(dir).length).toBe(squatters.length + 1);
    expect(readFileSync(join(dir, squatters[0]), 'utf8')).toBe('stale');
  });

  test('a failed rename removes the temp file and leaves the target as it was', () => {
    const target = join(dir, 'occupied');
    mkdirSync(target); // renaming a file over a directory fails
    writeFileSync(join(target, 'inside'), 'keep');
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(readdirSync(dir)).toEqual(['occupied']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('keep');
  });

  test('writing into a missing directory throws and creates nothing', () => {
    expect(() => writeFileAtomic(join(dir, 'nope', 'x.json'), 'data')).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('JSONL logs', () => {
  test('appended lines read back in order', () => {
    const log = join(dir, 'metrics.jsonl');
    for (let step = 0; step < 5; step++) appendLineDurable(log, JSON.stringify({ step, loss: 1 / (step + 1) }));
    const { rows, dropped } = readJsonlTolerant(log);
    expect(dropped).toBeNull();
    expect(rows).toEqual([0, 1, 2, 3, 4].map((step) => ({ step, loss: 1 / (step + 1) })));
  });

  test('an empty log and blank lines read as no rows', () => {
    const log = join(dir, 'metrics.jsonl');
    writeFileSync(log, '');
    expect(readJsonlTolerant(log)).toEqual({ rows: [], lines: [], dropped: null });
    writeFileSync(log, '\n{"a":1}\n   \n\r\n{"a":2}\n\n');
    expect(readJsonlTolerant(log)).toEqual({ rows: [{ a: 1 }, { a: 2 }], lines: [2, 5], dropped: null });
  });

  test('a line torn by a crash mid-append is dropped and reported', () => {
    const log = join(dir, 'metrics.jsonl');
    writeFileSync(log, '{"step":1}\n{"step":2}\n{"step":3,"lo');
    const { rows, dropped } = readJsonlTolerant(log);
    expect(rows).toEqual([{ step: 1 }, { step: 2 }]);
    expect(dropped).toMatchObject({ line: 3, text: '{"step":3,"lo' });
    expect(dropped!.reason).toMatch(/not valid JSON/);
  });

  test('a torn multi-byte character on the last line is dropped as not UTF-8', () => {
    const log = join(dir, 'metrics.jsonl');
    const good = Buffer.from('{"note":"ok"}\n');
    const torn = Buffer.from('{"note":"π"}').subarray(0, 10); // `{"note":"` is 9 bytes; this keeps half of π
    writeFileSync(log, Buffer.concat([good, torn]));
    const { rows, dropped } = readJsonlTolerant(log);
    expect(rows).toEqual([{ note: 'ok' }]);
    expect(dropped).toMatchObject({ line: 2, reason: 'not valid UTF-8' });
  });

  test('a corrupt line that is not the last is an error naming the file and line', () => {
    const log = join(dir, 'metrics.jsonl');
    writeFileSync(log, '{"step":1}\n{"step":2,,}\n{"step":3}\n');
    let err: unknown;
    try {
      readJsonlTolerant(log);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line 2: not valid JSON`),
    );
  });

  test('a missing log is a FormatError', () => {
    expect(() => readJsonlTolerant(join(dir, 'none.jsonl'))).toThrow(/none\.jsonl: file does not exist/);
  });

  test('appending after a torn line cuts the torn line off instead of fusing with it', () => {
    const log = join(dir, 'metrics.jsonl');
    writeFileSync(log, '{"step":1}\n{"step":2,"lo');
    appendLineDurable(log, '{"step":2}');
    expect(readFileSync(log, 'utf8')).toBe('{"step":1}\n{"step":2}\n');
    expect(readJsonlTolerant(log)).toEqual({ rows: [{ step: 1 }, { step: 2 }], lines: [1, 2], dropped: null });
  });

  test('appending after a complete line that lost its newline keeps the line', () => {
    const log = join(dir, 'metrics.jsonl');
    writeFileSync(log, '{"step":1}\n{"step":2}');
    appendLineDurable(log, '{"step":3}');
    expect(readFileSync(log, 'utf8')).toBe('{"step":1}\n{"step":2}\n{"step":3}\n');
  });

  test('appending after a torn line with no newline anywhere (torn first line, zero-filled tail)', () => {
    const log = join(dir, 'metrics.jsonl');
    writeFileSync(log, '{"st');
    appendLineDurable(log, '{"step":1}');
    expect(readFileSync(log, 'utf8')).toBe('{"step":1}\n');
    writeFileSync(log, Buffer.concat([Buffer.from('{"step":1}\n'), Buffer.alloc(100_000)]));
    appendLineDurable(log, '{"step":2}');
    expect(readFileSync(log, 'utf8')).toBe('{"step":1}\n{"step":2}\n');
  });

  test('appendLineDurable refuses a line with a newline in it and creates missing files', () => {
    const log = join(dir, 'new.jsonl');
    expect(() => appendLineDurable(log, '{"a":1}\n{"b":2}')).toThrow(/contains a newline/);
    expect(existsSync(log)).toBe(false);
    appendLineDurable(log, '{"a":1}');
    expect(readFileSync(log, 'utf8')).toBe('{"a":1}\n');
  });
});
