/**
 * analysis.json (format version 1, ./types.ts) as a zod schema: what `analyze` takes back from a
 * previous run and what `report` and `compare` draw, checked before any field is used, so a
 * hand-edited or foreign file is one FormatError naming the file, the key and the value.
 *
 * Numbers may be null everywhere: the writer rounds finite numbers and JSON has no NaN or ±∞, so a
 * value that could not be computed is null. A checkpoint may lack any pass, but a pass result
 * present has every field analyze writes. Unknown keys are ignored and left out of what the
 * reader returns, so nothing unchecked is written back when analyze extends the file. Cross-field
 * rules — ascending steps, key frequencies within the group's range — are checked by
 * checkAnalysisValue (./store.ts); reports/input.ts adds only what its charts pair up (array lengths).
 */
import { z } from 'zod';
import { ALL_PASSES } from './types.ts';

const num = z.number().nullable().describe('a number or null');
const nums = z.array(num).describe('a list of numbers');
const unit = z.number().min(0).max(1).nullable().describe('a number in [0, 1] or null');
const nonNeg = z.number().min(0).nullable().describe('a number ≥ 0 or null');
const nonNegInt = z.int().min(0).describe('a non-negative integer');
const posInt = z.int().min(1).describe('a positive integer');
const step = nonNegInt.describe('a step (non-negative integer)');
const stepOrNull = step.nullable().describe('a step (non-negative integer) or null');
const text = z.string().describe('a string');
const obj = <T extends z.core.$ZodLooseShape>(shape: T, what: string) => z.object(shape).describe(what);

const MetricsResult = obj(
  { train_loss: nonNeg, train_acc: unit, test_loss: nonNeg, test_acc: unit, all_loss: nonNeg, all_acc: unit },
  'an object {train_loss, train_acc, test_loss, test_acc, all_loss, all_acc}',
);
const FourierResult = obj(
  {
    embed_norms: nums,
    logit_map_norms: nums,
    gini_embed: unit,
    gini_logit_map: unit,
    ipr_mean: num,
    non_fourier_energy: num,
    key_frequencies: z.array(posInt).optional().describe('a list of frequencies (positive integers)'),
  },
  'an object (the fourier pass)',
);
const CircuitResult = obj(
  {
    restricted_loss: nonNeg,
    restricted_loss_train: nonNeg,
    restricted_acc: unit,
    excluded_loss: nonNeg,
    excluded_loss_per_key: nums,
    excluded_loss_max: num,
    excluded_loss_max_k: num,
    alpha: nums,
    test_restricted_ratio: num,
    outside_group: obj({ n: nonNegInt, loss: num, acc: num }, 'an object {n, loss, acc}').optional(),
  },
  'an object (the circuit pass)',
);
const perTensor = z.record(z.string(), num).describe('an object of numbers by tensor name');
const NormsResult = obj(
  { sq_norm_total: nonNeg, sq_norm: perTensor, linf: num, rel_dist_total: num, rel_dist: perTensor },
  'an object (the norms pass)',
);
const KernelStats = obj(
  { kernel_distance: num, change_abs: num, change_rel: num, alignment: num, alignment_centred: num, trace: num },
  'an object of kernel statistics',
);
const NtkResult = obj({ projection: KernelStats, first_output: KernelStats }, 'an object {projection, first_output}');

const LlcChain = obj(
  {
    llc: num,
    mean_loss: num,
    status: z.enum(['ok', 'diverged']).describe('"ok" or "diverged"'),
    reason: text.optional(),
    below_init: num,
    trace: nums,
    trace_every: posInt,
  },
  'an object {llc, mean_loss, status, below_init, trace, trace_every}',
);
const LlcResult = obj(
  {
    llc: num,
    llc_std: num,
    init_loss: num,
    diverged_chains: nonNegInt,
    chains: z.array(LlcChain).describe('a list of chains'),
  },
  'an object (the llc pass)',
);
const LlcOptions = obj(
  {
    epsilon: num,
    gamma: num,
    nbeta: num,
    chains: posInt,
    draws: posInt,
    burnin: nonNegInt,
    seed: nonNegInt,
    trace_points: posInt,
    batch_size: posInt,
    n: posInt,
    nbeta_rule: z.enum(['n/ln n', 'given']).describe('"n/ln n" or "given"'),
    checkpoints: z
      .union([posInt, z.literal('all')])
      .optional()
      .describe('a positive integer or "all"'), // absent before the subset existed
  },
  'an object {epsilon, gamma, nbeta, chains, draws, burnin, seed, batch_size, n, …}',
);
const coords = z.array(nums).describe('a list of [PC1, PC2, PC3] coordinates');
const TrajectoryView = {
  n_params: nonNegInt,
  total_variance: num,
  explained_variance_ratio: nums,
  coords,
  effective_dim: num,
  window_effective_dim: nums,
};
const Trajectory = obj(
  {
    ...TrajectoryView,
    steps: z.array(step).describe('a list of steps'),
    window: nonNegInt,
    window_steps: z.array(step).describe('a list of steps'),
    per_tensor: z
      .record(
        z.string(),
        obj(
          TrajectoryView,
          'an object {n_params, explained_variance_ratio, coords, effective_dim, window_effective_dim}',
        ),
      )
      .describe('an object of per-tensor trajectories'),
    excluded: z.array(obj({ step, problem: text }, 'an object {step, problem}')).describe('a list of {step, problem}'),
  },
  'an object (the trajectory pass)',
);

const NeuronClusterSchema = obj(
  { frequency: nonNegInt, neurons: nonNegInt, mean_explained: num },
  'an object {frequency, neurons, mean_explained}',
);
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .describe('a base64 string');
const QuantisedGrid = obj(
  { lo: z.number().describe('a number'), hi: z.number().describe('a number'), data: base64 },
  'an object {lo, hi, data}',
);
const CheckpointGrids = obj(
  {
    version: posInt,
    p: posInt,
    quantisation: z.literal('uint8').describe('"uint8"'),
    selection: text,
    neurons: z
      .array(
        obj({ neuron: nonNegInt, frequency: nonNegInt, explained: num }, 'an object {neuron, frequency, explained}'),
      )
      .describe('a list of {neuron, frequency, explained}'),
    neurons_step: stepOrNull,
    heads: z
      .array(obj({ layer: nonNegInt, head: nonNegInt }, 'an object {layer, head}'))
      .describe('a list of {layer, head}'),
    checkpoints: z
      .array(
        obj(
          {
            step,
            neuron_clusters: z.array(NeuronClusterSchema).describe('a list of {frequency, neurons, mean_explained}'),
            unclustered_neurons: nonNegInt,
            neurons: z.array(QuantisedGrid).describe('a list of grids'),
            attention: z
              .array(obj({ to_a: QuantisedGrid, to_b: QuantisedGrid }, 'an object {to_a, to_b}'))
              .describe('a list of {to_a, to_b}'),
          },
          'an object {step, neuron_clusters, unclustered_neurons, neurons, attention}',
        ),
      )
      .describe('a list of checkpoint grids'),
  },
  'an object (the checkpoint grids)',
);

const CheckpointResult = obj(
  {
    step,
    file: text,
    metrics: MetricsResult.optional(),
    fourier: FourierResult.optional(),
    circuit: CircuitResult.optional(),
    norms: NormsResult.optional(),
    ntk: NtkResult.optional(),
    llc: LlcResult.optional(),
  },
  'an object {step, file, metrics?, fourier?, circuit?, norms?, ntk?, llc?}',
);

const phase = z
  .enum(['memorisation', 'circuit_formation', 'cleanup', 'stable'])
  .describe('one of memorisation, circuit_formation, cleanup, stable');

const Summary = obj(
  {
    t_mem: stepOrNull,
    t_grok_95: stepOrNull,
    t_grok_99: stepOrNull,
    delay_95: z.int().nullable().describe('an integer or null'),
    delay_99: z.int().nullable().describe('an integer or null'),
    phases: z
      .array(obj({ name: phase, start: step, end: stepOrNull }, 'an object {name, start, end}'))
      .describe('a list of {name, start, end}'),
    boundaries: z
      .array(obj({ from: phase, to: phase, step, reason: text }, 'an object {from, to, step, reason}'))
      .describe('a list of {from, to, step, reason}'),
    contraction: obj(
      {
        c: num,
        c_over_lr_wd: num,
        v_mem: num,
        v_mem_fit: num,
        v_at_grok: num.nullable(),
        v_fit_end: num,
        r2: num,
        from: step,
        to: step,
      },
      'an object {c, c_over_lr_wd, v_mem, v_mem_fit, v_at_grok, v_fit_end, r2, from, to} or null',
    ).nullable(),
    notes: z.array(text).describe('a list of strings'),
  },
  'an object {t_mem, t_grok_95, …, phases, boundaries, contraction, notes}',
);

export const AnalysisFileSchema = obj(
  {
    format: z.literal('groklens-analysis').describe('"groklens-analysis"'),
    format_version: z.int().describe('an integer'),
    groklens_version: text,
    run: obj(
      {
        name: text,
        task: text,
        model: text,
        n_params: nonNegInt,
        n_train: nonNegInt,
        n_test: nonNegInt,
        lr: num,
        weight_decay: num,
        optimizer: text,
        seed: nonNegInt,
        backend: text,
        steps: nonNegInt,
        divergence: obj(
          { step, what: text, detail: text, last_finite_checkpoint: stepOrNull },
          'an object {step, what, detail, last_finite_checkpoint}',
        ).optional(),
      },
      'an object {name, task, model, n_params, …}',
    ),
    options: obj(
      {
        passes: z.array(z.enum(ALL_PASSES)).describe(`a list of pass names (${ALL_PASSES.join(', ')})`),
        key_freq_source: z.enum(['final', 'per-checkpoint']).describe('"final" or "per-checkpoint"'),
        probe: obj(
          {
            n: z.int().min(2).describe('an integer ≥ 2'),
            seed: z.int().min(0).max(0xffffffff).describe('an integer in [0, 2^32)'),
            indices: z.array(nonNegInt).describe('a list of example indices'),
            projection: nums,
          },
          'an object {n, seed, indices, projection} or null',
        ).nullable(),
        llc: LlcOptions.optional(),
      },
      'an object {passes, key_freq_source, probe}',
    ),
    group: obj(
      {
        kind: z.enum(['additive', 'multiplicative', 'none']).describe('one of additive, multiplicative, none'),
        n: nonNegInt,
        generator: nonNegInt.optional(),
        description: text,
      },
      'an object {kind, n, description}',
    ),
    key_frequencies: z.array(posInt).describe('a list of frequencies (positive integers)'),
    key_frequencies_step: stepOrNull,
    neuron_clusters: z
      .array(
        obj(
          { frequency: nonNegInt, neurons: nonNegInt, mean_explained: num },
          'an object {frequency, neurons, mean_explained}',
        ),
      )
      .describe('a list of {frequency, neurons, mean_explained}'),
    unclustered_neurons: nonNegInt,
    attention: obj(
      {
        step,
        p: posInt,
        heads: z
          .array(
            obj(
              {
                layer: nonNegInt.optional(),
                head: nonNegInt.optional(),
                to_a: z.array(nums).describe('a list of rows of numbers'),
                to_b: z.array(nums).describe('a list of rows of numbers'),
              },
              'an object {layer, head, to_a, to_b}',
            ),
          )
          .describe('a list of heads'),
      },
      'an object {step, p, heads}',
    ).optional(),
    checkpoint_grids: CheckpointGrids.optional(),
    trajectory: Trajectory.optional(),
    checkpoints: z.array(CheckpointResult).describe('a list of checkpoint results'),
    summary: Summary,
    warnings: z
      .array(obj({ file: text, problem: text }, 'an object {file, problem}'))
      .describe('a list of {file, problem}'),
    updated_at: text,
  },
  'an object (a groklens analysis.json)',
);
