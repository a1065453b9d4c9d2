/**
 * A groklens transformer checkpoint as a TransformerLens `HookedTransformer` state dict, and the
 * `HookedTransformerConfig` keyword arguments that rebuild the same model. Pure functions: the
 * export command (cli/commands/export.ts) reads the run and writes the files.
 *
 * What TransformerLens holds, read from its source (components/abstract_attention.py,
 * attention.py, mlps/mlp.py, layer_norm.py, embed.py, pos_embed.py, unembed.py and
 * config/hooked_transformer_config.py, releases 1.7 to 3.x):
 * - the parameters under the names and shapes our checkpoints already use (transformerSpecs);
 *   TransformerLens always has b_Q, b_K, b_V, b_O, so a run without model.attn_bias exports them
 *   as the zeros its checkpoints hold;
 * - two buffers per attention layer: `blocks.L.attn.mask`, bool [n_ctx, n_ctx], True where a
 *   query may attend to a key (lower-triangular, causal), and `blocks.L.attn.IGNORE`, a float32
 *   scalar put in place of masked scores. IGNORE is −inf since TransformerLens 1.7.0 (−1e5
 *   before); load_state_dict copies the value we write into the buffer, so we write TL's −inf.
 *   From 3.5.0 the mask buffer is empty [0, 0] and built per call; its _load_from_state_dict then
 *   keeps its own buffer when a saved mask has another shape, so [n_ctx, n_ctx] loads into both.
 * - normalization_type defaults to "LN" in TransformerLens: a model without LayerNorm must say
 *   None explicitly. Our pre-LN (ln1 before attention, ln2 before the MLP, ln_final before the
 *   unembedding, each with a weight and a bias, ε = 1e-5) is TransformerLens' "LN".
 * - act_fn "gelu" is F.gelu, the exact erf form, which is ours ("gelu_new" would be the tanh one).
 * - the unembedding maps to d_vocab_out classes: p for the modular tasks, whose '=' token (p) is an
 *   input only, so d_vocab = p + 1 and d_vocab_out = p.
 */
import type { RunConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { TensorInput } from '../io/safetensors.ts';
import { transformerSpecs, type TransformerConfig } from '../models/transformer/model.ts';
import type { ModelDims } from '../models/types.ts';
import type { NamedTensors } from '../run/store.ts';

export const EXPORT_FORMATS = ['transformer-lens'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** TransformerLens' IGNORE buffer: the score given to a masked (future) key. */
export const TL_IGNORE = -Infinity;

/**
 * Keyword arguments of HookedTransformerConfig (`HookedTransformerConfig(**config)`), every one a
 * field of that dataclass. Fields left at TransformerLens' defaults are those that already match
 * (use_attn_scale with attn_scale √d_head, attention_dir "causal", float32, no rotary, no
 * parallel attention/MLP, no gated MLP). `seed` is left unset: TL would reseed every global RNG.
 */
export interface HookedTransformerConfigJson {
  model_name: string;
  n_layers: number;
  d_model: number;
  d_head: number;
  n_heads: number;
  d_mlp: number;
  d_vocab: number; // input tokens: p + 1 for the modular tasks ('=' is token p)
  d_vocab_out: number; // output classes: p
  n_ctx: number; // 3: [a, b, =]
  act_fn: 'relu' | 'gelu';
  normalization_type: 'LN' | null;
  eps: number;
  positional_embedding_type: 'standard';
  attn_only: false;
  attention_dir: 'causal';
  use_attn_scale: true;
  final_rms: false;
  default_prepend_bos: false; // no tokenizer, no BOS: inputs are exactly [a, b, =]
  tokenizer_name: null;
  original_architecture: null;
}

/** The transformer section of a run's config, or a one-line error for a model TL has no match for. */
export function requireTransformer(config: RunConfig, runDir: string): TransformerConfig {
  const model = config.model;
  if (model.kind !== 'transformer') {
    throw new UserError(
      `${runDir}: --format transformer-lens: TransformerLens has no ${model.kind} model (model.kind = ${JSON.stringify(model.kind)}); only transformer runs can be exported`,
    );
  }
  return model;
}

/** Validate --format; unknown values name the value and the formats supported. */
export function parseFormat(value: unknown): ExportFormat {
  if (typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value)) return value as ExportFormat;
  throw new UserError(`--format: unknown format ${JSON.stringify(value)} (supported: ${EXPORT_FORMATS.join(', ')})`);
}

/**
 * --steps: 'all' (default), 'last', or a comma-separated list of steps, each of which must be a
 * checkpoint on disk. Returns ascending, without duplicates.
 */
export function selectSteps(spec: string | undefined, available: readonly number[], runDir: string): number[] {
  if (available.length === 0) throw new UserError(`${runDir}: no checkpoints to export (checkpoints/ is empty)`);
  const s = (spec ?? 'all').trim();
  if (s === 'all') return [...available];
  if (s === 'last') return [available[available.length - 1]];
  const have = new Set(available);
  const chosen = new Set<number>();
  for (const part of s.split(',')) {
    const t = part.trim();
    if (!/^\d+$/.test(t))
      throw new UserError(
        `--steps: ${JSON.stringify(t)} is not a step (expected all, last or a list such as 0,1000,2000)`,
      );
    const step = Number(t);
    if (!have.has(step)) {
      throw new UserError(`--steps: ${runDir} has no checkpoint at step ${step} (it has ${describeSteps(available)})`);
    }
    chosen.add(step);
  }
  return [...chosen].sort((a, b) => a - b);
}

function describeSteps(steps: readonly number[]): string {
  if (steps.length <= 12) return `steps ${steps.join(', ')}`;
  return `${steps.length} steps: ${steps.slice(0, 5).join(', ')}, …, ${steps.slice(-5).join(', ')}`;
}

/** The HookedTransformerConfig reproducing `cfg` on a task of these sizes. */
export function hookedTransformerConfig(
  cfg: TransformerConfig,
  dims: ModelDims,
  runName: string,
): HookedTransformerConfigJson {
  return {
    model_name: `groklens-${runName}`,
    n_layers: cfg.n_layers,
    d_model: cfg.d_model,
    d_head: cfg.d_head,
    n_heads: cfg.n_heads,
    d_mlp: cfg.d_mlp,
    d_vocab: dims.d_vocab,
    d_vocab_out: dims.d_vocab_out,
    n_ctx: dims.n_ctx,
    act_fn: cfg.act,
    normalization_type: cfg.layer_norm ? 'LN' : null,
    eps: 1e-5, // LN_EPS in src/models/common.ts, TL's default
    positional_embedding_type: 'standard',
    attn_only: false,
    attention_dir: 'causal',
    use_attn_scale: true,
    final_rms: false,
    default_prepend_bos: false,
    tokenizer_name: null,
    original_architecture: null,
  };
}

/** Lower-triangular bool [n, n], row-major: entry (q, k) is 1 iff key k ≤ query q. */
export function causalMask(n: number): Uint8Array {
  const m = new Uint8Array(n * n);
  for (let q = 0; q < n; q++) for (let k = 0; k <= q; k++) m[q * n + k] = 1;
  return m;
}

/**
 * A checkpoint's tensors plus TransformerLens' buffers, in our order with each layer's mask and
 * IGNORE right after its attention biases. The float32 data are the checkpoint's own arrays.
 */
export function tlStateDict(
  cfg: TransformerConfig,
  dims: ModelDims,
  params: NamedTensors,
): Record<string, TensorInput> {
  const out: Record<string, TensorInput> = {};
  const mask = causalMask(dims.n_ctx); // [n_ctx, n_ctx], shared by every layer (written, never mutated)
  for (const { name, shape } of transformerSpecs(cfg, dims)) {
    const t = params[name];
    if (t === undefined) throw new Error(`tlStateDict: checkpoint has no '${name}'`); // checked on load; a bug here
    out[name] = { dtype: 'F32', shape, data: t.data };
    const layer = /^blocks\.(\d+)\.attn\.b_O$/.exec(name);
    if (layer) {
      out[`blocks.${layer[1]}.attn.mask`] = { dtype: 'BOOL', shape: [dims.n_ctx, dims.n_ctx], data: mask };
      out[`blocks.${layer[1]}.attn.IGNORE`] = { dtype: 'F32', shape: [], data: new Float32Array([TL_IGNORE]) };
    }
  }
  return out;
}

export const stepFileStem = (step: number): string => `step-${String(step).padStart(7, '0')}`;
