/**
 * A torch file opened for importing: the pickled tree with every tensor still a TensorRef (where
 * its elements are), and `load` to copy one tensor out when the converter needs it. Unlike
 * readTorchFile, which materialises every tensor at once, this keeps one checkpoint in memory at a
 * time, so a 400-checkpoint run file of 450 MB imports in a few tens of MB (zip files are read
 * entry by entry; a legacy file, which has no index, is read whole).
 *
 * The same checks as readTorchFile: every storage's declared size against the file before it is
 * allocated, every view against its storage (materialise), and the allowlist of the pickle VM.
 */
import { FormatError } from '../errors.ts';
import { readExactly, withRegularFile } from '../io/regular-file.ts';
import { TensorRef } from '../io/torch-globals.ts';
import { materialise, type TorchTensor } from '../io/torch-tensor.ts';
import { parseZipCheckpoint } from '../io/torch-archive.ts';
import { parseLegacy } from '../io/torch-legacy.ts';
import { ZipArchive } from '../io/torch-zip.ts';
import type { ParsedCheckpoint } from '../io/torch-checkpoint.ts';
import { PyDict, PyTuple, type PyValue } from '../io/pickle.ts';

export { TensorRef };

export interface LazyTorchFile {
  file: string;
  format: 'zip' | 'legacy';
  root: PyValue; // tensors are TensorRef
  size: number; // bytes of the file
  /** Copy one tensor out of its storage (row-major); `where` names it in errors. */
  load(ref: TensorRef, where: string): Promise<TorchTensor>;
  close(): void;
}

/** The largest single tensor we copy out (a nanda-2023 tensor is 256 kB). */
const MAX_TENSOR_BYTES = 2 ** 30;

export async function openTorchLazy(path: string): Promise<LazyTorchFile> {
  const { head, size } = readHead(path);
  let parsed: ParsedCheckpoint;
  if (head[0] === 0x50 && head[1] === 0x4b) {
    const zip = await ZipArchive.open(path, path);
    try {
      parsed = await parseZipCheckpoint(zip, path);
    } catch (err) {
      zip.close();
      throw err;
    }
  } else if (head[0] === 0x80 || head[0] === 0x4c || head[0] === 0x8a || head[0] === 0x49 || head[0] === 0x4a) {
    parsed = parseLegacy(readWhole(path, size), path);
  } else {
    const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new FormatError(
      path,
      `not a PyTorch checkpoint: neither a zip archive nor a pickle, it starts with bytes ${hex}`,
    );
  }
  // One storage cached: the tensors of a state dict saved together often share one (views, ties).
  let cached: { key: string; bytes: Uint8Array } | null = null;
  let closed = false;
  return {
    file: path,
    format: parsed.format,
    root: parsed.root,
    size,
    async load(ref, where) {
      const fail = (problem: string): never => {
        throw new FormatError(path, `tensor '${where}' (storage '${ref.storage.key}'): ${problem}`);
      };
      const key = ref.storage.key; // the root storage (a legacy view names its part in .view)
      const declared = parsed.storages.get(key)!;
      const nbytes = declared.numel * declared.dtype.itemSize;
      if (!Number.isSafeInteger(nbytes) || nbytes > size)
        fail(`its storage declares ${declared.numel} × ${declared.dtype.name} elements, more than the file holds`);
      if (cached?.key !== key) cached = { key, bytes: await parsed.loadStorage(key, nbytes) };
      let window = cached.bytes;
      const view = ref.storage.view;
      if (view) {
        const item = ref.storage.dtype.itemSize;
        if ((view.offset + view.numel) * item > window.length)
          fail(
            `its storage view covers elements ${view.offset}..${view.offset + view.numel} of a storage of ${window.length / item}`,
          );
        window = window.subarray(view.offset * item, (view.offset + view.numel) * item);
      }
      return materialise(ref, window, parsed.bigEndian, MAX_TENSOR_BYTES, fail);
    },
    close() {
      if (closed) return;
      closed = true;
      cached = null;
      parsed.close();
    },
  };
}

/** Every TensorRef directly under a dict (a state dict), with its key. */
export function tensorEntries(d: PyDict): [string, TensorRef][] {
  const out: [string, TensorRef][] = [];
  for (const [k, v] of d) if (typeof k === 'string' && v instanceof TensorRef) out.push([k, v]);
  return out;
}

/** A dict "is a state dict" when it is non-empty and every value is a tensor under a str key. */
export function isStateDict(v: PyValue | undefined): v is PyDict {
  if (!(v instanceof PyDict) || v.size === 0) return false;
  for (const [k, x] of v) if (typeof k !== 'string' || !(x instanceof TensorRef)) return false;
  return true;
}

/** A list or tuple's items, or null. */
export function listItems(v: PyValue | undefined): readonly PyValue[] | null {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  return null;
}

function readHead(path: string): { head: Uint8Array; size: number } {
  return withRegularFile(
    path,
    (fd, size) => {
      if (size === 0) throw new FormatError(path, 'the file is empty');
      const head = new Uint8Array(Math.min(16, size));
      readExactly(fd, head, 0, path);
      return { head, size };
    },
    { directoryHint: 'a directory of safetensors files is read with --layout transformer-lens' },
  );
}

function readWhole(path: string, size: number): Uint8Array {
  return withRegularFile(path, (fd) => {
    const bytes = new Uint8Array(size);
    readExactly(fd, bytes, 0, path);
    return bytes;
  });
}
