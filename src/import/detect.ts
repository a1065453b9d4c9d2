/**
 * Which layout a source is in, from its keys and shapes (README "Auditing a run trained
 * elsewhere"), and the converter that plans its import. --layout overrides the detection; anything
 * that matches no layout is one error listing what the file holds.
 */
import { statSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { formatValue, PyDict, PyTuple, typeName, type PyValue } from '../io/pickle.ts';
import { HookedConfigData } from '../io/tl-config-global.ts';
import { isStateDict, openTorchLazy, TensorRef, type LazyTorchFile } from './lazy-torch.ts';
import { planNanda } from './nanda.ts';
import { planTlDemo } from './tl-demo.ts';
import { planTransformerLens } from './tl-files.ts';
import { LAYOUTS, type ImportOptions, type ImportPlan, type LayoutName } from './types.ts';

const LAYOUT_HELP =
  'supported layouts: transformer-lens (a HookedTransformer state dict, a .pt of one or a directory of .safetensors, one per step), ' +
  "nanda (Nanda et al.'s full_run_data.pth: config, model, state_dicts, epochs, train_losses, test_losses), " +
  'tl-demo (the TransformerLens grokking demo: model, config, checkpoints, checkpoint_epochs, train_indices, test_indices); ' +
  'force one with --layout NAME, and give what the file does not record with --task, --p, --train-fraction/--split-seed or --train-indices, --step';

/** The layout of an opened torch file's root, or null. */
export function detectLayout(root: PyValue): LayoutName | null {
  if (isStateDict(root)) {
    const wo = root.get('blocks.0.attn.W_O');
    if (wo instanceof TensorRef && wo.size.length === 3) return 'transformer-lens';
    if (wo instanceof TensorRef && wo.size.length === 2) return 'nanda';
    return null;
  }
  if (!(root instanceof PyDict)) return null;
  if (root.get('config') instanceof HookedConfigData || (root.has('checkpoints') && root.has('checkpoint_epochs')))
    return 'tl-demo';
  if (root.has('state_dicts') || (root.get('config') instanceof PyDict && isStateDict(root.get('model'))))
    return 'nanda';
  return null;
}

/** Open the sources and plan their import. */
export async function planImport(sources: string[], opts: ImportOptions): Promise<ImportPlan> {
  if (opts.layout && !LAYOUTS.includes(opts.layout))
    throw new UserError(`--layout: '${opts.layout}' is not a layout; ${LAYOUT_HELP}`);
  const many = sources.length > 1 || sources.some((s) => s.endsWith('.safetensors') || isDirectory(s));
  if (many || opts.layout === 'transformer-lens') {
    if (opts.layout && opts.layout !== 'transformer-lens')
      throw new UserError(
        `--layout ${opts.layout} reads one torch file; several files or a directory are the transformer-lens layout`,
      );
    return planTransformerLens(sources, opts);
  }
  const lazy = await openTorchLazy(sources[0]);
  try {
    const layout = opts.layout ?? detectLayout(lazy.root);
    if (layout === 'transformer-lens') return await planTransformerLens(sources, opts, lazy);
    if (layout === 'nanda') return await planNanda(lazy, opts);
    if (layout === 'tl-demo') return await planTlDemo(lazy, opts);
    throw new UserError(
      `${sources[0]}: not a layout groklens recognises; it holds ${listing(lazy.root)}; ${LAYOUT_HELP}`,
    );
  } catch (err) {
    lazy.close();
    throw err;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What a saved object holds, in at most ~1200 characters: keys with shapes or types. */
export function listing(root: PyValue, budget = 1200): string {
  const describe = (v: PyValue): string => {
    if (v instanceof TensorRef) return `tensor ${v.dtype.name} [${v.size.join(', ')}]`;
    if (v instanceof PyDict) return `${isStateDict(v) ? 'state dict' : 'dict'} of ${v.size}`;
    if (Array.isArray(v)) return `list of ${v.length}`;
    if (v instanceof PyTuple) return `tuple of ${v.length}`;
    if (v instanceof HookedConfigData) return 'HookedTransformerConfig';
    return typeName(v);
  };
  let parts: string[];
  if (root instanceof PyDict) parts = [...root].map(([k, v]) => `${formatValue(k, false, 80)}: ${describe(v)}`);
  else parts = [describe(root)];
  let out = '';
  for (const [i, part] of parts.entries()) {
    if (out.length + part.length > budget) return `${out}, … (${parts.length - i} more)`;
    out += (i ? ', ' : '') + part;
  }
  return root instanceof PyDict ? `{${out}}` : out;
}
