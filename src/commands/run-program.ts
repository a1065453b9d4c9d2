import type { Command } from 'commander';
import { UserError } from '../errors.ts';

/**
 * Run a commander program the way groklens does: a UserError (bad input: a file, key or value)
 * becomes one line on stderr and exit status 2, never a stack trace; anything else is a bug and
 * propagates.
 */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    process.stderr.write(`groklens: ${e.message}\n`);
    process.exitCode = 2;
  }
}
