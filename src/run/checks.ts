/**
 * Checks of run-directory files that need more than the file's own schema (./schemas.ts): format
 * versions, checkpoint metadata, a split against the task's example count, run.json against the
 * dataset and model its config builds. Pure: ./store.ts reads the files and calls these.
 */
import { FormatError } from '../errors.ts';
import { nameText, preview } from '../io/json-file.ts';
import type { ParamSpec } from '../models/types.ts';
import type { Split } from '../tasks/types.ts';
import { READABLE_RUN_FORMAT_VERSIONS } from '../version.ts';

/** The part of run.json (RunMeta in ./store.ts, which imports this module) that these checks read. */
interface MetaView {
  dataset: { n: number; n_ctx: number; d_vocab: number; d_vocab_out: number; n_train: number; n_test: number };
  params: ParamSpec[];
}

/**
 * run.json's `dataset` against the dataset its config builds: a hand edit of one that disagrees
 * with the other is refused, naming run.json, before the split is checked against it.
 */
export function checkMetaDataset(
  file: string,
  meta: MetaView,
  built: { n: number; n_ctx: number; d_vocab: number; d_vocab_out: number },
  task: string,
): void {
  for (const key of ['n', 'n_ctx', 'd_vocab', 'd_vocab_out'] as const) {
    if (meta.dataset[key] !== built[key])
      throw new FormatError(
        file,
        `dataset.${key}: ${meta.dataset[key]} is not allowed; the config's task (${task}) has ${built[key]}`,
      );
  }
}

/** run.json's split sizes and `params` against split.json and the model its config builds. */
export function checkMetaModel(file: string, meta: MetaView, split: Split, specs: ParamSpec[]): void {
  if (meta.dataset.n_train !== split.train.length)
    throw new FormatError(
      file,
      `dataset.n_train: ${meta.dataset.n_train} is not allowed; split.json has ${split.train.length} train examples`,
    );
  if (meta.dataset.n_test !== split.test.length)
    throw new FormatError(
      file,
      `dataset.n_test: ${meta.dataset.n_test} is not allowed; split.json has ${split.test.length} test examples`,
    );
  const show = (p: ParamSpec) => `${nameText(p.name)} [${p.shape.join(', ')}]${p.frozen ? ' (frozen)' : ''}`;
  for (let i = 0; i < Math.max(meta.params.length, specs.length); i++) {
    const a = meta.params[i];
    const b = specs[i];
    if (a && b && a.name === b.name && a.shape.join() === b.shape.join() && !!a.frozen === !!b.frozen) continue;
    const got = a ? show(a) : 'nothing';
    throw new FormatError(
      file,
      `params[${i}]: ${got} is not allowed; the config's model has ${b ? show(b) : 'no more tensors'}`,
    );
  }
}

/** A run-directory format_version this groklens reads, or a FormatError saying which it reads. */
export function checkRunFormatVersion(file: string, v: unknown): void {
  if (typeof v === 'number' && READABLE_RUN_FORMAT_VERSIONS.includes(v)) return;
  if (v === undefined)
    throw new FormatError(file, `format_version: missing; expected one of ${READABLE_RUN_FORMAT_VERSIONS.join(', ')}`);
  const newest = Math.max(...READABLE_RUN_FORMAT_VERSIONS);
  const why =
    typeof v === 'number' && Number.isInteger(v) && v > newest
      ? ' (written by a newer groklens: upgrade groklens to read it)'
      : '';
  throw new FormatError(
    file,
    `format_version: this groklens reads versions ${READABLE_RUN_FORMAT_VERSIONS.join(' and ')}, the file is version ${preview(v)}${why}`,
  );
}

/** A safetensors metadata key that must hold exactly `expected`. */
export function checkMetadata(
  file: string,
  metadata: Record<string, string>,
  key: string,
  expected: string,
  what: string,
): void {
  const v = metadata[key];
  if (v === expected) return;
  const newer =
    key === 'format_version' && /^\d+$/.test(v ?? '') && Number(v) > Number(expected)
      ? '; the file was written by a newer groklens'
      : '';
  throw new FormatError(
    file,
    `metadata ${key}: ${v === undefined ? 'missing' : `${preview(v)} is not allowed`}; expected "${expected}" (${what}${newer})`,
  );
}

/** A split's two index lists, checked (see RunStore.split). `counts` are the file's n_train / n_test, if any. */
export function checkSplit(
  file: string,
  train: unknown[],
  test: unknown[],
  n: number | undefined,
  counts: { n_train?: number; n_test?: number } = {},
): Split {
  const range =
    n === undefined ? 'a non-negative integer' : `an example index in [0, ${n - 1}] (the task has ${n} examples)`;
  // where[x] = 1 + position in train, or −(1 + position in test); 0 = not seen
  const where = n === undefined ? new Map<number, number>() : new Int32Array(n);
  const seen = (x: number): number => (where instanceof Map ? (where.get(x) ?? 0) : where[x]);
  const lists = { train, test };
  const out = { train: new Int32Array(train.length), test: new Int32Array(test.length) };
  for (const key of ['train', 'test'] as const) {
    const list = lists[key];
    if (list.length === 0)
      throw new FormatError(file, `${key}: [] is not allowed; expected at least one example index`);
    for (let i = 0; i < list.length; i++) {
      const x = list[i];
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || (n !== undefined && x >= n)) {
        throw new FormatError(file, `${key}[${i}]: ${preview(x)} is not allowed; expected ${range}`);
      }
      const before = seen(x);
      if (before !== 0) {
        const other = before > 0 ? `train[${before - 1}]` : `test[${-before - 1}]`;
        throw new FormatError(
          file,
          `${key}[${i}]: ${x} is not allowed; example ${x} is already ${other} (each example is in train or test, once)`,
        );
      }
      const mark = key === 'train' ? i + 1 : -(i + 1);
      if (where instanceof Map) where.set(x, mark);
      else where[x] = mark;
      out[key][i] = x;
    }
  }
  if (counts.n_train !== undefined && counts.n_train !== train.length)
    throw new FormatError(
      file,
      `n_train: ${counts.n_train} is not allowed; expected ${train.length} (the length of train)`,
    );
  if (counts.n_test !== undefined && counts.n_test !== test.length)
    throw new FormatError(
      file,
      `n_test: ${counts.n_test} is not allowed; expected ${test.length} (the length of test)`,
    );
  if (n !== undefined && train.length + test.length !== n) {
    throw new FormatError(
      file,
      `${train.length}+${test.length} indices but the task has ${n} examples (each example is in train or test, once)`,
    );
  }
  return out;
}
