/**
 * Model registry: builds the network a ModelConfig names, sized by the task. Each kind is one
 * folder (./transformer/, ./mlp/, ./quadratic/) implementing ./types.ts's Model: ordered
 * TransformerLens-style parameter specs, a seeded init, a one-time input upload, a differentiable
 * tfjs forward, a float64 oracle, and the views the analyses read (the NTK linearisation, the
 * Fourier weight matrices, the attention hook). Adding a kind touches its folder and this switch.
 */
import type { ModelConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { countParams } from './common.ts';
import { mlpModel } from './mlp/index.ts';
import { quadraticModel } from './quadratic/index.ts';
import { transformerModel } from './transformer/index.ts';
import type { Model, ModelDims } from './types.ts';

export { countParams };
export type { ForwardOutput, Model, ModelCore, ModelDims, ParamSpec, PreparedInput } from './types.ts';
export { trainedSpecs } from './types.ts';

export function createModel(cfg: ModelConfig, dims: ModelDims): Model {
  switch (cfg.kind) {
    case 'transformer':
      return transformerModel(cfg, dims);
    case 'mlp':
      return mlpModel(cfg, dims);
    case 'quadratic':
      return quadraticModel(cfg, dims);
    default:
      throw new ConfigError(
        'model config',
        'model.kind',
        `expected 'transformer', 'mlp' or 'quadratic', got ${JSON.stringify((cfg as { kind: unknown }).kind)}`,
      );
  }
}
