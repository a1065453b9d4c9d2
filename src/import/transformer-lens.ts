/**
 * The `transformer-lens` layout: a HookedTransformer.state_dict(), whose names and shapes are
 * already ours (README "Models and their parameters"):
 *   embed.W_E [d_vocab, d_model], pos_embed.W_pos [n_ctx, d_model],
 *   blocks.L.attn.W_Q/W_K/W_V [n_heads, d_model, d_head], W_O [n_heads, d_head, d_model],
 *   b_Q/b_K/b_V [n_heads, d_head], b_O [d_model], blocks.L.mlp.W_in [d_model, d_mlp], b_in [d_mlp],
 *   W_out [d_mlp, d_model], b_out [d_model], optional ln1/ln2/ln_final .w/.b [d_model],
 *   unembed.W_U [d_model, d_vocab_out], b_U [d_vocab_out].
 * Buffers (blocks.L.attn.mask, blocks.L.attn.IGNORE) are dropped. An '=' output column
 * (d_vocab_out = p + 1) is dropped, as every analysis uses the p number classes only.
 * The same geometry and conversion serve the tl-demo layout (tl-demo.ts).
 */
import { UserError } from '../errors.ts';
import type { NamedTensors } from '../run/store.ts';
import { describeShapes, type SourceStateDict } from './state-dict.ts';

export interface Geometry {
  n_layers: number;
  d_model: number;
  n_heads: number;
  d_head: number;
  d_mlp: number;
  layer_norm: boolean;
  p: number;
  n_ctx: number;
  d_vocab_out_source: number; // p, or p + 1 with the '=' column (dropped on import)
}

/** Buffers TransformerLens keeps in its state dict; not weights. */
export const TL_BUFFER = /^blocks\.\d+\.attn\.(mask|IGNORE)$/;

const shapeText = (s: readonly number[] | undefined) => (s ? `[${s.join(', ')}]` : 'missing');

/** Our tensor names for a geometry, in checkpoint order, with their shapes. */
export function groklensNames(g: Geometry): [string, number[]][] {
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M } = g;
  const out: [string, number[]][] = [
    ['embed.W_E', [g.p + 1, D]],
    ['pos_embed.W_pos', [g.n_ctx, D]],
  ];
  for (let l = 0; l < g.n_layers; l++) {
    const b = `blocks.${l}`;
    if (g.layer_norm) out.push([`${b}.ln1.w`, [D]], [`${b}.ln1.b`, [D]]);
    out.push(
      [`${b}.attn.W_Q`, [H, D, E]],
      [`${b}.attn.W_K`, [H, D, E]],
      [`${b}.attn.W_V`, [H, D, E]],
      [`${b}.attn.W_O`, [H, E, D]],
    );
    out.push([`${b}.attn.b_Q`, [H, E]], [`${b}.attn.b_K`, [H, E]], [`${b}.attn.b_V`, [H, E]], [`${b}.attn.b_O`, [D]]);
    if (g.layer_norm) out.push([`${b}.ln2.w`, [D]], [`${b}.ln2.b`, [D]]);
    out.push([`${b}.mlp.W_in`, [D, M]], [`${b}.mlp.b_in`, [M]], [`${b}.mlp.W_out`, [M, D]], [`${b}.mlp.b_out`, [D]]);
  }
  if (g.layer_norm) out.push(['ln_final.w', [D]], ['ln_final.b', [D]]);
  out.push(['unembed.W_U', [D, g.p]], ['unembed.b_U', [g.p]]);
  return out;
}

const OPTIONAL = /^(blocks\.\d+\.attn\.b_[QKVO]|unembed\.b_U)$/; // zeros when absent

/** Read the model's sizes off a TL state dict; `p` from --p or d_vocab − 1. */
export function tlGeometry(sd: SourceStateDict, pOption: number | undefined): Geometry {
  const s = sd.shapes;
  const need = (name: string, rank: number): number[] => {
    const shape = s.get(name);
    if (!shape || shape.length !== rank) {
      throw new UserError(
        `${sd.where}: ${name}: expected a ${rank}-D tensor (TransformerLens layout), found ${shapeText(shape)}; tensors: ${describeShapes(s)}`,
      );
    }
    return shape;
  };
  const [V, D] = need('embed.W_E', 2);
  const [T] = need('pos_embed.W_pos', 2);
  let L = 0;
  while (s.has(`blocks.${L}.attn.W_Q`)) L++;
  if (L === 0)
    throw new UserError(
      `${sd.where}: no blocks.0.attn.W_Q: not a TransformerLens transformer; tensors: ${describeShapes(s)}`,
    );
  const [H, , E] = need('blocks.0.attn.W_Q', 3);
  const [, M] = need('blocks.0.mlp.W_in', 2);
  const [, Vout] = need('unembed.W_U', 2);
  const p = pOption ?? V - 1;
  if (V !== p + 1)
    throw new UserError(
      `${sd.where}: embed.W_E has d_vocab ${V}, but --p ${p} needs p + 1 = ${p + 1} input tokens ([a, b, =])`,
    );
  if (Vout !== p && Vout !== p + 1)
    throw new UserError(`${sd.where}: unembed.W_U has d_vocab_out ${Vout}; with p = ${p} expected ${p} or ${p + 1}`);
  if (T !== 3)
    throw new UserError(`${sd.where}: pos_embed.W_pos has n_ctx ${T}; the modular tasks use 3 positions [a, b, =]`);
  const g: Geometry = {
    n_layers: L,
    d_model: D,
    n_heads: H,
    d_head: E,
    d_mlp: M,
    layer_norm: s.has('blocks.0.ln1.w'),
    p,
    n_ctx: T,
    d_vocab_out_source: Vout,
  };
  // Every tensor must be one of ours (with the source's output width) or a known buffer.
  const expected = new Map(
    groklensNames(g).map(([n, sh]) => [n, n === 'unembed.W_U' ? [D, Vout] : n === 'unembed.b_U' ? [Vout] : sh]),
  );
  const unknown = [...s.keys()].filter((k) => !expected.has(k) && !TL_BUFFER.test(k));
  if (unknown.length) {
    throw new UserError(
      `${sd.where}: tensor(s) ${unknown.slice(0, 8).join(', ')}${unknown.length > 8 ? ', …' : ''} are not part of a TransformerLens ${L}-layer transformer ` +
        `(attn-only models, rotary or grouped-query attention and normalization_type "LNPre" are not supported); tensors: ${describeShapes(s)}`,
    );
  }
  for (const [name, shape] of expected) {
    const got = s.get(name);
    if (!got && OPTIONAL.test(name)) continue;
    if (!got || got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new UserError(
        `${sd.where}: ${name}: expected shape ${shapeText(shape)} (d_model ${D}, ${H} heads × ${E}, d_mlp ${M}), found ${shapeText(got)}`,
      );
    }
  }
  return g;
}

/** One TL state dict → our tensors (float32), dropping the '=' output column if present. */
export async function convertTL(sd: SourceStateDict, g: Geometry, conversions: Set<string>): Promise<NamedTensors> {
  const out: NamedTensors = {};
  const dropped = [...sd.shapes.keys()].filter((k) => TL_BUFFER.test(k));
  if (dropped.length)
    conversions.add(
      `dropped the buffers ${[...new Set(dropped.map((k) => k.replace(/^blocks\.\d+\./, 'blocks.L.')))].join(', ')} (not weights)`,
    );
  for (const [name, shape] of groklensNames(g)) {
    if (!sd.shapes.has(name)) {
      conversions.add(`${name.replace(/^blocks\.\d+\./, 'blocks.L.')}: absent in the source, written as zeros`);
      out[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
      continue;
    }
    let data = await sd.load(name, conversions);
    if ((name === 'unembed.W_U' || name === 'unembed.b_U') && g.d_vocab_out_source === g.p + 1) {
      data = dropLastColumn(data, name === 'unembed.W_U' ? g.d_model : 1, g.p + 1);
      conversions.add(`${name}: dropped the '=' column (d_vocab_out p+1 → p)`);
    }
    out[name] = { shape, data };
  }
  return out;
}

/** [rows, cols] → [rows, cols − 1], keeping columns 0 … cols − 2. */
export function dropLastColumn(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * (cols - 1));
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols, r * cols + cols - 1), r * (cols - 1));
  return out;
}
