/**
 * The committed synthetic fixture plus planted llc results (λ̂ rising in memorisation, falling in
 * cleanup; one diverged chain at checkpoint 30) and a spiral trajectory: input for the llc,
 * trajectory and explorer tests.
 */
import type { AnalysisFile, LlcResult, TrajectoryResult } from '../../analyses/types.ts';
import { loadFixture } from './fixture.ts';

const r4 = (x: number) => Number(x.toPrecision(4));

/** The fixture with a planted λ̂ curve (rises in memorisation, falls in cleanup) and a spiral trajectory. */
export function withNewPasses(input: ReturnType<typeof loadFixture> = loadFixture()): ReturnType<typeof loadFixture> {
  const a: AnalysisFile = structuredClone(input.analysis);
  const last = a.checkpoints.at(-1)!.step;
  const n = a.run.n_train;
  a.options.passes = [...a.options.passes, 'llc', 'trajectory'];
  a.options.llc = {
    epsilon: 1e-4,
    gamma: 100,
    nbeta: r4(n / Math.log(n)),
    chains: 3,
    draws: 200,
    burnin: 100,
    seed: 0,
    trace_points: 40,
    batch_size: 256,
    n,
    nbeta_rule: 'n/ln n',
  };
  a.checkpoints.forEach((c, i) => {
    const u = c.step / last;
    const llc = r4(20 + 180 * Math.exp(-((u - 0.25) ** 2) / 0.02) + 40 * (1 - u));
    const chains: LlcResult['chains'] = [0, 1, 2].map((k) => {
      const diverged = i === 30 && k === 2;
      const trace = Array.from({ length: 38 }, (_, j) =>
        r4(
          diverged
            ? 0.01 * Math.exp(j / 3)
            : 0.01 + (llc / a.options.llc!.nbeta) * (1 - Math.exp(-j / 4)) * (1 + 0.03 * Math.sin(j + k)),
        ),
      );
      return diverged
        ? {
            llc: null,
            mean_loss: null,
            status: 'diverged' as const,
            reason: 'loss running away',
            below_init: 0,
            trace,
            trace_every: 8,
          }
        : {
            llc: r4(llc * (1 + 0.05 * (k - 1))),
            mean_loss: r4(0.01 + llc / a.options.llc!.nbeta),
            status: 'ok' as const,
            below_init: 0,
            trace,
            trace_every: 8,
          };
    });
    c.llc = { llc, llc_std: r4(llc * 0.05), init_loss: 0.01, diverged_chains: i === 30 ? 1 : 0, chains };
  });
  const steps = a.checkpoints.map((c) => c.step);
  const T = steps.length;
  const coords = steps.map((s, t) => {
    const u = Math.log1p(s) / Math.log1p(last);
    return [r4(10 * Math.cos(3 * u) * (1 - u)), r4(4 * Math.sin(3 * u) * (1 - u)), r4(2 * u - 1)];
  });
  const window = 10;
  const windowSteps = steps.slice(4, T - 5);
  const view = (scale: number) => ({
    n_params: 1000,
    total_variance: r4(scale * 1234.5),
    explained_variance_ratio: [0.62, 0.21, 0.09, 0.04, 0.02, 0.01, 0.005, 0.003, 0.001, 0.001],
    coords,
    effective_dim: 2.31,
    window_effective_dim: windowSteps.map((s) => r4(1.2 + scale * Math.exp(-((s / last - 0.3) ** 2) / 0.01))),
  });
  const trajectory: TrajectoryResult = {
    ...view(1),
    steps,
    window,
    window_steps: windowSteps,
    per_tensor: { 'embed.W_E': { ...view(0.5), n_params: 400 } },
    excluded: [],
  };
  a.trajectory = trajectory;
  return { ...input, analysis: a };
}
