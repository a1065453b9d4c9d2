import { describe, expect, it } from 'vitest';
import type { TaskConfig } from '../../src/config/types.ts';
import { ConfigError } from '../../src/errors.ts';
import { buildDataset, describeTask } from '../../src/tasks/index.ts';

describe('buildDataset / describeTask', () => {
  it('dispatches on kind', () => {
    expect(buildDataset({ kind: 'modular', op: 'add', p: 113 }).n).toBe(12769);
    expect(buildDataset({ kind: 'modular', op: 'div', p: 97 }).n).toBe(97 * 96);
    expect(buildDataset({ kind: 's5' }).n).toBe(14400);
    const parity = buildDataset({ kind: 'sparse-parity', n_bits: 10, k: 3, samples: 64, labels: 'pm1', seed: 0 });
    expect([parity.n, parity.n_ctx]).toEqual([64, 10]);
  });

  it('keeps the task on the dataset', () => {
    const task: TaskConfig = { kind: 'modular', op: 'sub', p: 5 };
    expect(buildDataset(task).task).toEqual(task);
  });

  it('unknown kinds and bad values are ConfigErrors carrying the source', () => {
    expect(() => buildDataset({ kind: 'xor' } as unknown as TaskConfig)).toThrow(ConfigError);
    expect(() => buildDataset({ kind: 'xor' } as unknown as TaskConfig)).toThrow(/task\.kind.*"xor"/);
    expect(() => buildDataset({ kind: 'modular', op: 'div', p: 9 }, 'runs/x/run.json')).toThrow(
      /^runs\/x\/run\.json: task\.p: .*9/,
    );
  });

  it('short descriptions', () => {
    expect(describeTask({ kind: 'modular', op: 'add', p: 113 })).toBe('a+b mod 113');
    expect(describeTask({ kind: 'modular', op: 'x3+xy2+y', p: 97 })).toBe('a^3+ab^2+b mod 97');
    expect(describeTask({ kind: 's5' })).toBe('x∘y in S5');
    expect(describeTask({ kind: 'sparse-parity', n_bits: 40, k: 3, samples: 1000, labels: 'pm1', seed: 0 })).toBe(
      'sparse parity of 3 of 40 bits, 1000 samples, ±1 targets',
    );
  });
});
