/**
 * `inspect` on a file with very many tensors (issue 14, defect 9): 130k tensors used to overflow
 * the call stack in a Math.max spread over the column widths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatInspect } from '../../src/io/inspect.ts';
import { readSafetensorsHeader, writeSafetensors } from '../../src/io/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'groklens-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inspect', () => {
  it('lists 130,000 tensors and as many metadata keys without overflowing the stack', () => {
    const N = 130_000;
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    const one = new Float32Array([1]);
    for (let i = 0; i < N; i++) tensors[`t${i}`] = { dtype: 'F32', shape: [1], data: one };
    const metadata: Record<string, string> = {};
    for (let i = 0; i < N; i++) metadata[`k${i}`] = 'v';
    const file = join(dir, 'many.safetensors');
    writeSafetensors(file, tensors, metadata);
    const text = formatInspect(readSafetensorsHeader(file), file);
    expect(text).toContain('130000 tensors, 130,000 parameters');
    expect(text).toContain('t129999');
    expect(text).toContain('k129999');
  });
});

describe('inspect output', () => {
  it('escapes C1 controls and bidirectional overrides in names and metadata, so a file cannot drive the terminal', () => {
    const file = join(dir, 'c1.safetensors');
    writeSafetensors(
      file,
      { 'a\u009bb': { dtype: 'F32', shape: [1], data: new Float32Array([1]) } },
      { note: '\u009b31mred\u202e', plain: 'ok' },
    );
    const text = formatInspect(readSafetensorsHeader(file), file);
    expect(text).not.toMatch(/[\u0080-\u009f\u202e]/);
    expect(text).toContain('"a\\u009bb"');
    expect(text).toContain('"\\u009b31mred\\u202e"');
    expect(text).toMatch(/plain\s+ok/);
  });
});
