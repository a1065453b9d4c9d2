import type * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../config/types.ts';

/**
 * An optimiser over named tf.Variables with PyTorch's semantics. `stepsTaken` is the number of
 * updates already applied (0 before the first); the learning rate used for an update is
 * lr · min(stepsTaken / warmup_steps, 1) (so with warm-up the first update has lr 0, as in
 * Nanda et al.'s LambdaLR), and Adam's bias correction uses t = stepsTaken + 1.
 */
export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Learning rate the next update will use. */
  currentLr(): number;
  readonly stepsTaken: number;
  /** Apply one update in place. Disposes nothing it does not own; leaks no tensor. */
  apply(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>): void;
  /** Everything needed to resume bit-identically: float32 slot tensors by name + scalars. */
  getState(): { tensors: Record<string, { shape: number[]; data: Float32Array }>; stepsTaken: number };
  setState(state: { tensors: Record<string, { shape: number[]; data: Float32Array }>; stepsTaken: number }): void;
  dispose(): void;
}
