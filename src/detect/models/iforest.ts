/**
 * Isolation Forest (Liu, Ting & Zhou 2008), built and scored as scikit-learn's `IsolationForest` does:
 * every tree grows on a subsample of `sampleSize` rows drawn without replacement (default min(256, rows)),
 * down to depth ceil(log2(sampleSize)); a node splits on a feature picked uniformly among the features
 * that are not constant in the node, at a threshold uniform in [min, max) of that feature (rows with
 * value <= threshold go left). A row's path length in a tree is the depth of its leaf plus c(leaf size),
 * where c(n) = 2 (ln(n - 1) + gamma) - 2 (n - 1) / n (c(1) = 0, c(2) = 1) is the average path length of an
 * unsuccessful binary-search-tree search. The score is
 *
 *   score(x) = 2 ^ (-mean over trees of h(x) / c(sampleSize))
 *
 * i.e. scikit-learn's `score_samples` negated: in (0, 1], higher = more anomalous, about 0.5 and below for
 * ordinary rows. (With sampleSize 1, c is 0 and every score is 0.5, as in scikit-learn.)
 *
 * `maxFeatures` (scikit-learn's max_features): each tree sees a random subset of that many columns
 * (an integer 1..cols, or a fraction in (0, 1) of cols, at least 1); default all columns.
 *
 * The trees live in flat typed arrays shared by the whole forest (node i of any tree):
 *   feature[i]   split column, or -1 for a leaf
 *   threshold[i] split value (rows with x[feature] <= threshold go to left[i], the others to right[i])
 *   left/right   absolute node indices of the children (always after i), -1 for a leaf
 *   size[i]      number of the tree's subsample rows that reached the node
 *   roots[t]     node index of tree t's root
 * and, derived on fit and on load, pathLen[i] = depth(i) + c(size[i]) for leaves.
 *
 * Explanation ("mass reduction"): along the row's path in every tree, each split on feature f that sends
 * the row from a node holding n subsample rows to a child holding m rows is credited log2(n / m) to f:
 * the bits of isolation that split achieved. A split on a feature where the row is ordinary keeps about
 * half the rows (about 1 bit); a split on a feature where the row is extreme usually cuts it off from
 * almost everything at once (log2 n bits), and such splits happen early, where n is large. The credits
 * are summed over trees and normalised to sum to 1, so `weight` is the feature's share of the isolation;
 * per tree the credits add up to log2(sampleSize / leaf size).
 *
 * API:
 *   IsolationForest.fit(x, { trees = 100, sampleSize = 256, seed = 0, maxFeatures? }) -> model
 *   model.score(x) -> Float64Array          model.scoreRow(data, offset) -> number
 *   model.explain(row, top?, names?) -> Contribution[]
 *   model.toJSON() -> { kind: 'iforest', version: 1, ... }    IsolationForest.fromJSON(json) -> model
 *   averagePathLength(n) -> c(n)
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

export interface IsolationForestOptions {
  /** Number of trees (default 100). */
  trees?: number;
  /** Rows per tree (default 256; capped at the number of rows). */
  sampleSize?: number;
  /** PRNG seed, a safe integer (default 0). */
  seed?: number;
  /** Columns per tree: an integer 1..cols or a fraction in (0, 1) (default all). */
  maxFeatures?: number;
}

const EULER_GAMMA = 0.5772156649015329;

/** c(n): average path length of an unsuccessful search in a binary search tree of n nodes. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

const VERSION = 1;

export class IsolationForest implements AnomalyModel {
  readonly kind = 'iforest';
  readonly cols: number;
  /** Effective rows per tree (the c(n) normaliser uses it). */
  readonly sampleSize: number;
  readonly maxFeatures: number;
  readonly seed: number;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly size: Int32Array;
  /** depth + c(size) at leaves, 0 at split nodes. */
  private readonly pathLen: Float64Array;
  private readonly norm: number;

  private constructor(
    cols: number,
    sampleSize: number,
    maxFeatures: number,
    seed: number,
    roots: Int32Array,
    feature: Int32Array,
    threshold: Float64Array,
    left: Int32Array,
    right: Int32Array,
    size: Int32Array,
  ) {
    this.cols = cols;
    this.sampleSize = sampleSize;
    this.maxFeatures = maxFeatures;
    this.seed = seed;
    this.roots = roots;
    this.feature = feature;
    this.threshold = threshold;
    this.left = left;
    this.right = right;
    this.size = size;
    this.pathLen = new Float64Array(feature.length);
    // Depths: children always come after their parent, so one forward pass suffices.
    const depth = new Int32Array(feature.length);
    for (let i = 0; i < feature.length; i++) {
      if (feature[i]! >= 0) {
        depth[left[i]!] = depth[i]! + 1;
        depth[right[i]!] = depth[i]! + 1;
      } else {
        this.pathLen[i] = depth[i]! + averagePathLength(size[i]!);
      }
    }
    const c = averagePathLength(sampleSize);
    this.norm = c > 0 ? 1 / (roots.length * c) : 0;
  }

  get trees(): number {
    return this.roots.length;
  }

  static fit(x: Matrix, opts: IsolationForestOptions = {}): IsolationForest {
    const who = 'IsolationForest.fit';
    checkFitMatrix(x, who);
    const trees = opts.trees ?? 100;
    if (!Number.isInteger(trees) || trees < 1)
      throw new RangeError(`${who}: trees must be an integer >= 1, got ${trees}`);
    const wanted = opts.sampleSize ?? 256;
    if (!Number.isInteger(wanted) || wanted < 1)
      throw new RangeError(`${who}: sampleSize must be an integer >= 1, got ${wanted}`);
    const seed = seedOf(opts.seed, who);
    const { rows, cols, data } = x;
    let maxFeatures = cols;
    if (opts.maxFeatures !== undefined) {
      const m = opts.maxFeatures;
      if (Number.isInteger(m) && m >= 1 && m <= cols) maxFeatures = m;
      else if (m > 0 && m < 1) maxFeatures = Math.max(1, Math.floor(m * cols));
      else
        throw new RangeError(
          `${who}: maxFeatures must be an integer 1..${cols} or a fraction in (0, 1), got ${m}`,
        );
    }
    const sampleSize = Math.min(wanted, rows);
    const maxDepth = Math.ceil(Math.log2(Math.max(sampleSize, 2)));
    const rng = new Rng(seed);

    const perTree = 2 * sampleSize - 1;
    const cap = perTree * trees;
    const feature = new Int32Array(cap);
    const threshold = new Float64Array(cap);
    const left = new Int32Array(cap);
    const right = new Int32Array(cap);
    const size = new Int32Array(cap);
    const roots = new Int32Array(trees);

    const pool = new Int32Array(rows);
    for (let i = 0; i < rows; i++) pool[i] = i;
    const allFeatures = new Int32Array(cols);
    for (let j = 0; j < cols; j++) allFeatures[j] = j;
    const idx = new Int32Array(sampleSize);
    const feats = new Int32Array(maxFeatures);
    // Work stack of (node, start, end, depth).
    const stack = new Int32Array(4 * (maxDepth + 2) * 2);
    let nodes = 0;

    for (let t = 0; t < trees; t++) {
      // Subsample without replacement: a partial Fisher-Yates over the (reused) pool.
      for (let k = 0; k < sampleSize; k++) {
        const r = k + rng.int(rows - k);
        const tmp = pool[k]!;
        pool[k] = pool[r]!;
        pool[r] = tmp;
        idx[k] = pool[k]!;
      }
      // This tree's columns.
      if (maxFeatures === cols) feats.set(allFeatures);
      else {
        for (let k = 0; k < maxFeatures; k++) {
          const r = k + rng.int(cols - k);
          const tmp = allFeatures[k]!;
          allFeatures[k] = allFeatures[r]!;
          allFeatures[r] = tmp;
          feats[k] = allFeatures[k]!;
        }
      }

      const root = nodes++;
      roots[t] = root;
      let sp = 0;
      stack[sp++] = root;
      stack[sp++] = 0;
      stack[sp++] = sampleSize;
      stack[sp++] = 0;
      while (sp > 0) {
        const depth = stack[--sp]!;
        const end = stack[--sp]!;
        const start = stack[--sp]!;
        const node = stack[--sp]!;
        const n = end - start;
        size[node] = n;
        feature[node] = -1;
        left[node] = -1;
        right[node] = -1;
        if (n < 2 || depth >= maxDepth) continue;
        // A feature uniform among the non-constant ones: draw without replacement until one varies.
        let f = -1;
        let lo = 0;
        let hi = 0;
        for (let k = 0; k < maxFeatures; k++) {
          const r = k + rng.int(maxFeatures - k);
          const cand = feats[r]!;
          feats[r] = feats[k]!;
          feats[k] = cand;
          lo = Infinity;
          hi = -Infinity;
          for (let p = start; p < end; p++) {
            const v = data[idx[p]! * cols + cand]!;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          if (hi > lo) {
            f = cand;
            break;
          }
        }
        if (f < 0) continue;
        let thr = lo + rng.next() * (hi - lo);
        if (!(thr < hi)) thr = lo;
        // Partition idx[start, end) into <= thr | > thr.
        let i = start;
        let j = end - 1;
        while (i <= j) {
          if (data[idx[i]! * cols + f]! <= thr) i++;
          else {
            const tmp = idx[i]!;
            idx[i] = idx[j]!;
            idx[j] = tmp;
            j--;
          }
        }
        const l = nodes++;
        const rgt = nodes++;
        feature[node] = f;
        threshold[node] = thr;
        left[node] = l;
        right[node] = rgt;
        stack[sp++] = rgt;
        stack[sp++] = i;
        stack[sp++] = end;
        stack[sp++] = depth + 1;
        stack[sp++] = l;
        stack[sp++] = start;
        stack[sp++] = i;
        stack[sp++] = depth + 1;
      }
    }
    return new IsolationForest(
      cols,
      sampleSize,
      maxFeatures,
      seed,
      roots,
      feature.slice(0, nodes),
      threshold.slice(0, nodes),
      left.slice(0, nodes),
      right.slice(0, nodes),
      size.slice(0, nodes),
    );
  }

  score(x: Matrix): Float64Array {
    checkScoreMatrix(x, this.cols, 'IsolationForest.score');
    const out = new Float64Array(x.rows);
    if (this.norm === 0) return out.fill(0.5);
    // Tree-major over blocks of rows: one tree's nodes stay in cache while the block goes through it.
    // Per row the path lengths are still added tree by tree in order, so the result equals scoreRow's.
    const { feature, threshold, left, right, pathLen, roots, cols } = this;
    const data = x.data;
    const BLOCK = 512;
    for (let b = 0; b < x.rows; b += BLOCK) {
      const e = Math.min(b + BLOCK, x.rows);
      for (let t = 0; t < roots.length; t++) {
        const root = roots[t]!;
        for (let i = b; i < e; i++) {
          const off = i * cols;
          let node = root;
          let f = feature[node]!;
          while (f >= 0) {
            node = data[off + f]! <= threshold[node]! ? left[node]! : right[node]!;
            f = feature[node]!;
          }
          out[i] = out[i]! + pathLen[node]!;
        }
      }
      for (let i = b; i < e; i++) out[i] = 2 ** (-out[i]! * this.norm);
    }
    return out;
  }

  /** Mean path length h(x) over the trees (the quantity inside the score). */
  meanPathLength(data: Float64Array, offset: number): number {
    const { feature, threshold, left, right, pathLen, roots } = this;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = data[offset + f]! <= threshold[node]! ? left[node]! : right[node]!;
        f = feature[node]!;
      }
      sum += pathLen[node]!;
    }
    return sum / roots.length;
  }

  scoreRow(data: Float64Array, offset: number): number {
    if (this.norm === 0) return 0.5;
    const { feature, threshold, left, right, pathLen, roots } = this;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = data[offset + f]! <= threshold[node]! ? left[node]! : right[node]!;
        f = feature[node]!;
      }
      sum += pathLen[node]!;
    }
    return 2 ** (-sum * this.norm);
  }

  /** Share of the row's isolation credited to each feature (see the header comment). */
  explain(row: ArrayLike<number>, top?: number, names?: readonly string[]): Contribution[] {
    const who = 'IsolationForest.explain';
    checkRow(row, this.cols, who);
    const { feature, threshold, left, right, size, roots } = this;
    const w = new Float64Array(this.cols);
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        const next = row[f]! <= threshold[node]! ? left[node]! : right[node]!;
        const bits = Math.log2(size[node]! / size[next]!);
        w[f] = w[f]! + bits;
        total += bits;
        node = next;
        f = feature[node]!;
      }
    }
    if (total > 0) for (let j = 0; j < this.cols; j++) w[j] = w[j]! / total;
    return topContributions(w, row, top, names, who);
  }

  toJSON(): { kind: string; version: number } & Record<string, unknown> {
    return {
      kind: this.kind,
      version: VERSION,
      cols: this.cols,
      sampleSize: this.sampleSize,
      maxFeatures: this.maxFeatures,
      seed: this.seed,
      roots: plain(this.roots),
      feature: plain(this.feature),
      threshold: plain(this.threshold),
      left: plain(this.left),
      right: plain(this.right),
      size: plain(this.size),
    };
  }

  static fromJSON(json: unknown): IsolationForest {
    const r = new JsonReader(json, 'iforest', VERSION);
    const cols = r.int('cols', 1);
    const sampleSize = r.int('sampleSize', 1);
    const maxFeatures = r.int('maxFeatures', 1, cols);
    const seed = r.int('seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const feature = r.i32('feature', undefined, -1, cols - 1);
    const nodes = feature.length;
    const threshold = r.f64('threshold', nodes);
    const left = r.i32('left', nodes, -1, nodes - 1);
    const right = r.i32('right', nodes, -1, nodes - 1);
    const size = r.i32('size', nodes, 1, sampleSize);
    const roots = r.i32('roots', undefined, 0, nodes - 1);
    if (roots.length === 0) r.fail('roots', 'must list at least one tree');
    // Structure: trees are consecutive node ranges starting at their roots; children come after their
    // parent inside the same tree (so every walk ends), and split nodes have both children.
    if (roots[0] !== 0) r.fail('roots', 'must start at node 0');
    for (let t = 0; t < roots.length; t++) {
      const start = roots[t]!;
      const end = t + 1 < roots.length ? roots[t + 1]! : nodes;
      if (end <= start) r.fail('roots', `tree ${t} has no nodes (roots must increase)`);
      for (let i = start; i < end; i++) {
        if (feature[i]! < 0) {
          if (left[i] !== -1 || right[i] !== -1) r.fail('left', `node ${i} is a leaf but has children`);
          continue;
        }
        const l = left[i]!;
        const rt = right[i]!;
        if (l <= i || l >= end) r.fail('left', `node ${i}: child ${l} is not a later node of tree ${t}`);
        if (rt <= i || rt >= end) r.fail('right', `node ${i}: child ${rt} is not a later node of tree ${t}`);
        if (l === rt) r.fail('right', `node ${i}: both children are node ${l}`);
      }
    }
    return new IsolationForest(
      cols,
      sampleSize,
      maxFeatures,
      seed,
      roots,
      feature,
      threshold,
      left,
      right,
      size,
    );
  }
}
