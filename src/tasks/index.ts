/**
 * Entry point of the task layer: a TaskConfig becomes a Dataset. Which examples go to training is
 * decided separately, by ./split.ts.
 */
import type { ModularOp, TaskConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { show } from './show.ts';
import { buildModularDataset } from './modular.ts';
import { buildParityDataset } from './parity.ts';
import { buildS5Dataset } from './s5.ts';
import type { Dataset } from './types.ts';

export type { Dataset, Split } from './types.ts';

/** Build every example of the task. `source` names the config's origin in error messages. */
export function buildDataset(task: TaskConfig, source = 'config'): Dataset {
  switch (task?.kind) {
    case 'modular':
      return buildModularDataset(task, source);
    case 's5':
      return buildS5Dataset(task);
    case 'sparse-parity':
      return buildParityDataset(task, source);
    default:
      throw new ConfigError(
        source,
        'task.kind',
        `unknown task kind ${show((task as { kind?: unknown })?.kind)}; expected modular, s5 or sparse-parity`,
      );
  }
}

const OP_FORMULAS: Record<ModularOp, string> = {
  add: 'a+b',
  sub: 'a-b',
  mul: 'a*b',
  div: 'a/b',
  'x2+y2': 'a^2+b^2',
  'x2+xy+y2': 'a^2+ab+b^2',
  'x2+xy+y2+x': 'a^2+ab+b^2+a',
  'x3+xy': 'a^3+ab',
  'x3+xy2+y': 'a^3+ab^2+b',
};

/** A short human description, e.g. "a+b mod 113". */
export function describeTask(task: TaskConfig): string {
  switch (task.kind) {
    case 'modular':
      return `${OP_FORMULAS[task.op] ?? task.op} mod ${task.p}`;
    case 's5':
      return 'x∘y in S5';
    case 'sparse-parity':
      return (
        `sparse parity of ${task.k} of ${task.n_bits} bits, ${task.samples} samples` +
        (task.labels === 'pm1' ? ', ±1 targets' : '')
      );
  }
}
