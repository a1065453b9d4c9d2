/**
 * torch.save's zip layout (torch ≥ 1.6), inside one top folder named after the file or 'archive':
 *
 *   <archive>/data.pkl       the saved object; persistent ids ('storage', storage_type, key,
 *                            location, numel) name the storages
 *   <archive>/data/<key>     each storage's bytes, numel × element size
 *   <archive>/byteorder      'little' or 'big' (absent before torch 2.1: little)
 *   <archive>/version, .data/… and others, which we do not need
 *
 * TorchScript archives (torch.jit.save) share the container but hold code; they are refused.
 */
import { FormatError } from '../errors.ts';
import { loadPickle } from './pickle.ts';
import { storageFromPersistentId, type StorageRef } from './torch-globals.ts';
import { CHECKPOINT_GLOBALS, type ParsedCheckpoint, type TorchReadOptions } from './torch-checkpoint.ts';
import { ZipArchive } from './torch-zip.ts';

export async function parseZipCheckpoint(
  zip: ZipArchive,
  file: string,
  options: TorchReadOptions = {},
): Promise<ParsedCheckpoint> {
  const fail = (problem: string): never => {
    throw new FormatError(file, problem);
  };
  const names = zip.names();
  if (names.length === 0) fail('the zip archive is empty (not a torch file)');
  const prefix = names[0].includes('/') ? names[0].slice(0, names[0].indexOf('/')) : '';
  if (!prefix) fail(`'${names[0]}' is not inside a folder, as every torch.save record is (not a torch file?)`);
  const record = (name: string) => `${prefix}/${name}`;
  if (zip.has(record('constants.pkl')) || names.some((n) => n.startsWith(record('code/')))) {
    fail(
      'this is a TorchScript archive (torch.jit.save), which holds code; groklens reads torch.save checkpoints only',
    );
  }
  if (!zip.has(record('data.pkl'))) fail(`the zip archive has no ${record('data.pkl')} (not a torch.save file?)`);

  let bigEndian = false;
  if (zip.has(record('byteorder'))) {
    const order = new TextDecoder().decode(await zip.read(record('byteorder'), 16)).trim();
    if (order !== 'little' && order !== 'big')
      fail(`${record('byteorder')} says '${order}', expected 'little' or 'big'`);
    bigEndian = order === 'big';
  }

  const storages = new Map<string, StorageRef>();
  const pickle = await zip.read(record('data.pkl'));
  const { value } = loadPickle(pickle, 0, {
    file,
    where: record('data.pkl'),
    globals: CHECKPOINT_GLOBALS,
    persistentLoad: (pid) => storageFromPersistentId(pid, storages),
    limits: options.pickleLimits,
  });

  return {
    format: 'zip',
    root: value,
    storages,
    bigEndian,
    async loadStorage(key, bytes) {
      const name = record(`data/${key}`);
      const size = zip.size(name);
      if (size === undefined) fail(`storage '${key}' is missing: the archive has no record ${name}`);
      if (size !== bytes) fail(`storage '${key}' (${name}) has ${size} bytes, but its persistent id declares ${bytes}`);
      return zip.read(name, bytes);
    },
    close: () => zip.close(),
  };
}
