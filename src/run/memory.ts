/**
 * How much memory a run needs, estimated from its config alone — before anything is allocated —
 * so that a configuration that cannot fit is refused in milliseconds with the estimate, instead
 * of running for minutes to a crash (issue 14: p = 20000 grew to 14 GB and died).
 *
 * The terms are the allocations that grow with the task (float32 = 4 bytes):
 *   inputs       the one-hot uploads of the whole train and test sets (every evaluation reads them)
 *   activations  a training step (forward + backward) over the train split or a batch, or the
 *                forward evaluation of the larger split, whichever is larger
 *   analysis     the forward pass over all examples that `analyze` keeps: float64 logits, neurons
 *   dataset      tokens, labels and the split (typed arrays and split.json's text)
 *   parameters   weights, gradients, two optimiser slots and a snapshot
 * It is an estimate within a small factor, deliberately on the high side; what matters is that a
 * run that fits is never refused and one far too large is refused at once.
 */
import { totalmem } from 'node:os';
import type { RunConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';

/** Sizes of a task, computed from its config without building it. */
export interface TaskShape {
  n: number; // examples
  n_ctx: number;
  d_vocab: number;
  d_vocab_out: number;
}

export function taskShape(task: RunConfig['task']): TaskShape {
  switch (task.kind) {
    case 'modular':
      return {
        n: task.op === 'div' ? task.p * (task.p - 1) : task.p * task.p,
        n_ctx: 3,
        d_vocab: task.p + 1,
        d_vocab_out: task.p,
      };
    case 's5':
      return { n: 120 * 120, n_ctx: 3, d_vocab: 121, d_vocab_out: 120 };
    case 'sparse-parity':
      return { n: task.samples, n_ctx: task.n_bits, d_vocab: 2, d_vocab_out: 2 };
  }
}

export interface MemoryEstimate {
  total: number; // bytes
  parts: { what: string; bytes: number }[]; // largest first
}

export function estimateRunMemory(config: RunConfig): MemoryEstimate {
  const { n, n_ctx: T, d_vocab: V, d_vocab_out: C } = taskShape(config.task);
  const m = config.model;
  const nTrain = Math.ceil(n * config.split.train_fraction);
  const rows = Math.max(nTrain, n - nTrain); // the larger split, evaluated whole
  const batchRows = config.training.batch_size === null ? nTrain : Math.min(config.training.batch_size, nTrain);
  let inputWidth: number; // floats uploaded per example
  let perExample: number; // activation floats per example, forward
  let neurons: number; // what analyze keeps per example as "neurons"
  let params: number;
  if (m.kind === 'transformer') {
    const D = m.d_model,
      HE = m.n_heads * m.d_head,
      M = m.d_mlp;
    inputWidth = (T + 1) * (V + T);
    perExample = m.n_layers * (T * (3 * D + 3 * HE + m.n_heads * T) + 2 * M) + 3 * C;
    neurons = M;
    params =
      (V + T) * D + m.n_layers * (4 * D * HE + 3 * HE + D + 2 * D * M + M + D + (m.layer_norm ? 4 * D : 0)) + D * C + C;
  } else if (m.kind === 'mlp') {
    const widths = [T * m.d_embed, ...m.hidden];
    inputWidth = T * V;
    perExample = widths.reduce((a, w) => a + 2 * w, 0) + 3 * C;
    neurons = m.hidden.at(-1)!;
    params = V * m.d_embed + widths.slice(1).reduce((a, w, i) => a + widths[i] * w + w, 0) + widths.at(-1)! * C + C;
  } else {
    inputWidth = 2 * V;
    perExample = 2 * m.hidden + 3 * C;
    neurons = m.hidden;
    params = m.hidden * 2 * V + C * m.hidden;
  }
  const parts = [
    { what: 'one-hot inputs of the train and test sets', bytes: 4 * n * inputWidth },
    // a training step keeps its forward activations for the backward pass (≈ 3×); an evaluation of the larger split does not
    { what: 'activations of one forward and backward pass', bytes: 4 * perExample * Math.max(3 * batchRows, rows) },
    { what: 'the analysis forward pass over all examples', bytes: n * (8 * C + 4 * neurons) },
    { what: 'dataset and split', bytes: n * (4 * (T + 1) + 4 + 16) },
    { what: 'parameters, gradients and optimiser state', bytes: 4 * 5 * params },
  ].sort((a, b) => b.bytes - a.bytes);
  return { total: parts.reduce((a, p) => a + p.bytes, 0), parts };
}

/** Share of the machine's memory a run may plan to use: the rest is Node, tfjs and the system. */
export const MEMORY_SHARE = 0.8;

/** Refuse, before allocating anything, a run that cannot fit in this machine's memory. */
export function checkRunFits(config: RunConfig, source = 'config', available = totalmem()): MemoryEstimate {
  const est = estimateRunMemory(config);
  const budget = MEMORY_SHARE * available;
  if (est.total > budget) {
    const top = est.parts
      .slice(0, 2)
      .map((p) => `${p.what} ${formatBytes(p.bytes)}`)
      .join(', ');
    const key =
      config.task.kind === 'modular' ? 'task.p' : config.task.kind === 'sparse-parity' ? 'task.samples' : 'model';
    throw new ConfigError(
      source,
      key,
      `this run needs about ${formatBytes(est.total)} of memory (${top}), more than ${Math.round(MEMORY_SHARE * 100)} % of this machine's ${formatBytes(available)}; choose a smaller task or model`,
    );
  }
  return est;
}

export function formatBytes(b: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) ((b /= 1000), i++);
  return `${b < 10 && i > 0 ? b.toFixed(1) : Math.round(b)} ${units[i]}`;
}
