/** The transformer model kind: the network (./model.ts) with its NTK linearisation (./linearised.ts) and weight views (./views.ts). */
import type { Model, ModelDims } from '../types.ts';
import { transformerLinearised } from './linearised.ts';
import { createTransformer, type TransformerConfig } from './model.ts';
import { transformerViews } from './views.ts';

export function transformerModel(cfg: TransformerConfig, dims: ModelDims): Model {
  return {
    ...createTransformer(cfg, dims),
    linearised: transformerLinearised(cfg, dims),
    weightViews: (params, residue) => transformerViews(cfg, params, dims.d_vocab_out, residue),
    attention: { hook: `blocks.${cfg.n_layers - 1}.attn.hook_pattern`, layer: cfg.n_layers - 1 },
  };
}
