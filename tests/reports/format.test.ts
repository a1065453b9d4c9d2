/**
 * One way to write numbers and steps (src/format.ts), and the page script's copy of it
 * (reports/hover-script.ts FORMAT_SCRIPT) run in a VM and compared value by value.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FORMAT_SCRIPT } from '../../reports/hover-script.ts';
import { fmtNum, fmtStep } from '../../src/format.ts';
import { Rng } from '../../src/rng.ts';

describe('fmtStep', () => {
  it('is compact only when that is exact, and never rounds a step', () => {
    expect([0, 950, 1000, 1250, 1234, 14000, 14100, 14050, 999999, 2_500_000, 1_234_567, -3000].map(fmtStep)).toEqual([
      '0',
      '950',
      '1k',
      '1.25k',
      '1,234',
      '14k',
      '14.1k',
      '14,050',
      '999,999',
      '2.5M',
      '1,234,567',
      '−3k',
    ]);
  });

  it('reads back to the step it was given (thousands separators and k/M suffixes undone)', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 5000; i++) {
      const s = Math.floor(10 ** (rng.uniform() * 7));
      const t = fmtStep(s);
      const m = /^([\d.,]+)([kM]?)$/.exec(t);
      expect(m, t).not.toBeNull();
      const back = Math.round(Number(m![1].replace(/,/g, '')) * (m![2] === 'k' ? 1e3 : m![2] === 'M' ? 1e6 : 1));
      expect(back, t).toBe(s);
    }
  });
});

describe("the page script's num() and step()", () => {
  const page = runInNewContext(`${FORMAT_SCRIPT}; ({ num: num, step: step })`) as {
    num: (v: number) => string;
    step: (s: number) => string;
  };

  it('write every value exactly as src/format.ts does', () => {
    const rng = new Rng(11);
    const values = [0, -0, 1e-3, 9.999e-4, 1e6, 999999.5, -2.5e-7, Infinity, -Infinity, NaN, 0.95, 123.456];
    for (let i = 0; i < 5000; i++) values.push((rng.uniform() - 0.5) * 10 ** (rng.uniform() * 16 - 8));
    for (const v of values) expect(page.num(v), String(v)).toBe(fmtNum(v));
    const steps = [0, 999, 1000, 14050, 2_500_000, -3000];
    for (let i = 0; i < 5000; i++) steps.push(Math.floor(10 ** (rng.uniform() * 7)));
    for (const s of steps) expect(page.step(s), String(s)).toBe(fmtStep(s));
  });
});
