import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rocAuc } from './metrics.js';
import { mulberry32, OneClassSvm } from './ocsvm.js';
import { fromRows, type Matrix, matrix } from './types.js';

/** testdata/models/ocsvm-<name>.json, written by testdata/models/ocsvm-golden.py (scikit-learn). */
interface Golden {
  nu: number;
  gamma: number | 'scale';
  gammaValue: number;
  data: number[][];
  query: number[][];
  decisionTrain: number[];
  decisionQuery: number[];
  nSupport: number;
  rho: number;
  dualCoefSum: number;
  nIter: number;
}

function golden(name: string): Golden {
  const url = new URL(`../../../testdata/models/ocsvm-${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Golden;
}

/** Seeded rows of N(0, 1) columns; every third row is shifted by `shift` in all columns (2nd cluster). */
function gaussian(rows: number, cols: number, seed: number, shift = 0): Matrix {
  const rnd = mulberry32(seed);
  const x = matrix(rows, cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const g = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      x.data[i * cols + j] = g + (i % 3 === 0 ? shift : 0);
    }
  return x;
}

/** Gaussian rows with `outliers` of them (labelled 1) moved far out in one random feature. */
function planted(
  rows: number,
  cols: number,
  outliers: number,
  seed: number,
): { x: Matrix; labels: Uint8Array } {
  const x = gaussian(rows, cols, seed);
  const rnd = mulberry32(seed + 1);
  const labels = new Uint8Array(rows);
  for (let k = 0; k < outliers; k++) {
    let i = Math.floor(rnd() * rows);
    while (labels[i]) i = (i + 1) % rows;
    labels[i] = 1;
    const j = Math.floor(rnd() * cols);
    x.data[i * cols + j] += (rnd() < 0.5 ? -1 : 1) * (5 + 2 * rnd());
  }
  return { x, labels };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('OneClassSvm against scikit-learn', () => {
  it.each(['gamma05', 'scale', 'nu03', 'shrink'])('matches OneClassSVM on the %s fixture', (name) => {
    const g = golden(name);
    const x = fromRows(g.data);
    const model = OneClassSvm.fit(x, { nu: g.nu, gamma: g.gamma });
    expect(Math.abs(model.gamma - g.gammaValue)).toBeLessThan(1e-12 * g.gammaValue);
    // Within 1e-3 of the decision scale (two eps-optimal solutions can differ by that); in fact the solver
    // takes sklearn's steps and agrees to ~1e-14.
    const tol = 1e-3 * Math.max(Math.abs(g.rho), maxAbs(g.decisionTrain));
    expect(maxAbsDiff(model.decision(x), g.decisionTrain)).toBeLessThan(tol);
    expect(maxAbsDiff(model.decision(fromRows(g.query)), g.decisionQuery)).toBeLessThan(tol);
    expect(Math.abs(model.rho - g.rho)).toBeLessThan(tol);
    expect(Math.abs(model.nSupport - g.nSupport)).toBeLessThanOrEqual(Math.max(2, 0.01 * g.nSupport));
    expect(Math.abs(model.iterations - g.nIter)).toBeLessThanOrEqual(0.05 * g.nIter);
    let sum = 0;
    for (const c of model.coef) sum += c;
    expect(sum).toBeCloseTo(g.dualCoefSum, 9);
    // score is sklearn's decision_function negated.
    const score = model.score(x);
    for (let i = 0; i < x.rows; i++) expect(score[i]).toBe(-model.decisionRow(x.data, i * x.cols));
  });

  // Stricter than the contract above: with sklearn's start and libsvm's float32 kernel cache the solver takes
  // the very same steps. If this alone fails (e.g. a JS engine whose Math.exp differs in the last bit flips a
  // float32 rounding), the path diverged but the model is still as good: the test above is the contract.
  it.each(['gamma05', 'scale', 'nu03', 'shrink'])(
    'takes the same SMO steps as scikit-learn on %s',
    (name) => {
      const g = golden(name);
      const x = fromRows(g.data);
      const model = OneClassSvm.fit(x, { nu: g.nu, gamma: g.gamma });
      expect(model.iterations).toBe(g.nIter);
      expect(model.nSupport).toBe(g.nSupport);
      const scale = Math.max(Math.abs(g.rho), maxAbs(g.decisionTrain));
      expect(maxAbsDiff(model.decision(x), g.decisionTrain)).toBeLessThan(1e-9 * scale);
    },
  );
});

describe('OneClassSvm', () => {
  it('has the nu-property: #bounded / l <= nu <= #SV / l, and about nu of the rows fall outside', () => {
    const x = gaussian(1000, 3, 11, 3);
    for (const nu of [0.05, 0.2, 0.5]) {
      const model = OneClassSvm.fit(x, { nu, gamma: 0.5 });
      const l = x.rows;
      expect(model.trainedRows).toBe(l);
      let sum = 0;
      for (const c of model.coef) {
        expect(c).toBeGreaterThan(0);
        expect(c).toBeLessThanOrEqual(1);
        sum += c;
      }
      expect(sum).toBeCloseTo(nu * l, 9);
      expect(model.nBounded / l).toBeLessThanOrEqual(nu);
      expect(model.nSupport / l).toBeGreaterThanOrEqual(nu);
      const dec = model.decision(x);
      let outside = 0;
      for (const v of dec) if (v < 0) outside++;
      const frac = outside / l;
      expect(frac).toBeGreaterThanOrEqual(model.nBounded / l - 0.005);
      expect(frac).toBeLessThanOrEqual(model.nSupport / l + 0.005);
      expect(Math.abs(frac - nu)).toBeLessThan(0.02);
    }
  });

  it('ranks planted outliers first (ROC-AUC > 0.95)', () => {
    const { x, labels } = planted(1500, 4, 40, 21);
    const model = OneClassSvm.fit(x, { nu: 0.05, gamma: 'scale' });
    const auc = rocAuc(model.score(x), labels);
    expect(auc).toBeGreaterThan(0.95);
    // Fresh data from the same distribution, scored by the fitted model.
    const test = planted(1000, 4, 50, 22);
    expect(rocAuc(model.score(test.x), test.labels)).toBeGreaterThan(0.95);
  });

  it('is deterministic, and samples rows with the seed', () => {
    const x = gaussian(3000, 3, 5, 2);
    const a = OneClassSvm.fit(x, { nu: 0.1, maxSamples: 700, seed: 1 });
    const b = OneClassSvm.fit(x, { nu: 0.1, maxSamples: 700, seed: 1 });
    const c = OneClassSvm.fit(x, { nu: 0.1, maxSamples: 700, seed: 2 });
    expect(a.trainedRows).toBe(700);
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(b.score(x)).toEqual(a.score(x));
    expect(c.toJSON().supportVectors).not.toEqual(a.toJSON().supportVectors);
    const all = OneClassSvm.fit(x, { nu: 0.1, maxSamples: 5000 });
    expect(all.trainedRows).toBe(3000);
  });

  it('gives the same model with a two-row cache, and within tolerance without shrinking', () => {
    const x = gaussian(1200, 2, 8, 3);
    const ref = OneClassSvm.fit(x, { nu: 0.3, gamma: 5 });
    expect(ref.iterations).toBeGreaterThan(1000); // so that shrinking and reconstruction ran
    const tiny = OneClassSvm.fit(x, { nu: 0.3, gamma: 5, cacheMb: 0.001 });
    expect(tiny.toJSON()).toEqual(ref.toJSON());
    const noShrink = OneClassSvm.fit(x, { nu: 0.3, gamma: 5, shrinking: false });
    const tol = 1e-3 * Math.max(Math.abs(ref.rho), maxAbs(ref.decision(x)));
    expect(maxAbsDiff(noShrink.decision(x), ref.decision(x))).toBeLessThan(tol);
  });

  it('restores an identical model from JSON', () => {
    const x = gaussian(600, 3, 9, 2);
    const model = OneClassSvm.fit(x, { nu: 0.1 });
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const back = OneClassSvm.fromJSON(json);
    expect(back.toJSON()).toEqual(model.toJSON());
    expect(back.score(x)).toEqual(model.score(x));
    expect(back.kind).toBe('ocsvm');
    expect(back.cols).toBe(3);
    const row = [4, 0, -1];
    expect(back.explain(row, 3, ['a', 'b', 'c'])).toEqual(model.explain(row, 3, ['a', 'b', 'c']));
    // Also straight from toJSON() without the string round trip.
    expect(OneClassSvm.fromJSON(model.toJSON()).score(x)).toEqual(model.score(x));
  });

  it('names the bad field when restoring from JSON', () => {
    const x = gaussian(200, 2, 3);
    const good = OneClassSvm.fit(x, { nu: 0.2, gamma: 1 }).toJSON() as unknown as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>) => () => OneClassSvm.fromJSON({ ...good, ...patch });
    expect(() => OneClassSvm.fromJSON(null)).toThrow(/expected a JSON object/);
    expect(bad({ kind: 'iforest' })).toThrow(/"kind"/);
    expect(bad({ version: 2 })).toThrow(/"version"/);
    expect(bad({ cols: 0 })).toThrow(/"cols"/);
    expect(bad({ nu: 1.5 })).toThrow(/"nu"/);
    expect(bad({ gamma: -1 })).toThrow(/"gamma"/);
    expect(bad({ rho: null })).toThrow(/"rho"/);
    expect(bad({ trainedRows: 2.5 })).toThrow(/"trainedRows"/);
    expect(bad({ iterations: undefined })).toThrow(/"iterations"/);
    expect(bad({ coef: [] })).toThrow(/"coef"/);
    expect(bad({ coef: (good.coef as number[]).map((c, i) => (i === 0 ? 1.5 : c)) })).toThrow(/"coef"/);
    expect(bad({ supportVectors: (good.supportVectors as number[]).slice(1) })).toThrow(/"supportVectors"/);
    expect(bad({ supportVectors: (good.supportVectors as number[]).map(() => 'x') })).toThrow(
      /"supportVectors"/,
    );
    expect(bad({ medians: [0] })).toThrow(/"medians"/);
  });

  it('rejects bad input with clear errors', () => {
    const x = gaussian(50, 2, 1);
    const nan = matrix(3, 2, Float64Array.from([0, 1, 2, Number.NaN, 4, 5]));
    expect(() => OneClassSvm.fit(nan)).toThrow(/non-finite value NaN at row 1, column 1/);
    expect(() => OneClassSvm.fit(matrix(2, 1, Float64Array.from([1, Infinity])))).toThrow(/non-finite/);
    expect(() => OneClassSvm.fit(matrix(0, 2))).toThrow(/empty input/);
    expect(() => OneClassSvm.fit(matrix(3, 0))).toThrow(/empty input/);
    expect(() => OneClassSvm.fit({ rows: 2, cols: 2, data: new Float64Array(3) })).toThrow(
      /3 values, expected 4/,
    );
    for (const nu of [0, -0.1, 1.01, Number.NaN])
      expect(() => OneClassSvm.fit(x, { nu })).toThrow(/nu must be in/);
    expect(() => OneClassSvm.fit(x, { gamma: 0 })).toThrow(/gamma/);
    expect(() => OneClassSvm.fit(x, { gamma: 'auto' as 'scale' })).toThrow(/gamma/);
    expect(() => OneClassSvm.fit(x, { tol: 0 })).toThrow(/tol/);
    expect(() => OneClassSvm.fit(x, { seed: 1.5 })).toThrow(/seed/);
    const model = OneClassSvm.fit(x, { nu: 0.2 });
    expect(() => model.score(gaussian(4, 3, 1))).toThrow(/expected 2 columns, got 3/);
    expect(() => model.decision(nan)).toThrow(/non-finite/);
    expect(model.score(matrix(0, 2))).toEqual(new Float64Array(0));
    expect(() => model.explain([1])).toThrow(/expected a row of 2 values/);
    expect(() => model.explain([1, Number.NaN])).toThrow(/non-finite value NaN at column 1/);
    expect(() => model.explain([1, 2], -1)).toThrow(/top/);
    expect(() => model.explain([1, 2], 2, ['a'])).toThrow(/names/);
  });

  it('fits nu = 1 with a finite rho (libsvm would give Infinity)', () => {
    const x = gaussian(100, 2, 4);
    const model = OneClassSvm.fit(x, { nu: 1, gamma: 0.5 });
    expect(model.nSupport).toBe(100);
    expect(model.nBounded).toBe(100);
    expect(Number.isFinite(model.rho)).toBe(true);
    const far = model.scoreRow(Float64Array.from([8, 8]), 0);
    const near = model.scoreRow(Float64Array.from([0, 0]), 0);
    expect(far).toBeGreaterThan(near);
  });

  it('explains by the feature whose replacement raises the decision most', () => {
    const x = gaussian(800, 4, 13);
    const model = OneClassSvm.fit(x, { nu: 0.1, gamma: 'scale' });
    const row = [0.2, -0.3, 6, 0.1];
    const all = model.explain(row, undefined, ['a', 'b', 'c', 'd']);
    expect(all.length).toBeGreaterThan(0);
    expect(all[0]).toMatchObject({ index: 2, name: 'c', value: 6 });
    for (let k = 0; k < all.length; k++) {
      expect(all[k]!.weight).toBeGreaterThan(0);
      if (k > 0) expect(all[k]!.weight).toBeLessThanOrEqual(all[k - 1]!.weight);
    }
    // The weight is the rise of the decision value when the feature takes a normal value.
    expect(all[0]!.weight).toBeGreaterThan(0.5 * model.scoreRow(Float64Array.from(row), 0));
    const one = model.explain(row, 1);
    expect(one).toHaveLength(1);
    expect(one[0]!.index).toBe(2);
    expect(one[0]!.name).toBeUndefined();
    expect(model.explain(row, 0)).toEqual([]);
    const two = model.explain([5, 0, -6, 0], 2);
    expect(two.map((c) => c.index).sort()).toEqual([0, 2]);
  });

  it('fits one or two rows', () => {
    for (const rows of [1, 2]) {
      const x = gaussian(rows, 3, 60 + rows);
      const model = OneClassSvm.fit(x, { nu: 0.5, gamma: 0.5 });
      for (const v of model.score(x)) expect(Number.isFinite(v)).toBe(true);
      expect(model.scoreRow(Float64Array.from([9, 9, 9]), 0)).toBeGreaterThan(model.score(x)[0]!);
    }
  });

  it('scores one row in place, the same as the matrix', () => {
    const x = gaussian(300, 3, 17, 2);
    const model = OneClassSvm.fit(x, { nu: 0.1 });
    const s = model.score(x);
    const d = model.decision(x);
    const padded = new Float64Array(x.data.length + 5);
    padded.set(x.data, 5);
    for (let i = 0; i < x.rows; i += 17) {
      expect(model.scoreRow(padded, 5 + i * 3)).toBe(s[i]);
      expect(d[i]).toBe(-s[i]!);
    }
  });
});
