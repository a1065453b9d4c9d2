/**
 * Reading the JSON files groklens keeps (run.json, status.json, split.json, analysis.json, the
 * sweep's files) so that nothing in them can crash, hang or mislead a command: only regular files
 * are opened (a FIFO named run.json never blocks), their size is bounded before anything is read,
 * and the parsed value is checked against a zod schema whose first problem becomes one FormatError
 * naming the file, the key and the value (at most 80 characters), in the words of
 * src/config/issues.ts:
 *
 *   runs/x/status.json: checkpoints: "x" is not allowed; expected a list of steps (non-negative integers)
 *   runs/x/run.json: backend: missing; expected an object {name, requested, tfjs_version}
 */
import { readSync } from 'node:fs';
import { withRegularFile } from './regular-file.ts';
import { z } from 'zod';
import { parseJson } from '../config/json.ts';
import { FormatError } from '../errors.ts';

/** JSON files larger than this are refused (V8 cannot hold a string much past 512 MB anyway). */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/**
 * The bytes of a regular file of at most `maxBytes`. A missing, unreadable or non-regular file, or
 * one that is too large, is a FormatError naming it; the open never blocks (O_NONBLOCK).
 */
export function readRegularFile(file: string, maxBytes = MAX_JSON_BYTES): Buffer {
  return withRegularFile(file, (fd, size) => {
    if (size > maxBytes)
      throw new FormatError(file, `${size} bytes, more than the ${maxBytes}-byte limit for this file`);
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    try {
      while (done < out.length) {
        const n = readSync(fd, out, done, out.length - done, done);
        if (n === 0) break; // shrank while being read: parse what is there (atomic writes never do this)
        done += n;
      }
    } catch (e) {
      throw new FormatError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return done === out.length ? out : out.subarray(0, done);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse a JSON file (UTF-8); `hint` is appended to the "not valid JSON" message, e.g. what to do about it. */
export function readJsonFile(file: string, hint = ''): unknown {
  const bytes = readRegularFile(file);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new FormatError(file, `not valid UTF-8${hint}`);
  }
  const parsed = parseJson(text);
  if (parsed.ok) return parsed.value;
  const { line, column, reason } = parsed.error;
  throw new FormatError(file, `not valid JSON at line ${line}, column ${column}: ${reason}${hint}`);
}

/**
 * `value` checked against `schema`; the first problem is a FormatError naming `file`, the dotted
 * key (`checkpoints[3].step`) under `prefix`, the value and what is expected. Descriptions given to
 * the schema with .describe() are the "expected" text; zod's issue is the fallback.
 */
export function checkJson<S extends z.ZodType>(schema: S, value: unknown, file: string, label?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw issueError(result.error.issues[0], schema, value, file, label);
}

/**
 * One zod issue as a FormatError, in the style of src/config/issues.ts. `label` says where in the
 * file the value is when that is not a key (e.g. "line 7" of a JSONL file).
 */
export function issueError(
  issue: z.core.$ZodIssue,
  schema: z.ZodType,
  value: unknown,
  file: string,
  label?: string,
): FormatError {
  const path = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
  const where = (p: (string | number)[]) =>
    [label, p.length > 0 || label === undefined ? keyText(p) : undefined].filter((x) => x !== undefined).join(': ');
  if (issue.code === 'unrecognized_keys') {
    return new FormatError(
      file,
      `${where([...path, issue.keys[0]])}: unknown key${issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more)` : ''}`,
    );
  }
  const got = valueAt(value, path);
  const expected = describeAt(schema, path) ?? fallbackExpected(issue);
  const what = got === undefined ? 'missing' : `${preview(got)} is not allowed`;
  return new FormatError(file, `${where(path)}: ${what}; expected ${expected}`);
}

/** The value at a path inside a parsed JSON value, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** A path as a user would write it: checkpoints[3].step, backend.name, "odd key".x; (top level) for []. */
export function keyText(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg) ? seg : `"${nameText(seg)}"`;
      out += out === '' ? s : `.${s}`;
    }
  }
  return out || '(top level)';
}

/**
 * A value as a user would write it (JSON, except numbers JSON cannot spell), at most `max`
 * characters. Never throws, never walks more than it prints, and stops at depth 20, so a 100 MB
 * array or a value nested 10⁶ deep costs nothing.
 */
export function preview(v: unknown, max = 80): string {
  if (v === undefined) return 'nothing';
  let out = '';
  const write = (x: unknown, depth: number): void => {
    if (out.length > max) return;
    if (x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'bigint') out += String(x);
    else if (typeof x === 'string') out += quote(x.length > max ? x.slice(0, max + 1) : x);
    else if (Array.isArray(x)) {
      if (depth >= 20) return void (out += '[...]');
      out += '[';
      for (let i = 0; i < x.length && out.length <= max; i++) {
        if (i) out += ',';
        write(x[i], depth + 1);
      }
      out += ']';
    } else if (typeof x === 'object') {
      if (depth >= 20) return void (out += '{...}');
      out += '{';
      let first = true;
      for (const k in x) {
        if (!Object.hasOwn(x, k)) continue;
        if (out.length > max) break;
        out += `${first ? '' : ','}${quote(k.length > max ? k.slice(0, max + 1) : k)}:`;
        first = false;
        write((x as Record<string, unknown>)[k], depth + 1);
      }
      out += '}';
    } else out += String(x);
  };
  write(v, 0);
  return out.length > max ? `${out.slice(0, max - 3)}...` : out;
}

/** JSON's quoting, plus escapes for the characters a terminal may take as a line break or a command (C1, U+2028/9). */
function quote(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A name from a file (a tensor name, a key) fit to quote in a message: escaped, at most `max` characters. */
export function nameText(s: string, max = 60): string {
  return clip(quote(s.length > max ? s.slice(0, max + 1) : s).slice(1, -1), max);
}

/** At most `max` characters of `s`, with '...' when cut. */
export function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/**
 * "a, b, c and 4 more": at most `shown` of `names`, each clipped, so a file with 100k odd names
 * gives a short message.
 */
export function listSome(names: readonly string[], shown = 5, show = (s: string) => `'${nameText(s)}'`): string {
  const head = names.slice(0, shown).map(show);
  const rest = names.length - head.length;
  return rest > 0 ? `${head.join(', ')} and ${rest} more` : head.join(', ');
}

// ---- what a schema expects, for the message ----

type Node = z.ZodType;

function unwrapOnce(s: Node): Node | undefined {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) return s.unwrap() as Node;
  return undefined;
}

function child(node: Node, seg: string | number): Node | undefined {
  let s: Node | undefined = node;
  while (
    s &&
    !(s instanceof z.ZodObject || s instanceof z.ZodArray || s instanceof z.ZodRecord || s instanceof z.ZodUnion)
  )
    s = unwrapOnce(s);
  if (!s) return undefined;
  if (s instanceof z.ZodObject)
    return typeof seg === 'string' && Object.hasOwn(s.shape, seg) ? (s.shape[seg] as Node) : undefined;
  if (s instanceof z.ZodArray) return typeof seg === 'number' ? (s.element as Node) : undefined;
  if (s instanceof z.ZodRecord) return s.valueType as Node;
  for (const o of (s as z.ZodUnion).options as Node[]) {
    const c = child(o, seg);
    if (c) return c;
  }
  return undefined;
}

/** The description of the schema node at `path` (or of what it wraps), if it has one. */
function describeAt(root: Node, path: readonly (string | number)[]): string | undefined {
  let node: Node | undefined = root;
  for (const seg of path) {
    node = node && child(node, seg);
    if (!node) return undefined;
  }
  for (let s: Node | undefined = node; s; s = unwrapOnce(s)) if (s.description) return s.description;
  return undefined;
}

function fallbackExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return (
        (
          {
            object: 'an object',
            array: 'a list',
            number: 'a number',
            int: 'an integer',
            string: 'a string',
            boolean: 'true or false',
          } as Record<string, string>
        )[issue.expected] ?? issue.expected
      );
    case 'invalid_value':
      return `${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `at least ${issue.minimum} item(s)` : `a value ≥ ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `at most ${issue.maximum} item(s)` : `a value ≤ ${issue.maximum}`;
    default:
      return clip(issue.message, 120);
  }
}
