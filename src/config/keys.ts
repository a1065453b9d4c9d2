/**
 * Walking the config schema by dotted key: which keys exist (for help and "did you mean"), what a
 * key expects (for error messages), and which schema node sits under a key given the current
 * value (the `kind` of a discriminated union picks the branch).
 */
import { z } from 'zod';
import { RunConfigSchema } from './schema.ts';

type Section = z.ZodObject | z.ZodDiscriminatedUnion;

/** Strip nullable / optional / default wrappers. */
function unwrap(node: z.ZodType): z.ZodType {
  let s: z.ZodType = node;
  while (s instanceof z.ZodNullable || s instanceof z.ZodOptional || s instanceof z.ZodDefault)
    s = s.unwrap() as z.ZodType;
  return s;
}

export function isSection(node: z.ZodType | undefined): node is Section {
  if (node === undefined) return false;
  const s = unwrap(node);
  return s instanceof z.ZodObject || s instanceof z.ZodDiscriminatedUnion;
}

export function isUnion(node: z.ZodType | undefined): node is z.ZodDiscriminatedUnion {
  return node !== undefined && unwrap(node) instanceof z.ZodDiscriminatedUnion;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The discriminator key of a union (always 'kind' here) and the values it may take, in order. */
export function unionInfo(node: z.ZodType): { key: string; kinds: string[] } {
  const u = unwrap(node) as z.ZodDiscriminatedUnion;
  const key = u.def.discriminator;
  const kinds = u.options.map((o) => String(((o as z.ZodObject).shape[key] as z.ZodLiteral).value));
  return { key, kinds };
}

/** The branch of a union selected by `value[kind]`, or undefined when the kind is missing or unknown. */
function branchFor(u: z.ZodDiscriminatedUnion, value: unknown): z.ZodObject | undefined {
  if (!isPlainObject(value)) return undefined;
  const key = u.def.discriminator;
  return u.options.find((o) => ((o as z.ZodObject).shape[key] as z.ZodLiteral).value === value[key]) as
    z.ZodObject | undefined;
}

/** The schema of `key` inside `node`, where `value` is the current value of `node` (picks union branches). */
export function childSchema(node: z.ZodType, key: string, value: unknown): z.ZodType | undefined {
  const s = unwrap(node);
  const obj = s instanceof z.ZodDiscriminatedUnion ? branchFor(s, value) : s instanceof z.ZodObject ? s : undefined;
  return obj && Object.hasOwn(obj.shape, key) ? (obj.shape[key] as z.ZodType) : undefined;
}

/** Schema node at a dotted path of the config `value` (undefined if the path is not a key). */
export function schemaAt(
  path: readonly string[],
  value: unknown,
  root: z.ZodType = RunConfigSchema,
): z.ZodType | undefined {
  let node: z.ZodType | undefined = root;
  let v: unknown = value;
  for (const key of path) {
    if (node === undefined) return undefined;
    node = childSchema(node, key, v);
    v = isPlainObject(v) ? v[key] : undefined;
  }
  return node;
}

/**
 * Every valid dotted key (leaves only: `optimizer.betas`, not `optimizer`), in schema order.
 * Without `value`, every branch of every union contributes (model.d_model and model.d_embed both
 * appear); with it, each union contributes only the branch its current `kind` selects.
 */
export function flattenKeys(schema: z.ZodType = RunConfigSchema, value?: unknown): string[] {
  const out = new Set<string>();
  const walk = (node: z.ZodType, prefix: string, v: unknown): void => {
    const s = unwrap(node);
    if (s instanceof z.ZodDiscriminatedUnion) {
      const chosen = value === undefined ? undefined : branchFor(s, v);
      for (const o of chosen ? [chosen] : (s.options as z.ZodObject[])) walk(o, prefix, v);
    } else if (s instanceof z.ZodObject) {
      for (const [k, child] of Object.entries(s.shape as Record<string, z.ZodType>)) {
        const cv = isPlainObject(v) ? v[k] : undefined;
        if (isSection(child)) walk(child, `${prefix}${k}.`, cv);
        else out.add(`${prefix}${k}`);
      }
    }
  };
  walk(schema, '', value);
  return [...out];
}

/** What a key accepts, completing "expected …". */
export function expectedText(node: z.ZodType | undefined): string {
  if (node === undefined) return 'nothing (not a key)';
  if (node.description) return node.description;
  const s = unwrap(node);
  if (s instanceof z.ZodEnum) return `one of ${s.options.join(', ')}`;
  if (s instanceof z.ZodLiteral) return JSON.stringify(s.value);
  if (s instanceof z.ZodBoolean) return 'true or false';
  if (s instanceof z.ZodDiscriminatedUnion || s instanceof z.ZodObject) return 'an object';
  if (s instanceof z.ZodArray) return 'a list';
  if (s instanceof z.ZodNumber) return 'a number';
  if (s instanceof z.ZodString) return 'a string';
  return 'a valid value';
}

// ---- "did you mean" ----

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("d_modle"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

const lastSegment = (key: string): string => key.slice(key.lastIndexOf('.') + 1);

/**
 * The candidates nearest to `key`, best first (ties all returned, at most three). A key is close if
 * the whole dotted key is a few edits away (optimizer.weight_decy) or if its last segment nearly
 * names a key in another section (`lr` → optimizer.lr; one edit's penalty for the wrong section).
 */
export function nearestKeys(key: string, candidates: readonly string[]): string[] {
  const leaf = lastSegment(key);
  const scored = candidates.map((c) => ({
    c,
    score: Math.min(editDistance(key, c), editDistance(leaf, lastSegment(c)) + 1),
  }));
  const best = Math.min(...scored.map((s) => s.score));
  const limit = Math.max(2, Math.floor(leaf.length / 3));
  if (!Number.isFinite(best) || best > limit) return [];
  return scored
    .filter((s) => s.score === best)
    .map((s) => s.c)
    .slice(0, 3);
}
