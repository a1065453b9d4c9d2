/**
 * groklens import: every layout, from committed fixtures (no torch needed) and, where Debian's
 * torch is installed, from files the real torch.save writes at test time. The oracle: tiny models
 * trained in PyTorch by make_import_fixtures.py, whose logits over all p² inputs at each saved
 * checkpoint our forward pass must reproduce to 1e-5 after import.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardAll } from '../../analyses/forward.ts';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { useBackend } from '../../src/backend/index.ts';
import { importRun, type ImportCliOptions } from '../../cli/commands/import.ts';
import { compareCommand } from '../../cli/commands/compare.ts';
import { writeRunReport } from '../../cli/commands/report.ts';
import { UnsafeGlobalError } from '../../src/io/pickle.ts';
import { resumeRun } from '../../src/run/session.ts';
import { loadRun } from '../../src/run/open.ts';

const COMMITTED = join(import.meta.dirname, '../../fixtures/import');
const HOSTILE = join(import.meta.dirname, '../../fixtures/torch');
const root = mkdtempSync(join(tmpdir(), 'groklens-import-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch)
  console.warn(
    'tests/import: /usr/bin/python3 has no torch (apt-get install python3-torch): the live-torch fixtures are skipped, the committed ones still run',
  );

type Expected = Record<
  string,
  { steps: Record<string, number[]>; train?: number[]; train_losses?: number[]; test_losses?: number[] }
>;

let n = 0;
async function imp(sources: string[], o: Partial<ImportCliOptions> = {}) {
  return importRun(sources, { name: `run-${n++}`, runsDir: root, set: [], ...o });
}

/** Max |groklens logits − PyTorch logits| over every imported checkpoint the oracle lists. */
function worstLogitError(dir: string, oracle: Record<string, number[]>): number {
  const { store, model, dataset } = loadRun(dir);
  const steps = store.checkpointSteps();
  expect(steps.map(String).sort()).toEqual(Object.keys(oracle).sort());
  let worst = 0;
  for (const step of steps) {
    const params = Object.fromEntries(
      Object.entries(store.readCheckpoint(step, model.specs)).map(([k, t]) => [k, t.data]),
    );
    const { logits } = forwardAll(model, params, dataset.tokens, dataset.n);
    const want = oracle[String(step)];
    expect(logits.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(logits[i] - want[i]));
  }
  return worst;
}

const SPLIT = { trainFraction: '0.5', splitSeed: '0' };

function layoutSuite(label: string, dirOf: () => string) {
  describe(`${label}: imported checkpoints reproduce PyTorch's logits`, () => {
    let expected: Expected;
    const file = (name: string) => join(dirOf(), name);
    beforeAll(async () => {
      await useBackend('wasm');
      expected = JSON.parse(readFileSync(file('expected.json'), 'utf8'));
    });

    it("nanda: their run file, cuda:0 storages, transposed weights, '=' column dropped, their split", async () => {
      for (const name of ['nanda-run.pt', 'nanda-run-legacy.pt']) {
        const r = await imp([file(name)]);
        expect(r.meta.imported_from!.layout).toBe('nanda');
        expect(r.meta.config.model).toMatchObject({
          d_model: 16,
          n_heads: 2,
          d_head: 8,
          d_mlp: 32,
          attn_bias: false,
          act: 'relu',
        });
        expect(r.meta.imported_from!.conversions).toContain(
          "unembed.W_U: dropped the '=' column (d_vocab_out p+1 → p)",
        );
        expect(worstLogitError(r.dir, expected.nanda.steps)).toBeLessThan(1e-5);
        const { store } = loadRun(r.dir);
        expect(Array.from(store.split().train)).toEqual(expected.nanda.train);
        const rows = readFileSync(store.path('metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(rows.filter((x) => x.train_loss !== null).map((x) => x.train_loss)).toEqual(expected.nanda.train_losses);
        expect(rows.filter((x) => x.sq_norm !== null).map((x) => x.step)).toEqual([0, 1, 11, 21, 31]); // ‖θ‖² of each imported checkpoint
        expect(rows.every((x) => x.imported === true && x.train_acc === null)).toBe(true);
        expect(store.status()).toMatchObject({ state: 'finished', final_step: 31 });
        expect(existsSync(store.path('resume.safetensors'))).toBe(false);
      }
    });

    it('tl-demo: HookedTransformerConfig read as data, split from train_indices, attention biases kept', async () => {
      const r = await imp([file('tl-demo.pt')], { task: 'add' });
      expect(r.meta.imported_from!.layout).toBe('tl-demo');
      expect(r.meta.config.model).toMatchObject({ attn_bias: true });
      expect(r.steps).toEqual([10, 20, 30]);
      expect(worstLogitError(r.dir, expected['tl-demo'].steps)).toBeLessThan(1e-5);
      const { store } = loadRun(r.dir);
      expect(Array.from(store.split().train)).toEqual(expected['tl-demo'].train);
      const rows = store.metrics() as unknown as {
        step: number;
        train_loss: number | null;
        test_loss: number | null;
      }[];
      expect(rows.find((x) => x.step === 5)).toMatchObject({
        train_loss: expected['tl-demo'].train_losses![5],
        test_loss: expected['tl-demo'].test_losses![4],
      });
    });

    it('transformer-lens: a state dict (non-contiguous view, shared storage), float64, float16, a safetensors directory', async () => {
      const one = { task: 'add', step: '30', ...SPLIT };
      const sd = await imp([file('tl-state-dict.pt')], one);
      expect(sd.meta.imported_from!.conversions).toContain(
        'dropped the buffers blocks.L.attn.mask, blocks.L.attn.IGNORE (not weights)',
      );
      expect(worstLogitError(sd.dir, expected['tl-state-dict'].steps)).toBeLessThan(1e-5);
      const f64 = await imp([file('tl-f64.pt')], one);
      expect(f64.meta.imported_from!.conversions).toContain('float64 → float32 (rounded to nearest)');
      expect(worstLogitError(f64.dir, expected['tl-state-dict'].steps)).toBeLessThan(1e-5);
      const f16 = await imp([file('tl-f16.pt')], one);
      expect(f16.meta.imported_from!.conversions).toContain('float16 → float32 (exact)');
      expect(worstLogitError(f16.dir, expected['tl-f16'].steps)).toBeLessThan(1e-5);
      const dir = await imp([file('tl-safetensors')], { task: 'add', ...SPLIT });
      expect(dir.meta.imported_from!.sources).toHaveLength(3);
      expect(worstLogitError(dir.dir, expected['tl-safetensors'].steps)).toBeLessThan(1e-5);
    });
  });
}

layoutSuite('committed fixtures', () => COMMITTED);
let live = '';
if (hasTorch) {
  beforeAll(() => {
    live = mkdtempSync(join(tmpdir(), 'groklens-import-live-'));
    const r = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'make_import_fixtures.py'), live], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`make_import_fixtures.py failed: ${r.stderr}`);
  }, 120_000);
  afterAll(() => live && rmSync(live, { recursive: true, force: true }));
  layoutSuite('torch.save at test time', () => live);
} else describe.skip('torch.save at test time (no torch)', () => it('skipped', () => {}));

describe('an imported run is an ordinary run', () => {
  it('analyze and report work on it; train --resume refuses it', async () => {
    const backend = await useBackend('wasm');
    const r = await imp([join(COMMITTED, 'nanda-run.pt')]);
    const { analysis } = await analyzeRun(r.dir, { probeSize: 8 });
    expect(analysis.checkpoints.map((c) => c.step)).toEqual([0, 1, 11, 21, 31]);
    expect(analysis.checkpoints.at(-1)!.norms).toBeDefined();
    const html = writeRunReport(r.dir);
    expect(readFileSync(html, 'utf8')).toContain('<html');
    const demo = await imp([join(COMMITTED, 'tl-demo.pt')], { task: 'add' });
    const a2 = (await analyzeRun(demo.dir, { probeSize: 8 })).analysis;
    expect(a2.summary.notes.join(' ')).not.toContain('no checkpoint has the metrics pass'); // ‖θ‖² logged on import stands in for the norms pass
    const out = join(root, 'compare.html');
    await compareCommand([r.dir, demo.dir], { output: out });
    expect(readFileSync(out, 'utf8')).toContain('<html');
    await expect(resumeRun({ dir: r.dir, backend })).rejects.toThrow(/imported .* cannot be resumed/);
  });
});

describe('errors are one line naming what is wrong', () => {
  it('a missing piece names the option that supplies it', async () => {
    await expect(imp([join(COMMITTED, 'tl-demo.pt')])).rejects.toThrow(/--task/);
    await expect(imp([join(COMMITTED, 'tl-state-dict.pt')], { task: 'add' })).rejects.toThrow(/--step/);
    await expect(imp([join(COMMITTED, 'tl-state-dict.pt')], { task: 'add', step: '3' })).rejects.toThrow(
      /--train-indices FILE.*--train-fraction/,
    );
    const idx = join(root, 'train.json');
    writeFileSync(idx, JSON.stringify([0, 1, 2, 49]));
    await expect(
      imp([join(COMMITTED, 'tl-state-dict.pt')], { task: 'add', step: '3', trainIndices: idx }),
    ).rejects.toThrow(/train\[3\] is 49; example indices run from 0 to 48/);
  });

  it('an unknown layout lists the keys and shapes found, the layouts and the options', async () => {
    const err = await imp([join(HOSTILE, 'dtypes.pt')]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/not a layout groklens recognises; it holds \{.*tensor .*\[/);
    expect((err as Error).message).toContain('supported layouts: transformer-lens');
    expect((err as Error).message).toContain('--layout NAME');
    expect((err as Error).message.length).toBeLessThan(2500);
  });

  it('a hostile pickle: one line naming the global, nothing executed (CLI, exit 2)', async () => {
    const marker = '/tmp/groklens-torch-hostile-os-system';
    rmSync(marker, { force: true });
    await expect(imp([join(HOSTILE, 'hostile-os-system.pt')])).rejects.toBeInstanceOf(UnsafeGlobalError);
    const cli = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, '../../bin/groklens.js'),
        'import',
        join(HOSTILE, 'hostile-os-system.pt'),
        '--name',
        'h',
        '--runs-dir',
        root,
      ],
      { encoding: 'utf8' },
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain('posix.system');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(root, 'h', 'run.json'))).toBe(false);
  });
});
