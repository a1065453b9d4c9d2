/** Small helpers the layout converters share: reading plain values out of a pickled dict. */
import { UserError } from '../errors.ts';
import type { ModularOp } from '../config/types.ts';
import { PyDict, type PyValue } from '../io/pickle.ts';
import { TensorRef, listItems, type LazyTorchFile } from './lazy-torch.ts';
import type { ImportOptions, ImportedSplit, StepsFrom } from './types.ts';

export const num = (d: PyDict | null, key: string): number | undefined => {
  const v = d?.get(key);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
};
export const str = (d: PyDict | null, key: string): string | undefined => {
  const v = d?.get(key);
  return typeof v === 'string' ? v : undefined;
};

/** A list of numbers: a Python list of floats, or a 1-D tensor. */
export async function numberList(lazy: LazyTorchFile, v: PyValue | undefined, key: string): Promise<number[] | null> {
  if (v === undefined || v === null) return null;
  if (v instanceof TensorRef) {
    const t = await lazy.load(v, key);
    return Array.from(t.data as ArrayLike<number | bigint>, Number);
  }
  const items = listItems(v);
  if (!items) throw new UserError(`${lazy.file}: ${key}: expected a list of numbers, found a ${describe(v)}`);
  const out: number[] = [];
  for (const [i, x] of items.entries()) {
    if (typeof x === 'number') out.push(x);
    else if (typeof x === 'bigint') out.push(Number(x));
    else if (x instanceof TensorRef && x.size.length === 0)
      out.push(Number((await lazy.load(x, `${key}/${i}`)).data[0])); // loss.item() forgotten
    else throw new UserError(`${lazy.file}: ${key}[${i}]: expected a number, found a ${describe(x)}`);
  }
  return out;
}

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object' && 'pyType' in v) return v.pyType;
  return typeof v;
}

/** The modular op: the source's own record, else --task; a conflict is an error. */
export function resolveOp(
  file: string,
  recorded: ModularOp | undefined,
  recordedText: string,
  opts: ImportOptions,
): ModularOp {
  if (recorded && opts.op && recorded !== opts.op)
    throw new UserError(`${file}: the source records the task ${recordedText}, but --task says ${opts.op}`);
  const op = recorded ?? opts.op;
  if (!op)
    throw new UserError(
      `${file}: the source does not record which operation it was trained on: give --task (add, sub, mul, div, …)`,
    );
  return op;
}

/** A value the source records, checked against the option that could also give it. */
export function agree<T>(
  file: string,
  what: string,
  recorded: T | undefined,
  option: T | undefined,
  optionName: string,
): T | undefined {
  if (recorded !== undefined && option !== undefined && recorded !== option) {
    throw new UserError(
      `${file}: the source records ${what} = ${String(recorded)}, but ${optionName} says ${String(option)}`,
    );
  }
  return recorded ?? option;
}

/** The split from the options alone (for sources that do not record one). */
export function splitFromOptions(file: string, opts: ImportOptions): ImportedSplit {
  if (opts.trainIndices)
    return {
      kind: 'indices',
      train: opts.trainIndices,
      test: null,
      source: `--train-indices ${opts.trainIndicesFile}`,
    };
  if (opts.trainFraction === undefined || opts.splitSeed === undefined) {
    const missing = opts.trainFraction === undefined ? '--train-fraction' : '--split-seed';
    throw new UserError(
      `${file}: the source does not record its train/test split: give --train-indices FILE (a JSON list of example indices), ` +
        `or --train-fraction F and --split-seed S (with --split-mode python-random|shuffle); ${missing} is missing`,
    );
  }
  return {
    kind: 'rule',
    config: { train_fraction: opts.trainFraction, seed: opts.splitSeed, mode: opts.splitMode ?? 'python-random' },
    source: 'the --train-fraction, --split-seed and --split-mode options',
  };
}

/** Steps of recorded epochs: 'epochs+1' (updates applied, groklens' step), 'epochs' or 'index'. */
export function stepsOf(epochs: number[], how: StepsFrom): number[] {
  return epochs.map((e, i) => (how === 'index' ? i : how === 'epochs' ? e : e + 1));
}
