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
 * transformer  embedding  = embed.W_E rows of the number tokens              [n, d_model]
 *              logitMap   = W_out (last block) · W_U                         [d_mlp, n]
 *              firstLayer = W_E' · (Σ_h W_V^h·W_O^h) · W_in (block 0)         [n, d_mlp]
 *                Our choice: the OV path. An operand token reaches the MLP at the last position
 *                ('=') only through attention, so W_E'·W_in alone (the direct path) is not what
 *                a neuron sees; heads are summed with equal weight (attention patterns are
 *                data-dependent), and LayerNorm, if any, is ignored.
 *              Only the direct paths are used with several layers (W_L from the last block's
 *              neurons, the first layer from block 0).
 * mlp          embedding  = embed.W_E rows of the number tokens              [n, d_embed]
 *              logitMap   = unembed.W_U (last hidden layer → output)         [width_last, n]
 *              firstLayer = W_E' · mlp.0.W[rows of operand a's embedding]    [n, hidden[0]]
 * quadratic    embedding  = firstLayer = Wᵀ restricted to operand a's columns [n, h]
 *                (the network has no embedding table; its first layer acts on one-hots)
 *              logitMap   = Vᵀ                                                [h, n]
 *
 * Sub and div map b ↦ −b; operand a's view is the un-negated one, and a reflection x ↦ −x only
 * flips the sign of each sin row, so per-frequency norms do not depend on the operand chosen.
 */
import type { ModelConfig, TaskConfig } from '../src/config/types.ts';
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

/** Group-ordered weight views of a checkpoint. Throws FourierInputError on a missing or mis-sized tensor. */
export function weightsView(params: Params, model: ModelConfig, task: TaskConfig): WeightsView {
  const view = groupView(task);
  if (view.kind === 'none' || task.kind !== 'modular') {
    throw new FourierInputError('task', task.kind === 'modular' ? `${task.op} mod ${task.p}` : task.kind, 'a modular add, sub, mul or div task');
  }
  const p = task.p;
  const n = view.n;
  const residue = residueOfGroup(task); // [n] token and class of each group element
  switch (model.kind) {
    case 'transformer':
      return transformerView(params, model, p, n, residue);
    case 'mlp':
      return mlpView(params, model, p, n, residue);
    case 'quadratic':
      return quadraticView(params, model, p, n, residue);
    default:
      throw new FourierInputError('model.kind', (model as { kind: unknown }).kind, "'transformer', 'mlp' or 'quadratic'");
  }
}

type TransformerConfig = Extract<ModelConfig, { kind: 'transformer' }>;
type MlpConfig = Extract<ModelConfig, { kind: 'mlp' }>;
type QuadraticConfig = Extract<ModelConfig, { kind: 'quadratic' }>;

function transformerView(params: Params, cfg: TransformerConfig, p: number, n: number, residue: Int32Array): WeightsView {
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const W_E = tensor(params, 'embed.W_E', D, p); // [d_vocab, D]
  const W_U = tensor(params, 'unembed.W_U', D * p); // [D, p]
  const last = `blocks.${cfg.n_layers - 1}`;
  const W_out = tensor(params, `${last}.mlp.W_out`, M * D); // [M, D]
  const W_V = tensor(params, 'blocks.0.attn.W_V', H * D * E); // [H, D, E]
  const W_O = tensor(params, 'blocks.0.attn.W_O', H * E * D); // [H, E, D]
  const W_in = tensor(params, 'blocks.0.mlp.W_in', D * M); // [D, M]

  const embedding = gatherRows(W_E, D, residue); // [n, D]
  const unembed = gatherCols(W_U, D, p, residue); // [D, n]
  const logitMap = matmul(W_out, unembed, M, D, n); // [M, n]
  const ov = new Float64Array(D * D); // [D, D] Σ_h W_V[h]·W_O[h]
  for (let h = 0; h < H; h++) {
    const vh = W_V.subarray(h * D * E, (h + 1) * D * E);
    const oh = W_O.subarray(h * E * D, (h + 1) * E * D);
    addInto(ov, matmul(vh, oh, D, E, D));
  }
  const firstLayer = matmul(matmul(embedding, ov, n, D, D), W_in, n, D, M); // [n, M]
  return { n, embedding, dEmbed: D, logitMap, neurons: M, firstLayer, firstNeurons: M };
}

function mlpView(params: Params, cfg: MlpConfig, p: number, n: number, residue: Int32Array): WeightsView {
  const dE = cfg.d_embed;
  const widths = cfg.hidden;
  const W_E = tensor(params, 'embed.W_E', dE, p); // [d_vocab, dE]
  const W0 = tensor(params, 'mlp.0.W', 2 * dE * widths[0]); // [2·dE, hidden[0]]: operand a's rows first
  const last = widths[widths.length - 1];
  const W_U = tensor(params, 'unembed.W_U', last * p); // [last, p]
  const embedding = gatherRows(W_E, dE, residue); // [n, dE]
  const firstLayer = matmul(embedding, W0.subarray(0, dE * widths[0]), n, dE, widths[0]); // [n, hidden[0]]
  const logitMap = gatherCols(W_U, last, p, residue); // [last, n]
  return { n, embedding, dEmbed: dE, logitMap, neurons: last, firstLayer, firstNeurons: widths[0] };
}

function quadraticView(params: Params, cfg: QuadraticConfig, p: number, n: number, residue: Int32Array): WeightsView {
  const h = cfg.hidden;
  const W = tensor(params, 'W', h * 2 * p); // [h, 2p]
  const V = tensor(params, 'V', p * h); // [p, h]
  const firstLayer = new Float64Array(n * h); // [n, h]
  for (let x = 0; x < n; x++) for (let j = 0; j < h; j++) firstLayer[x * h + j] = W[j * 2 * p + residue[x]];
  const logitMap = new Float64Array(h * n); // [h, n]
  for (let j = 0; j < h; j++) for (let x = 0; x < n; x++) logitMap[j * n + x] = V[residue[x] * h + j];
  return { n, embedding: firstLayer, dEmbed: h, logitMap, neurons: h, firstLayer, firstNeurons: h };
}

/**
 * A parameter by name. With `minRows`, `size` is a row width and the tensor must hold a whole
 * number of rows, at least minRows of them (the embedding: p number tokens plus '=').
 */
function tensor(params: Params, name: string, size: number, minRows?: number): Float64Array {
  const t = params[name];
  if (!t) throw new FourierInputError(`parameter "${name}"`, 'missing', 'present in the checkpoint');
  if (minRows === undefined ? t.length !== size : t.length % size !== 0 || t.length / size < minRows) {
    const expected = minRows === undefined ? `${size} numbers` : `rows of ${size}, at least ${minRows}`;
    throw new FourierInputError(`parameter "${name}" length`, t.length, expected);
  }
  return t instanceof Float64Array ? t : Float64Array.from(t); // one array type keeps the loops monomorphic
}

/** rows of M [*, cols] picked by index → [index.length, cols]. */
function gatherRows(M: Float64Array, cols: number, index: Int32Array): Float64Array {
  const out = new Float64Array(index.length * cols);
  for (let r = 0; r < index.length; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = M[index[r] * cols + c];
  return out;
}

/** columns of M [rows, width] picked by index → [rows, index.length]. */
function gatherCols(M: Float64Array, rows: number, width: number, index: Int32Array): Float64Array {
  const k = index.length;
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = M[r * width + index[c]];
  return out;
}

/** A [m, k] · B [k, n] → [m, n], float64 accumulation. */
function matmul(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let t = 0; t < k; t++) {
      const a = A[i * k + t];
      if (a === 0) continue;
      const bt = t * n;
      for (let j = 0; j < n; j++) C[row + j] += a * B[bt + j];
    }
  }
  return C;
}

function addInto(acc: Float64Array, x: Float64Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += x[i];
}
