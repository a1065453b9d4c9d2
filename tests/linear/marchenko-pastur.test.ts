import { describe, expect, it } from 'vitest';
import { covarianceEigen, gaussian } from '../../linear/linalg.ts';
import { mpAtom, mpCdf, mpDensity, mpEdges, mpQuadrature, spectrumHistogram } from '../../linear/marchenko-pastur.ts';
import { Rng } from '../../src/rng.ts';

/** Moments of MP (Narayana polynomials): E x^k = Σ_{j<k} λ^j/(j+1)·C(k,j)·C(k−1,j). */
function narayanaMoment(k: number, lambda: number): number {
  const binom = (n: number, r: number) => {
    let v = 1;
    for (let i = 1; i <= r; i++) v = (v * (n - r + i)) / i;
    return v;
  };
  let s = 0;
  for (let j = 0; j < k; j++) s += (lambda ** j / (j + 1)) * binom(k, j) * binom(k - 1, j);
  return s;
}

/**
 * Independent oracle for ∫ f dμ_MP: the atom plus a midpoint rule with `n` points after the
 * substitution x = a + (b − a)u² (a different change of variables from the module's).
 */
function bruteForce(f: (x: number) => number, lambda: number, n: number): number {
  const { lower: a, upper: b } = mpEdges(lambda);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const u = (i + 0.5) / n;
    const x = a + (b - a) * u * u;
    s += f(x) * mpDensity(x, lambda) * 2 * (b - a) * u;
  }
  return mpAtom(lambda) * f(0) + s / n;
}

const LAMBDAS = [0.1, 0.3, 0.7, 0.9, 0.99, 1, 1.5, 4];

describe('Marchenko–Pastur law', () => {
  it.each(LAMBDAS)('λ = %f: the quadrature integrates the density (atom included) to 1', (lambda) => {
    const q = mpQuadrature(lambda);
    const total = q.weights.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    // The continuous part alone has mass min(1, 1/λ), by the independent midpoint rule too.
    expect(Math.abs(bruteForce(() => 1, lambda, 400_000) - mpAtom(lambda) - Math.min(1, 1 / lambda))).toBeLessThan(
      1e-6,
    );
  });

  it.each(LAMBDAS)('λ = %f: moments 1…8 equal the Narayana polynomials', (lambda) => {
    const q = mpQuadrature(lambda);
    for (let k = 1; k <= 8; k++) {
      let s = 0;
      for (let i = 0; i < q.nodes.length; i++) s += q.weights[i] * q.nodes[i] ** k;
      expect(Math.abs(s / narayanaMoment(k, lambda) - 1)).toBeLessThan(1e-11);
    }
  });

  it('the loss-curve integrals ∫(1 − 2ηx)^{2t} dμ agree with a brute-force midpoint rule at late times', () => {
    const eta = 0.01;
    for (const lambda of [0.3, 0.7, 0.9, 1.5]) {
      const q = mpQuadrature(lambda);
      // Late enough that the lower edge dominates, early enough not to underflow (e^{−4ηta} > 1e-200).
      const { lower } = mpEdges(lambda);
      for (const t of [0, 7, 300, 3000, 20000, 100000].filter((t) => 4 * eta * t * lower < 460)) {
        const f = (x: number) => Math.exp(2 * t * Math.log1p(-2 * eta * x));
        let s = 0;
        for (let i = 0; i < q.nodes.length; i++) s += q.weights[i] * f(q.nodes[i]);
        const ref = bruteForce(f, lambda, 2_000_000);
        expect(Math.abs(s - ref) / ref).toBeLessThan(1e-7);
      }
    }
  });

  it('the CDF runs from the atom to 1 and its derivative is the density', () => {
    for (const lambda of [0.4, 2]) {
      const { lower, upper } = mpEdges(lambda);
      expect(mpCdf(lower, lambda)).toBe(mpAtom(lambda));
      expect(mpCdf(upper, lambda)).toBe(1);
      expect(mpCdf(upper * 0.999999, lambda)).toBeCloseTo(1, 6);
      const x = (lower + upper) / 2;
      const h = 1e-5;
      expect((mpCdf(x + h, lambda) - mpCdf(x - h, lambda)) / (2 * h)).toBeCloseTo(mpDensity(x, lambda), 6);
    }
  });

  it('the spectrum of a drawn Σ = XᵀX/N follows MP, and not MP at a wrong λ (Kolmogorov distance)', () => {
    const dIn = 300;
    for (const [nTrain, lambda] of [
      [600, 0.5],
      [200, 1.5],
    ]) {
      const x = gaussian(new Rng(11), nTrain, dIn, 1);
      const eig = covarianceEigen(x);
      // Over the nonzero eigenvalues, below which lie the dIn − k exact zeros (compared to the atom below).
      const zeros = dIn - eig.values.length;
      const ks = (l: number) =>
        Math.max(
          ...Array.from(eig.values, (v, i) =>
            Math.max(Math.abs(mpCdf(v, l) - (zeros + i) / dIn), Math.abs(mpCdf(v, l) - (zeros + i + 1) / dIn)),
          ),
        );
      expect(ks(lambda)).toBeLessThan(0.03);
      expect(ks(lambda * 1.3)).toBeGreaterThan(0.06);
      const h = spectrumHistogram(eig.values, dIn, lambda, 30);
      const width = h.edges[1] - h.edges[0];
      expect(h.empirical.reduce((a, b) => a + b, 0) * width).toBeCloseTo(1 - h.zeroShare.empirical, 12);
      expect(h.mp.reduce((a, b) => a + b, 0) * width).toBeCloseTo(Math.min(1, 1 / lambda), 10);
      expect(h.zeroShare.empirical).toBeCloseTo(mpAtom(lambda), 2);
    }
  });
});
