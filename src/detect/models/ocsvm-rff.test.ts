import { describe, expect, it } from 'vitest';
import { rocAuc } from './metrics.js';
import { mulberry32, OneClassSvm } from './ocsvm.js';
import { fastCos, RffOneClassSvm } from './ocsvm-rff.js';
import { type Matrix, matrix } from './types.js';

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

/** Spearman's rank correlation (average ranks for ties). */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>): Float64Array => {
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((i, j) => v[i]! - v[j]!);
    const r = new Float64Array(v.length);
    for (let s = 0; s < idx.length; ) {
      let e = s;
      while (e + 1 < idx.length && v[idx[e + 1]!] === v[idx[s]!]) e++;
      for (let k = s; k <= e; k++) r[idx[k]!] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = ra.length;
  const mean = (n - 1) / 2;
  let c = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    c += (ra[i]! - mean) * (rb[i]! - mean);
    va += (ra[i]! - mean) ** 2;
    vb += (rb[i]! - mean) ** 2;
  }
  return c / Math.sqrt(va * vb);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('RffOneClassSvm', () => {
  it('ranks points like the exact One-Class SVM (Spearman > 0.9 on a grid)', () => {
    const x = gaussian(2000, 2, 31, 3);
    const exact = OneClassSvm.fit(x, { nu: 0.1, gamma: 0.5 });
    const rff = RffOneClassSvm.fit(x, { nu: 0.1, gamma: 0.5, seed: 1 });
    expect(rff.gamma).toBe(0.5);
    const grid = matrix(31 * 31, 2);
    for (let i = 0; i < 31; i++)
      for (let j = 0; j < 31; j++) {
        grid.data[(i * 31 + j) * 2] = -3 + (9 * i) / 30;
        grid.data[(i * 31 + j) * 2 + 1] = -3 + (9 * j) / 30;
      }
    const rho = spearman(exact.decision(grid), rff.decision(grid));
    expect(rho).toBeGreaterThan(0.9);
    // On the training rows the inliers' order is mostly noise (the exact decision is flat inside),
    // but the rows the exact model puts outside should mostly come first and mostly be outside here too. The
    // gap is the feature approximation, not the SGD (measured: AUC 0.90 with D = 256, 0.98 with D = 4096).
    const exactOut = Array.from(exact.decision(x), (v) => (v < 0 ? 1 : 0));
    expect(rocAuc(rff.score(x), exactOut)).toBeGreaterThan(0.85);
    const rffDec = rff.decision(x);
    let agree = 0;
    for (let i = 0; i < x.rows; i++) if (rffDec[i]! < 0 === (exactOut[i] === 1)) agree++;
    expect(agree / x.rows).toBeGreaterThan(0.9);
  });

  it('ranks planted outliers first (ROC-AUC > 0.95)', () => {
    const { x, labels } = planted(3000, 6, 60, 41);
    const model = RffOneClassSvm.fit(x, { nu: 0.05, seed: 2 });
    expect(rocAuc(model.score(x), labels)).toBeGreaterThan(0.95);
    const test = planted(1000, 6, 50, 42);
    expect(rocAuc(model.score(test.x), test.labels)).toBeGreaterThan(0.95);
  });

  it('puts about nu of the training rows outside (decision < 0)', () => {
    const x = gaussian(1500, 3, 7, 2);
    for (const nu of [0.05, 0.2]) {
      const model = RffOneClassSvm.fit(x, { nu, seed: 3 });
      let outside = 0;
      for (const v of model.decision(x)) if (v < 0) outside++;
      expect(Math.abs(outside / x.rows - nu)).toBeLessThanOrEqual(0.005);
    }
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const x = gaussian(1000, 3, 5, 2);
    const a = RffOneClassSvm.fit(x, { nu: 0.1, components: 128, seed: 9 });
    const b = RffOneClassSvm.fit(x, { nu: 0.1, components: 128, seed: 9 });
    const c = RffOneClassSvm.fit(x, { nu: 0.1, components: 128, seed: 10 });
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(b.score(x)).toEqual(a.score(x));
    expect(c.toJSON().weights).not.toEqual(a.toJSON().weights);
    expect(a.components).toBe(128);
    expect(a.weights).toHaveLength(128);
  });

  it('trains the same without the feature cache (up to float32 rounding)', () => {
    const x = gaussian(1200, 3, 6, 2);
    const cached = RffOneClassSvm.fit(x, { nu: 0.1, seed: 4 });
    const streamed = RffOneClassSvm.fit(x, { nu: 0.1, seed: 4, cacheMb: 0 });
    let scale = 0;
    const d = cached.decision(x);
    for (const v of d) scale = Math.max(scale, Math.abs(v));
    expect(maxAbsDiff(streamed.decision(x), d)).toBeLessThan(1e-6 * scale);
  });

  it('samples rows with the seed when asked', () => {
    const x = gaussian(3000, 2, 12, 2);
    const a = RffOneClassSvm.fit(x, { nu: 0.1, maxSamples: 500, seed: 1, epochs: 3 });
    expect(a.trainedRows).toBe(500);
    expect(a.epochs).toBe(3);
    expect(RffOneClassSvm.fit(x, { nu: 0.1, maxSamples: 500, seed: 1, epochs: 3 }).toJSON()).toEqual(
      a.toJSON(),
    );
    expect(RffOneClassSvm.fit(x, { nu: 0.1 }).trainedRows).toBe(3000);
  });

  it('restores an identical model from JSON', () => {
    const x = gaussian(800, 3, 19, 2);
    const model = RffOneClassSvm.fit(x, { nu: 0.1, seed: 5 });
    const back = RffOneClassSvm.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    expect(back.kind).toBe('ocsvm-rff');
    expect(back.toJSON()).toEqual(model.toJSON());
    expect(back.score(x)).toEqual(model.score(x));
    const row = [0, 5, 0];
    expect(back.explain(row)).toEqual(model.explain(row));
    expect(RffOneClassSvm.fromJSON(model.toJSON()).score(x)).toEqual(model.score(x));
  });

  it('names the bad field when restoring from JSON', () => {
    const x = gaussian(200, 2, 3);
    const good = RffOneClassSvm.fit(x, { nu: 0.2, components: 16 }).toJSON() as unknown as Record<
      string,
      unknown
    >;
    const bad = (patch: Record<string, unknown>) => () => RffOneClassSvm.fromJSON({ ...good, ...patch });
    expect(() => RffOneClassSvm.fromJSON('x')).toThrow(/expected a JSON object/);
    expect(bad({ kind: 'ocsvm' })).toThrow(/"kind"/);
    expect(bad({ version: 0 })).toThrow(/"version"/);
    expect(bad({ cols: -1 })).toThrow(/"cols"/);
    expect(bad({ nu: 0 })).toThrow(/"nu"/);
    expect(bad({ gamma: 'scale' })).toThrow(/"gamma"/);
    expect(bad({ components: 15.5 })).toThrow(/"components"/);
    expect(bad({ rho: Number.NaN })).toThrow(/"rho"/);
    expect(bad({ epochs: 0 })).toThrow(/"epochs"/);
    expect(bad({ projection: [1, 2] })).toThrow(/"projection"/);
    expect(bad({ phases: (good.phases as number[]).slice(1) })).toThrow(/"phases"/);
    expect(bad({ weights: (good.weights as number[]).map(() => null) })).toThrow(/"weights"/);
    expect(bad({ anchors: [1, 2, 3] })).toThrow(/"anchors"/);
    expect(bad({ medians: {} })).toThrow(/"medians"/);
  });

  it('rejects bad input with clear errors', () => {
    const x = gaussian(50, 2, 1);
    const nan = matrix(2, 2, Float64Array.from([0, 1, Number.NaN, 3]));
    expect(() => RffOneClassSvm.fit(nan)).toThrow(/non-finite value NaN at row 1, column 0/);
    expect(() => RffOneClassSvm.fit(matrix(0, 3))).toThrow(/empty input/);
    for (const nu of [0, 2]) expect(() => RffOneClassSvm.fit(x, { nu })).toThrow(/nu must be in/);
    expect(() => RffOneClassSvm.fit(x, { gamma: -2 })).toThrow(/gamma/);
    expect(() => RffOneClassSvm.fit(x, { components: 0 })).toThrow(/components/);
    expect(() => RffOneClassSvm.fit(x, { epochs: 0 })).toThrow(/epochs/);
    expect(() => RffOneClassSvm.fit(x, { anchors: -1 })).toThrow(/anchors/);
    const model = RffOneClassSvm.fit(x, { components: 32 });
    expect(() => model.score(gaussian(3, 1, 2))).toThrow(/expected 2 columns, got 1/);
    expect(() => model.decision(nan)).toThrow(/non-finite/);
    expect(() => model.explain([1, 2, 3])).toThrow(/expected a row of 2 values/);
  });

  it('explains by the feature whose replacement raises the decision most', () => {
    const x = gaussian(2000, 4, 23);
    const model = RffOneClassSvm.fit(x, { nu: 0.1, seed: 6 });
    expect(model.anchors.length).toBe(256 * 4);
    const row = [0.1, -5.5, 0.2, 0];
    const all = model.explain(row, undefined, ['a', 'b', 'c', 'd']);
    expect(all[0]).toMatchObject({ index: 1, name: 'b', value: -5.5 });
    for (let k = 1; k < all.length; k++) expect(all[k]!.weight).toBeLessThanOrEqual(all[k - 1]!.weight);
    for (const c of all) expect(c.weight).toBeGreaterThan(0);
    expect(model.explain(row, 1)).toHaveLength(1);
    const noAnchors = RffOneClassSvm.fit(x, { nu: 0.1, seed: 6, anchors: 0 });
    expect(noAnchors.explain(row, 1)[0]!.index).toBe(1); // falls back to the medians
  });

  it('fits one or two rows', () => {
    for (const rows of [1, 2]) {
      const x = gaussian(rows, 3, 60 + rows);
      const model = RffOneClassSvm.fit(x, { nu: 0.5, components: 32 });
      for (const v of model.score(x)) expect(Number.isFinite(v)).toBe(true);
      expect(model.scoreRow(Float64Array.from([9, 9, 9]), 0)).toBeGreaterThan(model.score(x)[0]!);
    }
  });

  it('scores one row in place, the same as the matrix', () => {
    const x = gaussian(300, 3, 17, 2);
    const model = RffOneClassSvm.fit(x, { nu: 0.1, components: 64 });
    const s = model.score(x);
    const padded = new Float64Array(x.data.length + 2);
    padded.set(x.data, 2);
    for (let i = 0; i < x.rows; i += 13) expect(model.scoreRow(padded, 2 + i * 3)).toBe(s[i]);
  });
});

describe('RffOneClassSvm.transform', () => {
  it('approximates the RBF kernel: <z(x), z(y)> ~ exp(-gamma |x - y|^2)', () => {
    const x = gaussian(40, 3, 51);
    const gamma = 0.4;
    const model = RffOneClassSvm.fit(x, { gamma, components: 4096, epochs: 1, seed: 7 });
    const z = model.transform(x);
    expect(z.cols).toBe(4096);
    let worst = 0;
    let bias = 0;
    let pairs = 0;
    for (let i = 0; i < x.rows; i++)
      for (let j = i; j < x.rows; j++) {
        let d2 = 0;
        for (let k = 0; k < 3; k++) d2 += (x.data[i * 3 + k]! - x.data[j * 3 + k]!) ** 2;
        let dot = 0;
        for (let c = 0; c < z.cols; c++) dot += z.data[i * z.cols + c]! * z.data[j * z.cols + c]!;
        const err = dot - Math.exp(-gamma * d2);
        worst = Math.max(worst, Math.abs(err));
        bias += err;
        pairs++;
      }
    // Each inner product is a mean of 4096 bounded terms: error sd ~ 0.7 / sqrt(4096) ~ 0.011.
    expect(worst).toBeLessThan(0.06);
    expect(Math.abs(bias / pairs)).toBeLessThan(0.01);
    // decision = <w, z(x)> - rho
    const d = model.decision(x);
    for (let i = 0; i < x.rows; i += 7) {
      let m = 0;
      for (let c = 0; c < z.cols; c++) m += model.weights[c]! * z.data[i * z.cols + c]!;
      expect(m - model.rho).toBeCloseTo(d[i]!, 10);
    }
  });
});

describe('fastCos', () => {
  it('is within 1e-10 of Math.cos', () => {
    let worst = 0;
    for (let x = -2000; x <= 2000; x += 0.0173) worst = Math.max(worst, Math.abs(fastCos(x) - Math.cos(x)));
    for (const x of [0, Math.PI, -Math.PI, Math.PI / 2, 1e5 + 0.25, -123456.789])
      worst = Math.max(worst, Math.abs(fastCos(x) - Math.cos(x)));
    expect(worst).toBeLessThan(1e-10);
    expect(Number.isNaN(fastCos(Number.NaN))).toBe(true);
  });
});
