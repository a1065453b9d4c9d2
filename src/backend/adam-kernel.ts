import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { offsetOf, simdFor, type HeapBackend } from './simd.ts';

/**
 * One Adam / AdamW update of one parameter as a single wasm-backend kernel, instead of the ≈14
 * tfjs ops of src/optim/adam.ts (each a pass over the parameter, plus its dispatch and tape cost):
 * {param, grad, m, v} → [param', m', v'], attrs as `AdamAttrs`. The float32 operations and their
 * order are exactly those of adam.ts (and PyTorch's, as written there); each is an IEEE float32
 * operation in wasm SIMD (./simd-kernels.wat) or `Math.fround` in the JS fallback, so the results
 * are bit-identical to the op-by-op path (tests/optim/adam.test.ts checks them bit for bit).
 */
export const ADAM_UPDATE = 'GroklensAdamUpdate';

export interface AdamAttrs {
  /** 0: no weight decay; 1: decoupled (AdamW, θ·decay); 2: coupled (Adam, g + θ·wd). */
  mode: 0 | 1 | 2;
  decay: number; // 1 − lr·wd
  wd: number;
  oneMinusB1: number;
  b2: number;
  oneMinusB2: number;
  sqrtBc2: number; // √(1 − β2^t)
  eps: number;
  negStep: number; // −lr / (1 − β1^t)
}

export const adamUpdate: KernelFunc = (args) => {
  const { param, grad, m, v } = args.inputs as Record<'param' | 'grad' | 'm' | 'v', TensorInfo>;
  const a = args.attrs as unknown as AdamAttrs;
  const backend = args.backend as unknown as HeapBackend;
  const size = param.shape.reduce((x, y) => x * y, 1);
  for (const t of [grad, m, v]) {
    if (t.shape.reduce((x, y) => x * y, 1) !== size || t.dtype !== 'float32' || param.dtype !== 'float32') {
      throw new Error(`${ADAM_UPDATE}: param, grad, m and v must be float32 tensors of one size`);
    }
  }
  const outP = backend.makeOutput(param.shape, 'float32');
  const outM = backend.makeOutput(param.shape, 'float32');
  const outV = backend.makeOutput(param.shape, 'float32');
  const f = Math.fround;
  const [decay, wd, omb1, b2, omb2, sq, eps, neg] = [
    a.decay,
    a.wd,
    a.oneMinusB1,
    a.b2,
    a.oneMinusB2,
    a.sqrtBc2,
    a.eps,
    a.negStep,
  ].map(f);
  const simd = simdFor(backend);
  if (simd) {
    const o = (t: TensorInfo) => offsetOf(backend, t);
    simd.adam(
      o(param),
      o(grad),
      o(m),
      o(v),
      o(outP),
      o(outM),
      o(outV),
      size,
      a.mode,
      decay,
      wd,
      omb1,
      b2,
      omb2,
      sq,
      eps,
      neg,
    );
    return [outP, outM, outV];
  }
  const h = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const [P, G, M, V, OP, OM, OV] = [param, grad, m, v, outP, outM, outV].map(h);
  for (let i = 0; i < size; i++) {
    let th = P[i];
    let g = G[i];
    if (a.mode === 2) g = f(g + f(th * wd));
    else if (a.mode === 1) th = f(th * decay);
    const mi = f(M[i] + f(omb1 * f(g - M[i])));
    const vi = f(f(V[i] * b2) + f(f(omb2 * g) * g));
    OM[i] = mi;
    OV[i] = vi;
    OP[i] = f(th + f(f(neg * mi) / f(f(f(Math.sqrt(vi)) / sq) + eps)));
  }
  return [outP, outM, outV];
};
