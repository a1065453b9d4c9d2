import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { buildParityDataset, relevantBits, type ParityTask } from '../../src/tasks/parity.ts';

const task = (over: Partial<ParityTask> = {}): ParityTask => ({
  kind: 'sparse-parity',
  n_bits: 20,
  k: 3,
  samples: 500,
  labels: 'class',
  seed: 7,
  ...over,
});

describe('sparse parity', () => {
  it('shape: n_ctx = n_bits, vocab 2, 2 classes, no operands, bits in {0,1}', () => {
    const ds = buildParityDataset(task());
    expect(ds.n).toBe(500);
    expect(ds.n_ctx).toBe(20);
    expect(ds.d_vocab).toBe(2);
    expect(ds.d_vocab_out).toBe(2);
    expect(ds.operands).toBeUndefined();
    expect(ds.tokens.length).toBe(500 * 20);
    expect(ds.tokens.every((t) => t === 0 || t === 1)).toBe(true);
  });

  it('label = parity of the relevant bits (sum mod 2)', () => {
    for (const seed of [0, 1, 2, 99]) {
      const t = task({ seed, n_bits: 30, k: 4 });
      const ds = buildParityDataset(t);
      const rel = relevantBits(t);
      for (let s = 0; s < ds.n; s++) {
        const sum = rel.reduce((acc, r) => acc + ds.tokens[s * t.n_bits + r], 0);
        expect(ds.labels[s]).toBe(sum % 2);
      }
    }
  });

  it('both classes occur about equally often', () => {
    const t = task({ samples: 2000 });
    const ds = buildParityDataset(t);
    const ones = ds.labels.reduce((a, v) => a + v, 0);
    expect(ones).toBeGreaterThan(800);
    expect(ones).toBeLessThan(1200);
  });

  it('k distinct sorted positions in range, chosen by the seed', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const rel = relevantBits(task({ seed, n_bits: 40, k: 3 }));
      expect(rel.length).toBe(3);
      expect(new Set(rel).size).toBe(3);
      expect([...rel].sort((a, b) => a - b)).toEqual(rel);
      expect(rel.every((r) => Number.isInteger(r) && r >= 0 && r < 40)).toBe(true);
      seen.add(rel.join(','));
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(relevantBits(task({ k: 20 }))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('deterministic by seed; different seeds give different data; samples does not move the bits', () => {
    const a = buildParityDataset(task());
    const b = buildParityDataset(task());
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    const c = buildParityDataset(task({ seed: 8 }));
    expect(Array.from(c.tokens)).not.toEqual(Array.from(a.tokens));
    expect(relevantBits(task({ samples: 10 }))).toEqual(relevantBits(task({ samples: 5000 })));
    // a larger sample is an extension of the smaller one
    const big = buildParityDataset(task({ samples: 1000 }));
    expect(Array.from(big.tokens.subarray(0, a.tokens.length))).toEqual(Array.from(a.tokens));
  });

  it("'pm1' labels keep the 0/1 class index in the dataset", () => {
    const cls = buildParityDataset(task({ labels: 'class' }));
    const pm1 = buildParityDataset(task({ labels: 'pm1' }));
    expect(Array.from(pm1.labels)).toEqual(Array.from(cls.labels));
    expect(pm1.d_vocab_out).toBe(2);
  });

  it('rejects bad configs with the key and value', () => {
    const bad = (over: Partial<ParityTask>) => () => buildParityDataset(task(over));
    expect(bad({ k: 0 })).toThrow(ConfigError);
    expect(bad({ k: 21 })).toThrow(/task\.k.*21/);
    expect(bad({ n_bits: 0 })).toThrow(/task\.n_bits.*0/);
    expect(bad({ samples: 2.5 })).toThrow(/task\.samples.*2\.5/);
    expect(bad({ seed: -1 })).toThrow(/task\.seed.*-1/);
    expect(bad({ labels: 'bits' as 'pm1' })).toThrow(/task\.labels.*"bits"/);
  });
});
