/**
 * Hand-built safetensors bytes, independent of src/io: an 8-byte little-endian length, the header
 * exactly as given (no padding unless the caller adds it), then the data. Used as the oracle for
 * layout tests and to make corrupt files.
 */
export function buildFile(
  header: string | object | Uint8Array,
  data: ArrayLike<number> = [],
  headerLength?: bigint,
): Uint8Array {
  const hb =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(Array.from(data), 8 + hb.length);
  return out;
}

/** Little-endian bytes of float32 values, through DataView (not the platform's byte order). */
export function f32le(...xs: number[]): number[] {
  const dv = new DataView(new ArrayBuffer(4 * xs.length));
  xs.forEach((x, i) => dv.setFloat32(4 * i, x, true));
  return Array.from(new Uint8Array(dv.buffer));
}
