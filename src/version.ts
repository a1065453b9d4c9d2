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
 * Version of analysis.json (analyses/types.ts; read by analyses/store.ts only).
 * 2: summary.contraction.v_post is renamed v_fit_end (‖θ‖² at the end of the fit window), so that
 *    it cannot be confused with the sweep's v_at_grok (src/grokking.ts).
 * 1: before that; read as version 2 with the field renamed.
 */
export const ANALYSIS_FORMAT_VERSION = 2;

/** analysis.json versions this groklens reads. */
export const READABLE_ANALYSIS_FORMAT_VERSIONS: readonly number[] = [1, 2];
