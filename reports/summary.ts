/**
 * The run at a glance: what was trained (task, split, model, optimiser, seed, backend, budget) and
 * the key numbers of the transition (T_mem, T_grok, delay, key frequencies, V_mem / V_at_grok,
 * contraction c/(lr·wd)). Every value is text put in through the DOM.
 */
import { logNormRatio } from '../src/grokking.ts';
import type { AnalysisFile } from '../analyses/types.ts';
import { describeModel } from '../src/config/describe.ts';
import type { RunConfig } from '../src/config/types.ts';
import type { MetricsRow, RunMeta } from '../src/run/store.ts';
import { fmtNum, fmtPct, fmtStep, fmtValue } from './format.ts';
import { el } from './page.ts';

export function describeOptimizer(c: RunConfig): string {
  const o = c.optimizer;
  const parts = [`${o.kind}`, `lr ${fmtValue(o.lr)}`, `weight decay ${fmtValue(o.weight_decay)}`];
  if (o.kind !== 'sgd') parts.push(`β (${o.betas.map(fmtValue).join(', ')})`, `ε ${fmtValue(o.eps)}`);
  else
    parts.push(
      `momentum ${fmtValue(o.momentum)}${o.nesterov ? ' (Nesterov)' : ''}`,
      o.decoupled_weight_decay ? 'decoupled decay' : 'coupled decay',
    );
  if (o.warmup_steps) parts.push(`warm-up ${o.warmup_steps} steps`);
  if (o.linf_penalty) parts.push(`ℓ∞ penalty ${fmtValue(o.linf_penalty)}`);
  return parts.join(', ');
}

/** [label, value] rows of the run table. */
export function runRows(meta: RunMeta, analysis: AnalysisFile, metrics: MetricsRow[]): [string, string][] {
  const c = meta.config;
  const d = meta.dataset;
  const b = meta.backend;
  const lastCk = analysis.checkpoints[analysis.checkpoints.length - 1];
  const lastRow = metrics[metrics.length - 1];
  const rows: [string, string][] = [
    ['run', meta.name],
    [
      'task',
      `${d.description}` +
        (analysis.group?.kind !== 'none' && analysis.group?.description
          ? ` (analysed over the ${analysis.group.kind} group of order ${analysis.group.n}: ${analysis.group.description})`
          : ''),
    ],
    [
      'split',
      `${fmtPct(c.split?.train_fraction)} train: ${d.n_train} train / ${d.n_test} test pairs; ${fmtValue(c.split?.mode)} split, seed ${fmtValue(c.split?.seed)}`,
    ],
    ['model', `${c.model ? describeModel(c.model) : '–'}; ${meta.n_params?.toLocaleString('en-US') ?? '–'} parameters`],
    ['optimiser', c.optimizer ? describeOptimizer(c) : '–'],
    [
      'training',
      `${c.training?.batch_size === null ? 'full batch' : `batch ${fmtValue(c.training?.batch_size)}`}, ${fmtValue(c.training?.loss)} loss, seed ${fmtValue(c.training?.seed)}`,
    ],
    [
      'budget',
      `${fmtValue(c.training?.steps)} steps` +
        (c.training?.early_stop_after_grok !== null && c.training?.early_stop_after_grok !== undefined
          ? `, stops ${c.training.early_stop_after_grok} steps after grokking`
          : '') +
        `; last logged step ${lastRow ? lastRow.step : '–'}, last analysed checkpoint ${lastCk ? lastCk.step : '–'}`,
    ],
    [
      'backend',
      `${b?.name ?? '–'}` +
        (b?.threads ? `, ${b.threads} thread${b.threads === 1 ? '' : 's'}` : '') +
        (b?.simd ? ', SIMD' : '') +
        (b?.tfjs_version ? `; tfjs ${b.tfjs_version}` : ''),
    ],
    [
      'analysis',
      `${analysis.checkpoints.length} checkpoints; passes: ${analysis.options.passes.join(', ') || 'none'}; ${analysis.key_frequencies_step === null ? 'no key frequencies' : `key frequencies from ${analysis.options.key_freq_source === 'final' ? `the checkpoint at step ${analysis.key_frequencies_step}` : 'each checkpoint'}`}; groklens ${analysis.groklens_version}, updated ${analysis.updated_at}`,
    ],
  ];
  return rows;
}

export interface KeyNumber {
  label: string;
  value: string;
  detail?: string;
}

export function keyNumbers(analysis: AnalysisFile, metrics: MetricsRow[]): KeyNumber[] {
  const s = analysis.summary;
  const fit = s.contraction;
  const last = metrics[metrics.length - 1];
  const lastCk = [...analysis.checkpoints].reverse().find((c) => c.metrics)?.metrics;
  const trainAcc = last?.train_acc ?? lastCk?.train_acc;
  const testAcc = last?.test_acc ?? lastCk?.test_acc;
  const out: KeyNumber[] = [
    {
      label: 'T_mem (train acc ≥ 99 %)',
      value: fmtStep(s.t_mem),
      detail: s.t_mem === null ? 'never reached' : `step ${s.t_mem}`,
    },
    {
      label: 'T_grok (test acc ≥ 95 %)',
      value: fmtStep(s.t_grok_95),
      detail: s.t_grok_95 === null ? 'never reached' : `step ${s.t_grok_95}; ≥ 99 % at ${s.t_grok_99 ?? 'never'}`,
    },
    { label: 'delay T_grok − T_mem', value: fmtStep(s.delay_95), detail: `at 99 %: ${fmtStep(s.delay_99)}` },
    {
      label: 'key frequencies',
      value: analysis.key_frequencies.length ? analysis.key_frequencies.join(', ') : '–',
      detail:
        analysis.key_frequencies_step === null
          ? 'fourier pass not run'
          : `neuron rule at step ${analysis.key_frequencies_step}`,
    },
    {
      label: 'V_mem / V_at_grok (‖θ‖²)',
      value: fit ? `${fmtNum(fit.v_mem)} / ${fmtNum(fit.v_at_grok)}` : '–',
      detail: fit
        ? `log ratio ${fmtNum(logNormRatio(fit.v_mem, fit.v_at_grok))}; at the fit's end ${fmtNum(fit.v_fit_end)}`
        : 'no contraction fit',
    },
    {
      label: 'contraction c/(lr·wd)',
      value: fit ? fmtNum(fit.c_over_lr_wd) : '–',
      detail: fit
        ? `c = ${fmtNum(fit.c)} per step, R² ${fmtNum(fit.r2)}, steps ${fit.from}–${fit.to}`
        : 'no contraction fit',
    },
    { label: 'final accuracy', value: `${fmtPct(trainAcc)} / ${fmtPct(testAcc)}`, detail: 'train / test' },
  ];
  return out;
}

export function summaryNodes(doc: Document, meta: RunMeta, analysis: AnalysisFile, metrics: MetricsRow[]): Node[] {
  const table = el(
    doc,
    'table',
    { class: 'run wide' },
    el(
      doc,
      'tbody',
      {},
      ...runRows(meta, analysis, metrics).map(([k, v]) =>
        el(doc, 'tr', {}, el(doc, 'th', { scope: 'row' }, k), el(doc, 'td', {}, v)),
      ),
    ),
  );
  const keys = el(
    doc,
    'div',
    { class: 'keys' },
    ...keyNumbers(analysis, metrics).map((k) =>
      el(
        doc,
        'div',
        { class: 'key' },
        el(doc, 'div', { class: 'k' }, k.label),
        el(doc, 'div', { class: 'v' }, k.value),
        k.detail ? el(doc, 'div', { class: 'd' }, k.detail) : null,
      ),
    ),
  );
  const nodes: Node[] = [keys, table];
  // How run.json was read (e.g. an older format) and the analysis' own notes, each once.
  const notes = [...(Array.isArray(meta.notes) ? meta.notes : []), ...(analysis.summary.notes ?? [])];
  for (const n of new Set(notes)) nodes.push(el(doc, 'p', { class: 'note' }, n));
  const d = analysis.run.divergence;
  if (d && typeof d.step === 'number') {
    const kept =
      d.last_finite_checkpoint === null
        ? 'no checkpoint has finite weights'
        : `the last checkpoint with finite weights is step ${d.last_finite_checkpoint}`;
    nodes.push(
      el(
        doc,
        'div',
        { class: 'warn' },
        el(doc, 'strong', {}, `Training diverged at step ${d.step}: `),
        `${d.detail}; ${kept}.`,
      ),
    );
  }
  if (analysis.warnings?.length) {
    nodes.push(
      el(
        doc,
        'div',
        { class: 'warn' },
        el(
          doc,
          'strong',
          {},
          `${analysis.warnings.length} analysis warning${analysis.warnings.length === 1 ? '' : 's'}:`,
        ),
        el(doc, 'ul', {}, ...analysis.warnings.map((w) => el(doc, 'li', {}, `${w.file}: ${w.problem}`))),
      ),
    );
  }
  return nodes;
}
