/**
 * A deterministic synthetic grokking run for renderer tests, snapshots and the benchmark: run.json,
 * metrics.jsonl rows and a complete analysis.json shaped like a real run of a+b mod p — train loss
 * falls first (memorisation), the excluded loss then rises while the restricted loss and ‖θ‖² fall
 * (circuit formation), and test loss, ‖θ‖² and the non-key Fourier norms collapse together
 * (cleanup). The curves are closed forms with small seeded noise; the summary (T_mem, T_grok,
 * boundaries, contraction fit) is computed from the curves, not typed in, so it stays consistent
 * with whatever the generator draws.
 */
import type { AnalysisFile, AttentionMaps, CheckpointResult, PassName, PhaseBoundary } from '../../analyses/types.ts';
import { ALL_PASSES, ANALYSIS_FORMAT_VERSION, OPT_IN_PASSES } from '../../analyses/types.ts';
import { gini } from '../../analyses/fourier/stats.ts';
import type { RunConfig } from '../../src/config/types.ts';
import { Rng } from '../../src/rng.ts';
import type { MetricsRow, RunMeta } from '../../src/run/store.ts';
import type { RunReportInput } from '../../reports/input.ts';

export interface SyntheticOptions {
  name?: string;
  p?: number; // modulus (default 113)
  checkpoints?: number; // number of checkpoints (default 60)
  steps?: number; // last step (default 3000)
  metricsRows?: number; // metrics.jsonl rows (default 4 per checkpoint)
  seed?: number;
  lr?: number;
  weightDecay?: number;
  /** Scales every transition time (1 = default): how runs in a comparison differ. */
  timeScale?: number;
  passes?: PassName[];
  attention?: boolean; // include attention patterns (default true)
}

const FIXED_TIME = '2026-01-01T00:00:00.000Z';
const sig = (z: number) => 1 / (1 + Math.exp(-z));

/** Key frequencies: the paper's for p = 113, otherwise five drawn from the seed. */
function keyFrequencies(p: number, rng: Rng): number[] {
  const K = Math.floor(p / 2);
  if (p === 113) return [14, 35, 41, 42, 52];
  const ks = new Set<number>();
  while (ks.size < Math.min(5, K)) ks.add(1 + rng.int(K));
  return [...ks].sort((a, b) => a - b);
}

function checkpointSteps(n: number, steps: number): number[] {
  const early = Math.min(4, Math.max(0, n - 2));
  const regular = n - 1 - early;
  const every = steps / regular;
  const out = [0];
  for (let i = 0; i < early; i++)
    out.push(Math.max(out[out.length - 1] + 1, Math.round(every ** ((i + 1) / (early + 1)))));
  for (let i = 1; i <= regular; i++) out.push(Math.max(out[out.length - 1] + 1, Math.round(i * every)));
  return out;
}

/** Every curve of the run as a function of the step. */
function curves(T: number, p: number, lr: number, wd: number) {
  const m = (t: number) => sig((t - 0.045 * T) / (0.006 * T)); // memorisation
  const c = (t: number) => sig((t - 0.3 * T) / (0.06 * T)); // circuit formation
  const g = (t: number) => sig((t - 0.6 * T) / (0.02 * T)); // cleanup (grokking)
  const tm = 0.07 * T;
  const rate = 1.4 * lr * wd; // contraction c/(lr·wd) ≈ 1.4 (Truong et al.)
  return {
    m,
    c,
    g,
    trainLoss: (t: number) => 10 ** ((1 - m(t)) * Math.log10(4.7) + m(t) * -2.3 - 3.5 * g(t)),
    testLoss: (t: number) => 10 ** ((1 - g(t)) * (Math.log10(4.7) + 0.41 * m(t)) + g(t) * -5.5),
    trainAcc: (t: number) => 1 / p + (1 - 1 / p) * sig((t - 0.05 * T) / (0.004 * T)),
    testAcc: (t: number) => 1 / p + (1 - 1 / p) * sig((t - 0.62 * T) / (0.01 * T)),
    sqNorm: (t: number) =>
      Math.exp(Math.log(900 + 600 * m(t)) - rate * Math.min(Math.max(0, t - tm), 0.66 * T - tm) - 0.8 * g(t)),
    restricted: (t: number) => 10 ** (0.62 - 1.0 * c(t) - 4.5 * g(t)),
  };
}

export function syntheticConfig(p: number, lr: number, wd: number, steps: number): RunConfig {
  return {
    task: { kind: 'modular', op: 'add', p },
    split: { train_fraction: 0.3, seed: 0, mode: 'python-random' },
    model: {
      kind: 'transformer',
      n_layers: 1,
      d_model: 128,
      n_heads: 4,
      d_head: 32,
      d_mlp: 512,
      act: 'relu',
      layer_norm: false,
      attn_bias: false,
      init_scale: 1,
    },
    optimizer: {
      kind: 'adamw',
      lr,
      weight_decay: wd,
      betas: [0.9, 0.98],
      eps: 1e-8,
      momentum: 0,
      nesterov: false,
      decoupled_weight_decay: true,
      linf_penalty: 0,
      warmup_steps: 10,
    },
    training: { steps, batch_size: null, loss: 'cross-entropy', early_stop_after_grok: null, eval_every: 100, seed: 0 },
    checkpoints: { every: 100, log_spaced: 20 },
  };
}

function paramSpecs(p: number) {
  const D = 128;
  const specs = [
    { name: 'embed.W_E', shape: [p + 1, D] },
    { name: 'pos_embed.W_pos', shape: [3, D] },
    { name: 'blocks.0.attn.W_Q', shape: [4, D, 32] },
    { name: 'blocks.0.attn.W_K', shape: [4, D, 32] },
    { name: 'blocks.0.attn.W_V', shape: [4, D, 32] },
    { name: 'blocks.0.attn.W_O', shape: [4, 32, D] },
    { name: 'blocks.0.mlp.W_in', shape: [D, 512] },
    { name: 'blocks.0.mlp.b_in', shape: [512] },
    { name: 'blocks.0.mlp.W_out', shape: [512, D] },
    { name: 'blocks.0.mlp.b_out', shape: [D] },
    { name: 'unembed.W_U', shape: [D, p] },
  ];
  return specs.map((s) => ({ ...s, init: 'normal' }));
}

/** The whole synthetic run as the renderer's input. */
export function syntheticRun(opts: SyntheticOptions = {}): RunReportInput {
  const p = opts.p ?? 113;
  const T = Math.round((opts.steps ?? 3000) * (opts.timeScale ?? 1));
  const nCk = opts.checkpoints ?? 60;
  const lr = opts.lr ?? 1e-3;
  const wd = opts.weightDecay ?? 1;
  const seed = opts.seed ?? 0;
  const passes = opts.passes ?? ALL_PASSES.filter((p) => !OPT_IN_PASSES.includes(p)); // llc and trajectory are opt-in
  const name = opts.name ?? 'synthetic';
  const rng = Rng.derive(seed, 'synthetic');
  const noise = (sd: number) => Math.exp(sd * rng.normal());
  const K = Math.floor(p / 2);
  const keys = keyFrequencies(p, Rng.derive(seed, 'keys'));
  const cv = curves(T, p, lr, wd);
  const nTrain = Math.floor(0.3 * p * p);
  const config = syntheticConfig(p, lr, wd, T);

  const specs = paramSpecs(p);
  const nParams = specs.reduce((s, x) => s + x.shape.reduce((a, b) => a * b, 1), 0);
  const meta = {
    format: 'groklens-run',
    format_version: 1,
    groklens_version: '0.1.0',
    name,
    created_at: FIXED_TIME,
    preset: null,
    backend: { name: 'wasm', requested: 'auto', tfjs_version: '4.22.0', simd: true, threads: 1 },
    config,
    dataset: {
      description: `a+b mod ${p}`,
      n: p * p,
      n_ctx: 3,
      d_vocab: p + 1,
      d_vocab_out: p,
      n_train: nTrain,
      n_test: p * p - nTrain,
    },
    params: specs,
    n_params: nParams,
  } as unknown as RunMeta;

  const nRows = opts.metricsRows ?? nCk * 4;
  const metrics: MetricsRow[] = [];
  for (let i = 0; i < nRows; i++) {
    const t = Math.round((i * T) / Math.max(1, nRows - 1));
    metrics.push({
      step: t,
      train_loss: cv.trainLoss(t) * noise(0.05),
      train_acc: Math.min(1, cv.trainAcc(t)),
      test_loss: cv.testLoss(t) * noise(0.03),
      test_acc: Math.min(1, cv.testAcc(t)),
      sq_norm: cv.sqNorm(t) * noise(0.002),
      lr: t < 10 ? (lr * (t + 1)) / 10 : lr,
      wall_time: Number((t * 0.05).toFixed(3)),
    });
  }

  const steps = checkpointSteps(nCk, T);
  const weight = keys.map((_, i) => 0.55 + (0.35 * i) / Math.max(1, keys.length - 1)); // per-key strength
  const baseE = Array.from({ length: K + 1 }, () => 0.8 + 0.4 * rng.uniform());
  const baseL = Array.from({ length: K + 1 }, () => 0.8 + 0.4 * rng.uniform());
  const checkpoints: CheckpointResult[] = steps.map((t) => {
    const { m, c, g } = cv;
    const trainLoss = cv.trainLoss(t) * noise(0.04);
    const ck: CheckpointResult = { step: t, file: `step-${String(t).padStart(7, '0')}.safetensors` };
    if (passes.includes('metrics')) {
      const trL = trainLoss;
      const teL = cv.testLoss(t) * noise(0.03);
      ck.metrics = {
        train_loss: trL,
        train_acc: Math.min(1, cv.trainAcc(t)),
        test_loss: teL,
        test_acc: Math.min(1, cv.testAcc(t)),
        all_loss: 0.3 * trL + 0.7 * teL,
        all_acc: 0.3 * Math.min(1, cv.trainAcc(t)) + 0.7 * Math.min(1, cv.testAcc(t)),
      };
    }
    const embed = baseE.map((b, k) => {
      if (k === 0) return 0.4 * b;
      const ki = keys.indexOf(k);
      if (ki >= 0) return b * (1 + 5 * weight[ki] * c(t)) * noise(0.02);
      return b * (1 - 0.85 * g(t)) * (1 + 0.2 * m(t)) * noise(0.05);
    });
    const logit = baseL.map((b, k) => {
      if (k === 0) return 0.2 * b;
      const ki = keys.indexOf(k);
      if (ki >= 0) return b * (1 + 9 * weight[ki] * c(t)) * noise(0.02);
      return b * (1 + 0.5 * m(t)) * (1 - 0.9 * g(t)) * noise(0.05);
    });
    if (passes.includes('fourier')) {
      const tot = embed.reduce((s, v) => s + v * v, 0);
      const keyMass = keys.reduce((s, k) => s + embed[k] ** 2, 0) + embed[0] ** 2;
      ck.fourier = {
        embed_norms: embed,
        logit_map_norms: logit,
        gini_embed: gini(embed.slice(1)),
        gini_logit_map: gini(logit.slice(1)),
        ipr_mean: 0.08 + 0.12 * c(t) + 0.55 * g(t),
        non_fourier_energy: (1 - keyMass / tot) * (0.16 / 0.9) * (1 - 0.975 * g(t)) + 0.001,
      };
    }
    if (passes.includes('circuit')) {
      const perKey = weight.map((w) => trainLoss * 10 ** (4 * w * c(t) * (1 - 0.3 * g(t))) * noise(0.03));
      const excluded = trainLoss * 10 ** (4.6 * c(t) * (1 - 0.2 * g(t))) * noise(0.03);
      const restricted = cv.restricted(t) * noise(0.03);
      const maxK = keys[keys.length - 1];
      ck.circuit = {
        restricted_loss: restricted,
        restricted_loss_train: restricted * 0.95,
        restricted_acc: Math.min(1, 1 / p + c(t) * 0.6 + g(t) * 0.4),
        excluded_loss: excluded,
        excluded_loss_per_key: perKey,
        excluded_loss_max: Math.max(...perKey) * 1.05,
        excluded_loss_max_k: maxK,
        alpha: embed.map((e, k) => (keys.includes(k) ? 0.3 * c(t) * e : 0.01 * e)),
        test_restricted_ratio: (ck.metrics?.test_loss ?? cv.testLoss(t)) / restricted,
      };
    }
    if (passes.includes('norms')) {
      const V = cv.sqNorm(t);
      const share: Record<string, number> = {
        'embed.W_E': 0.12,
        'pos_embed.W_pos': 0.01,
        'blocks.0.attn.W_Q': 0.1,
        'blocks.0.attn.W_K': 0.1,
        'blocks.0.attn.W_V': 0.1,
        'blocks.0.attn.W_O': 0.1,
        'blocks.0.mlp.W_in': 0.22,
        'blocks.0.mlp.W_out': 0.2,
        'unembed.W_U': 0.05,
      };
      const rel = 0.05 + 0.35 * m(t) + 0.5 * c(t) + 0.4 * g(t);
      ck.norms = {
        sq_norm_total: V,
        sq_norm: Object.fromEntries(Object.entries(share).map(([k, s]) => [k, s * V])),
        linf: 0.9 + 0.6 * m(t) - 0.5 * g(t),
        rel_dist_total: rel,
        rel_dist: Object.fromEntries(Object.keys(share).map((k, i) => [k, rel * (0.8 + 0.05 * i)])),
      };
    }
    if (passes.includes('ntk')) {
      const kd = Math.min(0.98, 0.02 + 0.25 * m(t) + 0.2 * c(t) + 0.45 * g(t));
      const stats = (f: number) => ({
        kernel_distance: kd * f,
        change_abs: 40 * kd * f,
        change_rel: 1.5 * kd * f,
        alignment: 0.1 + 0.3 * g(t),
        alignment_centred: 0.05 + 0.35 * g(t),
        trace: 800 * (1 + m(t)) * (1 - 0.4 * g(t)),
      });
      ck.ntk = { projection: stats(1), first_output: stats(0.9) };
    }
    return ck;
  });

  const analysis: AnalysisFile = {
    format: 'groklens-analysis',
    format_version: ANALYSIS_FORMAT_VERSION,
    groklens_version: '0.1.0',
    run: {
      name,
      task: `a+b mod ${p}`,
      model: 'transformer (1 layer, d_model 128, 4 heads, d_mlp 512)',
      n_params: nParams,
      n_train: nTrain,
      n_test: p * p - nTrain,
      lr,
      weight_decay: wd,
      optimizer: 'adamw',
      seed: 0,
      backend: 'wasm',
      steps: T,
    },
    options: {
      passes,
      key_freq_source: 'final',
      probe: passes.includes('ntk')
        ? { n: 8, seed: 0, indices: [3, 17, 29, 40, 58, 77, 91, 100], projection: [0.5, -0.5, 0.5, -0.5] }
        : null,
    },
    group: { kind: 'additive', n: p, description: 'a + b' },
    key_frequencies: passes.includes('fourier') ? keys : [],
    key_frequencies_step: passes.includes('fourier') ? steps[steps.length - 1] : null,
    neuron_clusters: passes.includes('fourier')
      ? keys.map((k, i) => ({ frequency: k, neurons: 40 + ((i * 37) % 60), mean_explained: 0.9 + 0.015 * i }))
      : [],
    unclustered_neurons: passes.includes('fourier') ? 512 - keys.reduce((s, _, i) => s + 40 + ((i * 37) % 60), 0) : 0,
    checkpoints,
    summary: summarise(steps, cv, lr, wd, checkpoints),
    warnings: [],
    updated_at: FIXED_TIME,
  };
  return {
    meta,
    metrics,
    analysis: passes.includes('fourier')
      ? analysis
      : {
          ...analysis,
          checkpoints: checkpoints.map((c) => ({
            ...c,
            circuit: c.circuit && { ...c.circuit, excluded_loss_per_key: [] },
          })),
        },
    attention: opts.attention === false ? null : syntheticAttention(p, keys, steps[steps.length - 1]),
  };
}

/** The transition summary from the checkpoint curves, by simple rules on the noiseless curves. */
function summarise(
  steps: number[],
  cv: ReturnType<typeof curves>,
  lr: number,
  wd: number,
  cks: CheckpointResult[],
): AnalysisFile['summary'] {
  const first = (f: (t: number) => boolean) => steps.find(f) ?? null;
  const tMem = first((t) => cv.trainAcc(t) >= 0.99);
  const t95 = first((t) => cv.testAcc(t) >= 0.95);
  const t99 = first((t) => cv.testAcc(t) >= 0.99);
  const boundaries: PhaseBoundary[] = [];
  const startCleanup = first((t) => cv.g(t) >= 0.1);
  const endCleanup = first((t) => cv.g(t) >= 0.98);
  if (tMem !== null)
    boundaries.push({
      from: 'memorisation',
      to: 'circuit_formation',
      step: tMem,
      reason: 'train accuracy reached 99 % and the excluded loss stopped falling',
    });
  if (startCleanup !== null)
    boundaries.push({
      from: 'circuit_formation',
      to: 'cleanup',
      step: startCleanup,
      reason: 'test loss fell below half its plateau while ‖θ‖² dropped faster',
    });
  if (endCleanup !== null)
    boundaries.push({
      from: 'cleanup',
      to: 'stable',
      step: endCleanup,
      reason: 'Gini of the embedding norms stopped rising (within 2 % of its final value)',
    });
  const cut = boundaries.map((b) => b.step);
  const names = ['memorisation', 'circuit_formation', 'cleanup', 'stable'] as const;
  const phases = names
    .slice(0, cut.length + 1)
    .map((name, i) => ({ name, start: i === 0 ? 0 : cut[i - 1], end: i < cut.length ? cut[i] : null }));
  let contraction: AnalysisFile['summary']['contraction'] = null;
  const fitTo = startCleanup;
  if (tMem !== null && fitTo !== null) {
    const pts = cks
      .filter((c) => c.step >= tMem && c.step <= fitTo && c.norms)
      .map((c) => [c.step - tMem, Math.log(c.norms!.sq_norm_total)]);
    if (pts.length >= 3) {
      const n = pts.length;
      const mx = pts.reduce((s, q) => s + q[0], 0) / n;
      const my = pts.reduce((s, q) => s + q[1], 0) / n;
      const sxy = pts.reduce((s, q) => s + (q[0] - mx) * (q[1] - my), 0);
      const sxx = pts.reduce((s, q) => s + (q[0] - mx) ** 2, 0);
      const slope = sxy / sxx;
      const icpt = my - slope * mx;
      const ssr = pts.reduce((s, q) => s + (q[1] - (icpt + slope * q[0])) ** 2, 0);
      const sst = pts.reduce((s, q) => s + (q[1] - my) ** 2, 0);
      const last = cks[cks.length - 1].norms;
      contraction = {
        c: -slope,
        c_over_lr_wd: lr * wd > 0 ? -slope / (lr * wd) : null,
        v_mem: cks.find((c) => c.step === tMem)?.norms?.sq_norm_total ?? Math.exp(icpt),
        v_mem_fit: Math.exp(icpt),
        v_at_grok: t95 === null ? null : (cks.find((c) => c.step === t95)?.norms?.sq_norm_total ?? null),
        v_fit_end: last?.sq_norm_total ?? NaN,
        r2: 1 - ssr / sst,
        from: tMem,
        to: fitTo,
      };
    }
  }
  return {
    t_mem: tMem,
    t_grok_95: t95,
    t_grok_99: t99,
    delay_95: tMem !== null && t95 !== null ? t95 - tMem : null,
    delay_99: tMem !== null && t99 !== null ? t99 - tMem : null,
    phases,
    boundaries,
    contraction,
    notes: contraction ? [] : ['contraction fit needs ≥ 3 checkpoints with norms between T_mem and the cleanup'],
  };
}

/** Per-head attention from '=' with a periodic preference for a or b, softmax over [a, b, =]. */
export function syntheticAttention(p: number, keys: number[], step: number): AttentionMaps {
  const heads = [0, 1, 2, 3].map((h) => {
    const k = keys[h % keys.length];
    const to_a: number[][] = [];
    const to_b: number[][] = [];
    for (let a = 0; a < p; a++) {
      const ra: number[] = [];
      const rb: number[] = [];
      for (let b = 0; b < p; b++) {
        const sa = 2.5 * Math.cos((2 * Math.PI * k * a) / p + h);
        const sb = 2.5 * Math.cos((2 * Math.PI * k * b) / p + 2 * h);
        const z = Math.exp(sa) + Math.exp(sb) + Math.exp(-1);
        ra.push(Math.exp(sa) / z);
        rb.push(Math.exp(sb) / z);
      }
      to_a.push(ra);
      to_b.push(rb);
    }
    return { layer: 0, head: h, to_a, to_b };
  });
  return { step, p, heads };
}
