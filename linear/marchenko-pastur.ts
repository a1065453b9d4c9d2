/**
 * The Marchenko–Pastur law: the limiting spectrum of Σ = XᵀX/N for X [N, d] with i.i.d. unit-variance
 * entries, as d, N → ∞ with λ = d/N fixed. It has a continuous part on [(1−√λ)², (1+√λ)²],
 *   ρ(x) = √((b − x)(x − a)) / (2πλx),
 * of mass min(1, 1/λ), and for λ > 1 an atom of mass 1 − 1/λ at 0 (the null space of Σ).
 */
import { gaussLegendre, type QuadratureRule } from './special.ts';

export function mpEdges(lambda: number): { lower: number; upper: number } {
  checkLambda(lambda);
  const s = Math.sqrt(lambda);
  return { lower: (1 - s) ** 2, upper: (1 + s) ** 2 };
}

/** Density of the continuous part at x (0 outside the support). */
export function mpDensity(x: number, lambda: number): number {
  const { lower, upper } = mpEdges(lambda);
  if (!(x > lower && x < upper)) return 0;
  return Math.sqrt((upper - x) * (x - lower)) / (2 * Math.PI * lambda * x);
}

/** Mass of the atom at 0. */
export function mpAtom(lambda: number): number {
  checkLambda(lambda);
  return Math.max(0, 1 - 1 / lambda);
}

function checkLambda(lambda: number): void {
  if (!(lambda > 0 && Number.isFinite(lambda)))
    throw new RangeError(`Marchenko–Pastur: lambda must be > 0, got ${lambda}`);
}

/** The MP distribution function F(x) = μ([0, x]), atom included (64-point Gauss–Legendre in φ). */
export function mpCdf(x: number, lambda: number): number {
  const { lower, upper } = mpEdges(lambda);
  const atom = mpAtom(lambda);
  if (x < 0) return 0;
  if (x <= lower) return atom;
  if (x >= upper) return 1;
  const centre = (lower + upper) / 2;
  const half = (upper - lower) / 2;
  const end = Math.acos((centre - x) / half);
  const gl = gaussLegendre(64);
  let s = 0;
  for (let g = 0; g < gl.nodes.length; g++) {
    const phi = (end / 2) * (1 + gl.nodes[g]);
    const sin = Math.sin(phi);
    s +=
      (gl.weights[g] * half * half * sin * sin) / (2 * Math.PI * lambda * (lower + 2 * half * Math.sin(phi / 2) ** 2));
  }
  return atom + (s * end) / 2;
}

export interface MpQuadratureOptions {
  order?: number; // Gauss–Legendre points per panel (default 16)
  smallestPanel?: number; // width in φ of the innermost panel at the lower edge (default 1e-9)
}

/**
 * A quadrature rule for ∫ f(x) dμ_MP(x) (atom included, as a node at 0 with weight 1 − 1/λ).
 *
 * With x = (a+b)/2 − ((b−a)/2)·cos φ the square-root edges disappear:
 *   ∫_a^b f ρ dx = ∫_0^π f(x(φ)) ((b−a)/2)² sin²φ / (2πλ·x(φ)) dφ.
 * What remains hard is the lower edge: the loss curves weight the spectrum by (1 − 2ηx)^{2t}, which
 * for large t lives within ~1/(ηt) of a, i.e. within ~(ηt)^{-1/2} of φ = 0, and for λ near 1 the
 * factor 1/x varies on the scale √a. So φ ∈ [0, π] is cut into panels that shrink geometrically
 * (ratio 1/√2) towards φ = 0, each with Gauss–Legendre points: every scale down to `smallestPanel`
 * is resolved by at least one panel.
 */
export function mpQuadrature(lambda: number, opts: MpQuadratureOptions = {}): QuadratureRule {
  const { lower, upper } = mpEdges(lambda);
  const order = opts.order ?? 16;
  const smallest = opts.smallestPanel ?? 1e-9;
  const gl = gaussLegendre(order);
  const half = (upper - lower) / 2;
  const breaks = [Math.PI];
  while (breaks[breaks.length - 1] * Math.SQRT1_2 > smallest) breaks.push(breaks[breaks.length - 1] * Math.SQRT1_2);
  breaks.push(0);
  const atom = mpAtom(lambda);
  const n = (breaks.length - 1) * order + (atom > 0 ? 1 : 0);
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  let k = 0;
  if (atom > 0) {
    nodes[k] = 0;
    weights[k++] = atom;
  }
  for (let p = breaks.length - 1; p > 0; p--) {
    const lo = breaks[p];
    const hi = breaks[p - 1];
    const mid = (lo + hi) / 2;
    const hw = (hi - lo) / 2;
    for (let g = 0; g < order; g++) {
      const phi = mid + hw * gl.nodes[g];
      const x = lower + 2 * half * Math.sin(phi / 2) ** 2; // = centre − half·cos φ, without cancellation near φ = 0
      const s = Math.sin(phi);
      nodes[k] = x;
      weights[k++] = (gl.weights[g] * hw * half * half * s * s) / (2 * Math.PI * lambda * x);
    }
  }
  return { nodes, weights };
}

export interface SpectrumHistogram {
  lambda: number;
  edges: number[]; // [bins + 1] on the eigenvalue axis
  empirical: number[]; // [bins] density: share of the d eigenvalues per unit length (zeros excluded)
  mp: number[]; // [bins] MP continuous density averaged over each bin (exact, from the CDF)
  zeroShare: { empirical: number; mp: number }; // share of exact-zero eigenvalues vs the MP atom
}

/**
 * Histogram of the empirical spectrum of Σ (`dim` eigenvalues, of which `values` lists the nonzero
 * ones; the rest are exact zeros) beside the MP density, both normalised per eigenvalue of Σ.
 */
export function spectrumHistogram(
  values: ArrayLike<number>,
  dim: number,
  lambda: number,
  bins = 40,
): SpectrumHistogram {
  const { upper } = mpEdges(lambda);
  let top = upper;
  for (let i = 0; i < values.length; i++) top = Math.max(top, values[i]);
  const hi = top * 1.02;
  const width = hi / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * width);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor(values[i] / width))]++;
  const mp = edges
    .slice(0, bins)
    .map((lo, i) => (mpCdf(edges[i + 1], lambda) - Math.max(mpCdf(lo, lambda), mpAtom(lambda))) / width);
  return {
    lambda,
    edges,
    empirical: counts.map((c) => c / (dim * width)),
    mp,
    zeroShare: { empirical: (dim - values.length) / dim, mp: mpAtom(lambda) },
  };
}
