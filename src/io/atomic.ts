/**
 * Crash-safe file writes. Every file groklens writes either appears whole or not at all
 * (writeFileAtomic), and the one file that grows (a JSONL log) can lose at most its torn last line
 * (appendLineDurable + readJsonlTolerant). All synchronous: the callers are a training loop and a
 * CLI, and a sync write cannot interleave with another write of the same process.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError, ioError } from '../errors.ts';
import { parseJson } from '../config/json.ts';
import { readRegularFile } from './json-file.ts';

/** A JSONL log larger than this is refused rather than read (about 10 million metrics rows). */
const MAX_JSONL_BYTES = 2 * 1024 ** 3 - 1;

/** Temp files are `.<target name>.<pid>.<counter>.tmp`, next to the target (same file system, so rename is atomic). */
const TEMP_RE = /^\..+\.(\d+)\.(\d+)\.tmp$/;
let tempCounter = 0;

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replace `path` with `data` so that a crash at any point leaves either the old file or the new
 * one: write a temp file in the same directory, fsync it, rename it over the target, fsync the
 * directory so the rename itself is durable. Strings are written as UTF-8.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const dir = dirname(path);
  let temp: string | null = null;
  try {
    const created = createTemp(dir, basename(path));
    temp = created.temp;
    try {
      writeAll(created.fd, bytes);
      fsyncSync(created.fd);
    } finally {
      closeSync(created.fd);
    }
    renameSync(temp, path);
    fsyncDirectory(dir);
  } catch (err) {
    try {
      if (temp !== null && existsSync(temp)) unlinkSync(temp);
    } catch {
      // the original error says more
    }
    throw ioError(err, path, 'write') ?? err;
  }
}

/**
 * A fresh temp file. 'wx' never opens an existing file: a name can be taken by a temp file a
 * crashed process left behind with the same pid (pids repeat across container restarts, and the
 * counter restarts at 0), in which case we move on to the next counter.
 */
function createTemp(dir: string, name: string): { fd: number; temp: string } {
  for (;;) {
    const temp = join(dir, `.${name}.${process.pid}.${tempCounter++}.tmp`);
    try {
      return { fd: openSync(temp, 'wx'), temp };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Delete temp files left in `dir` by a writer that crashed between creating its temp file and
 * renaming it. Only names made by writeFileAtomic are touched, and only those whose process is
 * gone (or is this one: our writes are synchronous, so none of ours is in flight), so a second
 * groklens process opening the same run cannot pull a temp file from under a live writer.
 * Returns the names removed, sorted.
 */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && processAlive(pid)) continue;
    const full = join(dir, name);
    if (!lstatSync(full).isFile()) continue;
    unlinkSync(full);
    removed.push(name);
  }
  if (removed.length > 0) fsyncDirectory(dir);
  return removed;
}

/**
 * Append one line (a JSON document, no newline inside) to a JSONL log and fsync it. Creates the
 * file if missing. If a crash left the log ending in a torn line (no final newline), that line is
 * first dealt with the way readJsonlTolerant would: kept and terminated if it parses, cut off if it
 * does not, so the new line never fuses with the torn one into a corrupt middle line.
 */
export function appendLineDurable(path: string, line: string): void {
  if (line.includes('\n')) throw new Error(`appendLineDurable: ${path}: the line to append contains a newline`);
  const created = !existsSync(path);
  try {
    const fd = openSync(path, 'a+');
    try {
      repairTornTail(fd);
      writeAll(fd, new TextEncoder().encode(line + '\n'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) fsyncDirectory(dirname(path));
  } catch (err) {
    // A torn line left by a failed write is repaired by the next append (repairTornTail).
    throw ioError(err, path, 'append to') ?? err;
  }
}

/** The last line of a JSONL file that could not be parsed and was left out. `line` is 1-based. */
export interface DroppedLine {
  line: number;
  text: string; // at most 200 characters of it
  reason: string;
}

export interface JsonlContents {
  rows: unknown[];
  lines: number[]; // the 1-based line number of each row, for messages
  dropped: DroppedLine | null;
}

/**
 * Parse a JSONL file. Blank lines are skipped. The last non-blank line may be torn by a crash
 * mid-append: if it does not parse it is dropped and reported in `dropped`. Any other line that
 * does not parse (or is not UTF-8) is corruption, not a crash, and throws a FormatError naming the
 * file and line number. A missing file is a FormatError too.
 */
export function readJsonlTolerant(path: string): JsonlContents {
  if (!existsSync(path)) throw new FormatError(path, 'file does not exist');
  const bytes = readRegularFile(path, MAX_JSONL_BYTES); // never blocks on a FIFO; bounded
  const lines: { line: number; bytes: Uint8Array }[] = [];
  for (let start = 0, lineNo = 1; start <= bytes.length; lineNo++) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.length;
    const chunk = bytes.subarray(start, end);
    if (!isBlank(chunk)) lines.push({ line: lineNo, bytes: chunk });
    start = end + 1;
  }
  const rows: unknown[] = [];
  const rowLines: number[] = [];
  for (let k = 0; k < lines.length; k++) {
    const { line, bytes: chunk } = lines[k];
    const parsed = parseLine(chunk);
    if (parsed.ok) {
      rows.push(parsed.value);
      rowLines.push(line);
      continue;
    }
    if (k === lines.length - 1) {
      const text = new TextDecoder().decode(chunk);
      return {
        rows,
        lines: rowLines,
        dropped: { line, text: text.length > 200 ? text.slice(0, 200) + '…' : text, reason: parsed.reason },
      };
    }
    throw new FormatError(
      path,
      `line ${line}: ${parsed.reason} (only a torn last line is tolerated; this one is followed by ${lines.length - 1 - k} more)`,
    );
  }
  return { rows, lines: rowLines, dropped: null };
}

function parseLine(chunk: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  let text: string;
  try {
    text = utf8.decode(chunk);
  } catch {
    return { ok: false, reason: 'not valid UTF-8' };
  }
  const parsed = parseJson(text);
  return parsed.ok
    ? parsed
    : { ok: false, reason: `not valid JSON at column ${parsed.error.column}: ${parsed.error.reason}` };
}

function isBlank(chunk: Uint8Array): boolean {
  for (const b of chunk) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** If the file does not end in a newline, terminate its last line if it parses, else cut it off. */
function repairTornTail(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const one = new Uint8Array(1);
  readSync(fd, one, 0, 1, size - 1);
  if (one[0] === NEWLINE) return;
  const lineStart = lastNewlineBefore(fd, size) + 1;
  const tail = new Uint8Array(size - lineStart);
  readFully(fd, tail, lineStart);
  if (isBlank(tail) || !parseLine(tail).ok) ftruncateSync(fd, lineStart);
  else writeAll(fd, new Uint8Array([NEWLINE]));
}

/** Offset of the last newline before `end`, or -1; scans backwards in chunks. */
function lastNewlineBefore(fd: number, end: number): number {
  const chunk = new Uint8Array(64 * 1024);
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - chunk.length);
    const view = chunk.subarray(0, pos - from);
    readFully(fd, view, from);
    const i = view.lastIndexOf(NEWLINE);
    if (i >= 0) return from + i;
    pos = from;
  }
  return -1;
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Make a rename or create in `dir` durable. Windows cannot open directories; there it is a no-op. */
function fsyncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false; // kill(0) would signal our own group
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
