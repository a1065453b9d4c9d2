/** The mlp model kind: the network (./model.ts) with its NTK linearisation (./linearised.ts) and weight views (./views.ts). */
import type { Model, ModelDims } from '../types.ts';
import { mlpLinearised } from './linearised.ts';
import { createMlp, type MlpConfig } from './model.ts';
import { mlpViews } from './views.ts';

export function mlpModel(cfg: MlpConfig, dims: ModelDims): Model {
  return {
    ...createMlp(cfg, dims),
    linearised: mlpLinearised(cfg, dims),
    weightViews: (params, residue) => mlpViews(cfg, params, dims.d_vocab_out, residue),
    attention: null,
  };
}
