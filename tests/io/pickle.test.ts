import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FormatError } from '../../src/errors.ts';
import {
  allowlist,
  loadPickle,
  PyCallable,
  PyDict,
  PYTHON_GLOBALS,
  PyTuple,
  UnsafeGlobalError,
  type PickleOptions,
  type PyValue,
} from '../../src/io/pickle.ts';
import { PickleWriter } from './torch-build.ts';
import { tagged, type Expected } from './torch-expected.ts';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'torch');
const expected: Expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const plain = allowlist(PYTHON_GLOBALS);

function load(bytes: Uint8Array, options: Partial<PickleOptions> = {}): PyValue {
  return loadPickle(bytes, 0, { file: 'test.pkl', globals: plain, ...options }).value;
}

/** The FormatError `fn` throws (anything else fails the test). */
function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FormatError) return err;
    throw new Error(`expected a FormatError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a FormatError, but it parsed');
}

describe("CPython's own pickles, protocols 0–5", () => {
  test.each(expected.plain.files)('%s reads back as pickle.load reads it', (name) => {
    const bytes = readFileSync(join(DIR, name));
    const { value, end } = loadPickle(bytes, 0, { file: name, globals: plain });
    expect(end).toBe(bytes.length);
    expect(tagged(value)).toEqual(expected.plain.tree);
  });

  test('shared references stay shared; -0.0, NaN and huge ints are exact', () => {
    for (const name of expected.plain.files) {
      const d = load(readFileSync(join(DIR, name))) as PyDict;
      const twice = d.get('shared_twice') as PyValue[][];
      expect(twice[0], name).toBe(twice[1]);
      const floats = d.get('floats') as number[];
      expect(Object.is(floats[1], -0), name).toBe(true);
      expect(Number.isNaN(floats[7]), name).toBe(true);
      expect((d.get('ints') as PyValue[]).at(-1), name).toBe(2n ** 100n);
      expect((d.get('dict_int_keys') as PyDict).get(2n ** 70n), name).toBe('big');
      expect((d.get('ordered') as PyDict).pyType, name).toBe('collections.OrderedDict');
    }
  });

  test('every truncation of a pickle is a FormatError naming the file, never a crash', () => {
    for (const name of ['plain-p0.pkl', 'plain-p2.pkl', 'plain-p4.pkl']) {
      const bytes = readFileSync(join(DIR, name));
      for (let n = 0; n < bytes.length; n++) {
        const err = formatError(() => loadPickle(bytes.subarray(0, n), 0, { file: name, globals: plain }));
        expect(err.message.startsWith(`${name}: `)).toBe(true);
      }
    }
  });
});

describe('globals: an allowlist, nothing imported or run', () => {
  test("CPython's pickle of an os.system call is refused, naming the global", () => {
    const bytes = readFileSync(join(DIR, 'plain-hostile-p2.pkl'));
    const err = formatError(() => load(bytes, { file: 'plain-hostile-p2.pkl' }));
    expect(err).toBeInstanceOf(UnsafeGlobalError);
    expect((err as UnsafeGlobalError).global).toBe(expected.hostile['hostile-os-system.pt'].global);
    expect(err.message).toMatch(
      /^plain-hostile-p2\.pkl: .*Python global posix\.system.*byte \d+.*Nothing in the file was executed or imported/,
    );
  });

  test.each([
    ['builtins', 'eval'],
    ['builtins', 'getattr'],
    ['__builtin__', 'exec'],
    ['subprocess', 'Popen'],
    ['torch', 'load'],
    ['collections', 'defaultdict'],
    ['copy_reg', '_reconstructor'],
  ])('GLOBAL %s.%s is refused', (module, name) => {
    const bytes = new PickleWriter().proto(2).global(module, name).stop().bytes();
    const err = formatError(() => load(bytes));
    expect(err).toBeInstanceOf(UnsafeGlobalError);
    expect(err.message).toContain(
      `${module.replace('__builtin__', 'builtins').replace('copy_reg', 'copyreg')}.${name}`,
    );
  });

  // Wherever the payload sits, the GLOBAL opcode that names it is reached first and refused.
  test.each([
    [
      'as a value inside an OrderedDict',
      (w: PickleWriter) =>
        w
          .global('collections', 'OrderedDict')
          .op(')')
          .op('R')
          .str('model')
          .global('posix', 'system')
          .str('touch /tmp/pwned')
          .raw(0x85)
          .op('R')
          .op('s'),
    ],
    [
      'as the state of a BUILD',
      (w: PickleWriter) =>
        w
          .global('collections', 'OrderedDict')
          .op(')')
          .op('R')
          .global('builtins', 'exec')
          .str('x')
          .raw(0x85)
          .op('R')
          .op('b'),
    ],
    [
      'inside a persistent id',
      (w: PickleWriter) => w.str('storage').global('subprocess', 'call').str('x').raw(0x85).op('R').raw(0x86).op('Q'),
    ],
  ])('a payload %s is refused before anything is built', (_where, build) => {
    const bytes = build(new PickleWriter().proto(2)).stop().bytes();
    const err = formatError(() => load(bytes, { persistentLoad: () => null } as Partial<PickleOptions>));
    expect(err).toBeInstanceOf(UnsafeGlobalError);
    expect(err.message).toMatch(
      /(posix\.system|builtins\.exec|subprocess\.call).*Nothing in the file was executed or imported/,
    );
  });

  test('STACK_GLOBAL is checked the same way, and needs two strings', () => {
    const ok = new PickleWriter()
      .proto(4)
      .str('collections')
      .str('OrderedDict')
      .raw(0x93)
      .op(')')
      .op('R')
      .stop()
      .bytes();
    expect(load(ok)).toBeInstanceOf(PyDict);
    const bad = new PickleWriter().proto(4).str('os').str('system').raw(0x93).stop().bytes();
    expect(formatError(() => load(bad))).toBeInstanceOf(UnsafeGlobalError);
    const notStrings = new PickleWriter().proto(4).int(1).str('system').raw(0x93).stop().bytes();
    expect(formatError(() => load(notStrings)).message).toMatch(/STACK_GLOBAL needs two strings/);
  });

  test('only allowlisted callables can be called; calls build plain data', () => {
    const calls: string[] = [];
    const spy = allowlist(
      new Map([['m.f', new PyCallable('m.f', (args) => (calls.push(String(args.length)), new PyTuple(args)))]]),
    );
    const bytes = new PickleWriter().proto(2).global('m', 'f').int(1).int(2).raw(0x86).op('R').stop().bytes();
    expect((load(bytes, { globals: spy }) as PyTuple).items).toEqual([1, 2]);
    expect(calls).toEqual(['2']);
    const callString = new PickleWriter().proto(2).str('x').op(')').op('R').stop().bytes();
    expect(formatError(() => load(callString)).message).toMatch(/a str cannot be called/);
    const newobjSet = new PickleWriter().proto(2).global('builtins', 'complex').op(')').raw(0x81).stop().bytes();
    expect(formatError(() => load(newobjSet)).message).toMatch(/builtins\.complex cannot be instantiated/);
  });

  test('BUILD sets attributes on a dict only', () => {
    const ok = new PickleWriter()
      .proto(2)
      .global('collections', 'OrderedDict')
      .op(')')
      .op('R')
      .op('}')
      .str('_metadata')
      .int(5)
      .op('s')
      .op('b')
      .stop()
      .bytes();
    expect((load(ok) as PyDict).attrs?.get('_metadata')).toBe(5);
    const onList = new PickleWriter().proto(2).op(']').op('}').op('b').stop().bytes();
    expect(formatError(() => load(onList)).message).toMatch(/BUILD .* on a list is not allowed/);
  });

  test('persistent ids need a resolver', () => {
    const bytes = new PickleWriter().proto(2).str('x').op('Q').stop().bytes();
    expect(formatError(() => load(bytes)).message).toMatch(/persistent id/);
    expect(load(bytes, { persistentLoad: (pid) => `got ${String(pid)}` })).toBe('got x');
  });
});

describe('malformed pickles are FormatErrors with the byte and opcode', () => {
  const w = () => new PickleWriter().proto(2);
  test.each<[string, Uint8Array, RegExp]>([
    ['unknown opcode', w().raw(0xff).stop().bytes(), /byte 2 \(0xff\): unknown opcode 0xff/],
    ['protocol 6', new PickleWriter().proto(6).none().stop().bytes(), /protocol 6 is newer/],
    ['empty input', new Uint8Array(0), /expected a pickle here/],
    ['no STOP', w().none().bytes(), /without a STOP/],
    ['stack underflow', w().op('R').stop().bytes(), /stack underflow/],
    ['pop below a MARK', w().int(1).mark().op('\x85').stop().bytes(), /finds a MARK/],
    ['no MARK to pop to', w().op('t').stop().bytes(), /no MARK to pop to/],
    ['an open MARK at STOP', w().mark().none().stop().bytes(), /MARK\(s\) still open/],
    ['two values at STOP', w().none().none().stop().bytes(), /2 values on the stack/],
    ['a memo entry never stored', w().binget(7).stop().bytes(), /memo entry 7 was never stored/],
    ['append to a dict', w().op('}').int(1).op('a').stop().bytes(), /can only append to a list, found dict/],
    ['setitem on a list', w().op(']').int(1).int(2).op('s').stop().bytes(), /can only set items of a dict, found list/],
    ['odd SETITEMS', w().op('}').mark().int(1).op('u').stop().bytes(), /odd number/],
    ['an unhashable key', w().op('}').op(']').int(1).op('s').stop().bytes(), /unhashable list/],
    ['BINUNICODE past the end', w().raw(0x58, 0xff, 0xff, 0xff, 0x7f).stop().bytes(), /needs 2147483647 more bytes/],
    [
      'BINBYTES8 longer than the data',
      w().raw(0x8e, 0, 0, 0, 0, 0, 0, 0, 1).stop().bytes(),
      /larger than the whole data/,
    ],
    ['LONG4 of negative length', w().raw(0x8b, 0xff, 0xff, 0xff, 0xff).stop().bytes(), /negative length/],
    [
      'FRAME past the end',
      w().raw(0x95, 100, 0, 0, 0, 0, 0, 0, 0).none().stop().bytes(),
      /length 100 is larger than the whole data/,
    ],
    [
      'FRAME past the end of a long pickle',
      w().raw(0x95, 3, 0, 0, 0, 0, 0, 0, 0).none().bytes(),
      /frame of 3 bytes runs past the end/,
    ],
    ['invalid UTF-8', w().raw(0x8c, 2, 0xc3, 0x28).stop().bytes(), /not valid UTF-8/],
    [
      'INT that is not a number',
      new PickleWriter()
        .op('I')
        .raw(...new TextEncoder().encode('12x\n'))
        .stop()
        .bytes(),
      /expected a decimal integer, got '12x'/,
    ],
    ['out-of-band buffer', new PickleWriter().proto(5).raw(0x97).stop().bytes(), /out-of-band buffers/],
    ['extension code', w().raw(0x82, 1).stop().bytes(), /extension codes/],
    [
      'NEWOBJ_EX with kwargs',
      new PickleWriter()
        .proto(4)
        .global('builtins', 'set')
        .op(')')
        .op('}')
        .str('a')
        .int(1)
        .op('s')
        .raw(0x92)
        .stop()
        .bytes(),
      /keyword arguments/,
    ],
  ])('%s', (_label, bytes, message) => {
    const err = formatError(() => load(bytes));
    expect(err.message).toMatch(/^test\.pkl: byte \d+ \(/);
    expect(err.message).toMatch(message);
  });

  test('the where label names the pickle inside a file', () => {
    const err = formatError(() =>
      load(new PickleWriter().proto(2).raw(0xff).bytes(), { file: 'model.pt', where: 'archive/data.pkl' }),
    );
    expect(err.message).toBe(
      'model.pt: archive/data.pkl: byte 2 (0xff): unknown opcode 0xff (not a pickle, or a corrupt one)',
    );
  });
});

describe('limits against pathological files', () => {
  test('opcode count', () => {
    const w = new PickleWriter().proto(2).op(']');
    for (let i = 0; i < 100; i++) w.int(i).op('a');
    expect(formatError(() => load(w.stop().bytes(), { limits: { maxOps: 50 } })).message).toMatch(
      /more than 50 opcodes/,
    );
  });

  test('memo size', () => {
    const w = new PickleWriter().proto(2).none();
    for (let i = 0; i < 20; i++) w.binput(i);
    expect(formatError(() => load(w.stop().bytes(), { limits: { maxMemo: 10 } })).message).toMatch(
      /more than 10 memo entries/,
    );
  });

  test('stack depth and MARK nesting', () => {
    const deep = new PickleWriter().proto(2);
    for (let i = 0; i < 30; i++) deep.none();
    expect(formatError(() => load(deep.stop().bytes(), { limits: { maxStack: 20 } })).message).toMatch(
      /more than 20 values on the stack/,
    );
    const marks = new PickleWriter().proto(2);
    for (let i = 0; i < 30; i++) marks.mark();
    expect(formatError(() => load(marks.stop().bytes(), { limits: { maxMarks: 20 } })).message).toMatch(
      /more than 20 nested MARKs/,
    );
  });

  test('a 1 MB integer is refused before it is decoded', () => {
    const huge = new Uint8Array(5 + (1 << 20) + 1);
    huge.set([0x8b, 0, 0, 0x10, 0]);
    huge[huge.length - 1] = 0x2e;
    expect(formatError(() => load(huge)).message).toMatch(/an integer of 1048576 bytes/);
  });
});

describe('values', () => {
  test('dict keys compare as in Python: 1, 1.0 and True are one key; tuples by value', () => {
    const w = new PickleWriter().proto(2).op('}').mark();
    w.int(1).str('int').float(1).str('float').bool(true).str('bool');
    w.int(1).str('a').raw(0x86).str('tuple').int(1).str('a').raw(0x86).str('tuple again');
    const d = load(w.op('u').stop().bytes()) as PyDict;
    expect(d.size).toBe(2); // {1: 'bool', (1, 'a'): 'tuple again'}
    expect(d.get(1)).toBe('bool');
    expect(d.keys()[0]).toBe(1); // Python keeps the first key object
    expect(d.get(new PyTuple([1, 'a']))).toBe('tuple again');
  });

  test('Python 2 strings read as UTF-8, as torch.load does', () => {
    const bytes = new PickleWriter()
      .op('S')
      .raw(...new TextEncoder().encode("'caf\\xc3\\xa9 \\n'\n"))
      .stop()
      .bytes();
    expect(load(bytes)).toBe('café \n');
  });
});
