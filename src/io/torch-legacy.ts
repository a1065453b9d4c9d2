/**
 * The legacy torch.save format (torch < 1.6, or `_use_new_zipfile_serialization=False`): five
 * pickles back to back, then the storages.
 *
 *   pickle 1: the magic number 0x1950a86a20f9469cfc6c
 *   pickle 2: the protocol version, 1001
 *   pickle 3: sys_info, {protocol_version, little_endian, type_sizes}
 *   pickle 4: the saved object; persistent ids ('storage', storage_type, root_key, location,
 *             numel, view_metadata) with view_metadata None or (view_key, offset, size)
 *   pickle 5: the list of root storage keys, in the order their data follows
 *   then per key: its element count (int64, in the byte order sys_info names) and its raw bytes.
 *
 * The whole file is in memory (legacy files are small by modern standards); storages are views of it.
 */
import { FormatError } from '../errors.ts';
import { loadPickle, allowlist, PyDict, typeName, type PyValue } from './pickle.ts';
import { storageFromPersistentId, type StorageRef } from './torch-globals.ts';
import { CHECKPOINT_GLOBALS, type ParsedCheckpoint, type TorchReadOptions } from './torch-checkpoint.ts';

export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export function parseLegacy(bytes: Uint8Array, file: string, options: TorchReadOptions = {}): ParsedCheckpoint {
  const fail = (problem: string): never => {
    throw new FormatError(file, `legacy torch file: ${problem}`);
  };
  const limits = options.pickleLimits;
  const none = allowlist();
  const magic = loadPickle(bytes, 0, { file, where: 'pickle 1 (magic number)', globals: none, limits });
  if (magic.value !== LEGACY_MAGIC)
    fail(`the magic number is ${describe(magic.value)}, expected 0x${LEGACY_MAGIC.toString(16)} (not a torch file?)`);
  const version = loadPickle(bytes, magic.end, { file, where: 'pickle 2 (protocol version)', globals: none, limits });
  if (version.value !== LEGACY_PROTOCOL)
    fail(`protocol version ${describe(version.value)}, expected ${LEGACY_PROTOCOL}`);
  const sysInfo = loadPickle(bytes, version.end, { file, where: 'pickle 3 (system info)', globals: none, limits });
  if (!(sysInfo.value instanceof PyDict)) fail(`the system info is a ${typeName(sysInfo.value)}, expected a dict`);
  const little = (sysInfo.value as PyDict).get('little_endian') ?? true;
  if (typeof little !== 'boolean') fail(`sys_info little_endian is a ${typeName(little)}, expected a bool`);

  const storages = new Map<string, StorageRef>();
  const main = loadPickle(bytes, sysInfo.end, {
    file,
    where: 'pickle 4 (the saved object)',
    globals: CHECKPOINT_GLOBALS,
    persistentLoad: (pid) => storageFromPersistentId(pid, storages),
    limits,
  });
  const keysPickle = loadPickle(bytes, main.end, { file, where: 'pickle 5 (storage keys)', globals: none, limits });
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || !keys.every((k): k is string => typeof k === 'string'))
    fail('the storage key list is not a list of str');

  // Locate every storage's bytes; each is preceded by its element count.
  const located = new Map<string, Uint8Array>();
  let pos = keysPickle.end;
  for (const key of keys as string[]) {
    const declared = storages.get(key);
    if (!declared) fail(`storage '${key}' has data but no tensor refers to it`);
    if (located.has(key)) fail(`storage '${key}' is listed twice`);
    if (bytes.length - pos < 8)
      fail(`the file ends at byte ${bytes.length}, inside the header of storage '${key}' (truncated file?)`);
    const count = new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getBigInt64(0, little as boolean);
    if (count !== BigInt(declared!.numel))
      fail(`storage '${key}' holds ${count} elements but the pickle declares ${declared!.numel}`);
    const n = declared!.numel * declared!.dtype.itemSize;
    pos += 8;
    if (n > bytes.length - pos)
      fail(`storage '${key}' needs ${n} bytes from byte ${pos} but the file ends at ${bytes.length} (truncated file?)`);
    located.set(key, bytes.subarray(pos, pos + n));
    pos += n;
  }
  if (pos !== bytes.length) fail(`${bytes.length - pos} unexpected bytes after the last storage, from byte ${pos}`);
  for (const key of storages.keys())
    if (!located.has(key)) fail(`storage '${key}' is used by a tensor but missing from the file`);

  return {
    format: 'legacy',
    root: main.value,
    storages,
    bigEndian: !little,
    async loadStorage(key, n) {
      const data = located.get(key)!;
      if (data.length !== n) fail(`storage '${key}' has ${data.length} bytes, expected ${n}`);
      return data;
    },
    close() {},
  };
}

function describe(v: PyValue): string {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : typeof v === 'number' ? String(v) : `a ${typeName(v)}`;
}
