/**
 * Float64 reference optimisers: textbook AdamW / Adam / SGD-with-momentum with PyTorch's semantics
 * as the README's Configuration notes state them.
 *
 * - Learning rate of update s (s = 0, 1, …): lr·min(s/warmup_steps, 1), lr when warmup_steps = 0;
 *   so update 0 has lr 0 under a warm-up, but it still counts: Adam's moments and step count, and
 *   SGD's momentum buffer, take in its gradient (as a PyTorch LambdaLR schedule does).
 * - Decoupled weight decay (AdamW always; SGD when decoupled_weight_decay): θ ← θ − lr_s·wd·θ
 *   before the step, with the gradient taken at the undecayed θ. Coupled (Adam; SGD otherwise):
 *   g ← g + wd·θ.
 * - Adam: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr_s·(m/(1−β1^t)) / (√(v/(1−β2^t)) + eps),
 *   t = s + 1.
 * - SGD: buf ← g on the first update, then buf ← μ·buf + g (no dampening); the direction is
 *   g + μ·buf with Nesterov, buf without; plain g when μ = 0.
 * Only the names given as trained are touched: a tensor that is not a parameter is neither
 * updated nor decayed.
 */
import type { Params64 } from './reference-common.ts';

export interface OptimSettings {
  kind: 'adamw' | 'adam' | 'sgd';
  lr: number;
  weight_decay: number;
  betas: [number, number];
  eps: number;
  momentum: number;
  nesterov: boolean;
  decoupled_weight_decay: boolean;
  warmup_steps: number;
  /** Replaces the warm-up schedule: only for the power tests, which inject a wrong schedule. */
  lrAt?: (s: number) => number;
}

export function scheduledLr(o: OptimSettings, s: number): number {
  if (o.lrAt) return o.lrAt(s);
  return o.warmup_steps > 0 ? o.lr * Math.min(s / o.warmup_steps, 1) : o.lr;
}

export class RefOptimizer {
  private s = 0; // updates applied so far
  private readonly m: Record<string, Float64Array> = {}; // Adam first moment, or SGD momentum buffer
  private readonly v: Record<string, Float64Array> = {}; // Adam second moment

  constructor(
    readonly o: OptimSettings,
    readonly trained: string[],
  ) {}

  private decoupled(): boolean {
    return this.o.kind === 'adamw' || (this.o.kind === 'sgd' && this.o.decoupled_weight_decay);
  }

  /** One update of `params` in place with the gradients taken at the current params. */
  step(params: Params64, grads: Record<string, Float64Array>): void {
    const o = this.o;
    const lr = scheduledLr(o, this.s);
    const t = this.s + 1;
    const wd = o.weight_decay;
    for (const name of this.trained) {
      const th = params[name].data;
      const g0 = grads[name];
      const n = th.length;
      const g = new Float64Array(n);
      for (let i = 0; i < n; i++) g[i] = this.decoupled() ? g0[i] : g0[i] + wd * th[i];
      if (this.decoupled()) for (let i = 0; i < n; i++) th[i] -= lr * wd * th[i];
      if (o.kind === 'sgd') {
        if (o.momentum === 0) {
          for (let i = 0; i < n; i++) th[i] -= lr * g[i];
          continue;
        }
        const first = !this.m[name];
        const buf = (this.m[name] ??= new Float64Array(n));
        for (let i = 0; i < n; i++) {
          buf[i] = first ? g[i] : o.momentum * buf[i] + g[i];
          th[i] -= lr * (o.nesterov ? g[i] + o.momentum * buf[i] : buf[i]);
        }
      } else {
        const [b1, b2] = o.betas;
        const m = (this.m[name] ??= new Float64Array(n));
        const v = (this.v[name] ??= new Float64Array(n));
        const bc1 = 1 - b1 ** t;
        const bc2 = 1 - b2 ** t;
        for (let i = 0; i < n; i++) {
          m[i] = b1 * m[i] + (1 - b1) * g[i];
          v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
          th[i] -= (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + o.eps);
        }
      }
    }
    this.s++;
  }
}
