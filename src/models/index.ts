/**
 * Model registry: builds the network a ModelConfig names, sized by the task.
 * Every model implements ./types.ts's Model: ordered TransformerLens-style parameter specs, a
 * seeded init, a one-time input upload, a differentiable tfjs forward and a float64 oracle.
 */
import type { ModelConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { countParams } from './common.ts';
import { createMlp } from './mlp.ts';
import { createQuadratic } from './quadratic.ts';
import { createTransformer } from './transformer.ts';
import type { Model, ModelDims } from './types.ts';

export { countParams };
export type { ForwardOutput, Model, ModelDims, ParamSpec, PreparedInput } from './types.ts';
export { trainedSpecs } from './types.ts';

export function createModel(cfg: ModelConfig, dims: ModelDims): Model {
  switch (cfg.kind) {
    case 'transformer':
      return createTransformer(cfg, dims);
    case 'mlp':
      return createMlp(cfg, dims);
    case 'quadratic':
      return createQuadratic(cfg, dims);
    default:
      throw new ConfigError(
        'model config',
        'model.kind',
        `expected 'transformer', 'mlp' or 'quadratic', got ${JSON.stringify((cfg as { kind: unknown }).kind)}`,
      );
  }
}
