import { describe, expect, it } from 'vitest';
import { Rng } from './common.js';
import { averagePrecision, rocAuc } from './metrics.js';
import { fixture } from './testing.js';

interface MetricsFixture {
  sklearn: string;
  cases: { scores: number[]; labels: number[]; rocAuc: number; averagePrecision: number }[];
}

/** AUC by counting pairs: P(score of a positive > score of a negative) + half the ties. */
function pairAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let k = 0; k < scores.length; k++) {
      if (labels[k]) continue;
      pairs++;
      if (scores[i]! > scores[k]!) wins++;
      else if (scores[i] === scores[k]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe('rocAuc and averagePrecision', () => {
  it('equal scikit-learn roc_auc_score and average_precision_score (testdata/models/metrics.json)', () => {
    const fx = fixture<MetricsFixture>('metrics.json');
    expect(fx.cases.length).toBeGreaterThan(3);
    for (const c of fx.cases) {
      expect(rocAuc(c.scores, c.labels)).toBeCloseTo(c.rocAuc, 12);
      expect(averagePrecision(c.scores, c.labels)).toBeCloseTo(c.averagePrecision, 12);
    }
  });

  it('equal pair counting on random scores with ties', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 20; t++) {
      const n = 5 + rng.int(200);
      const scores = Array.from({ length: n }, () => rng.int(1 + rng.int(30)));
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rng.next() < 0.3 ? 1 : 0));
      expect(rocAuc(scores, labels)).toBeCloseTo(pairAuc(scores, labels), 12);
    }
  });

  it('give the known extremes', () => {
    expect(rocAuc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.1, 0.2], [false, false, true, true])).toBe(0);
    expect(rocAuc([3, 3, 3], [1, 0, 1])).toBe(0.5);
    expect(averagePrecision([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1])).toBe(1);
    // Ranked positives at 1 and 3: precision 1 at recall 0.5, then 2/3 at recall 1.
    expect(averagePrecision([4, 3, 2, 1], [1, 0, 1, 0])).toBeCloseTo(0.5 + 0.5 * (2 / 3), 15);
    // All tied: one threshold, precision = prevalence.
    expect(averagePrecision([1, 1, 1, 1], [1, 0, 0, 0])).toBe(0.25);
  });

  it('accept typed arrays', () => {
    expect(rocAuc(new Float64Array([1, 2]), new Uint8Array([0, 1]))).toBe(1);
  });

  it('reject bad input with a clear error', () => {
    expect(() => rocAuc([1, 2], [1])).toThrow(/2 scores but 1 labels/);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/needs both classes/);
    expect(() => rocAuc([1, Number.NaN], [1, 0])).toThrow(/score 1 is NaN/);
    expect(() => rocAuc([1, 2], [1, 2])).toThrow(/label 1 is 2/);
    expect(() => averagePrecision([1, 2], [0, 0])).toThrow(/at least one positive/);
  });
});
