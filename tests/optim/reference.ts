/**
 * Plain-JS oracles for the optimiser tests, one parameter tensor as a flat array.
 *
 * - `*64`: the textbook formulas (Loshchilov & Hutter; PyTorch's documented algorithm boxes) in
 *   float64, written independently of src/optim: m̂ = m/(1−β1^t), v̂ = v/(1−β2^t),
 *   θ −= lr·m̂/(√v̂ + eps). The implementation must agree to float32 accuracy.
 * - `*F32`: the same update in the float32 operation order src/optim documents (PyTorch's),
 *   emulated with Math.fround. Rounding an exact double result of +, −, ×, ÷ or √ of float32
 *   inputs to float32 gives the correctly rounded float32 result, so this is bit-exact IEEE
 *   float32 and the implementation must match it bit for bit.
 */

export interface AdamCase {
  decoupled: boolean; // AdamW
  lr: number;
  wd: number;
  betas: [number, number];
  eps: number;
  warmup: number;
}

export interface SgdCase {
  lr: number;
  wd: number;
  momentum: number;
  nesterov: boolean;
  decoupled: boolean;
  warmup: number;
}

export interface Trace {
  theta: number[][]; // after each step
  slots: Record<string, number[]>[]; // after each step
}

const warm = (lr: number, warmup: number, s: number) => (warmup > 0 ? lr * Math.min(s / warmup, 1) : lr);

export function adam64(theta0: ArrayLike<number>, grads: ArrayLike<number>[], c: AdamCase): Trace {
  const theta = Array.from(theta0);
  const m = theta.map(() => 0);
  const v = theta.map(() => 0);
  const out: Trace = { theta: [], slots: [] };
  grads.forEach((gs, s) => {
    const lr = warm(c.lr, c.warmup, s);
    const t = s + 1;
    for (let i = 0; i < theta.length; i++) {
      let g = gs[i];
      if (c.decoupled) theta[i] -= lr * c.wd * theta[i];
      else g += c.wd * theta[i];
      m[i] = c.betas[0] * m[i] + (1 - c.betas[0]) * g;
      v[i] = c.betas[1] * v[i] + (1 - c.betas[1]) * g * g;
      const mHat = m[i] / (1 - c.betas[0] ** t);
      const vHat = v[i] / (1 - c.betas[1] ** t);
      theta[i] -= (lr * mHat) / (Math.sqrt(vHat) + c.eps);
    }
    out.theta.push(theta.slice());
    out.slots.push({ exp_avg: m.slice(), exp_avg_sq: v.slice() });
  });
  return out;
}

export function sgd64(theta0: ArrayLike<number>, grads: ArrayLike<number>[], c: SgdCase): Trace {
  const theta = Array.from(theta0);
  const buf = theta.map(() => 0);
  const out: Trace = { theta: [], slots: [] };
  grads.forEach((gs, s) => {
    const lr = warm(c.lr, c.warmup, s);
    for (let i = 0; i < theta.length; i++) {
      let g = gs[i];
      if (c.decoupled) theta[i] -= lr * c.wd * theta[i];
      else g += c.wd * theta[i];
      if (c.momentum !== 0) {
        buf[i] = s === 0 ? g : c.momentum * buf[i] + g;
        g = c.nesterov ? g + c.momentum * buf[i] : buf[i];
      }
      theta[i] -= lr * g;
    }
    out.theta.push(theta.slice());
    out.slots.push(c.momentum !== 0 ? { momentum_buffer: buf.slice() } : {});
  });
  return out;
}

const f = Math.fround;

export function adamF32(theta0: ArrayLike<number>, grads: ArrayLike<number>[], c: AdamCase): Trace {
  const theta = Array.from(theta0, f);
  const m = theta.map(() => 0);
  const v = theta.map(() => 0);
  const out: Trace = { theta: [], slots: [] };
  const [b1, b2] = c.betas;
  grads.forEach((gs, s) => {
    const lr = warm(c.lr, c.warmup, s);
    const t = s + 1;
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = f(Math.sqrt(1 - b2 ** t));
    for (let i = 0; i < theta.length; i++) {
      let g = f(gs[i]);
      if (c.wd !== 0) {
        if (c.decoupled) theta[i] = f(theta[i] * f(1 - lr * c.wd));
        else g = f(g + f(theta[i] * f(c.wd)));
      }
      m[i] = f(m[i] + f(f(1 - b1) * f(g - m[i])));
      v[i] = f(f(v[i] * f(b2)) + f(f(f(1 - b2) * g) * g));
      const denom = f(f(f(Math.sqrt(v[i])) / bc2Sqrt) + f(c.eps));
      theta[i] = f(theta[i] + f(f(f(-stepSize) * m[i]) / denom));
    }
    out.theta.push(theta.slice());
    out.slots.push({ exp_avg: m.slice(), exp_avg_sq: v.slice() });
  });
  return out;
}

export function sgdF32(theta0: ArrayLike<number>, grads: ArrayLike<number>[], c: SgdCase): Trace {
  const theta = Array.from(theta0, f);
  const buf = theta.map(() => 0);
  const out: Trace = { theta: [], slots: [] };
  grads.forEach((gs, s) => {
    const lr = warm(c.lr, c.warmup, s);
    for (let i = 0; i < theta.length; i++) {
      let g = f(gs[i]);
      if (c.wd !== 0) {
        if (c.decoupled) theta[i] = f(theta[i] * f(1 - lr * c.wd));
        else g = f(g + f(theta[i] * f(c.wd)));
      }
      if (c.momentum !== 0) {
        buf[i] = s === 0 ? g : f(f(buf[i] * f(c.momentum)) + g);
        g = c.nesterov ? f(g + f(f(c.momentum) * buf[i])) : buf[i];
      }
      theta[i] = f(theta[i] + f(f(-lr) * g));
    }
    out.theta.push(theta.slice());
    out.slots.push(c.momentum !== 0 ? { momentum_buffer: buf.slice() } : {});
  });
  return out;
}

/** |a − b| ≤ rel·|b| + abs, elementwise, with a message naming the first bad index. */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(a) || Math.abs(a - e) > rel * Math.abs(e) + abs) return `[${i}]: got ${a}, expected ${e}`;
  }
  return null;
}

/** Float32 bit patterns, for bit-identity checks (distinguishes −0 from +0 and NaN payloads). */
export const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
