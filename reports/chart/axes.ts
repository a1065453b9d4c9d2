/**
 * Scales and axes shared by every chart: a linear step axis (the shared timeline), linear or log
 * value axes with powers of ten labelled 10ⁿ, light grid lines and axis titles with units.
 */
import { axisBottom, axisLeft, scaleLinear, scaleLog, type ScaleContinuousNumeric } from 'd3';
import type { G } from '../dom.ts';
import { fmtNum, fmtPct, fmtStep, pow10Label } from '../format.ts';

export type YScaleType = 'linear' | 'log';
export type NumScale = ScaleContinuousNumeric<number, number>;

export interface YAxisSpec {
  scale: YScaleType;
  label: string; // with units, e.g. "cross-entropy (nats)"
  domain?: [number, number]; // fixed; otherwise from the data
  percent?: boolean; // values are fractions, ticks printed as percentages
  format?: (v: number) => string;
}

/** 10^e as exactly as a double allows (10 ** -4 is 0.00009999999999999999; 1 / 10 ** 4 is 0.0001). */
export const pow10 = (e: number): number => (e < 0 ? 1 / 10 ** -e : 10 ** e);

/** The value extent of finite (and, on a log scale, positive) numbers; null when there are none. */
export function extentOf(values: Iterable<number>, log: boolean): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** A y scale over [height, 0]. Log domains extend to whole decades; linear ones include 0 when near. */
export function makeYScale(spec: YAxisSpec, extent: [number, number] | null, height: number): NumScale {
  if (spec.scale === 'log') {
    let [lo, hi] = spec.domain ?? extent ?? [0.1, 10];
    if (!(lo > 0)) lo = hi > 0 ? hi / 10 : 0.1;
    if (!(hi > lo)) hi = lo * 10;
    const d0 = pow10(Math.floor(Math.log10(lo) + 1e-9));
    const d1 = pow10(Math.ceil(Math.log10(hi) - 1e-9));
    return scaleLog()
      .domain([d0, d1 > d0 ? d1 : d0 * 10])
      .range([height, 0]);
  }
  if (spec.domain) return scaleLinear().domain(spec.domain).range([height, 0]);
  let [lo, hi] = extent ?? [0, 1];
  if (lo > 0 && lo < hi * 0.5) lo = 0;
  if (hi === lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.1);
  return scaleLinear().domain([lo, hi]).nice(5).range([height, 0]);
}

/** Tick values and labels for a y axis. Log: every decade (every other one when there are many). */
export function yTicks(y: NumScale, spec: YAxisSpec): { values: number[]; format: (v: number) => string } {
  if (spec.scale === 'log') {
    const [d0, d1] = y.domain();
    const e0 = Math.round(Math.log10(d0));
    const e1 = Math.round(Math.log10(d1));
    const stride = Math.max(1, Math.ceil((e1 - e0) / 7));
    const values: number[] = [];
    for (let e = e0; e <= e1; e += stride) values.push(pow10(e));
    return { values, format: (v) => pow10Label(Math.round(Math.log10(v))) };
  }
  const values = y.ticks(5);
  const format =
    spec.format ?? (spec.percent ? (v: number) => fmtPct(v).replace('.0 %', ' %') : (v: number) => fmtNum(v, 3));
  return { values, format };
}

/** Bottom axis with a title. `format` defaults to compact step labels. */
export function drawXAxis(
  plot: G,
  x: NumScale,
  height: number,
  width: number,
  label: string,
  opts: { format?: (v: number) => string; ticks?: number; values?: number[] } = {},
): void {
  const axis = axisBottom(x)
    .tickSizeOuter(0)
    .tickFormat((v) => (opts.format ?? fmtStep)(Number(v)));
  if (opts.values) axis.tickValues(opts.values);
  else axis.ticks(opts.ticks ?? Math.max(2, Math.floor(width / 80)));
  const g = plot.append('g').attr('class', 'axis axis-x').attr('transform', `translate(0,${height})`).call(axis);
  g.attr('font-family', null).attr('font-size', 10);
  if (!label) return;
  plot
    .append('text')
    .attr('class', 'axis-title')
    .attr('x', width / 2)
    .attr('y', height + 32)
    .attr('text-anchor', 'middle')
    .attr('fill', '#333')
    .text(label);
}

/** Left axis with grid lines across the plot and a rotated title. */
export function drawYAxis(
  plot: G,
  y: NumScale,
  spec: YAxisSpec,
  width: number,
  height: number,
  marginLeft: number,
): void {
  const { values, format } = yTicks(y, spec);
  plot
    .append('g')
    .attr('class', 'grid')
    .attr('stroke', '#e4e4e4')
    .selectAll('line')
    .data(values)
    .join('line')
    .attr('x1', 0)
    .attr('x2', width)
    .attr('y1', (v) => y(v))
    .attr('y2', (v) => y(v));
  const g = plot
    .append('g')
    .attr('class', 'axis axis-y')
    .call(
      axisLeft(y)
        .tickValues(values)
        .tickFormat((v) => format(Number(v)))
        .tickSizeOuter(0),
    );
  g.attr('font-family', null).attr('font-size', 10);
  if (!spec.label) return;
  plot
    .append('text')
    .attr('class', 'axis-title')
    .attr('transform', `translate(${-marginLeft + 12},${height / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('fill', '#333')
    .text(spec.label);
}

/**
 * Dotted horizontal reference lines across the plot, each labelled at its right end; labels are
 * staggered `stagger` px apart so those of nearby lines do not overlap. A `title` (hover text) is
 * added only when `withTitles`. Lines outside the y domain are left out.
 */
export function drawRefLines(
  plot: G,
  y: NumScale,
  innerW: number,
  lines: readonly { y: number; label: string; title?: string }[],
  stagger: number,
  withTitles = false,
): void {
  const [y0, y1] = y.domain();
  lines.forEach((r, i) => {
    if (!(r.y >= y0 && r.y <= y1)) return;
    const g = plot.append('g').attr('class', 'ref');
    if (withTitles) g.append('title').text(r.title ?? r.label);
    g.append('line')
      .attr('x1', 0)
      .attr('x2', innerW)
      .attr('y1', y(r.y))
      .attr('y2', y(r.y))
      .attr('stroke', '#777')
      .attr('stroke-dasharray', '1 3');
    g.append('text')
      .attr('x', innerW - 2 - stagger * i)
      .attr('y', y(r.y) - 3)
      .attr('text-anchor', 'end')
      .attr('font-size', 9)
      .attr('fill', '#555')
      .text(r.label);
  });
}
