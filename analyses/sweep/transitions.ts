/**
 * Per-run transition times and norm contraction from a run's metrics rows (measures.md §6–§7).
 * Rows are evaluations every `training.eval_every` steps, which include every checkpoint step, so
 * these times are at least as fine as the checkpoint-based ones of `groklens analyze`.
 *
 *   T_mem      first row with train accuracy ≥ 0.99
 *   T_grok     first row with test accuracy ≥ 0.95 (Power), and ≥ 0.99 (Truong)
 *   delay      T_grok − T_mem
 *   V_mem      ‖θ‖² (sq_norm) at T_mem
 *   V_post     ‖θ‖² at T_grok (0.95): the norm the run had to shrink to before it generalised. Our
 *              choice; with V(t) ≈ V_mem·e^{−c(t − T_mem)} it makes log(V_mem/V_post) = c·delay.
 */

export const MEM_ACC = 0.99;
export const GROK_ACC = 0.95;
export const GROK_ACC_STRICT = 0.99;

export interface MetricsPoint {
  step: number;
  train_acc: number;
  test_acc: number;
  sq_norm: number;
}

export interface Transitions {
  t_mem: number | null;
  t_grok_95: number | null;
  t_grok_99: number | null;
  delay_95: number | null;
  delay_99: number | null;
  v_mem: number | null;
  v_post: number | null;
  last_step: number | null;
}

export function transitions(rows: readonly MetricsPoint[]): Transitions {
  const first = (ok: (r: MetricsPoint) => boolean) => rows.find(ok) ?? null;
  const mem = first((r) => r.train_acc >= MEM_ACC);
  const g95 = first((r) => r.test_acc >= GROK_ACC);
  const g99 = first((r) => r.test_acc >= GROK_ACC_STRICT);
  const t_mem = mem?.step ?? null;
  const delay = (g: MetricsPoint | null) => (g !== null && t_mem !== null ? g.step - t_mem : null);
  return {
    t_mem,
    t_grok_95: g95?.step ?? null,
    t_grok_99: g99?.step ?? null,
    delay_95: delay(g95),
    delay_99: delay(g99),
    v_mem: mem?.sq_norm ?? null,
    v_post: g95?.sq_norm ?? null,
    last_step: rows.at(-1)?.step ?? null,
  };
}

export interface DecayFit {
  c: number; // V(t) ≈ v0·exp(−c·(t − t0))
  v0: number; // fitted V at t0
  r2: number | null;
  from: number;
  to: number;
  n: number;
}

/**
 * Least squares on log V over the rows with from ≤ step ≤ to: log V = log v0 − c·(step − from).
 * Null when fewer than `minPoints` rows fall in the window or a norm is not positive.
 */
export function fitDecay(rows: readonly { step: number; sq_norm: number }[], from: number, to: number, minPoints = 3): DecayFit | null {
  const pts = rows.filter((r) => r.step >= from && r.step <= to);
  if (pts.length < minPoints || pts.some((r) => !(r.sq_norm > 0))) return null;
  const t = pts.map((r) => r.step - from);
  const y = pts.map((r) => Math.log(r.sq_norm));
  const n = pts.length;
  const mt = t.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let stt = 0;
  let sty = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    stt += (t[i] - mt) ** 2;
    sty += (t[i] - mt) * (y[i] - my);
    syy += (y[i] - my) ** 2;
  }
  if (stt === 0) return null;
  const slope = sty / stt;
  const a = my - slope * mt;
  let ssRes = 0;
  for (let i = 0; i < n; i++) ssRes += (y[i] - a - slope * t[i]) ** 2;
  return { c: -slope, v0: Math.exp(a), r2: syy === 0 ? null : 1 - ssRes / syy, from, to: pts[n - 1].step, n };
}
