/**
 * One row per settable key — what it accepts and its default — for `groklens train` help and the
 * README's defaults table. Keys of a union section get one row per kind that has them
 * (model.hidden is [256] for an mlp, 512 for a quadratic model).
 */
import { expectedText, flattenKeys, schemaAt, unionInfo } from './keys.ts';
import { DEFAULTS, MODEL_DEFAULTS, RunConfigSchema, TASK_DEFAULTS } from './schema.ts';
import type { RunConfig } from './types.ts';

export interface KeyDoc {
  key: string; // dotted, as --set takes it
  when: string | null; // e.g. 'model.kind = mlp' for a key of that kind only; null: every config has it
  expected: string; // completes "expected …"
  default: unknown;
}

const leafValue = (config: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);

const doc = (key: string, config: RunConfig, when: string | null): KeyDoc => ({
  key,
  when,
  expected: expectedText(schemaAt(key.split('.'), config)),
  default: leafValue(config, key),
});

/** Every key in schema order; a union section lists its kind first, then each kind's keys. */
export function keyDocs(): KeyDoc[] {
  const unionDefaults: Record<string, RunConfig[]> = {
    task: Object.values(TASK_DEFAULTS).map((task) => ({ ...DEFAULTS, task })),
    model: Object.values(MODEL_DEFAULTS).map((model) => ({ ...DEFAULTS, model })),
  };
  const rows: KeyDoc[] = [];
  for (const section of Object.keys(RunConfigSchema.shape)) {
    const variants = unionDefaults[section];
    if (variants === undefined) {
      for (const key of flattenKeys(RunConfigSchema, DEFAULTS).filter((k) => k.startsWith(`${section}.`)))
        rows.push(doc(key, DEFAULTS, null));
      continue;
    }
    const kindKey = `${section}.kind`;
    rows.push({
      key: kindKey,
      when: null,
      expected: `one of ${unionInfo(RunConfigSchema.shape[section as 'task' | 'model']).kinds.join(', ')}`,
      default: leafValue(DEFAULTS, kindKey),
    });
    for (const config of variants) {
      const when = `${kindKey} = ${leafValue(config, kindKey)}`;
      for (const key of flattenKeys(RunConfigSchema, config).filter(
        (k) => k.startsWith(`${section}.`) && k !== kindKey,
      ))
        rows.push(doc(key, config, when));
    }
  }
  return rows;
}
