/**
 * Opening a run directory: the store plus what run.json describes, rebuilt and checked against
 * it — the validated config, the dataset, the split and the model. Training (./session.ts), the
 * analyses and the export all start here.
 */
import { validateConfig } from '../config/load.ts';
import type { RunConfig } from '../config/types.ts';
import { createModel, type Model } from '../models/index.ts';
import { buildDataset, describeTask, type Dataset, type Split } from '../tasks/index.ts';
import { checkRunFits } from './memory.ts';
import { checkMetaDataset, checkMetaModel, RunStore, type NamedTensors, type RunMeta } from './store.ts';

export interface LoadedRun {
  store: RunStore;
  meta: RunMeta;
  config: RunConfig;
  dataset: Dataset;
  split: Split;
  model: Model;
}

/** Open a run directory and rebuild what it describes: validated config, dataset, split, model. */
export function loadRun(dir: string): LoadedRun {
  const store = RunStore.open(dir);
  const meta = store.meta();
  const config = validateConfig(meta.config, `${store.path('run.json')}: config`);
  checkRunFits(config, `${store.path('run.json')}: config`); // a hand-edited p or size must not allocate terabytes
  const dataset = buildDataset(config.task);
  checkMetaDataset(store.path('run.json'), meta, dataset, describeTask(config.task));
  // every index in [0, n), each example once in train or test (store.split)
  const split = store.split(dataset.n);
  const model = createModel(config.model, {
    d_vocab: dataset.d_vocab,
    n_ctx: dataset.n_ctx,
    d_vocab_out: dataset.d_vocab_out,
  });
  checkMetaModel(store.path('run.json'), meta, split, model.specs);
  return { store, meta, config, dataset, split, model };
}

/** A model's flat weights (from init()) with the spec shapes attached. */
export function withShapes(model: Model, flat: Record<string, Float32Array>): NamedTensors {
  const params: NamedTensors = {};
  for (const { name, shape } of model.specs) params[name] = { shape, data: flat[name] };
  return params;
}
