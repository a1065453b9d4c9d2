import { describe, expect, it } from 'vitest';
import { CheckpointSchedule, logSpacedSteps } from '../../src/run/schedule.ts';

describe('checkpoint schedule', () => {
  it('places log-spaced steps strictly inside [1, every), ascending and distinct', () => {
    const s = logSpacedSteps(20, 100);
    expect(s[0]).toBe(1);
    expect(s.every((x, i) => x >= 1 && x < 100 && (i === 0 || x > s[i - 1]))).toBe(true);
    // rounding merges the smallest ones: fewer than 20, but more than half survive
    expect(s.length).toBeGreaterThan(10);
    expect(s.length).toBeLessThanOrEqual(20);
    // log spacing: ratios of consecutive late entries are roughly constant (100^(1/20) ≈ 1.26)
    const r = s.at(-1)! / s.at(-2)!;
    expect(r).toBeGreaterThan(1.1);
    expect(r).toBeLessThan(1.5);
  });

  it('has step 0, every multiple of `every` and the early steps, nothing else', () => {
    const sch = new CheckpointSchedule(100, 5);
    const early = logSpacedSteps(5, 100);
    for (let s = 0; s <= 1000; s++) {
      expect(sch.has(s)).toBe(s === 0 || s % 100 === 0 || early.includes(s));
    }
  });

  it('rejects a non-positive interval', () => {
    expect(() => new CheckpointSchedule(0, 5)).toThrow(/checkpoints.every/);
  });

  it('degenerate inputs give no early steps', () => {
    expect(logSpacedSteps(0, 100)).toEqual([]);
    expect(logSpacedSteps(10, 1)).toEqual([]);
  });
});
