/**
 * The trajectory pass at a preset's size: T checkpoints written to a temporary directory (a random
 * walk from the preset's initial weights), then trajectoryOfCheckpoints over them, timed, with the
 * process's peak resident memory. Beside it, the notebook way on the same CPU (when /usr/bin/python3
 * has numpy): the T × |θ| matrix in memory and numpy's SVD of it, one BLAS thread — random values of
 * the same size, so the yardstick leaves out reading the files.
 *
 *   npx tsx bench/trajectory.ts [--preset nanda-2023] [--checkpoints 400]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset } from '../src/config/presets.ts';
import { writeSafetensors } from '../src/io/safetensors.ts';
import { countParams, createModel, trainedSpecs } from '../src/models/index.ts';
import { Rng } from '../src/rng.ts';
import { buildDataset } from '../src/tasks/index.ts';
import { trajectoryOfCheckpoints } from '../analyses/trajectory-run.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const preset = arg('preset', 'nanda-2023');
const T = Number(arg('checkpoints', '400'));
const cfg = getPreset(preset);
const dataset = buildDataset(cfg.task);
const model = createModel(cfg.model, {
  d_vocab: dataset.d_vocab,
  n_ctx: dataset.n_ctx,
  d_vocab_out: dataset.d_vocab_out,
});
const params = model.init(new Rng(cfg.training.seed));
const dir = mkdtempSync(join(tmpdir(), 'groklens-bench-traj-'));
const rng = new Rng(1);
const files: { step: number; file: string }[] = [];
try {
  for (let t = 0; t < T; t++) {
    const step = t * 100;
    for (const v of Object.values(params))
      for (let i = 0; i < v.length; i++) v[i] = 0.999 * v[i] + 0.003 * rng.normal();
    const file = join(dir, `step-${String(step).padStart(7, '0')}.safetensors`);
    writeSafetensors(
      file,
      Object.fromEntries(
        model.specs.map((s) => [
          s.name,
          {
            dtype: 'F32' as const,
            shape: s.shape,
            data: s.frozen ? new Float32Array(params[s.name].length) : params[s.name],
          },
        ]),
      ),
      { format: 'groklens-checkpoint', step: String(step) },
    );
    files.push({ step, file });
  }
  const load0 = loadavg()[0];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = trajectoryOfCheckpoints(files, model.specs);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  console.log(
    `${preset}: ${T} checkpoints × ${countParams(trainedSpecs(model.specs)).toLocaleString('en')} parameters: ${wall.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${load0.toFixed(1)}`,
  );
  const numpy = `import numpy as np, time, resource
X = np.random.default_rng(0).standard_normal((${T}, ${countParams(trainedSpecs(model.specs))}), dtype=np.float32)
t = time.perf_counter(); s = np.linalg.svd(X - X.mean(0), full_matrices=False, compute_uv=False)
print(f"{time.perf_counter() - t:.1f} s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")`;
  const py = spawnSync('/usr/bin/python3', ['-c', numpy], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
  });
  console.log(
    py.status === 0
      ? `numpy, the T × |θ| matrix and its SVD (no file reading): ${py.stdout.trim()}`
      : `numpy baseline skipped: ${(py.stderr || '').trim().split('\n').at(-1)}`,
  );
  console.log(
    `PC1–3 explain ${r.explained_variance_ratio
      .slice(0, 3)
      .map((v) => (v * 100).toFixed(1) + ' %')
      .join(
        ', ',
      )}; effective dimensionality ${r.effective_dim?.toFixed(2)}; per tensor: ${Object.keys(r.per_tensor).join(', ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
