/**
 * A pickle reader (protocols 0–5) that never runs code. It is a stack machine like CPython's
 * Unpickler (Lib/pickle.py; every opcode is documented in Lib/pickletools.py), except at the
 * three places where a real unpickler touches Python:
 *
 *   GLOBAL / STACK_GLOBAL / INST look the name up in an explicit allowlist (`PickleGlobals`) of
 *     things we rebuild as plain data; any other name is an UnsafeGlobalError at once, so nothing
 *     after it is even read;
 *   REDUCE / NEWOBJ / OBJ "call" only the PyCallable the allowlist returned, which builds data;
 *   BUILD sets state only on values that accept it (PyDict attributes, Buildable objects).
 *
 * Hard caps (PickleLimits) bound the work and memory a hostile file can cause; every malformed
 * input is a FormatError naming the file, the pickle, the byte and the opcode.
 * Values: see pickle-values.ts.
 */
import { FormatError } from '../errors.ts';
import { PickleDataError, PyDict, PySet, PyTuple, typeName, type PyValue } from './pickle-values.ts';
import { PY2_MODULES, PyCallable, UnsafeGlobalError, type Buildable, type PickleGlobals } from './pickle-globals.ts';
import {
  decodeLong,
  decodeQuotedString,
  decodeRawUnicodeEscape,
  parseDecimal,
  parseFloatText,
  parseIndex,
  utf8Text,
} from './pickle-text.ts';

export * from './pickle-values.ts';
export * from './pickle-globals.ts';

export interface PickleLimits {
  maxOps: number; // opcodes executed
  maxMemo: number; // memo entries
  maxStack: number; // values on the stack, all MARK levels together
  maxMarks: number; // MARKs open at once
}

export const DEFAULT_PICKLE_LIMITS: Readonly<PickleLimits> = {
  maxOps: 200_000_000,
  maxMemo: 20_000_000,
  maxStack: 20_000_000,
  maxMarks: 10_000,
};

export interface PickleOptions {
  file: string; // named in every error
  where?: string; // which pickle inside the file, e.g. 'archive/data.pkl'
  globals: PickleGlobals;
  /** Resolves PERSID / BINPERSID ids (torch's storages); without it they are errors. */
  persistentLoad?: (pid: PyValue) => PyValue;
  limits?: Partial<PickleLimits>;
}

/** Read one pickle starting at `start`; `end` is the byte after its STOP. */
export function loadPickle(
  bytes: Uint8Array,
  start: number,
  options: PickleOptions,
): { value: PyValue; end: number; protocol: number } {
  return new Machine(bytes, start, options).run();
}

const OPNAMES: Record<number, string> = Object.fromEntries(
  Object.entries({
    I: 'INT',
    J: 'BININT',
    K: 'BININT1',
    M: 'BININT2',
    L: 'LONG',
    '\x8a': 'LONG1',
    '\x8b': 'LONG4',
    S: 'STRING',
    T: 'BINSTRING',
    U: 'SHORT_BINSTRING',
    B: 'BINBYTES',
    C: 'SHORT_BINBYTES',
    '\x8e': 'BINBYTES8',
    '\x96': 'BYTEARRAY8',
    '\x97': 'NEXT_BUFFER',
    '\x98': 'READONLY_BUFFER',
    N: 'NONE',
    '\x88': 'NEWTRUE',
    '\x89': 'NEWFALSE',
    V: 'UNICODE',
    '\x8c': 'SHORT_BINUNICODE',
    X: 'BINUNICODE',
    '\x8d': 'BINUNICODE8',
    F: 'FLOAT',
    G: 'BINFLOAT',
    ']': 'EMPTY_LIST',
    a: 'APPEND',
    e: 'APPENDS',
    l: 'LIST',
    ')': 'EMPTY_TUPLE',
    t: 'TUPLE',
    '\x85': 'TUPLE1',
    '\x86': 'TUPLE2',
    '\x87': 'TUPLE3',
    '}': 'EMPTY_DICT',
    d: 'DICT',
    s: 'SETITEM',
    u: 'SETITEMS',
    '\x8f': 'EMPTY_SET',
    '\x90': 'ADDITEMS',
    '\x91': 'FROZENSET',
    '0': 'POP',
    '2': 'DUP',
    '(': 'MARK',
    '1': 'POP_MARK',
    g: 'GET',
    h: 'BINGET',
    j: 'LONG_BINGET',
    p: 'PUT',
    q: 'BINPUT',
    r: 'LONG_BINPUT',
    '\x94': 'MEMOIZE',
    '\x82': 'EXT1',
    '\x83': 'EXT2',
    '\x84': 'EXT4',
    c: 'GLOBAL',
    '\x93': 'STACK_GLOBAL',
    R: 'REDUCE',
    b: 'BUILD',
    i: 'INST',
    o: 'OBJ',
    '\x81': 'NEWOBJ',
    '\x92': 'NEWOBJ_EX',
    '\x80': 'PROTO',
    '.': 'STOP',
    '\x95': 'FRAME',
    P: 'PERSID',
    Q: 'BINPERSID',
  }).map(([k, v]) => [k.charCodeAt(0), v]),
);

class Machine {
  private pos: number;
  private opStart = 0;
  private op = 0;
  private protocol = 0;
  private readonly stack: PyValue[] = [];
  private readonly marks: number[] = []; // stack lengths at each open MARK
  private readonly memo = new Map<number, PyValue>();
  private readonly limits: PickleLimits;
  private readonly where: string;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly options: PickleOptions,
  ) {
    this.pos = start;
    this.limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
    this.where = options.where ? `${options.where}: ` : '';
  }

  run(): { value: PyValue; end: number; protocol: number } {
    if (this.pos >= this.bytes.length) this.fail('expected a pickle here, found the end of the data');
    for (let ops = 0; ; ops++) {
      if (ops >= this.limits.maxOps) this.fail(`more than ${this.limits.maxOps} opcodes; refusing to go on`);
      this.opStart = this.pos;
      if (this.pos >= this.bytes.length) this.fail('the pickle ends without a STOP opcode (truncated file?)');
      this.op = this.bytes[this.pos++];
      try {
        if (this.step()) return { value: this.pop(), end: this.pos, protocol: this.protocol };
      } catch (err) {
        if (err instanceof PickleDataError) this.fail(err.message);
        throw err;
      }
    }
  }

  /** Execute one opcode; true on STOP (with the result alone on the stack). */
  private step(): boolean {
    switch (this.op) {
      // ---- scalars
      case 0x4e:
        this.push(null);
        break; // N NONE
      case 0x88:
        this.push(true);
        break; // NEWTRUE
      case 0x89:
        this.push(false);
        break; // NEWFALSE
      case 0x49: {
        // I INT: '00' and '01' are Python 2's False and True
        const line = this.line();
        const bool = line.length === 2 && line[0] === 0x30 && (line[1] === 0x30 || line[1] === 0x31);
        this.push(bool ? line[1] === 0x31 : parseDecimal(line, 'INT'));
        break;
      }
      case 0x4a:
        this.push(this.view(4).getInt32(0, true));
        break; // J BININT
      case 0x4b:
        this.push(this.take(1)[0]);
        break; // K BININT1
      case 0x4d:
        this.push(this.view(2).getUint16(0, true));
        break; // M BININT2
      case 0x4c:
        this.push(parseDecimal(this.line(), 'LONG'));
        break; // L LONG
      case 0x8a:
        this.push(decodeLong(this.take(this.take(1)[0])));
        break; // LONG1
      case 0x8b:
        this.push(decodeLong(this.take(this.length32Signed())));
        break; // LONG4
      case 0x46:
        this.push(parseFloatText(this.line()));
        break; // F FLOAT
      case 0x47:
        this.push(this.view(8).getFloat64(0, false));
        break; // G BINFLOAT (big-endian)
      // ---- strings and bytes (Python 2 str is read as UTF-8 text, as torch.load does)
      case 0x53:
        this.push(utf8Text(decodeQuotedString(this.line())));
        break; // S STRING
      case 0x54:
        this.push(utf8Text(this.take(this.length32Signed())));
        break; // T
      case 0x55:
        this.push(utf8Text(this.take(this.take(1)[0])));
        break; // U
      case 0x56:
        this.push(decodeRawUnicodeEscape(this.line()));
        break; // V UNICODE
      case 0x8c:
        this.push(utf8Text(this.take(this.take(1)[0])));
        break;
      case 0x58:
        this.push(utf8Text(this.take(this.view(4).getUint32(0, true))));
        break; // X
      case 0x8d:
        this.push(utf8Text(this.take(this.length64())));
        break;
      case 0x43:
        this.push(this.take(this.take(1)[0]).slice());
        break; // C SHORT_BINBYTES
      case 0x42:
        this.push(this.take(this.view(4).getUint32(0, true)).slice());
        break; // B BINBYTES
      case 0x8e:
        this.push(this.take(this.length64()).slice());
        break; // BINBYTES8
      case 0x96:
        this.push(this.take(this.length64()).slice());
        break; // BYTEARRAY8
      case 0x97:
        throw new PickleDataError('out-of-band buffers (pickle protocol 5 buffer_callback) are not supported');
      case 0x98: // READONLY_BUFFER: a no-op on our bytes
        if (!(this.top() instanceof Uint8Array))
          throw new PickleDataError(`expected bytes on the stack, found ${typeName(this.top())}`);
        break;
      // ---- containers
      case 0x5d:
        this.push([]);
        break; // ] EMPTY_LIST
      case 0x29:
        this.push(new PyTuple([]));
        break; // ) EMPTY_TUPLE
      case 0x7d:
        this.push(new PyDict());
        break; // } EMPTY_DICT
      case 0x8f:
        this.push(new PySet(false));
        break; // EMPTY_SET
      case 0x6c:
        this.push(this.popMark());
        break; // l LIST
      case 0x74:
        this.push(new PyTuple(this.popMark()));
        break; // t TUPLE
      case 0x85:
        this.push(new PyTuple([this.pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = this.pop();
        const a = this.pop();
        this.push(new PyTuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = this.pop();
        const b = this.pop();
        const a = this.pop();
        this.push(new PyTuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x64: {
        const d = new PyDict();
        setPairs(d, this.popMark());
        this.push(d);
        break;
      } // d DICT
      case 0x91:
        this.push(new PySet(true, this.popMark()));
        break; // FROZENSET
      case 0x61: {
        const v = this.pop();
        this.list().push(v);
        break;
      } // a APPEND
      case 0x65: {
        const items = this.popMark();
        const list = this.list();
        for (const v of items) list.push(v);
        break;
      } // e APPENDS
      case 0x73: {
        const v = this.pop();
        const k = this.pop();
        this.dict().set(k, v);
        break;
      } // s SETITEM
      case 0x75: {
        const items = this.popMark();
        setPairs(this.dict(), items);
        break;
      } // u SETITEMS
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        const set = this.top();
        if (!(set instanceof PySet) || set.pyType !== 'set')
          throw new PickleDataError(`ADDITEMS needs a set on the stack, found ${typeName(set)}`);
        for (const v of items) set.add(v);
        break;
      }
      // ---- stack and memo
      case 0x28: // ( MARK
        if (this.marks.length >= this.limits.maxMarks)
          throw new PickleDataError(`more than ${this.limits.maxMarks} nested MARKs`);
        this.marks.push(this.stack.length);
        break;
      case 0x31:
        this.popMark();
        break; // 1 POP_MARK
      case 0x30:
        if (this.stack.length > this.markBase()) this.pop();
        else this.popMark();
        break; // 0 POP, as CPython does
      case 0x32:
        this.push(this.top());
        break; // 2 DUP
      case 0x67:
        this.push(this.memoGet(parseIndex(this.line(), 'GET')));
        break; // g GET
      case 0x68:
        this.push(this.memoGet(this.take(1)[0]));
        break; // h BINGET
      case 0x6a:
        this.push(this.memoGet(this.view(4).getUint32(0, true)));
        break; // j LONG_BINGET
      case 0x70:
        this.memoPut(parseIndex(this.line(), 'PUT'));
        break; // p PUT
      case 0x71:
        this.memoPut(this.take(1)[0]);
        break; // q BINPUT
      case 0x72:
        this.memoPut(this.view(4).getUint32(0, true));
        break; // r LONG_BINPUT
      case 0x94:
        this.memoPut(this.memo.size);
        break; // MEMOIZE
      // ---- the places a real unpickler runs Python
      case 0x63: {
        const module = this.textLine();
        this.push(this.resolve(module, this.textLine()));
        break;
      } // c
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new PickleDataError(`STACK_GLOBAL needs two strings, found ${typeName(module)} and ${typeName(name)}`);
        }
        this.push(this.resolve(module, name));
        break;
      }
      case 0x52: {
        const args = this.pop();
        const f = this.pop();
        this.push(invoke(f, tupleItems(args, 'REDUCE')));
        break;
      } // R REDUCE
      case 0x69: {
        // i INST
        const module = this.textLine();
        const cls = this.resolve(module, this.textLine());
        this.push(invoke(cls, this.popMark()));
        break;
      }
      case 0x6f: {
        // o OBJ
        const items = this.popMark();
        if (items.length === 0) throw new PickleDataError('OBJ with nothing after its MARK');
        this.push(invoke(items[0], items.slice(1)));
        break;
      }
      case 0x81: {
        const args = this.pop();
        const cls = this.pop();
        this.push(construct(cls, tupleItems(args, 'NEWOBJ')));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        if (!(kwargs instanceof PyDict) || kwargs.size > 0)
          throw new PickleDataError('NEWOBJ_EX with keyword arguments is not supported');
        this.push(construct(cls, tupleItems(args, 'NEWOBJ_EX')));
        break;
      }
      case 0x62: {
        const state = this.pop();
        build(this.top(), state);
        break;
      } // b BUILD
      case 0x50:
        this.push(this.persistent(this.textLine()));
        break; // P PERSID
      case 0x51:
        this.push(this.persistent(this.pop()));
        break; // Q BINPERSID
      case 0x82:
      case 0x83:
      case 0x84:
        throw new PickleDataError('copyreg extension codes are not supported');
      // ---- framing
      case 0x80: {
        // PROTO
        const v = this.take(1)[0];
        if (v > 5) throw new PickleDataError(`pickle protocol ${v} is newer than the 5 this reader knows`);
        this.protocol = v;
        break;
      }
      case 0x95: {
        // FRAME: a read-ahead hint; only its length is checked
        const n = this.length64();
        if (n > this.bytes.length - this.pos)
          throw new PickleDataError(`a frame of ${n} bytes runs past the end of the data (truncated file?)`);
        break;
      }
      case 0x2e: // . STOP
        if (this.marks.length > 0) throw new PickleDataError(`STOP with ${this.marks.length} MARK(s) still open`);
        if (this.stack.length !== 1)
          throw new PickleDataError(`STOP with ${this.stack.length} values on the stack, expected 1`);
        return true;
      default:
        throw new PickleDataError(
          `unknown opcode 0x${this.op.toString(16).padStart(2, '0')} (not a pickle, or a corrupt one)`,
        );
    }
    return false;
  }

  // ---- reading the byte stream; each read is bounds-checked before anything is allocated

  private take(n: number): Uint8Array {
    if (n > this.bytes.length - this.pos) {
      throw new PickleDataError(
        `needs ${n} more bytes but the data ends after ${this.bytes.length - this.pos} (truncated file?)`,
      );
    }
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  private length32Signed(): number {
    const n = this.view(4).getInt32(0, true);
    if (n < 0) throw new PickleDataError(`negative length ${n}`);
    return n;
  }

  private length64(): number {
    const n = this.view(8).getBigUint64(0, true);
    if (n > BigInt(this.bytes.length))
      throw new PickleDataError(`length ${n} is larger than the whole data (${this.bytes.length} bytes)`);
    return Number(n);
  }

  private line(): Uint8Array {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) throw new PickleDataError('the data ends inside a text argument (truncated file?)');
    const out = this.bytes.subarray(this.pos, nl);
    this.pos = nl + 1;
    return out;
  }

  private textLine(): string {
    return utf8Text(this.line());
  }

  // ---- the stack

  private markBase(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  private push(v: PyValue): void {
    if (this.stack.length >= this.limits.maxStack)
      throw new PickleDataError(`more than ${this.limits.maxStack} values on the stack`);
    this.stack.push(v);
  }

  private pop(): PyValue {
    if (this.stack.length <= this.markBase())
      throw new PickleDataError(this.marks.length ? 'needs a value but finds a MARK' : 'stack underflow');
    return this.stack.pop()!;
  }

  private top(): PyValue {
    if (this.stack.length <= this.markBase())
      throw new PickleDataError(this.marks.length ? 'needs a value but finds a MARK' : 'stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): PyValue[] {
    const m = this.marks.pop();
    if (m === undefined) throw new PickleDataError('no MARK to pop to');
    return this.stack.splice(m);
  }

  private list(): PyValue[] {
    const v = this.top();
    if (!Array.isArray(v)) throw new PickleDataError(`can only append to a list, found ${typeName(v)}`);
    return v;
  }

  private dict(): PyDict {
    const v = this.top();
    if (!(v instanceof PyDict)) throw new PickleDataError(`can only set items of a dict, found ${typeName(v)}`);
    return v;
  }

  private memoGet(i: number): PyValue {
    const v = this.memo.get(i);
    if (v === undefined) throw new PickleDataError(`memo entry ${i} was never stored`);
    return v;
  }

  private memoPut(i: number): void {
    if (!this.memo.has(i) && this.memo.size >= this.limits.maxMemo)
      throw new PickleDataError(`more than ${this.limits.maxMemo} memo entries`);
    this.memo.set(i, this.top());
  }

  // ---- globals and persistent ids

  private resolve(module: string, name: string): PyValue {
    const mod = PY2_MODULES.get(module) ?? module;
    const value = this.options.globals.resolve(mod, name);
    if (value === undefined)
      throw new UnsafeGlobalError(
        this.options.file,
        `${mod}.${name}`,
        `${this.options.where ? `${this.options.where}, ` : ''}byte ${this.opStart}`,
      );
    return value;
  }

  private persistent(pid: PyValue): PyValue {
    if (!this.options.persistentLoad) throw new PickleDataError('a persistent id, which only torch files may use');
    return this.options.persistentLoad(pid);
  }

  private fail(problem: string): never {
    const name = OPNAMES[this.op] ?? `0x${this.op.toString(16)}`;
    throw new FormatError(this.options.file, `${this.where}byte ${this.opStart} (${name}): ${problem}`);
  }
}

function setPairs(d: PyDict, items: PyValue[]): void {
  if (items.length % 2 !== 0) throw new PickleDataError(`${items.length} values for key/value pairs (an odd number)`);
  for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
}

function tupleItems(args: PyValue, what: string): readonly PyValue[] {
  if (!(args instanceof PyTuple))
    throw new PickleDataError(`${what} needs a tuple of arguments, found ${typeName(args)}`);
  return args.items;
}

function invoke(f: PyValue, args: readonly PyValue[]): PyValue {
  if (!(f instanceof PyCallable) || !f.call) throw new PickleDataError(`${describe(f)} cannot be called`);
  return f.call(args);
}

function construct(cls: PyValue, args: readonly PyValue[]): PyValue {
  if (!(cls instanceof PyCallable) || !cls.construct)
    throw new PickleDataError(`${describe(cls)} cannot be instantiated with NEWOBJ`);
  return cls.construct(args);
}

/** BUILD: instance attributes of a dict (OrderedDict's `_metadata`), or a Buildable's own rule. */
function build(target: PyValue, state: PyValue): void {
  if (target instanceof PyDict) {
    let dictState = state;
    if (state instanceof PyTuple && state.length === 2) dictState = state.items[0]; // (state, slotstate)
    if (state instanceof PyTuple && state.length === 2 && state.items[1] !== null)
      throw new PickleDataError('BUILD with slot state on a dict');
    if (dictState === null) return;
    if (!(dictState instanceof PyDict))
      throw new PickleDataError(`BUILD state for a dict must be a dict, found ${typeName(dictState)}`);
    target.attrs ??= new Map();
    for (const [k, v] of dictState) {
      if (typeof k !== 'string') throw new PickleDataError(`attribute name ${typeName(k)} is not a str`);
      target.attrs.set(k, v);
    }
    return;
  }
  if (
    target !== null &&
    typeof target === 'object' &&
    !Array.isArray(target) &&
    !(target instanceof Uint8Array) &&
    'build' in target
  ) {
    (target as Buildable).build(state);
    return;
  }
  throw new PickleDataError(`BUILD (setting state) on ${describe(target)} is not allowed`);
}

function describe(v: PyValue): string {
  return v instanceof PyCallable ? v.qualname : `a ${typeName(v)}`;
}
