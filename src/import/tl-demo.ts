/**
 * The `tl-demo` layout: the file TransformerLens' grokking demo (Grokking_Demo.ipynb) saves,
 *   model              final HookedTransformer.state_dict()
 *   config             the HookedTransformerConfig object (read as data: src/io/tl-config-global.ts)
 *   checkpoints        state dicts, one per checkpoint_epochs entry
 *   checkpoint_epochs  the epoch each was saved at; train_losses, test_losses  one per epoch
 *   train_indices, test_indices   tensors: the split (a torch.randperm, not a python-random one)
 * Weights are TransformerLens-named (transformer-lens.ts). Steps: the demo's loop computes the
 * train loss, updates, then computes the test loss and saves epoch e, so a checkpoint of epoch e
 * has had e + 1 updates (groklens step e + 1), train_losses[e] is step e and test_losses[e] step e + 1.
 */
import { UserError } from '../errors.ts';
import { PyDict } from '../io/pickle.ts';
import { HookedConfigData } from '../io/tl-config-global.ts';
import { num, numberList, resolveOp, stepsOf, str } from './common.ts';
import { isStateDict, listItems, type LazyTorchFile } from './lazy-torch.ts';
import { assertIncreasing } from './nanda.ts';
import { torchStateDict } from './state-dict.ts';
import { convertTL, tlGeometry } from './transformer-lens.ts';
import type { ImportOptions, ImportPlan, ImportedMetricsRow } from './types.ts';

export async function planTlDemo(lazy: LazyTorchFile, opts: ImportOptions): Promise<ImportPlan> {
  const file = lazy.file;
  const root = lazy.root;
  if (!(root instanceof PyDict))
    throw new UserError(`${file}: expected the TL demo's dict (model, config, checkpoints, …)`);
  const notes: string[] = [];
  const conversions = new Set<string>();
  const cfgValue = root.get('config');
  const cfg = cfgValue instanceof HookedConfigData ? cfgValue.fields : cfgValue instanceof PyDict ? cfgValue : null;
  if (!cfg) notes.push('the file has no HookedTransformerConfig: sizes were read from the weights');

  const dicts = listItems(root.get('checkpoints')) ?? [];
  const epochs = (await numberList(lazy, root.get('checkpoint_epochs'), 'checkpoint_epochs')) ?? [];
  if (dicts.length !== epochs.length)
    throw new UserError(`${file}: checkpoints has ${dicts.length} entries but checkpoint_epochs has ${epochs.length}`);
  const entries = dicts.map((d, i) => {
    if (!isStateDict(d)) throw new UserError(`${file}: checkpoints/${i}: expected a state dict (names → tensors)`);
    return { sd: d, path: `checkpoints/${i}`, epoch: epochs[i] };
  });
  const trainLosses = await numberList(lazy, root.get('train_losses'), 'train_losses');
  const testLosses = await numberList(lazy, root.get('test_losses'), 'test_losses');
  const model = root.get('model');
  const finalEpoch = trainLosses ? trainLosses.length - 1 : null;
  if (isStateDict(model) && finalEpoch !== null && (entries.length === 0 || finalEpoch > entries.at(-1)!.epoch)) {
    entries.push({ sd: model, path: 'model', epoch: finalEpoch });
    conversions.add('the final model (model) is the last step, after the last epoch of train_losses');
  }
  if (entries.length === 0)
    throw new UserError(`${file}: no checkpoints and no model state dict with train_losses to date it`);

  const first = torchStateDict(lazy, entries[0].sd, entries[0].path);
  const dVocab = num(cfg, 'd_vocab');
  const p = opts.p ?? (dVocab !== undefined ? dVocab - 1 : undefined);
  const g = tlGeometry(first, p);
  for (const [key, ours] of [
    ['n_layers', g.n_layers],
    ['d_model', g.d_model],
    ['n_heads', g.n_heads],
    ['d_head', g.d_head],
    ['d_mlp', g.d_mlp],
    ['d_vocab_out', g.d_vocab_out_source],
  ] as const) {
    const v = num(cfg, key);
    if (v !== undefined && v !== ours)
      throw new UserError(`${file}: config.${key} is ${v} but the weights say ${ours}`);
  }
  const norm = cfg?.get('normalization_type');
  if (norm !== undefined && norm !== null && norm !== 'LN')
    throw new UserError(
      `${file}: config.normalization_type is ${JSON.stringify(norm)}; groklens' transformer has none or 'LN'`,
    );
  const actFn = str(cfg, 'act_fn');
  if (actFn !== undefined && actFn !== 'relu' && actFn !== 'gelu')
    throw new UserError(
      `${file}: config.act_fn is '${actFn}'; groklens' transformer has relu and gelu (exact erf form)`,
    );
  if (actFn && opts.act && actFn !== opts.act)
    throw new UserError(`${file}: config.act_fn is '${actFn}', but --act says ${opts.act}`);
  const act = (actFn as 'relu' | 'gelu' | undefined) ?? opts.act ?? 'relu';
  if (!actFn && !opts.act) notes.push('the activation is not recorded: relu assumed (give --act gelu otherwise)');
  const op = resolveOp(file, undefined, '', opts);

  const train = await numberList(lazy, root.get('train_indices'), 'train_indices');
  const test = await numberList(lazy, root.get('test_indices'), 'test_indices');
  if (!train) throw new UserError(`${file}: no train_indices; give --train-indices FILE`);

  const how = opts.stepsFrom ?? 'epochs+1';
  const steps = stepsOf(
    entries.map((e) => e.epoch),
    how,
  );
  assertIncreasing(file, steps);
  conversions.add(
    how === 'epochs+1'
      ? "step = checkpoint epoch + 1 (updates applied: the demo saves epoch e after that epoch's update)"
      : `step from --steps-from ${how}`,
  );

  const metrics: ImportedMetricsRow[] = [];
  if (how !== 'index' && trainLosses) {
    const n = trainLosses.length;
    const off = how === 'epochs+1' ? 1 : 0; // test_losses[e] is measured after epoch e's update
    for (let s = 0; s <= n; s++) {
      const tr = s < n ? trainLosses[s] : null;
      const te = testLosses?.[s - off] ?? null;
      if (tr === null && te === null) continue;
      metrics.push({
        step: s,
        train_loss: tr,
        train_acc: null,
        test_loss: te,
        test_acc: null,
        sq_norm: null,
        lr: null,
        wall_time: null,
        imported: true,
      });
    }
    if (off)
      conversions.add('metrics: train_losses[e] at step e, test_losses[e] at step e + 1 (measured after the update)');
  }
  if (!steps.includes(0))
    notes.push('the source has no initial checkpoint (step 0): analyze skips the norms and ntk passes');

  return {
    layout: 'tl-demo',
    task: { op, p: g.p },
    model: {
      kind: 'transformer',
      n_layers: g.n_layers,
      d_model: g.d_model,
      n_heads: g.n_heads,
      d_head: g.d_head,
      d_mlp: g.d_mlp,
      act,
      layer_norm: g.layer_norm,
      attn_bias: false,
      init_scale: 1,
    },
    split: { kind: 'indices', train, test, source: 'train_indices and test_indices in the file' },
    steps,
    async *checkpoints() {
      for (const [i, e] of entries.entries()) {
        const sd = torchStateDict(lazy, e.sd, e.path);
        yield { step: steps[i], params: await convertTL(sd, tlGeometry(sd, g.p), conversions) };
      }
    },
    metrics,
    record: { seed: opts.seed ?? num(cfg, 'seed'), eval_every: 1 },
    conversions,
    notes,
    close: () => lazy.close(),
  };
}
