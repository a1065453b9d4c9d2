/**
 * A real run directory small enough to copy hundreds of times: a+b mod 11, a 1-layer transformer
 * (d_model 16, 2 heads × 8, d_mlp 32), 20 steps with a checkpoint every 5 (steps 0, 5, 10, 15,
 * 20), trained by the real loop and analysed once, so that every file of a run — run.json,
 * status.json, split.json, metrics.jsonl, checkpoints, resume.safetensors, analysis.json — exists.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { startRun } from '../../src/run/session.ts';

export const SMALL_RUN_SETS = [
  'task.p=11',
  'split.train_fraction=0.5',
  'model.d_model=16',
  'model.n_heads=2',
  'model.d_head=8',
  'model.d_mlp=32',
  'optimizer.lr=0.01',
  'training.steps=20',
  'training.eval_every=5',
  'checkpoints.every=5',
  'checkpoints.log_spaced=0',
];

export interface SmallRun {
  root: string; // a temporary directory holding the pristine run and its copies
  dir: string; // the pristine run directory
  /** A fresh copy of the pristine run under `root`; returns its directory. */
  copy(name: string): string;
}

/** Train and analyse the small run once (a second or two), in a new temporary directory. */
export async function smallRun(opts: { analyse?: boolean; sets?: string[] } = {}): Promise<SmallRun> {
  const backend = await useBackend('wasm');
  const root = mkdtempSync(join(tmpdir(), 'groklens-small-'));
  const { config } = resolveConfig({ sets: [...SMALL_RUN_SETS, ...(opts.sets ?? [])] });
  const { dir } = await startRun({ config, name: 'pristine', runsDir: root, preset: null, backend });
  if (opts.analyse !== false) await analyzeRun(dir, { probeSize: 16 });
  return {
    root,
    dir,
    copy(name: string): string {
      const to = join(root, name);
      cpSync(dir, to, { recursive: true });
      return to;
    },
  };
}
