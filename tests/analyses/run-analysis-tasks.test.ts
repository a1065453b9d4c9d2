/**
 * analyze on tasks other than a+b: multiplication is analysed over Z_p^* with the zero-operand
 * pairs reported apart; a task without a cyclic group (S5) gets the passes that apply and a note.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lossAndAccuracy } from '../../analyses/metrics.ts';
import { forwardAll } from '../../analyses/forward.ts';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { startRun } from '../../src/run/session.ts';
import { loadRun } from '../../src/run/open.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-tasks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function tinyRun(name: string, sets: string[]): Promise<string> {
  const backend = await useBackend('wasm');
  const { config } = resolveConfig({
    sets: [...sets, 'training.steps=60', 'checkpoints.every=20', 'checkpoints.log_spaced=2'],
  });
  return (await startRun({ config, name, runsDir: root, preset: null, backend })).dir;
}

describe('analyze on other tasks', () => {
  it('x·y mod 7: the group of order 6, zero-operand pairs reported apart', async () => {
    const dir = await tinyRun('mul', [
      'task.op=mul',
      'task.p=7',
      'model.kind=mlp',
      'model.d_embed=8',
      'model.hidden=[16]',
    ]);
    const { analysis: a } = await analyzeRun(dir, { probeSize: 8 });
    expect(a.group.kind).toBe('multiplicative');
    expect(a.group.n).toBe(6);
    expect(a.checkpoints[0].fourier!.embed_norms).toHaveLength(4); // k = 0 … 3 (3 = Nyquist)
    const last = a.checkpoints.at(-1)!;
    expect(last.circuit!.outside_group!.n).toBe(2 * 7 - 1);
    // Oracle: the same loss from the model's logits on the pairs with a = 0 or b = 0.
    const { store, dataset, model } = loadRun(dir);
    const params = Object.fromEntries(
      Object.entries(store.readCheckpoint(last.step, model.specs)).map(([k, v]) => [k, v.data]),
    );
    const fw = forwardAll(model, params, dataset.tokens, dataset.n);
    const zero = Int32Array.from(
      [...Array(dataset.n).keys()].filter((i) => dataset.operands!.a[i] === 0 || dataset.operands!.b[i] === 0),
    );
    const o = lossAndAccuracy(fw.logits, fw.classes, dataset.labels, zero);
    expect(last.circuit!.outside_group!.loss).toBeCloseTo(o.loss, 5);
    expect(last.circuit!.outside_group!.acc).toBeCloseTo(o.acc, 9);
  }, 120_000);

  it('S5 composition: metrics, norms and NTK only, with a note saying why', async () => {
    const dir = await tinyRun('s5', [
      'task.kind=s5',
      'split.train_fraction=0.5',
      'model.kind=mlp',
      'model.d_embed=8',
      'model.hidden=[16]',
    ]);
    const { analysis: a } = await analyzeRun(dir, { probeSize: 8 });
    expect(a.group.kind).toBe('none');
    expect(a.options.passes).toEqual(['metrics', 'norms', 'ntk']);
    expect(a.checkpoints.every((c) => c.metrics && c.norms && c.ntk && !c.fourier && !c.circuit)).toBe(true);
    expect(a.summary.notes.join(' ')).toMatch(/fourier and circuit skipped/);
  }, 120_000);
});
