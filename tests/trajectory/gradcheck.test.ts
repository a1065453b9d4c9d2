/**
 * The float64 reference must itself be right before it can judge groklens: every hand-derived
 * gradient is compared with float64 central differences of the reference's own loss, for every
 * element of every trained tensor, at random weights (scale 0.5, larger than the init so that
 * attention patterns and ReLUs are far from uniform / all-on).
 *
 * Tolerance: central differences with h = 1e-5 have truncation error ~h²·|f'''| ≈ 1e-10 and
 * rounding error ~1e-16/h ≈ 1e-11 here, so 1e-7 absolute (plus 1e-6 relative) is generous yet
 * a thousand times below any gradient element that matters (a wrong term, index or factor 2 gives
 * errors of the size of the gradient itself, ~1e-3 to 1e-1). A ReLU kink inside [θ−h, θ+h] would
 * break the difference quotient; with fixed seeds that does not happen, and if a new seed hit one
 * the failure message names the element.
 */
import { describe, expect, it } from 'vitest';
import { additionBatch, randomParams, type Params64, type RefModel } from './reference-common.ts';
import { mlpReference, mlpShapes } from './reference-mlp.ts';
import { quadraticReference, quadraticShapes } from './reference-quadratic.ts';
import { transformerReference, transformerShapes, type TransformerDims } from './reference-transformer.ts';

const P = 7;
// 16 of the 49 pairs, spread over the grid: every operand value and several labels occur
const batch = additionBatch(P, [0, 3, 8, 12, 15, 19, 22, 26, 30, 33, 36, 40, 41, 44, 46, 48]);
const H = 1e-5;

function gradcheck(model: RefModel, params: Params64): { worst: number; at: string; checked: number } {
  const { grads } = model.lossAndGrad(params, batch);
  let worst = 0;
  let at = '';
  let checked = 0;
  for (const name of model.trained) {
    const x = params[name].data;
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + H;
      const up = model.loss(params, batch);
      x[i] = keep - H;
      const down = model.loss(params, batch);
      x[i] = keep;
      const fd = (up - down) / (2 * H);
      const err = Math.abs(fd - grads[name][i]) / (1e-7 + 1e-6 * Math.abs(fd));
      checked++;
      if (err > worst) {
        worst = err;
        at = `${name}[${i}]: analytic ${grads[name][i]}, central difference ${fd}`;
      }
    }
  }
  return { worst, at, checked };
}

const T: TransformerDims = {
  n_layers: 1,
  d_model: 8,
  n_heads: 2,
  d_head: 4,
  d_mlp: 16,
  d_vocab: P + 1,
  n_ctx: 3,
  d_out: P,
  attnBias: false,
};

const CASES: Record<string, { model: RefModel; shapes: Record<string, number[]> }> = {
  'transformer, 1 layer, no attention biases (the spec)': {
    model: transformerReference(T),
    shapes: transformerShapes(T),
  },
  'transformer, 1 layer, trained attention biases': {
    model: transformerReference({ ...T, attnBias: true }),
    shapes: transformerShapes({ ...T, attnBias: true }),
  },
  'transformer, 2 layers, no attention biases': {
    model: transformerReference({ ...T, n_layers: 2 }),
    shapes: transformerShapes({ ...T, n_layers: 2 }),
  },
  'transformer, 2 layers, trained attention biases': {
    model: transformerReference({ ...T, n_layers: 2, attnBias: true }),
    shapes: transformerShapes({ ...T, n_layers: 2, attnBias: true }),
  },
  'mlp, hidden [16]': {
    model: mlpReference({ d_vocab: P + 1, d_embed: 8, hidden: [16], d_out: P }),
    shapes: mlpShapes({ d_vocab: P + 1, d_embed: 8, hidden: [16], d_out: P }),
  },
  'mlp, hidden [12, 10]': {
    model: mlpReference({ d_vocab: P + 1, d_embed: 6, hidden: [12, 10], d_out: P }),
    shapes: mlpShapes({ d_vocab: P + 1, d_embed: 6, hidden: [12, 10], d_out: P }),
  },
  'quadratic, hidden 16': {
    model: quadraticReference({ p: P, hidden: 16 }),
    shapes: quadraticShapes({ p: P, hidden: 16 }),
  },
};

describe('the float64 reference: hand-derived gradients match central differences', () => {
  for (const [label, { model, shapes }] of Object.entries(CASES)) {
    it(label, () => {
      const params = randomParams(shapes, 1234);
      // every tensor the model declares trained exists and gets a gradient; nothing else does
      expect(model.trained.sort()).toEqual(Object.keys(shapes).sort());
      const r = gradcheck(model, params);
      expect(r.checked).toBe(Object.values(shapes).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0));
      expect(r.worst, `worst element ${r.at}`).toBeLessThanOrEqual(1);
    });
  }

  it('the gradient is not trivially small (the check above has something to check)', () => {
    const { model, shapes } = CASES['transformer, 2 layers, trained attention biases'];
    const { grads } = model.lossAndGrad(randomParams(shapes, 1234), batch);
    for (const [name, g] of Object.entries(grads)) {
      // b_K cannot matter: it adds q_i·b_K to every score of query i, which softmax ignores
      if (name.endsWith('attn.b_K')) continue;
      expect(Math.max(...g.map(Math.abs)), name).toBeGreaterThan(1e-4);
    }
  });

  it('the spec model never reads the attention-bias tensors; the variant does', () => {
    const withB = transformerShapes({ ...T, attnBias: true });
    const params = randomParams(withB, 99);
    const spec = transformerReference(T);
    const variant = transformerReference({ ...T, attnBias: true });
    const before = [spec.loss(params, batch), variant.loss(params, batch)];
    params['blocks.0.attn.b_O'].data.fill(0.3);
    params['blocks.0.attn.b_V'].data.fill(-0.2);
    expect(spec.loss(params, batch)).toBe(before[0]);
    expect(Math.abs(variant.loss(params, batch) - before[1])).toBeGreaterThan(1e-3);
  });
});
