import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ConfigError } from '../../src/errors.ts';

/** A scratch directory for config files, removed after the test file. */
export function scratchDir(): { write(name: string, text: string | object): string } {
  const dir = mkdtempSync(join(tmpdir(), 'groklens-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, typeof text === 'string' ? text : JSON.stringify(text, null, 2));
      return file;
    },
  };
}

/** The ConfigError `fn` throws (fails the test if it throws nothing or something else). */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
