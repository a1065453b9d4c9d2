/**
 * What each container format (torch-zip-format.ts, torch-legacy.ts) hands to the tensor resolver:
 * the pickled tree with TensorRefs in it, the storages its persistent ids declared, and a way to
 * read one storage's bytes.
 */
import { allowlist, PYTHON_GLOBALS, type PickleGlobals, type PickleLimits, type PyValue } from './pickle.ts';
import { TORCH_GLOBALS, type StorageRef } from './torch-globals.ts';
import { TRANSFORMER_LENS_GLOBALS } from './tl-config-global.ts';

export interface ParsedCheckpoint {
  format: 'zip' | 'legacy';
  root: PyValue; // tensors are TensorRefs
  storages: ReadonlyMap<string, StorageRef>; // by key, as the persistent ids declared them
  bigEndian: boolean; // storages were written big-endian (rare: byteorder 'big', or a legacy file's sys_info)
  /** The bytes of root storage `key`; the caller passes its declared size, checked against the file. */
  loadStorage(key: string, bytes: number): Promise<Uint8Array>;
  close(): void;
}

/** The globals a checkpoint's pickle may use: Python's plain containers, torch's tensor machinery, TL's config as data. */
export const CHECKPOINT_GLOBALS: PickleGlobals = allowlist(PYTHON_GLOBALS, TORCH_GLOBALS, TRANSFORMER_LENS_GLOBALS);

export interface TorchReadOptions {
  /** Caps on the pickle machine (see PickleLimits). */
  pickleLimits?: Partial<PickleLimits>;
  /** The largest single tensor copied out, in bytes (default 4 GiB). */
  maxTensorBytes?: number;
  /**
   * The most bytes copied out for all tensors together (default: twice the file size plus 256 MiB).
   * Views can address the same storage many times over; this stops a small file from asking for
   * unbounded memory.
   */
  maxTotalBytes?: number;
}
