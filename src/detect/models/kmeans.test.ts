import { describe, expect, it } from 'vitest';
import { KMeans } from './kmeans.js';
import { rocAuc } from './metrics.js';
import { fixture, planted, uniform } from './testing.js';
import { fromRows, matrix } from './types.js';

interface KMeansFixture {
  sklearn: string;
  x: number[][];
  k: number;
  centers: number[][];
  inertia: number;
}

const CENTERS = [
  [0, 0, 0, 0],
  [10, 0, 0, 0],
  [0, 10, 0, 0],
];

function sortedRows(a: Float64Array, cols: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < a.length / cols; i++) rows.push(Array.from(a.subarray(i * cols, (i + 1) * cols)));
  return rows.sort((p, q) => p[0]! - q[0]! || p[1]! - q[1]! || p[2]! - q[2]!);
}

describe('KMeans', () => {
  it('finds the centres and inertia scikit-learn finds (testdata/models/kmeans.json)', () => {
    const fx = fixture<KMeansFixture>('kmeans.json');
    const x = fromRows(fx.x);
    for (const seed of [0, 1, 2]) {
      const m = KMeans.fit(x, { k: fx.k, seed, nInit: 3 });
      const got = sortedRows(m.centroids, x.cols);
      const want = fx.centers.slice().sort((p, q) => p[0]! - q[0]! || p[1]! - q[1]! || p[2]! - q[2]!);
      for (let c = 0; c < fx.k; c++)
        for (let j = 0; j < x.cols; j++) expect(got[c]![j]).toBeCloseTo(want[c]![j]!, 10);
      expect(m.inertia).toBeCloseTo(fx.inertia, 8);
    }
  });

  it('converges on hand-made data to the cluster means', () => {
    const x = fromRows([
      [0, 0],
      [0, 2],
      [2, 0],
      [2, 2],
      [10, 10],
      [10, 12],
      [12, 10],
      [12, 12],
      [11, 11],
    ]);
    const m = KMeans.fit(x, { k: 2, seed: 4, normalize: 'none' });
    expect(sortedRows(m.centroids, 2)).toEqual([
      [1, 1],
      [11, 11],
    ]);
    expect(m.inertia).toBe(16);
    expect(m.scoreRow(new Float64Array([1, 4]), 0)).toBe(3);
    const labels = m.predict(x);
    expect(new Set(labels.subarray(0, 4)).size).toBe(1);
    expect(new Set(labels.subarray(4)).size).toBe(1);
    expect(labels[0]).not.toBe(labels[4]);
  });

  it('divides by the cluster median (default) or mean distance', () => {
    // One cluster: distances of the rows to the centroid (0, 0) are 1, 1, 1, 1, 3, 3 (median 1, mean 5/3).
    const x = fromRows([
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
      [3, 0],
      [-3, 0],
    ]);
    const med = KMeans.fit(x, { k: 1 });
    expect(Array.from(med.centroids)).toEqual([0, 0]);
    expect(Array.from(med.scales)).toEqual([1]);
    expect(med.scoreRow(new Float64Array([0, 4]), 0)).toBe(4);
    const mean = KMeans.fit(x, { k: 1, normalize: 'mean' });
    expect(mean.scales[0]).toBeCloseTo(5 / 3, 15);
    expect(mean.scoreRow(new Float64Array([0, 4]), 0)).toBeCloseTo(4 / (5 / 3), 14);
    const none = KMeans.fit(x, { k: 1, normalize: 'none' });
    expect(none.scoreRow(new Float64Array([0, 4]), 0)).toBe(4);
    // A cluster of identical rows falls back to the median over all rows: the other cluster's centroid is
    // (1, 0), all distances are 0, 0, 1, 3, sqrt(17), sqrt(17), median 2.
    const y = fromRows([
      [0, 0],
      [0, 4],
      [0, -4],
      [4, 0],
      [50, 50],
      [50, 50],
    ]);
    const fb = KMeans.fit(y, { k: 2, seed: 1 });
    const c = fb.nearest(new Float64Array([50, 50]), 0);
    expect(Array.from(fb.centroids.subarray(c * 2, c * 2 + 2))).toEqual([50, 50]);
    expect(fb.scales[c]).toBe(2);
    expect(fb.scales[1 - c]).toBe((Math.sqrt(17) + 3) / 2);
    // Identical rows whose mean carries rounding noise (0.1 * 3 / 3 is not 0.1) still count as a zero scale.
    const noisy = fromRows([
      [0.1, 0.7],
      [0.1, 0.7],
      [0.1, 0.7],
      [5, 5],
      [6, 5],
      [5, 6],
    ]);
    const nz = KMeans.fit(noisy, { k: 2, seed: 3 });
    const t = nz.nearest(new Float64Array([0.1, 0.7]), 0);
    expect(nz.scales[t]).toBeGreaterThan(1e-3);
    expect(nz.scoreRow(new Float64Array([0.2, 0.7]), 0)).toBeLessThan(10);
    // ... and to 1 when that is 0 too.
    expect(
      Array.from(
        KMeans.fit(
          fromRows([
            [1, 1],
            [1, 1],
          ]),
          { k: 1 },
        ).scales,
      ),
    ).toEqual([1]);
  });

  it('runs Lloyd to a fixed point with tol 0: every centroid is the mean of its rows', () => {
    const p = planted({ rows: 3000, cols: 4, anomalies: 0, feature: 0, shift: 0, seed: 9, centers: CENTERS });
    const m = KMeans.fit(p.x, { k: 7, seed: 5, tol: 0 });
    expect(m.iterations).toBeGreaterThan(3);
    const labels = m.predict(p.x);
    const sums = new Float64Array(7 * 4);
    const counts = new Float64Array(7);
    let inertia = 0;
    for (let i = 0; i < p.x.rows; i++) {
      const c = labels[i]!;
      counts[c]!++;
      for (let j = 0; j < 4; j++) {
        sums[c * 4 + j]! += p.x.data[i * 4 + j]!;
        inertia += (p.x.data[i * 4 + j]! - m.centroids[c * 4 + j]!) ** 2;
      }
    }
    for (let c = 0; c < 7; c++) {
      expect(counts[c]).toBeGreaterThan(0);
      for (let j = 0; j < 4; j++)
        expect(m.centroids[c * 4 + j]).toBeCloseTo(sums[c * 4 + j]! / counts[c]!, 12);
    }
    expect(m.inertia).toBeCloseTo(inertia, 6);
  });

  it('is deterministic by seed, and restarts never do worse', () => {
    const p = planted({ rows: 3000, cols: 4, anomalies: 0, feature: 0, shift: 0, seed: 2, centers: CENTERS });
    const a = KMeans.fit(p.x, { k: 5, seed: 3 });
    const b = KMeans.fit(p.x, { k: 5, seed: 3 });
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(Array.from(b.score(p.x))).toEqual(Array.from(a.score(p.x)));
    const c = KMeans.fit(p.x, { k: 5, seed: 4 });
    expect(c.toJSON()).not.toEqual(a.toJSON());
    const many = KMeans.fit(p.x, { k: 5, seed: 3, nInit: 4 });
    expect(many.inertia).toBeLessThanOrEqual(a.inertia);
  });

  it('round-trips through JSON with identical scores and explanations', () => {
    const p = planted({
      rows: 2000,
      cols: 4,
      anomalies: 10,
      feature: 3,
      shift: 9,
      seed: 5,
      centers: CENTERS,
    });
    const m = KMeans.fit(p.x, { k: 3, seed: 1 });
    const back = KMeans.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(back.toJSON()).toEqual(m.toJSON());
    expect(Array.from(back.score(p.x))).toEqual(Array.from(m.score(p.x)));
    expect(Array.from(back.predict(p.x))).toEqual(Array.from(m.predict(p.x)));
    const row = Array.from(p.x.data.subarray(8, 12));
    expect(back.explain(row, 2, ['a', 'b', 'c', 'd'])).toEqual(m.explain(row, 2, ['a', 'b', 'c', 'd']));
  });

  it('ranks planted anomalies high (ROC-AUC > 0.95) and explains them by the planted feature', () => {
    const p = planted({
      rows: 4000,
      cols: 4,
      anomalies: 40,
      feature: 2,
      shift: 6,
      seed: 7,
      centers: CENTERS,
    });
    const m = KMeans.fit(p.x, { k: 3, seed: 2, nInit: 2 });
    const scores = m.score(p.x);
    expect(rocAuc(scores, p.labels)).toBeGreaterThan(0.95);
    let right = 0;
    let total = 0;
    for (let i = 0; i < p.x.rows; i++) {
      if (!p.labels[i]) continue;
      total++;
      const row = Array.from(p.x.data.subarray(i * 4, i * 4 + 4));
      const e = m.explain(row);
      // The weights add up to score^2.
      expect(e.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(scores[i]! ** 2, 9);
      if (e[0]!.index === 2) right++;
    }
    expect(right / total).toBeGreaterThanOrEqual(0.95);
  });

  it('survives k equal to the rows and duplicate rows (empty clusters)', () => {
    const x = fromRows([
      [1, 1],
      [1, 1],
      [1, 1],
      [5, 5],
    ]);
    const m = KMeans.fit(x, { k: 4, seed: 1 });
    for (const s of m.score(x)) expect(Number.isFinite(s)).toBe(true);
    expect(Array.from(m.scales).every((s) => s > 0)).toBe(true);
    const all = KMeans.fit(uniform(6, 2, 1), { k: 6 });
    expect(Array.from(all.score(uniform(6, 2, 1)))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects bad input and malformed JSON with clear errors', () => {
    const x = uniform(20, 3, 1);
    expect(() => KMeans.fit(matrix(0, 3), { k: 1 })).toThrow(/empty matrix/);
    const nan = uniform(20, 3, 1);
    nan.data[0] = Number.NaN;
    expect(() => KMeans.fit(nan, { k: 2 })).toThrow(/row 0, column 0 is NaN/);
    expect(() => KMeans.fit(x, { k: 21 })).toThrow(/k must be an integer in 1\.\.20/);
    expect(() => KMeans.fit(x, { k: 0 })).toThrow(/k must be/);
    expect(() => KMeans.fit(x, { k: 2, nInit: 0 })).toThrow(/nInit must be/);
    expect(() => KMeans.fit(x, { k: 2, maxIter: 0 })).toThrow(/maxIter must be/);
    expect(() => KMeans.fit(x, { k: 2, tol: -1 })).toThrow(/tol must be/);
    expect(() => KMeans.fit(x, { k: 2, normalize: 'max' as 'mean' })).toThrow(/normalize must be/);
    const m = KMeans.fit(x, { k: 2 });
    expect(() => m.score(uniform(3, 4, 1))).toThrow(/4 columns, the model has 3/);
    expect(() => m.explain([1, 2, Number.NaN])).toThrow(/row value 2 is NaN/);
    const good = m.toJSON();
    expect(() => KMeans.fromJSON({ ...good, kind: 'iforest' })).toThrow(/field "kind"/);
    expect(() => KMeans.fromJSON({ ...good, centroids: [1, 2] })).toThrow(
      /field "centroids" must have 6 values/,
    );
    expect(() => KMeans.fromJSON({ ...good, scales: [1, 0] })).toThrow(/field "scales" value 1 must be > 0/);
    expect(() => KMeans.fromJSON({ ...good, normalize: 'max' })).toThrow(/field "normalize"/);
    expect(() => KMeans.fromJSON({ ...good, centroids: [1, 2, 3, 4, 5, 'x'] })).toThrow(
      /field "centroids" value 5 must be a finite number/,
    );
  });
});
