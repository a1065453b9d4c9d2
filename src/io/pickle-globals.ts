/**
 * What a pickle's globals may be: the PyCallable values an allowlist hands to the VM, the error for
 * every other name, and the allowlist of Python builtins that plain checkpoints use. Each
 * "callable" builds plain data from its arguments; nothing refers to or runs Python.
 * (torch's names: torch-globals.ts.)
 */
import { FormatError } from '../errors.ts';
import {
  PickleDataError,
  PyComplex,
  PyDict,
  PySet,
  PyTuple,
  typeName,
  type DictType,
  type PyObject,
  type PyValue,
} from './pickle-values.ts';

/** A global the allowlist admits: what calling it (REDUCE, INST, OBJ) or NEWOBJ builds, as data. */
export class PyCallable implements PyObject {
  readonly pyType = 'global';
  constructor(
    readonly qualname: string, // module.name
    readonly call?: (args: readonly PyValue[]) => PyValue,
    readonly construct?: (args: readonly PyValue[]) => PyValue,
  ) {}
  hashKey(): string {
    return this.qualname;
  }
}

/** An object that accepts BUILD's state. */
export interface Buildable extends PyObject {
  build(state: PyValue): void;
}

export interface PickleGlobals {
  /** The value GLOBAL module.name pushes, or undefined when the name is not allowed. */
  resolve(module: string, name: string): PyValue | undefined;
}

/** A pickle asked for a global that is not on the allowlist. Nothing was executed or imported. */
export class UnsafeGlobalError extends FormatError {
  override name = 'UnsafeGlobalError';
  constructor(
    file: string,
    readonly global: string, // module.name, e.g. 'posix.system'
    location: string, // e.g. 'archive/data.pkl, byte 169'
  ) {
    super(
      file,
      `the pickle asks for the Python global ${global} (${location}), which groklens does not allow: only tensors, ` +
        `storages, dtypes and plain containers are rebuilt, as data. Nothing in the file was executed or imported.${unsafeHint(global)}`,
    );
  }
}

function unsafeHint(global: string): string {
  if (global.startsWith('torch.nn.modules.') || global.startsWith('__main__.')) {
    return ' This looks like a whole model saved with torch.save(model): save model.state_dict() instead.';
  }
  return ' A checkpoint that needs it may be malicious.';
}

/** Python 2 module names that Python 3's unpickler maps (fix_imports). */
export const PY2_MODULES: ReadonlyMap<string, string> = new Map([
  ['__builtin__', 'builtins'],
  ['copy_reg', 'copyreg'],
]);

/** An allowlist from a table of module.name → value. */
export function allowlist(...tables: ReadonlyMap<string, PyValue>[]): PickleGlobals {
  return {
    resolve(module, name) {
      const key = `${module}.${name}`;
      for (const t of tables) {
        const v = t.get(key);
        if (v !== undefined) return v;
      }
      return undefined;
    },
  };
}

/** A table of callables, keyed by their qualified names. */
export function table(...callables: PyCallable[]): ReadonlyMap<string, PyValue> {
  return new Map(callables.map((c) => [c.qualname, c]));
}

export function argCount(qualname: string, args: readonly PyValue[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new PickleDataError(`${qualname} takes ${want} arguments, got ${args.length}`);
  }
}

/** The elements of a list, tuple or set argument. */
function iterableItems(qualname: string, v: PyValue): readonly PyValue[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  if (v instanceof PySet) return [...v.values()];
  throw new PickleDataError(`${qualname} expects a list, tuple or set, got ${typeName(v)}`);
}

function dictFactory(qualname: DictType): PyCallable {
  const make = (args: readonly PyValue[]): PyDict => {
    argCount(qualname, args, 0, 1);
    const d = new PyDict(qualname);
    const src = args[0];
    if (src === undefined) return d;
    if (src instanceof PyDict) {
      for (const [k, v] of src) d.set(k, v);
      return d;
    }
    for (const pair of iterableItems(qualname, src)) {
      const kv = Array.isArray(pair) ? pair : pair instanceof PyTuple ? pair.items : null;
      if (!kv || kv.length !== 2)
        throw new PickleDataError(`${qualname} expects (key, value) pairs, got ${typeName(pair)}`);
      d.set(kv[0], kv[1]);
    }
    return d;
  };
  return new PyCallable(qualname, make, () => new PyDict(qualname));
}

function setFactory(frozen: boolean): PyCallable {
  const qualname = frozen ? 'builtins.frozenset' : 'builtins.set';
  return new PyCallable(
    qualname,
    (args) => {
      argCount(qualname, args, 0, 1);
      return new PySet(frozen, args.length ? iterableItems(qualname, args[0]) : []);
    },
    () => new PySet(frozen),
  );
}

/** str → bytes in the encodings CPython's pickler uses for bytes under protocols 0–2. */
function encodeText(qualname: string, text: PyValue, encoding: PyValue): Uint8Array {
  if (typeof text !== 'string') throw new PickleDataError(`${qualname} expects a str, got ${typeName(text)}`);
  const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace('_', '-') : encoding;
  if (enc === 'latin1' || enc === 'latin-1') {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw new PickleDataError(`${qualname}: character U+${c.toString(16)} is not latin-1`);
      out[i] = c;
    }
    return out;
  }
  if (enc === 'utf-8' || enc === 'utf8') return new TextEncoder().encode(text);
  throw new PickleDataError(
    `${qualname}: encoding ${typeof enc === 'string' ? `'${enc}'` : typeName(enc)} is not supported`,
  );
}

/** Python's own containers and scalars, as pickled by CPython's pickler and by torch.save. */
export const PYTHON_GLOBALS: ReadonlyMap<string, PyValue> = table(
  dictFactory('collections.OrderedDict'),
  dictFactory('collections.Counter'),
  setFactory(false),
  setFactory(true),
  new PyCallable('builtins.complex', (args) => {
    argCount('builtins.complex', args, 0, 2);
    const [re = 0, im = 0] = args;
    if (typeof re !== 'number' || typeof im !== 'number')
      throw new PickleDataError('builtins.complex expects two floats');
    return new PyComplex(re, im);
  }),
  new PyCallable('builtins.bytearray', (args) => {
    argCount('builtins.bytearray', args, 0, 2);
    if (args.length === 0) return new Uint8Array(0);
    if (args.length === 2) return encodeText('builtins.bytearray', args[0], args[1]);
    if (args[0] instanceof Uint8Array) return args[0].slice();
    throw new PickleDataError(`builtins.bytearray expects bytes, got ${typeName(args[0])}`);
  }),
  // Protocols 0–2 have no bytes opcode: CPython writes bytes as _codecs.encode(str, 'latin1').
  new PyCallable('_codecs.encode', (args) => {
    argCount('_codecs.encode', args, 1, 2);
    return encodeText('_codecs.encode', args[0], args[1] ?? 'utf-8');
  }),
);
