import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (the source of truth). */
export const PACKAGE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/**
 * Version of the run-directory format (run.json, split.json, status.json, metrics.jsonl).
 * 2: run.json's transformer config records model.attn_bias and params marks frozen tensors.
 * 1: before that; a version-1 transformer trained its attention biases, so it reads as
 *    attn_bias = true (src/run/store.ts upgradeMeta).
 */
export const RUN_FORMAT_VERSION = 2;

/** Run-directory versions this groklens reads. */
export const READABLE_RUN_FORMAT_VERSIONS: readonly number[] = [1, 2];

/** Version of a checkpoint file (names, shapes, metadata); unchanged by run format 2. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/**
 * Version of analysis.json (analyses/types.ts). Kept here so the core (a sweep reading its runs'
 * analyses) can check it without importing analyses/.
 */
export const ANALYSIS_FORMAT_VERSION = 1;
