/** Public API of the sweep report: the manifest, aggregate and metrics rows in, one HTML string out. */
export { renderSweepReport, sweepSections, type SweepReportOptions } from './report.ts';
export { checkSweepReportInput, type SweepMetricsRow, type SweepReportInput, type SweepReportRun } from './input.ts';
export { phaseAxes, sweptAxes, type SweptAxis } from './axes.ts';
