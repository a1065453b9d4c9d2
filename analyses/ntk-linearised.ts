/**
 * The fast path of the empirical NTK: the whole M×M kernel from ONE batched forward and ONE
 * batched backward per scalar output, without ever forming a per-example gradient.
 *
 * Why it works. Every parameter of our three models enters the network in one of three ways,
 * each applied at S "sites" per example (token positions; S = 1 for most layers):
 *   weight  y_s = x_s·W    ∇_W f_i = Σ_s x_{i,s}ᵀ g_{i,s}  ⇒  K_W[i,j] = Σ_{s,t} (x_{i,s}·x_{j,t})(g_{i,s}·g_{j,t})
 *   bias    y_s += b       ∇_b f_i = Σ_s g_{i,s}           ⇒  K_b = (Σ_s G_s)(Σ_s G_s)ᵀ
 *   gain    y_s = x̂_s ∘ w  ∇_w f_i = Σ_s x̂_{i,s} ∘ g_{i,s}  ⇒  K_w = U·Uᵀ, U_i = Σ_s x̂_{i,s} ∘ g_{i,s}
 * (embeddings are weights with one-hot x), where g_{i,s} = ∂f(x_i)/∂y_{i,s}. Examples never
 * interact in the forward pass, so the gradient of Σ_i f(x_i) with respect to the batched y is
 * exactly the per-example g for every example at once. We get it by adding a zero tensor ε to
 * every y and differentiating with respect to the ε's; K = Σ over parameters of the Gram
 * products above. Cost for the nanda-2023 model with 64 probes: Grams of at most 192 rows.
 *
 * The linearised forward passes live with their models (src/models/<kind>/linearised.ts, written
 * against src/models/linearisation.ts): they mirror each model's forward but compute every
 * position the plain way, without the fast path's lookup-table shortcut.
 * empiricalNtk (./ntk.ts) checks on every call that they reproduce Model.forward's logits and
 * that every parameter of model.specs is covered exactly once, so a change to a model that is not
 * mirrored here fails loudly instead of giving a wrong kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Linearisation } from '../src/models/linearisation.ts';

/**
 * K (M×M, float32 tensor) for the output whose batched gradient with respect to the uses'
 * outputs is `grads` (aligned with lin.uses). `gram` caches x·xᵀ across calls, keyed by x.
 * A tensor named in `frozen` is not a parameter and adds no term.
 */
export function kernelFromGrads(
  lin: Linearisation,
  grads: tf.Tensor[],
  n: number,
  gram: Map<tf.Tensor, tf.Tensor2D>,
  frozen: ReadonlySet<string> = new Set(),
): tf.Tensor2D {
  return tf.tidy(() => {
    const terms: tf.Tensor2D[] = [];
    lin.uses.forEach((use, k) => {
      const g = grads[k] as tf.Tensor2D; // [S·n, out]
      const S = use.sites;
      const perExample = (t: tf.Tensor2D) =>
        S === 1 ? t : (tf.sum(tf.reshape(t, [S, n, t.shape[1]]), 0) as tf.Tensor2D); // Σ_s → [n, ·]
      if (use.bias !== null && !frozen.has(use.bias)) {
        const gs = perExample(g);
        terms.push(tf.matMul(gs, gs, false, true));
      }
      if (frozen.has(use.weight)) {
        // not a parameter: no term
      } else if (use.gain) {
        const u = perExample(tf.mul(use.x, g) as tf.Tensor2D);
        terms.push(tf.matMul(u, u, false, true));
      } else {
        let xx = gram.get(use.x);
        if (xx === undefined) {
          xx = tf.keep(tf.matMul(use.x, use.x, false, true)) as tf.Tensor2D; // [S·n, S·n]
          gram.set(use.x, xx);
        }
        const both = tf.mul(xx, tf.matMul(g, g, false, true)) as tf.Tensor2D; // [S·n, S·n]
        terms.push(S === 1 ? both : (tf.sum(tf.reshape(both, [S, n, S, n]), [0, 2]) as tf.Tensor2D));
      }
    });
    return tf.addN(terms);
  });
}
