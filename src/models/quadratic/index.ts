/** The quadratic model kind: the network (./model.ts) with its NTK linearisation (./linearised.ts) and weight views (./views.ts). */
import type { Model, ModelDims } from '../types.ts';
import { quadraticLinearised } from './linearised.ts';
import { createQuadratic, type QuadraticConfig } from './model.ts';
import { quadraticViews } from './views.ts';

export function quadraticModel(cfg: QuadraticConfig, dims: ModelDims): Model {
  return {
    ...createQuadratic(cfg, dims),
    linearised: quadraticLinearised(cfg, dims),
    weightViews: (params, residue) => quadraticViews(cfg, params, dims.d_vocab_out, residue),
    attention: null,
  };
}
