/**
 * The quadratic network's weight matrices for the Fourier analyses (../views.ts):
 *   embedding = firstLayer = Wᵀ restricted to operand a's columns [n, h]
 *     (the network has no embedding table; its first layer acts on one-hots)
 *   logitMap  = Vᵀ                                                 [h, n]
 */
import { tensor, type Params, type WeightMatrices } from '../views.ts';
import type { QuadraticConfig } from './model.ts';

export function quadraticViews(cfg: QuadraticConfig, params: Params, p: number, residue: Int32Array): WeightMatrices {
  const n = residue.length;
  const h = cfg.hidden;
  const W = tensor(params, 'W', h * 2 * p); // [h, 2p]
  const V = tensor(params, 'V', p * h); // [p, h]
  const firstLayer = new Float64Array(n * h); // [n, h]
  for (let x = 0; x < n; x++) for (let j = 0; j < h; j++) firstLayer[x * h + j] = W[j * 2 * p + residue[x]];
  const logitMap = new Float64Array(h * n); // [h, n]
  for (let j = 0; j < h; j++) for (let x = 0; x < n; x++) logitMap[j * n + x] = V[residue[x] * h + j];
  return { embedding: firstLayer, dEmbed: h, logitMap, neurons: h, firstLayer, firstNeurons: h };
}
