/**
 * What every layout converter (transformer-lens.ts, nanda.ts, tl-demo.ts) hands to the run writer:
 * the model and task it found, the split, a stream of checkpoints already in groklens' names and
 * shapes (one in memory at a time), the losses the source recorded, and a line for every
 * conversion applied, so that run.json's imported_from says exactly what was changed.
 */
import type { ModelConfig, ModularOp, SplitConfig } from '../config/types.ts';
import type { NamedTensors } from '../run/store.ts';

export type LayoutName = 'transformer-lens' | 'nanda' | 'tl-demo';
export const LAYOUTS: readonly LayoutName[] = ['transformer-lens', 'nanda', 'tl-demo'];

/** How a source's recorded epoch / position numbers become groklens steps. */
export type StepsFrom = 'epochs' | 'epochs+1' | 'index';

/** The options that fill what a source does not record (`groklens import --help`). */
export interface ImportOptions {
  op?: ModularOp; // --task
  p?: number; // --p
  trainFraction?: number; // --train-fraction
  splitSeed?: number; // --split-seed
  splitMode?: SplitConfig['mode']; // --split-mode
  trainIndices?: number[]; // --train-indices FILE (already read)
  trainIndicesFile?: string;
  stepsFrom?: StepsFrom; // --steps-from
  step?: number; // --step: the step of a single state dict without one
  layout?: LayoutName; // --layout
  act?: 'relu' | 'gelu'; // --act
  seed?: number; // --seed (training seed, for the record)
}

/** One metrics row as the source recorded it; fields it did not record are null. */
export interface ImportedMetricsRow {
  step: number;
  train_loss: number | null;
  train_acc: number | null;
  test_loss: number | null;
  test_acc: number | null;
  sq_norm: number | null;
  lr: number | null;
  wall_time: number | null;
  imported: true;
}

/** The split: explicit indices (the source's truth) or a rule that makeSplit replays. */
export type ImportedSplit =
  | { kind: 'indices'; train: number[]; test: number[] | null; source: string }
  | { kind: 'rule'; config: SplitConfig; source: string };

export interface ImportPlan {
  layout: LayoutName;
  task: { op: ModularOp; p: number };
  model: Extract<ModelConfig, { kind: 'transformer' }>;
  split: ImportedSplit;
  /** Steps in ascending order, known before any weights are read. */
  steps: number[];
  /** The checkpoints, in `steps` order, converted to our names and shapes (float32). */
  checkpoints(): AsyncGenerator<{ step: number; params: NamedTensors }>;
  metrics: ImportedMetricsRow[];
  /** Record-only config values the source holds (optimizer, eval / checkpoint cadence, seed). */
  record: {
    optimizer?: { lr?: number; weight_decay?: number; betas?: [number, number]; warmup_steps?: number };
    checkpoints_every?: number;
    eval_every?: number;
    seed?: number;
  };
  /** Filled while the checkpoints are read (dtype changes are found per tensor); read it after. */
  conversions: Set<string>;
  notes: string[];
  close(): void;
}
