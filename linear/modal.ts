/**
 * Gradient descent on a quadratic, solved exactly in the eigenbasis of Σ (see gd.ts for the
 * recursion). With Σ = Σ_i x_i v_i v_iᵀ, mode i of the error, E_i = v_iᵀD (a row of `out`
 * numbers), obeys E_i ← r_i E_i − κηγ a_i with r_i = 1 − κη(x_i + γ) and a_i = v_iᵀW*, so
 *
 *   E_i(t) = E*_i + r_i^t (E_i(0) − E*_i),      E*_i = −γ a_i / (x_i + γ)   (0 when γ = 0).
 *
 * Every loss of these problems is a weighted sum over modes of ‖E_i(t)‖², which expands into three
 * numbers per mode — uu = ‖E*‖², uw = ⟨E*, E(0) − E*⟩, ww = ‖E(0) − E*‖² — so after one
 * eigendecomposition a loss at any step costs O(modes). All null directions of Σ share x = 0 and
 * one rate, so they are lumped into a single mode: exact for every quadratic loss.
 */
import { UserError } from '../src/errors.ts';
import { checkProblem, type LinearGdProblem } from './gd.ts';
import { covarianceEigen, type CovarianceEigen, type Dense } from './linalg.ts';

/** The scalar summary of a linear GD run: everything a loss curve needs. */
export interface ModalSystem {
  values: Float64Array; // [k] eigenvalue x_i of Σ (0 for the lumped null mode)
  rates: Float64Array; // [k] r_i = 1 − κη(x_i + γ)
  uu: Float64Array; // [k] ‖E*_i‖²
  uw: Float64Array; // [k] ⟨E*_i, E_i(0) − E*_i⟩
  ww: Float64Array; // [k] ‖E_i(0) − E*_i‖²
}

/** A loss = scale · Σ_i weight_i ‖E_i(t)‖², weight x_i ('covariance', train) or 1 ('identity'). */
export interface ModalLoss {
  system: ModalSystem;
  weighting: 'covariance' | 'identity';
  scale: number;
}

export interface ModalDynamics {
  dim: number;
  out: number;
  eig: CovarianceEigen;
  fixed: Float64Array; // [k, out] E*_i for the eigen-modes (not the null lump)
  transient: Float64Array; // [k, out] E_i(0) − E*_i
  null: { rate: number; fixed: Float64Array; transient: Float64Array } | null; // [dim, out] each, in the original basis
  system: ModalSystem; // eigen-modes, then the null lump if any
}

/** The rate factor r = 1 − κη(x + γ) and the fixed-point multiplier −γ/(x + γ). */
function modeConstants(x: number, kappa: number, eta: number, decay: number): { rate: number; pull: number } {
  return { rate: 1 - kappa * eta * (x + decay), pull: decay === 0 ? 0 : -decay / (x + decay) };
}

export function exactDynamics(p: LinearGdProblem, eig: CovarianceEigen = covarianceEigen(p.data)): ModalDynamics {
  checkProblem(p);
  const { teacher, init, kappa, eta, decay } = p;
  const dim = teacher.rows;
  const out = teacher.cols;
  const k = eig.values.length;
  const top = k > 0 ? eig.values[k - 1] : 0;
  if (kappa * eta * (top + decay) >= 2) {
    throw new UserError(
      `eta = ${eta} makes gradient descent diverge: ${kappa}·eta·(largest eigenvalue ${top.toPrecision(4)} + decay ${decay}) ≥ 2`,
    );
  }
  const d0 = new Float64Array(dim * out);
  for (let i = 0; i < d0.length; i++) d0[i] = init.data[i] - teacher.data[i];

  const fixed = new Float64Array(k * out);
  const transient = new Float64Array(k * out);
  const kk = k + (eig.complete ? 0 : 1);
  const system: ModalSystem = {
    values: new Float64Array(kk),
    rates: new Float64Array(kk),
    uu: new Float64Array(kk),
    uw: new Float64Array(kk),
    ww: new Float64Array(kk),
  };
  // Null-space parts, P·D0 and P·W*, built by subtracting each mode's component.
  const nullD = eig.complete ? null : Float64Array.from(d0);
  const nullT = eig.complete ? null : Float64Array.from(teacher.data);
  for (let i = 0; i < k; i++) {
    const x = eig.values[i];
    const { rate, pull } = modeConstants(x, kappa, eta, decay);
    system.values[i] = x;
    system.rates[i] = rate;
    const v = i * dim;
    let uu = 0;
    let uw = 0;
    let ww = 0;
    for (let o = 0; o < out; o++) {
      let a = 0;
      let c = 0;
      for (let j = 0; j < dim; j++) {
        a += eig.vectors[v + j] * teacher.data[j * out + o];
        c += eig.vectors[v + j] * d0[j * out + o];
      }
      const f = pull * a;
      const w = c - f;
      fixed[i * out + o] = f;
      transient[i * out + o] = w;
      uu += f * f;
      uw += f * w;
      ww += w * w;
      if (nullD && nullT) {
        for (let j = 0; j < dim; j++) {
          nullD[j * out + o] -= c * eig.vectors[v + j];
          nullT[j * out + o] -= a * eig.vectors[v + j];
        }
      }
    }
    system.uu[i] = uu;
    system.uw[i] = uw;
    system.ww[i] = ww;
  }
  let nullPart: ModalDynamics['null'] = null;
  if (nullD && nullT) {
    const { rate, pull } = modeConstants(0, kappa, eta, decay);
    const f = nullT.map((a) => pull * a);
    const w = nullD.map((c, j) => c - f[j]);
    nullPart = { rate, fixed: f, transient: w };
    let uu = 0;
    let uw = 0;
    let ww = 0;
    for (let j = 0; j < f.length; j++) {
      uu += f[j] * f[j];
      uw += f[j] * w[j];
      ww += w[j] * w[j];
    }
    system.values[k] = 0;
    system.rates[k] = rate;
    system.uu[k] = uu;
    system.uw[k] = uw;
    system.ww[k] = ww;
  }
  return { dim, out, eig, fixed, transient, null: nullPart, system };
}

/** E(t) [k, out]: the error in the eigenbasis after t steps (eigen-modes only). */
export function modalErrorAt(dyn: ModalDynamics, t: number): Float64Array {
  const { out } = dyn;
  const k = dyn.eig.values.length;
  const e = new Float64Array(k * out);
  for (let i = 0; i < k; i++) {
    const p = Math.pow(dyn.system.rates[i], t);
    for (let o = 0; o < out; o++) e[i * out + o] = dyn.fixed[i * out + o] + p * dyn.transient[i * out + o];
  }
  return e;
}

/** D(t) = W(t) − W* [dim, out] in the original basis, from the closed form. */
export function errorAt(dyn: ModalDynamics, t: number): Dense {
  const { dim, out } = dyn;
  const k = dyn.eig.values.length;
  const e = modalErrorAt(dyn, t);
  const d = new Float64Array(dim * out);
  if (dyn.null) {
    const p = Math.pow(dyn.null.rate, t);
    for (let j = 0; j < d.length; j++) d[j] = dyn.null.fixed[j] + p * dyn.null.transient[j];
  }
  for (let i = 0; i < k; i++) {
    const v = i * dim;
    for (let o = 0; o < out; o++) {
      const c = e[i * out + o];
      if (c === 0) continue;
      for (let j = 0; j < dim; j++) d[j * out + o] += c * dyn.eig.vectors[v + j];
    }
  }
  return { rows: dim, cols: out, data: d };
}

function weightOf(loss: ModalLoss, i: number): number {
  return loss.weighting === 'covariance' ? loss.system.values[i] : 1;
}

/** The loss after t steps, in O(modes). */
export function lossAt(loss: ModalLoss, t: number): number {
  const { rates, uu, uw, ww } = loss.system;
  let s = 0;
  for (let i = 0; i < rates.length; i++) {
    const p = Math.pow(rates[i], t);
    s += weightOf(loss, i) * (uu[i] + p * (2 * uw[i] + p * ww[i]));
  }
  return loss.scale * s;
}

/** The loss as t → ∞: modes with r = 1 keep their initial error, the others reach E*. */
export function limitLoss(loss: ModalLoss): number {
  const { rates, uu, uw, ww } = loss.system;
  let s = 0;
  for (let i = 0; i < rates.length; i++) {
    s += weightOf(loss, i) * (rates[i] === 1 ? uu[i] + 2 * uw[i] + ww[i] : uu[i]);
  }
  return loss.scale * s;
}

/**
 * A bound on |loss(t) − limit| that never increases with t: scale·Σ w_i (2|r_i|^t|uw_i| + r_i^{2t} ww_i)
 * over the decaying modes. Used to find a step after which the loss stays on one side of a threshold.
 */
export function distanceBound(loss: ModalLoss, t: number): number {
  const { rates, uw, ww } = loss.system;
  let s = 0;
  for (let i = 0; i < rates.length; i++) {
    if (rates[i] === 1) continue;
    const p = Math.pow(Math.abs(rates[i]), t);
    s += weightOf(loss, i) * p * (2 * Math.abs(uw[i]) + p * ww[i]);
  }
  return loss.scale * s;
}

/**
 * True when every mode's term is non-increasing in t: |r| ≤ 1 and either uw = 0, or uw > 0 with
 * r ≥ 0 (then uu + 2s·uw + s²·ww grows with s = r^t, which falls). Always true without decay.
 */
export function isMonotone(loss: ModalLoss): boolean {
  const { rates, uw } = loss.system;
  for (let i = 0; i < rates.length; i++) {
    if (Math.abs(rates[i]) > 1) return false;
    if (uw[i] !== 0 && !(uw[i] > 0 && rates[i] >= 0)) return false;
  }
  return true;
}

/** Losses along a scan t = 0, 1, …, last, with powers updated by one multiplication per step. */
export function scanLoss(loss: ModalLoss, last: number, visit: (t: number, value: number) => boolean | void): void {
  const { rates, uu, uw, ww } = loss.system;
  const k = rates.length;
  const p = new Float64Array(k).fill(1);
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) w[i] = weightOf(loss, i);
  for (let t = 0; t <= last; t++) {
    let s = 0;
    for (let i = 0; i < k; i++) {
      s += w[i] * (uu[i] + p[i] * (2 * uw[i] + p[i] * ww[i]));
      p[i] *= rates[i];
    }
    if (visit(t, loss.scale * s) === true) return;
  }
}

/**
 * The mean of several losses with the same weighting, as one loss: modes concatenated, each
 * loss's scale/count folded into its coefficients. Its threshold times are those of the averaged
 * curve (not the mean of the times).
 */
export function meanLoss(losses: ModalLoss[]): ModalLoss {
  if (losses.length === 0) throw new RangeError('meanLoss: no losses');
  const weighting = losses[0].weighting;
  if (losses.some((l) => l.weighting !== weighting)) throw new RangeError('meanLoss: mixed weightings');
  const k = losses.reduce((a, l) => a + l.system.rates.length, 0);
  const system: ModalSystem = {
    values: new Float64Array(k),
    rates: new Float64Array(k),
    uu: new Float64Array(k),
    uw: new Float64Array(k),
    ww: new Float64Array(k),
  };
  let o = 0;
  for (const l of losses) {
    const f = l.scale / losses.length;
    const s = l.system;
    for (let i = 0; i < s.rates.length; i++, o++) {
      system.values[o] = s.values[i];
      system.rates[o] = s.rates[i];
      system.uu[o] = f * s.uu[i];
      system.uw[o] = f * s.uw[i];
      system.ww[o] = f * s.ww[i];
    }
  }
  return { system, weighting, scale: 1 };
}
