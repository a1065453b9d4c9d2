/**
 * Real vectors of length n ↔ their coefficients in the orthonormal basis of basis.ts, computed
 * with one complex DFT per PAIR of vectors: z = x + i·y, Z = DFT(z), then
 *
 *   X_k = (Z_k + conj Z_{n−k})/2,   Y_k = (Z_k − conj Z_{n−k})/(2i),
 *
 * and the basis coefficients of x are read off X (X_k = Σ_j x_j e^{−2πijk/n}):
 *
 *   const = X_0/√n,   cos k = √(2/n)·Re X_k,   sin k = −√(2/n)·Im X_k,   Nyquist = X_{n/2}/√n.
 *
 * The inverse (Fᵀ·c) rebuilds the Hermitian spectra X, Y from two coefficient vectors and runs
 * one DFT of conj(X + iY): x + iy = conj(DFT(conj(X + iY)))/n.
 */
import { complexDft, type ComplexDft } from './bluestein.ts';
import { checkLength, checkSize, type NumericArray } from './errors.ts';

export interface RealDft {
  readonly n: number;
  readonly method: ComplexDft['method'];
  /** dst[r, :] = F·src[r, :] for r < count; src, dst [count, n] contiguous; dst may be src. */
  forward(src: NumericArray, dst: Float64Array, count: number): void;
  /** dst[r, :] = Fᵀ·src[r, :] (the inverse, F being orthonormal); dst may be src. */
  inverse(src: NumericArray, dst: Float64Array, count: number): void;
}

const plans = new Map<number, RealDft>();

/** The real-transform plan for length n (fft.js directly for powers of two, else Bluestein), cached. */
export function realDft(n: number): RealDft {
  checkSize('transform length n', n);
  let plan = plans.get(n);
  if (!plan) {
    plan = new PairedRealDft(n);
    plans.set(n, plan);
  }
  return plan;
}

class PairedRealDft implements RealDft {
  readonly method: ComplexDft['method'];
  private readonly dft: ComplexDft;
  private readonly buf: Float64Array; // [2n] interleaved
  private readonly c0: number; // 1/√n
  private readonly c: number; // √(2/n)
  private readonly K: number; // ⌊(n−1)/2⌋

  constructor(readonly n: number) {
    this.dft = complexDft(n);
    this.method = this.dft.method;
    this.buf = new Float64Array(2 * n);
    this.c0 = 1 / Math.sqrt(n);
    this.c = Math.sqrt(2 / n);
    this.K = Math.floor((n - 1) / 2);
  }

  forward(src: NumericArray, dst: Float64Array, count: number): void {
    const { n, buf, c0, K } = this;
    checkRows(src, dst, count, n);
    const h = this.c / 2;
    for (let r = 0; r < count; r += 2) {
      const xOff = r * n;
      const pair = r + 1 < count;
      const yOff = xOff + n;
      for (let j = 0; j < n; j++) {
        buf[2 * j] = src[xOff + j];
        buf[2 * j + 1] = pair ? src[yOff + j] : 0;
      }
      this.dft.forward(buf);
      dst[xOff] = buf[0] * c0;
      if (pair) dst[yOff] = buf[1] * c0;
      for (let k = 1; k <= K; k++) {
        const zr = buf[2 * k];
        const zi = buf[2 * k + 1];
        const wr = buf[2 * (n - k)];
        const wi = buf[2 * (n - k) + 1];
        dst[xOff + 2 * k - 1] = h * (zr + wr);
        dst[xOff + 2 * k] = h * (wi - zi);
        if (pair) {
          dst[yOff + 2 * k - 1] = h * (zi + wi);
          dst[yOff + 2 * k] = h * (zr - wr);
        }
      }
      if (n % 2 === 0) {
        dst[xOff + n - 1] = buf[n] * c0; // Z_{n/2} sits at interleaved index 2·(n/2)
        if (pair) dst[yOff + n - 1] = buf[n + 1] * c0;
      }
    }
  }

  inverse(src: NumericArray, dst: Float64Array, count: number): void {
    const { n, buf, K } = this;
    checkRows(src, dst, count, n);
    // Spectrum scale: X_0 = √n·const, X_k = √(n/2)·(cos − i·sin), X_{n/2} = √n·nyq; the final
    // 1/n is folded in, giving 1/√n and 1/√(2n).
    const s0 = 1 / Math.sqrt(n);
    const s = 1 / Math.sqrt(2 * n);
    for (let r = 0; r < count; r += 2) {
      const xOff = r * n;
      const pair = r + 1 < count;
      const yOff = xOff + n;
      // conj(V), V = X + iY: V_0 = X_0 + iY_0; for k ≤ K, with X_k = a − ib, Y_k = c − id:
      // V_k = (a + d) + i(c − b), V_{n−k} = (a − d) + i(b + c).
      buf[0] = s0 * src[xOff];
      buf[1] = pair ? -s0 * src[yOff] : 0;
      for (let k = 1; k <= K; k++) {
        const a = s * src[xOff + 2 * k - 1];
        const b = s * src[xOff + 2 * k];
        const c = pair ? s * src[yOff + 2 * k - 1] : 0;
        const d = pair ? s * src[yOff + 2 * k] : 0;
        buf[2 * k] = a + d;
        buf[2 * k + 1] = b - c;
        buf[2 * (n - k)] = a - d;
        buf[2 * (n - k) + 1] = -(b + c);
      }
      if (n % 2 === 0) {
        buf[n] = s0 * src[xOff + n - 1];
        buf[n + 1] = pair ? -s0 * src[yOff + n - 1] : 0;
      }
      this.dft.forward(buf);
      for (let j = 0; j < n; j++) dst[xOff + j] = buf[2 * j];
      if (pair) for (let j = 0; j < n; j++) dst[yOff + j] = -buf[2 * j + 1];
    }
  }
}

function checkRows(src: NumericArray, dst: Float64Array, count: number, n: number): void {
  checkSize('row count', count, 0);
  checkLength('transform input', src, count * n, `[${count}, ${n}]`);
  checkLength('transform output', dst, count * n, `[${count}, ${n}]`);
}
