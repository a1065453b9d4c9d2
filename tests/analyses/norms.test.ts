import { describe, expect, it } from 'vitest';
import { normsResult } from '../../analyses/norms.ts';
import { FormatError } from '../../src/errors.ts';
import { createModel } from '../../src/models/index.ts';
import { Rng } from '../../src/rng.ts';

const specs = [
  { name: 'a.W', shape: [2, 3] },
  { name: 'a.b', shape: [3] },
];

describe('normsResult', () => {
  it('matches a hand-computed case; zero-initialised tensors are left out of rel_dist only', () => {
    const init = { 'a.W': Float32Array.from([3, 0, 0, 0, 4, 0]), 'a.b': new Float32Array(3) }; // ‖W0‖ = 5, b0 = 0
    const now = { 'a.W': Float32Array.from([3, 0, 0, 0, 4, -6]), 'a.b': Float32Array.from([0, 8, 0]) };
    const res = normsResult(now, init, specs);
    expect(res.sq_norm).toEqual({ 'a.W': 9 + 16 + 36, 'a.b': 64 });
    expect(res.sq_norm_total).toBe(125);
    expect(res.linf).toBe(8);
    expect(res.rel_dist).toEqual({ 'a.W': 6 / 5 }); // ‖(0,…,−6)‖ / 5; a.b has no initial norm
    expect(res.rel_dist_total).toBe(Math.sqrt(36 + 64) / 5);
  });

  it('is 0 distance at init, and exactly 1 per tensor at θ = 2θ₀ (any scale)', () => {
    const model = createModel(
      {
        kind: 'transformer',
        n_layers: 1,
        d_model: 8,
        n_heads: 2,
        d_head: 4,
        d_mlp: 16,
        act: 'relu',
        layer_norm: true,
        attn_bias: false,
        init_scale: 1,
      },
      { d_vocab: 6, n_ctx: 3, d_vocab_out: 5 },
    );
    const init = model.init(new Rng(3));
    const same = normsResult(init, init, model.specs);
    expect(same.rel_dist_total).toBe(0);
    const doubled: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(init)) doubled[k] = v.map((x) => 2 * x);
    const res = normsResult(doubled, init, model.specs);
    expect(res.rel_dist_total).toBeCloseTo(1, 14);
    for (const { name } of model.specs) {
      const zeroInit = init[name].every((x) => x === 0);
      if (zeroInit) expect(res.rel_dist[name], name).toBeUndefined();
      else expect(res.rel_dist[name], name).toBeCloseTo(1, 14);
      expect(res.sq_norm[name], name).toBeCloseTo(4 * same.sq_norm[name], 9);
    }
    // every parameter counts, LayerNorm gains (initialised to 1) included
    expect(res.sq_norm['blocks.0.ln1.w']).toBe(4 * 8);
    const direct = Object.values(doubled).reduce((s, t) => s + t.reduce((a, x) => a + x * x, 0), 0);
    expect(res.sq_norm_total).toBeCloseTo(direct, 9);
  });

  it('accumulates in float64: 4096² + 1² = 2²⁴ + 1 exactly (a float32 sum stops at 2²⁴)', () => {
    const w = Float32Array.from([4096, 1]);
    expect(Math.fround(Math.fround(4096 * 4096) + 1)).toBe(2 ** 24); // what float32 would give
    expect(normsResult({ w }, { w }, [{ name: 'w', shape: [2] }]).sq_norm_total).toBe(2 ** 24 + 1);
  });

  it('rejects a missing tensor, a wrong size or a non-finite entry, naming file and tensor', () => {
    const ok = { 'a.W': new Float32Array(6).fill(1), 'a.b': new Float32Array(3) };
    expect(() =>
      normsResult({ 'a.W': ok['a.W'] } as Record<string, Float32Array>, ok, specs, { current: 'step_100.safetensors' }),
    ).toThrow(/step_100.safetensors: tensor 'a.b' is missing/);
    expect(() => normsResult(ok, { ...ok, 'a.W': new Float32Array(5) }, specs)).toThrow(
      /initial checkpoint: tensor 'a.W' has 5 entries, expected 6/,
    );
    expect(() => normsResult({ ...ok, 'a.b': Float32Array.from([0, NaN, 0]) }, ok, specs)).toThrow(FormatError);
    expect(() => normsResult(ok, { 'a.W': new Float32Array(6), 'a.b': new Float32Array(3) }, specs)).toThrow(
      /every weight is zero/,
    );
  });
});
