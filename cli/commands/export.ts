/**
 * `groklens export runs/NAME --format transformer-lens [-o DIR] [--steps all|last|LIST] [--pt]`:
 * every chosen checkpoint as a TransformerLens state dict (safetensors, and with --pt also a
 * torch zip file), plus config.json (HookedTransformerConfig keyword arguments) and groklens.json
 * (where it came from). The conversions are in src/export/; this file reads and writes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { encodeTorchStateDict, type TorchTensorInput } from '../../src/export/torch-writer.ts';
import {
  hookedTransformerConfig,
  parseFormat,
  requireTransformer,
  selectSteps,
  stepFileStem,
  TL_IGNORE,
  tlStateDict,
} from '../../src/export/transformer-lens.ts';
import { loadRun } from '../../src/run/open.ts';
import { PACKAGE_VERSION } from '../../src/version.ts';

export interface ExportOptions {
  format?: string;
  output?: string; // default: RUN/transformer-lens
  steps?: string; // all (default), last, or 0,100,200
  pt?: boolean;
  log?: (line: string) => void;
}

export interface ExportResult {
  dir: string;
  steps: number[];
  files: string[]; // every file written, in order
}

export function exportRun(runDir: string, opts: ExportOptions): ExportResult {
  if (opts.format === undefined) throw new UserError('--format: required (supported: transformer-lens)');
  parseFormat(opts.format);
  const { store, meta, config, model } = loadRun(runDir);
  const cfg = requireTransformer(config, runDir);
  const steps = selectSteps(opts.steps, store.checkpointSteps(), runDir);
  const dir = opts.output ?? join(runDir, 'transformer-lens');
  mkdirSync(dir, { recursive: true });
  for (const note of meta.notes ?? []) opts.log?.(`note: ${note}`);

  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    writeFileAtomic(join(dir, name), data);
    files.push(name);
  };
  const stepFiles: { step: number; safetensors: string; pt?: string }[] = [];
  for (const step of steps) {
    const params = store.readCheckpoint(step, model.specs);
    const sd = tlStateDict(cfg, model.dims, params);
    const stem = stepFileStem(step);
    writeSafetensors(join(dir, `${stem}.safetensors`), sd, {
      format: 'pt',
      groklens_run: meta.name,
      step: String(step),
    });
    files.push(`${stem}.safetensors`);
    const entry: (typeof stepFiles)[number] = { step, safetensors: `${stem}.safetensors` };
    if (opts.pt) {
      write(`${stem}.pt`, encodeTorchStateDict(sd as Record<string, TorchTensorInput>));
      entry.pt = `${stem}.pt`;
    }
    stepFiles.push(entry);
  }
  write('config.json', JSON.stringify(hookedTransformerConfig(cfg, model.dims, meta.name), null, 2) + '\n');
  write(
    'groklens.json',
    JSON.stringify(
      {
        format: 'groklens-transformer-lens-export',
        format_version: 1,
        groklens_version: PACKAGE_VERSION,
        groklens_run: {
          name: meta.name,
          dir: runDir,
          run_format_version: meta.format_version,
          groklens_version: meta.groklens_version,
          task: meta.dataset.description,
        },
        attn_bias: cfg.attn_bias,
        attn_bias_note: cfg.attn_bias
          ? 'the attention biases were trained'
          : 'the model has no attention biases: b_Q, b_K, b_V, b_O are zeros (TransformerLens always has them)',
        buffers: { mask: 'bool [n_ctx, n_ctx], lower-triangular (causal)', IGNORE: String(TL_IGNORE) },
        steps,
        files: stepFiles,
        notes: meta.notes ?? [],
      },
      null,
      2,
    ) + '\n',
  );
  opts.log?.(
    `exported ${steps.length} checkpoint${steps.length === 1 ? '' : 's'} of ${runDir} (steps ${steps[0]}…${steps[steps.length - 1]}) to ${dir}${opts.pt ? ' as .safetensors and .pt' : ''}`,
  );
  return { dir, steps, files };
}

export async function exportCommand(
  runDir: string,
  opts: { format?: string; output?: string; steps?: string; pt?: boolean },
): Promise<void> {
  exportRun(runDir, { ...opts, log: (line) => process.stdout.write(line + '\n') });
}
