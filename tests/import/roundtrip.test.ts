/**
 * Export → import is the identity, and an imported run is analysed exactly as a native one
 * (issue 12, "Done means"): a groklens run exported as TransformerLens safetensors and imported
 * back has bit-identical checkpoints, the same split, and an analysis.json whose per-checkpoint
 * results and transition summary equal the native run's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { useBackend } from '../../src/backend/index.ts';
import { exportRun } from '../../cli/commands/export.ts';
import { importRun } from '../../cli/commands/import.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { startRun } from '../../src/run/session.ts';
import { loadRun } from '../../src/run/open.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-roundtrip-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

for (const attnBias of [false, true]) {
  describe(`export → import (attn_bias ${attnBias})`, () => {
    let native = '';
    let imported = '';
    beforeAll(async () => {
      const backend = await useBackend('wasm');
      const { config } = resolveConfig({
        sets: [
          'task.p=11',
          'split.train_fraction=0.5',
          'model.d_model=16',
          'model.n_heads=2',
          'model.d_head=8',
          'model.d_mlp=32',
          `model.attn_bias=${attnBias}`,
          'optimizer.lr=0.01',
          'training.steps=60',
          'training.eval_every=20',
          'checkpoints.every=20',
          'checkpoints.log_spaced=0',
        ],
      });
      native = (await startRun({ config, name: `native-${attnBias}`, runsDir: root, preset: null, backend })).dir;
      const exported = exportRun(native, { format: 'transformer-lens', output: join(root, `tl-${attnBias}`) });
      imported = (
        await importRun([exported.dir], {
          name: `imported-${attnBias}`,
          runsDir: root,
          task: 'add',
          trainFraction: '0.5',
          splitSeed: '0',
          splitMode: 'python-random',
          seed: '0',
          quiet: true,
        })
      ).dir;
    });

    it('gives back the same checkpoints, bit for bit, the same split and the same model', () => {
      const a = loadRun(native);
      const b = loadRun(imported);
      expect(b.store.checkpointSteps()).toEqual(a.store.checkpointSteps());
      expect(b.config.model).toEqual(a.config.model);
      expect(Array.from(b.split.train)).toEqual(Array.from(a.split.train));
      for (const step of a.store.checkpointSteps()) {
        const x = a.store.readCheckpoint(step, a.model.specs);
        const y = b.store.readCheckpoint(step, b.model.specs);
        for (const name of Object.keys(x))
          expect(Buffer.from(y[name].data.buffer).equals(Buffer.from(x[name].data.buffer)), `${name} at ${step}`).toBe(
            true,
          );
      }
      expect(b.meta.imported_from?.layout).toBe('transformer-lens');
    });

    it('is analysed exactly as the native run', async () => {
      const passes = ['metrics', 'fourier', 'circuit', 'norms', 'ntk'] as const;
      const a = (await analyzeRun(native, { passes: [...passes] })).analysis;
      const b = (await analyzeRun(imported, { passes: [...passes] })).analysis;
      expect(b.key_frequencies).toEqual(a.key_frequencies);
      expect(b.options.probe).toEqual(a.options.probe);
      expect(b.checkpoints.map(({ file: _f, ...r }) => r)).toEqual(a.checkpoints.map(({ file: _f, ...r }) => r));
      const { notes: _na, ...sa } = a.summary;
      const { notes: _nb, ...sb } = b.summary;
      expect(sb).toEqual(sa);
    });
  });
}
