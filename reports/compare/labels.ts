/**
 * Naming runs in a comparison by what differs between their configs: "weight_decay=0.5, seed=1"
 * rather than a directory name. Keys are shortened to their last segment unless two differing keys
 * share it (then the dotted path is kept). Identical configs fall back to the run names.
 */
import type { RunConfig } from '../../src/config/types.ts';
import { configDiff, flattenEntries } from '../../src/config/load.ts';
import { fmtValue } from '../format.ts';

export interface RunLabels {
  /** Dotted config keys whose value differs between at least two runs, in config order. */
  keys: string[];
  /** Short name per key, as used in the labels. */
  short: string[];
  /** value[run][key] as text ('(absent)' when the run's config has no such key). */
  values: string[][];
  labels: string[];
}

export function labelRuns(runs: { name: string; config: RunConfig }[]): RunLabels {
  const keys: string[] = [];
  for (let i = 1; i < runs.length; i++) {
    for (const ch of configDiff(runs[0].config, runs[i].config)) if (!keys.includes(ch.key)) keys.push(ch.key);
  }
  // configDiff orders keys within one pair; across pairs keep the first run's key order.
  const order = flattenEntries(runs[0].config).map(([k]) => k);
  keys.sort((a, b) => rank(order, a) - rank(order, b));
  const last = keys.map((k) => k.split('.').pop()!);
  const short = keys.map((k, i) => (last.filter((l) => l === last[i]).length > 1 ? k : last[i]));
  const values = runs.map((r) => {
    const flat = new Map(flattenEntries(r.config));
    return keys.map((k) => fmtValue(flat.get(k)));
  });
  let labels = values.map((vals) => vals.map((v, j) => `${short[j]}=${v}`).join(', '));
  if (!keys.length) labels = runs.map((r) => r.name);
  else if (new Set(labels).size < labels.length) labels = labels.map((l, i) => `${runs[i].name}: ${l}`);
  if (new Set(labels).size < labels.length) labels = labels.map((l, i) => `${l} (#${i + 1})`);
  return { keys, short, values, labels };
}

function rank(order: string[], key: string): number {
  const i = order.indexOf(key);
  return i < 0 ? order.length : i;
}
