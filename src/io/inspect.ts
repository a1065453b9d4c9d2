/**
 * The listing `groklens inspect FILE` prints: one row per tensor (name, dtype, shape, parameter
 * count, bytes), totals, then the metadata. Built from the header alone, so it is cheap on any file.
 * Plain text, no colours, digits grouped by hand (toLocaleString would depend on the machine).
 */
import { dtypeSize } from './dtypes.ts';
import type { SafetensorsHeader } from './safetensors-header.ts';

export function formatInspect(header: SafetensorsHeader, file: string): string {
  const rows = header.entries.map((e) => {
    const params = e.shape.reduce((a, b) => a * b, 1);
    return {
      name: e.name,
      dtype: e.dtype,
      shape: `[${e.shape.join(', ')}]`,
      params,
      bytes: params * dtypeSize(e.dtype),
    };
  });
  const totalParams = rows.reduce((a, r) => a + r.params, 0);
  const totalBytes = rows.reduce((a, r) => a + r.bytes, 0);
  const n = rows.length;

  const lines: string[] = [
    file,
    `${n} tensor${n === 1 ? '' : 's'}, ${group(totalParams)} parameters, ${group(totalBytes)} bytes of tensor data, ` +
      `${group(header.headerLength)}-byte header`,
    '',
  ];
  if (n > 0) {
    const table = [
      ['name', 'dtype', 'shape', 'params', 'bytes'],
      ...rows.map((r) => [printable(r.name), r.dtype, r.shape, group(r.params), group(r.bytes)]),
      ['total', '', '', group(totalParams), group(totalBytes)],
    ];
    // a reduce, not Math.max(...): a spread of 130k lengths overflows the call stack
    const widths = table[0].map((_, c) => table.reduce((w, row) => Math.max(w, row[c].length), 0));
    const rightAligned = [false, false, false, true, true];
    for (const row of table) {
      const cells = row.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])));
      lines.push(cells.join('  ').trimEnd());
    }
    lines.push('');
  }
  const keys = Object.keys(header.metadata).sort();
  if (keys.length === 0) {
    lines.push('metadata: none');
  } else {
    lines.push('metadata:');
    const width = keys.reduce((w, k) => Math.max(w, printable(k).length), 0);
    for (const k of keys) lines.push(`  ${printable(k).padEnd(width)}  ${printable(header.metadata[k])}`);
  }
  return lines.join('\n') + '\n';
}

/** 1234567 → "1,234,567". */
function group(x: number): string {
  return String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Strings from a file may hold newlines or control characters: show those quoted and escaped. */
/**
 * A name or value as it can be shown on a terminal: quoted and escaped when it holds a control
 * character — C0, DEL, C1 (U+0080–U+009F, which some terminals read as escape sequences), or the
 * bidirectional overrides that could make text display out of order.
 */
function printable(s: string): string {
  if (s !== '' && !UNSAFE.test(s)) return s;
  return JSON.stringify(s).replace(UNSAFE_G, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_G = new RegExp(UNSAFE.source, 'g');
