/**
 * Expanding a sweep into runs: grid points × list entries × seeds, in that nesting order (the
 * last grid key varies fastest, then the list entry, then the seed). Each run's config is
 * resolved exactly as `groklens train --preset P CONFIG --set k=v …` would resolve it, with the
 * layers base.set < list entry < grid values < seed keys, and is validated here, so a typo fails
 * before anything trains. (Checks that need the task built — a division task on a composite
 * modulus, say — happen at train time and are recorded as that run's failure.)
 *
 * Run ids are readable and deterministic: `label=value` for every key the sweep sets for that run,
 * joined by '_' (`wd=0.5_seed=1`). An id longer than MAX_ID_LENGTH, or one that two runs would
 * share after unsafe characters are replaced, becomes or gets a short hash of the run's settings.
 */
import { createHash } from 'node:crypto';
import { configDiff, resolveConfig, type ConfigChange } from '../config/load.ts';
import { formatValue } from '../config/issues.ts';
import type { RunConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { SweepSpec } from './file.ts';

export const MAX_ID_LENGTH = 80;

/** Short names for keys that sweeps vary most often; anything else is labelled by its last segment. */
const DEFAULT_LABELS: Record<string, string> = {
  'optimizer.weight_decay': 'wd',
  'optimizer.lr': 'lr',
  'optimizer.kind': 'opt',
  'split.train_fraction': 'frac',
  'training.batch_size': 'bs',
  'model.init_scale': 'init',
};

export interface SweepRun {
  id: string;
  index: number; // position in expansion order: what shards split
  /** What the sweep sets for this run, in the order applied (list entry, grid, seed keys). */
  settings: Record<string, unknown>;
  seed: number | null;
  config: RunConfig;
  diff: ConfigChange[]; // from the base config
}

export interface ExpandedSweep {
  spec: SweepSpec;
  baseConfig: RunConfig;
  preset: string | null;
  runs: SweepRun[];
}

/** Where each applied key came from in the sweep file, for error messages. */
type Origin = { key: string; field: string };

export function expandSweep(spec: SweepSpec, source: string): ExpandedSweep {
  const baseSets = Object.entries(spec.base.set).map(([k, v]) => ({ key: k, value: v, field: `base.set."${k}"` }));
  const base = resolveWithBlame(spec, baseSets, source);

  const gridKeys = Object.keys(spec.grid);
  const seedKeys = spec.seeds?.keys ?? [];
  spec.list.forEach((entry, i) => {
    for (const k of Object.keys(entry)) {
      if (gridKeys.includes(k))
        throw new ConfigError(source, `list[${i}]."${k}"`, 'this key is also in the grid; set it in one place');
      if (seedKeys.includes(k))
        throw new ConfigError(source, `list[${i}]."${k}"`, 'this key is set by the seeds; set it in one place');
    }
  });
  for (const k of gridKeys) {
    if (seedKeys.includes(k))
      throw new ConfigError(source, `grid."${k}"`, 'this key is set by the seeds; set it in one place');
  }

  const points = cartesian(gridKeys.map((k) => spec.grid[k]));
  const entries = spec.list.length ? spec.list.map((e, i) => ({ e, i })) : [null];
  const seeds: (number | null)[] = spec.seeds?.values ?? [null];
  const labels = labelMap(spec);

  const runs: Omit<SweepRun, 'id'>[] = [];
  const readable: string[] = [];
  for (const point of points) {
    for (const entry of entries) {
      for (const seed of seeds) {
        const applied: { key: string; value: unknown; field: string }[] = [];
        if (entry)
          for (const [k, v] of Object.entries(entry.e))
            applied.push({ key: k, value: v, field: `list[${entry.i}]."${k}"` });
        gridKeys.forEach((k, j) => applied.push({ key: k, value: point[j], field: `grid."${k}"` }));
        if (seed !== null) for (const k of seedKeys) applied.push({ key: k, value: seed, field: `seeds (${k})` });
        const config = resolveWithBlame(spec, [...baseSets, ...applied], source).config;
        const settings: Record<string, unknown> = {};
        for (const a of applied) settings[a.key] = a.value;
        runs.push({ index: runs.length, settings, seed, config, diff: configDiff(base.config, config) });
        const parts = applied
          .filter((a) => !seedKeys.includes(a.key))
          .map((a) => `${labels(a.key)}=${formatIdValue(a.value)}`);
        if (seed !== null) parts.push(`seed=${seed}`);
        readable.push(parts.length ? parts.join('_') : 'base');
      }
    }
  }

  const ids = finalIds(
    readable,
    runs.map((r) => r.settings),
  );
  const firstWith = new Map<string, number>();
  runs.forEach((r, i) => {
    const key = JSON.stringify(r.config);
    const same = firstWith.get(key);
    if (same !== undefined) {
      throw new ConfigError(
        source,
        ids[i],
        `resolves to the same config as run ${ids[same]}: two runs would train the same thing`,
      );
    }
    firstWith.set(key, i);
  });
  return { spec, baseConfig: base.config, preset: base.preset, runs: runs.map((r, i) => ({ id: ids[i], ...r })) };
}

function resolveWithBlame(spec: SweepSpec, sets: { key: string; value: unknown; field: string }[], source: string) {
  try {
    return resolveConfig({
      preset: spec.base.preset ?? undefined,
      file: spec.base.file ?? undefined,
      sets: sets.map((s) => `${s.key}=${JSON.stringify(s.value)}`),
    });
  } catch (e) {
    if (!(e instanceof ConfigError) || e.source !== '--set') {
      if (e instanceof ConfigError && e.source === '--preset')
        throw new ConfigError(source, 'base.preset', bareMessage(e, false));
      throw e;
    }
    const origin = blame(e.key, sets);
    if (origin === null) throw new ConfigError(source, e.key, bareMessage(e));
    const val = sets.find((s) => s.field === origin.field)?.value;
    const bare = bareMessage(e);
    const mentionsValue = bare.includes(formatValue(val));
    throw new ConfigError(source, origin.field, `${mentionsValue ? '' : `${formatValue(val)}: `}${bare}`);
  }
}

/** The last sweep field whose key is the error's key or a section above or below it. */
function blame(key: string, sets: Origin[]): Origin | null {
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
  for (let i = sets.length - 1; i >= 0; i--) if (related(key, sets[i].key)) return sets[i];
  return null;
}

/** The message without its source (and, unless `withKey`, without its key). */
function bareMessage(e: ConfigError, withKey = true): string {
  const prefix = `${e.source}: ${e.key}: `;
  if (!e.message.startsWith(prefix)) return e.message;
  return withKey ? `${e.key}: ${e.message.slice(prefix.length)}` : e.message.slice(prefix.length);
}

function cartesian(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, values) => acc.flatMap((p) => values.map((v) => [...p, v])), [[]]);
}

/** Label of each swept key; keys whose labels would clash are spelled out in full. */
function labelMap(spec: SweepSpec): (key: string) => string {
  const keys = new Set<string>([...Object.keys(spec.grid), ...spec.list.flatMap((e) => Object.keys(e))]);
  const short = (k: string) => spec.labels[k] ?? DEFAULT_LABELS[k] ?? k.slice(k.lastIndexOf('.') + 1);
  const count = new Map<string, number>();
  for (const k of keys) count.set(short(k), (count.get(short(k)) ?? 0) + 1);
  count.set('seed', (count.get('seed') ?? 0) + (spec.seeds ? 1 : 0));
  return (k) => (count.get(short(k))! > 1 && !spec.labels[k] ? k : short(k));
}

/** A value as it appears in an id: numbers as JS prints them, lists joined by ','. */
export function formatIdValue(v: unknown): string {
  const raw = Array.isArray(v) ? v.map(formatIdValue).join(',') : typeof v === 'string' ? v : JSON.stringify(v);
  return raw.replace(/[^A-Za-z0-9._+@-]/g, '-');
}

export function settingsHash(settings: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 10);
}

function finalIds(readable: string[], settings: Record<string, unknown>[]): string[] {
  const count = new Map<string, number>();
  for (const r of readable) count.set(r, (count.get(r) ?? 0) + 1);
  return readable.map((r, i) => {
    if (r.length > MAX_ID_LENGTH) return `run-${settingsHash(settings[i])}`;
    return count.get(r)! > 1 ? `${r}_${settingsHash(settings[i]).slice(0, 6)}` : r;
  });
}
