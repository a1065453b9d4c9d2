/**
 * Training losses and accuracy as differentiable float32 tf ops. None of them reads data back
 * (no sync), none calls tf.tidy: call them inside the caller's tidy / tf.variableGrads.
 * Each loss brings its own gradient (tf.customGrad), so it differentiates even where tfjs-core's
 * gradient registry is empty (in Node, tfjs-core alone registers no gradients).
 *
 * Labels come either as int32 class ids [n] or as a float32 one-hot mask [n, C]. Training should
 * pass the mask, built once with `oneHotMask`: the loss then needs no gather (tf.gather's
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks) and no per-step one-hot.
 * Class ids must lie in [0, C); an out-of-range id gives an all-zero mask row (we do not check,
 * to avoid a sync), which contributes 0 to the loss and makes the prediction count as wrong.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SOFTMAX_XENT, SOFTMAX_XENT_GRAD } from '../backend/softmax-xent.ts';

/** int32 class ids [n] or a float32 one-hot mask [n, C]. */
export type Labels = tf.Tensor1D | tf.Tensor2D;

/** float32 one-hot mask [n, C] from class ids (a plain array or an int32 tensor [n]). */
export function oneHotMask(labels: Int32Array | number[] | tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => {
    const ids = labels instanceof tf.Tensor ? labels : tf.tensor1d(Array.from(labels), 'int32');
    if (ids.dtype !== 'int32') throw new Error(`oneHotMask: labels must be int32, got ${ids.dtype}`);
    return tf.cast(tf.oneHot(ids, numClasses), 'float32') as tf.Tensor2D;
  });
}

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** tf.customGrad over tensor inputs; tfjs passes `save` after them. */
function withGrad(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFunc }) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    return f(args as tf.Tensor[], save);
  });
}

function checkLogits(fn: string, logits: tf.Tensor): [number, number] {
  if (logits.rank !== 2) throw new Error(`${fn}: logits must be [n, C], got shape [${logits.shape}]`);
  return logits.shape as [number, number];
}

function checkIds(fn: string, labels: tf.Tensor, n: number): void {
  if (labels.dtype !== 'int32') throw new Error(`${fn}: class ids must be int32, got ${labels.dtype}`);
  if (labels.shape[0] !== n) throw new Error(`${fn}: ${labels.shape[0]} labels for ${n} rows of logits`);
}

/** Mask [n, C] for `labels`, validated against logits [n, C]; the caller's tidy frees it. */
function toMask(fn: string, labels: Labels, n: number, c: number): tf.Tensor2D {
  if (labels.rank === 1) {
    checkIds(fn, labels, n);
    return tf.cast(tf.oneHot(labels as tf.Tensor1D, c), 'float32') as tf.Tensor2D;
  }
  if (labels.rank === 2) {
    if (labels.shape[0] !== n || labels.shape[1] !== c) {
      throw new Error(`${fn}: one-hot mask has shape [${labels.shape}], logits [${n},${c}]`);
    }
    return labels.dtype === 'float32' ? (labels as tf.Tensor2D) : (tf.cast(labels, 'float32') as tf.Tensor2D);
  }
  throw new Error(`${fn}: labels must be int32 ids [n] or a one-hot mask [n, C], got rank ${labels.rank}`);
}

/**
 * Mean cross-entropy, −(1/n)·Σ_i log softmax(logits_i)[y_i] (PyTorch's CrossEntropyLoss with
 * reduction 'mean' and no label smoothing). The log-softmax subtracts each row's max before exp,
 * so logits of 1e4 neither overflow nor lose the answer. The gradient is written out: (softmax −
 * onehot)·(dy/n), with the true class's entry as −(sum of the other classes' probabilities), which
 * stays precise when the loss is tiny (see gradFunc). logits [n, C] → scalar.
 *
 * On the wasm backend the same value and gradient come from two fused kernels (`fusedCrossEntropy`
 * below, src/backend/softmax-xent.ts): float64 inside, each output rounded to float32 once, ~3×
 * faster than the ~15 ops here; float32 logits only (others take the ops).
 */
export function crossEntropy(logits: tf.Tensor, labels: Labels): tf.Scalar {
  const [n, c] = checkLogits('crossEntropy', logits);
  const mask = toMask('crossEntropy', labels, n, c); // [n, C]
  if (logits.dtype === 'float32' && fusedCrossEntropyAvailable()) return fusedCrossEntropy(logits, mask);
  // Gradient functions read only saved tensors: tf.grad runs the loss in its own tidy, which
  // disposes anything else (such as a mask built from ids) before the backward pass.
  const op = withGrad(([x, m], save) => {
    const logp = tf.logSoftmax(x); // [n, C]
    save([logp, m]);
    const value = tf.div(tf.neg(tf.sum(tf.mul(m, logp))), tf.scalar(n));
    const gradFunc = (dy: tf.Tensor, [lp, mk]: tf.Tensor[]) => {
      const s = tf.div(dy, tf.scalar(n));
      // softmax − onehot, with the true class's entry written as −Σ_{j≠y} p_j rather than p_y − 1:
      // once the loss is below ~1e-5, p_y rounds to within an ulp of 1 in float32 and p_y − 1 is
      // mostly rounding (86 % error at a loss of 1.6e-7), while the sum of the small p_j keeps
      // its digits. That is where grokking's cleanup happens.
      const p = tf.exp(lp); // [n, C]
      const others = tf.sub(p, tf.mul(p, mk)); // p_j off the true class, exactly 0 on it
      const g = tf.sub(others, tf.mul(mk, tf.sum(others, 1, true))); // [n, C]
      return [tf.mul(g, s), tf.zerosLike(mk)];
    };
    return { value, gradFunc };
  });
  return op(logits, mask) as tf.Scalar;
}

/** Whether the active backend registers the fused kernels of src/backend/softmax-xent.ts (wasm does). */
function fusedCrossEntropyAvailable(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(SOFTMAX_XENT, backend) != null && tf.getKernel(SOFTMAX_XENT_GRAD, backend) != null;
}

/**
 * crossEntropy in two kernels instead of ~15 ops: the forward kernel returns the value and the
 * softmax, which it saves; the backward kernel is (softmax − onehot)·dy/n with the same precise
 * true-class entry as the composite path above (both written out in src/backend/softmax-xent.ts).
 */
function fusedCrossEntropy(logits: tf.Tensor, mask: tf.Tensor2D): tf.Scalar {
  const op = withGrad(([x, m], save) => {
    const [value, probs] = tf.engine().runKernel(SOFTMAX_XENT, { logits: x, mask: m }) as tf.Tensor[];
    save([probs, m]);
    const gradFunc = (dy: tf.Tensor, [p, mk]: tf.Tensor[]) => [
      tf.engine().runKernel(SOFTMAX_XENT_GRAD, { probs: p, mask: mk, dy }) as tf.Tensor,
      tf.zerosLike(mk),
    ];
    return { value, gradFunc };
  });
  return op(logits, mask) as tf.Scalar;
}

/**
 * Mean squared error over every entry, (1/N)·Σ (outputs − targets)² with N = n·C — PyTorch's
 * MSELoss with reduction 'mean' (which averages over all elements, not per row).
 * Gradient as PyTorch's backward: (o − t)·(2/N·dy), and its negative for the targets.
 * [n, C] × [n, C] → scalar.
 */
export function mse(outputs: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  if (outputs.rank !== 2 || outputs.shape.join() !== targets.shape.join()) {
    throw new Error(`mse: outputs [${outputs.shape}] and targets [${targets.shape}] must be the same [n, C] shape`);
  }
  const op = withGrad(([outs, tgts], save) => {
    save([outs, tgts]);
    const value = tf.mean(tf.squaredDifference(outs, tgts));
    const gradFunc = (dy: tf.Tensor, [o, t]: tf.Tensor[]) => {
      const g = tf.mul(tf.sub(o, t), tf.mul(dy, tf.scalar(2 / o.size)));
      return [g, tf.neg(g)];
    };
    return { value, gradFunc };
  });
  return op(outputs, targets) as tf.Scalar;
}

/**
 * ℓ∞ penalty: the max over all parameters and all entries of |θ| (one number for the whole model,
 * not a sum of per-tensor maxima). Gradient: sign(θ)·dy at the arg-max entry, 0 elsewhere; on an
 * exact tie the gradient is split evenly over the tied entries (as PyTorch's max() backward).
 */
export function linfPenalty(params: Record<string, tf.Tensor> | tf.Tensor[]): tf.Scalar {
  const list = Array.isArray(params) ? params : Object.values(params);
  if (list.length === 0) throw new Error('linfPenalty: no parameters');
  const op = withGrad((inputs, save) => {
    const maxima = inputs.map((p) => tf.max(tf.abs(p))); // scalars
    const value = maxima.length === 1 ? maxima[0] : tf.max(tf.stack(maxima));
    save([value, ...inputs]);
    const gradFunc = (dy: tf.Tensor, [m, ...ps]: tf.Tensor[]) => {
      const hits = ps.map((p) => tf.cast(tf.equal(tf.abs(p), m), 'float32')); // 1 where |θ| is the max
      const share = tf.div(dy, tf.addN(hits.map((h) => tf.sum(h))));
      return ps.map((p, i) => tf.mul(tf.mul(tf.sign(p), hits[i]), share));
    };
    return { value, gradFunc };
  });
  return op(...list) as tf.Scalar;
}

/**
 * Share of rows whose arg-max logit (first one on a tie, as torch.argmax) is the label, as a
 * float32 scalar tensor (no sync). logits [n, C] → scalar.
 */
export function accuracy(logits: tf.Tensor, labels: Labels): tf.Scalar {
  const [n, c] = checkLogits('accuracy', logits);
  const predicted = tf.argMax(logits, 1) as tf.Tensor1D; // [n] int32
  if (labels.rank === 1) {
    checkIds('accuracy', labels, n);
    return tf.mean(tf.cast(tf.equal(predicted, labels), 'float32')) as tf.Scalar;
  }
  const hit = tf.sum(tf.mul(toMask('accuracy', labels, n, c), tf.cast(tf.oneHot(predicted, c), 'float32')), 1); // [n] 1 or 0
  return tf.mean(hit) as tf.Scalar;
}
