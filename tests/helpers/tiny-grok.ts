/**
 * A real run small enough for the test suite that still groks: a+b mod 31, 50 % train, an MLP
 * (d_embed 32, one hidden layer of 128), AdamW lr 1e-2, wd 1, full batch.
 * It memorises within ~50 steps and generalises around step 1,700 (about 10 s on one core).
 * Trained once per test file into a temporary directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { startRun, type SessionResult } from '../../src/run/session.ts';

export const TINY_GROK_SETS = [
  'task.p=31',
  'split.train_fraction=0.5',
  'model.kind=mlp',
  'model.d_embed=32',
  'model.hidden=[128]',
  'optimizer.lr=0.01',
  'optimizer.weight_decay=1',
  'training.steps=4000',
  'training.early_stop_after_grok=300',
  'training.eval_every=20',
  'checkpoints.every=50',
  'checkpoints.log_spaced=10',
];

export async function trainTinyGrok(name = 'tiny-grok'): Promise<SessionResult> {
  const backend = await useBackend('wasm');
  const { config } = resolveConfig({ sets: TINY_GROK_SETS });
  const runsDir = mkdtempSync(join(tmpdir(), 'groklens-tiny-'));
  return startRun({ config, name, runsDir, preset: null, backend });
}
