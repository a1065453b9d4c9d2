/**
 * Reading a sweep directory for aggregation and status: the manifest, then each run's own files.
 * A run that never started still appears, with the config its manifest entry implies.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigChange } from '../../src/config/load.ts';
import type { RunConfig } from '../../src/config/types.ts';
import { FormatError } from '../../src/errors.ts';
import { readMetrics, type MetricsRow } from '../../src/run/store.ts';
import { readAnalysis } from '../store.ts';
import type { RunInput } from './types.ts';
import { runState, type Environment, type RunState } from '../../src/sweep/status.ts';
import { readManifest, runDir, type SweepManifest } from '../../src/sweep/store.ts';

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

/**
 * What `sweep report` takes from a run's analysis.json (read and validated by ../store.ts, the
 * one reader of the format): its contraction rate and key frequencies. A file that is damaged,
 * foreign or of a newer format version is left out with a warning naming it (the run is then
 * aggregated from its metrics alone), never silently.
 */
function analysisOf(dir: string, warn: (problem: string) => void): RunInput['analysis'] {
  let a;
  try {
    a = readAnalysis(dir);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    warn(`${e.message}; its contraction rate and key frequencies are left out`);
    return null;
  }
  if (a === null) return null;
  const c = a.summary.contraction?.c;
  return { contraction_c: typeof c === 'number' && Number.isFinite(c) ? c : null, key_frequencies: a.key_frequencies };
}

export interface LoadedSweep {
  manifest: SweepManifest;
  states: RunState[];
  inputs: RunInput[];
  /** One line per run file that was left out (a damaged analysis.json), naming it. */
  warnings: string[];
}

export function loadSweep(sweepDir: string, env: Environment): LoadedSweep {
  const manifest = readManifest(sweepDir);
  const states: RunState[] = [];
  const warnings: string[] = [];
  const warn = (problem: string) => warnings.push(problem);
  const inputs: RunInput[] = manifest.runs.map((m) => {
    const dir = runDir(sweepDir, m.id);
    const s = runState(sweepDir, m.id, env);
    states.push(s);
    const metrics = join(dir, 'metrics.jsonl');
    // The aggregate is made of these rows: a damaged log is an error naming it (and the line), not
    // a run silently counted as one that never grokked.
    const rows: MetricsRow[] = existsSync(metrics) ? readMetrics(metrics) : [];
    return {
      id: m.id,
      settings: m.settings,
      seed: m.seed,
      state: s.state,
      reason: s.reason,
      config: s.config ?? applyDiff(manifest.base.config, m.diff),
      rows,
      analysis: analysisOf(dir, warn),
    };
  });
  return { manifest, states, inputs, warnings };
}
