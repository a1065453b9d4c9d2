/**
 * Errors a user can cause (bad config, bad file, missing backend). The CLI prints their message
 * alone, never a stack trace; anything else is a bug and is printed with its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
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
