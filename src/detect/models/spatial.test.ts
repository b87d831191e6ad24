import { describe, expect, it } from 'vitest';
import { Rng } from './common.js';
import { Grid, IndexList, KDTree } from './spatial.js';
import { uniform } from './testing.js';
import { type Matrix, matrix } from './types.js';

function dist2(a: Float64Array, ao: number, b: Float64Array, bo: number, cols: number): number {
  let d = 0;
  for (let j = 0; j < cols; j++) {
    const t = a[ao + j]! - b[bo + j]!;
    d += t * t;
  }
  return d;
}

function bruteRadius(x: Matrix, q: Float64Array, qo: number, r: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.rows; i++) if (dist2(q, qo, x.data, i * x.cols, x.cols) <= r * r) out.push(i);
  return out;
}

function sorted(list: IndexList): number[] {
  return list.toArray().sort((a, b) => a - b);
}

/** Points on an integer lattice (many distances exactly equal to small radii) with duplicates. */
function lattice(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const x = matrix(rows, cols);
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.int(6) * 0.5;
  return x;
}

describe('KDTree', () => {
  const cases: [string, Matrix][] = [
    ['uniform 1-D', uniform(300, 1, 1)],
    ['uniform 2-D', uniform(500, 2, 2)],
    ['uniform 3-D', uniform(400, 3, 3, -5, 5)],
    ['uniform 8-D', uniform(300, 8, 4)],
    ['lattice 2-D with duplicates', lattice(400, 2, 5)],
    ['lattice 3-D with duplicates', lattice(300, 3, 6)],
  ];
  for (const [name, x] of cases) {
    it(`radius and count queries equal brute force: ${name}`, () => {
      const rng = new Rng(7);
      const queries = uniform(40, x.cols, 8, -0.5, 3);
      for (const leafSize of [1, 4, 16]) {
        const tree = KDTree.build(x.data, x.rows, x.cols, leafSize);
        const list = new IndexList(2);
        for (const r of [0, 0.05, 0.2, 0.5, 1, 10]) {
          // Queries at data points (exact-distance ties on the lattice) and elsewhere.
          for (let k = 0; k < 30; k++) {
            const fromData = k % 2 === 0;
            const q = fromData ? x.data : queries.data;
            const qo = fromData ? rng.int(x.rows) * x.cols : (k % queries.rows) * x.cols;
            const want = bruteRadius(x, q, qo, r);
            list.clear();
            expect(tree.radius(q, qo, r, list)).toBe(want.length);
            expect(sorted(list)).toEqual(want);
            expect(tree.countWithin(q, qo, r)).toBe(want.length);
            for (const limit of [1, 3, 10]) {
              const c = tree.countWithin(q, qo, r, limit);
              if (want.length < limit) expect(c).toBe(want.length);
              else expect(c).toBeGreaterThanOrEqual(limit);
            }
          }
        }
      }
    });

    it(`nearest equals brute force (lowest index on ties): ${name}`, () => {
      const tree = KDTree.build(x.data, x.rows, x.cols, 8);
      const queries = uniform(60, x.cols, 9, -1, 4);
      for (let k = 0; k < queries.rows + 20; k++) {
        const fromData = k >= queries.rows;
        const q = fromData ? x.data : queries.data;
        const qo = fromData ? (k - queries.rows) * 7 * x.cols : k * x.cols;
        let best = -1;
        let bestD = Infinity;
        for (let i = 0; i < x.rows; i++) {
          const d = dist2(q, qo, x.data, i * x.cols, x.cols);
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        }
        expect(tree.nearest(q, qo)).toBe(best);
        expect(tree.lastDist2).toBe(bestD);
      }
    });

    it(`kthNearestDist2 equals brute force (a point at the query counts): ${name}`, () => {
      const tree = KDTree.build(x.data, x.rows, x.cols, 4);
      const queries = uniform(30, x.cols, 10, -1, 4);
      for (let q = 0; q < queries.rows + 30; q++) {
        const fromData = q >= queries.rows;
        const src = fromData ? x.data : queries.data;
        const qo = fromData ? (q - queries.rows) * 5 * x.cols : q * x.cols;
        const all = new Float64Array(x.rows);
        for (let i = 0; i < x.rows; i++) all[i] = dist2(src, qo, x.data, i * x.cols, x.cols);
        all.sort();
        for (const k of [1, 2, 5, 22, x.rows]) expect(tree.kthNearestDist2(src, qo, k)).toBe(all[k - 1]);
      }
      expect(tree.kthNearestDist2(x.data, 0, x.rows + 1)).toBe(Infinity);
      expect(() => tree.kthNearestDist2(x.data, 0, 0)).toThrow(/k must be an integer >= 1/);
    });
  }

  it('handles empty and single-point trees', () => {
    const empty = KDTree.build(new Float64Array(0), 0, 2);
    const list = new IndexList();
    expect(empty.radius(new Float64Array([0, 0]), 0, 1, list)).toBe(0);
    expect(empty.countWithin(new Float64Array([0, 0]), 0, 1)).toBe(0);
    expect(empty.nearest(new Float64Array([0, 0]), 0)).toBe(-1);
    const one = KDTree.build(new Float64Array([3, 4]), 1, 2);
    expect(one.nearest(new Float64Array([0, 0]), 0)).toBe(0);
    expect(one.lastDist2).toBe(25);
    expect(one.countWithin(new Float64Array([0, 0]), 0, 5)).toBe(1);
    expect(one.countWithin(new Float64Array([0, 0]), 0, 4.999)).toBe(0);
  });

  it('keeps every point exactly once, in leaves of at most leafSize', () => {
    const x = uniform(1000, 3, 11);
    const tree = KDTree.build(x.data, x.rows, x.cols, 10);
    expect(Array.from(tree.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    for (let n = 0; n < tree.nodes; n++) {
      if (tree.left[n]! < 0) expect(tree.end[n]! - tree.start[n]!).toBeLessThanOrEqual(10);
    }
    for (let p = 0; p < 1000; p++) {
      expect(Array.from(tree.points.subarray(p * 3, p * 3 + 3))).toEqual(
        Array.from(x.data.subarray(tree.index[p]! * 3, tree.index[p]! * 3 + 3)),
      );
    }
  });

  it('rejects a bad shape or leaf size', () => {
    expect(() => KDTree.build(new Float64Array(3), 2, 2)).toThrow(/bad shape/);
    expect(() => KDTree.build(new Float64Array(4), 2, 2, 0)).toThrow(/leafSize/);
  });
});

describe('Grid', () => {
  const cases: [string, Matrix, number[]][] = [
    ['uniform 1-D', uniform(300, 1, 21), [0.01, 0.1, 0.5]],
    ['uniform 2-D', uniform(600, 2, 22, -3, 3), [0.05, 0.3, 1, 4]],
    ['lattice 2-D with duplicates', lattice(500, 2, 23), [0.5, 1, Math.SQRT2, 1.5]],
    ['lattice 1-D with duplicates', lattice(200, 1, 24), [0.5, 1]],
  ];
  for (const [name, x, radii] of cases) {
    it(`radius queries equal brute force: ${name}`, () => {
      const queries = uniform(30, x.cols, 25, -4, 4);
      const list = new IndexList();
      for (const r of radii) {
        const g = Grid.build(x.data, x.rows, x.cols, r)!;
        expect(g).not.toBeNull();
        for (let k = 0; k < x.rows + queries.rows; k++) {
          const fromData = k < x.rows;
          const q = fromData ? x.data : queries.data;
          const qo = fromData ? k * x.cols : (k - x.rows) * x.cols;
          list.clear();
          const want = bruteRadius(x, q, qo, r);
          expect(g.radius(q, qo, list)).toBe(want.length);
          expect(sorted(list)).toEqual(want);
        }
      }
    });
  }

  it('puts only mutually close points in one cell and lists nearby cells', () => {
    const x = uniform(2000, 2, 26, 0, 10);
    const r = 0.7;
    const g = Grid.build(x.data, x.rows, x.cols, r)!;
    for (let c = 0; c < g.cells; c++) {
      const s = g.cellStart[c]!;
      const e = g.cellStart[c + 1]!;
      for (let p = s; p < e; p++)
        for (let q = s; q < e; q++)
          expect(dist2(g.points, p * 2, g.points, q * 2, 2)).toBeLessThanOrEqual(r * r);
      const nb = Array.from(g.nbr.subarray(g.nbrStart[c]!, g.nbrStart[c + 1]!));
      expect(nb).toContain(c);
      for (const b of nb) {
        expect(Math.abs(g.cellX[b]! - g.cellX[c]!)).toBeLessThanOrEqual(2);
        expect(Math.abs(g.cellY[b]! - g.cellY[c]!)).toBeLessThanOrEqual(2);
      }
    }
    for (let i = 0; i < x.rows; i++) expect(g.index[g.cellStart[g.cellOf[i]!]!]).toBeLessThanOrEqual(i);
  });

  it('declines a grid with too many cells, and rejects bad arguments', () => {
    const x = new Float64Array([0, 0, 1e9, 1]);
    expect(Grid.build(x, 2, 2, 1e-3)).toBeNull();
    expect(() => Grid.build(new Float64Array(3), 1, 3, 1)).toThrow(/1 or 2 columns/);
    expect(() => Grid.build(x, 2, 2, 0)).toThrow(/radius/);
  });
});
