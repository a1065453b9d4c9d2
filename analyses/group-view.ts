/**
 * How a task's pairs sit on a cyclic group Z_n so that the answer is "i + j" there (docs/measures.md#group-view), and
 * the gathers that move logits and activations from dataset order onto that group grid.
 *
 *   add  (a, b) ↦ (a, b)                   over Z_p,        answer a + b
 *   sub  (a, b) ↦ (a, −b)                  over Z_p,        answer a − b = a + (−b)
 *   mul  (a, b) ↦ (log a, log b)           over Z_{p−1},    answer log(a·b) = log a + log b
 *   div  (a, b) ↦ (log a, −log b)          over Z_{p−1},    answer log(a/b) = log a − log b
 *
 * logs are base the smallest generator g of Z_p^*. Every other task has kind 'none'.
 *
 * The grid has n² cells, cell index i·n + j (i-major, like the a-major dataset), and n output
 * classes in group order: group element x stands for the residue `residueOfGroup[x]` (x itself
 * for add/sub, g^x for mul/div), both as an operand-a token and as an output class.
 * For mul/div the examples with a zero operand (a = 0, or b = 0 for mul) are outside the group:
 * they are listed in `outside` and have no cell, and the output class 0 (the residue 0) is
 * outside the group too: gatherLogits drops its column, so every grid measure is a softmax over
 * the n = p − 1 group classes only. That is the analysis of the cyclic group the spec asks for;
 * the metrics pass, which uses all p classes and all examples, is where class 0 is accounted for.
 */
import type { TaskConfig } from '../src/config/types.ts';
import type { Dataset } from '../src/tasks/types.ts';
import { isPrime } from '../src/tasks/modular.ts';
import { multiplicativeGroup } from './fourier/group.ts';
import { FourierInputError, type NumericArray } from './fourier/errors.ts';
import type { GroupView } from './types.ts';

/** The group view of a task: additive (add, sub), multiplicative (mul, div), or 'none'. */
export function groupView(task: TaskConfig): GroupView {
  if (task.kind !== 'modular')
    return { kind: 'none', n: 0, description: `no cyclic-group view for task kind "${task.kind}"` };
  const { op, p } = task;
  switch (op) {
    case 'add':
      return { kind: 'additive', n: p, description: `Z_${p}: (a, b) ↦ (a, b), answer a + b` };
    case 'sub':
      return { kind: 'additive', n: p, description: `Z_${p}: (a, b) ↦ (a, −b), answer a + (−b)` };
    case 'mul':
    case 'div': {
      if (!isPrime(p))
        return { kind: 'none', n: 0, description: `no cyclic-group view for ${op} mod ${p}: p is not prime` };
      const g = multiplicativeGroup(p).generator;
      const bMap = op === 'mul' ? 'log_g b' : '−log_g b';
      return {
        kind: 'multiplicative',
        n: p - 1,
        generator: g,
        description: `Z_${p}^* ≅ Z_${p - 1} by discrete log base g = ${g}: (a, b) ↦ (log_g a, ${bMap}); pairs with a zero operand and the class 0 are outside the group`,
      };
    }
    default:
      return { kind: 'none', n: 0, description: `no cyclic-group view for the operation "${op}"` };
  }
}

/** [n] the residue each group element stands for (operand a and output class): x, or g^x. */
export function residueOfGroup(task: TaskConfig): Int32Array {
  const view = requireGroup(task);
  if (view.kind === 'additive') return Int32Array.from({ length: view.n }, (_, x) => x);
  return Int32Array.from(multiplicativeGroup((task as { p: number }).p).exp);
}

/** A dataset laid out on the group grid. */
export interface GroupGrid {
  readonly view: GroupView;
  readonly p: number; // modulus
  readonly n: number; // group order
  readonly examples: number; // dataset size N
  readonly classes: number; // dataset output classes (p)
  /** [N] grid cell i·n + j of each example, −1 for an example outside the group. */
  readonly cellOfExample: Int32Array;
  /** [n²] the dataset example at each cell. */
  readonly exampleOfCell: Int32Array;
  /** [n²] the group index of each cell's label; equals (i + j) mod n by construction (tested). */
  readonly answerOfCell: Int32Array;
  /** Dataset indices of the examples outside the group (zero operands for mul / div), ascending. */
  readonly outside: Int32Array;
  /** [n] output class (residue) of each group element; gatherLogits keeps exactly these columns. */
  readonly classOfGroup: Int32Array;
  /** [classes] group index of each output class, −1 for a class outside the group (0 for mul / div). */
  readonly groupOfClass: Int32Array;
}

/**
 * Map every example of a two-operand modular dataset onto the group grid. Throws a
 * FourierInputError when the task has no group view, when the dataset lacks operands, or when
 * the group's cells are not each covered by exactly one example.
 */
export function groupGrid(dataset: Dataset): GroupGrid {
  const task = dataset.task;
  const view = requireGroup(task);
  const p = (task as { p: number }).p;
  const op = (task as { op: string }).op;
  const ops = dataset.operands;
  if (!ops || ops.size !== p) {
    throw new FourierInputError(
      'dataset.operands',
      ops ? `size ${ops.size}` : 'missing',
      `the operands of a modular task with p = ${p}`,
    );
  }
  const n = view.n;
  const N = dataset.n;
  const residue = residueOfGroup(task);
  const groupOfResidue = new Int32Array(p).fill(-1); // [p]
  for (let x = 0; x < n; x++) groupOfResidue[residue[x]] = x;
  const negateB = op === 'sub' || op === 'div';

  const cellOfExample = new Int32Array(N).fill(-1);
  const exampleOfCell = new Int32Array(n * n).fill(-1);
  const answerOfCell = new Int32Array(n * n);
  const outside: number[] = [];
  for (let e = 0; e < N; e++) {
    const i = groupOfResidue[ops.a[e]];
    const jb = groupOfResidue[ops.b[e]];
    if (i < 0 || jb < 0) {
      outside.push(e);
      continue;
    }
    const j = negateB ? (n - jb) % n : jb;
    const cell = i * n + j;
    if (exampleOfCell[cell] >= 0) {
      throw new FourierInputError(
        `dataset example ${e} (a = ${ops.a[e]}, b = ${ops.b[e]})`,
        `cell (${i}, ${j})`,
        'a group cell not already taken',
        `example ${exampleOfCell[cell]} has it`,
      );
    }
    const answer = groupOfResidue[dataset.labels[e]];
    if (answer < 0) {
      throw new FourierInputError(`dataset label of example ${e}`, dataset.labels[e], 'a class inside the group');
    }
    cellOfExample[e] = cell;
    exampleOfCell[cell] = e;
    answerOfCell[cell] = answer;
  }
  const missing = exampleOfCell.indexOf(-1);
  if (missing >= 0) {
    const i = Math.floor(missing / n),
      j = missing % n;
    throw new FourierInputError(
      'dataset',
      `no example for group cell (${i}, ${j})`,
      `all ${n}² pairs of the group (${view.description})`,
    );
  }
  const groupOfClass = new Int32Array(dataset.d_vocab_out).fill(-1);
  for (let c = 0; c < Math.min(p, dataset.d_vocab_out); c++) groupOfClass[c] = groupOfResidue[c];
  return {
    view,
    p,
    n,
    examples: N,
    classes: dataset.d_vocab_out,
    cellOfExample,
    exampleOfCell,
    answerOfCell,
    outside: Int32Array.from(outside),
    classOfGroup: residue,
    groupOfClass,
  };
}

/**
 * The grid logits L [n², n] (float64): L[i·n + j, x] = logits[example at (i, j), class of x].
 * `logits` is [N, classes] in dataset order (classes = the dataset's d_vocab_out; any column past
 * the group's classes, and the class 0 of mul / div, is dropped).
 */
export function gatherLogits(grid: GroupGrid, logits: NumericArray): Float64Array {
  const { n, classes } = grid;
  checkRows('logits', logits, grid.examples, classes);
  const L = new Float64Array(n * n * n); // [n², n]
  for (let cell = 0; cell < n * n; cell++) {
    const from = grid.exampleOfCell[cell] * classes;
    const to = cell * n;
    for (let x = 0; x < n; x++) L[to + x] = logits[from + grid.classOfGroup[x]];
  }
  return L;
}

/** [n²] 1 where the cell's example is in `train` (indices into the dataset), else 0. */
export function gridTrainMask(grid: GroupGrid, train: ArrayLike<number>): Uint8Array {
  const mask = new Uint8Array(grid.n * grid.n);
  for (let t = 0; t < train.length; t++) {
    const e = train[t];
    if (!Number.isInteger(e) || e < 0 || e >= grid.examples) {
      throw new FourierInputError(`train index [${t}]`, e, `an example index in [0, ${grid.examples})`);
    }
    const cell = grid.cellOfExample[e];
    if (cell >= 0) mask[cell] = 1;
  }
  return mask;
}

/** Per-example activations [N, d] (dataset order) → [n², d] float64 in grid order. */
export function gatherActivations(grid: GroupGrid, acts: NumericArray, d: number): Float64Array {
  checkRows('activations', acts, grid.examples, d);
  const n2 = grid.n * grid.n;
  const out = new Float64Array(n2 * d); // [n², d]
  for (let cell = 0; cell < n2; cell++) {
    const from = grid.exampleOfCell[cell] * d;
    out.set(acts.subarray(from, from + d), cell * d);
  }
  return out;
}

function requireGroup(task: TaskConfig): GroupView {
  const view = groupView(task);
  if (view.kind === 'none') {
    throw new FourierInputError(
      'task',
      describe(task),
      'a modular add, sub, mul or div task (the Fourier and circuit passes need a cyclic-group view)',
    );
  }
  return view;
}

function describe(task: TaskConfig): string {
  return task.kind === 'modular' ? `${task.op} mod ${task.p}` : task.kind;
}

function checkRows(what: string, data: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(cols) || cols < 1) throw new FourierInputError(`${what} width`, cols, 'an integer ≥ 1');
  if (data.length !== rows * cols) {
    throw new FourierInputError(
      `${what} length`,
      data.length,
      `${rows * cols} (shape [${rows}, ${cols}], dataset order)`,
    );
  }
}
