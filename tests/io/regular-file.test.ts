/**
 * Every reader opens through src/io/regular-file.ts: a FIFO named like a checkpoint, a run file or
 * a torch file is refused at once (issue 14, defect 10: analyze and inspect used to hang on one),
 * and so is a directory, each with a FormatError naming the file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.ts';
import { readRegularFile } from '../../src/io/json-file.ts';
import { readSafetensorsHeader } from '../../src/io/safetensors.ts';
import { readTorchFile } from '../../src/io/torch-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'groklens-regular-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readers refuse what is not a regular file', () => {
  const fifo = join(dir, 'step-0000100.safetensors');
  execFileSync('mkfifo', [fifo]);
  const folder = join(dir, 'folder.pt');
  mkdirSync(folder);

  it('a FIFO, at once, in each reader', async () => {
    const t0 = performance.now();
    expect(() => readSafetensorsHeader(fifo)).toThrow(new FormatError(fifo, 'not a regular file'));
    expect(() => readRegularFile(fifo)).toThrow(new FormatError(fifo, 'not a regular file'));
    await expect(readTorchFile(fifo)).rejects.toThrow(new FormatError(fifo, 'not a regular file'));
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a directory, saying so', async () => {
    expect(() => readSafetensorsHeader(folder)).toThrow(new FormatError(folder, 'is a directory'));
    await expect(readTorchFile(folder)).rejects.toThrow(FormatError);
  });
});
