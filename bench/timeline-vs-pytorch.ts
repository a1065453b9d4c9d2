/**
 * The whole grokking timeline beside PyTorch (issue 13): for each seed, train a groklens run with the
 * CLI, train its twin in PyTorch from the SAME initial weights (the run's step-0 checkpoint), split,
 * optimiser, schedule, evaluation steps and early-stop rule (bench/torch_timeline.py, which writes a
 * groklens run directory), run `groklens analyze` on both, and print side by side when each
 * memorised and grokked, the key frequencies, the final losses, and how far apart the two runs'
 * weights are at each checkpoint. A benchmark script, not a test: the figures go to the terminal
 * and to OUT/summary.json.
 *
 *   npm run bench:timeline                                  (demo preset, seeds 0,1,2)
 *   npx tsx bench/timeline-vs-pytorch.ts [--preset demo] [--seeds 0,1,2] [--steps N] [--threads 1]
 *        [--out scratch/timeline] [--summary FILE] [--reuse] [--control] [--loss64] [--attn-bias auto|true|false]
 *        [--python /usr/bin/python3]
 *   npx tsx bench/timeline-vs-pytorch.ts --preset nanda-2023 --steps 10000 --seeds 0
 *
 * --threads sets GROKLENS_WASM_THREADS for groklens and OMP/OPENBLAS/MKL_NUM_THREADS plus
 * torch.set_num_threads for PyTorch, the same number on both sides. --reuse keeps run directories
 * that already finished (for re-printing the table); otherwise they are deleted and retrained.
 * The figures go to --summary (default OUT/summary.json, or OUT/summary-PRESET[-STEPS].json).
 * --attn-bias is passed to the PyTorch side (auto: follow run.json's config.model.attn_bias).
 * --control adds a third run per seed: PyTorch again from the initial weights each moved one float32
 * ulp, to show how fast rounding-sized differences grow in this training on their own; --loss64
 * another: PyTorch with the training loss's log-softmax in float64 (as Nanda et al.'s code).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../src/io/safetensors.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..');
const cli = join(root, 'bin', 'groklens.js');

const args = process.argv.slice(2);
const flag = (name: string, dflt?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const preset = flag('preset', 'demo')!;
const seeds = flag('seeds', '0,1,2')!.split(',').map(Number);
const steps = flag('steps');
const threads = Number(flag('threads', '1'));
const outDir = resolve(root, flag('out', 'scratch/timeline')!);
const reuse = args.includes('--reuse');
const attnBias = flag('attn-bias', 'auto')!;
const python = flag('python', '/usr/bin/python3')!;
/** Extra PyTorch runs per seed, each compared with the plain PyTorch run. */
const variants = [
  ...(args.includes('--control')
    ? [
        {
          key: 'ulp',
          what: 'initial weights each moved 1 float32 ulp',
          args: (seed: number) => ['--perturb-ulp', String(seed + 1)],
        },
      ]
    : []),
  ...(args.includes('--loss64')
    ? [{ key: 'f64loss', what: 'training loss (log-softmax) in float64', args: () => ['--loss64'] }]
    : []),
];
const runsDir = join(outDir, 'runs');
const DELTA_STEPS = [0, 10, 100, 1000];

interface Metric {
  step: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  sq_norm: number;
  lr: number;
  wall_time: number;
}
interface Analysis {
  key_frequencies: number[];
  neuron_clusters: { frequency: number; neurons: number }[];
  summary: {
    t_mem: number | null;
    t_grok_95: number | null;
    t_grok_99: number | null;
    delay_95: number | null;
    phases?: unknown;
    boundaries?: { from: string; to: string; step: number }[];
  };
  checkpoints: {
    step: number;
    metrics?: { train_loss: number; test_loss: number; train_acc: number; test_acc: number };
  }[];
}

const threadEnv = {
  ...process.env,
  GROKLENS_WASM_THREADS: String(threads),
  OMP_NUM_THREADS: String(threads),
  OPENBLAS_NUM_THREADS: String(threads),
  MKL_NUM_THREADS: String(threads),
};
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

function run(cmd: string, argv: string[], what: string): { stdout: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    env: threadEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  return { stdout: r.stdout, seconds };
}

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const readMetrics = (dir: string): Metric[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const finished = (dir: string) =>
  existsSync(join(dir, 'status.json')) && readJson(join(dir, 'status.json')).state === 'finished';
const firstStep = (rows: Metric[], ok: (r: Metric) => boolean) => rows.find(ok)?.step ?? null;

function checkpoint(dir: string, step: number): Record<string, Float32Array> {
  const { tensors } = readSafetensors(join(dir, 'checkpoints', `step-${String(step).padStart(7, '0')}.safetensors`));
  return Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.data as Float32Array]));
}

/** max |Δw| (and which tensor), ‖Δθ‖ / ‖θ_groklens‖ over every parameter. */
function weightDelta(a: Record<string, Float32Array>, b: Record<string, Float32Array>) {
  let max = 0,
    where = '',
    d2 = 0,
    n2 = 0;
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    if (!y || y.length !== x.length) throw new Error(`tensor ${name} missing or reshaped in the PyTorch checkpoint`);
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (d > max) ((max = d), (where = name));
      d2 += d * d;
      n2 += x[i] * x[i];
    }
  }
  return { max_abs: max, tensor: where, rel_l2: n2 > 0 ? Math.sqrt(d2 / n2) : 0 };
}

interface Side {
  dir: string;
  wall_seconds: number; // the whole child process (start-up, training, checkpoints)
  train_seconds: number; // metrics.jsonl's last wall_time: the training loop alone
  analyze_seconds: number;
  final_step: number;
  t_mem: number | null;
  t_grok_95: number | null;
  t_grok_99: number | null; // analysis.json summary
  t_mem_eval: number | null;
  t_grok_95_eval: number | null;
  t_grok_99_eval: number | null; // metrics.jsonl
  key_frequencies: number[];
  clusters: { frequency: number; neurons: number }[];
  boundaries: { from: string; to: string; step: number }[];
  final: Metric;
}

function side(dir: string, wall: number, analyzeSeconds: number): Side {
  const rows = readMetrics(dir);
  const a = readJson(join(dir, 'analysis.json')) as Analysis;
  const last = rows.at(-1)!;
  return {
    dir,
    wall_seconds: round(wall, 1),
    train_seconds: last.wall_time,
    analyze_seconds: round(analyzeSeconds, 1),
    final_step: readJson(join(dir, 'status.json')).final_step,
    t_mem: a.summary.t_mem,
    t_grok_95: a.summary.t_grok_95,
    t_grok_99: a.summary.t_grok_99,
    t_mem_eval: firstStep(rows, (r) => r.train_acc >= 0.99),
    t_grok_95_eval: firstStep(rows, (r) => r.test_acc >= 0.95),
    t_grok_99_eval: firstStep(rows, (r) => r.test_acc >= 0.99),
    key_frequencies: a.key_frequencies,
    clusters: a.neuron_clusters.map(({ frequency, neurons }) => ({ frequency, neurons })),
    boundaries: (a.summary.boundaries ?? []).map(({ from, to, step }) => ({ from, to, step })),
    final: last,
  };
}

function round(x: number, d: number) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  return [line(header), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

const torchInfo = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__, numpy.__version__)'], {
  encoding: 'utf8',
});
if (torchInfo.status !== 0) {
  console.error(
    `${python} cannot import torch (Debian's python3-torch; the pyenv 'python3' on PATH does not see it):\n${torchInfo.stderr}`,
  );
  process.exit(2);
}
const [torchVersion, numpyVersion] = torchInfo.stdout.trim().split(' ');
const schemaHasAttnBias = readFileSync(join(root, 'src', 'config', 'schema.ts'), 'utf8').includes('attn_bias');
mkdirSync(runsDir, { recursive: true });
const started = new Date();
const loadStart = load();
const t0All = performance.now();
console.log(
  `timeline vs PyTorch: preset ${preset}${steps ? `, ${steps} steps` : ''}, seeds ${seeds.join(',')}, ${threads} thread(s) each side, ${cpus().length} cores, load ${loadStart.join(' ')}`,
);
console.log(`torch ${torchVersion} (numpy ${numpyVersion}, ${python}), node ${process.version}; runs in ${runsDir}`);

interface Comparison {
  deltas: {
    step: number;
    max_abs: number;
    tensor: string;
    rel_l2: number;
    d_train_loss: number | null;
    d_test_acc: number | null;
  }[];
  parts: {
    rel_l2_above_1e3: number | null;
    rel_l2_above_1e2: number | null;
    rel_l2_above_1e1: number | null;
    test_acc_gap_above_0_05: number | null;
  };
  max_test_acc_gap: { step: number; gap: number };
}
interface SeedResult extends Comparison {
  seed: number;
  load_start: number[];
  load_end: number[];
  attn_bias: { config: boolean | null; torch_trained: boolean; source: string };
  groklens_backend: string;
  groklens: Side;
  torch: Side;
  variants: ({ variant: string; run: Side } & Comparison)[]; // other PyTorch runs, each compared with the PyTorch run
}
const results: SeedResult[] = [];

/** Train the PyTorch twin of gDir into dir (or reuse it): its torch.json (last stdout line + process seconds). */
function torchRun(seed: number, gDir: string, dir: string, extra: string[]) {
  if (reuse && finished(dir) && existsSync(join(dir, 'torch.json'))) {
    console.error(`seed ${seed}: reusing ${dir}`);
    return readJson(join(dir, 'torch.json'));
  }
  rmSync(dir, { recursive: true, force: true });
  console.error(`seed ${seed}: PyTorch${extra.length ? ` ${extra.join(' ')}` : ''} …`);
  const r = run(
    python,
    [join(here, 'torch_timeline.py'), gDir, dir, '--threads', String(threads), '--attn-bias', attnBias, ...extra],
    `torch_timeline.py (seed ${seed})`,
  );
  const out = { ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), process_seconds: r.seconds };
  writeFileSync(join(dir, 'torch.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}

/** `groklens analyze DIR` (or reuse its analysis.json): seconds taken. */
function analyze(seed: number, dir: string): number {
  if (reuse && existsSync(join(dir, 'analysis.json')) && existsSync(join(dir, 'analyze-seconds')))
    return Number(readFileSync(join(dir, 'analyze-seconds'), 'utf8'));
  rmSync(join(dir, 'analysis.json'), { force: true });
  console.error(`seed ${seed}: groklens analyze ${dir} …`);
  const r = run(process.execPath, [cli, 'analyze', dir, '-q', '--backend', 'wasm'], `groklens analyze ${dir}`);
  writeFileSync(join(dir, 'analyze-seconds'), String(r.seconds));
  return r.seconds;
}

/** B − A at every checkpoint both runs hold, and where they part. */
function compare(aDir: string, bDir: string): Comparison {
  const aSteps: number[] = readJson(join(aDir, 'status.json')).checkpoints;
  const bSteps = new Set<number>(readJson(join(bDir, 'status.json')).checkpoints);
  const common = aSteps.filter((s) => bSteps.has(s)).sort((x, y) => x - y);
  const am = new Map(readMetrics(aDir).map((r) => [r.step, r]));
  const bm = new Map(readMetrics(bDir).map((r) => [r.step, r]));
  const deltas = common.map((step) => {
    const d = weightDelta(checkpoint(aDir, step), checkpoint(bDir, step));
    const a = am.get(step),
      b = bm.get(step);
    return {
      step,
      ...d,
      d_train_loss: a && b ? b.train_loss - a.train_loss : null,
      d_test_acc: a && b ? b.test_acc - a.test_acc : null,
    };
  });
  const firstAbove = (x: number) => deltas.find((d) => d.rel_l2 > x)?.step ?? null;
  let gap = { step: 0, gap: 0 };
  let gapStep: number | null = null;
  for (const [step, a] of am) {
    const b = bm.get(step);
    if (!b) continue;
    const d = Math.abs(a.test_acc - b.test_acc);
    if (d > gap.gap) gap = { step, gap: round(d, 4) };
    if (gapStep === null && d > 0.05) gapStep = step;
  }
  return {
    deltas,
    parts: {
      rel_l2_above_1e3: firstAbove(1e-3),
      rel_l2_above_1e2: firstAbove(1e-2),
      rel_l2_above_1e1: firstAbove(1e-1),
      test_acc_gap_above_0_05: gapStep,
    },
    max_test_acc_gap: gap,
  };
}

for (const seed of seeds) {
  const loadS = load();
  const base = `${preset}${steps ? `-${steps}` : ''}-s${seed}`;
  const gDir = join(runsDir, `${base}-groklens`);
  const tDir = join(runsDir, `${base}-torch`);
  const variantRuns = variants.map((v) => ({ ...v, dir: join(runsDir, `${base}-torch-${v.key}`) }));
  const timesFile = join(gDir, 'bench-times.json'); // wall and load of the original pass, for --reuse
  let times: { groklens_wall: number; load_start: number[]; load_end: number[] } | null = null;
  let gWall: number;
  if (reuse && finished(gDir)) {
    console.error(`seed ${seed}: reusing ${gDir}`);
    times = existsSync(timesFile) ? readJson(timesFile) : null;
    gWall = times?.groklens_wall ?? readMetrics(gDir).at(-1)!.wall_time;
  } else {
    for (const d of [gDir, tDir, ...variantRuns.map((v) => v.dir)]) rmSync(d, { recursive: true, force: true });
    const sets = [`training.seed=${seed}`, ...(steps ? [`training.steps=${steps}`] : [])].flatMap((x) => ['--set', x]);
    console.error(`seed ${seed}: groklens train …`);
    gWall = run(
      process.execPath,
      [
        cli,
        'train',
        '--preset',
        preset,
        ...sets,
        '--name',
        `${base}-groklens`,
        '--runs-dir',
        runsDir,
        '--quiet',
        '--backend',
        'wasm',
      ],
      `groklens train (seed ${seed})`,
    ).seconds;
  }
  const torchOut = torchRun(seed, gDir, tDir, []);
  const g = side(gDir, gWall, analyze(seed, gDir));
  const t = side(tDir, torchOut.process_seconds, analyze(seed, tDir));
  const variantResults = variantRuns.map((v) => {
    const out = torchRun(seed, gDir, v.dir, v.args(seed));
    return { variant: v.key, run: side(v.dir, out.process_seconds, analyze(seed, v.dir)), ...compare(tDir, v.dir) };
  });
  const gMeta = readJson(join(gDir, 'run.json'));
  const cfgBias = gMeta.config.model.attn_bias;
  const blas = gMeta.backend.blas;
  results.push({
    seed,
    load_start: times?.load_start ?? loadS,
    load_end: times?.load_end ?? load(),
    attn_bias: {
      config: typeof cfgBias === 'boolean' ? cfgBias : null,
      torch_trained: torchOut.attn_bias_trained,
      source: torchOut.attn_bias_source,
    },
    groklens_backend: `${gMeta.backend.name} ${gMeta.backend.threads ?? 1} thr${
      blas
        ? ` + ${String(blas.version ?? blas.library)
            .split(' ')
            .slice(0, 2)
            .join(' ')} ${blas.threads ?? ''} thr`
        : ''
    }`,
    groklens: g,
    torch: t,
    ...compare(gDir, tDir),
    variants: variantResults,
  });
  if (!times)
    writeFileSync(
      timesFile,
      JSON.stringify({ groklens_wall: gWall, load_start: loadS, load_end: results.at(-1)!.load_end }) + '\n',
    );
  console.error(
    `seed ${seed}: done (groklens ${g.final_step} steps in ${g.wall_seconds} s, PyTorch ${t.final_step} steps in ${t.wall_seconds} s)`,
  );
}

const loadEnd = load();
const totalSeconds = round((performance.now() - t0All) / 1000, 1);

// ---- the tables ----
const fmt = (x: number | null | undefined, d = 4) =>
  x == null ? '—' : Number.isInteger(x) ? String(x) : x.toPrecision(d);
const e = (x: number | null | undefined) => (x == null ? '—' : x === 0 ? '0' : x.toExponential(1));
const header = ['measure', ...results.flatMap((r) => [`s${r.seed} groklens`, `s${r.seed} torch`])];
const rowOf = (label: string, f: (s: Side) => string) => [
  label,
  ...results.flatMap((r) => [f(r.groklens), f(r.torch)]),
];
const rows = [
  ['backend', ...results.flatMap((r) => [r.groklens_backend, `torch ${threads} thr`])],
  rowOf('final step', (s) => String(s.final_step)),
  rowOf('T_mem (train acc ≥ 0.99)', (s) => fmt(s.t_mem)),
  rowOf('T_grok 95 % test acc', (s) => fmt(s.t_grok_95)),
  rowOf('T_grok 99 % test acc', (s) => fmt(s.t_grok_99)),
  rowOf('same from metrics.jsonl', (s) => `${fmt(s.t_mem_eval)}/${fmt(s.t_grok_95_eval)}/${fmt(s.t_grok_99_eval)}`),
  rowOf('phase boundaries', (s) => s.boundaries.map((b) => b.step).join('/') || '—'),
  rowOf('key frequencies', (s) => s.key_frequencies.join(',')),
  rowOf('clusters: freq(neurons)', (s) => s.clusters.map((c) => `${c.frequency}(${c.neurons})`).join(',') || '—'),
  rowOf('final train loss', (s) => e(s.final.train_loss)),
  rowOf('final test loss', (s) => e(s.final.test_loss)),
  rowOf('final test acc', (s) => s.final.test_acc.toFixed(4)),
  rowOf('final ‖θ‖²', (s) => s.final.sq_norm.toFixed(1)),
  rowOf('process wall s', (s) => s.wall_seconds.toFixed(1)),
  rowOf('training loop s', (s) => s.train_seconds.toFixed(1)),
  rowOf('analyze s', (s) => s.analyze_seconds.toFixed(1)),
];
console.log('\nTimeline, groklens (wasm) vs PyTorch, same initial weights and split:');
console.log(table(header, rows));

const dRows: string[][] = [];
for (const r of results) {
  const last = r.deltas.at(-1)!.step;
  const pick = [...new Set([...DELTA_STEPS, r.groklens.t_mem ?? -1, r.groklens.t_grok_95 ?? -1, last])]
    .filter((s) => r.deltas.some((d) => d.step === s))
    .sort((a, b) => a - b);
  for (const s of pick) {
    const d = r.deltas.find((x) => x.step === s)!;
    const tag =
      s === last
        ? r.groklens.final_step === r.torch.final_step
          ? ' (final)'
          : ' (last common)'
        : s === r.groklens.t_mem
          ? ' (T_mem)'
          : s === r.groklens.t_grok_95
            ? ' (T_grok95)'
            : '';
    dRows.push([
      `s${r.seed}`,
      `${s}${tag}`,
      e(d.max_abs),
      d.tensor,
      e(d.rel_l2),
      d.d_train_loss == null ? '—' : e(d.d_train_loss),
      d.d_test_acc == null ? '—' : d.d_test_acc.toFixed(4),
    ]);
  }
}
console.log(
  '\nWeights, PyTorch − groklens at the same step (‖Δθ‖/‖θ‖ over every parameter); Δ train loss, Δ test acc from metrics.jsonl:',
);
console.log(table(['seed', 'step', 'max |Δw|', 'in tensor', '‖Δθ‖/‖θ‖', 'Δ train loss', 'Δ test acc'], dRows));
console.log(
  '\nWhere they part (first checkpoint with ‖Δθ‖/‖θ‖ above 1e-3 / 1e-2 / 1e-1; first eval with |Δ test acc| > 0.05; largest |Δ test acc|):',
);
for (const r of results) {
  const p = r.parts;
  console.log(
    `  s${r.seed}: ${fmt(p.rel_l2_above_1e3)} / ${fmt(p.rel_l2_above_1e2)} / ${fmt(p.rel_l2_above_1e1)}; ${fmt(p.test_acc_gap_above_0_05)}; ${r.max_test_acc_gap.gap} at step ${r.max_test_acc_gap.step}`,
  );
}
if (variants.length) {
  console.log(
    `\nOther PyTorch runs, each against the plain PyTorch run: ${variants.map((v) => `${v.key} = ${v.what}`).join('; ')}.`,
  );
  const cRows = results.flatMap((r) =>
    r.variants.map((c) => {
      const u = c.run,
        at = (s: number) => e(c.deltas.find((d) => d.step === s)?.rel_l2);
      return [
        `s${r.seed}`,
        c.variant,
        `${fmt(u.t_mem)}/${fmt(u.t_grok_95)}/${fmt(u.t_grok_99)}`,
        `${fmt(r.torch.t_mem)}/${fmt(r.torch.t_grok_95)}/${fmt(r.torch.t_grok_99)}`,
        `${fmt(r.groklens.t_mem)}/${fmt(r.groklens.t_grok_95)}/${fmt(r.groklens.t_grok_99)}`,
        u.key_frequencies.join(','),
        e(u.final.test_loss),
        `${at(10)} / ${at(100)} / ${at(1000)}`,
        `${fmt(c.parts.rel_l2_above_1e3)}/${fmt(c.parts.rel_l2_above_1e2)}/${fmt(c.parts.rel_l2_above_1e1)}`,
        `${fmt(r.parts.rel_l2_above_1e3)}/${fmt(r.parts.rel_l2_above_1e2)}/${fmt(r.parts.rel_l2_above_1e1)}`,
        `${c.max_test_acc_gap.gap} @ ${c.max_test_acc_gap.step}`,
      ];
    }),
  );
  console.log(
    table(
      [
        'seed',
        'variant',
        'variant T_mem/95/99',
        'torch T_mem/95/99',
        'groklens T_mem/95/99',
        'variant key freqs',
        'final test loss',
        '‖Δθ‖/‖θ‖ vs torch at 10/100/1000',
        'vs torch > 1e-3/1e-2/1e-1 at',
        'groklens vs torch, same',
        'max |Δ test acc| vs torch',
      ],
      cRows,
    ),
  );
}
const bias = results[0]?.attn_bias;
console.log(
  `\nattention biases: groklens config ${bias?.config ?? '(no model.attn_bias key: trained)'}${schemaHasAttnBias ? '' : ' — src/config/schema.ts has no attn_bias'}; PyTorch trains them: ${bias?.torch_trained} (${bias?.source})`,
);
console.log(
  `threads: groklens wasm ${threads} (GROKLENS_WASM_THREADS), PyTorch ${threads} (torch.set_num_threads, OMP/OPENBLAS/MKL_NUM_THREADS=${threads})`,
);
console.log(
  `load average (1/5/15 min): start ${loadStart.join(' ')}, end ${loadEnd.join(' ')}; per seed ${results.map((r) => `s${r.seed} ${r.load_start[0]}→${r.load_end[0]}`).join(', ')}`,
);
console.log(
  `total ${totalSeconds} s${reuse ? ' (--reuse: per-run wall times and per-seed loads are those of the runs that were reused; total and overall load are of this pass)' : ''}`,
);

const summary = {
  kind: 'groklens-timeline-vs-pytorch',
  created_at: started.toISOString(),
  preset,
  steps: steps ? Number(steps) : null,
  seeds,
  threads,
  torch_version: torchVersion,
  numpy_version: numpyVersion,
  node_version: process.version,
  cores: cpus().length,
  load_start: loadStart,
  load_end: loadEnd,
  total_seconds: totalSeconds,
  reused: reuse,
  runs_dir: runsDir,
  results,
};
const summaryFile = flag('summary')
  ? resolve(flag('summary')!)
  : join(outDir, steps || preset !== 'demo' ? `summary-${preset}${steps ? `-${steps}` : ''}.json` : 'summary.json');
writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
console.log(`summary: ${summaryFile}`);
