/**
 * Times at which a closed-form loss crosses a threshold, found by evaluating the closed form, never
 * by stepping the parameters. A monotone loss (every mode decays, no weight-decay cross term) is
 * bisected: O(modes · log t). Otherwise the loss is scanned step by step up to the point after
 * which the monotone `distanceBound` proves it stays on its limit's side of the threshold:
 * O(modes · t), still exact.
 */
import { distanceBound, isMonotone, limitLoss, lossAt, scanLoss, type ModalLoss } from './modal.ts';

function checkArgs(threshold: number, maxSteps: number): void {
  if (!Number.isFinite(threshold)) throw new RangeError(`threshold must be a finite number, got ${threshold}`);
  if (!Number.isInteger(maxSteps) || maxSteps < 0)
    throw new RangeError(`maxSteps must be an integer ≥ 0, got ${maxSteps}`);
}

/**
 * The first step in [0, maxSteps] after which |loss − limit| < margin for good (distanceBound is
 * non-increasing), or maxSteps if there is none (or margin ≤ 0).
 */
export function settleStep(loss: ModalLoss, margin: number, maxSteps: number): number {
  if (!(margin > 0)) return maxSteps;
  const settled = (t: number) => distanceBound(loss, t) < margin;
  if (settled(0)) return 0;
  let lo = 0;
  let hi = 1;
  while (!settled(hi)) {
    if (hi >= maxSteps) return maxSteps;
    lo = hi;
    hi = Math.min(2 * hi, maxSteps);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (settled(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The first step t in [0, maxSteps] with loss(t) ≤ threshold, or null if there is none. */
export function firstStepAtOrBelow(loss: ModalLoss, threshold: number, maxSteps: number): number | null {
  checkArgs(threshold, maxSteps);
  if (lossAt(loss, 0) <= threshold) return 0;
  const horizon = settleStep(loss, limitLoss(loss) - threshold, maxSteps);
  if (isMonotone(loss)) {
    if (lossAt(loss, horizon) > threshold) return null;
    let lo = 0; // loss > threshold
    let hi = horizon; // loss ≤ threshold
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (lossAt(loss, mid) <= threshold) hi = mid;
      else lo = mid;
    }
    return hi;
  }
  let found: number | null = null;
  scanLoss(loss, horizon, (t, v) => {
    if (v <= threshold) {
      found = t;
      return true;
    }
  });
  return found;
}

/**
 * The last step t in [0, maxSteps] with loss(t) ≥ threshold, when the loss then stays below it:
 * −1 if it is below from step 0 on, null if it is not below for good by maxSteps (or its limit is
 * not below the threshold).
 */
export function lastStepAtOrAbove(loss: ModalLoss, threshold: number, maxSteps: number): number | null {
  checkArgs(threshold, maxSteps);
  const limit = limitLoss(loss);
  if (limit >= threshold) return null;
  const horizon = settleStep(loss, threshold - limit, maxSteps);
  if (lossAt(loss, horizon) >= threshold) return null;
  if (isMonotone(loss)) {
    if (lossAt(loss, 0) < threshold) return -1;
    let lo = 0; // loss ≥ threshold
    let hi = horizon; // loss < threshold
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (lossAt(loss, mid) >= threshold) lo = mid;
      else hi = mid;
    }
    return lo;
  }
  let last = -1;
  scanLoss(loss, horizon, (t, v) => {
    if (v >= threshold) last = t;
  });
  return last;
}
