/**
 * The MLP's weight matrices for the Fourier analyses (../views.ts):
 *   embedding  = embed.W_E rows of the number tokens              [n, d_embed]
 *   logitMap   = unembed.W_U (last hidden layer → output)         [width_last, n]
 *   firstLayer = W_E' · mlp.0.W[rows of operand a's embedding]    [n, hidden[0]]
 */
import { gatherCols, gatherRows, matmul, tensor, type Params, type WeightMatrices } from '../views.ts';
import type { MlpConfig } from './model.ts';

export function mlpViews(cfg: MlpConfig, params: Params, p: number, residue: Int32Array): WeightMatrices {
  const n = residue.length;
  const dE = cfg.d_embed;
  const widths = cfg.hidden;
  const W_E = tensor(params, 'embed.W_E', dE, p); // [d_vocab, dE]
  const W0 = tensor(params, 'mlp.0.W', 2 * dE * widths[0]); // [2·dE, hidden[0]]: operand a's rows first
  const last = widths[widths.length - 1];
  const W_U = tensor(params, 'unembed.W_U', last * p); // [last, p]
  const embedding = gatherRows(W_E, dE, residue); // [n, dE]
  const firstLayer = matmul(embedding, W0.subarray(0, dE * widths[0]), n, dE, widths[0]); // [n, hidden[0]]
  const logitMap = gatherCols(W_U, last, p, residue); // [last, n]
  return { embedding, dEmbed: dE, logitMap, neurons: last, firstLayer, firstNeurons: widths[0] };
}
