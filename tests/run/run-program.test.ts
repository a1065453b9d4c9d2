/**
 * What reaches the user when a command fails: one line, never a stack trace (issue 14) — exit 2
 * for bad input and operating-system errors on files, exit 1 for a bug — unless GROKLENS_DEBUG
 * asks for the stack.
 */
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runProgram } from '../../cli/commands/run-program.ts';
import { FormatError } from '../../src/errors.ts';

const program = (fail: () => never) =>
  new Command()
    .exitOverride()
    .command('go')
    .action(() => fail()).parent!;

let stderr = '';
beforeEach(() => {
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.GROKLENS_DEBUG;
  process.exitCode = undefined;
});
const argv = ['node', 'groklens', 'go'];

describe('runProgram', () => {
  it('a UserError: its message, exit 2', async () => {
    await runProgram(
      program(() => {
        throw new FormatError('runs/x/run.json', 'name: missing');
      }),
      argv,
    );
    expect(stderr).toBe('groklens: runs/x/run.json: name: missing\n');
    expect(process.exitCode).toBe(2);
  });

  it('an operating-system error: the file, the operation and the reason, exit 2', async () => {
    const e = Object.assign(new Error("EACCES: permission denied, open 'runs/x/a'"), {
      code: 'EACCES',
      path: 'runs/x/a',
      syscall: 'open',
    });
    await runProgram(
      program(() => {
        throw e;
      }),
      argv,
    );
    expect(stderr).toBe('groklens: runs/x/a: cannot open: permission denied (EACCES)\n');
    expect(process.exitCode).toBe(2);
  });

  it('a bug: one line saying so, exit 1, no stack; a message of 100 kB is cut to one readable line', async () => {
    await runProgram(
      program(() => {
        throw new TypeError(`x is undefined\n    at somewhere (file.ts:1:1)${'!'.repeat(100_000)}`);
      }),
      argv,
    );
    expect(stderr).toMatch(
      /^groklens: internal error: TypeError: x is undefined \(a bug in groklens; GROKLENS_DEBUG=1 shows where\)\n$/,
    );
    expect(process.exitCode).toBe(1);
    await runProgram(
      program(() => {
        throw new FormatError('f', 'y'.repeat(100_000));
      }),
      argv,
    );
    expect(stderr.split('\n')[1].length).toBeLessThanOrEqual(2000 + 'groklens: '.length);
  });

  it('GROKLENS_DEBUG=1 lets the error through with its stack', async () => {
    process.env.GROKLENS_DEBUG = '1';
    const bug = new RangeError('boom');
    await expect(
      runProgram(
        program(() => {
          throw bug;
        }),
        argv,
      ),
    ).rejects.toBe(bug);
  });
});
