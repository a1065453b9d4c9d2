/**
 * Optimiser factory. `createOptimizer(cfg, specs)` builds an Adam, AdamW or SGD over the named
 * parameters, with every state slot allocated up front as zeros (PyTorch allocates them lazily at
 * the first step, with the same values). State slot names follow PyTorch's state keys:
 *   adam / adamw: exp_avg.<param>, exp_avg_sq.<param>    [param shape] each
 *   sgd (momentum > 0): momentum_buffer.<param>         [param shape]
 * plus stepsTaken. The losses live in ./loss.ts.
 */
import type { OptimizerConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { Adam, type ParamShape } from './adam.ts';
import { Sgd } from './sgd.ts';
import type { Optimizer } from './types.ts';

export type { Optimizer } from './types.ts';
export { Adam, SlotOptimizer, OptimizerStateError, type ParamShape, type OptimizerState } from './adam.ts';
export { Sgd } from './sgd.ts';

const SOURCE = 'optimizer config';

function check(ok: boolean, key: string, value: unknown, expected: string): void {
  if (!ok) throw new ConfigError(SOURCE, `optimizer.${key}`, `got ${JSON.stringify(value)}, expected ${expected}`);
}

/** The same range checks PyTorch's constructors make, plus ours for warm-up. */
function validate(cfg: OptimizerConfig): void {
  const finiteNonNeg = (x: number) => Number.isFinite(x) && x >= 0;
  check(['adam', 'adamw', 'sgd'].includes(cfg.kind), 'kind', cfg.kind, "'adam', 'adamw' or 'sgd'");
  check(finiteNonNeg(cfg.lr), 'lr', cfg.lr, 'a finite number ≥ 0');
  check(finiteNonNeg(cfg.weight_decay), 'weight_decay', cfg.weight_decay, 'a finite number ≥ 0');
  check(
    Number.isInteger(cfg.warmup_steps) && cfg.warmup_steps >= 0,
    'warmup_steps',
    cfg.warmup_steps,
    'an integer ≥ 0',
  );
  if (cfg.kind === 'sgd') {
    check(finiteNonNeg(cfg.momentum), 'momentum', cfg.momentum, 'a finite number ≥ 0');
    check(
      !cfg.nesterov || cfg.momentum > 0,
      'nesterov',
      cfg.nesterov,
      'false when momentum is 0 (Nesterov needs momentum)',
    );
  } else {
    check(Array.isArray(cfg.betas) && cfg.betas.length === 2, 'betas', cfg.betas, 'two numbers');
    const [b1, b2] = cfg.betas;
    check(b1 >= 0 && b1 < 1, 'betas', cfg.betas, 'β1 in [0, 1)');
    check(b2 >= 0 && b2 < 1, 'betas', cfg.betas, 'β2 in [0, 1)');
    check(finiteNonNeg(cfg.eps), 'eps', cfg.eps, 'a finite number ≥ 0');
  }
}

/** An optimiser over `specs` (in the model's parameter order); the caller disposes it. */
export function createOptimizer(cfg: OptimizerConfig, specs: readonly ParamShape[]): Optimizer {
  validate(cfg);
  return cfg.kind === 'sgd' ? new Sgd(cfg, specs) : new Adam(cfg, specs);
}
