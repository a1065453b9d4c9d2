/**
 * The three weight matrices the Fourier pass reads, for every model kind, with the number
 * tokens and output classes re-indexed into group order (group-view.ts: element x stands for the
 * residue residueOfGroup[x], i.e. x for add / sub and g^x for mul / div; the residue 0 of mul / div
 * is outside the group and dropped).
 *
 *   embedding  [n, d]        the number-token embedding, row x = token of x (docs/measures.md#fourier-measures: W_E')
 *   logitMap   [neurons, n]  the neuron-to-logit map W_L, column x = class of x
 *   firstLayer [n, m]        first-layer neuron weights as seen from operand a, column = neuron
 *
 * Each model computes them from its own tensors (src/models/<kind>/views.ts, which says what each
 * kind takes for each matrix and why); this module supplies the group order.
 *
 * Sub and div map b ↦ −b; operand a's view is the un-negated one, and a reflection x ↦ −x only
 * flips the sign of each sin row, so per-frequency norms do not depend on the operand chosen.
 */
import type { TaskConfig } from '../src/config/types.ts';
import type { Model } from '../src/models/types.ts';
import { FourierInputError } from './fourier/errors.ts';
import { groupView, residueOfGroup } from './group-view.ts';

export interface WeightsView {
  readonly n: number; // group order
  readonly embedding: Float64Array; // [n, dEmbed]
  readonly dEmbed: number;
  readonly logitMap: Float64Array; // [neurons, n]
  readonly neurons: number;
  readonly firstLayer: Float64Array; // [n, firstNeurons]
  readonly firstNeurons: number;
}

type Params = Record<string, Float32Array | Float64Array>;

/** Group-ordered weight views of a checkpoint. Throws an ArgumentError on a missing or mis-sized tensor. */
export function weightsView(params: Params, model: Model, task: TaskConfig): WeightsView {
  const view = groupView(task);
  if (view.kind === 'none' || task.kind !== 'modular') {
    throw new FourierInputError(
      'task',
      task.kind === 'modular' ? `${task.op} mod ${task.p}` : task.kind,
      'a modular add, sub, mul or div task',
    );
  }
  const residue = residueOfGroup(task); // [n] token and class of each group element
  return { n: view.n, ...model.weightViews(params, residue) };
}
