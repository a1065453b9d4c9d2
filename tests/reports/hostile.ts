/** Runs whose user-controlled strings are HTML/JS injection attempts, for the escaping tests. */
import type { RunReportInput } from '../../reports/input.ts';
import { syntheticRun } from './synthetic.ts';

export const HOSTILE = {
  name: '<script>alert(1)</script>',
  description: '"><img src=x onerror=alert(1)>',
  warningFile: '<img src=x onerror=alert(2)>',
  warningProblem: '</script><script>alert(3)</script>',
  reason: '"><svg onload=alert(4)>',
  note: "'><iframe src=javascript:alert(5)>",
  backend: '<style>body{display:none}</style>',
  configValue: '<script>alert(6)</script>',
};

export function hostileRun(opts: { checkpoints?: number; p?: number } = {}): RunReportInput {
  const run = syntheticRun({
    name: HOSTILE.name,
    p: opts.p ?? 23,
    checkpoints: opts.checkpoints ?? 30,
    metricsRows: 60,
  });
  run.meta.dataset.description = HOSTILE.description;
  run.meta.backend.name = HOSTILE.backend;
  run.analysis.warnings = [{ file: HOSTILE.warningFile, problem: HOSTILE.warningProblem }];
  run.analysis.summary.boundaries[0].reason = HOSTILE.reason;
  run.analysis.summary.notes = [HOSTILE.note];
  return run;
}

/** A second run for comparisons whose config carries a hostile value (a hand-edited run.json). */
export function hostileCompareRuns(): RunReportInput[] {
  const a = hostileRun();
  const b = syntheticRun({
    name: HOSTILE.description,
    p: 23,
    checkpoints: 30,
    metricsRows: 60,
    weightDecay: 0.5,
    timeScale: 2,
  });
  (b.meta.config.split as { mode: string }).mode = HOSTILE.configValue;
  return [a, b];
}
