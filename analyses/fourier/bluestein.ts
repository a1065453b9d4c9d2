/**
 * Complex DFTs of any length n, built on fft.js (radix-4, power-of-two sizes only).
 *
 *   X_k = Σ_j x_j · e^{−2πi·jk/n}        (fft.js's sign; no normalisation)
 *
 * Power-of-two n goes straight to fft.js. Any other n uses Bluestein's chirp-z algorithm: with
 * jk = (j² + k² − (k−j)²)/2 the DFT becomes a convolution,
 *
 *   X_k = w̄_k · Σ_j (x_j·w̄_j) · w_{k−j},   w_m = e^{iπm²/n},
 *
 * computed as a cyclic convolution of length M (a power of two ≥ 2n−1) with two FFTs of size M
 * per transform; the FFT of the chirp is computed once per plan. The chirp phase πm²/n is
 * reduced with m² mod 2n (exact in integers) so it stays accurate for every n here.
 * Buffers are interleaved [re0, im0, re1, im1, …]; plans own their scratch, so a plan is not
 * re-entrant (JS is single-threaded; nothing here awaits).
 */
import FFT from 'fft.js';
import { checkLength, checkSize } from './errors.ts';

export interface ComplexDft {
  readonly n: number;
  /** 'trivial' is n = 1, 'radix' is fft.js directly, 'bluestein' is the chirp-z path. */
  readonly method: 'trivial' | 'radix' | 'bluestein';
  /** The FFT size actually run (n for 'radix', M ≥ 2n−1 for 'bluestein'). */
  readonly fftSize: number;
  /** In place: buf [2n] interleaved ← its forward DFT. */
  forward(buf: Float64Array): void;
}

const plans = new Map<number, ComplexDft>();

/** The complex DFT plan for length n, built once and cached. */
export function complexDft(n: number): ComplexDft {
  checkSize('dft length n', n);
  let plan = plans.get(n);
  if (!plan) {
    plan = n === 1 ? trivialPlan() : isPowerOfTwo(n) ? new RadixPlan(n) : new BluesteinPlan(n);
    plans.set(n, plan);
  }
  return plan;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Smallest power of two ≥ max(m, 2) (fft.js refuses size 1). */
export function nextPowerOfTwo(m: number): number {
  let size = 2;
  while (size < m) size *= 2;
  return size;
}

function trivialPlan(): ComplexDft {
  return { n: 1, method: 'trivial', fftSize: 1, forward: (buf) => checkLength('dft buffer', buf, 2, '[1, re|im]') };
}

class RadixPlan implements ComplexDft {
  readonly method = 'radix' as const;
  readonly fftSize: number;
  private readonly fft: FFT;
  private readonly out: Float64Array; // [2n] fft.js refuses in-place, so it writes here first

  constructor(readonly n: number) {
    this.fftSize = n;
    this.fft = new FFT(n);
    this.out = new Float64Array(2 * n);
  }

  forward(buf: Float64Array): void {
    checkLength('dft buffer', buf, 2 * this.n, `[${this.n}, re|im]`);
    this.fft.transform(this.out, buf);
    buf.set(this.out);
  }
}

class BluesteinPlan implements ComplexDft {
  readonly method = 'bluestein' as const;
  readonly fftSize: number;
  private readonly fft: FFT;
  private readonly chirp: Float64Array; // [2n] w_j = e^{iπj²/n}, interleaved
  private readonly chirpHat: Float64Array; // [2M] FFT of the cyclic chirp, pre-divided by M
  private readonly work: Float64Array; // [2M]
  private readonly spectrum: Float64Array; // [2M]

  constructor(readonly n: number) {
    const M = nextPowerOfTwo(2 * n - 1);
    this.fftSize = M;
    this.fft = new FFT(M);
    this.chirp = new Float64Array(2 * n);
    const twoN = 2 * n;
    for (let j = 0; j < n; j++) {
      const phase = (Math.PI * ((j * j) % twoN)) / n;
      this.chirp[2 * j] = Math.cos(phase);
      this.chirp[2 * j + 1] = Math.sin(phase);
    }
    // b_m = w_m for |m| < n, laid out cyclically: b[m] and b[M − m] = w_m.
    const b = new Float64Array(2 * M);
    for (let m = 0; m < n; m++) {
      b[2 * m] = this.chirp[2 * m];
      b[2 * m + 1] = this.chirp[2 * m + 1];
      if (m > 0) {
        b[2 * (M - m)] = this.chirp[2 * m];
        b[2 * (M - m) + 1] = this.chirp[2 * m + 1];
      }
    }
    this.chirpHat = new Float64Array(2 * M);
    this.fft.transform(this.chirpHat, b);
    // Folding 1/M in here lets the inverse FFT be a forward FFT of the conjugate, unscaled.
    for (let i = 0; i < 2 * M; i++) this.chirpHat[i] /= M;
    this.work = new Float64Array(2 * M);
    this.spectrum = new Float64Array(2 * M);
  }

  forward(buf: Float64Array): void {
    const n = this.n;
    checkLength('dft buffer', buf, 2 * n, `[${n}, re|im]`);
    const M = this.fftSize;
    const { chirp, chirpHat, work, spectrum } = this;
    // a_j = x_j · w̄_j, zero-padded to M.
    for (let j = 0; j < n; j++) {
      const xr = buf[2 * j];
      const xi = buf[2 * j + 1];
      const cr = chirp[2 * j];
      const ci = chirp[2 * j + 1];
      work[2 * j] = xr * cr + xi * ci;
      work[2 * j + 1] = xi * cr - xr * ci;
    }
    work.fill(0, 2 * n);
    this.fft.transform(spectrum, work);
    // conj(Â · b̂/M): its forward FFT, conjugated, is the cyclic convolution a ⊛ b.
    for (let m = 0; m < M; m++) {
      const ar = spectrum[2 * m];
      const ai = spectrum[2 * m + 1];
      const br = chirpHat[2 * m];
      const bi = chirpHat[2 * m + 1];
      work[2 * m] = ar * br - ai * bi;
      work[2 * m + 1] = -(ar * bi + ai * br);
    }
    this.fft.transform(spectrum, work);
    // X_k = w̄_k · conj(spectrum_k).
    for (let k = 0; k < n; k++) {
      const hr = spectrum[2 * k];
      const hi = -spectrum[2 * k + 1];
      const cr = chirp[2 * k];
      const ci = chirp[2 * k + 1];
      buf[2 * k] = hr * cr + hi * ci;
      buf[2 * k + 1] = hi * cr - hr * ci;
    }
  }
}
