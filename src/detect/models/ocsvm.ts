/**
 * Exact nu-One-Class SVM with an RBF kernel, solved like libsvm's `Solver` for ONE_CLASS (what scikit-learn's
 * `OneClassSVM` runs), on a row-major Float64Array with plain loops.
 *
 *     const model = OneClassSvm.fit(x, { nu: 0.1, gamma: 'scale', seed: 1 });
 *     model.decision(x);           // sklearn's decision_function: sum_i a_i K(sv_i, x) - rho, > 0 = inlier
 *     model.score(x);              // -decision (higher = more anomalous), the AnomalyModel convention
 *     model.scoreRow(data, off);   // one row, no allocation, no checks (hot path)
 *     model.explain(row, top?, names?);
 *     const again = OneClassSvm.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
 *     model.decisionRow(data, off); model.rho; model.gamma; model.nSupport; model.nBounded; model.iterations;
 *
 * Options (defaults): nu 0.1 (sklearn's default is 0.5: pass it to compare), gamma 'scale', tol 1e-3,
 * shrinking true, cacheMb 200, maxSamples 10,000, seed 0, maxIter max(1e7, 100 * l).
 *
 * The dual, in libsvm's scaling: min 1/2 a^T Q a subject to 0 <= a_i <= 1 and sum a_i = nu * l, with
 * Q_ij = K(x_i, x_j) = exp(-gamma * |x_i - x_j|^2). As libsvm: the first floor(nu * l) alphas start at 1 and
 * the next one at the fractional rest; each step picks the pair by the second-order rule (WSS2, Fan, Chen &
 * Lin 2005), solves it analytically, updates the gradient; shrinking (libsvm's heuristic, on by default like
 * sklearn) and gradient reconstruction; stops when the maximal violation m(a) - M(a) < tol (1e-3, libsvm's
 * eps); rho is the mean gradient over the free SVs, else the middle of the bounds. So the coefficients of the
 * support vectors sum to nu * l and the decision values are on sklearn's scale (they grow with nu * l).
 * Two details follow scikit-learn's libsvm to the bit: nu * l is summed row by row (so 0.2 * 1200 starts as
 * 239 ones and 0.99999999999491, not 240 ones), and kernel values in the cache are rounded to float32
 * (libsvm's Qfloat). With them the solver takes sklearn's very steps: on the golden fixtures the iteration
 * counts are equal and the decision values agree to ~1e-14. Decision values at prediction use double kernels.
 * Deviation: for nu = 1 every alpha is at its bound and libsvm's rho is infinite (sklearn refuses to fit);
 * here rho is then the finite bound (the largest gradient), so the model still ranks rows.
 *
 * Kernel rows are computed on demand and kept in an LRU cache of Float64Array rows within `cacheMb`
 * (default 200, sklearn's cache_size); rows of a shrunk problem are computed only over the active variables.
 * More than `maxSamples` rows (default 10,000): the model is fitted on a seeded uniform sample of them (kept
 * in input order). gamma 'scale' is sklearn's 1 / (cols * var(x)) over every value of the whole input.
 * The model does not standardise columns: scale the features first (gamma is one width for all of them).
 *
 * Explanation (`explain`): the reference is the nearest (Euclidean) free support vector (0 < a_i < 1; these
 * lie on the decision boundary: the closest "just normal" training rows), or the per-column median of the
 * fitted rows when there is none. For each feature j, the row value is replaced by the reference value and
 * weight_j = decision(row with x_j := ref_j) - decision(row) = the drop in score (same unit as the score).
 * As the other models: only features with weight > 0, largest first (ties by column), at most `top`
 * (default all). It costs (cols + 1) decision evaluations.
 *
 * Everything is deterministic: the same data, options and seed give the same model (the seed only matters
 * when sampling). `toJSON` keeps the support vectors, coefficients, rho, gamma, medians; `fromJSON` validates
 * every field and restores a model that scores identically.
 */
import { mulberry32 } from '../../simulate/random.js';
import type { AnomalyModel, Contribution, Matrix } from './types.js';

export type Gamma = number | 'scale';

export interface OneClassSvmOptions {
  /** In (0, 1]: at most this fraction of training rows outside, at least this fraction SVs. Default 0.1. */
  nu?: number;
  /** RBF width: a positive number or 'scale' (1 / (cols * var(x))). Default 'scale'. */
  gamma?: Gamma;
  /** Stopping tolerance on the maximal KKT violation (libsvm's eps). Default 1e-3. */
  tol?: number;
  /** libsvm's shrinking heuristic. Default true (as sklearn). */
  shrinking?: boolean;
  /** Kernel row cache budget in MiB. Default 200. */
  cacheMb?: number;
  /** Fit on a seeded sample of this many rows when there are more. Default 10,000. */
  maxSamples?: number;
  /** Iteration cap; default max(10,000,000, 100 * l) like libsvm. `iterations === maxIter`: stopped early. */
  maxIter?: number;
  /** Seed of the row sample. Default 0. */
  seed?: number;
}

/** The JSON form of a fitted {@link OneClassSvm}. */
export type OneClassSvmJson = {
  kind: 'ocsvm';
  version: 1;
  cols: number;
  nu: number;
  gamma: number;
  rho: number;
  /** Rows the solver saw (l). */
  trainedRows: number;
  iterations: number;
  /** Support vectors, row-major, coef.length x cols. */
  supportVectors: number[];
  /** Their dual coefficients a_i in (0, 1]; they sum to nu * trainedRows. */
  coef: number[];
  /** Per-column medians of the fitted rows (explanation fallback). */
  medians: number[];
};

const TAU = 1e-12;
const LOWER = 0;
const UPPER = 1;
const FREE = 2;
const VERSION = 1;

// ---------------------------------------------------------------------------------------------------------
// Shared helpers (also used by ocsvm-rff.ts)

/** The project's mulberry32 (src/simulate/random.ts), re-exported for the SVM modules and their tests. */
export { mulberry32 };

/** Throws unless `x` is a well-formed, non-empty matrix of finite values (with `cols` columns when given). */
export function checkMatrix(where: string, x: Matrix, cols?: number, allowEmpty = false): void {
  if (!x || !(x.data instanceof Float64Array))
    throw new TypeError(`${where}: expected a Matrix with a Float64Array`);
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 0)
    throw new RangeError(`${where}: bad matrix shape ${x.rows} x ${x.cols}`);
  if (x.data.length !== x.rows * x.cols)
    throw new RangeError(`${where}: matrix has ${x.data.length} values, expected ${x.rows * x.cols}`);
  if (cols !== undefined && x.cols !== cols)
    throw new RangeError(`${where}: expected ${cols} columns, got ${x.cols}`);
  if (!allowEmpty && (x.rows === 0 || x.cols === 0))
    throw new RangeError(`${where}: empty input (${x.rows} x ${x.cols})`);
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      const r = Math.floor(i / x.cols);
      throw new RangeError(`${where}: non-finite value ${d[i]} at row ${r}, column ${i - r * x.cols}`);
    }
  }
}

export function checkNu(where: string, nu: number): void {
  if (typeof nu !== 'number' || !(nu > 0 && nu <= 1))
    throw new RangeError(`${where}: nu must be in (0, 1], got ${nu}`);
}

/** Resolves gamma; 'scale' = 1 / (cols * var(all values)) as sklearn (1 when the variance is 0). */
export function resolveGamma(where: string, gamma: Gamma, x: Matrix): number {
  if (gamma === 'scale') {
    const d = x.data;
    const n = d.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += d[i]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const t = d[i]! - mean;
      v += t * t;
    }
    v /= n;
    return v > 0 ? 1 / (x.cols * v) : 1;
  }
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0)
    throw new RangeError(`${where}: gamma must be a positive finite number or 'scale', got ${String(gamma)}`);
  return gamma;
}

/** Seeded sample of `k` distinct row indices out of `n`, in ascending order (all rows when k >= n). */
export function sampleIndices(n: number, k: number, seed: number): Int32Array {
  if (k >= n) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  const rnd = mulberry32(seed);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

/** Copies the chosen rows into a new row-major array. */
export function gatherRows(x: Matrix, idx: Int32Array): Float64Array {
  const c = x.cols;
  const out = new Float64Array(idx.length * c);
  for (let i = 0; i < idx.length; i++) out.set(x.data.subarray(idx[i]! * c, idx[i]! * c + c), i * c);
  return out;
}

/** Per-column medians of a row-major array. */
export function columnMedians(data: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  const col = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) col[i] = data[i * cols + j]!;
    col.sort();
    out[j] = rows % 2 === 1 ? col[(rows - 1) >> 1]! : (col[rows / 2 - 1]! + col[rows / 2]!) / 2;
  }
  return out;
}

/** Index of the row of `refs` (row-major, `cols` wide) nearest to `row` (Euclidean; first on ties). */
export function nearestRow(refs: Float64Array, cols: number, row: ArrayLike<number>): number {
  const n = refs.length / cols;
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * cols;
    for (let k = 0; k < cols; k++) {
      const t = refs[o + k]! - row[k]!;
      s += t * t;
    }
    if (s < bestD) {
      bestD = s;
      best = i;
    }
  }
  return best;
}

/** Throws unless `row` holds `cols` finite numbers. */
export function checkRow(where: string, row: ArrayLike<number>, cols: number): void {
  if (row === null || typeof row !== 'object' || typeof row.length !== 'number')
    throw new TypeError(`${where}: row must be an array of numbers`);
  if (row.length !== cols)
    throw new RangeError(`${where}: expected a row of ${cols} values, got ${row.length}`);
  for (let j = 0; j < cols; j++) {
    const v = row[j]!;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`${where}: non-finite value ${v} at column ${j}`);
  }
}

/**
 * Replacement explanation shared by both models: weight_j = decision(row with x_j := ref_j) - decision(row).
 * Returns the features with a positive weight, largest first (ties: lower column first), at most `top`
 * (default: all), as the other models of this folder do.
 */
export function replacementContributions(
  where: string,
  cols: number,
  row: ArrayLike<number>,
  ref: ArrayLike<number>,
  decisionRow: (data: Float64Array, offset: number) => number,
  top: number | undefined,
  names?: readonly string[],
): Contribution[] {
  checkRow(where, row, cols);
  const limit = top ?? cols;
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`${where}: top must be a non-negative integer, got ${top}`);
  const buf = new Float64Array(cols);
  for (let j = 0; j < cols; j++) buf[j] = row[j]!;
  if (names !== undefined && names.length !== cols)
    throw new RangeError(`${where}: expected ${cols} names, got ${names.length}`);
  const base = decisionRow(buf, 0);
  const out: Contribution[] = [];
  for (let j = 0; j < cols; j++) {
    const keep = buf[j]!;
    buf[j] = ref[j]!;
    const weight = decisionRow(buf, 0) - base;
    buf[j] = keep;
    if (!(weight > 0)) continue;
    const c: Contribution = { index: j, value: keep, weight };
    if (names !== undefined) c.name = names[j]!;
    out.push(c);
  }
  out.sort((a, b) => b.weight - a.weight || a.index - b.index);
  return out.slice(0, limit);
}

// JSON validation helpers: each throws an Error naming the field.
export function jsonObject(where: string, obj: unknown): Record<string, unknown> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    throw new Error(`${where}: expected a JSON object, got ${obj === null ? 'null' : typeof obj}`);
  return obj as Record<string, unknown>;
}

export function jsonNumber(
  where: string,
  o: Record<string, unknown>,
  field: string,
  check: (v: number) => boolean,
  what: string,
): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v))
    throw new Error(`${where}: bad field "${field}": expected ${what}, got ${JSON.stringify(v)}`);
  return v;
}

export function jsonArray(
  where: string,
  o: Record<string, unknown>,
  field: string,
  length: number | undefined,
  check: (v: number) => boolean = () => true,
  what = 'finite numbers',
): Float64Array {
  const v = o[field];
  if (!Array.isArray(v) && !ArrayBuffer.isView(v))
    throw new Error(`${where}: bad field "${field}": expected an array of ${what}`);
  const a = v as ArrayLike<unknown>;
  if (length !== undefined && a.length !== length)
    throw new Error(`${where}: bad field "${field}": expected ${length} values, got ${a.length}`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || !check(x))
      throw new Error(
        `${where}: bad field "${field}": element ${i} is ${JSON.stringify(x)}, expected ${what}`,
      );
    out[i] = x;
  }
  return out;
}

export function jsonHeader(where: string, o: Record<string, unknown>, kind: string, version: number): void {
  if (o.kind !== kind)
    throw new Error(`${where}: bad field "kind": expected "${kind}", got ${JSON.stringify(o.kind)}`);
  if (o.version !== version)
    throw new Error(`${where}: bad field "version": expected ${version}, got ${JSON.stringify(o.version)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Kernel row cache

/**
 * LRU cache of RBF kernel rows, indexed by the variable's original index: row i holds K(x_i, x_o) at entry o.
 * A row computed while the problem was shrunk only holds the then-active entries; it stays valid until the
 * active set grows again (tracked by `epoch`), unless it was computed in full.
 */
class KernelCache {
  readonly capacity: number;
  epoch = 0;
  private readonly rows: (Float64Array | undefined)[];
  private readonly full: Uint8Array;
  private readonly rowEpoch: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = -1;
  private tail = -1;
  private count = 0;

  constructor(
    private readonly x: Float64Array,
    private readonly l: number,
    private readonly d: number,
    private readonly gamma: number,
    cacheBytes: number,
  ) {
    this.capacity = Math.max(2, Math.min(l, Math.floor(cacheBytes / (8 * l))));
    this.rows = new Array(l);
    this.full = new Uint8Array(l);
    this.rowEpoch = new Int32Array(l);
    this.prev = new Int32Array(l).fill(-1);
    this.next = new Int32Array(l).fill(-1);
  }

  private unlink(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[i] = -1;
    this.next[i] = -1;
  }

  private pushFront(i: number): void {
    this.prev[i] = -1;
    this.next[i] = this.head;
    if (this.head >= 0) this.prev[this.head] = i;
    this.head = i;
    if (this.tail < 0) this.tail = i;
  }

  /** Row i over the active variables perm[0..active) (over all l when `needFull`). */
  get(i: number, perm: Int32Array, active: number, needFull: boolean): Float64Array {
    let row = this.rows[i];
    if (row !== undefined) {
      if (this.head !== i) {
        this.unlink(i);
        this.pushFront(i);
      }
      if (this.full[i] === 1 || (!needFull && this.rowEpoch[i] === this.epoch)) return row;
    } else {
      if (this.count >= this.capacity) {
        const t = this.tail;
        row = this.rows[t]!;
        this.rows[t] = undefined;
        this.unlink(t);
      } else {
        row = new Float64Array(this.l);
        this.count++;
      }
      this.rows[i] = row;
      this.pushFront(i);
    }
    const { x, d, gamma } = this;
    const xi = i * d;
    if (needFull || active === this.l) {
      for (let o = 0; o < this.l; o++) {
        const xo = o * d;
        let s = 0;
        for (let k = 0; k < d; k++) {
          const t = x[xi + k]! - x[xo + k]!;
          s += t * t;
        }
        row[o] = -gamma * s;
      }
      // A separate exp pass is measurably faster in V8 than exp inside the distance loop. Values are rounded
      // to float32 as libsvm's Qfloat: the solver then takes scikit-learn's steps exactly.
      for (let o = 0; o < this.l; o++) row[o] = Math.fround(Math.exp(row[o]!));
      this.full[i] = 1;
    } else {
      for (let p = 0; p < active; p++) {
        const o = perm[p]!;
        const xo = o * d;
        let s = 0;
        for (let k = 0; k < d; k++) {
          const t = x[xi + k]! - x[xo + k]!;
          s += t * t;
        }
        row[o] = -gamma * s;
      }
      for (let p = 0; p < active; p++) {
        const o = perm[p]!;
        row[o] = Math.fround(Math.exp(row[o]!));
      }
      this.full[i] = 0;
    }
    this.rowEpoch[i] = this.epoch;
    return row;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The solver

interface SolveResult {
  alpha: Float64Array;
  rho: number;
  iterations: number;
}

/**
 * libsvm's Solver::Solve for ONE_CLASS (p = 0, y = +1, C = 1, QD = 1 for the RBF kernel). Per-variable state
 * is kept by original index; `perm` is libsvm's position order (swapped when shrinking), so the working-set
 * choices and their tie-breaking follow libsvm's.
 */
function solveOneClass(
  x: Float64Array,
  l: number,
  d: number,
  gamma: number,
  nu: number,
  eps: number,
  shrinking: boolean,
  cacheBytes: number,
  maxIter: number,
): SolveResult {
  const cache = new KernelCache(x, l, d, gamma, cacheBytes);
  const alpha = new Float64Array(l);
  // libsvm's start (the first floor(nu * l) alphas at 1, the next one at the rest), with nu * l summed row by
  // row as scikit-learn's libsvm does (per-sample C = 1): the same start to the last bit, so the same path.
  let nuL = 0;
  for (let i = 0; i < l; i++) nuL += nu;
  for (let i = 0; i < l && nuL > 0; i++) {
    alpha[i] = Math.min(1, nuL);
    nuL -= alpha[i]!;
  }
  const status = new Uint8Array(l);
  const G = new Float64Array(l);
  const Gbar = new Float64Array(l);
  const perm = new Int32Array(l);
  for (let i = 0; i < l; i++) perm[i] = i;
  let active = l;
  let unshrink = false;

  const updateStatus = (i: number): void => {
    const a = alpha[i]!;
    status[i] = a >= 1 ? UPPER : a <= 0 ? LOWER : FREE;
  };
  for (let i = 0; i < l; i++) updateStatus(i);

  // Initial gradient G = Q alpha, and G_bar = sum over upper-bounded i of C_i Q_i.
  for (let i = 0; i < l; i++) {
    if (status[i] === LOWER) continue;
    const Qi = cache.get(i, perm, active, true);
    const ai = alpha[i]!;
    for (let j = 0; j < l; j++) G[j] += ai * Qi[j]!;
    if (status[i] === UPPER) for (let j = 0; j < l; j++) Gbar[j] += Qi[j]!;
  }

  const reconstructGradient = (): void => {
    if (active === l) return;
    for (let p = active; p < l; p++) {
      const o = perm[p]!;
      G[o] = Gbar[o]!;
    }
    let nrFree = 0;
    for (let p = 0; p < active; p++) if (status[perm[p]!] === FREE) nrFree++;
    if (nrFree * l > 2 * active * (l - active)) {
      for (let p = active; p < l; p++) {
        const o = perm[p]!;
        const Qo = cache.get(o, perm, active, false);
        let g = G[o]!;
        for (let q = 0; q < active; q++) {
          const oq = perm[q]!;
          if (status[oq] === FREE) g += alpha[oq]! * Qo[oq]!;
        }
        G[o] = g;
      }
    } else {
      for (let q = 0; q < active; q++) {
        const oq = perm[q]!;
        if (status[oq] !== FREE) continue;
        const Qq = cache.get(oq, perm, active, true);
        const a = alpha[oq]!;
        for (let p = active; p < l; p++) {
          const o = perm[p]!;
          G[o] += a * Qq[o]!;
        }
      }
    }
  };

  const growActive = (): void => {
    if (active < l) {
      active = l;
      cache.epoch++;
    }
  };

  const beShrunk = (o: number, gmax1: number, gmax2: number): boolean => {
    const s = status[o];
    if (s === UPPER) return -G[o]! > gmax1;
    if (s === LOWER) return G[o]! > gmax2;
    return false;
  };

  const doShrinking = (): void => {
    let gmax1 = -Infinity; // max { -G_i | i not at upper bound }
    let gmax2 = -Infinity; // max { G_i | i not at lower bound }
    for (let p = 0; p < active; p++) {
      const o = perm[p]!;
      const s = status[o];
      if (s !== UPPER && -G[o]! >= gmax1) gmax1 = -G[o]!;
      if (s !== LOWER && G[o]! >= gmax2) gmax2 = G[o]!;
    }
    if (!unshrink && gmax1 + gmax2 <= eps * 10) {
      unshrink = true;
      reconstructGradient();
      growActive();
    }
    for (let p = 0; p < active; p++) {
      if (!beShrunk(perm[p]!, gmax1, gmax2)) continue;
      active--;
      while (active > p) {
        if (!beShrunk(perm[active]!, gmax1, gmax2)) {
          const t = perm[p]!;
          perm[p] = perm[active]!;
          perm[active] = t;
          break;
        }
        active--;
      }
    }
  };

  let wi = -1;
  let wj = -1;
  /** WSS2; returns true when optimal within eps. */
  const selectWorkingSet = (): boolean => {
    let gmax = -Infinity;
    let gmax2 = -Infinity;
    let gmaxIdx = -1;
    let gminIdx = -1;
    let objDiffMin = Infinity;
    for (let p = 0; p < active; p++) {
      const o = perm[p]!;
      if (status[o] !== UPPER && -G[o]! >= gmax) {
        gmax = -G[o]!;
        gmaxIdx = o;
      }
    }
    const Qi = gmaxIdx >= 0 ? cache.get(gmaxIdx, perm, active, false) : undefined;
    for (let p = 0; p < active; p++) {
      const o = perm[p]!;
      if (status[o] === LOWER) continue;
      const g = G[o]!;
      const gradDiff = gmax + g;
      if (g >= gmax2) gmax2 = g;
      if (gradDiff > 0) {
        const quad = 2 - 2 * Qi![o]!;
        const objDiff = quad > 0 ? -(gradDiff * gradDiff) / quad : -(gradDiff * gradDiff) / TAU;
        if (objDiff <= objDiffMin) {
          gminIdx = o;
          objDiffMin = objDiff;
        }
      }
    }
    if (gmax + gmax2 < eps || gminIdx === -1) return true;
    wi = gmaxIdx;
    wj = gminIdx;
    return false;
  };

  let iter = 0;
  let counter = Math.min(l, 1000) + 1;
  while (iter < maxIter) {
    if (--counter === 0) {
      counter = Math.min(l, 1000);
      if (shrinking) doShrinking();
    }
    if (selectWorkingSet()) {
      reconstructGradient();
      growActive();
      if (selectWorkingSet()) break;
      counter = 1;
    }
    iter++;
    const i = wi;
    const j = wj;
    const Qi = cache.get(i, perm, active, false);
    const Qj = cache.get(j, perm, active, false);
    const oldAi = alpha[i]!;
    const oldAj = alpha[j]!;
    let quad = 2 - 2 * Qi[j]!;
    if (quad <= 0) quad = TAU;
    const delta = (G[i]! - G[j]!) / quad;
    const sum = oldAi + oldAj;
    let ai = oldAi - delta;
    let aj = oldAj + delta;
    if (sum > 1) {
      if (ai > 1) {
        ai = 1;
        aj = sum - 1;
      }
    } else if (aj < 0) {
      aj = 0;
      ai = sum;
    }
    if (sum > 1) {
      if (aj > 1) {
        aj = 1;
        ai = sum - 1;
      }
    } else if (ai < 0) {
      ai = 0;
      aj = sum;
    }
    alpha[i] = ai;
    alpha[j] = aj;
    const dai = ai - oldAi;
    const daj = aj - oldAj;
    for (let p = 0; p < active; p++) {
      const o = perm[p]!;
      G[o] += Qi[o]! * dai + Qj[o]! * daj;
    }
    const ui = status[i] === UPPER;
    const uj = status[j] === UPPER;
    updateStatus(i);
    updateStatus(j);
    if (ui !== (status[i] === UPPER)) {
      const Q = cache.get(i, perm, active, true);
      if (ui) for (let k = 0; k < l; k++) Gbar[k] -= Q[k]!;
      else for (let k = 0; k < l; k++) Gbar[k] += Q[k]!;
    }
    if (uj !== (status[j] === UPPER)) {
      const Q = cache.get(j, perm, active, true);
      if (uj) for (let k = 0; k < l; k++) Gbar[k] -= Q[k]!;
      else for (let k = 0; k < l; k++) Gbar[k] += Q[k]!;
    }
  }
  if (active < l) {
    reconstructGradient();
    growActive();
  }

  // rho as libsvm's calculate_rho (y = +1): mean G over free variables, else the middle of the bounds.
  let ub = Infinity;
  let lb = -Infinity;
  let nrFree = 0;
  let sumFree = 0;
  for (let p = 0; p < l; p++) {
    const o = perm[p]!; // libsvm's order, so that sum_free adds up to the same bits
    const g = G[o]!;
    if (status[o] === UPPER) lb = Math.max(lb, g);
    else if (status[o] === LOWER) ub = Math.min(ub, g);
    else {
      nrFree++;
      sumFree += g;
    }
  }
  let rho: number;
  if (nrFree > 0) rho = sumFree / nrFree;
  else if (Number.isFinite(ub) && Number.isFinite(lb)) rho = (ub + lb) / 2;
  else rho = Number.isFinite(lb) ? lb : ub; // nu = 1 (all at the upper bound): libsvm would give Infinity
  return { alpha, rho, iterations: iter };
}

// ---------------------------------------------------------------------------------------------------------
// The model

export class OneClassSvm implements AnomalyModel {
  readonly kind = 'ocsvm';
  /** Reference rows for `explain`: the free SVs (row-major), or the medians when there is none. */
  private readonly anchors: Float64Array;
  /** Per-SV exponents of the row being scored (no allocation per row). */
  private readonly scratch: Float64Array;

  private constructor(
    readonly cols: number,
    readonly nu: number,
    /** The resolved RBF gamma. */
    readonly gamma: number,
    /** libsvm's rho (sklearn's offset_ = -intercept_). */
    readonly rho: number,
    /** Support vectors, row-major (nSupport x cols). */
    readonly supportVectors: Float64Array,
    /** Their dual coefficients a_i in (0, 1]. */
    readonly coef: Float64Array,
    /** Per-column medians of the fitted rows. */
    readonly medians: Float64Array,
    /** Rows the solver saw (l, after sampling). */
    readonly trainedRows: number,
    /** SMO iterations. */
    readonly iterations: number,
  ) {
    this.scratch = new Float64Array(coef.length);
    let free = 0;
    for (let k = 0; k < coef.length; k++) if (coef[k]! < 1) free++;
    if (free === 0) this.anchors = medians.slice();
    else {
      this.anchors = new Float64Array(free * cols);
      let f = 0;
      for (let k = 0; k < coef.length; k++) {
        if (coef[k]! >= 1) continue;
        this.anchors.set(supportVectors.subarray(k * cols, k * cols + cols), f * cols);
        f++;
      }
    }
  }

  /** Number of support vectors (a_i > 0). */
  get nSupport(): number {
    return this.coef.length;
  }

  /** Number of bounded support vectors (a_i = 1). */
  get nBounded(): number {
    let b = 0;
    for (let k = 0; k < this.coef.length; k++) if (this.coef[k]! >= 1) b++;
    return b;
  }

  static fit(x: Matrix, opts: OneClassSvmOptions = {}): OneClassSvm {
    const where = 'OneClassSvm.fit';
    const nu = opts.nu ?? 0.1;
    checkNu(where, nu);
    checkMatrix(where, x);
    const gamma = resolveGamma(where, opts.gamma ?? 'scale', x);
    const tol = opts.tol ?? 1e-3;
    if (!(tol > 0) || !Number.isFinite(tol))
      throw new RangeError(`${where}: tol must be a positive number, got ${tol}`);
    const cacheMb = opts.cacheMb ?? 200;
    if (!(cacheMb > 0)) throw new RangeError(`${where}: cacheMb must be positive, got ${cacheMb}`);
    const maxSamples = opts.maxSamples ?? 10_000;
    if (!(maxSamples >= 1)) throw new RangeError(`${where}: maxSamples must be >= 1, got ${maxSamples}`);
    const seed = opts.seed ?? 0;
    if (!Number.isInteger(seed)) throw new RangeError(`${where}: seed must be an integer, got ${seed}`);

    const d = x.cols;
    let data = x.data;
    let l = x.rows;
    if (l > maxSamples) {
      const idx = sampleIndices(l, Math.floor(maxSamples), seed);
      data = gatherRows(x, idx);
      l = idx.length;
    }
    const maxIter = opts.maxIter ?? Math.max(10_000_000, 100 * l);
    if (!(maxIter >= 1)) throw new RangeError(`${where}: maxIter must be >= 1, got ${maxIter}`);
    const res = solveOneClass(
      data,
      l,
      d,
      gamma,
      nu,
      tol,
      opts.shrinking ?? true,
      cacheMb * 1024 * 1024,
      maxIter,
    );

    let nSv = 0;
    for (let i = 0; i < l; i++) if (res.alpha[i]! > 0) nSv++;
    const sv = new Float64Array(nSv * d);
    const coef = new Float64Array(nSv);
    let k = 0;
    for (let i = 0; i < l; i++) {
      if (!(res.alpha[i]! > 0)) continue;
      sv.set(data.subarray(i * d, i * d + d), k * d);
      coef[k] = res.alpha[i]!;
      k++;
    }
    return new OneClassSvm(d, nu, gamma, res.rho, sv, coef, columnMedians(data, l, d), l, res.iterations);
  }

  /** sklearn's decision_function of one row at `data[offset..offset+cols)`: > 0 inlier, < 0 outlier. */
  decisionRow(data: ArrayLike<number>, offset: number): number {
    const { cols, gamma, supportVectors: sv, coef, scratch } = this;
    const n = coef.length;
    for (let i = 0; i < n; i++) {
      const o = i * cols;
      let dist = 0;
      for (let k = 0; k < cols; k++) {
        const t = sv[o + k]! - data[offset + k]!;
        dist += t * t;
      }
      scratch[i] = -gamma * dist;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += coef[i]! * Math.exp(scratch[i]!);
    return s - this.rho;
  }

  /** Anomaly score of one row (-decision); no checks. */
  scoreRow(data: Float64Array, offset: number): number {
    return -this.decisionRow(data, offset);
  }

  /** sklearn's decision_function per row. */
  decision(x: Matrix): Float64Array {
    checkMatrix('OneClassSvm.decision', x, this.cols, true);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) out[i] = this.decisionRow(x.data, i * this.cols);
    return out;
  }

  /** -decision per row: higher = more anomalous (sklearn's value negated). */
  score(x: Matrix): Float64Array {
    checkMatrix('OneClassSvm.score', x, this.cols, true);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) out[i] = -this.decisionRow(x.data, i * this.cols);
    return out;
  }

  /** Per feature, how much the decision rises when it takes the nearest free SV's value (see header). */
  explain(row: ArrayLike<number>, top?: number, names?: readonly string[]): Contribution[] {
    const where = 'OneClassSvm.explain';
    checkRow(where, row, this.cols);
    const a = nearestRow(this.anchors, this.cols, row);
    const ref = this.anchors.subarray(a * this.cols, a * this.cols + this.cols);
    return replacementContributions(where, this.cols, row, ref, (d, o) => this.decisionRow(d, o), top, names);
  }

  toJSON(): OneClassSvmJson {
    return {
      kind: 'ocsvm',
      version: VERSION,
      cols: this.cols,
      nu: this.nu,
      gamma: this.gamma,
      rho: this.rho,
      trainedRows: this.trainedRows,
      iterations: this.iterations,
      supportVectors: Array.from(this.supportVectors),
      coef: Array.from(this.coef),
      medians: Array.from(this.medians),
    };
  }

  static fromJSON(json: unknown): OneClassSvm {
    const where = 'OneClassSvm.fromJSON';
    const o = jsonObject(where, json);
    jsonHeader(where, o, 'ocsvm', VERSION);
    const cols = jsonNumber(where, o, 'cols', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const nu = jsonNumber(where, o, 'nu', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
    const gamma = jsonNumber(where, o, 'gamma', (v) => v > 0, 'a positive number');
    const rho = jsonNumber(where, o, 'rho', () => true, 'a finite number');
    const trainedRows = jsonNumber(
      where,
      o,
      'trainedRows',
      (v) => Number.isInteger(v) && v >= 1,
      'a positive integer',
    );
    const iterations = jsonNumber(
      where,
      o,
      'iterations',
      (v) => Number.isInteger(v) && v >= 0,
      'an integer >= 0',
    );
    const coef = jsonArray(where, o, 'coef', undefined, (v) => v > 0 && v <= 1, 'numbers in (0, 1]');
    if (coef.length === 0 || coef.length > trainedRows)
      throw new Error(
        `${where}: bad field "coef": expected 1..${trainedRows} coefficients, got ${coef.length}`,
      );
    const sv = jsonArray(where, o, 'supportVectors', coef.length * cols);
    const medians = jsonArray(where, o, 'medians', cols);
    return new OneClassSvm(cols, nu, gamma, rho, sv, coef, medians, trainedRows, iterations);
  }
}
