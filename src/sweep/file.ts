/**
 * The sweep file: a JSON document naming a base config and the values to vary over it.
 *
 *   {
 *     "name": "wd",                                      // → sweeps/wd/
 *     "base": { "preset": "truong-2026", "file": "base.json", "set": { "training.steps": 5000 } },
 *     "grid": { "optimizer.weight_decay": [0.1, 0.3, 1] },  // every combination of these
 *     "list": [ { "optimizer.kind": "adamw" }, { "optimizer.kind": "sgd", "optimizer.lr": 0.1 } ],
 *     "seeds": [0, 1, 2],                                // or { "values": [0, 1], "keys": ["training.seed"] }
 *     "labels": { "optimizer.weight_decay": "wd" }       // short names used in run ids
 *   }
 *
 * Runs = grid points × list entries × seeds (a missing grid, list or seeds counts as one empty
 * point). Values are JSON, so `"optimizer.betas": [[0.9, 0.98], [0.9, 0.999]]` sweeps a list-valued
 * key. Every key is a dotted config path, checked against the config schema when the sweep expands.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { parseJson } from '../config/json.ts';
import { formatValue, valueAt } from '../config/issues.ts';
import { ConfigError } from '../errors.ts';

/** Keys a seed sets when the sweep file does not say: model init and data order, and the split. */
export const DEFAULT_SEED_KEYS = ['training.seed', 'split.seed'] as const;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+=@-]*$/;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const dottedKey = z.string().regex(KEY_RE, 'expected a dotted config key such as optimizer.weight_decay');
const seedValue = z.number().int().min(0).max(0xffffffff);

const SweepFileSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME_RE, 'expected a directory name: letters, digits, . _ - + = @ (not starting with . _ - + = @)'),
  description: z.string().optional(),
  base: z
    .strictObject({
      preset: z.string().optional(),
      file: z.string().optional(),
      set: z.record(dottedKey, z.unknown()).optional(),
    })
    .optional(),
  grid: z.record(dottedKey, z.array(z.unknown()).min(1, 'expected a non-empty list of values')).optional(),
  list: z
    .array(z.record(dottedKey, z.unknown()))
    .min(1, 'expected a non-empty list of {key: value} objects')
    .optional(),
  seeds: z
    .union([
      z.array(seedValue).min(1),
      z.strictObject({ values: z.array(seedValue).min(1), keys: z.array(dottedKey).min(1) }),
    ])
    .optional(),
  labels: z
    .record(dottedKey, z.string().regex(/^[A-Za-z0-9._+@-]+$/, 'expected a short label: letters, digits, . _ + @ -'))
    .optional(),
});

type Parsed = z.infer<typeof SweepFileSchema>;

/** A sweep file with its defaults filled in: what the manifest stores as "sweep". */
export interface SweepSpec {
  name: string;
  description: string | null;
  base: { preset: string | null; file: string | null; set: Record<string, unknown> };
  grid: Record<string, unknown[]>;
  list: Record<string, unknown>[];
  seeds: { values: number[]; keys: string[] } | null;
  labels: Record<string, string>;
}

/** Read and validate a sweep file. `base.file` is resolved relative to the sweep file's folder. */
export function readSweepFile(file: string): SweepSpec {
  if (!existsSync(file)) throw new ConfigError('sweep file', file, `not found (looked for ${resolvePath(file)})`);
  if (statSync(file).isDirectory()) throw new ConfigError('sweep file', file, 'is a directory, expected a JSON file');
  const parsed = parseJson(readFileSync(file, 'utf8'));
  if (!parsed.ok) {
    const { line, column, reason } = parsed.error;
    throw new ConfigError(file, `line ${line}, column ${column}`, `not valid JSON: ${reason}`);
  }
  const spec = parseSweep(parsed.value, file);
  if (spec.base.file !== null) spec.base.file = resolvePath(file, '..', spec.base.file);
  return spec;
}

/** Validate a sweep document (already parsed JSON); `source` names it in errors. */
export function parseSweep(value: unknown, source: string): SweepSpec {
  const result = SweepFileSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue.path.length ? pathText(issue.path) : '(top level)';
    const got = valueAt(value, issue.path);
    throw new ConfigError(
      source,
      key,
      `${issueText(issue, got)}${got === undefined ? '' : ` (got ${formatValue(got)})`}`,
    );
  }
  const p: Parsed = result.data;
  for (const [key, values] of Object.entries(p.grid ?? {})) {
    const seen = new Set<string>();
    for (const v of values) {
      const s = JSON.stringify(v);
      if (seen.has(s)) throw new ConfigError(source, `grid."${key}"`, `the value ${formatValue(v)} appears twice`);
      seen.add(s);
    }
  }
  const seeds =
    p.seeds === undefined ? null : Array.isArray(p.seeds) ? { values: p.seeds, keys: [...DEFAULT_SEED_KEYS] } : p.seeds;
  if (seeds !== null && new Set(seeds.values).size !== seeds.values.length) {
    throw new ConfigError(source, 'seeds', `each seed may appear once, got ${formatValue(seeds.values)}`);
  }
  return {
    name: p.name,
    description: p.description ?? null,
    base: { preset: p.base?.preset ?? null, file: p.base?.file ?? null, set: p.base?.set ?? {} },
    grid: p.grid ?? {},
    list: p.list ?? [],
    seeds,
    labels: p.labels ?? {},
  };
}

/** zod paths as the user would write them: grid."optimizer.lr"[2], list[0]."model.kind". */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
      out += out === '' ? (plain ? s : `"${s}"`) : plain ? `.${s}` : `."${s}"`;
    }
  }
  return out;
}

function issueText(issue: z.core.$ZodIssue, got: unknown): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; a sweep file takes name, description, base, grid, list, seeds, labels`;
    case 'invalid_type':
      return got === undefined ? `missing (expected ${issue.expected})` : `expected ${issue.expected}`;
    case 'invalid_union':
      return 'expected a list of seeds such as [0, 1, 2], or {"values": [0, 1], "keys": ["training.seed"]}';
    case 'invalid_key':
      return 'keys must be dotted config paths such as optimizer.weight_decay';
    case 'too_small':
      return issue.origin === 'array'
        ? issue.message.startsWith('expected')
          ? issue.message
          : 'expected a non-empty list'
        : `expected a value ≥ ${issue.minimum}`;
    case 'too_big':
      return `expected a value ≤ ${issue.maximum}`;
    default:
      return issue.message;
  }
}
