/**
 * The one gradient-descent recursion both linear-grokking problems share, and its plain iterative
 * loop. With data A [rows, dim], Σ = AᵀA/rows, a teacher W* and the error D = W − W*:
 *
 *   W_{t+1} = W_t − κη (Σ D_t + γ W_t)      ⇔      D_{t+1} = D_t − κη (Σ D_t + γ (D_t + W*))
 *
 * Teacher–student (Levi et al.): κ = 2, γ the weight decay — the gradient of Tr[DᵀΣD] + γ‖S‖²_F,
 * i.e. each output column trained on its own squared error, which gives the paper's rate 1 − 2ηx.
 * Ridge (Xu et al.): κ = 1, γ = λ — the gradient of (1/2n)Σ⟨θ − θ*, φ_i⟩² + (λ/2)‖θ‖².
 */
import { UserError } from '../src/errors.ts';
import { matmul, matmulTransposeA, type Dense } from './linalg.ts';

export interface LinearGdProblem {
  data: Dense; // A [rows, dim]
  teacher: Dense; // W* [dim, out]
  init: Dense; // W_0 [dim, out]
  kappa: number; // 2 for teacher–student, 1 for ridge
  eta: number; // step size
  decay: number; // weight decay γ (ridge λ), on W, not on D
}

export function checkProblem(p: LinearGdProblem): void {
  const { data, teacher, init } = p;
  if (teacher.rows !== data.cols || init.rows !== data.cols || init.cols !== teacher.cols) {
    throw new RangeError(
      `linear GD: data [${data.rows}, ${data.cols}], teacher [${teacher.rows}, ${teacher.cols}], init [${init.rows}, ${init.cols}] do not fit`,
    );
  }
  if (!(p.eta > 0)) throw new UserError(`linear GD: eta must be > 0, got ${p.eta}`);
  if (!(p.decay >= 0)) throw new UserError(`linear GD: weight decay must be ≥ 0, got ${p.decay}`);
}

export interface IterationRecord {
  step: number;
  trainQuadratic: number; // Tr[DᵀΣD] = ‖AD‖²_F / rows
  errorNormSq: number; // ‖D‖²_F
}

/**
 * Runs `steps` steps of the recursion above literally (Σ D as Aᵀ(AD)/rows, never Σ itself) and
 * returns the final error D [dim, out]. `onStep` sees every step from 0 to `steps`, with the
 * unscaled quadratics each problem turns into its losses.
 */
export function iterateGd(p: LinearGdProblem, steps: number, onStep?: (r: IterationRecord, d: Dense) => void): Dense {
  checkProblem(p);
  const { data, teacher, kappa, eta, decay } = p;
  const rows = data.rows;
  const d: Dense = { rows: p.init.rows, cols: p.init.cols, data: new Float64Array(p.init.data.length) };
  for (let i = 0; i < d.data.length; i++) d.data[i] = p.init.data[i] - teacher.data[i];
  for (let t = 0; ; t++) {
    const ad = matmul(data, d); // [rows, out]
    if (onStep) {
      let tr = 0;
      for (const v of ad.data) tr += v * v;
      let nsq = 0;
      for (const v of d.data) nsq += v * v;
      onStep({ step: t, trainQuadratic: tr / rows, errorNormSq: nsq }, d);
    }
    if (t === steps) return d;
    const grad = matmulTransposeA(data, ad); // Aᵀ A D, [dim, out]
    const k = kappa * eta;
    for (let i = 0; i < d.data.length; i++) {
      d.data[i] -= k * (grad.data[i] / rows + decay * (d.data[i] + teacher.data[i]));
    }
  }
}
