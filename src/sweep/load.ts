/**
 * Reading a sweep directory for aggregation and status: the manifest, then each run's own files.
 * A run that never started still appears, with the config its manifest entry implies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigChange } from '../config/load.ts';
import type { RunConfig } from '../config/types.ts';
import { readJsonlTolerant } from '../io/atomic.ts';
import type { MetricsRow } from '../run/store.ts';
import type { RunInput } from './aggregate.ts';
import { runState, type Environment, type RunState } from './status.ts';
import { readManifest, runDir, type SweepManifest } from './store.ts';

/** The base config with a run's diff applied: its config, without reading its directory. */
export function applyDiff(base: RunConfig, diff: readonly ConfigChange[]): RunConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const { key, to } of diff) {
    const path = key.split('.');
    let node = out;
    for (const k of path.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    if (to === undefined) delete node[path.at(-1)!];
    else node[path.at(-1)!] = structuredClone(to);
  }
  return out as unknown as RunConfig;
}

function readAnalysis(dir: string): RunInput['analysis'] {
  const file = join(dir, 'analysis.json');
  if (!existsSync(file)) return null;
  let a: { format?: unknown; summary?: { contraction?: { c?: unknown } | null }; key_frequencies?: unknown };
  try {
    a = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null; // a half-written analysis cannot exist (atomic writes); a foreign file is ignored
  }
  if (a.format !== 'groklens-analysis') return null;
  const c = a.summary?.contraction?.c;
  const kf = a.key_frequencies;
  return {
    contraction_c: typeof c === 'number' && Number.isFinite(c) ? c : null,
    key_frequencies: Array.isArray(kf) && kf.every((k) => Number.isInteger(k)) ? (kf as number[]) : null,
  };
}

export interface LoadedSweep {
  manifest: SweepManifest;
  states: RunState[];
  inputs: RunInput[];
}

export function loadSweep(sweepDir: string, env: Environment): LoadedSweep {
  const manifest = readManifest(sweepDir);
  const states: RunState[] = [];
  const inputs: RunInput[] = manifest.runs.map((m) => {
    const dir = runDir(sweepDir, m.id);
    const s = runState(sweepDir, m.id, env);
    states.push(s);
    const metrics = join(dir, 'metrics.jsonl');
    const rows = existsSync(metrics) ? (readJsonlTolerant(metrics).rows as MetricsRow[]) : [];
    return {
      id: m.id,
      settings: m.settings,
      seed: m.seed,
      state: s.state,
      reason: s.reason,
      config: s.config ?? applyDiff(manifest.base.config, m.diff),
      rows,
      analysis: readAnalysis(dir),
    };
  });
  return { manifest, states, inputs };
}
