/**
 * Errors a user can cause (bad config, bad file, missing backend). The CLI prints their message
 * alone, never a stack trace; anything else is a bug and is printed with its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * A bad argument to a computation, usually traced back to a config or a file: `what` names it,
 * `value` shows it (strings quoted, so a bad option reads as the string it was), `expected` says
 * what would have been accepted, `note` adds why. E.g. 'parameter "W" length: expected 40
 * numbers, got 41'.
 */
export class ArgumentError extends UserError {
  override name = 'ArgumentError';
  constructor(
    readonly what: string,
    readonly value: unknown,
    readonly expected: string,
    readonly note?: string,
  ) {
    super(
      `${what}: expected ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}${note ? ` (${note})` : ''}`,
    );
  }
}

/** A config key or value is wrong. `source` is the file or '--set' the value came from. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly key: string,
    message: string,
  ) {
    super(`${source}: ${key}: ${message}`);
  }
}

/**
 * The operating system refused a file operation (a full disk, no permission, a read-only file
 * system…): one line naming the file, what we were doing and why, e.g.
 * "runs/x/metrics.jsonl: cannot write: no space left on device (ENOSPC)".
 */
export class IoError extends UserError {
  override name = 'IoError';
  constructor(
    readonly file: string,
    readonly operation: string,
    readonly code: string,
    reason: string,
  ) {
    super(`${file}: cannot ${operation}: ${reason} (${code})`);
  }
}

const IO_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'name too long',
};

/**
 * The system error `e` as an IoError about `file` (operation e.g. 'write'), or null when `e` is
 * not an operating-system error. Node's fd-based calls (writeSync, fsyncSync) carry no path: the
 * caller names the file.
 */
export function ioError(e: unknown, file: string | undefined, operation?: string): IoError | null {
  const err = e as NodeJS.ErrnoException;
  if (
    !(err instanceof Error) ||
    typeof err.code !== 'string' ||
    !/^E[A-Z0-9]+$/.test(err.code) ||
    err instanceof UserError
  )
    return null;
  const op = operation ?? SYSCALL_OPERATIONS[err.syscall ?? ''] ?? 'use';
  return new IoError(
    file ?? err.path ?? '(unknown file)',
    op,
    err.code,
    IO_REASONS[err.code] ?? err.message.replace(/^[A-Z0-9]+: /, '').split(',')[0],
  );
}

/** What a failing Node fs call was doing, in words, by its syscall. */
const SYSCALL_OPERATIONS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  fsync: 'write',
  close: 'write',
  rename: 'rename',
  mkdir: 'create the directory',
  rmdir: 'remove',
  unlink: 'remove',
  scandir: 'list',
  stat: 'read',
  lstat: 'read',
  copyfile: 'copy',
  ftruncate: 'write',
  utime: 'write',
};

/** A file on disk is missing, malformed or inconsistent. */
export class FormatError extends UserError {
  override name = 'FormatError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
