/**
 * Per-endpoint time series and their anomalies: spikes and drops of request volume, error-rate bursts,
 * latency (p95) spikes.
 *
 * `SeriesBuilder` turns events `(endpoint, ts, status, latencyMs)` into aligned buckets (one time axis for
 * every endpoint, Float64Arrays), closing a bucket when the watermark (highest event time minus
 * `latenessMs`) passes its end, so a replay and a live run close the same buckets.
 *
 * Detection is robust and seasonal. A bucket's baseline is the median of the same slot (plus/minus
 * `slotHalfWidth` buckets) in previous weeks when `minPeriods` weeks of history exist (hour-of-week), else in
 * previous days (hour-of-day), else of the previous `rollingBuckets` buckets (for volume, a robust line
 * through them, so a diurnal ramp is not mistaken for a spike). The score is a robust z: (x - baseline) over
 * the scale 1.4826 * MAD of the same values, with a floor for what the metric's own noise allows:
 * - volume: sqrt(baseline) (Poisson counts);
 * - error_rate: on the variance-stabilizing scale asin(sqrt(rate)), 1 / (2 sqrt(requests)) (binomial), and
 *   the baseline is never below the pooled rate of the same buckets (a median of small-sample rates leans to
 *   zero);
 * - latency_p95: in log space (multiplicative, right-skewed noise), 1 / sqrt(requests) or
 *   `latencyRelativeFloor`.
 * A run starts at |z| >= `threshold`, continues while |z| >= `continueThreshold` in the same direction, and
 * is reported when it lasted `minBuckets` buckets or peaked at |z| >= `instantThreshold`.
 *
 * Baselines are causal (only buckets before the scored one), so the batch function over whole arrays and the
 * online detector fed bucket by bucket give the same anomalies on the same data. Both run the same
 * `MetricDetector`.
 */
import { QuantileSketch } from '../features/sketch/quantiles.js';

export const SERIES_METRICS = ['volume', 'error_rate', 'latency_p95'] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];
export type Direction = 'spike' | 'drop';
/** How a bucket's baseline was found. */
export type BaselineMethod = 'weekly' | 'daily' | 'rolling';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

// ---------------------------------------------------------------------------------------------------------
// Building series

/** One closed bucket of one endpoint. */
export interface BucketSummary {
  /** Bucket start, ms since the epoch (a multiple of bucketMs). */
  startTs: number;
  count: number;
  /** Responses with status >= errorStatusMin. */
  errors: number;
  /** errors / count; NaN when count is 0. */
  errorRate: number;
  /** Latency percentiles (ms, within 1 %); NaN when no event of the bucket had a latency. */
  latencyP50: number;
  latencyP95: number;
}

export interface SeriesBuilderOptions {
  /** Bucket width. Default 300,000 (5 minutes); must divide a day for daily/weekly baselines. */
  bucketMs?: number;
  /** How late an event may arrive (behind the highest time seen) and still count. Default: one bucket. */
  latenessMs?: number;
  /** Endpoints tracked; events of further endpoints are counted in `stats.overflow` and dropped. Default 1000. */
  maxEndpoints?: number;
  /**
   * Closed buckets kept per endpoint (the oldest are dropped past it). Memory: about 40 bytes per bucket per
   * endpoint. Default 4032 (two weeks of 5-minute buckets); 0 keeps none (online use through `onBucket`).
   */
  maxBuckets?: number;
  /** Statuses counted as errors: >= this. Default 400 (client and server errors); 500 for server errors only. */
  errorStatusMin?: number;
  /** Called for every endpoint (from its first bucket on) when a bucket closes, in endpoint order. */
  onBucket?: (endpoint: string, bucket: BucketSummary) => void;
}

/** An endpoint's buckets: index i is the bucket starting at startTs + i * bucketMs. */
export interface EndpointSeries {
  endpoint: string;
  startTs: number;
  bucketMs: number;
  /** Requests per bucket; NaN before the endpoint's first event. */
  volume: Float64Array;
  errors: Float64Array;
  errorRate: Float64Array;
  latencyP50: Float64Array;
  latencyP95: Float64Array;
}

export interface SeriesBuilderStats {
  /** Events counted in a bucket. */
  events: number;
  /** Events older than an already closed bucket. */
  late: number;
  /** Events of endpoints beyond maxEndpoints. */
  overflow: number;
  /** Events without a finite time. */
  invalid: number;
  endpoints: number;
}

interface OpenAcc {
  count: number;
  errors: number;
  latency: QuantileSketch | null;
}

const FIELDS = ['volume', 'errors', 'errorRate', 'latencyP50', 'latencyP95'] as const;
type Field = (typeof FIELDS)[number];

/**
 * Events in, aligned per-endpoint buckets out. Memory is bounded: at most `maxEndpoints` endpoints, at most
 * `maxBuckets` closed buckets each, and one accumulator per endpoint per open bucket (latencyMs kept in a
 * 1 %-accurate quantile sketch). Time must not jump far ahead: every bucket in between is closed.
 */
export class SeriesBuilder {
  readonly bucketMs: number;
  readonly latenessMs: number;
  readonly maxEndpoints: number;
  readonly maxBuckets: number;
  readonly errorStatusMin: number;
  private readonly onBucket: ((endpoint: string, bucket: BucketSummary) => void) | undefined;
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  /** Per endpoint: its first bucket number. */
  private readonly first: number[] = [];
  private readonly columns: Record<Field, Float64Array>[] = [];
  /** Bucket number of column index 0. */
  private base = Number.NaN;
  /** Closed buckets held (column length in use). */
  private held = 0;
  private capacity = 0;
  /** Buckets below this number are closed. */
  private nextClose = Number.NaN;
  private maxTs = Number.NEGATIVE_INFINITY;
  private readonly open = new Map<number, Map<number, OpenAcc>>();
  readonly stats: SeriesBuilderStats = { events: 0, late: 0, overflow: 0, invalid: 0, endpoints: 0 };

  constructor(opts: SeriesBuilderOptions = {}) {
    this.bucketMs = opts.bucketMs ?? 300_000;
    this.latenessMs = opts.latenessMs ?? this.bucketMs;
    this.maxEndpoints = opts.maxEndpoints ?? 1000;
    this.maxBuckets = opts.maxBuckets ?? 4032;
    this.errorStatusMin = opts.errorStatusMin ?? 400;
    this.onBucket = opts.onBucket;
    if (!(Number.isInteger(this.bucketMs) && this.bucketMs > 0))
      throw new RangeError('bucketMs must be a positive integer');
    if (!(this.latenessMs >= 0)) throw new RangeError('latenessMs must be >= 0');
    if (!(Number.isInteger(this.maxEndpoints) && this.maxEndpoints > 0))
      throw new RangeError('maxEndpoints must be a positive integer');
    if (!(Number.isInteger(this.maxBuckets) && this.maxBuckets >= 0))
      throw new RangeError('maxBuckets must be an integer >= 0');
  }

  /** Counts one event. False when it was dropped (late, endpoint overflow, invalid time). */
  add(endpoint: string, ts: number, status: number, latencyMs: number | null): boolean {
    if (!Number.isFinite(ts)) {
      this.stats.invalid++;
      return false;
    }
    const b = Math.floor(ts / this.bucketMs);
    if (Number.isNaN(this.nextClose)) {
      this.nextClose = Math.floor((ts - this.latenessMs) / this.bucketMs);
      this.base = this.nextClose;
    }
    if (b < this.nextClose) {
      this.stats.late++;
      return false;
    }
    let id = this.ids.get(endpoint);
    if (id === undefined) {
      if (this.names.length >= this.maxEndpoints) {
        this.stats.overflow++;
        return false;
      }
      id = this.names.length;
      this.ids.set(endpoint, id);
      this.names.push(endpoint);
      this.first.push(b);
      this.stats.endpoints++;
      if (this.maxBuckets > 0) {
        const cols = {} as Record<Field, Float64Array>;
        for (const f of FIELDS) cols[f] = new Float64Array(this.capacity).fill(Number.NaN);
        this.columns.push(cols);
      }
    } else if (b < this.first[id]!) {
      this.first[id] = b;
    }
    let bucket = this.open.get(b);
    if (bucket === undefined) {
      bucket = new Map();
      this.open.set(b, bucket);
    }
    let acc = bucket.get(id);
    if (acc === undefined) {
      acc = { count: 0, errors: 0, latency: null };
      bucket.set(id, acc);
    }
    acc.count++;
    if (status >= this.errorStatusMin) acc.errors++;
    if (latencyMs !== null && latencyMs >= 0 && Number.isFinite(latencyMs)) {
      acc.latency ??= new QuantileSketch();
      acc.latency.add(latencyMs);
    }
    this.stats.events++;
    if (ts > this.maxTs) {
      this.maxTs = ts;
      this.closeBefore(Math.floor((ts - this.latenessMs) / this.bucketMs));
    }
    return true;
  }

  /** Closes every bucket that ends at or before `watermarkMs` (an injected clock, for live input). */
  advanceTo(watermarkMs: number): void {
    if (!Number.isNaN(this.nextClose)) this.closeBefore(Math.floor(watermarkMs / this.bucketMs));
  }

  /** Closes every open bucket (the end of the input). */
  flush(): void {
    if (Number.isNaN(this.nextClose)) return;
    let last = this.nextClose - 1;
    for (const b of this.open.keys()) if (b > last) last = b;
    this.closeBefore(last + 1);
  }

  /** The tracked endpoints, in order of first appearance. */
  endpoints(): string[] {
    return this.names.slice();
  }

  /** Start of the first kept bucket (NaN before any event). */
  get startTs(): number {
    return this.base * this.bucketMs;
  }

  /** Closed buckets kept. */
  get length(): number {
    return this.held;
  }

  /** An endpoint's closed buckets: views valid until the next `add`, `advanceTo` or `flush` (copy to keep). */
  series(endpoint: string): EndpointSeries | undefined {
    const id = this.ids.get(endpoint);
    if (id === undefined || this.maxBuckets === 0) return undefined;
    const c = this.columns[id]!;
    return {
      endpoint,
      startTs: this.startTs,
      bucketMs: this.bucketMs,
      volume: c.volume.subarray(0, this.held),
      errors: c.errors.subarray(0, this.held),
      errorRate: c.errorRate.subarray(0, this.held),
      latencyP50: c.latencyP50.subarray(0, this.held),
      latencyP95: c.latencyP95.subarray(0, this.held),
    };
  }

  private closeBefore(end: number): void {
    while (this.nextClose < end) this.close(this.nextClose++);
  }

  private close(b: number): void {
    const accs = this.open.get(b);
    this.open.delete(b);
    let at = -1;
    if (this.maxBuckets > 0) {
      if (this.held === this.maxBuckets) this.shift();
      if (this.held === this.capacity) this.grow();
      at = this.held++;
    }
    const startTs = b * this.bucketMs;
    for (let id = 0; id < this.names.length; id++) {
      if (this.first[id]! > b) continue;
      const acc = accs?.get(id);
      const count = acc?.count ?? 0;
      const errors = acc?.errors ?? 0;
      const errorRate = count > 0 ? errors / count : Number.NaN;
      const lat = acc?.latency ?? null;
      const latencyP50 = lat === null ? Number.NaN : lat.quantile(0.5)!;
      const latencyP95 = lat === null ? Number.NaN : lat.quantile(0.95)!;
      if (at !== -1) {
        const c = this.columns[id]!;
        c.volume[at] = count;
        c.errors[at] = errors;
        c.errorRate[at] = errorRate;
        c.latencyP50[at] = latencyP50;
        c.latencyP95[at] = latencyP95;
      }
      this.onBucket?.(this.names[id]!, { startTs, count, errors, errorRate, latencyP50, latencyP95 });
    }
  }

  private grow(): void {
    const cap = Math.min(this.maxBuckets, Math.max(64, this.capacity * 2));
    for (const c of this.columns) {
      for (const f of FIELDS) {
        const a = new Float64Array(cap).fill(Number.NaN);
        a.set(c[f]);
        c[f] = a;
      }
    }
    this.capacity = cap;
  }

  /** Drops the oldest eighth of the kept buckets (amortizes the copy). */
  private shift(): void {
    const drop = Math.max(1, this.maxBuckets >> 3);
    for (const c of this.columns) {
      for (const f of FIELDS) {
        c[f].copyWithin(0, drop, this.held);
        c[f].fill(Number.NaN, this.held - drop, this.held);
      }
    }
    this.held -= drop;
    this.base += drop;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Detection

export interface DetectOptions {
  /** |z| at which a run starts. Default 5. */
  threshold?: number;
  /** |z| (same direction) at which a run goes on. Default 3. */
  continueThreshold?: number;
  /** Buckets a run must last to be reported... Default 2. */
  minBuckets?: number;
  /** ...unless its peak |z| reaches this. Default 10. */
  instantThreshold?: number;
  /** error_rate and latency_p95 are scored only in buckets with at least this many requests. Default 20. */
  minCount?: number;
  /** Which seasonal baselines may be used ('auto': weekly, else daily, else rolling). Default 'auto'. */
  seasonality?: 'auto' | 'weekly' | 'daily' | 'none';
  /** Past periods (weeks or days) with data needed for a seasonal baseline. Default 3. */
  minPeriods?: number;
  /** Past days looked at for a daily baseline. Default 7. */
  dailyPeriods?: number;
  /** Past weeks looked at for a weekly baseline. Default 3. */
  weeklyPeriods?: number;
  /** Buckets either side of the same slot that also count. Default 1. */
  slotHalfWidth?: number;
  /** Previous buckets of the rolling baseline. Default 24. */
  rollingBuckets?: number;
  /** Fewer valid previous buckets than this: no baseline yet (cold start). Default 6. */
  minRollingBuckets?: number;
  /** The smallest move of the error share above its baseline that scores 1 (an absolute share). Default 0.01. */
  rateFloor?: number;
  /**
   * Lowest scale of latency_p95, relative (it is scored in log space): this or 1 / sqrt(requests), whichever
   * is larger. Default 0.1.
   */
  latencyRelativeFloor?: number;
  /** Added to latencies before taking logs, so sub-millisecond changes do not count. Default 1 (ms). */
  latencyFloorMs?: number;
  /** Directions reported per metric. Default: volume both, error_rate and latency_p95 spikes only. */
  directions?: Partial<Record<SeriesMetric, readonly Direction[]>>;
}

type Resolved = Required<Omit<DetectOptions, 'directions'>> & {
  directions: Record<SeriesMetric, readonly Direction[]>;
};

export const DEFAULT_DETECT_OPTIONS: Readonly<Resolved> = Object.freeze<Resolved>({
  threshold: 5,
  continueThreshold: 3,
  minBuckets: 2,
  instantThreshold: 10,
  minCount: 20,
  seasonality: 'auto',
  minPeriods: 3,
  dailyPeriods: 7,
  weeklyPeriods: 3,
  slotHalfWidth: 1,
  rollingBuckets: 24,
  minRollingBuckets: 6,
  rateFloor: 0.01,
  latencyRelativeFloor: 0.1,
  latencyFloorMs: 1,
  directions: { volume: ['spike', 'drop'], error_rate: ['spike'], latency_p95: ['spike'] },
});

function resolve(o: DetectOptions): Resolved {
  const r: Resolved = {
    ...DEFAULT_DETECT_OPTIONS,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
    directions: { ...DEFAULT_DETECT_OPTIONS.directions, ...o.directions },
  } as Resolved;
  if (!(r.threshold > 0 && r.continueThreshold > 0 && r.continueThreshold <= r.threshold))
    throw new RangeError('need 0 < continueThreshold <= threshold');
  for (const k of [
    'minBuckets',
    'minPeriods',
    'dailyPeriods',
    'weeklyPeriods',
    'rollingBuckets',
    'minRollingBuckets',
  ] as const)
    if (!(Number.isInteger(r[k]) && r[k] >= 1)) throw new RangeError(`${k} must be a positive integer`);
  if (!(Number.isInteger(r.slotHalfWidth) && r.slotHalfWidth >= 0))
    throw new RangeError('slotHalfWidth must be >= 0');
  return r;
}

/** One reported anomaly: a run of buckets of one metric of one endpoint. */
export interface Anomaly {
  endpoint: string;
  metric: SeriesMetric;
  direction: Direction;
  /** Start of the first bucket of the run. */
  startTs: number;
  /** End (exclusive) of the last bucket of the run. */
  endTs: number;
  buckets: number;
  /** The most extreme value of the run (requests per bucket, a share, or ms). */
  peak: number;
  /** The baseline at the peak. */
  baseline: number;
  /** Robust z at the peak (negative for drops). */
  score: number;
  method: BaselineMethod;
  /** One line for people; the endpoint is quoted as it came (escape it for a terminal). */
  explanation: string;
}

/** Past values of one metric by bucket number: keeps at least the last `keep`, forgets older ones in chunks. */
class History {
  private buf = new Float64Array(0);
  private first = 0;
  private len = 0;
  private readonly maxCap: number;
  constructor(private readonly keep: number) {
    this.maxCap = keep + Math.max(16, keep >> 3);
  }

  get(b: number): number {
    const i = b - this.first;
    return i >= 0 && i < this.len ? this.buf[i]! : Number.NaN;
  }

  push(b: number, v: number): void {
    if (this.len === 0) this.first = b;
    let gap = b - (this.first + this.len);
    if (gap < 0) throw new RangeError(`bucket ${b} pushed after bucket ${this.first + this.len - 1}`);
    if (gap >= this.maxCap) {
      this.first = b;
      this.len = 0;
      gap = 0;
    }
    for (let k = 0; k <= gap; k++) {
      if (this.len === this.maxCap) {
        const drop = this.maxCap - this.keep;
        this.buf.copyWithin(0, drop, this.len);
        this.len -= drop;
        this.first += drop;
      }
      if (this.len === this.buf.length) {
        const next = new Float64Array(Math.min(this.maxCap, Math.max(64, this.buf.length * 2)));
        next.set(this.buf.subarray(0, this.len));
        this.buf = next;
      }
      this.buf[this.len++] = k === gap ? v : Number.NaN;
    }
  }
}

// Shared scratch (scoring is synchronous): the sample's bucket numbers, values and deviations.
let slots = new Float64Array(64);
let values = new Float64Array(64);
let deviations = new Float64Array(64);

function medianOf(a: Float64Array, n: number): number {
  const s = a.subarray(0, n).sort();
  return n % 2 === 1 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

interface Run {
  direction: Direction;
  startB: number;
  endB: number;
  peak: number;
  peakZ: number;
  baseline: number;
  method: BaselineMethod;
  periods: number;
}

const METHOD_TEXT: Record<BaselineMethod, (n: number) => string> = {
  weekly: (n) => `median of the same time of week over the last ${n} week${n === 1 ? '' : 's'}`,
  daily: (n) => `median of the same time of day over the last ${n} day${n === 1 ? '' : 's'}`,
  rolling: (n) => `median of the previous ${n} bucket${n === 1 ? '' : 's'}`,
};

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

function formatValue(metric: SeriesMetric, v: number, bucketMs: number): string {
  if (metric === 'volume') return `${Math.round(v)} requests per ${duration(bucketMs)}`;
  if (metric === 'error_rate') return `${(v * 100).toFixed(1)} % errors`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms p95`;
}

const METRIC_LABEL: Record<SeriesMetric, string> = {
  volume: 'request volume',
  error_rate: 'error rate',
  latency_p95: 'p95 latency',
};

/**
 * One metric of one endpoint, bucket by bucket: scores each bucket against its causal baseline, tracks runs,
 * and returns an anomaly when a qualifying run ends. Buckets must come in increasing order (gaps are missing
 * data).
 */
export class MetricDetector {
  private readonly o: Resolved;
  private readonly history: History;
  /** error_rate only: the request counts of the same buckets (for the pooled rate). */
  private readonly counts: History | null;
  private readonly dayBuckets: number;
  private readonly weekBuckets: number;
  private readonly allowSpike: boolean;
  private readonly allowDrop: boolean;
  private run: Run | null = null;
  private last = Number.NaN;
  // The last score, read by push (no object per bucket).
  private z = Number.NaN;
  private base = Number.NaN;
  private method: BaselineMethod = 'rolling';
  private periods = 0;
  /** The value being scored, and how many bucket numbers `slots` holds for it. */
  private x = Number.NaN;
  private slotCount = 0;

  constructor(
    readonly endpoint: string,
    readonly metric: SeriesMetric,
    readonly bucketMs: number,
    opts: DetectOptions = {},
  ) {
    this.o = resolve(opts);
    const o = this.o;
    const whole = (period: number) => (period % bucketMs === 0 ? period / bucketMs : 0);
    this.dayBuckets = o.seasonality === 'auto' || o.seasonality === 'daily' ? whole(DAY_MS) : 0;
    this.weekBuckets = o.seasonality === 'auto' || o.seasonality === 'weekly' ? whole(WEEK_MS) : 0;
    const h = o.slotHalfWidth;
    const lookback = Math.max(
      o.rollingBuckets,
      this.dayBuckets * o.dailyPeriods + h,
      this.weekBuckets * o.weeklyPeriods + h,
    );
    this.history = new History(lookback + 1);
    const sample = Math.max(o.rollingBuckets, (2 * h + 1) * Math.max(o.dailyPeriods, o.weeklyPeriods));
    if (slots.length < sample) {
      slots = new Float64Array(sample);
      values = new Float64Array(sample);
      deviations = new Float64Array(sample);
    }
    this.counts = metric === 'error_rate' ? new History(lookback + 1) : null;
    const dirs = o.directions[metric];
    this.allowSpike = dirs.includes('spike');
    this.allowDrop = dirs.includes('drop');
  }

  /**
   * Collects into `slots` the bucket numbers with data in the same slot of up to `count` past periods;
   * returns how many periods had data.
   */
  private seasonal(b: number, period: number, count: number): number {
    const h = this.o.slotHalfWidth;
    let n = 0;
    let periods = 0;
    for (let k = 1; k <= count; k++) {
      let any = false;
      for (let d = -h; d <= h; d++) {
        const at = b - k * period + d;
        if (!Number.isNaN(this.history.get(at))) {
          slots[n++] = at;
          any = true;
        }
      }
      if (any) periods++;
    }
    this.slotCount = n;
    return periods;
  }

  /** Scores bucket b (sets z, base, method, periods; z is NaN when the bucket cannot be scored). */
  private score(b: number, x: number, count: number): void {
    this.z = Number.NaN;
    if (Number.isNaN(x)) return;
    if (this.metric !== 'volume' && !(count >= this.o.minCount)) return;
    const o = this.o;
    const weekly = this.weekBuckets > 0 ? this.seasonal(b, this.weekBuckets, o.weeklyPeriods) : 0;
    const daily =
      weekly < o.minPeriods && this.dayBuckets > 0 ? this.seasonal(b, this.dayBuckets, o.dailyPeriods) : 0;
    if (weekly >= o.minPeriods) {
      this.method = 'weekly';
      this.periods = weekly;
    } else if (daily >= o.minPeriods) {
      this.method = 'daily';
      this.periods = daily;
    } else {
      let n = 0;
      for (let j = 1; j <= o.rollingBuckets; j++)
        if (!Number.isNaN(this.history.get(b - j))) slots[n++] = b - j;
      if (n < o.minRollingBuckets) return;
      this.slotCount = n;
      this.method = 'rolling';
      this.periods = n;
    }
    const n = this.slotCount;
    for (let i = 0; i < n; i++) values[i] = this.history.get(slots[i]!);
    if (this.metric === 'latency_p95') {
      // Latency noise is multiplicative and skewed to the right: score in log space, where a p95 of n
      // requests has a robust spread of about 1 / sqrt(n). latencyFloorMs keeps sub-millisecond jitter quiet.
      const f = o.latencyFloorMs;
      for (let i = 0; i < n; i++) values[i] = Math.log(values[i]! + f);
      const lb = medianOf(values, n);
      for (let i = 0; i < n; i++) deviations[i] = Math.abs(values[i]! - lb);
      const floor = Math.max(o.latencyRelativeFloor, 1 / Math.sqrt(count));
      this.base = Math.exp(lb) - f;
      this.z = (Math.log(x + f) - lb) / Math.max(1.4826 * medianOf(deviations, n), floor);
      return;
    }
    if (this.metric === 'volume') {
      if (this.method === 'rolling' && this.trend(b, n)) return;
      const base = medianOf(values, n);
      for (let i = 0; i < n; i++) deviations[i] = Math.abs(values[i]! - base);
      this.base = base;
      this.z = (x - base) / Math.max(1.4826 * medianOf(deviations, n), Math.sqrt(Math.max(base, 1)));
      return;
    }
    // error_rate. A median of rates from buckets with few errors each leans towards zero; the pooled rate
    // (errors / requests over the same buckets) does not: the larger is the baseline. Scored on the
    // variance-stabilizing scale asin(sqrt(rate)), where a binomial share of n requests has a standard
    // deviation of 1 / (2 sqrt(n)) whatever the rate (a normal approximation on the raw share calls 3 errors
    // in 20 requests a burst when 1 is usual).
    let base = medianOf(values, n);
    let errors = 0;
    let requests = 0;
    for (let i = 0; i < n; i++) {
      const c = this.counts!.get(slots[i]!);
      errors += values[i]! * c;
      requests += c;
    }
    if (requests > 0) base = Math.max(base, errors / requests);
    const t = (r: number) => Math.asin(Math.sqrt(Math.min(Math.max(r, 0), 1)));
    const tb = t(base);
    for (let i = 0; i < n; i++) deviations[i] = Math.abs(t(values[i]!) - tb);
    const floor = Math.max(1 / (2 * Math.sqrt(count)), t(base + o.rateFloor) - tb);
    this.base = base;
    this.z = (t(x) - tb) / Math.max(1.4826 * medianOf(deviations, n), floor);
  }

  /**
   * The rolling volume baseline follows the trend (a trailing median lags a diurnal ramp by half its
   * window): the medians of the older and the newer half of the window give a line, extrapolated to this
   * bucket; the scale is the MAD of the values around that line. False when a half has under 3 values.
   */
  private trend(b: number, n: number): boolean {
    const half = this.o.rollingBuckets / 2;
    let nNew = 0;
    let nOld = 0;
    let jNew = 0;
    let jOld = 0;
    for (let i = 0; i < n; i++) {
      const j = b - slots[i]!;
      if (j <= half) {
        deviations[nNew++] = values[i]!;
        jNew += j;
      } else {
        jOld += j;
        nOld++;
      }
    }
    if (nNew < 3 || nOld < 3) return false;
    const mNew = medianOf(deviations, nNew);
    let k = 0;
    for (let i = 0; i < n; i++) if (b - slots[i]! > half) deviations[k++] = values[i]!;
    const mOld = medianOf(deviations, nOld);
    const cNew = jNew / nNew;
    const cOld = jOld / nOld;
    const slope = (mNew - mOld) / (cOld - cNew);
    const at = (j: number) => mNew + slope * (cNew - j);
    const x = this.x;
    const base = Math.max(0, at(0));
    for (let i = 0; i < n; i++) deviations[i] = Math.abs(values[i]! - at(b - slots[i]!));
    const spread = 1.4826 * medianOf(deviations, n);
    this.base = base;
    this.z = (x - base) / Math.max(spread, Math.sqrt(Math.max(base, 1)));
    return true;
  }

  /**
   * Adds bucket number b (its start is b * bucketMs) with its value and request count; returns the anomaly
   * whose run this bucket ended, if any.
   */
  push(b: number, value: number, count: number): Anomaly | null {
    let ended: Anomaly | null = null;
    if (!Number.isNaN(this.last) && b !== this.last + 1) ended = this.endRun();
    this.last = b;
    this.x = value;
    this.score(b, value, count);
    // Rates and latencies of tiny buckets are noise: they are not history either.
    this.history.push(b, this.metric !== 'volume' && !(count >= this.o.minCount) ? Number.NaN : value);
    this.counts?.push(b, count);
    const z = this.z;
    const dir: Direction | null = Number.isNaN(z)
      ? null
      : z >= this.o.threshold && this.allowSpike
        ? 'spike'
        : z <= -this.o.threshold && this.allowDrop
          ? 'drop'
          : null;
    const run = this.run;
    if (run !== null) {
      const goesOn =
        !Number.isNaN(z) &&
        (run.direction === 'spike' ? z >= this.o.continueThreshold : z <= -this.o.continueThreshold);
      if (goesOn) {
        run.endB = b;
        if (Math.abs(z) > Math.abs(run.peakZ)) this.setPeak(run, value, z);
        return ended;
      }
      // A bucket may end one run and start the opposite one: the ended run is reported now.
      ended ??= this.endRun();
    }
    if (dir !== null) {
      this.run = {
        direction: dir,
        startB: b,
        endB: b,
        peak: value,
        peakZ: z,
        baseline: this.base,
        method: this.method,
        periods: this.periods,
      };
    }
    return ended;
  }

  private setPeak(run: Run, value: number, z: number): void {
    run.peak = value;
    run.peakZ = z;
    run.baseline = this.base;
    run.method = this.method;
    run.periods = this.periods;
  }

  /** The run in progress, if it qualifies (the end of the input). */
  flush(): Anomaly | null {
    return this.endRun();
  }

  /** The run in progress as an anomaly so far, if it already qualifies (for alerting before it ends). */
  ongoing(): Anomaly | null {
    return this.run !== null && this.qualifies(this.run) ? this.toAnomaly(this.run) : null;
  }

  private qualifies(r: Run): boolean {
    return r.endB - r.startB + 1 >= this.o.minBuckets || Math.abs(r.peakZ) >= this.o.instantThreshold;
  }

  private endRun(): Anomaly | null {
    const r = this.run;
    this.run = null;
    return r !== null && this.qualifies(r) ? this.toAnomaly(r) : null;
  }

  private toAnomaly(r: Run): Anomaly {
    const startTs = r.startB * this.bucketMs;
    const endTs = (r.endB + 1) * this.bucketMs;
    const buckets = r.endB - r.startB + 1;
    const m = this.metric;
    const explanation =
      `${METRIC_LABEL[m]} ${r.direction} on ${this.endpoint}: ${formatValue(m, r.peak, this.bucketMs)} against a usual ` +
      `${formatValue(m, r.baseline, this.bucketMs)} (${METHOD_TEXT[r.method](r.periods)}), robust z ${r.peakZ.toFixed(1)}, ` +
      `${buckets} bucket${buckets === 1 ? '' : 's'} of ${duration(this.bucketMs)} from ` +
      `${new Date(startTs).toISOString()} to ${new Date(endTs).toISOString()}`;
    return {
      endpoint: this.endpoint,
      metric: m,
      direction: r.direction,
      startTs,
      endTs,
      buckets,
      peak: r.peak,
      baseline: r.baseline,
      score: r.peakZ,
      method: r.method,
      explanation,
    };
  }
}

/** What the batch detector reads: an EndpointSeries fits. */
export interface SeriesInput {
  endpoint: string;
  /** Start of bucket 0; a multiple of bucketMs keeps daily/weekly slots aligned to UTC. */
  startTs: number;
  bucketMs: number;
  volume: ArrayLike<number>;
  errorRate?: ArrayLike<number>;
  latencyP95?: ArrayLike<number>;
}

const byTime = (a: Anomaly, b: Anomaly): number =>
  a.startTs - b.startTs ||
  (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0) ||
  SERIES_METRICS.indexOf(a.metric) - SERIES_METRICS.indexOf(b.metric);

/** Sorts anomalies by start, endpoint, metric (the order both detectors' results compare in). */
export function sortAnomalies(list: Anomaly[]): Anomaly[] {
  return list.sort(byTime);
}

/** The anomalies of one endpoint's series (every metric present), by start time. */
export function detectSeries(s: SeriesInput, opts: DetectOptions = {}): Anomaly[] {
  const out: Anomaly[] = [];
  const b0 = s.startTs / s.bucketMs;
  const n = s.volume.length;
  const metrics: [SeriesMetric, ArrayLike<number> | undefined][] = [
    ['volume', s.volume],
    ['error_rate', s.errorRate],
    ['latency_p95', s.latencyP95],
  ];
  for (const [metric, values] of metrics) {
    if (values === undefined) continue;
    const d = new MetricDetector(s.endpoint, metric, s.bucketMs, opts);
    for (let i = 0; i < n; i++) {
      const count = s.volume[i]!;
      const a = d.push(b0 + i, i < values.length ? values[i]! : Number.NaN, Number.isNaN(count) ? 0 : count);
      if (a !== null) out.push(a);
    }
    const last = d.flush();
    if (last !== null) out.push(last);
  }
  return sortAnomalies(out);
}

/** The anomalies of every endpoint a builder holds (call `flush()` on it first to include open buckets). */
export function detectAll(builder: SeriesBuilder, opts: DetectOptions = {}): Anomaly[] {
  const out: Anomaly[] = [];
  for (const e of builder.endpoints()) {
    const s = builder.series(e);
    if (s !== undefined) out.push(...detectSeries(s, opts));
  }
  return sortAnomalies(out);
}

export interface OnlineDetectorOptions extends DetectOptions {
  bucketMs: number;
  /** Endpoints tracked (about 3 × 8 bytes × the longest lookback each); further ones are counted. Default 1000. */
  maxEndpoints?: number;
  /** Called with each anomaly when its run ends (the same anomalies the batch detector reports). */
  onAnomaly?: (a: Anomaly) => void;
  /** Called once per run as soon as it qualifies, before it ends (endTs and peak so far), to alert early. */
  onOngoing?: (a: Anomaly) => void;
}

/**
 * Scores buckets as they close: feed it from `SeriesBuilder`'s `onBucket`. Per endpoint, one
 * `MetricDetector` per metric.
 */
export class OnlineDetector {
  private readonly opts: OnlineDetectorOptions;
  private readonly maxEndpoints: number;
  private readonly detectors = new Map<string, MetricDetector[]>();
  /** Runs already announced through onOngoing, by detector. */
  private readonly announced = new WeakMap<MetricDetector, number>();
  /** Buckets of endpoints beyond maxEndpoints. */
  overflow = 0;

  constructor(opts: OnlineDetectorOptions) {
    this.opts = opts;
    this.maxEndpoints = opts.maxEndpoints ?? 1000;
    resolve(opts);
  }

  /** One closed bucket of one endpoint; returns the anomalies it ended (also given to onAnomaly). */
  push(endpoint: string, bucket: BucketSummary): Anomaly[] {
    let ds = this.detectors.get(endpoint);
    if (ds === undefined) {
      if (this.detectors.size >= this.maxEndpoints) {
        this.overflow++;
        return [];
      }
      ds = SERIES_METRICS.map((m) => new MetricDetector(endpoint, m, this.opts.bucketMs, this.opts));
      this.detectors.set(endpoint, ds);
    }
    const b = bucket.startTs / this.opts.bucketMs;
    const values = [bucket.count, bucket.errorRate, bucket.latencyP95];
    const out: Anomaly[] = [];
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      const a = d.push(b, values[i]!, bucket.count);
      if (a !== null) {
        out.push(a);
        this.opts.onAnomaly?.(a);
      }
      if (this.opts.onOngoing !== undefined) {
        const cur = d.ongoing();
        if (cur !== null && this.announced.get(d) !== cur.startTs) {
          this.announced.set(d, cur.startTs);
          this.opts.onOngoing(cur);
        }
      }
    }
    return out;
  }

  /** Ends every run in progress (the end of the input). */
  flush(): Anomaly[] {
    const out: Anomaly[] = [];
    for (const ds of this.detectors.values()) {
      for (const d of ds) {
        const a = d.flush();
        if (a !== null) {
          out.push(a);
          this.opts.onAnomaly?.(a);
        }
      }
    }
    return out;
  }
}
