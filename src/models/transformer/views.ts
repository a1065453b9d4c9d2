/**
 * The transformer's weight matrices for the Fourier analyses (../views.ts):
 *   embedding  = embed.W_E rows of the number tokens              [n, d_model]
 *   logitMap   = W_out (last block) · W_U                         [d_mlp, n]
 *   firstLayer = W_E' · (Σ_h W_V^h·W_O^h) · W_in (block 0)         [n, d_mlp]
 * Our choice: the OV path. An operand token reaches the MLP at the last position ('=') only
 * through attention, so W_E'·W_in alone (the direct path) is not what a neuron sees; heads are
 * summed with equal weight (attention patterns are data-dependent), and LayerNorm, if any, is
 * ignored. Only the direct paths are used with several layers (W_L from the last block's neurons,
 * the first layer from block 0).
 */
import { addInto, gatherCols, gatherRows, matmul, tensor, type Params, type WeightMatrices } from '../views.ts';
import type { TransformerConfig } from './model.ts';

export function transformerViews(
  cfg: TransformerConfig,
  params: Params,
  p: number,
  residue: Int32Array,
): WeightMatrices {
  const n = residue.length;
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const W_E = tensor(params, 'embed.W_E', D, p); // [d_vocab, D]
  const W_U = tensor(params, 'unembed.W_U', D * p); // [D, p]
  const last = `blocks.${cfg.n_layers - 1}`;
  const W_out = tensor(params, `${last}.mlp.W_out`, M * D); // [M, D]
  const W_V = tensor(params, 'blocks.0.attn.W_V', H * D * E); // [H, D, E]
  const W_O = tensor(params, 'blocks.0.attn.W_O', H * E * D); // [H, E, D]
  const W_in = tensor(params, 'blocks.0.mlp.W_in', D * M); // [D, M]

  const embedding = gatherRows(W_E, D, residue); // [n, D]
  const unembed = gatherCols(W_U, D, p, residue); // [D, n]
  const logitMap = matmul(W_out, unembed, M, D, n); // [M, n]
  const ov = new Float64Array(D * D); // [D, D] Σ_h W_V[h]·W_O[h]
  for (let h = 0; h < H; h++) {
    const vh = W_V.subarray(h * D * E, (h + 1) * D * E);
    const oh = W_O.subarray(h * E * D, (h + 1) * E * D);
    addInto(ov, matmul(vh, oh, D, E, D));
  }
  const firstLayer = matmul(matmul(embedding, ov, n, D, D), W_in, n, D, M); // [n, M]
  return { embedding, dEmbed: D, logitMap, neurons: M, firstLayer, firstNeurons: M };
}
