/**
 * SGD with momentum, PyTorch semantics (torch.optim.SGD, dampening 0, maximize=False), plus an
 * option for decoupled weight decay. Float-op order, per parameter θ with gradient g (PyTorch's
 * `_single_tensor_sgd`):
 *
 *   coupled wd (PyTorch's only kind):  g ← g + wd·θ              grad.add(param, alpha=wd)
 *   decoupled wd (ours, as in AdamW):  θ ← θ·(1 − lr·wd)         param.mul_(1 − lr·wd)
 *   momentum μ > 0:  first update      buf ← g                   torch.clone(grad)
 *                    later updates     buf ← buf·μ + g           buf.mul_(μ).add_(grad, alpha=1)
 *                    nesterov          g ← g + μ·buf             grad.add(buf, alpha=μ)
 *                    otherwise         g ← buf
 *   θ ← θ + (−lr)·g                                              param.add_(grad, alpha=−lr)
 *
 * With μ = 0 there is no momentum buffer (PyTorch keeps none either), so the state is empty.
 * The learning rate includes warm-up (see SlotOptimizer.currentLr).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../config/types.ts';
import { SlotOptimizer, type ParamShape, type StepContext } from './adam.ts';

export class Sgd extends SlotOptimizer {
  private readonly k: { mu: tf.Scalar; wd: tf.Scalar }; // constant float32 scalars

  constructor(config: OptimizerConfig, specs: readonly ParamShape[]) {
    super(config, specs, config.momentum !== 0 ? ['momentum_buffer'] : []);
    if (config.kind !== 'sgd') throw new Error(`Sgd: config.kind is '${config.kind}'`);
    this.k = tf.tidy(() => ({ mu: tf.keep(tf.scalar(config.momentum)), wd: tf.keep(tf.scalar(config.weight_decay)) }));
  }

  protected update(name: string, param: tf.Variable, grad: tf.Tensor, { lr, stepsTaken }: StepContext): void {
    const { weight_decay: wd, momentum, nesterov, decoupled_weight_decay } = this.config;
    let theta: tf.Tensor = param;
    let g = grad;
    if (wd !== 0) {
      if (decoupled_weight_decay) theta = tf.mul(param, tf.scalar(1 - lr * wd));
      else g = tf.add(grad, tf.mul(param, this.k.wd));
    }
    if (momentum !== 0) {
      const buf = this.slot('momentum_buffer', name);
      // First update: PyTorch clones the gradient rather than computing 0·μ + g.
      const bufNew = stepsTaken === 0 ? g : tf.add(tf.mul(buf, this.k.mu), g);
      g = nesterov ? tf.add(g, tf.mul(this.k.mu, bufNew)) : bufNew;
      buf.assign(bufNew);
    }
    param.assign(tf.add(theta, tf.mul(tf.scalar(-lr), g)));
  }

  protected override disposeScalars(): void {
    this.k.mu.dispose();
    this.k.wd.dispose();
  }
}
