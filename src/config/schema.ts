/**
 * The validating twin of ./types.ts, and the documented defaults.
 *
 * Every leaf carries a `.describe()` text that completes the sentence "expected …"; error messages
 * (./issues.ts) and `groklens train` help read it, so the constraint and its wording live together.
 * Objects are strict: an unknown key is an error, never silently ignored. `task` and `model` are
 * discriminated unions on `kind`, and their defaults depend on the kind (TASK_DEFAULTS,
 * MODEL_DEFAULTS): switching `model.kind` starts that section again from the new kind's defaults.
 */
import { z } from 'zod';
import { isPrime } from '../tasks/modular.ts';
import type { ModelConfig, RunConfig, TaskConfig } from './types.ts';

// ---- leaf builders: one place for each constraint and its wording ----

const positiveInt = () => z.number().int().positive().describe('a positive integer');
const nonNegativeInt = () => z.number().int().min(0).describe('an integer ≥ 0');
const positive = () => z.number().positive().describe('a number > 0');
const nonNegative = () => z.number().min(0).describe('a number ≥ 0');
/** Seeds feed Rng (xoshiro128** via splitmix32), which takes a uint32. */
const seed = () => z.number().int().min(0).max(0xffffffff).describe('an integer in [0, 2^32)');
const unitInterval = (what: string) => z.number().min(0).lt(1).describe(what);

// ---- task ----

export const MODULAR_OPS = [
  'add',
  'sub',
  'mul',
  'div',
  'x2+y2',
  'x2+xy+y2',
  'x2+xy+y2+x',
  'x3+xy',
  'x3+xy2+y',
] as const;

const ModularTaskSchema = z
  .strictObject({
    kind: z.literal('modular'),
    op: z.enum(MODULAR_OPS),
    p: z.number().int().min(2).describe('an integer ≥ 2'),
  })
  .superRefine((t, ctx) => {
    // x/y mod p needs every y ≠ 0 to be invertible, i.e. a prime modulus.
    if (t.op === 'div' && !isPrime(t.p)) {
      ctx.addIssue({
        code: 'custom',
        path: ['p'],
        message: `task.op "div" needs a prime modulus; task.p ${t.p} is not prime`,
        params: { keys: ['task.p', 'task.op'] },
      });
    }
  });

const S5TaskSchema = z.strictObject({ kind: z.literal('s5') });

const SparseParityTaskSchema = z
  .strictObject({
    kind: z.literal('sparse-parity'),
    n_bits: positiveInt(),
    k: positiveInt(),
    samples: z.number().int().min(2).describe('an integer ≥ 2 (train and test both need examples)'),
    labels: z.enum(['pm1', 'class']),
    seed: seed(),
  })
  .superRefine((t, ctx) => {
    if (t.k > t.n_bits) {
      ctx.addIssue({
        code: 'custom',
        path: ['k'],
        message: `task.k (${t.k}) must not exceed task.n_bits (${t.n_bits})`,
        params: { keys: ['task.k', 'task.n_bits'] },
      });
    }
  });

export const TaskSchema = z.discriminatedUnion('kind', [ModularTaskSchema, S5TaskSchema, SparseParityTaskSchema]);

// ---- split ----

export const SplitSchema = z.strictObject({
  train_fraction: z.number().gt(0).lt(1).describe('a number in (0, 1)'),
  seed: seed(),
  mode: z.enum(['shuffle', 'python-random']),
});

// ---- model ----

export const TransformerSchema = z.strictObject({
  kind: z.literal('transformer'),
  n_layers: positiveInt(),
  d_model: positiveInt(),
  n_heads: positiveInt(),
  d_head: positiveInt(), // n_heads·d_head need not equal d_model
  d_mlp: positiveInt(),
  act: z.enum(['relu', 'gelu']),
  layer_norm: z.boolean().describe('true or false'),
  attn_bias: z.boolean().describe('true or false'),
  init_scale: positive(),
});

export const MlpSchema = z.strictObject({
  kind: z.literal('mlp'),
  d_embed: positiveInt(),
  hidden: z.array(positiveInt()).min(1).describe('a non-empty list of positive integers, e.g. [256, 256]'),
  act: z.enum(['relu', 'gelu', 'quadratic', 'tanh', 'linear']),
  init_scale: positive(),
});

export const QuadraticSchema = z.strictObject({
  kind: z.literal('quadratic'),
  hidden: positiveInt(),
  init_scale: positive(),
});

export const ModelSchema = z.discriminatedUnion('kind', [TransformerSchema, MlpSchema, QuadraticSchema]);

// ---- optimiser, training, checkpoints ----

export const OptimizerSchema = z
  .strictObject({
    kind: z.enum(['adamw', 'adam', 'sgd']),
    lr: positive(),
    weight_decay: nonNegative(),
    betas: z
      .tuple([unitInterval('β1 in [0, 1)'), unitInterval('β2 in [0, 1)')])
      .describe('[β1, β2], two numbers each in [0, 1), e.g. [0.9, 0.98]'),
    eps: positive(),
    momentum: unitInterval('a number in [0, 1)'),
    nesterov: z.boolean().describe('true or false'),
    decoupled_weight_decay: z.boolean().describe('true or false'),
    linf_penalty: nonNegative(),
    warmup_steps: nonNegativeInt(),
  })
  .superRefine((o, ctx) => {
    // Nesterov's look-ahead is undefined without momentum (PyTorch refuses it too).
    if (o.kind === 'sgd' && o.nesterov && o.momentum === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nesterov'],
        message: 'optimizer.nesterov needs optimizer.momentum > 0',
        params: { keys: ['optimizer.nesterov', 'optimizer.momentum', 'optimizer.kind'] },
      });
    }
  });

export const TrainingSchema = z.strictObject({
  steps: positiveInt(),
  batch_size: z.number().int().positive().nullable().describe('a positive integer, or null for full batch'),
  loss: z.enum(['cross-entropy', 'mse']),
  early_stop_after_grok: z.number().int().min(0).nullable().describe('an integer ≥ 0, or null to run the whole budget'),
  eval_every: positiveInt(),
  seed: seed(),
});

export const CheckpointSchema = z.strictObject({
  every: positiveInt(),
  log_spaced: nonNegativeInt(),
});

export const RunConfigSchema = z
  .strictObject({
    task: TaskSchema,
    split: SplitSchema,
    model: ModelSchema,
    optimizer: OptimizerSchema,
    training: TrainingSchema,
    checkpoints: CheckpointSchema,
  })
  .superRefine((c, ctx) => {
    // ±1 labels only shape MSE targets; with cross-entropy the setting would silently do nothing.
    if (c.task.kind === 'sparse-parity' && c.task.labels === 'pm1' && c.training.loss !== 'mse') {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'loss'],
        message: `task.labels "pm1" needs training.loss "mse" (got "${c.training.loss}")`,
        params: { keys: ['training.loss', 'task.labels'] },
      });
    }
  });

// The schema must produce exactly the shared types: this line stops compiling if they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Same<z.infer<typeof RunConfigSchema>, RunConfig> = true;
void schemaMatchesTypes;

// ---- defaults ----

/** Defaults are shared constants: freeze them so a caller that forgets to clone fails loudly. */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

type TaskOf<K extends TaskConfig['kind']> = Extract<TaskConfig, { kind: K }>;
type ModelOf<K extends ModelConfig['kind']> = Extract<ModelConfig, { kind: K }>;

/** Defaults of each task kind; switching `task.kind` starts from these. */
export const TASK_DEFAULTS: { [K in TaskConfig['kind']]: TaskOf<K> } = deepFreeze({
  modular: {
    kind: 'modular',
    op: 'add', // a + b mod p, Nanda et al. 2023's task
    p: 113, // Nanda et al.'s modulus (a prime, so every op including div is defined)
  },
  s5: { kind: 's5' }, // composition in the permutation group S5 (120 elements), Power et al. 2022
  'sparse-parity': {
    kind: 'sparse-parity',
    n_bits: 40, // n: Barak et al. 2022's (n, k) = (40, 3)
    k: 3, // number of relevant bits
    samples: 2000, // our choice: a fixed finite sample, so there is something to memorise
    labels: 'class', // classes {0, 1}, which goes with the default cross-entropy loss
    seed: 0, // draws the relevant bits and the samples
  },
});

/** Defaults of each model kind; switching `model.kind` starts from these. */
export const MODEL_DEFAULTS: { [K in ModelConfig['kind']]: ModelOf<K> } = deepFreeze({
  transformer: {
    kind: 'transformer',
    n_layers: 1, // Nanda et al. 2023's one-layer model
    d_model: 128, // residual stream width
    n_heads: 4, // attention heads …
    d_head: 32, // … of 32 dimensions each (4 × 32 = d_model, not required)
    d_mlp: 512, // 4 × d_model
    act: 'relu', // ReLU MLP
    layer_norm: false, // no LayerNorm, as in Nanda et al.
    attn_bias: false, // no attention biases, as in Nanda et al. (stored as zeros, never trained)
    init_scale: 1, // α = 1: the standard N(0,1)/√d_model init, unscaled
  },
  mlp: {
    kind: 'mlp',
    d_embed: 128, // shared embedding width per input position
    hidden: [256], // one hidden layer of 256 units
    act: 'relu', // ReLU hidden units
    init_scale: 1, // α = 1: no rescaling of the initial weights
  },
  quadratic: {
    kind: 'quadratic',
    hidden: 512, // h: width of the squared hidden layer
    init_scale: 1, // α = 1: no rescaling of the initial weights
  },
});

/** The complete default config: Nanda et al. 2023's mainline run (docs/measures.md#reference-training-setup). */
export const DEFAULTS: RunConfig = deepFreeze({
  task: TASK_DEFAULTS.modular, // a + b mod 113
  split: {
    train_fraction: 0.3, // 30 % of the p² pairs train (3830 of 12769 at p = 113)
    seed: 0, // random.seed(0) …
    mode: 'python-random', // … random.shuffle(pairs): Nanda et al.'s exact split
  },
  model: MODEL_DEFAULTS.transformer, // 1 layer, d_model 128, 4 heads × 32, d_mlp 512, ReLU, no LN
  optimizer: {
    kind: 'adamw', // decoupled weight decay (θ ← θ − lr·wd·θ, then the Adam step)
    lr: 1e-3, // learning rate
    weight_decay: 1.0, // on every parameter; what makes the model grok
    betas: [0.9, 0.98], // Adam moment decay rates (β2 0.98, not PyTorch's 0.999)
    eps: 1e-8, // Adam denominator guard
    momentum: 0, // sgd only
    nesterov: false, // sgd only
    decoupled_weight_decay: true, // sgd only: θ ← θ − lr·wd·θ rather than wd·θ added to the gradient
    linf_penalty: 0, // no λ·max|θ| penalty
    warmup_steps: 10, // lr·min(step/10, 1): the first update has lr 0
  },
  training: {
    steps: 40000, // optimiser steps (= epochs at full batch)
    batch_size: null, // full batch: one step per epoch
    loss: 'cross-entropy', // over the p output classes
    early_stop_after_grok: null, // run the whole budget
    eval_every: 100, // a metrics row every 100 steps
    seed: 0, // model init and minibatch order
  },
  checkpoints: {
    every: 100, // a checkpoint every 100 steps …
    log_spaced: 20, // … plus 20 log-spaced ones in the first 100 steps, where things move fast
  },
});
