/**
 * The committed synthetic run under fixtures/reports/synthetic/: run.json, metrics.jsonl and an
 * analysis.json that carries the optional "attention" field. Snapshot tests render from these files
 * (so a snapshot depends on the renderer only); fixture.test.ts checks that the generator still
 * writes exactly these files. Regenerate with: npx tsx tests/reports/make-fixture.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisFile } from '../../analyses/types.ts';
import type { RunReportInput } from '../../reports/input.ts';
import type { MetricsRow, RunMeta } from '../../src/run/store.ts';
import { syntheticRun } from './synthetic.ts';

export const FIXTURE_DIR = join(import.meta.dirname, '../../fixtures/reports/synthetic');
export const SNAPSHOT_DIR = join(import.meta.dirname, '../../fixtures/reports');

/** 7 significant digits, as analyses/store.ts writes analysis.json. */
const round7 = (_k: string, v: unknown): unknown =>
  typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v;

export function fixtureFiles(): Record<'run.json' | 'metrics.jsonl' | 'analysis.json', string> {
  const run = syntheticRun({ name: 'synthetic', p: 31, checkpoints: 60, metricsRows: 240, seed: 7 });
  return {
    'run.json': JSON.stringify(run.meta, null, 2) + '\n',
    'metrics.jsonl': run.metrics.map((r) => JSON.stringify(r, round7) + '\n').join(''),
    'analysis.json': JSON.stringify({ ...run.analysis, attention: run.attention }, round7) + '\n',
  };
}

/** The committed fixture as renderer input. */
export function loadFixture(): RunReportInput {
  const read = (f: string) => readFileSync(join(FIXTURE_DIR, f), 'utf8');
  const analysis = JSON.parse(read('analysis.json')) as AnalysisFile;
  return {
    meta: JSON.parse(read('run.json')) as RunMeta,
    metrics: read('metrics.jsonl')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MetricsRow),
    analysis,
    attention: analysis.attention ?? null,
  };
}
