/**
 * A mergeable quantile sketch with a relative-error guarantee, in the manner of DDSketch (Masson, Rim, Lee,
 * VLDB 2019): a histogram over logarithmic buckets, kept sparse while it is small.
 *
 * With gamma = (1 + alpha) / (1 - alpha), a value x >= minValue falls in bucket i = ceil(log_gamma x), which
 * covers (gamma^(i-1), gamma^i]; the bucket answers with 2 gamma^i / (gamma + 1), which is within a factor
 * alpha of every value in the bucket. Values below `minValue` (including 0, common for response bytes) share
 * one zero bucket. The guarantee:
 *
 *   quantile(q) returns v with |v - x| <= alpha * x, where x is the exact q-quantile of the values added
 *   (for x >= minValue; for x < minValue, |v - x| < minValue).
 *
 * It holds for any data and any q, not "on average": the bucket holding the value of the requested rank is
 * found exactly, because counts are exact. Min and max are kept exactly, so q = 0 and q = 1 are exact.
 * "The exact q-quantile" is DuckDB's `quantile_disc(x, q)` with a DOUBLE fraction: the value of rank
 * `max(1, n - floor(n - n q)) - 1` (0-based) in sorted order, i.e. the first value whose cumulative share
 * reaches q. `quantileRank` computes the same rank with the same floating-point steps, so the batch engine's
 * SQL and this sketch answer the same question.
 *
 * Merging adds bucket counts, so it is exact and order-independent: merge(a, b) is the sketch of the
 * concatenated data, byte for byte. There is no collapsing: the number of buckets is bounded by the data's
 * dynamic range, ln(max / minValue) / ln(gamma) (at alpha = 1 %: 115 buckets per factor of 10, so 1 us to
 * 1 h in milliseconds is ~1100 buckets at most, 4.4 KiB dense).
 *
 * Storage:
 * - sparse: a plain array of sorted (bucket, count) pairs, while there are at most `sparseLimit` distinct
 *   buckets. Small integers in a plain array cost 4 bytes each in V8, and the array itself ~16 bytes, where
 *   a typed array costs ~200 bytes of object overhead before its first element: for a key with a handful of
 *   values that is most of its state (the bench's `heapBytesPerKey`).
 * - dense: a Uint32Array of counts for the contiguous range of buckets between the smallest and largest
 *   seen, grown with headroom (4 bytes per bucket in range).
 * Counts are uint32: one bucket holds at most 4,294,967,295 values, past which `add` and `merge` throw a
 * RangeError (a bug-level condition no per-key window approaches; the sketch must then be discarded).
 */
import { err, ok, type Result } from '../../core/result.js';
import { ByteReader, ByteWriter, FORMAT_VERSION, KIND_QUANTILE } from './codec.js';

export interface QuantileSketchOptions {
  /** The relative accuracy alpha: answers are within alpha * the exact value. 0 < alpha < 1, default 0.01. */
  relativeAccuracy?: number;
  /** Values below this count as 0 (absolute error < minValue). Default 1e-9. */
  minValue?: number;
  /** Distinct buckets kept as sparse pairs before switching to a dense range. Default 64. */
  sparseLimit?: number;
}

export const DEFAULT_RELATIVE_ACCURACY = 0.01;
export const DEFAULT_MIN_VALUE = 1e-9;
export const DEFAULT_SPARSE_LIMIT = 64;
const MAX_COUNT = 0xffffffff;
const EMPTY = new Uint32Array(0);

/**
 * The 0-based rank of the q-quantile among n sorted values, as DuckDB's `quantile_disc` computes it for a
 * DOUBLE q: `max(1, n - floor(n - n * q)) - 1`. The subtraction from n absorbs the rounding of `n * q`
 * (0.28 * 25 is 7.000000000000001, yet 25 - that rounds to exactly 18), so keep these steps as they are.
 */
export function quantileRank(q: number, n: number): number {
  return Math.max(1, n - Math.floor(n - n * q)) - 1;
}

/**
 * The constants of one (relativeAccuracy, minValue, sparseLimit) choice, shared by every sketch made with
 * it: V8 keeps each double-valued field of an object in a separate heap box, so six per-sketch constants
 * would cost ~130 bytes per key.
 */
interface Params {
  readonly alpha: number;
  readonly minValue: number;
  readonly sparseLimit: number;
  readonly gamma: number;
  readonly logGamma: number;
  /** 1 / ln(gamma): a multiplication in `add` instead of a division. */
  readonly invLogGamma: number;
}

const paramsCache = new Map<string, Params>();

function params(opts: QuantileSketchOptions): Params {
  const alpha = opts.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY;
  const minValue = opts.minValue ?? DEFAULT_MIN_VALUE;
  const sparseLimit = opts.sparseLimit ?? DEFAULT_SPARSE_LIMIT;
  const key = `${alpha}/${minValue}/${sparseLimit}`;
  const cached = paramsCache.get(key);
  if (cached !== undefined) return cached;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError('relativeAccuracy must be in (0, 1)');
  if (!(minValue > 0 && Number.isFinite(minValue)))
    throw new RangeError('minValue must be a positive number');
  if (!Number.isInteger(sparseLimit) || sparseLimit < 0 || sparseLimit > 1 << 20)
    throw new RangeError('sparseLimit must be an integer in 0..1048576');
  const gamma = (1 + alpha) / (1 - alpha);
  const logGamma = Math.log(gamma);
  const invLogGamma = 1 / logGamma;
  // Bucket indices must stay far inside int32 (they are stored biased by 2^31).
  if (
    Math.abs(Math.log(minValue) * invLogGamma) > 2 ** 30 ||
    Math.log(Number.MAX_VALUE) * invLogGamma > 2 ** 30
  )
    throw new RangeError('relativeAccuracy too small for this minValue');
  const p: Params = Object.freeze({ alpha, minValue, sparseLimit, gamma, logGamma, invLogGamma });
  // A handful of configurations exist in practice; the bound only guards against a caller looping over many.
  if (paramsCache.size < 64) paramsCache.set(key, p);
  return p;
}

export class QuantileSketch {
  private readonly params: Params;
  /** Number of values added (zero bucket included, rejected values not). */
  count = 0;
  /** Values in [0, minValue). */
  zeroCount = 0;
  /** Values refused by `add`: negative, NaN or infinite. They are not in `count`. */
  rejected = 0;
  /** Exact smallest and largest value added (Infinity / -Infinity while empty). */
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** Sparse: [bucket, count, bucket, count, ...] sorted by bucket; null once dense. */
  private sp: number[] | null = [];
  /** Dense: counts of buckets offset .. offset + buf.length - 1. */
  private buf: Uint32Array = EMPTY;
  /** Dense: the bucket index of buf[0]. */
  private offset = 0;

  constructor(opts: QuantileSketchOptions = {}) {
    this.params = params(opts);
  }

  /** The relative accuracy alpha. */
  get relativeAccuracy(): number {
    return this.params.alpha;
  }

  /** Values below this are counted as 0. */
  get minValue(): number {
    return this.params.minValue;
  }

  get sparseLimit(): number {
    return this.params.sparseLimit;
  }

  /** The bucket of x (x >= minValue): ceil(log_gamma x). */
  private bucket(x: number): number {
    return Math.ceil(Math.log(x) * this.params.invLogGamma);
  }

  /** The value a bucket answers with: within alpha of everything in (gamma^(i-1), gamma^i]. */
  private bucketValue(i: number): number {
    const p = this.params;
    return (2 * Math.exp(i * p.logGamma)) / (p.gamma + 1);
  }

  /**
   * Adds one value. Latencies and sizes are never negative; a negative, NaN or infinite value is counted in
   * `rejected` and otherwise ignored, so one bad field cannot poison a key's state or stop a stream.
   */
  add(x: number): void {
    if (!(x >= 0 && x < Number.POSITIVE_INFINITY)) {
      this.rejected++;
      return;
    }
    this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (x < this.params.minValue) {
      this.zeroCount++;
      return;
    }
    this.addToBucket(this.bucket(x), 1);
  }

  private addToBucket(b: number, n: number): void {
    const sp = this.sp;
    if (sp === null) {
      let i = b - this.offset;
      if (i < 0 || i >= this.buf.length) i = this.extend(b);
      const c = this.buf[i]! + n;
      if (c > MAX_COUNT) throw new RangeError('QuantileSketch: bucket count overflow');
      this.buf[i] = c;
      return;
    }
    // Sparse: binary search over the sorted buckets (even positions).
    let lo = 0;
    let hi = sp.length >>> 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sp[2 * mid]! < b) lo = mid + 1;
      else hi = mid;
    }
    if (2 * lo < sp.length && sp[2 * lo] === b) {
      const c = sp[2 * lo + 1]! + n;
      if (c > MAX_COUNT) throw new RangeError('QuantileSketch: bucket count overflow');
      sp[2 * lo + 1] = c;
      return;
    }
    if (sp.length >>> 1 >= this.params.sparseLimit) {
      this.toDense();
      this.addToBucket(b, n);
      return;
    }
    // A new bucket: open a gap of one pair at `lo`.
    sp.push(0, 0);
    for (let k = sp.length - 1; k >= 2 * lo + 2; k--) sp[k] = sp[k - 2]!;
    sp[2 * lo] = b;
    sp[2 * lo + 1] = n;
  }

  private toDense(): void {
    const sp = this.sp!;
    this.sp = null;
    if (sp.length === 0) return;
    const first = sp[0]!;
    this.offset = first;
    this.buf = new Uint32Array(sp[sp.length - 2]! - first + 1);
    for (let k = 0; k < sp.length; k += 2) this.buf[sp[k]! - first] = sp[k + 1]!;
  }

  /**
   * Grows the dense range to include bucket b, with headroom of a quarter of the new range (at least 16
   * buckets) on the side that grew, so a slowly widening range does not copy on every new extreme. Returns
   * b's position in the new array.
   */
  private extend(b: number): number {
    const old = this.buf;
    if (old.length === 0) {
      this.buf = new Uint32Array(16);
      this.offset = b - 8;
      return 8;
    }
    const lo = Math.min(b, this.offset);
    const hi = Math.max(b, this.offset + old.length - 1);
    const pad = Math.max(16, (hi - lo + 1) >>> 2);
    const newLo = b < this.offset ? lo - pad : lo;
    const newHi = b < this.offset ? hi : hi + pad;
    const next = new Uint32Array(newHi - newLo + 1);
    next.set(old, this.offset - newLo);
    this.buf = next;
    this.offset = newLo;
    return b - newLo;
  }

  /**
   * The value at the q-quantile (0 <= q <= 1), within the relative accuracy of the exact one (see the
   * module comment for the rank definition), or null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    if (!(q >= 0 && q <= 1)) throw new RangeError('quantile q must be in [0, 1]');
    const rank = quantileRank(q, this.count);
    if (rank === 0) return this.min;
    if (rank === this.count - 1) return this.max;
    // The value of `rank` is in the first bucket whose cumulative count exceeds it.
    let seen = this.zeroCount;
    if (rank < seen) return this.min;
    let b: number;
    const sp = this.sp;
    if (sp === null) {
      const buf = this.buf;
      let i = 0;
      for (; i < buf.length; i++) {
        seen += buf[i]!;
        if (seen > rank) break;
      }
      b = this.offset + i;
    } else {
      let k = 0;
      for (; k < sp.length; k += 2) {
        seen += sp[k + 1]!;
        if (seen > rank) break;
      }
      b = sp[k]!;
    }
    // The exact extremes are better answers than a bucket's representative beyond them.
    return Math.min(this.max, Math.max(this.min, this.bucketValue(b)));
  }

  /** Adds everything `other` has seen. Both must have the same relative accuracy and minValue. */
  merge(other: QuantileSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy || other.minValue !== this.minValue)
      throw new RangeError('cannot merge quantile sketches with a different relativeAccuracy or minValue');
    if (other.count === 0 && other.rejected === 0) return;
    this.count += other.count;
    this.zeroCount += other.zeroCount;
    this.rejected += other.rejected;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    const osp = other.sp;
    if (osp !== null) {
      for (let k = 0; k < osp.length; k += 2) this.addToBucket(osp[k]!, osp[k + 1]!);
      return;
    }
    // Dense into anything: make this dense and cover the other's used range once, then add counts.
    const ob = other.buf;
    if (this.sp !== null) this.toDense();
    let first = 0;
    while (first < ob.length && ob[first] === 0) first++;
    let last = ob.length - 1;
    while (last >= first && ob[last] === 0) last--;
    if (first > last) return;
    this.reserve(other.offset + first, other.offset + last);
    const buf = this.buf;
    const shift = other.offset - this.offset;
    for (let i = first; i <= last; i++) {
      const c = buf[i + shift]! + ob[i]!;
      if (c > MAX_COUNT) throw new RangeError('QuantileSketch: bucket count overflow');
      buf[i + shift] = c;
    }
  }

  /** Makes the dense range cover buckets lo..hi. */
  private reserve(lo: number, hi: number): void {
    if (this.buf.length === 0) {
      this.buf = new Uint32Array(hi - lo + 1);
      this.offset = lo;
      return;
    }
    if (lo < this.offset) this.extend(lo);
    if (hi >= this.offset + this.buf.length) this.extend(hi);
  }

  clone(): QuantileSketch {
    const c = new QuantileSketch({
      relativeAccuracy: this.relativeAccuracy,
      minValue: this.minValue,
      sparseLimit: this.sparseLimit,
    });
    c.merge(this);
    return c;
  }

  /**
   * Bytes of bucket storage: 4 per number of the sparse array (V8 stores small integers in 4 bytes), or the
   * dense array's length (capacity, headroom included). Object headers are not counted; the bench measures
   * the whole heap cost per key.
   */
  bytes(): number {
    return this.sp !== null ? this.sp.length * 4 : this.buf.byteLength;
  }

  /** True while the buckets are kept as sparse pairs. */
  get sparse(): boolean {
    return this.sp !== null;
  }

  /** Number of non-empty buckets (the zero bucket not included). */
  buckets(): number {
    if (this.sp !== null) return this.sp.length >>> 1;
    let n = 0;
    for (let i = 0; i < this.buf.length; i++) if (this.buf[i] !== 0) n++;
    return n;
  }

  /** Calls fn(bucket, count) for every non-empty bucket in increasing order. */
  private forEachBucket(fn: (b: number, c: number) => void): void {
    const sp = this.sp;
    if (sp !== null) {
      for (let k = 0; k < sp.length; k += 2) fn(sp[k]!, sp[k + 1]!);
    } else {
      const buf = this.buf;
      for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) fn(this.offset + i, buf[i]!);
    }
  }

  /**
   * Compact bytes: version, kind, alpha and minValue (f64), count, zeroCount, rejected (varints), min and max
   * (f64, only when count > 0), the number of buckets, then each bucket as a zig-zag delta from the previous
   * one and its count (varints; ~2-3 bytes per bucket). The same data gives the same bytes, however it was
   * added or merged and whether the sketch was sparse or dense.
   */
  serialize(): Uint8Array {
    const w = new ByteWriter(48 + this.buckets() * 3);
    w.u8(FORMAT_VERSION);
    w.u8(KIND_QUANTILE);
    w.f64(this.relativeAccuracy);
    w.f64(this.minValue);
    w.varint(this.count);
    w.varint(this.zeroCount);
    w.varint(this.rejected);
    if (this.count > 0) {
      w.f64(this.min);
      w.f64(this.max);
    }
    w.varint(this.buckets());
    let prev = 0;
    this.forEachBucket((b, c) => {
      w.svarint(b - prev);
      w.varint(c);
      prev = b;
    });
    return w.finish();
  }

  /**
   * Reads a serialized sketch. `sparseLimit` is a memory choice, not part of the data, so it comes from the
   * options (default 64).
   */
  static deserialize(
    bytes: Uint8Array,
    opts: Pick<QuantileSketchOptions, 'sparseLimit'> = {},
  ): Result<QuantileSketch> {
    const r = new ByteReader(bytes);
    const version = r.u8();
    const kind = r.u8();
    const alpha = r.f64();
    const minValue = r.f64();
    const count = r.varint();
    const zeroCount = r.varint();
    const rejected = r.varint();
    if (r.failed) return err('QuantileSketch: truncated header');
    if (version !== FORMAT_VERSION) return err(`QuantileSketch: unknown format version ${version}`);
    if (kind !== KIND_QUANTILE) return err(`QuantileSketch: unknown kind ${kind}`);
    let s: QuantileSketch;
    try {
      s = new QuantileSketch({ relativeAccuracy: alpha, minValue, sparseLimit: opts.sparseLimit });
    } catch (e) {
      return err(`QuantileSketch: ${(e as Error).message}`);
    }
    const min = count > 0 ? r.f64() : Number.POSITIVE_INFINITY;
    const max = count > 0 ? r.f64() : Number.NEGATIVE_INFINITY;
    const n = r.varint();
    if (r.failed) return err('QuantileSketch: truncated header');
    if (zeroCount > count || (count > 0 && !(min >= 0 && min <= max && max < Number.POSITIVE_INFINITY)))
      return err('QuantileSketch: inconsistent header');
    let total = zeroCount;
    let b = 0;
    let prevBucket = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      b += r.svarint();
      const c = r.varint();
      if (r.failed) return err('QuantileSketch: truncated buckets');
      if (b <= prevBucket || c < 1 || c > MAX_COUNT || Math.abs(b) > 2 ** 30)
        return err('QuantileSketch: bad bucket');
      prevBucket = b;
      total += c;
      s.addToBucket(b, c);
    }
    if (!r.done) return err('QuantileSketch: trailing bytes');
    if (total !== count) return err('QuantileSketch: bucket counts do not add up to count');
    s.count = count;
    s.zeroCount = zeroCount;
    s.rejected = rejected;
    s.min = min;
    s.max = max;
    return ok(s);
  }
}
