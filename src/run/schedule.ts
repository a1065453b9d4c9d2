/**
 * Which steps get a checkpoint: step 0 (the initial weights), `log_spaced` log-spaced steps in
 * [1, every), every multiple of `every`, and the final step. A checkpoint at step s holds the
 * weights after s optimiser updates.
 */
export function logSpacedSteps(count: number, below: number): number[] {
  if (count <= 0 || below <= 1) return [];
  const out = new Set<number>();
  const hi = Math.log(below);
  for (let i = 0; i < count; i++) {
    const s = Math.round(Math.exp((hi * i) / count));
    if (s >= 1 && s < below) out.add(s);
  }
  return [...out].sort((a, b) => a - b);
}

export class CheckpointSchedule {
  private readonly early: Set<number>;
  constructor(
    readonly every: number,
    logSpaced: number,
  ) {
    if (!Number.isInteger(every) || every < 1)
      throw new RangeError(`checkpoints.every must be a positive integer, got ${every}`);
    this.early = new Set(logSpacedSteps(logSpaced, every));
  }

  /** True if the weights after `step` updates are checkpointed (the final step is handled by the caller). */
  has(step: number): boolean {
    return step === 0 || step % this.every === 0 || this.early.has(step);
  }
}
