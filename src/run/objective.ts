/**
 * What the trainer minimises and what it logs: the configured loss (cross-entropy on the class,
 * or MSE on one-hot targets), plus the optional ℓ∞ penalty; train / test loss and accuracy and
 * ‖θ‖² for metrics.jsonl.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../config/types.ts';
import type { Model, PreparedInput } from '../models/types.ts';
import { accuracy, crossEntropy, linfPenalty, mse, oneHotMask } from '../optim/loss.ts';

/** Labels uploaded once: the one-hot mask [n, C] and, for MSE, the regression target [n, C]. */
export interface LabelTensors {
  mask: tf.Tensor2D; // [n, C] float32 one-hot
  target: tf.Tensor2D | null; // [n, C] MSE target; null for cross-entropy
  dispose(): void;
}

/**
 * MSE targets are the one-hot vectors; for sparse parity with labels 'pm1' they are ±1
 * (+1 on the true class, −1 on the other), the ±1 encoding of Barak et al.
 */
export function makeLabelTensors(labels: Int32Array, classes: number, cfg: RunConfig): LabelTensors {
  const mask = oneHotMask(labels, classes);
  let target: tf.Tensor2D | null = null;
  if (cfg.training.loss === 'mse') {
    const pm1 = cfg.task.kind === 'sparse-parity' && cfg.task.labels === 'pm1';
    target = pm1 ? tf.tidy(() => tf.sub(tf.mul(mask, 2), 1) as tf.Tensor2D) : tf.clone(mask);
  }
  return { mask, target, dispose: () => (mask.dispose(), target?.dispose()) };
}

function dataLoss(logits: tf.Tensor2D, labels: LabelTensors, cfg: RunConfig): tf.Scalar {
  return cfg.training.loss === 'mse' ? mse(logits, labels.target!) : crossEntropy(logits, labels.mask);
}

/** The scalar that gradients are taken of. Call inside tf.variableGrads / tf.tidy. */
export function lossTensor(
  model: Model,
  vars: Record<string, tf.Tensor>,
  input: PreparedInput,
  labels: LabelTensors,
  cfg: RunConfig,
): tf.Scalar {
  const { logits } = model.forward(vars, input);
  const loss = dataLoss(logits, labels, cfg);
  const lam = cfg.optimizer.linf_penalty;
  return lam > 0 ? tf.add(loss, tf.mul(linfPenalty(vars), lam)) : loss;
}

export interface EvalSet {
  input: PreparedInput;
  labels: LabelTensors;
}

/** Loss (without penalty) and accuracy on both sides of the split, and ‖θ‖²; one sync read. */
export function evaluate(model: Model, vars: Record<string, tf.Tensor>, train: EvalSet, test: EvalSet, cfg: RunConfig) {
  const values = tf.tidy(() => {
    const side = (s: EvalSet) => {
      const { logits } = model.forward(vars, s.input);
      return [dataLoss(logits, s.labels, cfg), accuracy(logits, s.labels.mask)];
    };
    const sq = tf.addN(Object.values(vars).map((v) => tf.sum(tf.square(v))));
    return tf.stack([...side(train), ...side(test), sq]);
  });
  const [train_loss, train_acc, test_loss, test_acc, sq_norm] = values.dataSync();
  values.dispose();
  return { train_loss, train_acc, test_loss, test_acc, sq_norm };
}
