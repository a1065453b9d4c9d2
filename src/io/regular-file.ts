/**
 * Opening a file we are about to parse: the one place every reader (JSON run files, safetensors,
 * torch checkpoints) goes through. The open never blocks — O_NONBLOCK, so a FIFO or a device named
 * like a checkpoint is refused at once instead of waiting for a writer — and only a regular file
 * is read. Problems are FormatErrors naming the file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError } from '../errors.ts';

/** Run `body` on an open descriptor of the regular file `file` and its size; always closes it. */
export function withRegularFile<T>(
  file: string,
  body: (fd: number, size: number) => T,
  opts: { directoryHint?: string } = {},
): T {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FormatError(file, 'file does not exist');
    if (code === 'EACCES' || code === 'EPERM') throw new FormatError(file, 'permission denied');
    if (code === 'EISDIR')
      throw new FormatError(file, `is a directory${opts.directoryHint ? ` (${opts.directoryHint})` : ''}`);
    throw new FormatError(file, `cannot open (${code ?? (err as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory())
      throw new FormatError(file, `is a directory${opts.directoryHint ? ` (${opts.directoryHint})` : ''}`);
    if (!stat.isFile()) throw new FormatError(file, 'not a regular file');
    return body(fd, stat.size);
  } finally {
    closeSync(fd);
  }
}

/** Fill `into` from `position`; the file ending early (truncated meanwhile) is a FormatError. */
export function readExactly(fd: number, into: Uint8Array, position: number, file: string): void {
  const CHUNK = 1 << 30; // readSync takes at most 2^31 − 1 bytes per call
  for (let done = 0; done < into.length;) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.length - done), position + done);
    if (n === 0)
      throw new FormatError(
        file,
        `file ended at byte ${position + done} while being read (was it truncated meanwhile?)`,
      );
    done += n;
  }
}
