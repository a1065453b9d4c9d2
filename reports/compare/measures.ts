/** The progress measures a comparison overlays, each read from one run's inputs. */
import type { PassName } from '../../analyses/types.ts';
import type { YAxisSpec } from '../chart/axes.ts';
import type { RunReportInput } from '../input.ts';
import { fromCheckpoints, fromRows, hasData, passRan, type Column } from '../series.ts';

export interface Measure {
  id: string;
  title: string;
  y: YAxisSpec;
  /** The pass(es) that provide it when metrics.jsonl does not. */
  passes: PassName[];
  pick(run: RunReportInput): Column | null;
}

const LOSS: YAxisSpec = { scale: 'log', label: 'cross-entropy (nats, log scale)' };

/** metrics.jsonl first (denser), else the analysis pass. */
function rowsOr(
  run: RunReportInput,
  key: 'train_loss' | 'test_loss' | 'train_acc' | 'test_acc' | 'sq_norm',
  fallback: () => Column | null,
): Column | null {
  const rows = fromRows(run.metrics, key);
  return hasData(rows) ? rows : fallback();
}

const ck = (run: RunReportInput, pass: PassName, pick: Parameters<typeof fromCheckpoints>[1]): Column | null =>
  passRan(run.analysis, pass) ? fromCheckpoints(run.analysis, pick) : null;

export const MEASURES: Measure[] = [
  {
    id: 'test-acc',
    title: 'Test accuracy',
    y: { scale: 'linear', label: 'test accuracy (%)', domain: [0, 1], percent: true },
    passes: ['metrics'],
    pick: (r) => rowsOr(r, 'test_acc', () => ck(r, 'metrics', (c) => c.metrics?.test_acc)),
  },
  {
    id: 'test-loss',
    title: 'Test loss',
    y: LOSS,
    passes: ['metrics'],
    pick: (r) => rowsOr(r, 'test_loss', () => ck(r, 'metrics', (c) => c.metrics?.test_loss)),
  },
  {
    id: 'train-loss',
    title: 'Train loss',
    y: LOSS,
    passes: ['metrics'],
    pick: (r) => rowsOr(r, 'train_loss', () => ck(r, 'metrics', (c) => c.metrics?.train_loss)),
  },
  {
    id: 'sq-norm',
    title: 'Sum of squared weights ‖θ‖²',
    y: { scale: 'log', label: '‖θ‖² (log scale)' },
    passes: ['norms'],
    pick: (r) => rowsOr(r, 'sq_norm', () => ck(r, 'norms', (c) => c.norms?.sq_norm_total)),
  },
  {
    id: 'restricted',
    title: 'Restricted loss (key frequencies only)',
    y: LOSS,
    passes: ['circuit'],
    pick: (r) => ck(r, 'circuit', (c) => c.circuit?.restricted_loss),
  },
  {
    id: 'excluded',
    title: 'Excluded loss (key frequencies removed)',
    y: LOSS,
    passes: ['circuit'],
    pick: (r) => ck(r, 'circuit', (c) => c.circuit?.excluded_loss),
  },
  {
    id: 'gini',
    title: 'Gini coefficient of the embedding Fourier norms',
    y: { scale: 'linear', label: 'Gini (0 = dense, 1 = sparse)', domain: [0, 1] },
    passes: ['fourier'],
    pick: (r) => ck(r, 'fourier', (c) => c.fourier?.gini_embed),
  },
  {
    id: 'kernel',
    title: 'Kernel distance from initialisation',
    y: { scale: 'linear', label: 'kernel distance (dimensionless)' },
    passes: ['ntk'],
    pick: (r) => ck(r, 'ntk', (c) => c.ntk?.projection.kernel_distance),
  },
];

export type Alignment = 'step' | 't_mem' | 't_grok';

/** The step each run is aligned at, or null when it never reached that point. */
export function alignOffset(run: RunReportInput, align: Alignment): number | null {
  if (align === 'step') return 0;
  return align === 't_mem' ? run.analysis.summary.t_mem : run.analysis.summary.t_grok_95;
}

export const ALIGN_LABEL: Record<Alignment, string> = {
  step: 'training step (optimiser updates)',
  t_mem: 'steps since T_mem (train accuracy ≥ 99 %)',
  t_grok: 'steps since T_grok (test accuracy ≥ 95 %)',
};

/** λ̂ of the opt-in llc pass: overlaid only when at least one run has it (see compare-report.ts). */
export const LLC_MEASURE: Measure = {
  id: 'llc',
  title: 'Local learning coefficient λ̂',
  y: { scale: 'linear', label: 'λ̂ (mean over chains)' },
  passes: ['llc'],
  // only the checkpoints that have λ̂ (the pass's checkpoint subset), so the line joins them
  pick: (r) =>
    passRan(r.analysis, 'llc')
      ? fromCheckpoints({ ...r.analysis, checkpoints: r.analysis.checkpoints.filter((c) => c.llc) }, (c) => c.llc?.llc)
      : null,
};

/** The measures a comparison of these runs overlays: MEASURES, plus λ̂ when any run has it. */
export function measuresFor(runs: RunReportInput[]): Measure[] {
  return runs.some((r) => passRan(r.analysis, 'llc')) ? [...MEASURES, LLC_MEASURE] : MEASURES;
}
