/**
 * `groklens import SOURCE… --name NAME`: a run trained elsewhere (PyTorch / TransformerLens files)
 * becomes an ordinary run directory that analyze, report and compare read unchanged.
 * Parsing of the options only; the work is in src/import/.
 */
import { readFileSync } from 'node:fs';
import { MODULAR_OPS } from '../../src/config/schema.ts';
import type { ModularOp } from '../../src/config/types.ts';
import { UserError } from '../../src/errors.ts';
import { planImport } from '../../src/import/detect.ts';
import { writeImportedRun, type WriteResult } from '../../src/import/run-writer.ts';
import { LAYOUTS, type ImportOptions, type LayoutName, type StepsFrom } from '../../src/import/types.ts';

export interface ImportCliOptions {
  name?: string;
  runsDir: string;
  task?: string;
  p?: string;
  trainFraction?: string;
  splitSeed?: string;
  splitMode?: string;
  trainIndices?: string;
  stepsFrom?: string;
  step?: string;
  layout?: string;
  act?: string;
  seed?: string;
  set?: string[];
  quiet?: boolean;
}

const int = (opt: string, v: string | undefined, min = 0): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UserError(`${opt}: expected an integer ≥ ${min}, got '${v}'`);
  return n;
};

export function parseImportOptions(o: ImportCliOptions): ImportOptions {
  const choice = <T extends string>(opt: string, v: string | undefined, allowed: readonly T[]): T | undefined => {
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) throw new UserError(`${opt}: '${v}' is not one of ${allowed.join(', ')}`);
    return v as T;
  };
  let trainFraction: number | undefined;
  if (o.trainFraction !== undefined) {
    trainFraction = Number(o.trainFraction);
    if (!(trainFraction > 0 && trainFraction < 1))
      throw new UserError(`--train-fraction: expected a number strictly between 0 and 1, got '${o.trainFraction}'`);
  }
  let trainIndices: number[] | undefined;
  if (o.trainIndices !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(o.trainIndices, 'utf8'));
    } catch (e) {
      throw new UserError(`${o.trainIndices}: cannot read a JSON list of indices (${(e as Error).message})`);
    }
    if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0))
      throw new UserError(`${o.trainIndices}: expected a JSON list of non-negative integer example indices`);
    trainIndices = v as number[];
  }
  return {
    op: choice<ModularOp>('--task', o.task, MODULAR_OPS),
    p: int('--p', o.p, 2),
    trainFraction,
    splitSeed: int('--split-seed', o.splitSeed),
    splitMode: choice('--split-mode', o.splitMode, ['python-random', 'shuffle'] as const),
    trainIndices,
    trainIndicesFile: o.trainIndices,
    stepsFrom: choice<StepsFrom>('--steps-from', o.stepsFrom, ['epochs+1', 'epochs', 'index']),
    step: int('--step', o.step),
    layout: choice<LayoutName>('--layout', o.layout, LAYOUTS),
    act: choice('--act', o.act, ['relu', 'gelu'] as const),
    seed: int('--seed', o.seed),
  };
}

export async function importRun(
  sources: string[],
  o: ImportCliOptions,
  log: (line: string) => void = () => {},
): Promise<WriteResult> {
  if (!o.name) throw new UserError('--name: give the name of the run directory to create under --runs-dir');
  if (sources.length === 0) throw new UserError('give at least one SOURCE file or directory');
  const options = parseImportOptions(o);
  const plan = await planImport(sources, options);
  try {
    return await writeImportedRun(plan, { name: o.name, runsDir: o.runsDir, sources, sets: o.set, log });
  } finally {
    plan.close();
  }
}

export async function importCommand(sources: string[], o: ImportCliOptions): Promise<void> {
  const r = await importRun(sources, o);
  const imp = r.meta.imported_from!;
  const m = r.meta.config.model as {
    d_model: number;
    n_heads: number;
    d_head: number;
    d_mlp: number;
    n_layers: number;
  };
  console.log(
    `imported ${sources.join(', ')} (layout ${imp.layout}) into ${r.dir}: ${r.meta.dataset.description}, ${m.n_layers}-layer transformer d_model ${m.d_model}, ${m.n_heads} heads × ${m.d_head}, d_mlp ${m.d_mlp}; ${r.steps.length} checkpoints, steps ${r.steps[0]}…${r.steps.at(-1)}; ${r.meta.dataset.n_train} train / ${r.meta.dataset.n_test} test`,
  );
  for (const c of imp.conversions) console.log(`  conversion: ${c}`);
  for (const n of imp.notes) console.log(`  note: ${n}`);
  if (!o.quiet) console.log(`next: groklens analyze ${r.dir}`);
}
