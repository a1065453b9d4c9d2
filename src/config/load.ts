/**
 * Resolving the config of `groklens train` from its layers, each merged over the one before:
 *
 *   defaults  <  preset  <  JSON file  <  --set key=value (in command-line order)
 *
 * Merging is deep for objects; arrays and scalars replace. Switching a union's kind
 * (`task.kind`, `model.kind`) restarts that section from the new kind's defaults, so
 * `--set model.kind=mlp` gives the mlp defaults and a transformer-only key after it is an error.
 * Keys are checked as each layer is applied (so an unknown key is blamed on its layer); values are
 * checked once, on the merged result (so a file may set a key that a later --set fixes).
 *
 * A config file may name its own preset with a top-level "preset" key: it then plays the preset
 * layer, under the file. If --preset names a different one, that is an error (say which you mean);
 * naming the same preset twice is fine.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { parseJson } from './json.ts';
import { isPlainObject, isSection, isUnion, childSchema, flattenKeys, unionInfo } from './keys.ts';
import { formatValue, issueToError, unknownKeyError, type Provenance } from './issues.ts';
import { PRESET_NAMES, getPreset } from './presets.ts';
import { DEFAULTS, MODEL_DEFAULTS, RunConfigSchema, TASK_DEFAULTS } from './schema.ts';
import type { RunConfig } from './types.ts';

export interface ResolveOptions {
  preset?: string;
  file?: string; // path of a JSON config file (partial)
  sets?: readonly string[]; // each 'dotted.key=value'
}

/**
 * `sources` maps every leaf key of `config` to where its value came from: 'default',
 * 'preset NAME', the config file path as given, or '--set'.
 */
export interface ResolvedConfig {
  config: RunConfig;
  sources: Record<string, string>;
  preset: string | null; // from --preset or the file's "preset" key
}

type Obj = Record<string, unknown>;

/** Defaults of each kind of each union section, by the section's dotted path. */
const UNION_DEFAULTS: Record<string, Record<string, object>> = { task: TASK_DEFAULTS, model: MODEL_DEFAULTS };

const clone = <T>(v: T): T => structuredClone(v);

// ---- --set ----

/** A --set value: JSON when it parses (numbers, true/false, null, [0.9,0.99], {"a":1}), else the raw string. */
export function parseSetValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** The deepest dotted key --set accepts (the config is section.key; a little room for typos). */
const MAX_KEY_DEPTH = 4;

/** 'optimizer.lr=3e-4' → { path: ['optimizer', 'lr'], value: 0.0003 }. */
export function parseSet(arg: string): { path: string[]; value: unknown } {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new ConfigError('--set', arg, 'expected key=value, e.g. --set optimizer.lr=3e-4');
  const key = arg.slice(0, eq).trim();
  const shown = key.length > 80 ? `${key.slice(0, 77)}...` : key;
  // Config keys are two levels deep (section.key); a longer path is refused before any lookup.
  if (key.length > 200 || key.split('.').length > MAX_KEY_DEPTH) {
    throw new ConfigError(
      '--set',
      shown,
      `not a config key: keys are section.key, e.g. optimizer.lr (at most ${MAX_KEY_DEPTH} parts, 200 characters)`,
    );
  }
  const path = key.split('.');
  if (path.some((s) => s === ''))
    throw new ConfigError('--set', arg, 'expected a dotted key before "=", e.g. optimizer.lr');
  return { path, value: parseSetValue(arg.slice(eq + 1)) };
}

function nest(path: readonly string[], value: unknown): Obj {
  return path.reduceRight<unknown>((inner, k) => ({ [k]: inner }), value) as Obj;
}

// ---- the config file ----

/** Read a partial config file: a JSON object. Exported for tests; the CLI goes through resolveConfig. */
export function readConfigFile(file: string): Obj {
  if (!existsSync(file)) throw new ConfigError('config file', file, `not found (looked for ${resolvePath(file)})`);
  if (statSync(file).isDirectory()) throw new ConfigError('config file', file, 'is a directory, expected a JSON file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('config file', file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    const { line, column, reason } = parsed.error;
    throw new ConfigError(file, `line ${line}, column ${column}`, `not valid JSON: ${reason}`);
  }
  if (!isPlainObject(parsed.value)) {
    const got = Array.isArray(parsed.value) ? 'a list' : formatValue(parsed.value);
    throw new ConfigError(
      file,
      '(top level)',
      `expected a JSON object such as {"optimizer": {"lr": 0.001}}, got ${got}`,
    );
  }
  return parsed.value;
}

// ---- merging with provenance ----

class Merge {
  readonly config: Obj;
  private readonly sources = new Map<string, string>(); // dotted path → source; deepest entry wins

  constructor(base: RunConfig, baseSource: (key: string) => string) {
    this.config = clone(base) as unknown as Obj;
    for (const k of flattenKeys(RunConfigSchema, this.config)) this.sources.set(k, baseSource(k));
  }

  sourceOf(key: string): string {
    const parts = key.split('.');
    for (let n = parts.length; n >= 1; n--) {
      const s = this.sources.get(parts.slice(0, n).join('.'));
      if (s !== undefined) return s;
    }
    return 'default';
  }

  private setSource(path: readonly string[], source: string): void {
    const key = path.join('.');
    for (const k of [...this.sources.keys()]) if (k.startsWith(`${key}.`)) this.sources.delete(k);
    this.sources.set(key, source);
  }

  apply(layer: Obj, source: string): void {
    this.mergeInto(this.config, layer, RunConfigSchema, [], source);
  }

  private mergeInto(target: Obj, layer: Obj, node: z.ZodType, path: string[], source: string): void {
    for (const [key, value] of Object.entries(layer)) {
      const here = [...path, key];
      const child = childSchema(node, key, target);
      if (child === undefined) throw unknownKeyError(source, here, value, this.config);
      if (isSection(child) && isPlainObject(value)) {
        if (isUnion(child)) this.switchKind(target, key, value, child, here, source);
        if (isPlainObject(target[key])) {
          this.mergeInto(target[key] as Obj, value, child, here, source);
          continue;
        }
      }
      // A section must stay an object: replacing it by a scalar would let a later layer's keys
      // land in an empty section and the error blame that layer.
      if (isSection(child) && !isPlainObject(value)) {
        throw new ConfigError(source, here.join('.'), `${formatValue(value)} is not allowed; expected an object`);
      }
      // Scalars, arrays, and anything of the wrong shape replace: validation reports the latter.
      target[key] = clone(value);
      this.setSource(here, source);
    }
  }

  /** A layer that sets a union's kind to a new value restarts the section from that kind's defaults. */
  private switchKind(target: Obj, key: string, value: Obj, union: z.ZodType, path: string[], source: string): void {
    const { key: disc, kinds } = unionInfo(union);
    if (!Object.hasOwn(value, disc)) return;
    const kind = value[disc];
    if (typeof kind !== 'string' || !kinds.includes(kind)) {
      throw new ConfigError(
        source,
        [...path, disc].join('.'),
        `${formatValue(kind)} is not allowed; expected one of ${kinds.join(', ')}`,
      );
    }
    const current = target[key];
    if (isPlainObject(current) && current[disc] === kind) return;
    const defaults = UNION_DEFAULTS[path.join('.')]?.[kind];
    if (defaults === undefined) throw new Error(`config: no defaults for ${path.join('.')}.${disc} "${kind}"`);
    target[key] = clone(defaults);
    this.setSource(path, 'default');
  }
}

// ---- validation ----

/**
 * Validate a complete config (merged layers, or the "config" of a run.json). `prov` says where
 * each key came from; without it every key is blamed on `source`.
 */
export function validateConfig(value: unknown, source: string, prov?: Provenance): RunConfig {
  const result = RunConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw issueToError(result.error.issues[0], value, prov ?? { sourceOf: () => source, rank: () => 0 });
}

// ---- resolveConfig ----

export function resolveConfig(opts: ResolveOptions): ResolvedConfig {
  const sets = (opts.sets ?? []).map(parseSet); // syntax first: cheapest to fix
  let presetName = opts.preset ?? null;
  let presetSource = '--preset';
  if (presetName !== null) getPreset(presetName, presetSource); // unknown name → error listing the presets

  let fileLayer: Obj | null = null;
  if (opts.file !== undefined) {
    fileLayer = readConfigFile(opts.file);
    if (Object.hasOwn(fileLayer, 'preset')) {
      const named = fileLayer.preset;
      delete fileLayer.preset;
      if (typeof named !== 'string') {
        throw new ConfigError(
          opts.file,
          'preset',
          `${formatValue(named)} is not allowed; expected a preset name: ${PRESET_NAMES.join(', ')}`,
        );
      }
      getPreset(named, opts.file);
      if (presetName !== null && presetName !== named) {
        throw new ConfigError(
          opts.file,
          'preset',
          `"${named}" conflicts with --preset ${presetName}; use one or the other`,
        );
      }
      presetName = named;
      presetSource = opts.file;
    }
  }

  const order = ['default'];
  let merge: Merge;
  if (presetName === null) {
    merge = new Merge(DEFAULTS, () => 'default');
  } else {
    const label = `preset ${presetName}`;
    order.push(label);
    const base = getPreset(presetName, presetSource);
    const defaults = new Map(flattenEntries(DEFAULTS));
    const baseLeaves = new Map(flattenEntries(base));
    // Keys the preset leaves at the default value are still called defaults.
    merge = new Merge(base, (k) => (sameValue(defaults.get(k), baseLeaves.get(k)) ? 'default' : label));
  }
  if (fileLayer !== null) {
    order.push(opts.file!);
    merge.apply(fileLayer, opts.file!);
  }
  order.push('--set');
  for (const { path, value } of sets) {
    if (path.length === 1 && path[0] === 'preset')
      throw new ConfigError('--set', 'preset', 'choose a preset with --preset NAME, not --set');
    merge.apply(nest(path, value), '--set');
  }

  const prov: Provenance = { sourceOf: (k) => merge.sourceOf(k), rank: (s) => order.lastIndexOf(s) };
  const config = validateConfig(merge.config, 'config', prov);
  const sources: Record<string, string> = {};
  for (const k of flattenKeys(RunConfigSchema, config)) sources[k] = merge.sourceOf(k);
  return { config, sources, preset: presetName };
}

// ---- comparing configs ----

/** Leaves of a config as [dotted key, value] in key order; arrays are leaves. */
export function flattenEntries(value: unknown, prefix = ''): [string, unknown][] {
  if (!isPlainObject(value)) return prefix ? [[prefix, value]] : [];
  return Object.entries(value).flatMap(([k, v]) => flattenEntries(v, prefix ? `${prefix}.${k}` : k));
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ConfigChange {
  key: string; // dotted path, e.g. 'optimizer.weight_decay'
  from: unknown; // undefined: the key does not exist in `a` (e.g. after a model.kind switch)
  to: unknown; // undefined: the key does not exist in `b`
}

/**
 * What differs between two configs, leaf by leaf, in a's key order; a key only b has comes right
 * after its predecessor in b (so model.d_embed sits with the other model keys).
 */
export function configDiff(a: RunConfig, b: RunConfig): ConfigChange[] {
  const left = new Map(flattenEntries(a));
  const right = new Map(flattenEntries(b));
  const keys = [...left.keys()];
  let after = -1; // index in `keys` of the last b key placed
  for (const k of right.keys()) {
    const at = keys.indexOf(k);
    if (at >= 0) after = at;
    else keys.splice(++after, 0, k);
  }
  return keys
    .filter((k) => !sameValue(left.get(k), right.get(k)))
    .map((k) => ({ key: k, from: left.get(k), to: right.get(k) }));
}

export { flattenKeys } from './keys.ts';
