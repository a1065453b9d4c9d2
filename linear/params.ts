/**
 * The parameters of the linear setups, validated by zod schemas through the same checker as every
 * groklens file (src/io/json-file.ts): an error names the setup, the key and the value, e.g.
 * "ridge: m: 0 is not allowed; expected a positive integer".
 */
import { z } from 'zod';
import { checkJson } from '../src/io/json-file.ts';

export const positiveInteger = z.int().min(1).describe('a positive integer');
export const positiveNumber = z.number().positive().finite().describe('a positive number');
export const nonNegativeNumber = z.number().min(0).finite().describe('a number ≥ 0');
export const seedNumber = z.int().min(0).max(0xffffffff).describe('an integer in [0, 2^32)');

/** `value` checked against `schema`; `setup` names the setup in the error. */
export function checkParams<S extends z.ZodType>(setup: string, schema: S, value: unknown): z.output<S> {
  return checkJson(schema, value, setup);
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
