/**
 * The zip container of torch.save (torch ≥ 1.6): `<archive>/data.pkl` (the pickled object, whose
 * persistent ids name storages), `<archive>/data/<key>` (each storage's raw bytes, stored
 * uncompressed), `<archive>/version`, and in newer versions `<archive>/byteorder`. The central
 * directory and each record are read with positioned reads (yauzl), so a file is never loaded
 * whole: only data.pkl, then one storage at a time. ZIP64 (files and records over 4 GiB) works.
 */
import yauzl from 'yauzl';
import { constants as bufferConstants } from 'node:buffer';
import { FormatError } from '../errors.ts';

/** Entries of a zip archive, each readable into memory once its declared size has been checked. */
export class ZipArchive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    readonly file: string,
  ) {}

  static async open(source: string | Uint8Array, file: string): Promise<ZipArchive> {
    const options: yauzl.Options = {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
      strictFileNames: false,
      decodeStrings: true,
    };
    let zip: yauzl.ZipFile;
    try {
      zip =
        typeof source === 'string'
          ? await yauzl.openPromise(source, options)
          : await yauzl.fromBufferPromise(Buffer.from(source.buffer, source.byteOffset, source.byteLength), options);
    } catch (err) {
      throw zipError(file, err);
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      // Every central directory record takes at least 46 bytes, so entryCount is bounded by the file size.
      if (zip.entryCount * 46 > zip.fileSize)
        throw new FormatError(file, `the zip directory claims ${zip.entryCount} entries, more than the file can hold`);
      for await (const entry of zip.eachEntry()) {
        if (entries.has(entry.fileName))
          throw new FormatError(file, `the zip archive has two entries named '${entry.fileName}'`);
        entries.set(entry.fileName, entry);
      }
    } catch (err) {
      zip.close();
      throw err instanceof FormatError ? err : zipError(file, err);
    }
    return new ZipArchive(zip, entries, file);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The uncompressed size of an entry, or undefined if there is none of that name. */
  size(name: string): number | undefined {
    return this.entries.get(name)?.uncompressedSize;
  }

  /** An entry's bytes. Its size is checked against the archive (and `maxBytes`) before allocating. */
  async read(name: string, maxBytes = bufferConstants.MAX_LENGTH): Promise<Uint8Array> {
    const entry = this.entries.get(name);
    if (!entry) throw new FormatError(this.file, `the zip archive has no entry '${name}'`);
    const fail = (problem: string): never => {
      throw new FormatError(this.file, `zip entry '${name}': ${problem}`);
    };
    if (entry.isEncrypted()) fail('is encrypted');
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
      fail(`uses compression method ${entry.compressionMethod} (only stored and deflate are read)`);
    const size = entry.uncompressedSize;
    // Deflate cannot expand more than ~1032:1, so a larger claim is a lie, not a big tensor.
    if (entry.compressionMethod === 8 && size > entry.compressedSize * 1032 + 1024)
      fail(`claims ${size} bytes from ${entry.compressedSize} compressed ones`);
    if (entry.compressedSize > this.zip.fileSize)
      fail(`claims ${entry.compressedSize} bytes, more than the whole file (${this.zip.fileSize})`);
    if (size > maxBytes) fail(`has ${size} bytes, more than the ${maxBytes} that can be loaded`);
    const out = new Uint8Array(size);
    let filled = 0;
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (filled + chunk.length > size) fail(`holds more than the ${size} bytes its header declares`);
        out.set(chunk, filled);
        filled += chunk.length;
      }
    } catch (err) {
      throw err instanceof FormatError ? err : new FormatError(this.file, `zip entry '${name}': ${messageOf(err)}`);
    }
    if (filled !== size) fail(`holds ${filled} bytes but its header declares ${size}`);
    return out;
  }

  close(): void {
    this.zip.close();
  }
}

function zipError(file: string, err: unknown): FormatError {
  return new FormatError(file, `not a readable zip archive (${messageOf(err)})`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
