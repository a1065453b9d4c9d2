/**
 * Adam and AdamW with PyTorch's semantics (torch.optim.Adam / torch.optim.AdamW, amsgrad=False,
 * maximize=False), plus `SlotOptimizer`, the bookkeeping every optimiser here shares: one float32
 * tf.Variable per state slot, the warm-up schedule, the step counter, and a validated
 * getState / setState for bit-identical resume. (SGD in ./sgd.ts builds on it too.)
 *
 * Float-op order. PyTorch's reference implementation (`_single_tensor_adam`, the CPU default in
 * PyTorch 2.x) does, per parameter θ with gradient g and t = stepsTaken + 1:
 *
 *   Adam (coupled):   g ← g + wd·θ                        grad.add(param, alpha=wd)
 *   AdamW (decoupled): θ ← θ·(1 − lr·wd)                  param.mul_(1 − lr·wd)
 *   m ← m + (1−β1)·(g − m)                                exp_avg.lerp_(grad, 1−β1)
 *   v ← (v·β2) + ((1−β2)·g)·g                             exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2)
 *   step_size = lr / (1 − β1^t)                           Python float64
 *   denom = (√v / √(1 − β2^t)) + eps                      exp_avg_sq.sqrt() / bc2_sqrt, .add_(eps)
 *   θ ← θ + ((−step_size)·m) / denom                      param.addcdiv_(exp_avg, denom, value=−step_size)
 *
 * We do exactly these float32 operations in this order. Scalars (1 − lr·wd, step_size, √bc2, β's,
 * eps) are computed in float64 in JS, as PyTorch computes them in Python, and rounded to float32
 * when they meet a tensor, as PyTorch's kernels do. The order is our reading of PyTorch's
 * single-tensor code and of ATen's CPU pointwise kernels (addcmul = self + value·t1·t2 and
 * addcdiv = self + value·t1/t2, left to right); we could not run torch to confirm bit equality.
 * Where we cannot follow PyTorch: its vectorised CPU kernels may fuse a multiply-add (FMA, e.g.
 * in lerp), and its CUDA / foreach / fused paths may associate or fuse differently, so agreement
 * with PyTorch is to within about an ulp per op, not bit-for-bit. PyTorch < 2.0 updated m as
 * m·β1 + (1−β1)·g instead of the lerp; the two agree to rounding. tests/optim checks our order
 * bit for bit against a Math.fround emulation of the list above.
 *
 * On the wasm backend the ≈14 ops per parameter run as one kernel (src/backend/adam-kernel.ts,
 * wasm SIMD) doing the same float32 operations in the same order, so bit for bit the same result;
 * they cost ≈2.7 ms per apply over Nanda's 11 tensors (227k weights) as separate ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE, type AdamAttrs } from '../backend/adam-kernel.ts';
import type { OptimizerConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { Optimizer } from './types.ts';

/** Whether the active backend registers the fused update of src/backend/adam-kernel.ts (wasm does). */
function fusedAdamAvailable(): boolean {
  return tf.getKernel(ADAM_UPDATE, tf.getBackend()) != null;
}

/** A parameter the optimiser tracks: name and shape, e.g. blocks.0.attn.W_Q [n_heads, d_model, d_head]. */
export interface ParamShape {
  name: string;
  shape: number[];
}

export type OptimizerState = ReturnType<Optimizer['getState']>;

/** Optimiser state that does not fit the optimiser (wrong slot names, shapes, step count). */
export class OptimizerStateError extends UserError {
  override name = 'OptimizerStateError';
}

/** Everything an update needs besides the tensors; computed once per apply, in float64. */
export interface StepContext {
  lr: number; // learning rate after warm-up
  t: number; // Adam's step index, stepsTaken + 1
  stepsTaken: number; // updates applied before this one
}

const shapeStr = (s: readonly number[]) => `[${s.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Shared machinery. A subclass names its slot kinds (PyTorch's state keys, e.g. 'exp_avg') and
 * implements `update` for one parameter; slots are stored as `<kind>.<param>`.
 */
export abstract class SlotOptimizer implements Optimizer {
  private steps = 0;
  private readonly slots = new Map<string, tf.Variable>(); // '<kind>.<param>' → [param shape]
  private disposed = false;

  protected constructor(
    readonly config: OptimizerConfig,
    protected readonly specs: readonly ParamShape[],
    private readonly slotKinds: readonly string[],
  ) {
    const seen = new Set<string>();
    for (const { name, shape } of specs) {
      if (seen.has(name)) throw new Error(`optimizer: parameter '${name}' listed twice`);
      seen.add(name);
      if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new Error(`optimizer: parameter '${name}' has an invalid shape ${shapeStr(shape)}`);
      }
      // Zeros equal PyTorch's lazily created zeros_like state; not trainable, auto-named.
      for (const kind of slotKinds)
        this.slots.set(
          `${kind}.${name}`,
          tf.tidy(() => tf.variable(tf.zeros(shape), false)),
        );
    }
  }

  get stepsTaken(): number {
    return this.steps;
  }

  /** lr·min(stepsTaken / warmup_steps, 1), the order PyTorch's LambdaLR uses (base_lr · factor). */
  currentLr(): number {
    const { lr, warmup_steps } = this.config;
    return warmup_steps > 0 ? lr * Math.min(this.steps / warmup_steps, 1) : lr;
  }

  /** The slot variable `<kind>.<param>`. */
  protected slot(kind: string, param: string): tf.Variable {
    const v = this.slots.get(`${kind}.${param}`);
    if (!v) throw new Error(`optimizer: no slot '${kind}.${param}'`);
    return v;
  }

  /** One parameter's update, called inside the apply's tf.tidy; assigns into `param` and slots. */
  protected abstract update(name: string, param: tf.Variable, grad: tf.Tensor, ctx: StepContext): void;

  /**
   * One update of every parameter that has a gradient. A parameter without one is skipped, as
   * PyTorch skips `p.grad is None` (tf.variableGrads omits unconnected variables); unlike
   * PyTorch's per-parameter step count, t stays global, which only matters for such parameters.
   */
  apply(params: Record<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    if (this.disposed) throw new Error('optimizer: apply() after dispose()');
    const known = new Set(this.specs.map((s) => s.name));
    for (const name of Object.keys(grads)) {
      if (!known.has(name)) throw new Error(`optimizer: gradient for unknown parameter '${name}'`);
    }
    for (const { name, shape } of this.specs) {
      const g = grads[name];
      if (!g) continue;
      const p = params[name];
      if (!p) throw new Error(`optimizer: gradient for '${name}' but no such parameter was passed`);
      if (!sameShape(p.shape, shape))
        throw new Error(`optimizer: parameter '${name}' has shape ${shapeStr(p.shape)}, expected ${shapeStr(shape)}`);
      if (!sameShape(g.shape, shape))
        throw new Error(`optimizer: gradient '${name}' has shape ${shapeStr(g.shape)}, expected ${shapeStr(shape)}`);
      if (p.dtype !== 'float32' || g.dtype !== 'float32')
        throw new Error(`optimizer: '${name}' must be float32 (parameter ${p.dtype}, gradient ${g.dtype})`);
    }
    const ctx: StepContext = { lr: this.currentLr(), t: this.steps + 1, stepsTaken: this.steps };
    tf.tidy(() => {
      for (const { name } of this.specs) {
        const g = grads[name];
        if (g) this.update(name, params[name], g, ctx);
      }
    });
    this.steps++;
  }

  getState(): OptimizerState {
    const tensors: OptimizerState['tensors'] = {};
    for (const [key, v] of this.slots)
      tensors[key] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) };
    return { tensors, stepsTaken: this.steps };
  }

  /** Validates everything first, then loads: on error the optimiser is unchanged. */
  setState(state: OptimizerState): void {
    if (this.disposed) throw new Error('optimizer: setState() after dispose()');
    const { tensors, stepsTaken } = state;
    if (!Number.isInteger(stepsTaken) || stepsTaken < 0) {
      throw new OptimizerStateError(`optimizer state: stepsTaken must be a non-negative integer, got ${stepsTaken}`);
    }
    for (const key of Object.keys(tensors)) {
      if (!this.slots.has(key)) {
        throw new OptimizerStateError(
          `optimizer state: unexpected slot '${key}' for a '${this.config.kind}' optimiser` +
            ` (expected slots: ${this.slotKinds.length ? this.slotKinds.map((k) => `${k}.<param>`).join(', ') : 'none'})`,
        );
      }
    }
    for (const [key, v] of this.slots) {
      const t = tensors[key];
      if (!t)
        throw new OptimizerStateError(`optimizer state: missing slot '${key}' (expected shape ${shapeStr(v.shape)})`);
      if (!Array.isArray(t.shape) || !sameShape(t.shape, v.shape)) {
        throw new OptimizerStateError(
          `optimizer state: slot '${key}' has shape ${shapeStr(t.shape ?? [])}, expected ${shapeStr(v.shape)}`,
        );
      }
      if (!(t.data instanceof Float32Array) || t.data.length !== v.size) {
        throw new OptimizerStateError(
          `optimizer state: slot '${key}' needs ${v.size} float32 values, got ${t.data?.length ?? 'none'}`,
        );
      }
    }
    tf.tidy(() => {
      for (const [key, v] of this.slots) v.assign(tf.tensor(tensors[key].data, v.shape, 'float32'));
    });
    this.steps = stepsTaken;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
    this.disposeScalars();
    this.disposed = true;
  }

  /** Subclasses release constant scalars they keep. */
  protected disposeScalars(): void {}
}

/** torch.optim.Adam (kind 'adam', coupled weight decay) and torch.optim.AdamW (kind 'adamw'). */
export class Adam extends SlotOptimizer {
  private readonly decoupled: boolean;
  // Constant float32 scalars, kept across applies: 1−β1, β2, 1−β2, eps, wd.
  private readonly k: { oneMinusB1: tf.Scalar; b2: tf.Scalar; oneMinusB2: tf.Scalar; eps: tf.Scalar; wd: tf.Scalar };

  constructor(config: OptimizerConfig, specs: readonly ParamShape[]) {
    super(config, specs, ['exp_avg', 'exp_avg_sq']);
    if (config.kind !== 'adam' && config.kind !== 'adamw') throw new Error(`Adam: config.kind is '${config.kind}'`);
    this.decoupled = config.kind === 'adamw';
    const [b1, b2] = config.betas;
    this.k = tf.tidy(() => ({
      oneMinusB1: tf.keep(tf.scalar(1 - b1)),
      b2: tf.keep(tf.scalar(b2)),
      oneMinusB2: tf.keep(tf.scalar(1 - b2)),
      eps: tf.keep(tf.scalar(config.eps)),
      wd: tf.keep(tf.scalar(config.weight_decay)),
    }));
  }

  protected update(name: string, param: tf.Variable, grad: tf.Tensor, { lr, t }: StepContext): void {
    const { betas, weight_decay: wd } = this.config;
    const m = this.slot('exp_avg', name);
    const v = this.slot('exp_avg_sq', name);
    if (fusedAdamAvailable()) {
      // One kernel, the same float32 operations in the same order (src/backend/adam-kernel.ts).
      const [b1, b2] = betas;
      const attrs: AdamAttrs = {
        mode: wd === 0 ? 0 : this.decoupled ? 1 : 2,
        decay: 1 - lr * wd,
        wd,
        oneMinusB1: 1 - b1,
        b2,
        oneMinusB2: 1 - b2,
        sqrtBc2: Math.sqrt(1 - b2 ** t),
        eps: this.config.eps,
        negStep: -lr / (1 - b1 ** t),
      };
      const [pNew, mNew, vNew] = tf
        .engine()
        .runKernel(ADAM_UPDATE, { param, grad, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      m.assign(mNew);
      v.assign(vNew);
      param.assign(pNew);
      return;
    }
    let theta: tf.Tensor = param;
    let g = grad;
    if (wd !== 0) {
      if (this.decoupled) theta = tf.mul(param, tf.scalar(1 - lr * wd));
      else g = tf.add(grad, tf.mul(param, this.k.wd));
    }
    const mNew = tf.add(m, tf.mul(this.k.oneMinusB1, tf.sub(g, m)));
    const vNew = tf.add(tf.mul(v, this.k.b2), tf.mul(tf.mul(this.k.oneMinusB2, g), g));
    const bc1 = 1 - betas[0] ** t;
    const bc2 = 1 - betas[1] ** t;
    const stepSize = lr / bc1;
    const denom = tf.add(tf.div(tf.sqrt(vNew), tf.scalar(Math.sqrt(bc2))), this.k.eps);
    const thetaNew = tf.add(theta, tf.div(tf.mul(tf.scalar(-stepSize), mNew), denom));
    m.assign(mNew);
    v.assign(vNew);
    param.assign(thetaNew);
  }

  protected override disposeScalars(): void {
    for (const s of Object.values(this.k)) s.dispose();
  }
}
