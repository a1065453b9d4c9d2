/**
 * The weight-norm pass (docs/measures.md#relative-distance-and-sup-norm): the sum of squared weights V = ‖θ‖² per tensor and in total
 * (biases, embeddings and LayerNorm parameters included), the ℓ∞ norm, and the relative distance
 * from initialisation ‖θ_t − θ_0‖ / ‖θ_0‖ per tensor and in total (Kumar et al.).
 *
 * Every sum is accumulated in float64 (weights are float32; a 226k-term float32 sum would lose
 * about three digits). Tensors whose initial norm is 0 (zero-initialised biases) have no relative
 * distance: they are left out of `rel_dist` (never NaN or Infinity in the JSON), but they still
 * count in `rel_dist_total`.
 */
import type { ParamSpec } from '../src/models/types.ts';
import { FormatError } from '../src/errors.ts';
import type { NormsResult } from './types.ts';

/** Names of the two checkpoints, for error messages only. */
export interface NormsSources {
  current?: string; // default 'checkpoint'
  init?: string; // default 'initial checkpoint'
}

/**
 * Norms of `params` and their distance from `init`, both keyed by the names in `specs` (every
 * spec must be present in both, with the spec's number of entries, all finite).
 */
export function normsResult(
  params: Record<string, Float32Array>,
  init: Record<string, Float32Array>,
  specs: readonly ParamSpec[],
  sources: NormsSources = {},
): NormsResult {
  const current = sources.current ?? 'checkpoint';
  const initial = sources.init ?? 'initial checkpoint';
  if (specs.length === 0) throw new RangeError('normsResult: the model has no parameters');
  const sq_norm: Record<string, number> = {};
  const rel_dist: Record<string, number> = {};
  let sqTotal = 0;
  let distSqTotal = 0;
  let initSqTotal = 0;
  let linf = 0;
  for (const { name, shape } of specs) {
    const size = shape.reduce((a, b) => a * b, 1);
    const theta = tensorOf(params, name, size, shape, current);
    const theta0 = tensorOf(init, name, size, shape, initial);
    let sq = 0;
    let sq0 = 0;
    let dist = 0;
    for (let i = 0; i < size; i++) {
      const v = theta[i];
      const v0 = theta0[i];
      sq += v * v;
      sq0 += v0 * v0;
      dist += (v - v0) * (v - v0);
      const a = Math.abs(v);
      if (a > linf) linf = a;
    }
    sq_norm[name] = sq;
    if (sq0 > 0) rel_dist[name] = Math.sqrt(dist / sq0);
    sqTotal += sq;
    initSqTotal += sq0;
    distSqTotal += dist;
  }
  if (!(initSqTotal > 0)) {
    throw new FormatError(initial, 'every weight is zero, so the relative distance from initialisation is undefined');
  }
  return {
    sq_norm_total: sqTotal,
    sq_norm,
    linf,
    rel_dist_total: Math.sqrt(distSqTotal / initSqTotal),
    rel_dist,
  };
}

function tensorOf(
  record: Record<string, Float32Array>,
  name: string,
  size: number,
  shape: readonly number[],
  file: string,
): Float32Array {
  const t = record[name];
  if (t === undefined) throw new FormatError(file, `tensor '${name}' is missing (expected shape [${shape}])`);
  if (t.length !== size) {
    throw new FormatError(file, `tensor '${name}' has ${t.length} entries, expected ${size} (shape [${shape}])`);
  }
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(t[i]))
      throw new FormatError(file, `tensor '${name}' entry ${i} is ${t[i]}, expected a finite number`);
  }
  return t;
}
