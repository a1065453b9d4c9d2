/**
 * The plain-data values the pickle VM (pickle.ts) builds. Nothing here refers to Python objects:
 * every value is a JS primitive, an array, or one of the small classes below.
 *
 *   None → null, bool → boolean, str → string, float → number,
 *   int → number when within ±(2^53 − 1), else bigint (exact either way),
 *   bytes, bytearray → Uint8Array, list → PyValue[],
 *   tuple → PyTuple, dict / OrderedDict / Counter → PyDict (insertion order kept, keys of any
 *   hashable type), set / frozenset → PySet, complex → PyComplex,
 *   anything else → a PyObject made by an allowlisted global (torch tensors, dtypes, …).
 *
 * Python's int/float distinction is lost (1 and 1.0 are both the number 1), as in JSON.
 */

/** Any value that is not a primitive, an array or bytes carries its Python type name. */
export interface PyObject {
  readonly pyType: string;
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyObject;

/** Raised by the value layer with the problem alone; the VM adds the file and byte position. */
export class PickleDataError extends Error {
  override name = 'PickleDataError';
}

export class PyTuple implements PyObject {
  readonly pyType = 'tuple';
  constructor(readonly items: readonly PyValue[]) {}
  get length(): number {
    return this.items.length;
  }
}

export class PyComplex implements PyObject {
  readonly pyType = 'complex';
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

export class PySet implements PyObject {
  readonly pyType: 'set' | 'frozenset';
  private readonly byKey = new Map<string, PyValue>();
  constructor(frozen: boolean, items: Iterable<PyValue> = []) {
    this.pyType = frozen ? 'frozenset' : 'set';
    for (const v of items) this.add(v);
  }
  add(v: PyValue): void {
    this.byKey.set(hashKey(v), v);
  }
  get size(): number {
    return this.byKey.size;
  }
  values(): IterableIterator<PyValue> {
    return this.byKey.values();
  }
}

export type DictType = 'dict' | 'collections.OrderedDict' | 'collections.Counter';

/**
 * A Python dict: insertion-ordered, keys compared as Python compares them (1, 1.0 and True are one
 * key; tuples by value). `attrs` holds the instance attributes a BUILD set, e.g. the `_metadata`
 * every nn.Module.state_dict() carries.
 */
export class PyDict implements PyObject, Iterable<[PyValue, PyValue]> {
  readonly pyType: DictType;
  attrs: Map<string, PyValue> | null = null;
  private readonly byKey = new Map<string, [PyValue, PyValue]>();
  constructor(pyType: DictType = 'dict') {
    this.pyType = pyType;
  }
  set(key: PyValue, value: PyValue): void {
    const h = hashKey(key);
    const old = this.byKey.get(h);
    if (old)
      old[1] = value; // Python keeps the first key object and its position
    else this.byKey.set(h, [key, value]);
  }
  get(key: PyValue): PyValue | undefined {
    return this.byKey.get(hashKey(key))?.[1];
  }
  has(key: PyValue): boolean {
    return this.byKey.has(hashKey(key));
  }
  get size(): number {
    return this.byKey.size;
  }
  keys(): PyValue[] {
    return [...this.byKey.values()].map((e) => e[0]);
  }
  values(): PyValue[] {
    return [...this.byKey.values()].map((e) => e[1]);
  }
  entries(): IterableIterator<[PyValue, PyValue]> {
    return this.byKey.values();
  }
  [Symbol.iterator](): IterableIterator<[PyValue, PyValue]> {
    return this.byKey.values();
  }
}

const MAX_KEY_DEPTH = 100;

/**
 * A string equal for two keys exactly when Python would find them equal, or a PickleDataError for an
 * unhashable key (list, dict, set, bytearray-like objects we cannot tell from bytes are allowed).
 */
export function hashKey(v: PyValue, depth = 0): string {
  if (depth > MAX_KEY_DEPTH)
    throw new PickleDataError(`a dict key or set item is nested more than ${MAX_KEY_DEPTH} tuples deep`);
  if (v === null) return 'None';
  switch (typeof v) {
    case 'string':
      return `s${v}`;
    case 'boolean':
      return v ? 'n1' : 'n0';
    case 'bigint':
      return `n${v}`;
    case 'number':
      // Integral floats beyond 2^53 equal the int of the same value in Python.
      return Number.isInteger(v) && !Number.isSafeInteger(v) ? `n${BigInt(v)}` : `n${v}`;
  }
  if (v instanceof Uint8Array) return `b${Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (v instanceof PyTuple) return `t(${v.items.map((x) => hashKey(x, depth + 1)).join(',')})`;
  if (v instanceof PyComplex) return v.im === 0 ? hashKey(v.re) : `c${v.re},${v.im}`;
  if (v instanceof PySet && v.pyType === 'frozenset') {
    return `f{${[...v.values()]
      .map((x) => hashKey(x, depth + 1))
      .sort()
      .join(',')}}`;
  }
  if (!Array.isArray(v) && 'hashKey' in v && typeof (v as { hashKey: unknown }).hashKey === 'function') {
    return `o${(v as { hashKey(): string }).hashKey()}`;
  }
  throw new PickleDataError(`unhashable ${typeName(v)} used as a dict key or set item`);
}

/** The Python type name of a value, for error messages. */
export function typeName(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
  }
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  return v.pyType;
}

/** A short Python-like rendering for messages and tensor paths (strings unquoted only at top level). */
export function formatValue(v: PyValue, quoteStrings = true, budget = 60): string {
  let s: string;
  if (v === null) s = 'None';
  else if (typeof v === 'boolean') s = v ? 'True' : 'False';
  else if (typeof v === 'number' || typeof v === 'bigint') s = String(v);
  else if (typeof v === 'string') s = quoteStrings ? `'${v}'` : v;
  else if (v instanceof PyTuple)
    s = `(${v.items.map((x) => formatValue(x, true, budget)).join(', ')}${v.length === 1 ? ',' : ''})`;
  else s = `<${typeName(v)}>`;
  return s.length > budget ? `${s.slice(0, budget - 1)}…` : s;
}
