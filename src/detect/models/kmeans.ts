/**
 * K-Means as an anomaly model.
 *
 * Fitting follows scikit-learn's `KMeans(init='k-means++', algorithm='lloyd')`:
 *   - greedy k-means++ seeding: the first centre is a uniformly random row; every further centre is the best
 *     (lowest total squared distance) of 2 + floor(ln k) candidates drawn with probability proportional to
 *     the squared distance to the nearest centre chosen so far;
 *   - Lloyd iterations: assign every row to its nearest centre, move each centre to its rows' mean; a centre
 *     left without rows is moved onto the row farthest from its own centre (as scikit-learn relocates empty
 *     clusters); stop when no assignment changes, or when the summed squared centre shift is at most
 *     tol * (mean per-column variance of the data), or after maxIter iterations; the final assignment and
 *     inertia are recomputed against the final centres;
 *   - nInit restarts (default 1, scikit-learn's 'auto' for k-means++) from one seeded stream, keeping the
 *     run with the lowest inertia (the first one on ties).
 *
 * Score: the Euclidean distance from the row to its nearest centroid, divided by that cluster's scale.
 * `normalize: 'median'` (default) uses the median distance of the cluster's own training rows to its
 * centroid: a row three "typical radii" away scores 3 whether its cluster is tight or wide, and the median
 * (unlike the mean) is not inflated by the anomalies inside the training data. `'mean'` uses the mean
 * distance, `'none'` the raw distance (scale 1). A cluster whose scale comes out 0 (a single row, or only
 * identical rows) uses the median over all rows instead, and 1 if that is 0 too. The nearest centroid is the
 * nearest by raw distance (the cluster the row belongs to), not the one with the lowest scaled distance.
 *
 * Explanation: per feature, the squared difference to the nearest centroid divided by the cluster's
 * squared scale; the weights add up to score^2.
 *
 * API:
 *   KMeans.fit(x, { k, seed = 0, nInit = 1, maxIter = 300, tol = 1e-4, normalize = 'median' }) -> model
 *   model.score(x) -> Float64Array          model.scoreRow(data, offset) -> number
 *   model.predict(x) -> Int32Array (nearest cluster)    model.nearest(data, offset) -> cluster index
 *   model.explain(row, top?, names?) -> Contribution[]
 *   model.toJSON() -> { kind: 'kmeans', version: 1, ... }    KMeans.fromJSON(json) -> model
 *   model.centroids (k * cols, row-major), model.scales, model.inertia, model.iterations, model.k
 */

import {
  checkFitMatrix,
  checkRow,
  checkScoreMatrix,
  JsonReader,
  plain,
  Rng,
  seedOf,
  topContributions,
} from './common.js';
import type { AnomalyModel, Contribution, Matrix } from './types.js';

export type KMeansNormalize = 'median' | 'mean' | 'none';
const NORMALIZE: readonly KMeansNormalize[] = ['median', 'mean', 'none'];

export interface KMeansOptions {
  /** Number of clusters, 1..rows. */
  k: number;
  /** PRNG seed, a safe integer (default 0). */
  seed?: number;
  /** Restarts, keeping the lowest inertia (default 1). */
  nInit?: number;
  /** Lloyd iterations per run (default 300). */
  maxIter?: number;
  /** Relative tolerance on the centre shift (default 1e-4). */
  tol?: number;
  /** Cluster scale the distance is divided by (default 'median'). */
  normalize?: KMeansNormalize;
}

const VERSION = 1;

interface Run {
  centers: Float64Array;
  labels: Int32Array;
  dist2: Float64Array;
  inertia: number;
  iterations: number;
}

/** Nearest centre of row i: writes its squared distance to out[0], returns the centre index. */
function nearestCenter(
  data: Float64Array,
  off: number,
  centers: Float64Array,
  k: number,
  cols: number,
  out: Float64Array,
): number {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c < k; c++) {
    const co = c * cols;
    let d = 0;
    for (let j = 0; j < cols; j++) {
      const diff = data[off + j]! - centers[co + j]!;
      d += diff * diff;
    }
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  out[0] = bestD;
  return best;
}

/** Greedy k-means++ seeding. */
function seedCenters(x: Matrix, k: number, rng: Rng): Float64Array {
  const { rows, cols, data } = x;
  const centers = new Float64Array(k * cols);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(rows);
  centers.set(data.subarray(first * cols, (first + 1) * cols), 0);
  const closest = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let d = 0;
    for (let j = 0; j < cols; j++) {
      const diff = data[i * cols + j]! - data[first * cols + j]!;
      d += diff * diff;
    }
    closest[i] = d;
  }
  // Cumulative sums for sampling by D^2 (binary search); rebuilt after each new centre.
  const cum = new Float64Array(rows);
  const cand = new Int32Array(trials);
  const candDist = new Float64Array(rows * trials);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < rows; i++) {
      acc += closest[i]!;
      cum[i] = acc;
    }
    for (let t = 0; t < trials; t++) {
      if (acc > 0) {
        const target = rng.next() * acc;
        let lo = 0;
        let hi = rows - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cum[mid]! > target) hi = mid;
          else lo = mid + 1;
        }
        cand[t] = lo;
      } else {
        cand[t] = rng.int(rows); // every row is on a centre already: any row will do
      }
    }
    let bestT = 0;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      const co = cand[t]! * cols;
      let p = 0;
      for (let i = 0; i < rows; i++) {
        let d = 0;
        for (let j = 0; j < cols; j++) {
          const diff = data[i * cols + j]! - data[co + j]!;
          d += diff * diff;
        }
        const m = Math.min(d, closest[i]!);
        candDist[t * rows + i] = m;
        p += m;
      }
      if (p < bestPot) {
        bestPot = p;
        bestT = t;
      }
    }
    const chosen = cand[bestT]!;
    centers.set(data.subarray(chosen * cols, (chosen + 1) * cols), c * cols);
    closest.set(candDist.subarray(bestT * rows, (bestT + 1) * rows));
  }
  return centers;
}

function lloyd(x: Matrix, k: number, centers: Float64Array, maxIter: number, tolAbs: number): Run {
  const { rows, cols, data } = x;
  const labels = new Int32Array(rows).fill(-1);
  const dist2 = new Float64Array(rows);
  const sums = new Float64Array(k * cols);
  const counts = new Int32Array(k);
  const next = new Float64Array(k * cols);
  const tmp = new Float64Array(1);
  const taken = new Uint8Array(rows);
  let iterations = 0;
  let strict = false;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    let changed = false;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < rows; i++) {
      const off = i * cols;
      const c = nearestCenter(data, off, centers, k, cols, tmp);
      dist2[i] = tmp[0]!;
      if (labels[i] !== c) {
        labels[i] = c;
        changed = true;
      }
      counts[c] = counts[c]! + 1;
      const so = c * cols;
      for (let j = 0; j < cols; j++) sums[so + j] = sums[so + j]! + data[off + j]!;
    }
    if (!changed) {
      strict = true;
      break;
    }
    for (let c = 0; c < k; c++) {
      const n = counts[c]!;
      const co = c * cols;
      for (let j = 0; j < cols; j++) next[co + j] = n > 0 ? sums[co + j]! / n : centers[co + j]!;
    }
    // Empty clusters: move them onto the rows farthest from their centres (distinct rows, farthest first).
    for (let c = 0; c < k; c++) {
      if (counts[c]! > 0) continue;
      let far = -1;
      let farD = -1;
      for (let i = 0; i < rows; i++) {
        if (!taken[i] && dist2[i]! > farD) {
          farD = dist2[i]!;
          far = i;
        }
      }
      if (far < 0) continue;
      taken[far] = 1;
      next.set(data.subarray(far * cols, (far + 1) * cols), c * cols);
    }
    taken.fill(0);
    let shift = 0;
    for (let q = 0; q < k * cols; q++) {
      const d = next[q]! - centers[q]!;
      shift += d * d;
    }
    centers.set(next);
    if (shift <= tolAbs) break;
  }
  // Final assignment against the final centres (unless the last pass already was one).
  let inertia = 0;
  if (!strict) {
    for (let i = 0; i < rows; i++) {
      labels[i] = nearestCenter(data, i * cols, centers, k, cols, tmp);
      dist2[i] = tmp[0]!;
    }
  }
  for (let i = 0; i < rows; i++) inertia += dist2[i]!;
  return { centers, labels, dist2, inertia, iterations };
}

function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const s = Float64Array.from(values).sort();
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export class KMeans implements AnomalyModel {
  readonly kind = 'kmeans';
  readonly cols: number;
  readonly k: number;
  /** k x cols, row-major. */
  readonly centroids: Float64Array;
  /** Per-cluster divisor of the distance (see the header comment). */
  readonly scales: Float64Array;
  readonly normalize: KMeansNormalize;
  /** Sum of squared distances of the training rows to their centroids. */
  readonly inertia: number;
  /** Lloyd iterations of the kept run. */
  readonly iterations: number;
  readonly seed: number;
  private readonly inv: Float64Array;
  private readonly tmp = new Float64Array(1);

  private constructor(
    cols: number,
    centroids: Float64Array,
    scales: Float64Array,
    normalize: KMeansNormalize,
    inertia: number,
    iterations: number,
    seed: number,
  ) {
    this.cols = cols;
    this.k = scales.length;
    this.centroids = centroids;
    this.scales = scales;
    this.normalize = normalize;
    this.inertia = inertia;
    this.iterations = iterations;
    this.seed = seed;
    this.inv = scales.map((s) => 1 / s);
  }

  static fit(x: Matrix, opts: KMeansOptions): KMeans {
    const who = 'KMeans.fit';
    checkFitMatrix(x, who);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`${who}: options { k } are required`);
    const { k } = opts;
    if (!Number.isInteger(k) || k < 1 || k > x.rows)
      throw new RangeError(`${who}: k must be an integer in 1..${x.rows} (the number of rows), got ${k}`);
    const nInit = opts.nInit ?? 1;
    if (!Number.isInteger(nInit) || nInit < 1)
      throw new RangeError(`${who}: nInit must be an integer >= 1, got ${nInit}`);
    const maxIter = opts.maxIter ?? 300;
    if (!Number.isInteger(maxIter) || maxIter < 1)
      throw new RangeError(`${who}: maxIter must be an integer >= 1, got ${maxIter}`);
    const tol = opts.tol ?? 1e-4;
    if (!(tol >= 0) || tol === Infinity)
      throw new RangeError(`${who}: tol must be a finite number >= 0, got ${tol}`);
    const normalize = opts.normalize ?? 'median';
    if (!NORMALIZE.includes(normalize))
      throw new RangeError(`${who}: normalize must be one of ${NORMALIZE.join(', ')}, got ${normalize}`);
    const seed = seedOf(opts.seed, who);
    const { rows, cols, data } = x;

    // Absolute tolerance: tol times the mean per-column variance (as scikit-learn).
    let varSum = 0;
    for (let j = 0; j < cols; j++) {
      let mean = 0;
      for (let i = 0; i < rows; i++) mean += data[i * cols + j]!;
      mean /= rows;
      let v = 0;
      for (let i = 0; i < rows; i++) {
        const d = data[i * cols + j]! - mean;
        v += d * d;
      }
      varSum += v / rows;
    }
    const tolAbs = tol * (varSum / cols);

    const rng = new Rng(seed);
    let best: Run | undefined;
    for (let r = 0; r < nInit; r++) {
      const run = lloyd(x, k, seedCenters(x, k, rng), maxIter, tolAbs);
      if (best === undefined || run.inertia < best.inertia) best = run;
    }
    const run = best!;

    // Per-cluster scales.
    const scales = new Float64Array(k).fill(1);
    if (normalize !== 'none') {
      const dist = run.dist2.map(Math.sqrt);
      const counts = new Int32Array(k);
      for (let i = 0; i < rows; i++) counts[run.labels[i]!] = counts[run.labels[i]!]! + 1;
      const members = Array.from(counts, (n) => new Float64Array(n));
      const fill = new Int32Array(k);
      for (let i = 0; i < rows; i++) {
        const c = run.labels[i]!;
        members[c]![fill[c]!] = dist[i]!;
        fill[c] = fill[c]! + 1;
      }
      const stat = (v: Float64Array): number => {
        if (normalize === 'median') return median(v);
        let s = 0;
        for (let i = 0; i < v.length; i++) s += v[i]!;
        return v.length > 0 ? s / v.length : 0;
      };
      // Identical rows leave rounding noise (~1e-16 of the values), not 0, between them and their mean: a
      // scale that small is a zero scale, or its distances would come out ~1e15.
      let magnitude = 0;
      for (let i = 0; i < run.centers.length; i++) magnitude = Math.max(magnitude, Math.abs(run.centers[i]!));
      const noise = 1e-9 * (1 + magnitude);
      const g = stat(dist);
      const global = g > noise ? g : 1;
      for (let c = 0; c < k; c++) {
        const sc = stat(members[c]!);
        scales[c] = sc > noise ? sc : global;
      }
    }
    return new KMeans(cols, run.centers, scales, normalize, run.inertia, run.iterations, seed);
  }

  /** Index of the nearest centroid of the row at `data[offset..]`. */
  nearest(data: Float64Array, offset: number): number {
    return nearestCenter(data, offset, this.centroids, this.k, this.cols, this.tmp);
  }

  predict(x: Matrix): Int32Array {
    checkScoreMatrix(x, this.cols, 'KMeans.predict');
    const out = new Int32Array(x.rows);
    for (let i = 0; i < x.rows; i++) out[i] = this.nearest(x.data, i * this.cols);
    return out;
  }

  score(x: Matrix): Float64Array {
    checkScoreMatrix(x, this.cols, 'KMeans.score');
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) out[i] = this.scoreRow(x.data, i * this.cols);
    return out;
  }

  scoreRow(data: Float64Array, offset: number): number {
    const c = nearestCenter(data, offset, this.centroids, this.k, this.cols, this.tmp);
    return Math.sqrt(this.tmp[0]!) * this.inv[c]!;
  }

  /** Per feature: squared difference to the nearest centroid over the cluster's squared scale. */
  explain(row: ArrayLike<number>, top?: number, names?: readonly string[]): Contribution[] {
    const who = 'KMeans.explain';
    checkRow(row, this.cols, who);
    const r = Float64Array.from(row);
    const c = this.nearest(r, 0);
    const w = new Float64Array(this.cols);
    const s2 = this.inv[c]! * this.inv[c]!;
    for (let j = 0; j < this.cols; j++) {
      const d = r[j]! - this.centroids[c * this.cols + j]!;
      w[j] = d * d * s2;
    }
    return topContributions(w, row, top, names, who);
  }

  toJSON(): { kind: string; version: number } & Record<string, unknown> {
    return {
      kind: this.kind,
      version: VERSION,
      cols: this.cols,
      k: this.k,
      normalize: this.normalize,
      seed: this.seed,
      inertia: this.inertia,
      iterations: this.iterations,
      centroids: plain(this.centroids),
      scales: plain(this.scales),
    };
  }

  static fromJSON(json: unknown): KMeans {
    const r = new JsonReader(json, 'kmeans', VERSION);
    const cols = r.int('cols', 1);
    const k = r.int('k', 1);
    const normalize = r.oneOf('normalize', NORMALIZE);
    const seed = r.int('seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const inertia = r.num('inertia', 0);
    const iterations = r.int('iterations', 0);
    const centroids = r.f64('centroids', k * cols);
    const scales = r.f64('scales', k);
    for (let c = 0; c < k; c++)
      if (!(scales[c]! > 0)) r.fail('scales', `value ${c} must be > 0, got ${scales[c]}`);
    return new KMeans(cols, centroids, scales, normalize, inertia, iterations, seed);
  }
}
