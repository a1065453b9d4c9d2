/**
 * The axes of a sweep: every config key whose value differs between its runs, with the values in
 * display order (numbers ascending, anything else in order of first appearance). A run's value of a
 * key is what the sweep set for it, else what its config diff says, else the base config's value.
 * The phase diagram plots two of them: by default the two with the most distinct values, the seed
 * only when nothing else varies.
 */
import { flattenEntries } from '../../src/config/load.ts';
import { UserError } from '../../src/errors.ts';
import type { ManifestRun, SweepManifest } from '../../src/sweep/store.ts';

export interface SweptAxis {
  key: string; // dotted config key
  values: unknown[]; // distinct, in display order
  seed: boolean; // set by the sweep's seeds
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A function giving each run's value of a config key (undefined: the key is absent). */
export function runValues(manifest: SweepManifest): (run: ManifestRun, key: string) => unknown {
  const base = new Map(flattenEntries(manifest.base.config));
  return (run, key) => {
    if (Object.prototype.hasOwnProperty.call(run.settings, key)) return run.settings[key];
    const change = run.diff.find((c) => c.key === key);
    return change ? change.to : base.get(key);
  };
}

function displayOrder(values: unknown[]): unknown[] {
  if (values.every((v) => typeof v === 'number')) return [...values].sort((a, b) => (a as number) - (b as number));
  return values;
}

/** Every key the sweep sets that takes at least two values across its runs (one seed key at most). */
export function sweptAxes(manifest: SweepManifest): SweptAxis[] {
  const spec = manifest.sweep;
  const seedKeys = spec?.seeds?.keys ?? [];
  const keys: string[] = [];
  const add = (k: string) => {
    if (!keys.includes(k)) keys.push(k);
  };
  for (const k of Object.keys(spec?.grid ?? {})) add(k);
  for (const e of spec?.list ?? []) for (const k of Object.keys(e)) add(k);
  for (const r of manifest.runs) for (const k of Object.keys(r.settings)) if (!seedKeys.includes(k)) add(k);
  for (const k of seedKeys) add(k);
  const valueOf = runValues(manifest);
  const axes: SweptAxis[] = [];
  let seedTaken = false;
  for (const key of keys) {
    const seed = seedKeys.includes(key);
    if (seed && seedTaken) continue; // the seed keys all take the seed's value
    const values: unknown[] = [];
    for (const r of manifest.runs) {
      const v = valueOf(r, key);
      if (!values.some((u) => same(u, v))) values.push(v);
    }
    if (values.length < 2) continue;
    if (seed) seedTaken = true;
    axes.push({ key, values: displayOrder(values), seed });
  }
  return axes;
}

/**
 * The phase diagram's axes: `chosen` keys if given (each must be swept), else the two non-seed axes
 * with the most distinct values (ties: the order of the sweep file), the seed only as a last resort.
 */
export function phaseAxes(axes: SweptAxis[], chosen?: string[]): SweptAxis[] {
  if (chosen?.length) {
    return chosen.slice(0, 2).map((k) => {
      const a = axes.find((x) => x.key === k);
      if (!a)
        throw new UserError(
          `phase diagram axis ${JSON.stringify(k)}: not a swept key; swept: ${axes.map((x) => x.key).join(', ') || 'none'}`,
        );
      return a;
    });
  }
  const ranked = axes
    .map((a, i) => ({ a, i }))
    .sort((p, q) => Number(p.a.seed) - Number(q.a.seed) || q.a.values.length - p.a.values.length || p.i - q.i);
  return ranked.slice(0, 2).map((r) => r.a);
}

/** Where a value sits on an axis (its index in display order). */
export const axisIndex = (axis: SweptAxis, v: unknown): number => axis.values.findIndex((u) => same(u, v));
