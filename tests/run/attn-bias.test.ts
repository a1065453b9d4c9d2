/**
 * model.attn_bias (issue 13). Without it (the default, Nanda et al.'s model) the attention biases
 * are written as zeros in every checkpoint and are never updated, decayed or given optimiser
 * slots; with it they train like any other tensor. Runs of format version 1, written before the
 * option existed, trained their biases and read back as attn_bias = true, with a note saying so.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { useBackend, type BackendInfo } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { resumeRun, startRun } from '../../src/run/session.ts';
import { loadRun } from '../../src/run/open.ts';
import { RunStore } from '../../src/run/store.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-attn-bias-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let backend: BackendInfo;
beforeAll(async () => {
  backend = await useBackend('wasm');
});

const BIASES = ['blocks.0.attn.b_Q', 'blocks.0.attn.b_K', 'blocks.0.attn.b_V', 'blocks.0.attn.b_O'];
// Large SGD steps (but not divergent) with decoupled weight decay: every trained tensor moves visibly in a few steps.
const SETS = [
  'task.p=7',
  'split.train_fraction=0.5',
  'model.d_model=8',
  'model.n_heads=2',
  'model.d_head=4',
  'model.d_mlp=16',
  'optimizer.kind=sgd',
  'optimizer.lr=0.2',
  'optimizer.momentum=0.5',
  'optimizer.weight_decay=0.1',
  'optimizer.warmup_steps=0',
  'training.steps=12',
  'training.eval_every=4',
  'checkpoints.every=1',
  'checkpoints.log_spaced=0',
];

async function run(name: string, extra: string[] = []) {
  const { config } = resolveConfig({ sets: [...SETS, ...extra] });
  return startRun({ config, name, runsDir: root, preset: null, backend });
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('model.attn_bias', () => {
  it('default: the biases are exactly zero at every checkpoint while the rest trains; no optimiser slots for them', async () => {
    const res = await run('spec');
    const { store, meta, model } = loadRun(res.dir);
    expect(meta.config.model).toMatchObject({ kind: 'transformer', attn_bias: false });
    expect(meta.format_version).toBe(2);
    expect(meta.params.filter((p) => p.frozen).map((p) => p.name)).toEqual(BIASES);
    expect(meta.n_params).toBe(
      meta.params.filter((p) => !p.frozen).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0),
    );
    const steps = store.checkpointSteps();
    expect(steps).toEqual(Array.from({ length: 13 }, (_, i) => i));
    const first = store.readCheckpoint(0, model.specs);
    for (const step of steps) {
      const ck = store.readCheckpoint(step, model.specs);
      for (const b of BIASES) expect(maxAbs(ck[b].data), `${b} at step ${step}`).toBe(0);
      if (step > 1)
        expect(
          maxAbs(ck['blocks.0.attn.W_Q'].data.map((v, i) => v - first['blocks.0.attn.W_Q'].data[i])),
        ).toBeGreaterThan(1e-3);
    }
    const resume = readSafetensors(store.path('resume.safetensors')).tensors;
    for (const b of BIASES) {
      expect(resume[`param.${b}`]).toBeDefined();
      expect(resume[`optim.momentum_buffer.${b}`], `no slot for ${b}`).toBeUndefined();
    }
    expect(resume['optim.momentum_buffer.blocks.0.attn.W_Q']).toBeDefined();
  });

  it('attn_bias = true: the same run trains the biases (the check above has teeth)', async () => {
    const res = await run('tl', ['model.attn_bias=true']);
    const { store, model, meta } = loadRun(res.dir);
    expect(meta.params.some((p) => p.frozen)).toBe(false);
    const last = store.readCheckpoint(12, model.specs);
    // b_K adds q·b_K to every key's score alike, which the softmax ignores: its gradient is 0.
    for (const b of BIASES.filter((n) => !n.endsWith('b_K'))) expect(maxAbs(last[b].data), b).toBeGreaterThan(1e-3);
  });

  it('reads a format-1 run as attn_bias = true, says so, and resumes it with trained biases', async () => {
    const res = await run('old', ['model.attn_bias=true', 'training.steps=12']);
    const file = join(res.dir, 'run.json');
    // Make it what groklens 0.1 wrote: version 1, no attn_bias key, no frozen marks.
    const v1 = JSON.parse(readFileSync(file, 'utf8'));
    v1.format_version = 1;
    delete v1.config.model.attn_bias;
    writeFileSync(file, JSON.stringify(v1, null, 2));
    const status = JSON.parse(readFileSync(join(res.dir, 'status.json'), 'utf8'));
    writeFileSync(join(res.dir, 'status.json'), JSON.stringify({ ...status, state: 'interrupted', final_step: null }));
    const meta = RunStore.open(res.dir).meta();
    expect(meta.config.model).toMatchObject({ attn_bias: true });
    expect(meta.notes?.join(' ')).toMatch(/format version 1.*attn_bias = true/);
    expect(JSON.parse(readFileSync(file, 'utf8')).config.model.attn_bias).toBeUndefined(); // the file is left alone

    const analysis = await analyzeRun(res.dir, { passes: ['metrics'] });
    expect(analysis.analysis.summary.notes.join(' ')).toMatch(/format version 1/);
    expect(analysis.analysis.run.model).toMatch(/trained attention biases/);

    // Resuming needs the bias slots the old run has: it must train them, as it did before.
    const logs: string[] = [];
    writeFileSync(
      join(res.dir, 'status.json'),
      JSON.stringify({ ...status, state: 'interrupted', final_step: null, step: 12 }),
    );
    await expect(resumeRun({ dir: res.dir, backend, hooks: { log: (l) => logs.push(l) } })).resolves.toBeDefined();
    expect(logs.join('\n')).toMatch(/note: run\.json is format version 1/);
  });

  it('rejects a non-boolean attn_bias naming the key', () => {
    expect(() => resolveConfig({ sets: ['model.attn_bias=1'] })).toThrow(/model\.attn_bias.*expected true or false/);
  });
});
