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
 * The forward passes here mirror src/models (they reuse its attention and activation code but
 * compute every position the plain way, without the fast path's lookup-table shortcut).
 * empiricalNtk (./ntk.ts) checks on every call that they reproduce Model.forward's logits and
 * that every parameter of model.specs is covered exactly once, so a change to a model that is not
 * mirrored here fails loudly instead of giving a wrong kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activate, LN_EPS } from '../src/models/common.ts';
import { mlpInputPositions, type MlpConfig } from '../src/models/mlp.ts';
import { attendCausal, attendFrom, type TransformerConfig } from '../src/models/transformer.ts';
import type { Model, ModelDims } from '../src/models/types.ts';
import type { QuadraticConfig } from '../src/models/quadratic.ts';

/** One place where parameters enter the network; see the header for the three kinds. */
interface Use {
  x: tf.Tensor2D; // [S·n, in], rows position-major (s·n + i)
  weight: string; // parameter used as x·W (or, with gain, as x̂ ∘ w)
  gain: boolean;
  bias: string | null; // parameter added to the output, if any
  sites: number; // S
  outDim: number;
}

/**
 * Hands out the linear maps of a forward pass. In 'discover' mode it records each use (keeping
 * its input x alive for the Gram products); in 'perturb' mode it adds the next ε to each output,
 * in the same order, so tf.grads with respect to the ε's gives every g at once.
 */
export class Linearisation {
  readonly uses: Use[] = [];
  private eps: tf.Tensor[] | null = null;
  private next = 0;

  perturb(eps: tf.Tensor[]): void {
    this.eps = eps;
    this.next = 0;
  }

  /** x·W (+ b): x [S·n, in] position-major, W [in, out] (any view of the named parameter). */
  linear(x: tf.Tensor2D, W: tf.Tensor2D, wName: string, b: tf.Tensor | null, bName: string | null, sites: number): tf.Tensor2D {
    let y: tf.Tensor2D = tf.matMul(x, W);
    if (b !== null) y = tf.add(y, b);
    return this.record(y, { x, weight: wName, gain: false, bias: bName, sites, outDim: W.shape[1] });
  }

  /** x̂ ∘ w + b (a LayerNorm's affine part): x̂ [S·n, d]. */
  affine(xhat: tf.Tensor2D, w: tf.Tensor, wName: string, b: tf.Tensor, bName: string, sites: number): tf.Tensor2D {
    const y = tf.add(tf.mul(xhat, w), b) as tf.Tensor2D;
    return this.record(y, { x: xhat, weight: wName, gain: true, bias: bName, sites, outDim: xhat.shape[1] });
  }

  private record(y: tf.Tensor2D, use: Use): tf.Tensor2D {
    if (this.eps !== null) {
      const e = this.eps[this.next++];
      if (e === undefined || e.shape[0] !== y.shape[0] || e.shape[1] !== y.shape[1]) {
        throw new Error(`NTK linearisation: use ${this.next - 1} (${use.weight}) changed shape between passes`);
      }
      return tf.add(y, e);
    }
    tf.keep(use.x);
    this.uses.push(use);
    return y;
  }

  /** Zero perturbations, one per recorded use. */
  zeros(): tf.Tensor[] {
    return this.uses.map((u) => tf.zeros([u.x.shape[0], u.outDim]));
  }

  /** Free the inputs kept by the discover pass. */
  dispose(): void {
    tf.dispose([...new Set(this.uses.map((u) => u.x))]);
  }
}

/** A model's forward written against a Linearisation: constant inputs, then logits [n, classes]. */
export interface LinearisedForward {
  inputs(tokens: Int32Array, n: number): tf.Tensor2D[];
  logits(params: Record<string, tf.Tensor>, lin: Linearisation, inputs: tf.Tensor2D[], n: number): tf.Tensor2D;
}

/** The linearised forward of this model, or null for a model kind we do not know. */
export function linearisedForward(model: Model): LinearisedForward | null {
  const cfg = model.config;
  switch (cfg.kind) {
    case 'transformer':
      return transformerForward(cfg, model.dims);
    case 'mlp':
      return mlpForward(cfg, model.dims);
    case 'quadratic':
      return quadraticForward(cfg, model.dims);
    default:
      return null;
  }
}

/**
 * K (M×M, float32 tensor) for the output whose batched gradient with respect to the uses'
 * outputs is `grads` (aligned with lin.uses). `gram` caches x·xᵀ across calls, keyed by x.
 * A tensor named in `frozen` is not a parameter and adds no term.
 */
export function kernelFromGrads(lin: Linearisation, grads: tf.Tensor[], n: number, gram: Map<tf.Tensor, tf.Tensor2D>, frozen: ReadonlySet<string> = new Set()): tf.Tensor2D {
  return tf.tidy(() => {
    const terms: tf.Tensor2D[] = [];
    lin.uses.forEach((use, k) => {
      const g = grads[k] as tf.Tensor2D; // [S·n, out]
      const S = use.sites;
      const perExample = (t: tf.Tensor2D) => (S === 1 ? t : (tf.sum(tf.reshape(t, [S, n, t.shape[1]]), 0) as tf.Tensor2D)); // Σ_s → [n, ·]
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

/** Rows of position-major one-hots: row t·n + i is example i's token at position positions[t]. */
function oneHotRows(tokens: Int32Array, n: number, nCtx: number, positions: readonly number[], width: number, column: (tok: number, t: number) => number): tf.Tensor2D {
  const S = positions.length;
  const data = new Float32Array(S * n * width);
  positions.forEach((pos, t) => {
    for (let i = 0; i < n; i++) data[(t * n + i) * width + column(tokens[i * nCtx + pos], t)] = 1;
  });
  return tf.tensor2d(data, [S * n, width]);
}

function param<R extends tf.Rank = tf.Rank.R2>(params: Record<string, tf.Tensor>, name: string): tf.Tensor<R> {
  const t = params[name];
  if (t === undefined) throw new RangeError(`empiricalNtk: missing parameter '${name}'`);
  return t as tf.Tensor<R>;
}

/** Rows of position `t` of a position-major [T·n, ·] tensor. */
function positionRows(x: tf.Tensor2D, t: number, n: number): tf.Tensor2D {
  return tf.slice(x, [t * n, 0], [n, x.shape[1]]);
}

/** LayerNorm as src/models/common.ts computes it, with the affine part registered. */
function layerNorm(lin: Linearisation, params: Record<string, tf.Tensor>, x: tf.Tensor2D, prefix: string, sites: number): tf.Tensor2D {
  const centred = tf.sub(x, tf.mean(x, -1, true));
  const xhat = tf.mul(centred, tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), LN_EPS))) as tf.Tensor2D;
  return lin.affine(xhat, param(params, `${prefix}.w`), `${prefix}.w`, param(params, `${prefix}.b`), `${prefix}.b`, sites);
}

/**
 * The transformer, every position computed plainly: embeddings and the lower layers at all T
 * positions, the final layer's query, attention output, MLP and unembedding at the last one.
 */
function transformerForward(cfg: TransformerConfig, dims: ModelDims): LinearisedForward {
  const { n_layers: nL, d_model: D, n_heads: H, d_head: E } = cfg;
  const T = dims.n_ctx;
  const all = Array.from({ length: T }, (_, t) => t);
  return {
    inputs: (tokens, n) => [
      oneHotRows(tokens, n, T, all, dims.d_vocab, (tok) => tok), // [T·n, d_vocab]
      oneHotRows(tokens, n, T, all, T, (_tok, t) => t), // [T·n, T]
    ],
    logits(params, lin, [tokOneHot, posOneHot], n) {
      const p = (name: string) => param(params, name);
      let resid = tf.add(
        lin.linear(tokOneHot, p('embed.W_E'), 'embed.W_E', null, null, T),
        lin.linear(posOneHot, p('pos_embed.W_pos'), 'pos_embed.W_pos', null, null, T),
      ) as tf.Tensor2D; // [T·n, D]
      for (let l = 0; l < nL; l++) {
        const b = `blocks.${l}`;
        const final = l === nL - 1;
        const Tq = final ? 1 : T; // query positions computed in this layer
        const x = cfg.layer_norm ? layerNorm(lin, params, resid, `${b}.ln1`, T) : resid;
        const project = (xs: tf.Tensor2D, w: string, sites: number) => {
          const W = tf.reshape(tf.transpose(p(`${b}.attn.W_${w}`), [1, 0, 2]), [D, H * E]) as tf.Tensor2D; // [H, D, E] → [D, H·E]
          const bias = tf.reshape(p(`${b}.attn.b_${w}`), [H * E]);
          return lin.linear(xs, W, `${b}.attn.W_${w}`, bias, `${b}.attn.b_${w}`, sites);
        };
        const k = project(x, 'K', T);
        const v = project(x, 'V', T);
        const q = project(final ? positionRows(x, T - 1, n) : x, 'Q', Tq);
        if (final) resid = positionRows(resid, T - 1, n);
        const { z } = final ? attendFrom(q, k, v, n, H, E) : attendCausal(q, k, v, n, H, E); // [Tq·n, H·E]
        const W_O = tf.reshape(p(`${b}.attn.W_O`), [H * E, D]) as tf.Tensor2D;
        resid = tf.add(resid, lin.linear(z, W_O, `${b}.attn.W_O`, p(`${b}.attn.b_O`), `${b}.attn.b_O`, Tq)) as tf.Tensor2D;
        const x2 = cfg.layer_norm ? layerNorm(lin, params, resid, `${b}.ln2`, Tq) : resid;
        const pre = lin.linear(x2, p(`${b}.mlp.W_in`), `${b}.mlp.W_in`, p(`${b}.mlp.b_in`), `${b}.mlp.b_in`, Tq);
        const post = activate(pre, cfg.act) as tf.Tensor2D;
        resid = tf.add(resid, lin.linear(post, p(`${b}.mlp.W_out`), `${b}.mlp.W_out`, p(`${b}.mlp.b_out`), `${b}.mlp.b_out`, Tq)) as tf.Tensor2D;
      }
      const final = cfg.layer_norm ? layerNorm(lin, params, resid, 'ln_final', 1) : resid; // [n, D]
      return lin.linear(final, p('unembed.W_U'), 'unembed.W_U', p('unembed.b_U'), 'unembed.b_U', 1);
    },
  };
}

/** Embedding of each input position, concatenated, then the hidden layers and the unembedding. */
function mlpForward(cfg: MlpConfig, dims: ModelDims): LinearisedForward {
  const positions = mlpInputPositions(dims);
  const S = positions.length;
  return {
    inputs: (tokens, n) => [oneHotRows(tokens, n, dims.n_ctx, positions, dims.d_vocab, (tok) => tok)], // [S·n, d_vocab]
    logits(params, lin, [oneHot], n) {
      const emb = lin.linear(oneHot, param(params, 'embed.W_E'), 'embed.W_E', null, null, S); // [S·n, d_embed]
      let h = tf.concat(positions.map((_, t) => positionRows(emb, t, n)), 1) as tf.Tensor2D; // [n, S·d_embed]
      cfg.hidden.forEach((_, l) => {
        h = activate(lin.linear(h, param(params, `mlp.${l}.W`), `mlp.${l}.W`, param(params, `mlp.${l}.b`), `mlp.${l}.b`, 1), cfg.act) as tf.Tensor2D;
      });
      return lin.linear(h, param(params, 'unembed.W_U'), 'unembed.W_U', param(params, 'unembed.b_U'), 'unembed.b_U', 1);
    },
  };
}

/** (W·[one-hot(a) ‖ one-hot(b)])², then V; weights in PyTorch's [out, in] layout. */
function quadraticForward(_cfg: QuadraticConfig, dims: ModelDims): LinearisedForward {
  const p = dims.d_vocab_out;
  return {
    inputs: (tokens, n) => [quadraticOneHot(tokens, n, dims.n_ctx, p)],
    logits(params, lin, [x]) {
      const hidden = tf.square(lin.linear(x, tf.transpose(param(params, 'W')), 'W', null, null, 1)) as tf.Tensor2D; // [n, h]
      return lin.linear(hidden, tf.transpose(param(params, 'V')), 'V', null, null, 1);
    },
  };
}

function quadraticOneHot(tokens: Int32Array, n: number, nCtx: number, p: number): tf.Tensor2D {
  const data = new Float32Array(n * 2 * p); // [n, 2p]: one-hot(a) ‖ one-hot(b)
  for (let i = 0; i < n; i++) {
    data[i * 2 * p + tokens[i * nCtx]] = 1;
    data[i * 2 * p + p + tokens[i * nCtx + 1]] = 1;
  }
  return tf.tensor2d(data, [n, 2 * p]);
}
