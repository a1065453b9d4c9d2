/**
 * Read a PyTorch checkpoint (anything torch.save wrote: state dicts, TransformerLens state dicts,
 * Nanda et al.'s run files with their lists of checkpoints and loss curves) without running any of
 * it. The pickle is interpreted by our own VM against an allowlist (pickle.ts, torch-globals.ts),
 * so a file that would execute code when torch.load-ed is an UnsafeGlobalError instead.
 *
 * Formats: the zip container of torch ≥ 1.6 (torch-archive.ts) and the legacy pickle stream of
 * earlier versions (torch-legacy.ts). The legacy tar format of torch < 0.4 and TorchScript
 * archives are refused with a message saying so.
 *
 * Result: the saved object as plain data (pickle-values.ts) with every tensor a contiguous
 * TorchTensor (torch-tensor.ts), and a flat list of the tensors with their paths in the tree
 * ('model/blocks.0.attn.W_Q', 'checkpoints/3/embed.W_E').
 */
import { constants as bufferConstants } from 'node:buffer';
import { FormatError } from '../errors.ts';
import { readExactly, withRegularFile } from './regular-file.ts';
import { formatValue, PyDict, PyTuple, type PyValue } from './pickle.ts';
import { TensorRef } from './torch-globals.ts';
import { materialise, TorchTensor } from './torch-tensor.ts';
import type { ParsedCheckpoint, TorchReadOptions } from './torch-checkpoint.ts';
import { parseZipCheckpoint } from './torch-archive.ts';
import { parseLegacy } from './torch-legacy.ts';
import { ZipArchive } from './torch-zip.ts';

export { TorchTensor, type TorchTensorData } from './torch-tensor.ts';
export { TorchDtype, TorchDevice, StorageRef } from './torch-globals.ts';
export type { TorchReadOptions } from './torch-checkpoint.ts';
export { UnsafeGlobalError, PyDict, PyTuple, PySet, PyComplex, type PyValue } from './pickle.ts';

export interface TensorAtPath {
  path: string; // segments joined by '/'
  segments: string[]; // dict keys (ints as decimal) and list/tuple indices
  tensor: TorchTensor; // the same object wherever one tensor appears at several paths (tied weights)
}

export interface TorchFile {
  file: string;
  format: 'zip' | 'legacy';
  root: PyValue; // the saved object; tensors are TorchTensor
  tensors: TensorAtPath[]; // in the order a depth-first walk of `root` meets them
}

/** Nesting deeper than this is refused (no checkpoint comes close; it protects the walks below). */
export const MAX_DEPTH = 1000;
/** Visits of the tree while listing tensors (shared sub-trees are visited once per path). */
const MAX_VISITS = 20_000_000;

/** Read a torch checkpoint from disk. Zip files are read record by record, legacy files whole. */
export async function readTorchFile(path: string, options: TorchReadOptions = {}): Promise<TorchFile> {
  const { head, size } = readHead(path);
  const kind = sniff(head, size, path);
  if (kind === 'zip') return fromZip(await ZipArchive.open(path, path), path, size, options);
  if (size > bufferConstants.MAX_LENGTH)
    throw new FormatError(path, `a legacy torch file of ${size} bytes is larger than this runtime can load at once`);
  const bytes = readWhole(path, size);
  return resolve(parseLegacy(bytes, path, options), path, size, options);
}

/** Read a torch checkpoint held in memory; `file` names it in errors. */
export async function readTorchBytes(
  bytes: Uint8Array,
  file: string,
  options: TorchReadOptions = {},
): Promise<TorchFile> {
  const kind = sniff(bytes.subarray(0, 512), bytes.length, file);
  if (kind === 'zip') return fromZip(await ZipArchive.open(bytes, file), file, bytes.length, options);
  return resolve(parseLegacy(bytes, file, options), file, bytes.length, options);
}

async function fromZip(zip: ZipArchive, file: string, size: number, options: TorchReadOptions): Promise<TorchFile> {
  let parsed: ParsedCheckpoint;
  try {
    parsed = await parseZipCheckpoint(zip, file, options);
  } catch (err) {
    zip.close();
    throw err;
  }
  return resolve(parsed, file, size, options);
}

/** Which container this is, from its first bytes; anything else is refused with a reason. */
function sniff(head: Uint8Array, size: number, file: string): 'zip' | 'legacy' {
  if (size === 0) throw new FormatError(file, 'the file is empty');
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (ascii(0, 2) === 'PK') return 'zip';
  if (ascii(257, 262) === 'ustar') {
    throw new FormatError(
      file,
      'this is the tar format of torch < 0.4, which groklens does not read; load it with torch and save it again',
    );
  }
  // A legacy file starts with a pickle of the magic number: PROTO 2+, or LONG / INT for protocols 0–1.
  if (head[0] === 0x80 || head[0] === 0x4c || head[0] === 0x8a || head[0] === 0x49 || head[0] === 0x4a) return 'legacy';
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const hint = head[8] === 0x7b ? ' (it looks like a safetensors file: try groklens inspect)' : '';
  throw new FormatError(
    file,
    `not a PyTorch checkpoint: neither a zip archive nor a pickle, it starts with bytes ${hex}${hint}`,
  );
}

/** Copy every tensor out of its storage, one storage at a time, and rebuild the tree around them. */
async function resolve(
  parsed: ParsedCheckpoint,
  file: string,
  fileSize: number,
  options: TorchReadOptions,
): Promise<TorchFile> {
  try {
    const refs = collectRefs(parsed.root, file);
    const maxTensor = options.maxTensorBytes ?? 4 * 2 ** 30;
    const maxTotal = options.maxTotalBytes ?? 2 * fileSize + 2 ** 28;
    let total = 0;
    const byStorage = new Map<string, TensorRef[]>();
    for (const ref of refs.keys()) {
      const list = byStorage.get(ref.storage.key);
      if (list) list.push(ref);
      else byStorage.set(ref.storage.key, [ref]);
    }
    const tensors = new Map<TensorRef, TorchTensor>();
    for (const [key, list] of byStorage) {
      const declared = parsed.storages.get(key)!;
      const nbytes = declared.numel * declared.dtype.itemSize;
      if (!Number.isSafeInteger(nbytes) || nbytes > fileSize) {
        throw new FormatError(
          file,
          `storage '${key}' declares ${declared.numel} × ${declared.dtype.name} elements, more than the file holds`,
        );
      }
      const bytes = await parsed.loadStorage(key, nbytes);
      for (const ref of list) {
        const fail = (problem: string): never => {
          throw new FormatError(file, `tensor '${refs.get(ref)}' (storage '${key}'): ${problem}`);
        };
        const window = viewWindow(ref, bytes, fail);
        const t = materialise(ref, window, parsed.bigEndian, Math.min(maxTensor, maxTotal - total), fail);
        total += t.data.byteLength;
        tensors.set(ref, t);
      }
    }
    const root = convert(parsed.root, tensors, new Map(), 0, file);
    return { file, format: parsed.format, root, tensors: listTensors(root, file) };
  } finally {
    parsed.close();
  }
}

/** The bytes a tensor's storage covers: all of its root storage, or a legacy view's part of it. */
function viewWindow(ref: TensorRef, root: Uint8Array, fail: (problem: string) => never): Uint8Array {
  const view = ref.storage.view;
  if (!view) return root;
  const item = ref.storage.dtype.itemSize;
  if ((view.offset + view.numel) * item > root.length) {
    fail(
      `its storage view '${view.key}' covers elements ${view.offset}..${view.offset + view.numel} of a storage of ${root.length / item}`,
    );
  }
  return root.subarray(view.offset * item, (view.offset + view.numel) * item);
}

/** Every TensorRef in the tree, each with the first path it is found at (for error messages). */
function collectRefs(root: PyValue, file: string): Map<TensorRef, string> {
  const found = new Map<TensorRef, string>();
  const seen = new Set<object>();
  const walk = (v: PyValue, path: string[], depth: number): void => {
    if (v instanceof TensorRef) {
      if (!found.has(v)) found.set(v, path.join('/'));
      return;
    }
    const children = childrenOf(v);
    if (!children || seen.has(v as object)) return;
    if (depth >= MAX_DEPTH)
      throw new FormatError(
        file,
        `the saved object is nested more than ${MAX_DEPTH} levels deep (at '${path.join('/')}')`,
      );
    seen.add(v as object);
    for (const [seg, child] of children) walk(child, [...path, seg], depth + 1);
  };
  walk(root, [], 0);
  return found;
}

/** (path segment, child) pairs of a container, or null for a leaf. */
function childrenOf(v: PyValue): [string, PyValue][] | null {
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
  if (v instanceof PyTuple) return v.items.map((x, i) => [String(i), x]);
  if (v instanceof PyDict) return [...v].map(([k, x]) => [keySegment(k), x]);
  return null;
}

function keySegment(k: PyValue): string {
  return typeof k === 'string' ? k : formatValue(k, true, 200);
}

/** A copy of the tree with TensorRefs replaced; shared and cyclic containers stay shared and cyclic. */
function convert(
  v: PyValue,
  tensors: Map<TensorRef, TorchTensor>,
  done: Map<object, PyValue>,
  depth: number,
  file: string,
): PyValue {
  if (v instanceof TensorRef) return tensors.get(v)!;
  if (!(Array.isArray(v) || v instanceof PyTuple || v instanceof PyDict)) return v; // leaves, PySet (hashable items only)
  const before = done.get(v);
  if (before !== undefined) return before;
  if (depth >= MAX_DEPTH) throw new FormatError(file, `the saved object is nested more than ${MAX_DEPTH} levels deep`);
  const next = (x: PyValue) => convert(x, tensors, done, depth + 1, file);
  if (Array.isArray(v)) {
    const out: PyValue[] = [];
    done.set(v, out);
    for (const x of v) out.push(next(x));
    return out;
  }
  if (v instanceof PyTuple) {
    const items: PyValue[] = [];
    const out = new PyTuple(items); // filled after registering, for a tuple inside a cycle
    done.set(v, out);
    for (const x of v.items) items.push(next(x));
    return out;
  }
  const out = new PyDict(v.pyType);
  done.set(v, out);
  for (const [k, x] of v) out.set(k, next(x));
  if (v.attrs) out.attrs = new Map([...v.attrs].map(([k, x]) => [k, next(x)]));
  return out;
}

function listTensors(root: PyValue, file: string): TensorAtPath[] {
  const out: TensorAtPath[] = [];
  const onPath = new Set<object>(); // ancestors: a cycle is not followed round again
  let visits = 0;
  const walk = (v: PyValue, segments: string[]): void => {
    if (++visits > MAX_VISITS)
      throw new FormatError(
        file,
        `the saved object has more than ${MAX_VISITS} paths to walk (shared sub-trees nested in each other?)`,
      );
    if (v instanceof TorchTensor) {
      out.push({ path: segments.join('/'), segments, tensor: v });
      return;
    }
    const children = childrenOf(v);
    if (!children || onPath.has(v as object)) return;
    onPath.add(v as object);
    for (const [seg, child] of children) walk(child, [...segments, seg]);
    onPath.delete(v as object);
  };
  walk(root, []);
  return out;
}

function readHead(path: string): { head: Uint8Array; size: number } {
  return withRegularFile(path, (fd, size) => {
    const head = new Uint8Array(Math.min(512, size));
    readExactly(fd, head, 0, path);
    return { head, size };
  });
}

function readWhole(path: string, size: number): Uint8Array {
  return withRegularFile(path, (fd, now) => {
    if (now !== size) throw new FormatError(path, 'the file changed size while being read');
    const bytes = new Uint8Array(size);
    readExactly(fd, bytes, 0, path);
    return bytes;
  });
}
