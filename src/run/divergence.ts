/**
 * Noticing that a run has diverged (its loss or gradient is no longer a finite number) without a
 * synchronous read per step. Each step adds a few tiny ops to the graph it already runs: the
 * finiteness of the loss and of Σ‖g‖² is folded into two scalar variables holding the first step
 * at which each failed (+∞ while none has). The trainer reads them (one 2-float read) only where it
 * synchronises anyway — at an evaluation, before a checkpoint — and every ~50 ms of wall time.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Exit status of `groklens train` for a run that diverged (documented in the README). */
export const EXIT_DIVERGED = 3;

/** What went non-finite first, and at which optimiser step (0-based: the update from step s to s + 1). */
export interface Divergence {
  step: number;
  what: 'train loss' | 'gradient' | 'weights' | 'evaluation';
  detail: string;
}

/** What status.json records under `divergence`. */
export interface DivergenceRecord extends Divergence {
  last_finite_checkpoint: number | null; // the last checkpoint whose weights are all finite
  on_divergence: 'stop' | 'continue';
}

export class DivergenceWatch {
  // tidy frees the initial scalars; a variable outlives it (it is not a tracked tensor)
  private readonly firstBadLoss = tf.tidy(() => tf.variable(tf.scalar(Infinity), false));
  private readonly firstBadGrad = tf.tidy(() => tf.variable(tf.scalar(Infinity), false));
  private found: Divergence | null = null;

  /** Fold one step's loss and gradients in; no read-back. Call inside the step's tf.tidy. */
  observe(loss: tf.Scalar, grads: Record<string, tf.Tensor>, step: number): void {
    const gs = Object.values(grads);
    const sq = gs.length ? tf.addN(gs.map((g) => tf.sum(tf.square(g)))) : tf.scalar(0);
    const s = tf.scalar(step);
    const inf = tf.scalar(Infinity);
    this.firstBadLoss.assign(tf.minimum(this.firstBadLoss, tf.where(tf.isFinite(loss), inf, s)));
    this.firstBadGrad.assign(tf.minimum(this.firstBadGrad, tf.where(tf.isFinite(sq), inf, s)));
  }

  /** The first divergence seen so far (reads the two scalars once it has not yet been found). */
  check(): Divergence | null {
    if (this.found) return this.found;
    const [loss, grad] = [this.firstBadLoss.dataSync()[0], this.firstBadGrad.dataSync()[0]];
    if (loss === Infinity && grad === Infinity) return null;
    // The loss is evaluated before its gradient exists, so at a tie the loss is what failed.
    this.found =
      loss <= grad
        ? {
            step: loss,
            what: 'train loss',
            detail: `the training loss of the update at step ${loss} is not a finite number`,
          }
        : {
            step: grad,
            what: 'gradient',
            detail: `the gradient of the update at step ${grad} is not finite (‖g‖² overflowed or is NaN)`,
          };
    return this.found;
  }

  /** Record a divergence the trainer found itself (non-finite weights or evaluation). */
  note(d: Divergence): Divergence {
    const earlier = this.check();
    if (!earlier) this.found = d;
    return this.found!;
  }

  dispose(): void {
    this.firstBadLoss.dispose();
    this.firstBadGrad.dispose();
  }
}

/** Name of the first tensor holding a NaN or ±∞, or null when every value is finite. */
export function firstNonFinite(params: Record<string, { data: Float32Array }>): string | null {
  for (const [name, { data }] of Object.entries(params)) {
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return `${name}[${i}] = ${data[i]}`;
  }
  return null;
}
