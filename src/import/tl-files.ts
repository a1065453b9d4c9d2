/**
 * The `transformer-lens` layout from files: one or more torch files each holding a
 * HookedTransformer.state_dict(), one or more .safetensors files (safetensors.torch.save_file),
 * or a directory of them. Each file is one step: from the safetensors metadata `step`, else the
 * last run of digits in the file name (step-0001000.safetensors, ckpt_500.pt), else --step for a
 * single file, or --steps-from index (the position in name order).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.ts';
import { readSafetensorsHeader } from '../io/safetensors.ts';
import { splitFromOptions, resolveOp } from './common.ts';
import { isStateDict, openTorchLazy, type LazyTorchFile } from './lazy-torch.ts';
import { assertIncreasing } from './nanda.ts';
import { safetensorsStateDict, torchStateDict, type SourceStateDict } from './state-dict.ts';
import { convertTL, tlGeometry } from './transformer-lens.ts';
import type { ImportOptions, ImportPlan } from './types.ts';

/** The files the sources name: directories are expanded to their .safetensors / .pt / .pth files. */
export function expandSources(sources: string[]): string[] {
  const files: string[] = [];
  for (const s of sources) {
    let st;
    try {
      st = statSync(s);
    } catch {
      throw new UserError(`${s}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const names = readdirSync(s).sort();
      // A directory holding both (an export with .pt copies) is read from its .safetensors files.
      const st = names.filter((f) => f.endsWith('.safetensors'));
      const inside = (st.length ? st : names.filter((f) => /\.(pt|pth)$/.test(f))).map((f) => join(s, f));
      if (inside.length === 0) throw new UserError(`${s}: a directory without .safetensors, .pt or .pth files`);
      files.push(...inside);
    } else files.push(s);
  }
  return files;
}

const isSafetensors = (f: string) => f.endsWith('.safetensors');

function stepOf(file: string): number | null {
  if (isSafetensors(file)) {
    const meta = readSafetensorsHeader(file).metadata;
    if (meta.step !== undefined) {
      const n = Number(meta.step);
      if (!Number.isSafeInteger(n) || n < 0)
        throw new UserError(`${file}: metadata step is ${JSON.stringify(meta.step)}, not a step number`);
      return n;
    }
  }
  const digits = basename(file)
    .replace(/\.(safetensors|pt|pth)$/, '')
    .match(/\d+/g);
  return digits ? Number(digits.at(-1)) : null;
}

/** Open one file as a state dict; the torch file stays open until `close`. */
async function openStateDict(file: string): Promise<{ sd: SourceStateDict; close(): void }> {
  if (isSafetensors(file)) return { sd: safetensorsStateDict(file).sd, close() {} };
  const lazy: LazyTorchFile = await openTorchLazy(file);
  if (!isStateDict(lazy.root)) {
    lazy.close();
    throw new UserError(
      `${file}: not a state dict (a dict of names → tensors); for a run file give --layout nanda or --layout tl-demo`,
    );
  }
  return { sd: torchStateDict(lazy, lazy.root, ''), close: () => lazy.close() };
}

export async function planTransformerLens(
  sources: string[],
  opts: ImportOptions,
  first?: LazyTorchFile,
): Promise<ImportPlan> {
  const files = expandSources(sources);
  const notes: string[] = [];
  const conversions = new Set<string>();
  let steps: number[];
  if (opts.stepsFrom === 'index') steps = files.map((_, i) => i);
  else if (files.length === 1 && opts.step !== undefined) steps = [opts.step];
  else {
    steps = files.map((f) => {
      const s = stepOf(f);
      if (s === null)
        throw new UserError(
          `${f}: no step in its metadata or file name: give --step N (one file) or --steps-from index`,
        );
      return s;
    });
  }
  const order = files.map((f, i) => ({ f, step: steps[i] })).sort((a, b) => a.step - b.step);
  assertIncreasing(
    files[0],
    order.map((o) => o.step),
  );

  first?.close();
  const opened = await openStateDict(order[0].f);
  let g;
  try {
    g = tlGeometry(opened.sd, opts.p);
  } finally {
    opened.close();
  }
  const op = resolveOp(files[0], undefined, '', opts);
  const split = splitFromOptions(files[0], opts);
  if (!opts.act) notes.push('the activation cannot be read from the weights: relu assumed (give --act gelu otherwise)');
  if (!order.some((o) => o.step === 0))
    notes.push('no initial checkpoint (step 0): analyze skips the norms and ntk passes');
  return {
    layout: 'transformer-lens',
    task: { op, p: g.p },
    model: {
      kind: 'transformer',
      n_layers: g.n_layers,
      d_model: g.d_model,
      n_heads: g.n_heads,
      d_head: g.d_head,
      d_mlp: g.d_mlp,
      act: opts.act ?? 'relu',
      layer_norm: g.layer_norm,
      attn_bias: false,
      init_scale: 1,
    },
    split,
    steps: order.map((o) => o.step),
    async *checkpoints() {
      for (const o of order) {
        const { sd, close } = await openStateDict(o.f);
        try {
          yield { step: o.step, params: await convertTL(sd, tlGeometry(sd, g.p), conversions) };
        } finally {
          close();
        }
      }
    },
    metrics: [],
    record: { seed: opts.seed },
    conversions,
    notes,
    close() {},
  };
}
