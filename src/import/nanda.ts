/**
 * The `nanda` layout: Nanda et al.'s run file (full_run_data.pth), a dict of
 *   config        plain dict: p, d_model, num_heads (or n_heads), d_head, d_mlp, act_type, frac_train,
 *                 seed, lr, weight_decay, num_epochs, save_every, fn_name, …
 *   model         the final state dict;  state_dicts  one per saved epoch;  epochs  their epoch numbers
 *   train_losses, test_losses   one per epoch
 * or one of their bare state dicts. Their model class (progress-measures-paper, transformers.py)
 * stores, with D = d_model, H = heads, E = d_head, M = d_mlp, V = p + 1:
 *   embed.W_E [D, V]                 (embed(x) = W_E[:, x]ᵀ)          → ours: transposed [V, D]
 *   pos_embed.W_pos [n_ctx, D]       (same orientation as ours)
 *   attn.W_Q / W_K / W_V [H, E, D]   (q = einsum('ihd,bpd->biph'))     → ours [H, D, E]: last two axes swapped
 *   attn.W_O [D, H·E], columns head-major (z flattened 'i h -> (i h)') → ours [H, E, D] = W_Oᵀ reshaped
 *   attn.mask [n_ctx, n_ctx] float buffer                              → dropped
 *   mlp.W_in [M, D], mlp.W_out [D, M]                                   → ours: transposed
 *   mlp.b_in [M], mlp.b_out [D];  unembed.W_U [D, V] with the '=' column → ours [D, p]; no b_U (zeros)
 *   no attention biases (zeros).
 * Steps: their loop computes the losses, then updates, then saves epoch e; its first update has
 * lr 0 (LambdaLR min(step/10, 1)). So the state saved at epoch e has had e + 1 updates = groklens
 * step e + 1, train_losses[e] is step e, and the epoch-0 state equals the initial weights (step 0).
 */
import type { ModularOp } from '../config/types.ts';
import { UserError } from '../errors.ts';
import { PyDict } from '../io/pickle.ts';
import type { NamedTensors } from '../run/store.ts';
import { agree, num, numberList, resolveOp, splitFromOptions, stepsOf, str } from './common.ts';
import { isStateDict, listItems, type LazyTorchFile } from './lazy-torch.ts';
import { describeShapes, torchStateDict, type SourceStateDict } from './state-dict.ts';
import { groklensNames, type Geometry } from './transformer-lens.ts';
import type { ImportOptions, ImportPlan, ImportedMetricsRow, ImportedSplit } from './types.ts';

const FN_NAMES: Record<string, ModularOp> = { add: 'add', subtract: 'sub', x2xyy2: 'x2+xy+y2' };
/** Their LayerNorm parameters (w_ln, b_ln); the module is the identity when config.use_ln is False. */
const IDENTITY_LN = /^(blocks\.\d+\.ln\d?|ln)\.(w_ln|b_ln)$/;

/** Read the geometry off one of their state dicts. */
export function nandaGeometry(sd: SourceStateDict, pRecorded: number | undefined, useLn?: boolean): Geometry {
  const s = sd.shapes;
  const need = (name: string, rank: number): number[] => {
    const shape = s.get(name);
    if (!shape || shape.length !== rank)
      throw new UserError(
        `${sd.where}: ${name}: expected a ${rank}-D tensor (Nanda et al.'s layout), found ${shape ? `[${shape}]` : 'none'}; tensors: ${describeShapes(s)}`,
      );
    return shape;
  };
  const [D, V] = need('embed.W_E', 2);
  const [T] = need('pos_embed.W_pos', 2);
  let L = 0;
  while (s.has(`blocks.${L}.attn.W_Q`)) L++;
  const [H, E] = need('blocks.0.attn.W_Q', 3);
  const [M] = need('blocks.0.mlp.W_in', 2);
  const p = pRecorded ?? V - 1;
  if (V !== p + 1)
    throw new UserError(`${sd.where}: embed.W_E is [${D}, ${V}], but p = ${p} needs d_vocab p + 1 = ${p + 1}`);
  if (T !== 3)
    throw new UserError(`${sd.where}: pos_embed.W_pos has n_ctx ${T}; the modular tasks use 3 positions [a, b, =]`);
  const [, Vout] = need('unembed.W_U', 2);
  if (Vout !== p && Vout !== p + 1)
    throw new UserError(`${sd.where}: unembed.W_U has ${Vout} columns; with p = ${p} expected ${p + 1}`);
  const expected = new Map<string, number[]>([
    ['embed.W_E', [D, V]],
    ['pos_embed.W_pos', [T, D]],
    ['unembed.W_U', [D, Vout]],
  ]);
  for (let l = 0; l < L; l++) {
    const b = `blocks.${l}`;
    for (const w of ['W_Q', 'W_K', 'W_V']) expected.set(`${b}.attn.${w}`, [H, E, D]);
    expected.set(`${b}.attn.W_O`, [D, H * E]);
    expected
      .set(`${b}.mlp.W_in`, [M, D])
      .set(`${b}.mlp.b_in`, [M])
      .set(`${b}.mlp.W_out`, [D, M])
      .set(`${b}.mlp.b_out`, [D]);
  }
  const unknown = [...s.keys()].filter(
    (k) => !expected.has(k) && !/^blocks\.\d+\.attn\.mask$/.test(k) && !(useLn === false && IDENTITY_LN.test(k)),
  );
  if (unknown.length) {
    const ln = unknown.some((k) => IDENTITY_LN.test(k))
      ? " (their LayerNorm, x/(std + ε), is not groklens' LayerNorm: only runs with use_ln = False, where it is the identity, are read)"
      : '';
    throw new UserError(
      `${sd.where}: tensor(s) ${unknown.slice(0, 8).join(', ')} are not part of Nanda et al.'s transformer${ln}; tensors: ${describeShapes(s)}`,
    );
  }
  for (const [name, shape] of expected) {
    const got = s.get(name);
    if (!got || got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new UserError(
        `${sd.where}: ${name}: expected [${shape}] (Nanda et al.'s layout, d_model ${D}, ${H} heads × ${E}, d_mlp ${M}), found ${got ? `[${got}]` : 'none'}`,
      );
    }
  }
  return {
    n_layers: L,
    d_model: D,
    n_heads: H,
    d_head: E,
    d_mlp: M,
    layer_norm: false,
    p,
    n_ctx: T,
    d_vocab_out_source: Vout,
  };
}

/** One of their state dicts → our names and shapes. */
export async function convertNanda(sd: SourceStateDict, g: Geometry, conversions: Set<string>): Promise<NamedTensors> {
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M, p } = g;
  const V = p + 1;
  const load = (name: string) => sd.load(name, conversions);
  const out: NamedTensors = {};
  for (const [name, shape] of groklensNames(g)) {
    const size = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    const m = /^blocks\.(\d+)\.(attn|mlp)\.(\w+)$/.exec(name);
    if (name === 'embed.W_E')
      data = transpose(await load(name), D, V); // [D, V] → [V, D]
    else if (name === 'pos_embed.W_pos') data = await load(name);
    else if (name === 'unembed.W_U') {
      const w = await load(name); // [D, Vout]
      data = g.d_vocab_out_source === p ? w : dropColumn(w, D, V);
    } else if (m && ['W_Q', 'W_K', 'W_V'].includes(m[3])) {
      const w = await load(name); // [H, E, D] → [H, D, E]
      data = new Float32Array(size);
      for (let h = 0; h < H; h++) data.set(transpose(w.subarray(h * E * D, (h + 1) * E * D), E, D), h * D * E);
    } else if (m && m[3] === 'W_O')
      data = transpose(await load(name), D, H * E); // [D, H·E] → [H·E, D] = [H, E, D]
    else if (m && (m[3] === 'W_in' || m[3] === 'W_out'))
      data = m[3] === 'W_in' ? transpose(await load(name), M, D) : transpose(await load(name), D, M);
    else if (m && (m[3] === 'b_in' || m[3] === 'b_out')) data = await load(name);
    else data = new Float32Array(size); // attention biases, b_U: the model has none
    out[name] = { shape, data };
  }
  conversions.add(
    'embed.W_E, mlp.W_in, mlp.W_out: transposed ([d_model, d_vocab] → [d_vocab, d_model], [d_mlp, d_model] → [d_model, d_mlp], [d_model, d_mlp] → [d_mlp, d_model])',
  );
  conversions.add(
    'attn.W_Q/W_K/W_V: [n_heads, d_head, d_model] → [n_heads, d_model, d_head]; attn.W_O: [d_model, n_heads·d_head] (head-major columns) → [n_heads, d_head, d_model]',
  );
  conversions.add(
    'attn.b_Q/b_K/b_V/b_O and unembed.b_U: the model has none, written as zeros; the attn.mask buffer dropped',
  );
  if (g.d_vocab_out_source === p + 1) conversions.add("unembed.W_U: dropped the '=' column (d_vocab_out p+1 → p)");
  return out;
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function dropColumn(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * (cols - 1));
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * cols, r * cols + cols - 1), r * (cols - 1));
  return out;
}

/** Plan the import of a Nanda run file (or a bare state dict in their layout). */
export async function planNanda(lazy: LazyTorchFile, opts: ImportOptions): Promise<ImportPlan> {
  const file = lazy.file;
  const root = lazy.root;
  const notes: string[] = [];
  const conversions = new Set<string>();
  let config: PyDict | null = null;
  let entries: { sd: PyDict; path: string; epoch: number | null }[];
  let trainLosses: number[] | null = null;
  let testLosses: number[] | null = null;
  if (isStateDict(root)) {
    entries = [{ sd: root, path: '', epoch: null }];
  } else if (root instanceof PyDict) {
    const c = root.get('config');
    config = c instanceof PyDict ? c : null;
    if (!config) notes.push('the file has no config dict: sizes were read from the weights');
    const dicts = listItems(root.get('state_dicts'));
    const epochs = await numberList(lazy, root.get('epochs'), 'epochs');
    entries = [];
    if (dicts) {
      if (!epochs)
        throw new UserError(
          `${file}: state_dicts has ${dicts.length} entries but there is no epochs list saying when each was saved`,
        );
      if (epochs.length !== dicts.length)
        throw new UserError(`${file}: state_dicts has ${dicts.length} entries but epochs has ${epochs.length}`);
      dicts.forEach((d, i) => {
        if (!isStateDict(d)) throw new UserError(`${file}: state_dicts/${i}: expected a state dict (names → tensors)`);
        entries.push({ sd: d, path: `state_dicts/${i}`, epoch: epochs[i] });
      });
    }
    trainLosses = await numberList(lazy, root.get('train_losses'), 'train_losses');
    testLosses = await numberList(lazy, root.get('test_losses'), 'test_losses');
    const model = root.get('model');
    if (isStateDict(model)) {
      // The final model: after every epoch the losses were recorded for.
      const finalEpoch = trainLosses
        ? trainLosses.length - 1
        : num(config, 'num_epochs') !== undefined
          ? num(config, 'num_epochs')! - 1
          : null;
      const last = entries.at(-1)?.epoch;
      if (entries.length === 0) entries.push({ sd: model, path: 'model', epoch: finalEpoch });
      else if (finalEpoch !== null && last !== undefined && last !== null && finalEpoch > last)
        entries.push({ sd: model, path: 'model', epoch: finalEpoch });
    }
    if (entries.length === 0) throw new UserError(`${file}: no state_dicts and no model state dict`);
  } else throw new UserError(`${file}: expected a dict (Nanda et al.'s run file) or a state dict`);

  const first = torchStateDict(lazy, entries[0].sd, entries[0].path);
  const pRecorded = agree(file, 'p', num(config, 'p'), opts.p, '--p');
  const useLn = config ? config.get('use_ln') === true : undefined;
  const g = nandaGeometry(first, pRecorded, useLn === undefined ? undefined : useLn);
  if ([...first.shapes.keys()].some((k) => IDENTITY_LN.test(k)))
    conversions.add(
      'dropped their LayerNorm parameters (w_ln, b_ln): config.use_ln is False, so the module is the identity',
    );
  const heads = num(config, 'num_heads') ?? num(config, 'n_heads');
  if (heads !== undefined && heads !== g.n_heads)
    throw new UserError(`${file}: config says ${heads} heads but blocks.0.attn.W_Q has ${g.n_heads}`);
  const actType = str(config, 'act_type');
  const actRecorded = actType === 'ReLU' ? 'relu' : actType === 'GeLU' ? 'gelu' : undefined;
  if (actType !== undefined && !actRecorded)
    throw new UserError(`${file}: config.act_type is '${actType}', expected 'ReLU' or 'GeLU'`);
  let act = agree(file, 'act_type', actRecorded, opts.act, '--act');
  if (!act) {
    act = 'relu';
    notes.push(
      'the activation cannot be read from the weights and the file does not record it: relu assumed (give --act gelu otherwise)',
    );
  }
  const fn = str(config, 'fn_name');
  if (fn !== undefined && !FN_NAMES[fn])
    throw new UserError(
      `${file}: config.fn_name is '${fn}', which is not a modular operation groklens has (add, subtract, x2xyy2)`,
    );
  const op = resolveOp(file, fn ? FN_NAMES[fn] : undefined, `fn_name '${fn}'`, opts);

  let split: ImportedSplit;
  const frac = num(config, 'frac_train');
  const seed = num(config, 'seed');
  if (frac !== undefined && seed !== undefined) {
    agree(file, 'frac_train', frac, opts.trainFraction, '--train-fraction');
    agree(file, 'seed', seed, opts.splitSeed, '--split-seed');
    split = {
      kind: 'rule',
      config: { train_fraction: frac, seed, mode: 'python-random' },
      source: `config.frac_train ${frac} and config.seed ${seed}: CPython random.seed(seed); random.shuffle(pairs) (their gen_train_test)`,
    };
  } else split = splitFromOptions(file, opts);

  const how = opts.stepsFrom ?? 'epochs+1';
  let steps: number[];
  if (entries.some((e) => e.epoch === null)) {
    if (entries.length === 1 && opts.step !== undefined) steps = [opts.step];
    else if (how === 'index') steps = entries.map((_, i) => i);
    else
      throw new UserError(
        `${file}: the file does not record the epoch of its weights: give --step N (or --steps-from index)`,
      );
  } else
    steps = stepsOf(
      entries.map((e) => e.epoch!),
      how,
    );
  const list = entries.map((e, i) => ({ ...e, step: steps[i] }));
  // The epoch-0 state equals the initial weights (its update had lr 0): also step 0.
  if (how === 'epochs+1' && list[0]?.epoch === 0) {
    list.unshift({ ...list[0], step: 0 });
    conversions.add(
      "step = epoch + 1 (updates applied: their loop saves epoch e after that epoch's update); the epoch-0 state is also step 0, the initial weights, as its update had lr 0 (their warm-up min(step/10, 1))",
    );
  } else if (how === 'epochs+1')
    conversions.add("step = epoch + 1 (updates applied: their loop saves epoch e after that epoch's update)");
  else
    conversions.add(
      how === 'epochs'
        ? 'step = the recorded epoch (--steps-from epochs)'
        : 'step = the position in the file (--steps-from index)',
    );
  if (list.some((e) => e.path === 'model'))
    conversions.add('the final model (model) is the last step, after the last epoch of train_losses');
  assertIncreasing(
    file,
    list.map((e) => e.step),
  );

  const metrics: ImportedMetricsRow[] = [];
  const n = Math.max(trainLosses?.length ?? 0, testLosses?.length ?? 0);
  const shift = how === 'epochs+1' || how === 'epochs' ? 0 : null; // losses[e] were measured before epoch e's update: step e
  if (shift !== null) {
    for (let e = 0; e < n; e++) {
      metrics.push({
        step: e,
        train_loss: trainLosses?.[e] ?? null,
        train_acc: null,
        test_loss: testLosses?.[e] ?? null,
        test_acc: null,
        sq_norm: null,
        lr: null,
        wall_time: null,
        imported: true,
      });
    }
  }
  if (n && shift === null)
    notes.push('--steps-from index: the per-epoch losses were not imported, as their steps are unknown');

  return {
    layout: 'nanda',
    task: { op, p: g.p },
    model: {
      kind: 'transformer',
      n_layers: g.n_layers,
      d_model: g.d_model,
      n_heads: g.n_heads,
      d_head: g.d_head,
      d_mlp: g.d_mlp,
      act,
      layer_norm: false,
      attn_bias: false,
      init_scale: 1,
    },
    split,
    steps: list.map((e) => e.step),
    async *checkpoints() {
      for (const e of list) {
        const sd = torchStateDict(lazy, e.sd, e.path);
        yield { step: e.step, params: await convertNanda(sd, nandaGeometry(sd, g.p, useLn), conversions) };
      }
    },
    metrics,
    record: {
      optimizer: {
        lr: num(config, 'lr'),
        weight_decay: num(config, 'weight_decay'),
        betas: [0.9, 0.98],
        warmup_steps: 10,
      },
      checkpoints_every: num(config, 'save_every'),
      eval_every: 1,
      seed: opts.seed,
    },
    conversions,
    notes,
    close: () => lazy.close(),
  };
}

export function assertIncreasing(file: string, steps: number[]): void {
  for (let i = 1; i < steps.length; i++) {
    if (!(steps[i] > steps[i - 1]))
      throw new UserError(`${file}: checkpoint steps must increase, but step ${steps[i]} follows ${steps[i - 1]}`);
  }
}
