import { describe, expect, it } from 'vitest';
import { evaluatePredictions } from '../../core/metrics.js';

describe('evaluatePredictions', () => {
  it('matches hand-computed values', () => {
    // gold:      neg neg neg neu neu pos pos pos pos
    // predicted: neg neu neg neu pos pos pos neg pos
    const e = evaluatePredictions([0, 0, 0, 1, 1, 2, 2, 2, 2], [0, 1, 0, 1, 2, 2, 2, 0, 2]);
    expect(e.n).toBe(9);
    expect(e.accuracy).toBeCloseTo(6 / 9);
    expect(e.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
    expect(e.per_class.negative).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3 });
    expect(e.per_class.neutral.recall).toBeCloseTo(0.5);
    expect(e.per_class.positive.precision).toBeCloseTo(0.75);
    expect(e.macro_recall).toBeCloseTo((2 / 3 + 0.5 + 0.75) / 3);
    const f1 = [2 / 3, 0.5, 0.75];
    expect(e.macro_f1).toBeCloseTo(f1.reduce((a, b) => a + b) / 3);
  });

  it('gives 0, not NaN, for a class never predicted or absent', () => {
    const e = evaluatePredictions([0, 0], [0, 0]);
    expect(e.per_class.neutral).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(e.macro_recall).toBeCloseTo(1 / 3);
  });
});
