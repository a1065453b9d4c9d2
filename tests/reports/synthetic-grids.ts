/**
 * Planted checkpoint_grids for a synthetic run (./synthetic.ts): at the checkpoints selectGridSteps
 * picks, one neuron per key frequency whose activation over (a, b) is a ReLU of cos(2πk(a + b)/p)
 * growing out of seeded noise over training, four heads whose attention sharpens from uniform to a
 * periodic preference, and neuron clusters that fill up with the key frequencies. Noise keeps the
 * early grids as incompressible as a real memorising network's, so the report's size is honest.
 */
import {
  checkpointGridsEntry,
  CHECKPOINT_GRIDS_VERSION,
  MAX_GRID_NEURONS,
  selectGridSteps,
} from '../../analyses/checkpoint-grids.ts';
import type { CheckpointGrids } from '../../analyses/types.ts';
import type { RunReportInput } from '../../reports/input.ts';
import { Rng } from '../../src/rng.ts';

export function withCheckpointGrids(input: RunReportInput, seed = 0): RunReportInput {
  const a = structuredClone(input.analysis);
  const p = a.group.n;
  const steps = a.checkpoints.map((c) => c.step);
  const last = steps.at(-1)!;
  const s = a.summary;
  const chosen = selectGridSteps(steps, {
    t_mem: s.t_mem,
    t_grok_95: s.t_grok_95,
    t_grok_99: s.t_grok_99,
    boundaries: s.boundaries.map((b) => b.step),
  });
  const keys = a.key_frequencies.slice(0, MAX_GRID_NEURONS);
  const follow = keys.map((k, i) => ({ neuron: 10 + 37 * i, frequency: k, explained: 0.9 }));
  const n = p * p;
  const operands = {
    a: Int32Array.from({ length: n }, (_, e) => Math.floor(e / p)),
    b: Int32Array.from({ length: n }, (_, e) => e % p),
  };
  const heads = 4;
  const checkpoints = chosen.map((step) => {
    const rng = Rng.derive(seed, `grids-${step}`);
    const u = step / last;
    const width = Math.max(...follow.map((f) => f.neuron)) + 1;
    const neurons = new Float32Array(n * width);
    for (const f of follow) {
      for (let e = 0; e < n; e++) {
        const v =
          3 * u * Math.cos((2 * Math.PI * f.frequency * (operands.a[e] + operands.b[e])) / p + f.neuron) +
          (1.2 - u) * rng.normal();
        neurons[e * width + f.neuron] = Math.max(0, v);
      }
    }
    const attention = new Float32Array(n * heads * 3);
    for (let e = 0; e < n; e++) {
      for (let h = 0; h < heads; h++) {
        const k = keys[h % Math.max(1, keys.length)] ?? 1;
        const sa = 2.5 * u * Math.cos((2 * Math.PI * k * operands.a[e]) / p + h) + 0.3 * (1 - u) * rng.normal();
        const sb = 2.5 * u * Math.cos((2 * Math.PI * k * operands.b[e]) / p + 2 * h) + 0.3 * (1 - u) * rng.normal();
        const z = Math.exp(sa) + Math.exp(sb) + Math.exp(-1);
        attention[(e * heads + h) * 3] = Math.exp(sa) / z;
        attention[(e * heads + h) * 3 + 1] = Math.exp(sb) / z;
        attention[(e * heads + h) * 3 + 2] = Math.exp(-1) / z;
      }
    }
    const clusters = keys
      .filter((_, i) => u > 0.2 + 0.1 * i)
      .map((k, i) => ({ frequency: k, neurons: Math.round((40 + 10 * i) * u), mean_explained: 0.86 + 0.1 * u }));
    const unclustered = 512 - clusters.reduce((t, c) => t + c.neurons, 0);
    return checkpointGridsEntry({
      step,
      p,
      operands,
      n,
      neurons,
      width,
      follow,
      attention,
      heads,
      clusters: { clusters, unclustered },
    });
  });
  const grids: CheckpointGrids = {
    version: CHECKPOINT_GRIDS_VERSION,
    p,
    quantisation: 'uint8',
    selection: `${chosen.length} of ${steps.length} checkpoints: log-spaced over the run, the checkpoints around T_mem, T_grok and each phase boundary, and the last`,
    neurons: follow,
    neurons_step: last,
    heads: Array.from({ length: heads }, (_, head) => ({ layer: 0, head })),
    checkpoints,
  };
  return { ...input, analysis: { ...a, checkpoint_grids: grids } };
}
