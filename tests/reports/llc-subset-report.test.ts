/**
 * λ̂ on a checkpoint subset (the llc pass's `checkpoints` setting) in the run report and in
 * compare: the line joins only the checkpoints that have λ̂, each marked with a dot; a checkpoint
 * whose chains all diverged stays a gap; the caption says how many carry it.
 */
import { describe, expect, it } from 'vitest';
import { phaseOverlay } from '../../reports/chart/phases.ts';
import { LLC_MEASURE } from '../../reports/compare/measures.ts';
import { newDocument } from '../../reports/dom.ts';
import { llcFigure } from '../../reports/llc-figures.ts';
import type { LinesHover } from '../../reports/chart/lines.ts';
import type { RunContext } from '../../reports/run-figures.ts';
import { timelineDomain } from '../../reports/series.ts';
import { withNewPasses } from './new-passes-fixture.ts';

function subsetInput() {
  const input = withNewPasses();
  const a = input.analysis;
  const keep = new Set(
    a.checkpoints.filter((_, i) => i % 7 === 0 || i === a.checkpoints.length - 1).map((c) => c.step),
  );
  for (const c of a.checkpoints) if (!keep.has(c.step)) delete c.llc;
  const nullAt = [...keep][3];
  const c = a.checkpoints.find((x) => x.step === nullAt)!;
  c.llc = { ...c.llc!, llc: null, llc_std: null, diverged_chains: c.llc!.chains.length };
  a.options.llc!.checkpoints = 8;
  return { input, keep: [...keep], nullAt };
}

function ctx(input: ReturnType<typeof withNewPasses>): RunContext {
  return {
    doc: newDocument(),
    a: input.analysis,
    rows: input.metrics,
    domain: timelineDomain(input.analysis, input.metrics),
    phases: phaseOverlay(input.analysis.summary),
    runLabel: 'run "synthetic"',
    idPrefix: '',
  };
}

describe('λ̂ on a checkpoint subset', () => {
  it('the run report draws it at those checkpoints only, dotted, with the all-diverged one a gap', () => {
    const { input, keep, nullAt } = subsetInput();
    expect(keep.length).toBeLessThan(input.analysis.checkpoints.length / 3);
    const f = llcFigure(ctx(input));
    const hover = f.hover as LinesHover;
    const mean = hover.series.find((s) => s.label.startsWith('λ̂'))!;
    expect(mean.x).toEqual(keep);
    expect(mean.y.filter((v) => v === null)).toHaveLength(1);
    expect(mean.y[keep.indexOf(nullAt)]).toBeNull();
    // one dot per drawn λ̂ (not per checkpoint), and one continuous path on each side of the gap
    const dots = [...f.svg!.querySelectorAll('circle')].filter(
      (c) => c.getAttribute('fill') === f.svg!.querySelector('path[stroke-width="2"]')!.getAttribute('stroke'),
    );
    expect(dots).toHaveLength(keep.length - 1);
    const d = f.svg!.querySelector('path[stroke-width="2"]')!.getAttribute('d')!;
    expect(d.split('M')).toHaveLength(3); // '' + two segments
    expect(f.caption!.join(' ')).toContain(
      `λ̂ is computed at ${keep.length} of the ${input.analysis.checkpoints.length} checkpoints (checkpoints=8`,
    );
  });

  it('with λ̂ at every checkpoint there are no dots and no subset sentence', () => {
    const f = llcFigure(ctx(withNewPasses()));
    expect(f.caption!.join(' ')).not.toContain('is computed at');
    expect(f.svg!.querySelectorAll('circle')).toHaveLength(0);
  });

  it('compare picks λ̂ only where it was computed', () => {
    const { input, keep } = subsetInput();
    const col = LLC_MEASURE.pick(input)!;
    expect(col.x).toEqual(keep);
    expect(col.y.filter((v) => Number.isFinite(v))).toHaveLength(keep.length - 1);
  });
});
