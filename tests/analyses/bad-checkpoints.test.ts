/**
 * One bad checkpoint never stops an analysis (issue 14, defect 2): non-finite or absurd weights,
 * a damaged step 0, an all-zero step 0 and a FIFO in checkpoints/ are each skipped with a warning
 * (or, for step 0, a note) naming the file and the step, and everything else is analysed.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../analyses/run-analysis.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig } from '../../src/config/load.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { startRun } from '../../src/run/session.ts';
import { checkpointName } from '../../src/run/store.ts';

const root = mkdtempSync(join(tmpdir(), 'groklens-bad-ck-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let pristine = '';
const STEPS = [0, 20, 40, 60];

beforeAll(async () => {
  const backend = await useBackend('wasm');
  const { config } = resolveConfig({
    sets: [
      'task.p=23',
      'model.d_model=32',
      'model.d_mlp=64',
      'model.d_head=8',
      'training.steps=60',
      'training.eval_every=20',
      'checkpoints.every=20',
      'checkpoints.log_spaced=0',
    ],
  });
  pristine = (await startRun({ config, name: 'pristine', runsDir: root, preset: null, backend })).dir;
});

let copies = 0;
/** A copy of the run with one checkpoint rewritten by `mutate` (which edits the tensors in place). */
function withMutated(step: number, mutate: (t: Record<string, Float32Array>) => void): string {
  const dir = join(root, `copy-${copies++}`);
  cpSync(pristine, dir, { recursive: true });
  const file = join(dir, 'checkpoints', checkpointName(step));
  const { tensors, metadata } = readSafetensors(file);
  const data: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(tensors)) data[k] = t.data as Float32Array;
  mutate(data);
  writeSafetensors(
    file,
    Object.fromEntries(
      Object.entries(tensors).map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: data[k] }]),
    ),
    metadata,
  );
  return dir;
}

const analysedSteps = (
  a: Awaited<ReturnType<typeof analyzeRun>>['analysis'],
  pass: 'metrics' | 'norms' | 'ntk' | 'fourier' | 'circuit',
) => a.checkpoints.filter((c) => c[pass] !== undefined).map((c) => c.step);

describe('analyze with bad checkpoints', () => {
  it('skips a checkpoint holding one NaN, naming file and step, and analyses the rest', async () => {
    const dir = withMutated(40, (t) => (t['blocks.0.mlp.W_in'][7] = NaN));
    const { analysis } = await analyzeRun(dir);
    expect(analysedSteps(analysis, 'metrics')).toEqual([0, 20, 60]);
    expect(analysedSteps(analysis, 'ntk')).toEqual([0, 20, 60]);
    const w = analysis.warnings.find((x) => x.file.endsWith(checkpointName(40)));
    expect(w?.problem).toMatch(/^step 40: weights not finite \(blocks\.0\.mlp\.W_in\[7\] = NaN\); skipped/);
    expect(analysis.key_frequencies.length).toBeGreaterThan(0);
  });

  it('skips absurd weights in the last checkpoint, and takes the key frequencies from the one before', async () => {
    const dir = withMutated(60, (t) => t['embed.W_E'].fill(3e38));
    const { analysis } = await analyzeRun(dir);
    expect(analysedSteps(analysis, 'metrics')).toEqual([0, 20, 40]);
    expect(analysis.key_frequencies_step).toBe(40);
    expect(analysis.warnings.some((x) => /step 60: weights out of range/.test(x.problem))).toBe(true);
  });

  it('a NaN in step 0 disables the passes that need it, with a note; the rest is analysed', async () => {
    const dir = withMutated(0, (t) => (t['unembed.W_U'][0] = NaN));
    const { analysis } = await analyzeRun(dir);
    expect(analysedSteps(analysis, 'metrics')).toEqual([20, 40, 60]);
    expect(analysedSteps(analysis, 'ntk')).toEqual([]);
    expect(analysedSteps(analysis, 'norms')).toEqual([]);
    expect(analysis.summary.notes.join(' ')).toMatch(/need the initial weights: initial checkpoint unusable/);
  });

  it('an all-zero step 0 does not abort the analysis', async () => {
    const dir = withMutated(0, (t) => Object.values(t).forEach((a) => a.fill(0)));
    const { analysis } = await analyzeRun(dir);
    expect(analysedSteps(analysis, 'metrics')).toEqual(STEPS);
    expect(analysedSteps(analysis, 'fourier')).toEqual(STEPS);
  });

  it('a FIFO named like a checkpoint is skipped at once (no hang), and a later run fills it in', async () => {
    const dir = join(root, `copy-${copies++}`);
    cpSync(pristine, dir, { recursive: true });
    const file = join(dir, 'checkpoints', checkpointName(20));
    rmSync(file);
    execFileSync('mkfifo', [file]);
    const t0 = performance.now();
    const { analysis } = await analyzeRun(dir);
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(analysedSteps(analysis, 'metrics')).toEqual([0, 40, 60]);
    expect(analysis.warnings.find((w) => w.file === file)?.problem).toMatch(/not a regular file/);
    // Replace the FIFO by the real file: the existing analysis.json is extended, not lost.
    rmSync(file);
    cpSync(join(pristine, 'checkpoints', checkpointName(20)), file);
    const again = await analyzeRun(dir);
    expect(analysedSteps(again.analysis, 'metrics')).toEqual(STEPS);
    expect(again.analysed).toBe(1);
  });
});
