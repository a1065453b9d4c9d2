import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (the source of truth). */
export const PACKAGE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** Version of the run-directory format (run.json, split.json, metrics.jsonl, checkpoints). */
export const RUN_FORMAT_VERSION = 1;
