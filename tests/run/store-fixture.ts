/** A minimal run.json for store-level tests: two tensors, a 4-example dataset, the default config. */
import { DEFAULTS } from '../../src/config/schema.ts';
import type { RunMeta } from '../../src/run/store.ts';
import { RUN_FORMAT_VERSION } from '../../src/version.ts';

export const SPECS = [
  { name: 'a', shape: [2, 3] }, // [2, 3]
  { name: 'b', shape: [3] }, // [3]
];

export const fixtureMeta = (name: string): RunMeta => ({
  format: 'groklens-run',
  format_version: RUN_FORMAT_VERSION,
  groklens_version: '0.0.0',
  name,
  created_at: '2026-01-01T00:00:00Z',
  preset: null,
  backend: { name: 'wasm', requested: 'auto', tfjs_version: '4.22.0' },
  config: structuredClone(DEFAULTS),
  dataset: { description: 'test', n: 4, n_ctx: 3, d_vocab: 3, d_vocab_out: 2, n_train: 2, n_test: 2 },
  params: SPECS,
  n_params: 9,
});
