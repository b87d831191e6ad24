import { describe, expect, it } from 'vitest';
import { Rng } from '../simulate/random.js';
import {
  type Anomaly,
  type BucketSummary,
  detectAll,
  detectSeries,
  MetricDetector,
  OnlineDetector,
  SeriesBuilder,
  sortAnomalies,
} from './timeseries.js';

const B = 300_000; // 5-minute buckets
const PER_DAY = 288;
const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC

/** Expected requests per 5 minutes: a diurnal sine between base - amp and base + amp. */
const diurnal = (i: number, base = 200, amp = 100) =>
  base + amp * Math.sin((2 * Math.PI * (i % PER_DAY)) / PER_DAY);

interface Injection {
  at: number;
  length: number;
  /** Multiplies the expected volume. */
  volume?: number;
  /** Replaces the error probability. */
  errorP?: number;
  /** Multiplies latency. */
  latency?: number;
}

const inWindow = (i: number, x: Injection) => i >= x.at && i < x.at + x.length;

/** Volume and error-rate arrays with Poisson / binomial noise. */
function arrays(seed: number, buckets: number, inject: Injection[] = [], errorP = 0.01) {
  const rng = new Rng(seed);
  const volume = new Float64Array(buckets);
  const errorRate = new Float64Array(buckets);
  for (let i = 0; i < buckets; i++) {
    let lambda = diurnal(i);
    let p = errorP;
    for (const x of inject) {
      if (!inWindow(i, x)) continue;
      lambda *= x.volume ?? 1;
      p = x.errorP ?? p;
    }
    const n = rng.poisson(lambda);
    let errors = 0;
    for (let k = 0; k < n; k++) if (rng.chance(p)) errors++;
    volume[i] = n;
    errorRate[i] = n > 0 ? errors / n : Number.NaN;
  }
  return { endpoint: 'GET /api/v1/orders', startTs: T0, bucketMs: B, volume, errorRate };
}

interface Ev {
  endpoint: string;
  ts: number;
  status: number;
  latencyMs: number;
}

/** Events of several endpoints, bucket by bucket (random order inside a bucket, within the lateness). */
function events(
  seed: number,
  days: number,
  endpoints: { endpoint: string; base: number; amp: number; inject?: Injection[] }[],
): Ev[] {
  const rng = new Rng(seed);
  const out: Ev[] = [];
  for (let i = 0; i < days * PER_DAY; i++) {
    const bucket: Ev[] = [];
    for (const e of endpoints) {
      let lambda = diurnal(i, e.base, e.amp);
      let p = 0.01;
      let lat = 1;
      for (const x of e.inject ?? []) {
        if (!inWindow(i, x)) continue;
        lambda *= x.volume ?? 1;
        p = x.errorP ?? p;
        lat *= x.latency ?? 1;
      }
      const n = rng.poisson(lambda);
      for (let k = 0; k < n; k++) {
        bucket.push({
          endpoint: e.endpoint,
          ts: T0 + i * B + rng.int(0, B - 1),
          status: rng.chance(p) ? 503 : 200,
          latencyMs: rng.logNormal(80, 0.5) * lat,
        });
      }
    }
    // Shuffle inside the bucket: arrival order is not time order.
    for (let k = bucket.length - 1; k > 0; k--) {
      const j = rng.int(0, k);
      [bucket[k], bucket[j]] = [bucket[j]!, bucket[k]!];
    }
    out.push(...bucket);
  }
  return out;
}

const only = (list: Anomaly[], metric: Anomaly['metric']) => list.filter((a) => a.metric === metric);

describe('SeriesBuilder', () => {
  it('builds aligned buckets of volume, error rate and latency percentiles', () => {
    const s = new SeriesBuilder({ bucketMs: 60_000 });
    const t = Date.UTC(2026, 0, 5, 10, 0);
    for (let i = 0; i < 100; i++) s.add('GET /a', t + i * 100, i < 10 ? 500 : 200, i + 1);
    s.add('GET /a', t + 60_000, 404, null);
    s.add('GET /b', t + 3 * 60_000 + 5, 200, 7);
    s.flush();
    expect(s.startTs).toBe(t - 60_000);
    expect(s.length).toBe(5);
    const a = s.series('GET /a')!;
    expect([...a.volume].map((x) => (Number.isNaN(x) ? null : x))).toEqual([null, 100, 1, 0, 0]);
    expect([...a.errors].map((x) => (Number.isNaN(x) ? null : x))).toEqual([null, 10, 1, 0, 0]);
    expect([...a.errorRate].map((x) => (Number.isNaN(x) ? null : x))).toEqual([null, 0.1, 1, null, null]);
    expect(a.latencyP50[1]).toBeCloseTo(50, -0.3);
    expect(Math.abs(a.latencyP95[1]! - 95) / 95).toBeLessThan(0.011);
    expect(Number.isNaN(a.latencyP95[2]!)).toBe(true);
    // An endpoint has no values before its first event (not zeros).
    const b = s.series('GET /b')!;
    expect([...b.volume].map((x) => (Number.isNaN(x) ? null : x))).toEqual([null, null, null, null, 1]);
    expect(s.stats).toEqual({ events: 102, late: 0, overflow: 0, invalid: 0, endpoints: 2 });
  });

  it('counts late, overflowing and timeless events instead of keeping them', () => {
    const s = new SeriesBuilder({ bucketMs: 60_000, latenessMs: 30_000, maxEndpoints: 1 });
    const t = Date.UTC(2026, 0, 5);
    expect(s.add('a', t + 200_000, 200, 1)).toBe(true);
    expect(s.add('a', t + 175_000, 200, 1)).toBe(true); // inside the lateness
    expect(s.add('a', t + 100_000, 200, 1)).toBe(false); // its bucket closed
    expect(s.add('b', t + 200_000, 200, 1)).toBe(false);
    expect(s.add('a', Number.NaN, 200, 1)).toBe(false);
    expect(s.stats).toEqual({ events: 2, late: 1, overflow: 1, invalid: 1, endpoints: 1 });
  });

  it('closes buckets on an injected clock, hands them to onBucket, and keeps at most maxBuckets', () => {
    const seen: [string, BucketSummary][] = [];
    const s = new SeriesBuilder({
      bucketMs: 60_000,
      latenessMs: 0,
      maxBuckets: 16,
      onBucket: (e, b) => seen.push([e, b]),
    });
    const t = Date.UTC(2026, 0, 5);
    s.add('a', t + 1, 200, 5);
    s.advanceTo(t + 59_999);
    expect(seen).toHaveLength(0);
    s.advanceTo(t + 60_000);
    expect(seen.map(([e, b]) => [e, b.startTs, b.count])).toEqual([['a', t, 1]]);
    for (let m = 1; m < 40; m++) s.add('a', t + m * 60_000, 200, 5);
    s.flush();
    expect(seen).toHaveLength(40);
    expect(s.length).toBeLessThanOrEqual(16);
    expect(s.startTs + s.length * 60_000).toBe(t + 40 * 60_000);
    expect([...s.series('a')!.volume].every((v) => v === 1)).toBe(true);
    const none = new SeriesBuilder({ maxBuckets: 0 });
    none.add('a', t, 200, 1);
    none.flush();
    expect(none.series('a')).toBeUndefined();
  });
});

describe('detectSeries', () => {
  const DAYS = 10;
  const spike: Injection = { at: 8 * PER_DAY + 120, length: 6, volume: 3 }; // day 8, 10:00-10:30
  const drop: Injection = { at: 9 * PER_DAY + 168, length: 8, volume: 0.2 }; // day 9, 14:00-14:40

  it('finds an injected spike and drop in a diurnal Poisson series, start and end within a bucket', () => {
    const s = arrays(1, DAYS * PER_DAY, [spike, drop]);
    const found = only(detectSeries(s), 'volume');
    expect(found.map((a) => a.direction)).toEqual(['spike', 'drop']);
    const [up, down] = found as [Anomaly, Anomaly];
    for (const [a, x] of [
      [up, spike],
      [down, drop],
    ] as const) {
      expect(Math.abs(a.startTs - (T0 + x.at * B))).toBeLessThanOrEqual(B);
      expect(Math.abs(a.endTs - (T0 + (x.at + x.length) * B))).toBeLessThanOrEqual(B);
      expect(a.method).toBe('daily');
    }
    expect(up.score).toBeGreaterThan(10);
    expect(up.peak).toBeGreaterThan(2 * up.baseline);
    expect(down.score).toBeLessThan(-5);
    expect(up.explanation).toMatch(
      /^request volume spike on GET \/api\/v1\/orders: \d+ requests per 5 min against a usual \d+ requests per 5 min \(median of the same time of day over the last 7 days\), robust z \d+\.\d, \d+ buckets of 5 min from 2026-01-13T10:[0-9:.]+Z to 2026-01-13T10:[0-9:.]+Z$/,
    );
  });

  it('finds an error-rate burst', () => {
    const burst: Injection = { at: 5 * PER_DAY + 200, length: 6, errorP: 0.3 };
    const found = detectSeries(arrays(2, 7 * PER_DAY, [burst]));
    expect(found.map((a) => [a.metric, a.direction])).toEqual([['error_rate', 'spike']]);
    const a = found[0]!;
    expect(Math.abs(a.startTs - (T0 + burst.at * B))).toBeLessThanOrEqual(B);
    expect(Math.abs(a.endTs - (T0 + (burst.at + burst.length) * B))).toBeLessThanOrEqual(B);
    expect(a.explanation).toMatch(
      /^error rate spike on .*: \d+\.\d % errors against a usual \d\.\d % errors/,
    );
  });

  it('flags nothing in clean series (7 days of 5-minute buckets, several seeds)', () => {
    for (let seed = 10; seed < 20; seed++)
      expect(detectSeries(arrays(seed, 7 * PER_DAY)), `seed ${seed}`).toEqual([]);
  });

  it('does not crash on short, empty or NaN-ridden series', () => {
    const empty = { endpoint: 'e', startTs: T0, bucketMs: B, volume: new Float64Array(0) };
    expect(detectSeries(empty)).toEqual([]);
    for (let n = 1; n <= 8; n++) expect(detectSeries(arrays(3, n))).toEqual([]);
    const nan = { endpoint: 'e', startTs: T0, bucketMs: B, volume: new Float64Array(500).fill(Number.NaN) };
    expect(detectSeries({ ...nan, errorRate: nan.volume, latencyP95: nan.volume })).toEqual([]);
    // Holes do not break detection: the spike is still found, and nothing else.
    const s = arrays(4, 4 * PER_DAY, [{ at: 3 * PER_DAY + 100, length: 4, volume: 4 }]);
    for (let i = 5; i < s.volume.length; i += 37) s.volume[i] = Number.NaN;
    const found = detectSeries(s);
    expect(found.map((a) => [a.metric, a.direction, (a.startTs - T0) / B])).toEqual([
      ['volume', 'spike', 3 * PER_DAY + 100],
    ]);
    // A cold start: no baseline until minRollingBuckets values exist.
    const d = new MetricDetector('e', 'volume', B);
    for (let i = 0; i < 6; i++) expect(d.push(i, i === 5 ? 10_000 : 100, 100)).toBeNull();
    expect(d.flush()).toBeNull();
  });

  it('reports a single bucket only when it is extreme, and honours minBuckets', () => {
    const s = arrays(5, 4 * PER_DAY);
    const i = 3 * PER_DAY + 50;
    s.volume[i] = s.volume[i]! + 20 * Math.sqrt(diurnal(i)); // z well over 10: reported alone
    s.volume[i + 100] = s.volume[i + 100]! + 9 * Math.sqrt(diurnal(i + 100)); // z between 5 and 10: too short
    const found = detectSeries(s);
    expect(found.map((a) => [(a.startTs - T0) / B, a.buckets])).toEqual([[i, 1]]);
    expect(detectSeries(s, { instantThreshold: 100 })).toEqual([]);
    expect(detectSeries(s, { minBuckets: 1 }).map((a) => (a.startTs - T0) / B)).toEqual([i, i + 100]);
  });

  it('uses the weekly baseline once three weeks exist, so quiet weekends are not drops', () => {
    const H = 3_600_000;
    const rng = new Rng(6);
    const hours = 5 * 7 * 24;
    const volume = new Float64Array(hours);
    const weekendDay = (h: number) => Math.floor(h / 24) % 7 >= 5;
    for (let h = 0; h < hours; h++)
      volume[h] = rng.poisson(
        (weekendDay(h) ? 300 : 1500) * (1 + 0.5 * Math.sin((2 * Math.PI * (h % 24)) / 24)),
      );
    const spikeAt = 4 * 168 + 2 * 24 + 9; // week 5, Wednesday 09:00
    for (let h = spikeAt; h < spikeAt + 3; h++) volume[h] = volume[h]! * 2;
    const found = detectSeries({ endpoint: 'e', startTs: T0, bucketMs: H, volume });
    // Weeks 1-3 lean on daily baselines (Saturday after Friday is a drop there); from week 4 on, weekly.
    const late = found.filter((a) => a.startTs >= T0 + 3 * 168 * H);
    expect(late.map((a) => [a.direction, (a.startTs - T0) / H, a.method])).toEqual([
      ['spike', spikeAt, 'weekly'],
    ]);
    expect(late[0]!.explanation).toContain('median of the same time of week over the last 3 weeks');
    const dailyOnly = detectSeries(
      { endpoint: 'e', startTs: T0, bucketMs: H, volume },
      { seasonality: 'daily' },
    );
    expect(dailyOnly.some((a) => a.direction === 'drop' && a.startTs >= T0 + 3 * 168 * H)).toBe(true);
  });

  it('refuses nonsense options', () => {
    expect(() => new MetricDetector('e', 'volume', B, { threshold: 2, continueThreshold: 3 })).toThrow(
      RangeError,
    );
    expect(() => new MetricDetector('e', 'volume', B, { minBuckets: 0 })).toThrow(RangeError);
  });
});

describe('online and batch detection', () => {
  it('give the same anomalies on the same events', () => {
    const spec = [
      {
        endpoint: 'POST /api/login',
        base: 60,
        amp: 30,
        inject: [
          { at: 5 * PER_DAY + 110, length: 5, volume: 4 },
          { at: 6 * PER_DAY + 150, length: 6, errorP: 0.4 },
        ],
      },
      {
        endpoint: 'GET /api/v1/products/{id}',
        base: 40,
        amp: 20,
        inject: [
          { at: 7 * PER_DAY + 60, length: 6, volume: 0.1 },
          { at: 4 * PER_DAY + 72, length: 4, latency: 3 },
        ],
      },
    ];
    const evs = events(7, 8, spec);

    const batch = new SeriesBuilder({ bucketMs: B });
    for (const e of evs) batch.add(e.endpoint, e.ts, e.status, e.latencyMs);
    batch.flush();
    const fromBatch = detectAll(batch);

    const emitted: Anomaly[] = [];
    const early: Anomaly[] = [];
    const online = new OnlineDetector({
      bucketMs: B,
      onAnomaly: (a) => emitted.push(a),
      onOngoing: (a) => early.push(a),
    });
    const stream = new SeriesBuilder({ bucketMs: B, maxBuckets: 0, onBucket: (e, b) => online.push(e, b) });
    for (const e of evs) stream.add(e.endpoint, e.ts, e.status, e.latencyMs);
    stream.flush();
    online.flush();

    expect(sortAnomalies(emitted)).toEqual(fromBatch);

    expect(fromBatch.map((a) => [a.endpoint, a.metric, a.direction, (a.startTs - T0) / B])).toEqual(
      expect.arrayContaining([
        ['GET /api/v1/products/{id}', 'latency_p95', 'spike', 4 * PER_DAY + 72],
        ['POST /api/login', 'volume', 'spike', 5 * PER_DAY + 110],
        ['POST /api/login', 'error_rate', 'spike', 6 * PER_DAY + 150],
        ['GET /api/v1/products/{id}', 'volume', 'drop', 7 * PER_DAY + 60],
      ]),
    );
    expect(fromBatch).toHaveLength(4);
    // Each run was announced while it went on, with the same start.
    expect(early.map((a) => `${a.endpoint} ${a.metric} ${a.startTs}`).sort()).toEqual(
      fromBatch.map((a) => `${a.endpoint} ${a.metric} ${a.startTs}`).sort(),
    );
  });

  it('treats a gap in pushed buckets as missing data and caps endpoints', () => {
    const online = new OnlineDetector({ bucketMs: B, maxEndpoints: 1 });
    const bucket = (i: number, count: number): BucketSummary => ({
      startTs: T0 + i * B,
      count,
      errors: 0,
      errorRate: 0,
      latencyP50: 10,
      latencyP95: 20,
    });
    for (let i = 0; i < 30; i++) expect(online.push('a', bucket(i, 100))).toEqual([]);
    expect(online.push('a', bucket(40, 1000))).toEqual([]);
    expect(online.push('a', bucket(41, 1000))).toEqual([]);
    const ended = online.push('a', bucket(42, 100));
    expect(ended.map((a) => [a.direction, (a.startTs - T0) / B, a.buckets])).toEqual([['spike', 40, 2]]);
    expect(online.push('b', bucket(43, 1))).toEqual([]);
    expect(online.overflow).toBe(1);
    expect(online.flush()).toEqual([]);
  });
});
