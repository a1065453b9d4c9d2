/** Validation of the numeric parameters of the linear setups: errors name the setup, key and value. */
import { UserError } from '../src/errors.ts';

export function positiveInteger(setup: string, key: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new UserError(`${setup}: ${key} must be a positive integer, got ${v}`);
  return v;
}

export function positive(setup: string, key: string, v: number): number {
  if (!(v > 0 && Number.isFinite(v))) throw new UserError(`${setup}: ${key} must be a positive number, got ${v}`);
  return v;
}

export function nonNegative(setup: string, key: string, v: number): number {
  if (!(v >= 0 && Number.isFinite(v))) throw new UserError(`${setup}: ${key} must be a number ≥ 0, got ${v}`);
  return v;
}

export function seedValue(setup: string, key: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UserError(`${setup}: ${key} must be an integer in [0, 2^32), got ${v}`);
  return v;
}

/** The first step of a curve to reach a threshold and the grokking delay between two such times. */
export interface GrokTimes {
  tTrain: number | null; // null: not within the step budget
  tGen: number | null;
  deltaT: number | null; // tGen − tTrain when both exist
}

export function grokTimes(tTrain: number | null, tGen: number | null): GrokTimes {
  return { tTrain, tGen, deltaT: tTrain !== null && tGen !== null ? tGen - tTrain : null };
}

/** Step 0 and `points` log-spaced integer steps up to `horizon`, plus any `marks`, sorted, unique. */
export function stepGrid(horizon: number, points: number, marks: (number | null)[] = []): number[] {
  const set = new Set<number>([0]);
  const top = Math.max(1, Math.floor(horizon));
  for (let i = 0; i < points; i++) set.add(Math.round(Math.exp((Math.log(top) * i) / Math.max(1, points - 1))));
  for (const m of marks) if (m !== null && m >= 0 && m <= top) set.add(m);
  return [...set].sort((a, b) => a - b);
}
