import { CommanderError, type Command } from 'commander';
import { ioError, UserError } from '../../src/errors.ts';

/**
 * Run a commander program the way groklens does. A UserError (bad input: a file, key or value)
 * becomes one line on stderr and exit status 2; so does an operating-system error on a file (a
 * full disk, no permission), named by the file and the operation. Anything else is a bug in
 * groklens: one line saying so and exit status 1. No stack trace reaches the user unless
 * GROKLENS_DEBUG is set (to anything but 0), in which case every error propagates with its stack.
 */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  // commander prints its own usage errors (an unknown option, a bad choice); with exitOverride it
  // throws instead of exiting 1, so that a usage error exits 2 like every other bad input.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2; // 0: --help or --version
      return;
    }
    if (debugging()) throw e;
    const known = e instanceof UserError ? e : ioError(e, undefined);
    if (known) {
      process.stderr.write(`groklens: ${bounded(known.message)}\n`);
      process.exitCode = 2;
      return;
    }
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    process.stderr.write(
      `groklens: internal error: ${bounded(message.split('\n')[0])} (a bug in groklens; GROKLENS_DEBUG=1 shows where)\n`,
    );
    process.exitCode = 1;
  }
}

const debugging = () => (process.env.GROKLENS_DEBUG ?? '') !== '' && process.env.GROKLENS_DEBUG !== '0';

/** One line of at most 2,000 characters: a message must stay readable, whatever a file holds. */
function bounded(message: string): string {
  const line = message.replace(/[\r\n]+/g, ' ');
  return line.length > 2000 ? `${line.slice(0, 1997)}...` : line;
}
