/**
 * Train / test / all loss and accuracy recomputed from a checkpoint's logits: cross-entropy with a
 * float64 log-softmax (docs/measures.md#cross-entropy-and-accuracy: tfjs has no float64), accuracy by argmax (ties go to the lowest
 * class). For runs trained with MSE the loss reported here is still cross-entropy, the spec's
 * measure; the training loss is in metrics.jsonl.
 */
import type { MetricsResult } from './types.ts';

/** Per-example cross-entropy (float64) and correctness for rows `idx` of logits [n, classes]. */
export function lossAndAccuracy(
  logits: ArrayLike<number>,
  classes: number,
  labels: ArrayLike<number>,
  idx: ArrayLike<number>,
): { loss: number; acc: number } {
  if (idx.length === 0) return { loss: NaN, acc: NaN };
  let lossSum = 0;
  let correct = 0;
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t];
    const o = i * classes;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[o + c];
      if (v > max) {
        max = v;
        arg = c;
      }
    }
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[o + c] - max);
    const y = labels[i];
    lossSum += max + Math.log(s) - logits[o + y];
    if (arg === y) correct++;
  }
  return { loss: lossSum / idx.length, acc: correct / idx.length };
}

export function metricsResult(
  logits: ArrayLike<number>,
  classes: number,
  labels: ArrayLike<number>,
  split: { train: Int32Array; test: Int32Array },
): MetricsResult {
  const n = labels.length;
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const tr = lossAndAccuracy(logits, classes, labels, split.train);
  const te = lossAndAccuracy(logits, classes, labels, split.test);
  const al = lossAndAccuracy(logits, classes, labels, all);
  return {
    train_loss: tr.loss,
    train_acc: tr.acc,
    test_loss: te.loss,
    test_acc: te.acc,
    all_loss: al.loss,
    all_acc: al.acc,
  };
}
