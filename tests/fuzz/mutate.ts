/**
 * A seeded generator of damaged run files, for the fuzz corpus (./fuzz.test.ts): mutants of a
 * real checkpoint (bit flips, truncations, lying header lengths and offsets, huge shapes, wrong
 * dtypes, duplicated keys, NaN/Inf payloads, wrong metadata, extra, missing and renamed tensors)
 * and of each JSON file of a run directory (wrong-typed values — null, strings for numbers, arrays
 * for objects, deep nesting, huge values — deleted, unknown and duplicated keys, truncations,
 * byte noise, numbers nudged into lies). Every mutant is a pure function of (file bytes, seed).
 */
import { Rng } from '../../src/rng.ts';

export interface Mutant {
  what: string; // a short description, for failure messages and the summary
  bytes: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

// ---- JSON documents ----

/** Raw JSON text a value may be replaced with (some cannot be produced by JSON.stringify). */
const HOSTILE_RAW: [string, string][] = [
  ['null', 'null'],
  ['a string', '"x"'],
  ['an empty string', '""'],
  ['a numeric string', '"12"'],
  ['-1', '-1'],
  ['0', '0'],
  ['1.5', '1.5'],
  ['1e308', '1e308'],
  ['Infinity (1e999)', '1e999'],
  ['-Infinity (-1e999)', '-1e999'],
  ['2^64', '18446744073709551616'],
  ['-0', '-0'],
  ['true', 'true'],
  ['[]', '[]'],
  ['{}', '{}'],
  ['[null]', '[null]'],
  ['an object', '{"a":1}'],
  ['a __proto__ object', '{"__proto__":{"polluted":1}}'],
  ['control characters', '"line\\nbreak\\u001b[31m\\u0085\\u2028"'],
  ['a 100 kB string', JSON.stringify('y'.repeat(100_000))],
  ['an array of 100k numbers', `[${new Array(100_000).fill(7).join(',')}]`],
  ['arrays nested 100k deep', '['.repeat(100_000) + ']'.repeat(100_000)],
  ['objects nested 10k deep', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
];

type Path = (string | number)[];

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) {
    // long lists (split indices, probe vectors): a few positions are enough
    const idx = v.length <= 8 ? v.map((_, i) => i) : [0, 1, 2, Math.floor(v.length / 2), v.length - 1];
    for (const i of idx) paths(v[i], [...at, i], out);
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  }
  return out;
}

function parentOf(
  root: unknown,
  path: Path,
): { parent: Record<string | number, unknown>; key: string | number } | null {
  if (path.length === 0) return null;
  let v = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) v = v[k] as Record<string | number, unknown>;
  return { parent: v, key: path[path.length - 1] };
}

const RAW = (i: number) => `@@RAW${i}@@`;
const pathText = (p: Path) =>
  p.length
    ? p
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
        .join('')
        .replace(/^\./, '')
    : '(top level)';

/** Serialise `doc`, then splice raw texts in for the RAW markers. */
function render(doc: unknown, raws: string[], pretty: boolean): string {
  let text = pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc);
  raws.forEach((r, i) => (text = text.replace(`"${RAW(i)}"`, () => r)));
  return text;
}

/** One mutant of a JSON document (`text` is the file as written). */
export function mutateJson(text: string, rng: Rng): Mutant {
  const doc = JSON.parse(text);
  const pretty = text.includes('\n  ');
  const all = paths(doc);
  const objects = all.filter((p) => {
    const v = p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  const strategy = rng.int(10);
  const raws: string[] = [];
  const out = (what: string, t: string | Uint8Array): Mutant => ({
    what,
    bytes: typeof t === 'string' ? enc.encode(t) : t,
  });
  switch (strategy) {
    case 0:
    case 1: {
      // a value replaced with a hostile one
      const p = pick(
        rng,
        all.filter((x) => x.length > 0),
      );
      const [label, raw] = pick(rng, HOSTILE_RAW);
      const at = parentOf(doc, p)!;
      at.parent[at.key] = RAW(raws.push(raw) - 1);
      return out(`${pathText(p)} = ${label}`, render(doc, raws, pretty));
    }
    case 2: {
      // a key deleted
      const p = pick(
        rng,
        all.filter((x) => x.length > 0 && typeof x[x.length - 1] === 'string'),
      );
      const at = parentOf(doc, p)!;
      delete at.parent[at.key];
      return out(`${pathText(p)} deleted`, render(doc, raws, pretty));
    }
    case 3: {
      // a container of the other kind: an object as an array of its values, an array as an object
      const containers = all
        .filter((p) => p.length > 0)
        .filter((p) => {
          const v = p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc);
          return v !== null && typeof v === 'object';
        });
      if (containers.length === 0) return mutateJson(text, rng);
      const p = pick(rng, containers);
      const at = parentOf(doc, p)!;
      const v = at.parent[at.key];
      at.parent[at.key] = Array.isArray(v)
        ? Object.fromEntries(v.map((x, i) => [String(i), x]))
        : Object.values(v as object);
      return out(`${pathText(p)} as the other container`, render(doc, raws, pretty));
    }
    case 4: {
      // a duplicated key: the first key of an object repeated with another value (JSON.parse keeps the last)
      const p = pick(rng, objects);
      const obj = p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) as Record<
        string,
        unknown
      >;
      const keys = Object.keys(obj);
      if (keys.length === 0) return mutateJson(text, rng);
      const key = pick(rng, keys);
      const [label, raw] = pick(rng, HOSTILE_RAW.slice(0, 17));
      obj['@@DUP@@'] = RAW(raws.push(raw) - 1);
      return out(
        `${pathText([...p, key])} duplicated as ${label}`,
        render(doc, raws, pretty).replace('"@@DUP@@"', JSON.stringify(key)),
      );
    }
    case 5: {
      // an unknown key added
      const p = pick(rng, objects);
      const obj = p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) as Record<
        string,
        unknown
      >;
      const [label, raw] = pick(rng, HOSTILE_RAW);
      obj[pick(rng, ['extra', 'notes', '__proto__', 'constructor', 'Ω'])] = RAW(raws.push(raw) - 1);
      return out(`unknown key in ${pathText(p)} = ${label}`, render(doc, raws, pretty));
    }
    case 6: {
      // a number nudged: a lie that is still well-typed
      const nums = all.filter(
        (p) => typeof p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) === 'number',
      );
      if (nums.length === 0) return mutateJson(text, rng);
      const p = pick(rng, nums);
      const at = parentOf(doc, p)!;
      const v = at.parent[at.key] as number;
      const [label, nv] = pick(rng, [
        ['+1', v + 1],
        ['-1', v - 1],
        ['×1000', v * 1000],
        ['negated', -v],
        ['+0.5', v + 0.5],
        ['×1e6', v * 1e6],
      ] as const);
      at.parent[at.key] = nv;
      return out(`${pathText(p)} ${label}`, render(doc, raws, pretty));
    }
    case 7: {
      // truncated
      const at = rng.int(text.length);
      return out(`truncated at ${at}/${text.length}`, text.slice(0, at));
    }
    case 8: {
      // bytes replaced with JSON syntax or flipped
      const bytes = enc.encode(text);
      const noise = '{}[],:"0123456789-.eE \\u';
      const n = 1 + rng.int(4);
      for (let j = 0; j < n; j++) {
        const i = rng.int(bytes.length);
        bytes[i] = rng.int(2) ? noise.charCodeAt(rng.int(noise.length)) : bytes[i] ^ (1 << rng.int(8));
      }
      return out(`${n} byte(s) damaged`, bytes);
    }
    default: {
      // the whole document replaced
      const [label, raw] = pick(rng, [
        ['null', 'null'],
        ['[]', '[]'],
        ['"x"', '"x"'],
        ['5', '5'],
        ['{}', '{}'],
        ['an empty file', ''],
        ['arrays nested 100k deep', '['.repeat(100_000) + ']'.repeat(100_000)],
        ['1 MB of spaces', ' '.repeat(1 << 20)],
      ] as const);
      if (rng.int(6) === 0) return out('not UTF-8', Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d));
      return out(`the document replaced by ${label}`, raw);
    }
  }
}

/** One mutant of a JSONL log: a row mutated, a null or garbage line inserted, lines reordered or torn. */
export function mutateJsonl(text: string, rng: Rng): Mutant {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const out = (what: string, ls: string[], end = '\n'): Mutant => ({ what, bytes: enc.encode(ls.join('\n') + end) });
  const middle = Math.max(0, Math.min(lines.length - 2, 1 + rng.int(Math.max(1, lines.length - 2))));
  switch (rng.int(8)) {
    case 0:
    case 1:
    case 2: {
      const i = rng.int(3) === 0 ? lines.length - 1 : middle;
      const m = mutateJson(lines[i], rng);
      const copy = lines.slice();
      copy[i] = dec.decode(m.bytes).replace(/\n/g, ' ');
      return out(`line ${i + 1}: ${m.what}`, copy);
    }
    case 3:
      return out(`a null line at ${middle + 1}`, [...lines.slice(0, middle), 'null', ...lines.slice(middle)]);
    case 4: {
      const cut = lines[lines.length - 1].slice(0, rng.int(lines[lines.length - 1].length));
      return out('a torn last line', [...lines.slice(0, -1), cut], '');
    }
    case 5: {
      const copy = lines.slice();
      const [a, b] = [rng.int(lines.length), rng.int(lines.length)];
      [copy[a], copy[b]] = [copy[b], copy[a]];
      return out(`lines ${a + 1} and ${b + 1} swapped`, copy);
    }
    case 6:
      return out(`a garbage line at ${middle + 1}`, [
        ...lines.slice(0, middle),
        pick(rng, ['[1,2]', '"row"', '42', '{', '\u0000\u0001']),
        ...lines.slice(middle),
      ]);
    default:
      return out('blank lines and a line deleted', [...lines.slice(0, middle), '', '   ', ...lines.slice(middle + 1)]);
  }
}

// ---- safetensors files ----

interface Parsed {
  header: Record<string, unknown>;
  data: Uint8Array;
}

function parse(bytes: Uint8Array): Parsed {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(dec.decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

function build(headerText: string, data: Uint8Array, length?: bigint): Uint8Array {
  const h = enc.encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const tensorNames = (p: Parsed) => Object.keys(p.header).filter((k) => k !== '__metadata__');
type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** One mutant of a safetensors file. */
export function mutateSafetensors(bytes: Uint8Array, rng: Rng): Mutant {
  const p = parse(bytes);
  const headerEnd = bytes.length - p.data.length;
  const names = tensorNames(p);
  const name = pick(rng, names);
  const entry = () => p.header[name] as Entry;
  const rebuilt = (what: string): Mutant => ({ what, bytes: build(JSON.stringify(p.header), p.data) });
  const copy = bytes.slice();
  switch (rng.int(19)) {
    case 0: {
      const n = 1 + rng.int(4);
      for (let j = 0; j < n; j++) copy[8 + rng.int(headerEnd - 8)] ^= 1 << rng.int(8);
      return { what: `${n} bit flip(s) in the header`, bytes: copy };
    }
    case 1: {
      const n = 1 + rng.int(8);
      for (let j = 0; j < n; j++) copy[headerEnd + rng.int(p.data.length)] ^= 1 << rng.int(8);
      return { what: `${n} bit flip(s) in the data`, bytes: copy };
    }
    case 2: {
      const at = rng.int(bytes.length);
      return { what: `truncated at ${at}/${bytes.length}`, bytes: bytes.slice(0, at) };
    }
    case 3: {
      const n = BigInt(headerEnd - 8);
      const [label, len] = pick(rng, [
        ['+1', n + 1n],
        ['-1', n - 1n],
        ['+8', n + 8n],
        ['0', 0n],
        ['the file size', BigInt(bytes.length)],
        ['2^40', 2n ** 40n],
        ['2^64 - 1', 2n ** 64n - 1n],
      ] as const);
      new DataView(copy.buffer).setBigUint64(0, len, true);
      return { what: `header length ${label}`, bytes: copy };
    }
    case 4: {
      const e = entry();
      const [label, offs] = pick(rng, [
        ['shifted by 4', [e.data_offsets[0] + 4, e.data_offsets[1] + 4]],
        ['reversed', [e.data_offsets[1], e.data_offsets[0]]],
        ['past the end', [e.data_offsets[0], p.data.length + 1000]],
        ['huge', [0, 2 ** 52]],
        ['negative', [-4, e.data_offsets[1]]],
        ['overlapping the start', [0, e.data_offsets[1] - e.data_offsets[0]]],
      ] as const);
      e.data_offsets = offs as [number, number];
      return rebuilt(`${name}: data_offsets ${label}`);
    }
    case 5: {
      const [label, shape] = pick(rng, [
        ['[2^20, 2^20]', [2 ** 20, 2 ** 20]],
        ['[2^31]', [2 ** 31]],
        ['[0]', [0]],
        ['[]', []],
        ['[-1, 4]', [-1, 4]],
        ['[1.5]', [1.5]],
        ['[2^53]', [2 ** 53]],
      ] as const);
      entry().shape = shape as unknown as number[];
      return rebuilt(`${name}: shape ${label}`);
    }
    case 6: {
      const dtype = pick(rng, ['F16', 'BF16', 'F64', 'I32', 'I64', 'U8', 'BOOL', 'I8', 'X', 'f32', 'F8_E4M3']);
      entry().dtype = dtype;
      return rebuilt(`${name}: dtype ${dtype}`);
    }
    case 7: {
      const text = dec.decode(bytes.subarray(8, headerEnd)).trimEnd();
      const key = rng.int(2) ? '__metadata__' : name;
      const value =
        key === '__metadata__'
          ? '{"format":"groklens-checkpoint","format_version":"1","step":"999"}'
          : JSON.stringify(p.header[name]);
      return { what: `${key} duplicated`, bytes: build(`{${JSON.stringify(key)}:${value},${text.slice(1)}`, p.data) };
    }
    case 8: {
      const view = new DataView(copy.buffer);
      const e = entry();
      const [label, x] = pick(rng, [
        ['NaN', NaN],
        ['+Inf', Infinity],
        ['-Inf', -Infinity],
        ['1e30', 1e30],
        ['3.4e38', 3.4e38],
        ['1e-45', 1e-45],
      ] as const);
      const count = e.data_offsets[1] - e.data_offsets[0];
      if (count < 4) return mutateSafetensors(bytes, rng);
      const n = 1 + rng.int(3);
      for (let j = 0; j < n; j++) view.setFloat32(headerEnd + e.data_offsets[0] + 4 * rng.int(count / 4), x, true);
      return { what: `${name}: ${n} value(s) set to ${label}`, bytes: copy };
    }
    case 9: {
      const md = (p.header.__metadata__ ?? {}) as Record<string, unknown>;
      const edits: [string, () => void][] = [
        ['format "groklens-resume"', () => (md.format = 'groklens-resume')],
        ['format deleted', () => delete md.format],
        ['format_version "2"', () => (md.format_version = '2')],
        ['format_version "x"', () => (md.format_version = 'x')],
        ['step "3"', () => (md.step = '3')],
        ['step deleted', () => delete md.step],
        ['step a number', () => (md.step = 20)],
        ['metadata null', () => (p.header.__metadata__ = null)],
        ['metadata a list', () => (p.header.__metadata__ = ['x'])],
        ['a 1 MB metadata value', () => (md.note = 'm'.repeat(1 << 20))],
        ['control characters in metadata', () => (md['k\u0085\n'] = 'v\u001b[2J\u009b')],
      ];
      const [label, edit] = pick(rng, edits);
      edit();
      return rebuilt(`metadata: ${label}`);
    }
    case 10: {
      const n = pick(rng, [1, 10, 1000, 20_000]);
      const end = p.data.length;
      for (let i = 0; i < n; i++) p.header[`extra.${i}`] = { dtype: 'F32', shape: [0], data_offsets: [end, end] };
      return rebuilt(`${n} extra empty tensor(s)`);
    }
    case 11: {
      // a tensor dropped, its bytes kept: a gap, or trailing bytes
      delete p.header[name];
      return rebuilt(`${name} removed`);
    }
    case 12: {
      const e = p.header[name];
      delete p.header[name];
      p.header[pick(rng, [`${name}.renamed`, name.toUpperCase(), `${name}\n`, ''])] = e;
      return rebuilt(`${name} renamed`);
    }
    case 13: {
      const e = entry();
      if (e.shape.length < 2) e.shape = [1, ...e.shape];
      else e.shape = [...e.shape].reverse();
      return rebuilt(`${name}: shape permuted (same size)`);
    }
    case 14: {
      const text = dec.decode(bytes.subarray(8, headerEnd));
      const junk = pick(rng, ['\u0000', '\u00ff', 'garbage', '\t\n', '}']);
      return { what: `header padding ${JSON.stringify(junk)}`, bytes: build(text + junk, p.data) };
    }
    case 16:
    case 17: {
      // a still-valid file with other weights: scaled, zeroed, or one tensor's bytes reversed in order of floats
      const view = new DataView(copy.buffer);
      const e = entry();
      const [label, f] = pick(rng, [
        ['scaled by 1.5', (x: number) => 1.5 * x],
        ['zeroed', () => 0],
        ['negated', (x: number) => -x],
        ['+0.01', (x: number) => x + 0.01],
      ] as const);
      for (let o = headerEnd + e.data_offsets[0]; o < headerEnd + e.data_offsets[1]; o += 4)
        view.setFloat32(o, f(view.getFloat32(o, true)), true);
      return { what: `${name}: ${label}`, bytes: copy };
    }
    default: {
      const [label, h] = pick(rng, [
        ['nested 100k deep', '['.repeat(100_000) + ']'.repeat(100_000)],
        ['null', 'null'],
        ['an array', '[1,2]'],
        ['empty', ''],
        ['a tensor entry of 100k keys', `{"w":{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',')}}}`],
      ] as const);
      return { what: `header ${label}`, bytes: build(h, p.data) };
    }
  }
}
