/**
 * BLAS as `groklens train` uses it, in child processes (the library is chosen once per process):
 * run.json's backend.blas and the one printed line, with and without a library, a bad
 * GROKLENS_BLAS (exit 2, one line), --threads, and short training runs with and without BLAS
 * agreeing to float32 rounding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openBlas } from '../../src/backend/blas.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { RunStore } from '../../src/run/store.ts';

const BIN = join(import.meta.dirname, '../../bin/groklens.js');
const root = mkdtempSync(join(tmpdir(), 'groklens-blas-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const HAVE_BLAS = openBlas({ threads: 1 }).library !== null;

/** Big enough for BLAS to take the products (≥ 8 kFLOP per call): full batch of 264 rows. */
const MODELS: Record<string, string[]> = {
  transformer: [
    'task.p=23',
    'split.train_fraction=0.5',
    'model.d_model=32',
    'model.n_heads=4',
    'model.d_head=8',
    'model.d_mlp=128',
  ],
  mlp: ['task.p=23', 'split.train_fraction=0.5', 'model.kind=mlp', 'model.d_embed=32', 'model.hidden=[128]'],
};
// 30 steps: the transformer's BLAS-vs-XNNPACK difference stays at 2 % of the tolerance to step 26,
// then ReLU crossings amplify it chaotically (×40 by step 40: 0.80 of the tolerance with the
// composite cross-entropy, 1.04 with the fused kernel, same steps); at step 30 it is 0.12–0.17.
const COMMON = [
  'training.steps=30',
  'training.eval_every=10',
  'checkpoints.every=15',
  'checkpoints.log_spaced=0',
  'optimizer.lr=0.003',
];

function train(name: string, sets: string[], env: Record<string, string | undefined>, extra: string[] = []) {
  const args = [
    BIN,
    'train',
    '--backend',
    'wasm',
    '--quiet',
    '--runs-dir',
    root,
    '--name',
    name,
    ...extra,
    ...[...sets, ...COMMON].flatMap((s) => ['--set', s]),
  ];
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return spawnSync(process.execPath, args, { encoding: 'utf8', env: childEnv as NodeJS.ProcessEnv });
}
const runJson = (name: string) => JSON.parse(readFileSync(join(root, name, 'run.json'), 'utf8'));

describe('groklens train and BLAS', () => {
  test('GROKLENS_BLAS=none: products on XNNPACK, said in the backend line and recorded in run.json', () => {
    const r = train('none', MODELS.mlp, { GROKLENS_BLAS: 'none' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('backend:'));
    expect(lines).toEqual([
      'backend: wasm (simd on, 1 thread; matrix products on XNNPACK (no BLAS: GROKLENS_BLAS=none))',
    ]);
    expect(runJson('none').backend.blas).toEqual({ library: null, reason: 'GROKLENS_BLAS=none' });
  });

  test('a GROKLENS_BLAS without cblas_sgemm: exit 2 and one line naming it, before anything is written', () => {
    const r = train('bad', MODELS.mlp, { GROKLENS_BLAS: 'libm.so.6' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^groklens: GROKLENS_BLAS=libm\.so\.6: no cblas_sgemm \(.*\); unset it to search \(.*\) or set GROKLENS_BLAS=none\n$/,
    );
  });

  test('--threads must be an integer from 1 to 8', () => {
    const r = train('threads-bad', MODELS.mlp, {}, ['--threads', 'two']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('groklens: --threads: expected an integer from 1 to 8, got "two"');
  });

  test.runIf(HAVE_BLAS)('with a library: its path, version and --threads recorded in run.json', () => {
    const r = train('threads-2', MODELS.mlp, { GROKLENS_BLAS: undefined }, ['--threads', '2']);
    expect(r.status, r.stderr).toBe(0);
    const backend = runJson('threads-2').backend;
    expect(backend.threads).toBe(2);
    expect(backend.blas).toMatchObject({ library: expect.any(String), threads: 2 });
    expect(backend.blas.version).toMatch(/^OpenBLAS \d/);
    expect(r.stderr).toMatch(
      /^backend: wasm \(simd on, 2 threads; matrix products on OpenBLAS [\d.]+ .*, 2 threads\)$/m,
    );
    // Early 0.2.0 builds wrote backend.blas without `path`: such a run.json still opens, path null.
    const dir = join(root, 'threads-2');
    const meta = runJson('threads-2');
    delete meta.backend.blas.path;
    writeFileSync(join(dir, 'run.json'), JSON.stringify(meta));
    expect((RunStore.open(dir).meta().backend as { blas?: unknown }).blas).toMatchObject({
      library: backend.blas.library,
      path: null,
    });
  });

  for (const model of Object.keys(MODELS)) {
    test.runIf(HAVE_BLAS)(
      `${model}: 30 AdamW steps with and without BLAS agree to float32 rounding`,
      () => {
        for (const [name, env] of [
          [`${model}-blas`, undefined],
          [`${model}-xnn`, 'none'],
        ] as const) {
          const r = train(name, MODELS[model], { GROKLENS_BLAS: env });
          expect(r.status, r.stderr).toBe(0);
        }
        expect(runJson(`${model}-blas`).backend.blas.library).not.toBeNull();
        for (const step of ['0000000', '0000015', '0000030']) {
          const file = (n: string) => join(root, n, 'checkpoints', `step-${step}.safetensors`);
          const a = readSafetensors(file(`${model}-blas`)).tensors;
          const b = readSafetensors(file(`${model}-xnn`)).tensors;
          let worst = 0;
          let differs = false;
          for (const [key, t] of Object.entries(a)) {
            const x = t.data as Float32Array;
            const y = b[key].data as Float32Array;
            for (let i = 0; i < x.length; i++) {
              // The trajectory tests' tolerance against float64 (tests/trajectory): 1e-5 + 1e-4·|w|.
              worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1e-5 + 1e-4 * Math.abs(y[i])));
              if (x[i] !== y[i]) differs = true;
            }
          }
          expect(worst, `step ${step}: worst share of the tolerance`).toBeLessThan(1);
          // Same initial weights; after training the summation orders show (BLAS really ran).
          expect(differs, `step ${step}`).toBe(step !== '0000000');
          if (process.env.GROKLENS_TEST_VERBOSE)
            console.info(`${model} step ${step}: worst ${(worst * 100).toFixed(1)} % of the tolerance`);
        }
      },
      120_000,
    );
  }
});
