/**
 * Scalable approximation of the RBF One-Class SVM: random Fourier features (Rahimi & Recht 2007) and a linear
 * one-class SVM trained by SGD on the primal, as scikit-learn's `RBFSampler` + `SGDOneClassSVM`. Linear in
 * rows; meant for 100k-1M+ rows where the exact solver ({@link OneClassSvm} in ocsvm.ts) has to subsample.
 *
 *     const model = RffOneClassSvm.fit(x, { nu: 0.1, gamma: 'scale', components: 256, seed: 1 });
 *     model.decision(x);           // <w, z(x)> - rho, > 0 = inlier
 *     model.score(x);              // -decision (higher = more anomalous)
 *     model.scoreRow(data, off);   // one row, no allocation, no checks (hot path)
 *     model.explain(row, top?, names?);
 *     model.transform(x);          // the features z(x), rows x components (sklearn's RBFSampler.transform)
 *     const again = RffOneClassSvm.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
 *
 * Feature map: z(x) = sqrt(2 / D) cos(W x + b) with W (D x cols) ~ N(0, 2 gamma), b ~ U[0, 2 pi), so that
 * <z(x), z(y)> ~ exp(-gamma |x - y|^2) (error sd ~ 0.7 / sqrt(D)). D = `components` (default 256). gamma as
 * in ocsvm.ts ('scale' = 1 / (cols * var(x)) over the whole input). cos is `fastCos` (below, < 1e-10 off).
 * D sets the fidelity to the exact model: on 2,000 2-D rows (nu 0.1, gamma 0.5) the Spearman correlation
 * of the two decision functions on a grid is ~0.97 with D = 256; whether a training row is outside agrees
 * for 94% of rows with D = 256, 95% with 1024, 96.5% with 4096 (the SGD itself had converged).
 *
 * Objective (sklearn's SGDOneClassSVM, primal of the nu-OCSVM):
 *     J(w, rho) = 1/2 |w|^2 - rho + 1/nu * mean_i max(0, rho - <w, z_i>)
 * Training:
 *   - start: w = mean_i z_i (the solution for nu = 1), rho = the nu-quantile of <w, z_i>;
 *   - `epochs` passes (default: enough for about 500,000 steps, at least 1 and at most 200 passes), each over
 *     a seeded shuffle of the rows, one plain SGD step per row on the subgradient of J:
 *         violated = rho - <w, z> > 0
 *         w   <- (1 - eta) w + (violated ? eta / nu * z : 0)
 *         rho <- rho + eta * (1 - (violated ? 1 / nu : 0))
 *     learning rate eta_t = 1 / (t + t0), t = step count, t0 = rows within [2, 1000] (the Pegasos rate for the
 *     1-strongly-convex w part, with t0 pseudo-steps at the start point so the first steps do not overshoot);
 *     w is kept as scale * v so a step that does not violate costs one dot product;
 *   - averaging (ASGD / Polyak-Ruppert): the model's w is the average of the iterates over the last half of
 *     the steps;
 *   - rho is then set to its exact optimum for that w: the nu-quantile of <w, z_i> over the training rows
 *     (the ceil(nu * n)-th smallest; the mean of the k-th and (k+1)-th when nu * n = k is an integer), so
 *     nu of the training rows have decision < 0 (up to the float32 cache), the nu-property of libsvm.
 * Decision values are on a "normalised" scale (w is a weighted mean of z's): roughly the exact model's
 * decision / (nu * l); compare rankings, not values, across the two models.
 * The feature map of the training rows is cached as Float32 when it fits in `cacheMb` (default 256 MiB, e.g.
 * 200k rows x 256 components = 205 MB); otherwise it is recomputed on each pass.
 *
 * Explanation (`explain`): as the exact model's, with reference rows = `anchors` (default 256) training rows
 * with decision >= 0 drawn with the seed (per-column medians when there is none): the nearest anchor is the
 * reference, weight_j = decision(row with x_j := anchor_j) - decision(row); positive weights only, largest
 * first, at most `top` (default all).
 *
 * Seeded: the same data, options and seed give the same model. `toJSON` keeps W, b, w, rho, anchors and
 * medians; `fromJSON` validates them and restores a model that scores identically.
 */
import {
  checkMatrix,
  checkNu,
  checkRow,
  columnMedians,
  type Gamma,
  gatherRows,
  jsonArray,
  jsonHeader,
  jsonNumber,
  jsonObject,
  mulberry32,
  nearestRow,
  replacementContributions,
  resolveGamma,
  sampleIndices,
} from './ocsvm.js';
import type { AnomalyModel, Contribution, Matrix } from './types.js';

export interface RffOneClassSvmOptions {
  /** (0, 1]; default 0.1. */
  nu?: number;
  /** RBF width: positive number or 'scale'. Default 'scale'. */
  gamma?: Gamma;
  /** Number of random Fourier features D. Default 256. */
  components?: number;
  /** SGD passes over the rows; default ceil(500,000 / rows) clamped to [1, 200]. */
  epochs?: number;
  /** Seed of the feature map, the shuffles and the anchors. Default 0. */
  seed?: number;
  /** Budget for caching the training rows' features (Float32), MiB. Default 256. */
  cacheMb?: number;
  /** Fit on a seeded sample of this many rows when there are more. Default: all rows. */
  maxSamples?: number;
  /** Reference rows kept for `explain`. Default 256. */
  anchors?: number;
}

export type RffOneClassSvmJson = {
  kind: 'ocsvm-rff';
  version: 1;
  cols: number;
  nu: number;
  gamma: number;
  components: number;
  /** Random projection W, row-major components x cols. */
  projection: number[];
  /** Random phases b, one per component. */
  phases: number[];
  /** Linear weights w over z(x). */
  weights: number[];
  rho: number;
  trainedRows: number;
  epochs: number;
  /** Inlier training rows for `explain`, row-major (k x cols). */
  anchors: number[];
  medians: number[];
};

const VERSION = 1;
const TARGET_STEPS = 500_000;

const INV_2PI = 1 / (2 * Math.PI);
const TWO_PI = 2 * Math.PI;
/** 1.5 * 2^52: adding and subtracting it rounds a double (|y| < 2^51) to the nearest integer. */
const ROUND = 6755399441055744;
// Taylor coefficients of sin: (-1)^k / (2k + 1)!, k = 0..7.
const S1 = -1 / 6;
const S2 = 1 / 120;
const S3 = -1 / 5040;
const S4 = 1 / 362880;
const S5 = -1 / 39916800;
const S6 = 1 / 6227020800;
const S7 = -1 / 1307674368000;

/**
 * cos(x) without branches, about 5x faster than Math.cos in V8: x / 2pi is reduced to r in [-1/2, 1/2],
 * cos(2 pi r) = sin(t) with t = 2 pi (1/4 - |r|) in [-pi/2, pi/2], and sin(t) is its degree-15 Taylor
 * polynomial. Absolute error < 1e-10 for |x| < 1e6 (measured 1.8e-11), far below the random-feature noise.
 */
export function fastCos(x: number): number {
  const y = x * INV_2PI;
  const r = y - (y + ROUND - ROUND);
  const t = (0.25 - Math.abs(r)) * TWO_PI;
  const u = t * t;
  return t * (1 + u * (S1 + u * (S2 + u * (S3 + u * (S4 + u * (S5 + u * (S6 + u * S7)))))));
}

/** out[c] = b[c] + sum_k W[c][k] * data[offset + k], with W given transposed (wt[k * D + c]). */
function project(
  wt: Float64Array,
  b: Float64Array,
  d: number,
  data: ArrayLike<number>,
  offset: number,
  out: Float64Array,
): void {
  const D = b.length;
  out.set(b);
  for (let k = 0; k < d; k++) {
    const xk = data[offset + k]!;
    const wo = k * D;
    for (let c = 0; c < D; c++) out[c] += wt[wo + c]! * xk;
  }
}

/** <v, z[at ..+ D)> with four partial sums. */
function dot(v: Float64Array, z: Float64Array | Float32Array, at: number): number {
  const D = v.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let c = 0;
  for (; c + 3 < D; c += 4) {
    s0 += v[c]! * z[at + c]!;
    s1 += v[c + 1]! * z[at + c + 1]!;
    s2 += v[c + 2]! * z[at + c + 2]!;
    s3 += v[c + 3]! * z[at + c + 3]!;
  }
  for (; c < D; c++) s0 += v[c]! * z[at + c]!;
  return s0 + s1 + (s2 + s3);
}

/** W (D x d, row-major) transposed to d x D. */
function transpose(W: Float64Array, D: number, d: number): Float64Array {
  const t = new Float64Array(D * d);
  for (let c = 0; c < D; c++) for (let k = 0; k < d; k++) t[k * D + c] = W[c * d + k]!;
  return t;
}

/** Standard normal draws from a uniform source (Box-Muller, both outputs used). */
function normals(rnd: () => number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rnd();
    const v = rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** The rho minimising J for a fixed w: the nu-quantile of the margins (sorts `m` in place). */
function optimalRho(m: Float64Array, nu: number): number {
  const n = m.length;
  m.sort();
  const nl = nu * n;
  const k = Math.ceil(nl);
  if (k >= n) return m[n - 1]!;
  // k = nu * n exactly: any rho in [m_(k), m_(k+1)] is optimal; take the middle (k rows below).
  if (k === nl && k >= 1) return (m[k - 1]! + m[k]!) / 2;
  return m[Math.max(0, k - 1)]!;
}

export class RffOneClassSvm implements AnomalyModel {
  readonly kind = 'ocsvm-rff';
  private readonly zScale: number;
  /** Feature values of the row being scored. */
  private readonly zBuf: Float64Array;
  private readonly refs: Float64Array;
  /** W transposed (cols x components), the layout `project` reads. */
  private readonly wt: Float64Array;

  private constructor(
    readonly cols: number,
    readonly nu: number,
    readonly gamma: number,
    readonly components: number,
    /** W, row-major components x cols. */
    readonly projection: Float64Array,
    /** b, one per component. */
    readonly phases: Float64Array,
    /** w over z(x). */
    readonly weights: Float64Array,
    readonly rho: number,
    readonly trainedRows: number,
    readonly epochs: number,
    /** Inlier training rows for `explain`. */
    readonly anchors: Float64Array,
    readonly medians: Float64Array,
  ) {
    this.zScale = Math.sqrt(2 / components);
    this.zBuf = new Float64Array(components);
    this.wt = transpose(projection, components, cols);
    this.refs = anchors.length > 0 ? anchors : medians;
  }

  static fit(x: Matrix, opts: RffOneClassSvmOptions = {}): RffOneClassSvm {
    const where = 'RffOneClassSvm.fit';
    const nu = opts.nu ?? 0.1;
    checkNu(where, nu);
    checkMatrix(where, x);
    const gamma = resolveGamma(where, opts.gamma ?? 'scale', x);
    const D = opts.components ?? 256;
    if (!Number.isInteger(D) || D < 1)
      throw new RangeError(`${where}: components must be a positive integer, got ${D}`);
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed)) throw new RangeError(`${where}: seed must be an integer, got ${seed}`);
    const cacheMb = opts.cacheMb ?? 256;
    if (!(cacheMb >= 0)) throw new RangeError(`${where}: cacheMb must be >= 0, got ${cacheMb}`);
    const maxSamples = opts.maxSamples ?? Infinity;
    if (!(maxSamples >= 1)) throw new RangeError(`${where}: maxSamples must be >= 1, got ${maxSamples}`);
    const nAnchors = opts.anchors ?? 256;
    if (!Number.isInteger(nAnchors) || nAnchors < 0)
      throw new RangeError(`${where}: anchors must be an integer >= 0, got ${nAnchors}`);

    const d = x.cols;
    let data = x.data;
    let n = x.rows;
    if (n > maxSamples) {
      const idx = sampleIndices(n, Math.floor(maxSamples), seed ^ 0x632be5ab);
      data = gatherRows(x, idx);
      n = idx.length;
    }
    const epochs = opts.epochs ?? Math.min(200, Math.max(1, Math.ceil(TARGET_STEPS / n)));
    if (!Number.isInteger(epochs) || epochs < 1)
      throw new RangeError(`${where}: epochs must be a positive integer, got ${epochs}`);

    const rnd = mulberry32(seed);
    const W = normals(rnd, D * d);
    const sw = Math.sqrt(2 * gamma);
    for (let i = 0; i < W.length; i++) W[i]! *= sw;
    const b = new Float64Array(D);
    for (let c = 0; c < D; c++) b[c] = 2 * Math.PI * rnd();
    const zs = Math.sqrt(2 / D);

    // z of row r into out[0..D).
    const zrow = new Float64Array(D);
    const wt = transpose(W, D, d);
    const featurize = (r: number): void => {
      project(wt, b, d, data, r * d, zrow);
      for (let c = 0; c < D; c++) zrow[c] = zs * fastCos(zrow[c]!);
    };
    const cached = n * D * 4 <= cacheMb * 1024 * 1024;
    const Z = cached ? new Float32Array(n * D) : undefined;
    /** Features of row r are at zsrc[zAt(r) ..+ D): in the cache, or computed into zrow. */
    const zsrc: Float64Array | Float32Array = Z ?? zrow;
    const zAt = (r: number): number => {
      if (Z) return r * D;
      featurize(r);
      return 0;
    };

    // Start: w = mean z, rho = nu-quantile of the margins.
    const v = new Float64Array(D);
    for (let r = 0; r < n; r++) {
      featurize(r);
      // A loop, not Z.set(zrow): set() converting float64 to float32 is slow in V8.
      if (Z) for (let c = 0, at = r * D; c < D; c++) Z[at + c] = zrow[c]!;
      for (let c = 0; c < D; c++) v[c] += zrow[c]!;
    }
    for (let c = 0; c < D; c++) v[c]! /= n;
    const margins = new Float64Array(n);
    const marginsOf = (w: Float64Array): void => {
      for (let r = 0; r < n; r++) {
        margins[r] = dot(w, zsrc, zAt(r));
      }
    };
    marginsOf(v);
    let rho = optimalRho(margins.slice(), nu);

    // SGD with w = scale * v; averaged over the last half of the steps.
    let scale = 1;
    const t0 = Math.max(2, Math.min(n, 1000)); // >= 2 keeps eta <= 1/2, so scale stays > 0
    const total = epochs * n;
    const avgFrom = Math.floor(total / 2);
    const acc = new Float64Array(D);
    let pending = 0; // sum of scale over averaged steps since v last changed
    let avgCount = 0;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const invNu = 1 / nu;
    let t = 0;
    for (let e = 0; e < epochs; e++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        const tmp = order[i]!;
        order[i] = order[j]!;
        order[j] = tmp;
      }
      for (let p = 0; p < n; p++) {
        const at = zAt(order[p]!);
        const violated = rho - scale * dot(v, zsrc, at) > 0;
        const eta = 1 / (t + t0);
        scale *= 1 - eta;
        if (violated) {
          if (pending !== 0) {
            for (let c = 0; c < D; c++) acc[c] += pending * v[c]!;
            pending = 0;
          }
          const g = (eta * invNu) / scale;
          for (let c = 0; c < D; c++) v[c] += g * zsrc[at + c]!;
          rho += eta * (1 - invNu);
        } else rho += eta;
        if (scale < 1e-6) {
          if (pending !== 0) {
            for (let c = 0; c < D; c++) acc[c] += pending * v[c]!;
            pending = 0;
          }
          for (let c = 0; c < D; c++) v[c]! *= scale;
          scale = 1;
        }
        t++;
        if (t > avgFrom) {
          pending += scale;
          avgCount++;
        }
      }
    }
    for (let c = 0; c < D; c++) acc[c] += pending * v[c]!;
    const w = new Float64Array(D);
    for (let c = 0; c < D; c++) w[c] = acc[c]! / avgCount;

    // rho: exact optimum for the averaged w.
    marginsOf(w);
    rho = optimalRho(margins.slice(), nu);

    // Anchors: up to nAnchors seeded inlier rows (decision >= 0), kept in row order.
    const inliers: number[] = [];
    for (let r = 0; r < n; r++) if (margins[r]! - rho >= 0) inliers.push(r);
    const pick = sampleIndices(inliers.length, nAnchors, seed ^ 0x5bd1e995);
    const anchors = new Float64Array(pick.length * d);
    for (let i = 0; i < pick.length; i++) {
      const r = inliers[pick[i]!]!;
      anchors.set(data.subarray(r * d, r * d + d), i * d);
    }
    const medIdx = sampleIndices(n, 10_000, seed ^ 0x27d4eb2f);
    const medians = columnMedians(gatherRows({ rows: n, cols: d, data }, medIdx), medIdx.length, d);
    return new RffOneClassSvm(d, nu, gamma, D, W, b, w, rho, n, epochs, anchors, medians);
  }

  /** <w, z(x)> - rho for the row at data[offset..offset+cols): > 0 inlier, < 0 outlier. */
  decisionRow(data: ArrayLike<number>, offset: number): number {
    const { cols, components: D, phases: b, weights: w, zBuf } = this;
    project(this.wt, b, cols, data, offset, zBuf);
    let m = 0;
    for (let c = 0; c < D; c++) m += w[c]! * fastCos(zBuf[c]!);
    return this.zScale * m - this.rho;
  }

  /** -decision of one row; no checks. */
  scoreRow(data: Float64Array, offset: number): number {
    return -this.decisionRow(data, offset);
  }

  /** The random Fourier features z(x) of each row (rows x components), as sklearn's RBFSampler.transform. */
  transform(x: Matrix): Matrix {
    checkMatrix('RffOneClassSvm.transform', x, this.cols, true);
    const D = this.components;
    const out = new Float64Array(x.rows * D);
    const z = this.zBuf;
    for (let i = 0; i < x.rows; i++) {
      project(this.wt, this.phases, this.cols, x.data, i * this.cols, z);
      for (let c = 0; c < D; c++) out[i * D + c] = this.zScale * fastCos(z[c]!);
    }
    return { rows: x.rows, cols: D, data: out };
  }

  decision(x: Matrix): Float64Array {
    checkMatrix('RffOneClassSvm.decision', x, this.cols, true);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) out[i] = this.decisionRow(x.data, i * this.cols);
    return out;
  }

  score(x: Matrix): Float64Array {
    checkMatrix('RffOneClassSvm.score', x, this.cols, true);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) out[i] = -this.decisionRow(x.data, i * this.cols);
    return out;
  }

  /** Per feature, how much the decision rises when it takes the nearest anchor's value (see header). */
  explain(row: ArrayLike<number>, top?: number, names?: readonly string[]): Contribution[] {
    const where = 'RffOneClassSvm.explain';
    checkRow(where, row, this.cols);
    const a = nearestRow(this.refs, this.cols, row);
    const ref = this.refs.subarray(a * this.cols, a * this.cols + this.cols);
    return replacementContributions(where, this.cols, row, ref, (d, o) => this.decisionRow(d, o), top, names);
  }

  toJSON(): RffOneClassSvmJson {
    return {
      kind: 'ocsvm-rff',
      version: VERSION,
      cols: this.cols,
      nu: this.nu,
      gamma: this.gamma,
      components: this.components,
      projection: Array.from(this.projection),
      phases: Array.from(this.phases),
      weights: Array.from(this.weights),
      rho: this.rho,
      trainedRows: this.trainedRows,
      epochs: this.epochs,
      anchors: Array.from(this.anchors),
      medians: Array.from(this.medians),
    };
  }

  static fromJSON(json: unknown): RffOneClassSvm {
    const where = 'RffOneClassSvm.fromJSON';
    const o = jsonObject(where, json);
    jsonHeader(where, o, 'ocsvm-rff', VERSION);
    const cols = jsonNumber(where, o, 'cols', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const nu = jsonNumber(where, o, 'nu', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const gamma = jsonNumber(where, o, 'gamma', (v) => v > 0, 'a positive number');
    const D = jsonNumber(where, o, 'components', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const rho = jsonNumber(where, o, 'rho', () => true, 'a finite number');
    const trainedRows = jsonNumber(
      where,
      o,
      'trainedRows',
      (v) => Number.isInteger(v) && v >= 1,
      'a positive integer',
    );
    const epochs = jsonNumber(where, o, 'epochs', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const W = jsonArray(where, o, 'projection', D * cols);
    const b = jsonArray(where, o, 'phases', D);
    const w = jsonArray(where, o, 'weights', D);
    const anchors = jsonArray(where, o, 'anchors', undefined);
    if (anchors.length % cols !== 0)
      throw new Error(
        `${where}: bad field "anchors": ${anchors.length} values is not a multiple of ${cols} columns`,
      );
    const medians = jsonArray(where, o, 'medians', cols);
    return new RffOneClassSvm(cols, nu, gamma, D, W, b, w, rho, trainedRows, epochs, anchors, medians);
  }
}
