/**
 * Public API of the report renderers: plain data in (run.json, metrics rows, analysis.json), one
 * self-contained HTML string out. The CLI commands in cli/commands/report.ts and compare.ts do
 * the file reading and writing.
 */
export { renderRunReport, type RunReportOptions } from './run-report.ts';
export { renderCompareReport, type CompareOptions } from './compare-report.ts';
export { checkReportInput, type AttentionHead, type AttentionPatterns, type RunReportInput } from './input.ts';
export { labelRuns, type RunLabels } from './compare/labels.ts';
export { renderSweepReport, type SweepReportOptions } from './sweep/report.ts';
