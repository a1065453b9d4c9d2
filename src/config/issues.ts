/**
 * Turning config problems into one-line ConfigErrors that name the source, the dotted key, the
 * value and what is allowed — never a zod dump:
 *
 *   config.json: optimizer.weight_decy: unknown key (did you mean optimizer.weight_decay?)
 *   --set: model.act: "sigmoid" is not allowed; expected one of relu, gelu
 *   --set: model.d_model: unknown key for model.kind "mlp" (its keys: kind, d_embed, hidden, act, init_scale)
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { preview } from '../io/json-file.ts';
import { expectedText, flattenKeys, isPlainObject, isSection, isUnion, nearestKeys, schemaAt } from './keys.ts';
import { RunConfigSchema } from './schema.ts';

/**
 * A value as the user would write it: JSON, except numbers that JSON cannot spell; at most 80
 * characters, and never more work than that (a value nested 10⁵ deep must not overflow the stack).
 */
export function formatValue(v: unknown): string {
  return preview(v, 80);
}

/** The value at a (zod issue) path inside a parsed JSON value, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** The keys a section takes (its immediate children), given the current config. */
function childrenOf(section: readonly string[], config: unknown): string[] {
  const prefix = section.length ? `${section.join('.')}.` : '';
  const out = new Set<string>();
  for (const k of flattenKeys(RunConfigSchema, config))
    if (k.startsWith(prefix)) out.add(k.slice(prefix.length).split('.')[0]);
  return [...out];
}

/** The single leaf path under `value` if it is a chain of one-key objects (a --set), else []. */
function singleChain(value: unknown): string[] {
  const out: string[] = [];
  let v = value;
  while (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) return [];
    out.push(keys[0]);
    v = v[keys[0]];
  }
  return out;
}

/**
 * `path` names a key that does not exist under the current config; `value` is what the layer tried
 * to put there. Reports the full dotted key, then either the key's kind mismatch, the nearest valid
 * keys, or the keys its section does take.
 */
export function unknownKeyError(source: string, path: readonly string[], value: unknown, config: unknown): ConfigError {
  const full = [...path, ...singleChain(value)].join('.');
  const section = path.slice(0, -1);

  // A key of another branch of a union, e.g. model.d_model while model.kind is "mlp".
  if (flattenKeys().includes(full)) {
    for (let n = path.length - 1; n >= 1; n--) {
      const at = path.slice(0, n);
      if (isUnion(schemaAt(at, config))) {
        const kind = valueAt(config, [...at, 'kind']);
        return new ConfigError(
          source,
          full,
          `unknown key for ${at.join('.')}.kind ${formatValue(kind)} (its keys: ${childrenOf(at, config).join(', ')})`,
        );
      }
    }
  }

  const leaves = flattenKeys(RunConfigSchema, config);
  const sections = new Set<string>();
  for (const k of leaves) {
    const parts = k.split('.');
    for (let n = 1; n < parts.length; n++) sections.add(parts.slice(0, n).join('.'));
  }
  const near = nearestKeys(full, [...sections, ...leaves]);
  if (near.length) return new ConfigError(source, full, `unknown key (did you mean ${near.join(' or ')}?)`);
  const takes = childrenOf(section, config).join(', ');
  return new ConfigError(
    source,
    full,
    section.length ? `unknown key; ${section.join('.')} takes ${takes}` : `unknown key; the sections are ${takes}`,
  );
}

/** Where each dotted key's value came from, and how late that source was applied. */
export interface Provenance {
  sourceOf(key: string): string;
  rank(source: string): number;
}

/** The first validation issue as a ConfigError. `config` is the merged value zod rejected. */
export function issueToError(issue: z.core.$ZodIssue, config: unknown, prov: Provenance): ConfigError {
  const path = issue.path.map(String);

  if (issue.code === 'unrecognized_keys') {
    return unknownKeyError(prov.sourceOf(path.join('.')), [...path, issue.keys[0]], undefined, config);
  }

  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
    // zod's path already ends in the discriminator ('model.kind').
    const key = path.at(-1) === issue.discriminator ? path : [...path, issue.discriminator];
    const value = valueAt(config, key);
    const options = 'options' in issue ? (issue.options ?? []) : [];
    const allowed = `expected one of ${options.join(', ')}`;
    const what = value === undefined ? 'missing' : `${formatValue(value)} is not allowed`;
    return new ConfigError(prov.sourceOf(key.join('.')), key.join('.'), `${what}; ${allowed}`);
  }

  if (issue.code === 'custom') {
    // A cross-field rule: blame whichever of the keys involved was set last.
    const keys = ((issue.params?.keys as string[] | undefined) ?? [path.join('.')]).slice();
    keys.sort((a, b) => prov.rank(prov.sourceOf(b)) - prov.rank(prov.sourceOf(a)));
    return new ConfigError(prov.sourceOf(keys[0]), keys[0], issue.message);
  }

  // Report at the key the user can set: the first non-section on the path (optimizer.betas, not optimizer.betas.1).
  let n = 1;
  while (n < path.length && isSection(schemaAt(path.slice(0, n), config))) n++;
  const key = path.slice(0, n);
  const value = valueAt(config, key);
  const expected = expectedText(schemaAt(key, config));
  const what = value === undefined ? 'missing' : `${formatValue(value)} is not allowed`;
  return new ConfigError(prov.sourceOf(key.join('.')), key.join('.') || '(top level)', `${what}; expected ${expected}`);
}
