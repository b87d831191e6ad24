import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest } from './iforest.js';
import { rocAuc } from './metrics.js';
import { fixture, planted, uniform } from './testing.js';
import { fromRows, matrix } from './types.js';

interface IForestFixture {
  sklearn: string;
  cases: { name: string; model: Record<string, unknown>; x: number[][]; scores: number[] }[];
}

describe('averagePathLength', () => {
  it('is c(n) of Liu et al. / scikit-learn', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(3)).toBeCloseTo(2 * (Math.log(2) + 0.5772156649015329) - 4 / 3, 15);
    // scikit-learn's _average_path_length([256]).
    expect(averagePathLength(256)).toBe(10.244770920119917);
  });
});

describe('IsolationForest', () => {
  it('scores like scikit-learn given scikit-learn trees (testdata/models/iforest.json)', () => {
    const fx = fixture<IForestFixture>('iforest.json');
    expect(fx.cases.length).toBe(2);
    for (const c of fx.cases) {
      const m = IsolationForest.fromJSON(c.model);
      const x = fromRows(c.x);
      const got = m.score(x);
      for (let i = 0; i < x.rows; i++) {
        expect(got[i]).toBeCloseTo(c.scores[i]!, 12);
        expect(m.scoreRow(x.data, i * x.cols)).toBe(got[i]);
      }
    }
  });

  it('computes the score of a hand-built tree', () => {
    // One tree over a subsample of 4: x0 <= 0.5 isolates one row (depth 1, c(1) = 0); the other three
    // rows sit in a leaf at depth 1 (path 1 + c(3)).
    const m = IsolationForest.fromJSON({
      kind: 'iforest',
      version: 1,
      cols: 2,
      sampleSize: 4,
      maxFeatures: 2,
      seed: 0,
      roots: [0],
      feature: [0, -1, -1],
      threshold: [0.5, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      size: [4, 1, 3],
    });
    const c4 = averagePathLength(4);
    expect(m.scoreRow(new Float64Array([0, 9]), 0)).toBe(2 ** (-1 / c4));
    expect(m.scoreRow(new Float64Array([0.5, 9]), 0)).toBe(2 ** (-1 / c4));
    expect(m.scoreRow(new Float64Array([0.6, 9]), 0)).toBe(2 ** (-(1 + averagePathLength(3)) / c4));
    expect(m.meanPathLength(new Float64Array([0.6, 9]), 0)).toBe(1 + averagePathLength(3));
    const e = m.explain([0, 9], undefined, ['a', 'b']);
    expect(e).toEqual([{ index: 0, name: 'a', value: 0, weight: 1 }]);
  });

  it('is deterministic by seed', () => {
    const x = uniform(1000, 4, 1);
    const a = IsolationForest.fit(x, { trees: 20, seed: 7 });
    const b = IsolationForest.fit(x, { trees: 20, seed: 7 });
    const c = IsolationForest.fit(x, { trees: 20, seed: 8 });
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(Array.from(b.score(x))).toEqual(Array.from(a.score(x)));
    expect(c.toJSON()).not.toEqual(a.toJSON());
  });

  it('round-trips through JSON with identical scores and explanations', () => {
    const p = planted({ rows: 2000, cols: 5, anomalies: 20, feature: 2, shift: 8, seed: 3 });
    const m = IsolationForest.fit(p.x, { trees: 50, seed: 1, maxFeatures: 3 });
    const back = IsolationForest.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(back.toJSON()).toEqual(m.toJSON());
    expect(Array.from(back.score(p.x))).toEqual(Array.from(m.score(p.x)));
    const row = Array.from(p.x.data.subarray(0, 5));
    expect(back.explain(row)).toEqual(m.explain(row));
  });

  it('scores a matrix exactly as row by row', () => {
    const x = uniform(1500, 3, 4);
    const m = IsolationForest.fit(x, { trees: 30, seed: 2 });
    const s = m.score(x);
    for (let i = 0; i < x.rows; i++) expect(m.scoreRow(x.data, i * 3)).toBe(s[i]);
  });

  it('ranks planted anomalies high (ROC-AUC > 0.95) and explains them by the planted feature', () => {
    const p = planted({ rows: 4000, cols: 5, anomalies: 20, feature: 4, shift: 8, seed: 11 });
    const m = IsolationForest.fit(p.x, { seed: 3 });
    const scores = m.score(p.x);
    expect(rocAuc(scores, p.labels)).toBeGreaterThan(0.95);
    let right = 0;
    let total = 0;
    for (let i = 0; i < p.x.rows; i++) {
      if (!p.labels[i]) continue;
      total++;
      const e = m.explain(Array.from(p.x.data.subarray(i * 5, i * 5 + 5)), 3);
      expect(e.length).toBeLessThanOrEqual(3);
      if (e[0]!.index === 4) right++;
    }
    expect(right / total).toBeGreaterThanOrEqual(0.95);
  });

  it('builds trees as specified: subsample, depth limit, sizes, non-constant split features', () => {
    const x = uniform(3000, 4, 5);
    for (let i = 0; i < x.rows; i++) x.data[i * 4 + 1] = 42; // a constant column is never split on
    const m = IsolationForest.fit(x, { trees: 10, sampleSize: 100, seed: 9 });
    expect(m.sampleSize).toBe(100);
    const maxDepth = Math.ceil(Math.log2(100));
    const nodes = m.feature.length;
    for (let t = 0; t < m.trees; t++) {
      const root = m.roots[t]!;
      const end = t + 1 < m.trees ? m.roots[t + 1]! : nodes;
      expect(m.size[root]).toBe(100);
      const depth = new Map<number, number>([[root, 0]]);
      let leafRows = 0;
      for (let i = root; i < end; i++) {
        const d = depth.get(i)!;
        expect(d).toBeLessThanOrEqual(maxDepth);
        if (m.feature[i]! < 0) {
          leafRows += m.size[i]!;
          continue;
        }
        expect(m.feature[i]).not.toBe(1);
        expect(m.size[m.left[i]!]! + m.size[m.right[i]!]!).toBe(m.size[i]);
        expect(m.size[m.left[i]!]).toBeGreaterThan(0);
        expect(m.size[m.right[i]!]).toBeGreaterThan(0);
        depth.set(m.left[i]!, d + 1);
        depth.set(m.right[i]!, d + 1);
      }
      expect(leafRows).toBe(100);
    }
    // sampleSize is capped by the rows; maxFeatures limits the columns per tree.
    const small = IsolationForest.fit(uniform(50, 4, 6), { trees: 5, seed: 1 });
    expect(small.sampleSize).toBe(50);
    const one = IsolationForest.fit(uniform(500, 4, 7), { trees: 20, seed: 1, maxFeatures: 1 });
    for (let t = 0; t < one.trees; t++) {
      const end = t + 1 < one.trees ? one.roots[t + 1]! : one.feature.length;
      const used = new Set<number>();
      for (let i = one.roots[t]!; i < end; i++) if (one.feature[i]! >= 0) used.add(one.feature[i]!);
      expect(used.size).toBe(1);
    }
    expect(IsolationForest.fit(uniform(500, 10, 7), { trees: 2, maxFeatures: 0.25 }).maxFeatures).toBe(2);
  });

  it('gives 0.5 to every row when the subsample is a single row (as scikit-learn)', () => {
    const m = IsolationForest.fit(fromRows([[1, 2]]), { trees: 3 });
    expect(
      Array.from(
        m.score(
          fromRows([
            [1, 2],
            [100, -5],
          ]),
        ),
      ),
    ).toEqual([0.5, 0.5]);
    expect(m.scoreRow(new Float64Array([3, 3]), 0)).toBe(0.5);
  });

  it('rejects bad input with a clear error', () => {
    const x = uniform(100, 3, 1);
    expect(() => IsolationForest.fit(matrix(0, 3))).toThrow(/empty matrix \(0 x 3\)/);
    const bad = uniform(100, 3, 1);
    bad.data[5] = Number.NaN;
    expect(() => IsolationForest.fit(bad)).toThrow(/row 1, column 2 is NaN/);
    expect(() => IsolationForest.fit(x, { trees: 0 })).toThrow(/trees must be/);
    expect(() => IsolationForest.fit(x, { sampleSize: 1.5 })).toThrow(/sampleSize must be/);
    expect(() => IsolationForest.fit(x, { seed: 0.5 })).toThrow(/seed must be a safe integer/);
    expect(() => IsolationForest.fit(x, { maxFeatures: 4 })).toThrow(/maxFeatures must be/);
    const m = IsolationForest.fit(x, { trees: 5 });
    expect(() => m.score(uniform(10, 2, 1))).toThrow(/2 columns, the model has 3/);
    const nan = uniform(10, 3, 1);
    nan.data[29] = Number.NEGATIVE_INFINITY;
    expect(() => m.score(nan)).toThrow(/row 9, column 2 is -Infinity/);
    expect(m.score(matrix(0, 3)).length).toBe(0);
    expect(() => m.explain([1, 2])).toThrow(/row has 2 values, the model has 3/);
    expect(() => m.explain([1, 2, 3], -1)).toThrow(/top must be/);
  });

  it('rejects malformed JSON naming the field', () => {
    const good = IsolationForest.fit(uniform(200, 2, 1), { trees: 3 }).toJSON();
    const feature = good.feature as number[];
    const left = good.left as number[];
    expect(() => IsolationForest.fromJSON(null)).toThrow(/expected an object/);
    expect(() => IsolationForest.fromJSON({ ...good, version: 2 })).toThrow(/field "version"/);
    expect(() => IsolationForest.fromJSON({ ...good, threshold: undefined })).toThrow(/field "threshold"/);
    expect(() => IsolationForest.fromJSON({ ...good, threshold: [1, 2] })).toThrow(
      /field "threshold" must have/,
    );
    expect(() =>
      IsolationForest.fromJSON({ ...good, feature: feature.map((f) => (f >= 0 ? 5 : f)) }),
    ).toThrow(/field "feature"/);
    const split = feature.findIndex((f) => f >= 0);
    const loop = left.slice();
    loop[split] = split; // a node that is its own child would never end
    expect(() => IsolationForest.fromJSON({ ...good, left: loop })).toThrow(/field "left"/);
    expect(() => IsolationForest.fromJSON({ ...good, roots: [] })).toThrow(/field "roots"/);
    expect(() => IsolationForest.fromJSON({ ...good, size: (good.size as number[]).map(() => 0) })).toThrow(
      /field "size"/,
    );
    expect(() => IsolationForest.fromJSON({ ...good, cols: 'two' })).toThrow(/field "cols"/);
  });
});
