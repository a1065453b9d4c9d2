/**
 * The reference optimisers against numbers worked out by hand from the textbook formulas, on
 * tensors of two elements whose "gradient" is chosen directly (no model), so that every
 * convention the trajectory test relies on is pinned down on its own: warm-up with a zero first
 * update that still feeds the moments, bias correction, decoupled vs coupled weight decay, heavy-
 * ball vs Nesterov momentum, and that non-trained tensors are left alone.
 */
import { describe, expect, it } from 'vitest';
import type { Params64 } from './reference-common.ts';
import { RefOptimizer, scheduledLr, type OptimSettings } from './reference-optim.ts';

const BASE: OptimSettings = {
  kind: 'adamw',
  lr: 0.1,
  weight_decay: 0,
  betas: [0.9, 0.98],
  eps: 1e-8,
  momentum: 0,
  nesterov: false,
  decoupled_weight_decay: true,
  warmup_steps: 0,
};

const params = (...xs: number[]): Params64 => ({
  w: { shape: [xs.length], data: Float64Array.from(xs) },
  frozen: { shape: [1], data: Float64Array.from([5]) },
});
const grads = (...gs: number[]) => ({ w: Float64Array.from(gs), frozen: Float64Array.from([1]) });

/** Apply `n` updates with a constant gradient and return w. */
function run(o: OptimSettings, w0: number[], g: number[], n: number): number[] {
  const p = params(...w0);
  const opt = new RefOptimizer(o, ['w']);
  for (let s = 0; s < n; s++) opt.step(p, grads(...g));
  expect(p.frozen.data[0]).toBe(5); // not trained: never updated, never decayed
  return Array.from(p.w.data);
}

describe('reference optimisers', () => {
  it('warm-up: lr·min(s/warmup, 1), update 0 has lr 0', () => {
    const o = { ...BASE, warmup_steps: 4 };
    const want = [0, 0.025, 0.05, 0.075, 0.1, 0.1];
    [0, 1, 2, 3, 4, 9].forEach((s, i) => expect(scheduledLr(o, s)).toBeCloseTo(want[i], 15));
    expect(scheduledLr(BASE, 0)).toBe(0.1);
  });

  it('Adam with a constant gradient moves by lr·g/(|g|+eps) per step (bias correction makes m̂ = g, v̂ = g²)', () => {
    const w = run(BASE, [1, -2], [0.5, -1e-3], 3);
    expect(w[0]).toBeCloseTo(1 - 3 * 0.1 * (0.5 / (0.5 + 1e-8)), 12);
    expect(w[1]).toBeCloseTo(-2 + 3 * 0.1 * (1e-3 / (1e-3 + 1e-8)), 12);
  });

  it('the zero-lr first update still feeds the moments: with warm-up 2 the 2nd update uses t = 2', () => {
    // g = 1 then g = 3: m = 0.1, then 0.39; v = 0.02, then 0.0196 + 0.18 = 0.1996
    const p = params(0);
    const opt = new RefOptimizer({ ...BASE, warmup_steps: 2 }, ['w']);
    opt.step(p, grads(1));
    expect(p.w.data[0]).toBe(0);
    opt.step(p, grads(3));
    const mHat = 0.39 / (1 - 0.9 ** 2);
    const vHat = 0.1996 / (1 - 0.98 ** 2);
    expect(p.w.data[0]).toBeCloseTo(-0.05 * (mHat / (Math.sqrt(vHat) + 1e-8)), 12);
  });

  it('AdamW decays before the step by lr·wd·θ; Adam adds wd·θ to the gradient', () => {
    const o = { ...BASE, weight_decay: 0.5 };
    // AdamW, g = 0: pure decay θ ← θ(1 − lr·wd) (m = v = 0, so the Adam step is 0)
    expect(run(o, [2], [0], 2)[0]).toBeCloseTo(2 * 0.95 ** 2, 14);
    // Adam, g = 0: the gradient becomes wd·θ = 1 at θ = 2, first step moves by lr·1/(1+eps)
    expect(run({ ...o, kind: 'adam' }, [2], [0], 1)[0]).toBeCloseTo(2 - 0.1 / (1 + 1e-8), 12);
  });

  it('SGD: heavy-ball buffer g, μg+g, …; Nesterov steps along g + μ·buf', () => {
    const o: OptimSettings = { ...BASE, kind: 'sgd', lr: 0.1, momentum: 0.5 };
    // bufs 1, 1.5, 1.75 → w = −0.1·(1 + 1.5 + 1.75)
    expect(run(o, [0], [1], 3)[0]).toBeCloseTo(-0.425, 14);
    // Nesterov directions 1 + 0.5·1, 1 + 0.5·1.5, 1 + 0.5·1.75
    expect(run({ ...o, nesterov: true }, [0], [1], 3)[0]).toBeCloseTo(-0.1 * (1.5 + 1.75 + 1.875), 14);
    // plain SGD
    expect(run({ ...o, momentum: 0 }, [0], [1], 3)[0]).toBeCloseTo(-0.3, 14);
  });

  it('SGD weight decay: decoupled θ ← θ − lr·wd·θ, coupled g ← g + wd·θ (then into the momentum)', () => {
    const o: OptimSettings = { ...BASE, kind: 'sgd', lr: 0.1, momentum: 0.5, weight_decay: 0.2 };
    // decoupled, g = 0: pure decay, the buffer stays 0
    expect(run(o, [1], [0], 2)[0]).toBeCloseTo(0.98 ** 2, 14);
    // coupled, g = 0: step 1 g = 0.2 → w = 0.98, buf 0.2; step 2 g = 0.196, buf 0.296 → w = 0.9504
    expect(run({ ...o, decoupled_weight_decay: false }, [1], [0], 2)[0]).toBeCloseTo(0.9504, 14);
  });
});
