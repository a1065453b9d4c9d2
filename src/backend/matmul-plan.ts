/**
 * Which way a BatchMatMul call should be computed on the wasm backend. Pure: shapes in, route out,
 * so the rule can be tested without a backend.
 *
 * Why this exists (tfjs-backend-wasm 4.22, src/cc/batch_mat_mul_impl.cc): the kernel hands the
 * product to XNNPACK only when neither transpose flag is set AND both operands have batch size 1.
 * Everything else (any transpose flag, any batch > 1) runs a blocked scalar triple loop that is
 * 10-20x slower (1024² with transposeA: 1.3 s instead of 70 ms). Every matMul gradient sets a
 * flag, so without rerouting a backward pass runs almost entirely on the slow loop.
 *
 * Measured crossover (bench/kernels.ts, one thread): below ~64 kFLOP the scalar loop wins because
 * the extra Transpose/Reshape kernel calls cost more than they save (16³: 7 µs either way;
 * 1×128×128 with transposeA: 16 µs flagged, 40 µs rerouted; 32³: 30 µs flagged, 9-13 µs rerouted;
 * 128³: 1.6 ms vs 0.17-0.23 ms; 1024³: 0.8-1.3 s vs 75-81 ms).
 */

/** Below this many FLOPs (2·batch·m·k·n) the original kernel is used as is. */
export const MIN_REROUTE_FLOPS = 1 << 16;
/** A batched product is split into one XNNPACK product per batch entry only when each entry is this big… */
export const PER_BATCH_MIN_FLOPS = 1 << 20;
/** …and there are at most this many entries (each costs a few kernel calls of JS overhead). */
export const PER_BATCH_MAX_ENTRIES = 256;

export interface MatMulDims {
  batchA: number[]; // leading dims of a
  batchB: number[]; // leading dims of b
  sizeA: number; // product of batchA
  sizeB: number; // product of batchB
  outBatch: number[]; // broadcast of batchA and batchB
  m: number; // rows of op(a)
  k: number; // shared dim
  n: number; // cols of op(b)
}

/**
 * 'native': the original kernel, flags as given.
 * 'direct': C = op(A)·op(B) with op(A) materialised as [sizeA·m, k] (batch folded into rows) and
 *           op(B) as [k, n]; needs sizeB == 1.
 * 'swapped': Cᵀ = op(B)ᵀ·op(A)ᵀ with op(B)ᵀ materialised as [sizeB·n, k] and op(A)ᵀ as [k, m],
 *           then the result's last two axes swapped back; needs sizeA == 1.
 * 'per-batch': equal batch shapes; one plain product per batch entry.
 * 'broadcast': batch shapes that tfjs's kernel silently gets wrong (both > 1 and different, e.g.
 *           [2,1,…]×[1,3,…] or [2,3,…]×[3,…]); both operands are tiled to the output batch first.
 */
export type MatMulRoute = 'native' | 'direct' | 'swapped' | 'per-batch' | 'broadcast';

export function matMulDims(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulDims {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`matMul needs operands of rank >= 2, got shapes [${aShape}] and [${bShape}]`);
  }
  const ra = aShape.length;
  const rb = bShape.length;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const kA = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kB = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (kA !== kB) {
    throw new Error(
      `matMul inner dimensions differ: a [${aShape}] (transposeA=${transposeA}) gives ${kA}, ` +
        `b [${bShape}] (transposeB=${transposeB}) gives ${kB}`,
    );
  }
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  return {
    batchA,
    batchB,
    sizeA: product(batchA),
    sizeB: product(batchB),
    outBatch: broadcastShapes(batchA, batchB),
    m,
    k: kA,
    n,
  };
}

export function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulRoute {
  const d = matMulDims(aShape, bShape, transposeA, transposeB);
  const { sizeA, sizeB, m, k, n } = d;
  // Correctness before speed: tfjs assumes that when both batches exceed 1 they are equal.
  if (sizeA > 1 && sizeB > 1 && !sameIgnoringLeadingOnes(d.batchA, d.batchB)) return 'broadcast';
  const batch = Math.max(sizeA, sizeB);
  const flops = 2 * batch * m * k * n;
  const onXnnPathAlready = !transposeA && !transposeB && sizeA === 1 && sizeB === 1;
  if (onXnnPathAlready || flops < MIN_REROUTE_FLOPS || m * k * n === 0) return 'native';
  if (sizeA > 1 && sizeB > 1) {
    const perEntry = 2 * m * k * n;
    return perEntry >= PER_BATCH_MIN_FLOPS && batch <= PER_BATCH_MAX_ENTRIES ? 'per-batch' : 'native';
  }
  if (sizeB === 1 && sizeA > 1) return 'direct';
  if (sizeA === 1 && sizeB > 1) return 'swapped';
  // Both unbatched: pick the form that moves fewer elements (transposes + XNNPACK weight packing).
  return directCost(aShape, bShape, transposeA, transposeB, d) <= swappedCost(aShape, bShape, transposeA, transposeB, d)
    ? 'direct'
    : 'swapped';
}

/**
 * XNNPACK re-packs the right-hand ("weights") operand on every call with a new tensor, transposing
 * it on the way; per element that costs about 3× a Transpose kernel (measured, bench/kernels.ts:
 * [3830,128]ᵀ·[3830,512] takes 26 ms packing the [3830,512] side, 20 ms packing the [3830,128] one).
 */
export const PACK_COST_PER_ELEMENT = 3;

/** Cost of the 'direct' form: flagged operands transposed, op(B) [k, n] packed. */
function directCost(
  aShape: readonly number[],
  bShape: readonly number[],
  tA: boolean,
  tB: boolean,
  d: MatMulDims,
): number {
  return (tA ? transposeCost(aShape) : 0) + (tB ? transposeCost(bShape) : 0) + PACK_COST_PER_ELEMENT * d.k * d.n;
}

/** Cost of the 'swapped' form: unflagged operands transposed, op(A)ᵀ [k, m] packed, C transposed. */
function swappedCost(
  aShape: readonly number[],
  bShape: readonly number[],
  tA: boolean,
  tB: boolean,
  d: MatMulDims,
): number {
  return (
    (tA ? 0 : transposeCost(aShape)) +
    (tB ? 0 : transposeCost(bShape)) +
    PACK_COST_PER_ELEMENT * d.k * d.m +
    transposeCost([d.n, d.m])
  );
}

/** Swapping the last two axes is a free reshape when either of them is 1. */
function transposeCost(shape: readonly number[]): number {
  const r = shape[shape.length - 2];
  const c = shape[shape.length - 1];
  return r === 1 || c === 1 ? 0 : product(shape);
}

export function product(shape: readonly number[]): number {
  let p = 1;
  for (const s of shape) p *= s;
  return p;
}

/** numpy broadcasting of two batch shapes; throws on incompatible shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new Error(`matMul batch dimensions [${a}] and [${b}] cannot be broadcast together`);
    }
    out[i] = x === 1 ? y : x;
  }
  return out;
}

function sameIgnoringLeadingOnes(a: readonly number[], b: readonly number[]): boolean {
  const strip = (s: readonly number[]) =>
    s.slice(
      Math.max(
        0,
        s.findIndex((v) => v !== 1),
      ),
    );
  const x = a.every((v) => v === 1) ? [] : strip(a);
  const y = b.every((v) => v === 1) ? [] : strip(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
