/**
 * What the files of a run directory may hold (README "The run directory"), as zod schemas: the
 * reader (./store.ts) checks every file against its schema before any field is used, so a
 * hand-edited or damaged file is one FormatError naming the file, the key and the value — never a
 * stack trace, and never a silently misread run. Unknown keys are ignored and left out of what the
 * reader returns (so a later groklens may add optional fields without a new format version, and
 * nothing unchecked is ever written back, e.g. by status.json's rewrite on resume).
 *
 * Checks that need more than one file — split indices against the task's example count, a
 * checkpoint's tensors against the model — are made where both are known (store.split(n),
 * store.readCheckpoint, session.loadRun).
 */
import { z } from 'zod';
import { READABLE_RUN_FORMAT_VERSIONS } from '../version.ts';

const nonNegInt = z.int().min(0).describe('a non-negative integer');
const posInt = z.int().min(1).describe('a positive integer');
const text = z.string().describe('a string');
const steps = z.array(nonNegInt).describe('a list of steps (non-negative integers)');

// ---- run.json ----

const ParamSpecSchema = z
  .object({
    name: text,
    shape: z.array(nonNegInt).describe('a list of non-negative integers'),
    frozen: z.literal(true).optional().describe('true, or absent'),
  })
  .describe('an object {name, shape, frozen?}');

export const ImportedFromSchema = z
  .object({
    sources: z
      .array(z.object({ file: text, sha256: text, bytes: nonNegInt }).describe('an object {file, sha256, bytes}'))
      .describe('a list of {file, sha256, bytes}'),
    layout: text,
    conversions: z.array(text).describe('a list of strings'),
    imported_at: text,
    notes: z.array(text).describe('a list of strings'),
  })
  .describe('an object {sources, layout, conversions, imported_at, notes}');

/**
 * run.json after its format and format_version have been checked. `config` is only required to
 * be an object here: validateConfig (src/config/load.ts) checks every key of it, with messages in
 * the config's own terms. `notes` is never read from the file (the reader makes them).
 */
export const RunMetaSchema = z.object({
  format: z.literal('groklens-run').describe('"groklens-run"'),
  format_version: z
    .union(READABLE_RUN_FORMAT_VERSIONS.map((v) => z.literal(v)))
    .describe(`one of ${READABLE_RUN_FORMAT_VERSIONS.join(', ')}`),
  groklens_version: text,
  name: text,
  created_at: text,
  preset: z.string().nullable().describe('a preset name or null'),
  backend: z
    .object({
      name: text,
      requested: text,
      tfjs_version: text,
      simd: z.boolean().optional().describe('true or false'),
      threads: nonNegInt.optional(),
      // which BLAS computed the matrix products (src/backend/blas.ts BlasRecord), when one was asked for
      blas: z
        .union([
          z.object({
            library: text,
            path: text.nullable().default(null),
            version: text,
            threads: nonNegInt.nullable(),
          }), // path: absent in runs of early 0.2.0 builds
          z.object({ library: z.null(), reason: text }),
        ])
        .optional()
        .describe('an object {library, path, version, threads} or {library: null, reason}'),
    })
    .describe('an object {name, requested, tfjs_version, simd?, threads?, blas?}'),
  config: z.record(z.string(), z.unknown()).describe('an object (the resolved config)'),
  dataset: z
    .object({
      description: text,
      n: posInt,
      n_ctx: posInt,
      d_vocab: posInt,
      d_vocab_out: posInt,
      n_train: nonNegInt,
      n_test: nonNegInt,
    })
    .describe('an object {description, n, n_ctx, d_vocab, d_vocab_out, n_train, n_test}'),
  params: z.array(ParamSpecSchema).describe('a list of {name, shape}'),
  n_params: nonNegInt,
  imported_from: ImportedFromSchema.optional(),
});

// ---- status.json ----

export const DivergenceRecordSchema = z
  .object({
    step: nonNegInt,
    what: z
      .enum(['train loss', 'gradient', 'weights', 'evaluation'])
      .describe('one of "train loss", "gradient", "weights", "evaluation"'),
    detail: text,
    last_finite_checkpoint: nonNegInt.nullable().describe('a step (non-negative integer) or null'),
    on_divergence: z.enum(['stop', 'continue']).describe('"stop" or "continue"'),
  })
  .describe('an object {step, what, detail, last_finite_checkpoint, on_divergence}');

export const RunStatusSchema = z
  .object({
    format_version: z.int().describe('an integer'), // checked against the readable versions first
    state: z
      .enum(['running', 'finished', 'interrupted', 'failed', 'diverged'])
      .describe('one of running, finished, interrupted, failed, diverged'),
    step: nonNegInt,
    final_step: nonNegInt.nullable().describe('a step (non-negative integer) or null'),
    checkpoints: steps,
    error: text.optional(),
    divergence: DivergenceRecordSchema.optional(),
    updated_at: text,
  })
  .describe('an object {format_version, state, step, final_step, checkpoints, updated_at}');

// ---- split.json (train and test are checked by hand: they are long, and need the task's n) ----

export const SplitFileSchema = z
  .object({
    format_version: z.int().optional().describe('an integer'),
    train: z.array(z.unknown()).describe('a list of example indices'),
    test: z.array(z.unknown()).describe('a list of example indices'),
    train_fraction: z.number().optional().describe('a number'),
    seed: z.int().nullable().optional().describe('an integer or null'),
    mode: text.optional(),
    source: text.optional(),
    n_train: nonNegInt.optional(),
    n_test: nonNegInt.optional(),
  })
  .describe('an object {train, test, …}');

// ---- metrics.jsonl, one row per line ----

/** A logged number: JSON has no NaN or ±∞, so a non-finite value was written as null. */
const logged = (what: string, range?: [number, number]) => {
  let n = z.number();
  if (range) n = n.min(range[0]).max(range[1]);
  return n.nullable().describe(`${what} or null (not finite)`);
};

export const MetricsRowSchema = z
  .object({
    step: nonNegInt,
    train_loss: logged('a number'),
    train_acc: logged('a number in [0, 1]', [0, 1]),
    test_loss: logged('a number'),
    test_acc: logged('a number in [0, 1]', [0, 1]),
    sq_norm: logged('a number ≥ 0', [0, Infinity]),
    lr: logged('a number ≥ 0', [0, Infinity]),
    wall_time: logged('a number of seconds ≥ 0', [0, Infinity]),
    imported: z.literal(true).optional().describe('true, or absent'),
  })
  .describe('an object {step, train_loss, train_acc, test_loss, test_acc, sq_norm, lr, wall_time}');
