import { describe, expect, test } from 'vitest';
import { broadcastShapes, matMulDims, MIN_REROUTE_FLOPS, planMatMul } from '../../src/backend/matmul-plan.ts';

describe('matMulDims', () => {
  test('reads m, k, n through the transpose flags', () => {
    expect(matMulDims([5, 3], [5, 7], true, false)).toMatchObject({ m: 3, k: 5, n: 7, sizeA: 1, sizeB: 1 });
    expect(matMulDims([2, 4, 3, 5], [7, 5], false, true)).toMatchObject({
      m: 3,
      k: 5,
      n: 7,
      sizeA: 8,
      sizeB: 1,
      outBatch: [2, 4],
    });
  });

  test('names both shapes and flags when the inner dimensions differ', () => {
    expect(() => matMulDims([3, 4], [5, 6], false, false)).toThrow(
      /a \[3,4\] \(transposeA=false\) gives 4, b \[5,6\] \(transposeB=false\) gives 5/,
    );
  });

  test('rejects batch shapes that do not broadcast', () => {
    expect(() => matMulDims([2, 3, 4], [3, 4, 5], false, false)).toThrow(/\[2\] and \[3\] cannot be broadcast/);
  });
});

describe('broadcastShapes', () => {
  test('numpy rules, right-aligned', () => {
    expect(broadcastShapes([2, 1], [1, 3])).toEqual([2, 3]);
    expect(broadcastShapes([4], [2, 1])).toEqual([2, 4]);
    expect(broadcastShapes([], [3])).toEqual([3]);
  });
});

describe('planMatMul', () => {
  test('tiny products keep the original kernel', () => {
    expect(planMatMul([16, 16], [16, 16], true, false)).toBe('native');
    expect(2 * 16 ** 3).toBeLessThan(MIN_REROUTE_FLOPS);
  });

  test('a plain unbatched product is already on the XNNPACK path', () => {
    expect(planMatMul([1024, 1024], [1024, 1024], false, false)).toBe('native');
  });

  test('flagged 2-D products are rerouted, choosing the form that packs the smaller operand', () => {
    // dW = xᵀ·dy with x [N, 512], dy [N, 128]: packing dy (direct) is cheaper than packing x.
    expect(planMatMul([3830, 512], [3830, 128], true, false)).toBe('direct');
    // x [N, 128], dy [N, 512]: packing x (swapped) is cheaper.
    expect(planMatMul([3830, 128], [3830, 512], true, false)).toBe('swapped');
    expect(planMatMul([3830, 512], [128, 512], false, true)).toBe('direct');
    expect(planMatMul([128, 128], [128, 128], true, true)).toMatch(/direct|swapped/);
  });

  test('batched left operand × shared right operand folds the batch into rows', () => {
    expect(planMatMul([8, 64, 64], [64, 64], false, false)).toBe('direct');
    expect(planMatMul([8, 64, 64], [1, 64, 64], true, false)).toBe('direct');
  });

  test('shared left operand × batched right operand uses the swapped form', () => {
    expect(planMatMul([64, 64], [8, 64, 64], false, false)).toBe('swapped');
  });

  test('equal batches: per-batch products only when each entry is big and there are few', () => {
    expect(planMatMul([4, 256, 256], [4, 256, 256], false, false)).toBe('per-batch');
    expect(planMatMul([15320, 3, 32], [15320, 32, 3], false, false)).toBe('native');
  });

  test('batch shapes the original kernel gets wrong are broadcast first, whatever their size', () => {
    expect(planMatMul([2, 1, 2, 2], [1, 3, 2, 2], false, false)).toBe('broadcast');
    expect(planMatMul([2, 3, 2, 2], [3, 2, 2], false, false)).toBe('broadcast');
    // Leading ones are not a difference.
    expect(planMatMul([1, 3, 64, 64], [3, 64, 64], false, false)).toBe('native');
  });
});
