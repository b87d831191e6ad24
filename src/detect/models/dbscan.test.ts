import { describe, expect, it } from 'vitest';
import { Rng } from './common.js';
import { coreDistances, DBSCAN, type DbscanResult, dbscan, kneeEps } from './dbscan.js';
import { rocAuc } from './metrics.js';
import { fixture, planted, uniform } from './testing.js';
import { fromRows, type Matrix, matrix } from './types.js';

/** scikit-learn's algorithm written out naively: all neighbourhoods, then depth-first growth in index order. */
function naive(x: Matrix, eps: number, minPts: number): DbscanResult {
  const { rows, cols, data } = x;
  const nb: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const list: number[] = [];
    for (let k = 0; k < rows; k++) {
      let d = 0;
      for (let j = 0; j < cols; j++) {
        const t = data[i * cols + j]! - data[k * cols + j]!;
        d += t * t;
      }
      if (d <= eps * eps) list.push(k);
    }
    nb.push(list);
  }
  const core = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) core[i] = nb[i]!.length >= minPts ? 1 : 0;
  const labels = new Int32Array(rows).fill(-1);
  let label = 0;
  for (let start = 0; start < rows; start++) {
    if (labels[start] !== -1 || !core[start]) continue;
    const stack: number[] = [];
    let i = start;
    for (;;) {
      if (labels[i] === -1) {
        labels[i] = label;
        if (core[i]) for (const v of nb[i]!) if (labels[v] === -1) stack.push(v);
      }
      if (stack.length === 0) break;
      i = stack.pop()!;
    }
    label++;
  }
  return { labels, core, clusters: label };
}

interface DbscanFixture {
  sklearn: string;
  cases: { name: string; eps: number; minPts: number; x: number[][]; labels: number[]; core: number[] }[];
}

/** Blobs plus scattered points, rounded to a lattice so that some distances equal eps exactly. */
function blobs(rows: number, cols: number, seed: number, step = 0): Matrix {
  const rng = new Rng(seed);
  const x = matrix(rows, cols);
  for (let i = 0; i < rows; i++) {
    const kind = i % 4;
    for (let j = 0; j < cols; j++) {
      let v = kind === 3 ? rng.next() * 10 - 2 : kind * 3 + (j % 2) + rng.gaussian() * 0.4;
      if (step > 0) v = Math.round(v / step) * step;
      x.data[i * cols + j] = v;
    }
  }
  return x;
}

describe('dbscan labels', () => {
  const fx = fixture<DbscanFixture>('dbscan.json');
  for (const c of fx.cases) {
    it(`equal scikit-learn ${fx.sklearn} on ${c.name} (testdata/models/dbscan.json), with both indexes`, () => {
      const x = fromRows(c.x);
      for (const index of ['auto', 'grid', 'kdtree'] as const) {
        if (index === 'grid' && x.cols > 2) continue;
        const got = dbscan(x, { eps: c.eps, minPts: c.minPts, index });
        expect(Array.from(got.labels)).toEqual(c.labels);
        expect(Array.from(got.core)).toEqual(c.core);
        expect(got.clusters).toBe(Math.max(-1, ...c.labels) + 1);
      }
    });
  }

  it('assigns a border point shared by two clusters to the first one', () => {
    const fxCase = fx.cases.find((c) => c.name === 'hand-shared-border')!;
    const got = dbscan(fromRows(fxCase.x), { eps: 1, minPts: 4 });
    expect(got.core[10]).toBe(0);
    expect(got.labels[10]).toBe(0);
    expect(got.labels[0]).toBe(0);
    expect(got.labels[5]).toBe(1);
    // Listing the other cluster first flips the numbering and the border point follows.
    const flipped = [...fxCase.x.slice(5, 10), ...fxCase.x.slice(0, 5), fxCase.x[10]!];
    const again = dbscan(fromRows(flipped), { eps: 1, minPts: 4 });
    expect(again.labels[10]).toBe(0);
    expect(again.labels[0]).toBe(0);
    expect(again.labels[5]).toBe(1);
  });

  const random: [string, Matrix, number, number][] = [
    ['1-D', blobs(300, 1, 1), 0.1, 4],
    ['1-D lattice', blobs(300, 1, 2, 0.25), 0.25, 12],
    ['2-D', blobs(600, 2, 3), 0.3, 5],
    ['2-D lattice (ties at eps)', blobs(600, 2, 4, 0.1), 0.2, 6],
    ['2-D minPts 1', blobs(300, 2, 5), 0.2, 1],
    ['2-D minPts 2', blobs(300, 2, 6), 0.2, 2],
    ['3-D', blobs(500, 3, 7), 0.5, 5],
    ['5-D lattice', blobs(400, 5, 8, 0.5), 1, 4],
  ];
  for (const [name, x, eps, minPts] of random) {
    it(`equal the naive algorithm on random data: ${name}`, () => {
      const want = naive(x, eps, minPts);
      // The case exercises several clusters, noise and (unless every row is core) border points.
      let noise = 0;
      let border = 0;
      for (let i = 0; i < x.rows; i++) {
        if (want.labels[i] === -1) noise++;
        else if (!want.core[i]) border++;
      }
      expect(want.clusters).toBeGreaterThan(1);
      if (minPts > 1) expect(noise).toBeGreaterThan(0); // with minPts 1 every row is core
      if (minPts > 2) expect(border).toBeGreaterThan(0); // with minPts 2 a row near a core one is core
      for (const index of ['grid', 'kdtree'] as const) {
        if (index === 'grid' && x.cols > 2) continue;
        const got = dbscan(x, { eps, minPts, index });
        expect(got.clusters).toBe(want.clusters);
        expect(Array.from(got.core)).toEqual(Array.from(want.core));
        expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      }
    });
  }

  it('uses the KD-tree when a grid would be too large', () => {
    const x = fromRows([
      [0, 0],
      [1e-7, 0],
      [1e9, 0],
    ]);
    expect(() => dbscan(x, { eps: 1e-3, minPts: 2, index: 'grid' })).toThrow(/too small for a grid/);
    expect(Array.from(dbscan(x, { eps: 1e-3, minPts: 2 }).labels)).toEqual([0, 0, -1]);
  });

  it('rejects bad input with a clear error', () => {
    const x = uniform(10, 2, 1);
    expect(() => dbscan(matrix(0, 2), { eps: 1, minPts: 2 })).toThrow(/empty matrix/);
    const nan = uniform(10, 2, 1);
    nan.data[7] = Number.NaN;
    expect(() => dbscan(nan, { eps: 1, minPts: 2 })).toThrow(/row 3, column 1 is NaN/);
    expect(() => dbscan(x, { eps: 0, minPts: 2 })).toThrow(/eps must be/);
    expect(() => dbscan(x, { eps: Number.NaN, minPts: 2 })).toThrow(/eps must be/);
    expect(() => dbscan(x, { eps: 1, minPts: 0 })).toThrow(/minPts must be/);
    expect(() => dbscan(x, { eps: 1, minPts: 2.5 })).toThrow(/minPts must be/);
    expect(() => dbscan(uniform(10, 3, 1), { eps: 1, index: 'grid' })).toThrow(/1 or 2 columns/);
    expect(() => dbscan({ rows: 2, cols: 2, data: new Float64Array(3) }, { eps: 1 })).toThrow(/has 3 values/);
  });
});

describe('DBSCAN model', () => {
  const x = blobs(800, 2, 31);

  it('scores fit rows: core 0, border within eps, noise beyond', () => {
    const m = DBSCAN.fit(x, { eps: 0.3, minPts: 6 });
    const { labels, core, fitScores } = m;
    expect(labels).not.toBeNull();
    let noise = 0;
    let border = 0;
    for (let i = 0; i < x.rows; i++) {
      const s = fitScores![i]!;
      if (core![i]) expect(s).toBe(0);
      else if (labels![i]! >= 0) {
        border++;
        expect(s).toBeGreaterThan(0);
        expect(s).toBeLessThanOrEqual(1);
      } else {
        noise++;
        expect(s).toBeGreaterThan(1);
      }
    }
    expect(noise).toBeGreaterThan(0);
    expect(border).toBeGreaterThan(0);
    // score() of the fit rows gives the same numbers.
    expect(Array.from(m.score(x))).toEqual(Array.from(fitScores!));
  });

  it('scores a new row by its distance to the nearest core point over eps', () => {
    const m = DBSCAN.fit(
      fromRows([
        [0, 0],
        [0, 1],
        [1, 0],
        [10, 10],
      ]),
      { eps: 1, minPts: 3 },
    );
    expect(m.cores).toBe(1);
    expect(Array.from(m.fitScores!)).toEqual([0, 1, 1, Math.sqrt(200)]);
    expect(m.scoreRow(new Float64Array([3, 4]), 0)).toBe(5);
    expect(
      Array.from(
        m.predict(
          fromRows([
            [0.5, 0.5],
            [3, 4],
          ]),
        ),
      ),
    ).toEqual([0, -1]);
    const e = m.explain([3, 4]);
    expect(e.map((c) => c.index)).toEqual([1, 0]);
    expect(e[0]!.weight).toBe(16);
    expect(e[1]!.weight).toBe(9);
  });

  it('ranks planted anomalies high (ROC-AUC > 0.95) and explains them by the planted feature', () => {
    const p = planted({ rows: 3000, cols: 2, anomalies: 30, feature: 1, shift: 7, seed: 5 });
    const m = DBSCAN.fit(p.x, { eps: 0.3, minPts: 8 });
    const auc = rocAuc(m.fitScores!, p.labels);
    expect(auc).toBeGreaterThan(0.95);
    let right = 0;
    let total = 0;
    for (let i = 0; i < p.x.rows; i++) {
      if (!p.labels[i]) continue;
      total++;
      const row = Array.from(p.x.data.subarray(i * 2, i * 2 + 2));
      if (m.explain(row, 1)[0]?.index === 1) right++;
    }
    expect(right / total).toBeGreaterThanOrEqual(0.9);
  });

  it('round-trips through JSON with identical scores', () => {
    const m = DBSCAN.fit(x, { eps: 0.3, minPts: 6 });
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    const back = DBSCAN.fromJSON(json);
    expect(back.toJSON()).toEqual(m.toJSON());
    const test = uniform(200, 2, 3, -3, 12);
    expect(Array.from(back.score(test))).toEqual(Array.from(m.score(test)));
    expect(Array.from(back.predict(test))).toEqual(Array.from(m.predict(test)));
    expect(back.labels).toBeNull();
    expect(back.explain([1, 2], 2, ['a', 'b'])).toEqual(m.explain([1, 2], 2, ['a', 'b']));
  });

  it('is deterministic', () => {
    const a = DBSCAN.fit(x, { eps: 0.3, minPts: 6 });
    const b = DBSCAN.fit(x, { eps: 0.3, minPts: 6 });
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it('rejects bad input and malformed JSON with clear errors', () => {
    expect(() => DBSCAN.fit(x, { eps: 1e-6, minPts: 3 })).toThrow(/no core point/);
    const m = DBSCAN.fit(x, { eps: 0.3, minPts: 6 });
    expect(() => m.score(uniform(3, 3, 1))).toThrow(/3 columns, the model has 2/);
    expect(() => m.explain([1])).toThrow(/row has 1 values/);
    expect(() => m.explain([1, Number.POSITIVE_INFINITY])).toThrow(/row value 1 is Infinity/);
    expect(() => m.explain([1, 2], 1, ['a'])).toThrow(/1 names given for 2 columns/);
    const good = m.toJSON();
    expect(() => DBSCAN.fromJSON({ ...good, kind: 'kmeans' })).toThrow(/field "kind"/);
    expect(() => DBSCAN.fromJSON({ ...good, eps: -1 })).toThrow(/field "eps"/);
    expect(() => DBSCAN.fromJSON({ ...good, corePoints: [1, 2, 3] })).toThrow(/field "corePoints"/);
    expect(() => DBSCAN.fromJSON({ ...good, coreClusters: [99] })).toThrow(/field "coreClusters"/);
    const { minPts: _, ...noMinPts } = good;
    expect(() => DBSCAN.fromJSON(noMinPts)).toThrow(/field "minPts" must be a finite number, got undefined/);
  });
});

describe('eps from the data, and a reduced model', () => {
  it('coreDistances: the smallest eps that makes each row core', () => {
    const x = blobs(300, 3, 41, 0.25);
    const kd = coreDistances(x, 6);
    for (const eps of [0.25, 0.5, 1]) {
      const { core } = dbscan(x, { eps, minPts: 6 });
      for (let i = 0; i < x.rows; i++) expect(core[i] === 1, `row ${i} eps ${eps}`).toBe(kd[i]! <= eps);
    }
    expect(() => coreDistances(x, 0)).toThrow(/minPts must be an integer in 1..300/);
  });

  it('kneeEps: the end of the dense bulk of the sorted curve', () => {
    // 90 distances between 0.1 and 0.2, then a tail rising to 10.
    const d = new Float64Array(100);
    for (let i = 0; i < 90; i++) d[i] = 0.1 + (0.1 * i) / 89;
    for (let i = 90; i < 100; i++) d[i] = 1 + i - 90;
    const shuffled = Float64Array.from(d).reverse();
    expect(kneeEps(shuffled)).toBeCloseTo(0.2, 12);
    expect(Array.from(shuffled)).toEqual(Array.from(d).reverse()); // not modified
    // Duplicates up to the knee: the first positive distance after it; all zero: 0.
    expect(kneeEps(Float64Array.of(0, 0, 0, 0, 0, 0, 0, 0.5, 9))).toBe(0.5);
    expect(kneeEps(new Float64Array(5))).toBe(0);
    expect(() => kneeEps(new Float64Array(0))).toThrow(/no distances/);
    expect(() => kneeEps(Float64Array.of(1, Number.NaN))).toThrow(/finite and >= 0/);
  });

  it('reduced: rounded, distinct, a seeded sample of at most maxCores; identical scores after JSON', () => {
    const x = blobs(2000, 3, 43);
    const full = DBSCAN.fit(x, { eps: 0.6, minPts: 6 });
    expect(full.cores).toBeGreaterThan(600);
    const r = full.reduced({ maxCores: 500, seed: 3, decimals: 4 });
    expect(r.cores).toBe(500);
    expect(r.eps).toBe(full.eps);
    expect(r.clusters).toBe(full.clusters);
    expect(r.fitScores).toBeNull();
    for (const v of r.corePoints) expect(Math.round(v * 1e4) / 1e4).toBe(v);
    // Seeded: the same seed gives the same model, another seed another sample.
    expect(full.reduced({ maxCores: 500, seed: 3, decimals: 4 }).toJSON()).toEqual(r.toJSON());
    expect(full.reduced({ maxCores: 500, seed: 4, decimals: 4 }).toJSON()).not.toEqual(r.toJSON());
    // Fewer distinct points than maxCores: all kept, duplicates dropped.
    const dup = DBSCAN.fit(
      fromRows([
        [0, 0],
        [0, 0],
        [0, 0],
        [0.00001, 0],
        [5, 5],
      ]),
      { eps: 0.1, minPts: 3 },
    );
    expect(dup.cores).toBe(4);
    expect(dup.reduced({ maxCores: 10, decimals: 3 }).cores).toBe(1);
    // A reduced model scores the same after a JSON round trip.
    const back = DBSCAN.fromJSON(JSON.parse(JSON.stringify(r.toJSON())));
    const test = uniform(300, 3, 5, -3, 12);
    expect(Array.from(back.score(test))).toEqual(Array.from(r.score(test)));
    expect(back.explain([1, 2, 3], 3)).toEqual(r.explain([1, 2, 3], 3));
    // Scores against the reduced model are at least those against all core points.
    const sf = full.score(test);
    const sr = r.score(test);
    for (let i = 0; i < test.rows; i++) expect(sr[i]!).toBeGreaterThanOrEqual(sf[i]! - 1e-3);
    expect(() => full.reduced({ maxCores: 0 })).toThrow(/maxCores must be an integer >= 1/);
    expect(() => full.reduced({ maxCores: 5, decimals: 16 })).toThrow(/decimals must be an integer in 0..15/);
  });
});
