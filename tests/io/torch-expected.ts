/**
 * The oracle written by scripts/make-torch-fixtures.py (fixtures/torch/expected.json) and how our
 * values compare with it: `tagged` turns a PyValue into the same tagged JSON the script writes
 * (ints beyond 2^53 as {$int}, non-finite floats as {$float}, tuples, dicts, sets, bytes tagged),
 * and `checkTensor` compares decoded elements exactly.
 */
import { expect } from 'vitest';
import { PyComplex, PyDict, PySet, PyTuple, type PyValue } from '../../src/io/pickle.ts';
import { TorchTensor } from '../../src/io/torch-file.ts';

export type Tagged = null | boolean | number | string | Tagged[] | { [tag: string]: Tagged };

export interface ExpectedTensor {
  path: string;
  dtype: string;
  shape: number[];
  requiresGrad: boolean;
  isParameter: boolean;
  values: (number | string | { $float: string })[];
}

export interface ExpectedFile {
  format: 'zip' | 'legacy';
  sameAs?: string;
  tree?: Tagged;
  tensors?: ExpectedTensor[];
}

export interface Expected {
  torch_version: string;
  files: Record<string, ExpectedFile>;
  hostile: Record<string, { format: 'zip' | 'legacy'; global: string; marker: string | null }>;
  plain: { files: string[]; tree: Tagged };
}

/** A PyValue as the script's `tagged` writes it; tensors become {$tensor: path} via `tensorPath`. */
export function tagged(v: PyValue, tensorPath?: (t: TorchTensor) => string): Tagged {
  const rec = (x: PyValue) => tagged(x, tensorPath);
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number')
    return Number.isFinite(v) ? v : { $float: Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf' };
  if (typeof v === 'bigint') return { $int: String(v) };
  if (v instanceof Uint8Array) return { $bytes: Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('') };
  if (Array.isArray(v)) return v.map(rec);
  if (v instanceof PyTuple) return { $tuple: v.items.map(rec) };
  if (v instanceof PyComplex) return { $complex: [rec(v.re), rec(v.im)] };
  if (v instanceof PySet)
    return { [`$${v.pyType}`]: [...v.values()].map(rec).sort((a, b) => cmp(JSON.stringify(a), JSON.stringify(b))) };
  if (v instanceof PyDict) return { $dict: [...v].map(([k, x]) => [rec(k), rec(x)]) };
  if (v instanceof TorchTensor && tensorPath) return { $tensor: tensorPath(v) };
  throw new Error(`cannot tag ${v.pyType}`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Exact comparison of a decoded tensor with torch's values (f16/bf16/f32 through Math.fround). */
export function checkTensor(t: TorchTensor, e: ExpectedTensor, label: string): void {
  expect(t.dtype, `${label} dtype`).toBe(e.dtype);
  expect(t.shape, `${label} shape`).toEqual(e.shape);
  expect(t.requiresGrad, `${label} requiresGrad`).toBe(e.requiresGrad);
  expect(t.isParameter, `${label} isParameter`).toBe(e.isParameter);
  expect(t.data.length, `${label} length`).toBe(e.values.length);
  const floats32 = e.dtype === 'F32' || e.dtype === 'F16' || e.dtype === 'BF16';
  for (let i = 0; i < e.values.length; i++) {
    const want = e.values[i];
    const got = t.data[i];
    if (e.dtype === 'I64') {
      expect(got, `${label}[${i}]`).toBe(BigInt(want as number | string));
    } else {
      let w =
        typeof want === 'object'
          ? ({ nan: NaN, inf: Infinity, '-inf': -Infinity } as Record<string, number>)[want.$float]
          : Number(want);
      if (floats32) w = Math.fround(w);
      if (!Object.is(got, w)) expect.fail(`${label}[${i}]: got ${String(got)}, torch says ${String(w)}`);
    }
  }
}
