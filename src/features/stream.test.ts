import { describe, expect, it } from 'vitest';
import { defaultFeatures } from './defaults.js';
import { type FeatureEvent, numericIdOf } from './enrich.js';
import { type FeatureInput, parseFeatures } from './spec.js';
import { KEY_SEP, type Snapshot, StreamEngine } from './stream.js';
import { featureEvent, simulatedFeatureEvents, specs } from './testing.js';

const fe = featureEvent;

function run(engine: StreamEngine, events: FeatureEvent[]): Snapshot[] {
  const out: Snapshot[] = [];
  for (const e of events) out.push(...engine.push(e));
  out.push(...engine.flush());
  return out;
}

const MIN = 60_000;

describe('feature specs', () => {
  it('name the feature and the field in errors', () => {
    const r = parseFeatures([
      { name: 'ok_one', key: ['ip'], window: { type: 'tumbling', sizeMs: MIN }, agg: { fn: 'count' } },
      { name: 'Bad-Name', key: ['ip'], window: { type: 'tumbling', sizeMs: MIN }, agg: { fn: 'count' } },
      { name: 'x', key: ['ip'], window: { type: 'hopping', sizeMs: 10, advanceMs: 3 }, agg: { fn: 'count' } },
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toEqual([
        'features[1] (Bad-Name).name: name must be snake_case: lower-case letters, digits and _',
      ]);
    const h = parseFeatures([
      { name: 'x', key: ['ip'], window: { type: 'hopping', sizeMs: 10, advanceMs: 3 }, agg: { fn: 'count' } },
    ]);
    expect(h.ok ? [] : h.error).toEqual(['features[0] (x).window.advanceMs: must divide sizeMs (10)']);
    const u = parseFeatures([
      { name: 'y', key: ['ip'], window: { type: 'tumbling', sizeMs: MIN }, agg: { fn: 'median' } },
    ]);
    expect(u.ok ? [] : u.error[0]).toMatch(/^features\[0\] \(y\)\.agg\.fn: /);
  });

  it('ship a valid default set', () => {
    expect(defaultFeatures().length).toBeGreaterThanOrEqual(20);
  });
});

describe('windows', () => {
  it('tumbling: one row per key and window, closed by the watermark, late events counted', () => {
    const e = new StreamEngine(
      specs({
        name: 'c',
        key: ['ip'],
        window: { type: 'tumbling', sizeMs: MIN, latenessMs: 1000 },
        agg: { fn: 'count' },
      }),
    );
    const out: Snapshot[] = [];
    out.push(...e.push(fe(0)), ...e.push(fe(10_000, { ip: 'b' })), ...e.push(fe(59_999)));
    expect(out).toEqual([]);
    // 60,500 - 1,000 lateness: the watermark has not passed 60,000 yet.
    out.push(...e.push(fe(60_500)));
    expect(out).toEqual([]);
    out.push(...e.push(fe(61_000)));
    expect(out.map((s) => [s.key, s.windowStart, s.windowEnd, s.value])).toEqual([
      ['203.0.113.1', 0, MIN, 2],
      ['b', 0, MIN, 1],
    ]);
    // A late event for the closed window is dropped and counted.
    expect(e.push(fe(30_000))).toEqual([]);
    expect(e.stats().features.c!.late).toBe(1);
    expect(e.flush().map((s) => [s.windowStart, s.value])).toEqual([[MIN, 2]]);
  });

  it('hopping: each event counts in size / advance windows', () => {
    const e = new StreamEngine(
      specs({
        name: 'h',
        key: ['ip'],
        window: { type: 'hopping', sizeMs: 3 * MIN, advanceMs: MIN },
        agg: { fn: 'count' },
      }),
    );
    const rows = run(e, [fe(30_000), fe(90_000), fe(150_000)]);
    expect(rows.map((s) => [s.windowStart / MIN, s.value])).toEqual([
      [-2, 1],
      [-1, 2],
      [0, 3],
      [1, 2],
      [2, 1],
    ]);
  });

  it('session: a gap closes the session', () => {
    const e = new StreamEngine(
      specs({ name: 's', key: ['ip'], window: { type: 'session', gapMs: 10_000 }, agg: { fn: 'count' } }),
    );
    const rows = run(e, [fe(0), fe(5_000), fe(14_000), fe(30_000), fe(31_000)]);
    expect(rows.map((s) => [s.windowStart, s.windowEnd, s.value])).toEqual([
      [0, 14_001, 3],
      [30_000, 31_001, 2],
    ]);
  });

  it('caps tracked keys and counts the overflow', () => {
    const e = new StreamEngine(
      specs({ name: 'c', key: ['ip'], window: { type: 'tumbling', sizeMs: MIN }, agg: { fn: 'count' } }),
      { maxKeys: 2 },
    );
    const rows = run(e, [fe(1, { ip: 'a' }), fe(2, { ip: 'b' }), fe(3, { ip: 'c' }), fe(4, { ip: 'a' })]);
    expect(rows.map((s) => [s.key, s.value])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(e.stats().features.c!.overflow).toBe(1);
  });

  it('skips events whose key part is missing, and applies filters', () => {
    const e = new StreamEngine(
      specs({
        name: 'f',
        key: ['token', 'endpoint'],
        window: { type: 'tumbling', sizeMs: MIN },
        agg: { fn: 'count' },
        filter: { status: ['4xx'] },
      }),
    );
    const rows = run(e, [
      fe(1, { token: 't', status: 401 }),
      fe(2, { token: 't', status: 200 }),
      fe(3, { status: 401 }),
    ]);
    expect(rows.map((s) => [s.key, s.value])).toEqual([[`t${KEY_SEP}GET /a`, 1]]);
  });
});

describe('aggregations', () => {
  const one = (agg: FeatureInput['agg'], events: FeatureEvent[]) =>
    run(
      new StreamEngine(
        specs({ name: 'x', key: ['ip'], window: { type: 'tumbling', sizeMs: 10 * MIN }, agg }),
      ),
      events,
    )[0]!.value;

  it('count, rate, distinct, ratio, sum', () => {
    const evs = [
      fe(0, { path: '/a', status: 404 }),
      fe(1, { path: '/b' }),
      fe(2, { path: '/a', method: 'POST' }),
    ];
    expect(one({ fn: 'count' }, evs)).toBe(3);
    expect(one({ fn: 'rate_per_min' }, evs)).toBeCloseTo(0.3);
    expect(one({ fn: 'distinct', field: 'path' }, evs)).toBe(2);
    expect(one({ fn: 'ratio', where: { status: ['4xx'] } }, evs)).toBeCloseTo(1 / 3);
    expect(one({ fn: 'ratio', where: { method: ['POST'] } }, evs)).toBeCloseTo(1 / 3);
    expect(one({ fn: 'sum', field: 'bytes_out' }, evs)).toBe(300);
  });

  it('entropy in bits', () => {
    expect(one({ fn: 'entropy', field: 'path' }, [fe(0, { path: '/a' }), fe(1, { path: '/b' })])).toBeCloseTo(
      1,
    );
    expect(one({ fn: 'entropy', field: 'path' }, [fe(0), fe(1), fe(2)])).toBe(0);
  });

  it('quantiles within 1%', () => {
    const evs = Array.from({ length: 1000 }, (_, i) => fe(i, { latencyMs: i + 1 }));
    const p95 = one({ fn: 'quantile', field: 'latency_ms', q: 0.95 }, evs)!;
    expect(Math.abs(p95 - 950) / 950).toBeLessThan(0.01);
  });

  it('inter-arrival mean and CV: metronomic bots have CV 0', () => {
    const regular = [0, 1000, 2000, 3000, 4000].map((t) => fe(t));
    expect(one({ fn: 'interarrival_mean' }, regular)).toBe(1000);
    expect(one({ fn: 'interarrival_cv' }, regular)).toBe(0);
    const bursty = [0, 10, 20, 5000, 5010].map((t) => fe(t));
    expect(one({ fn: 'interarrival_cv' }, bursty)!).toBeGreaterThan(1);
    expect(one({ fn: 'interarrival_cv' }, [fe(0), fe(10)])).toBeNull();
  });

  it('sequential-id score: walking ids scores 1, random ids near 0', () => {
    const walk = Array.from({ length: 20 }, (_, i) => fe(i, { numericId: 100 + i }));
    expect(one({ fn: 'sequential_id_score' }, walk)).toBe(1);
    const random = [5, 900, 37, 4100, 12, 777].map((id, i) => fe(i, { numericId: id }));
    expect(one({ fn: 'sequential_id_score' }, random)).toBe(0);
    expect(numericIdOf('/api/v1/products/123')).toBe(123);
    expect(numericIdOf('/api/v1/users/42/profile')).toBe(42);
    expect(numericIdOf('/api/v2/products')).toBeNull();
  });

  it('distinct sensitive values and new-endpoint share', () => {
    expect(
      one({ fn: 'sensitive_distinct' }, [
        fe(0, { sensitive: ['h1', 'h2'] }),
        fe(1, { sensitive: ['h2', 'h3'] }),
      ]),
    ).toBe(3);
    const e = new StreamEngine(
      specs({
        name: 'n',
        key: ['ip'],
        window: { type: 'tumbling', sizeMs: MIN },
        agg: { fn: 'new_endpoint_share' },
      }),
    );
    const rows = run(e, [
      fe(0, { endpoint: 'GET /old' }),
      fe(MIN + 1, { endpoint: 'GET /old' }),
      fe(MIN + 2, { endpoint: 'GET /new' }),
    ]);
    expect(rows.map((s) => s.value)).toEqual([1, 0.5]);
  });
});

describe('on simulated traffic', () => {
  const events = simulatedFeatureEvents(5, 6, 800);

  it('replay and live give the same snapshots', () => {
    const replay = run(new StreamEngine(defaultFeatures()), events);
    // Live: a clock ticks between events (event time, as a live source would see it).
    const live = new StreamEngine(defaultFeatures());
    const out: Snapshot[] = [];
    let clock = events[0]!.ts;
    for (const e of events) {
      // The clock ticks every 10 s of event time up to each event's arrival, closing windows on its own.
      while (clock + 10_000 < e.ts) {
        clock += 10_000;
        out.push(...live.advanceTo(clock));
      }
      out.push(...live.push(e));
    }
    out.push(...live.flush());
    // The same rows; only the moment (and so the batch order) of emission differs.
    const order = (a: Snapshot, b: Snapshot) =>
      a.feature.localeCompare(b.feature) ||
      a.windowStart - b.windowStart ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    expect(out.length).toBe(replay.length);
    expect([...out].sort(order)).toEqual([...replay].sort(order));
    expect(replay.length).toBeGreaterThan(1000);
  });

  it('shows the crawler and the scanner', () => {
    const rows = run(new StreamEngine(defaultFeatures()), events);
    const by = (f: string) => rows.filter((r) => r.feature === f && r.value !== null);
    const top = (f: string) => by(f).sort((a, b) => b.value! - a.value!)[0]!;
    // The crawler walks product ids: the highest sequential-id scores over 20+ requests are its windows.
    const seqScores = by('sequential_id_score_10m_by_ip').filter((r) => r.events >= 20);
    expect(seqScores.length).toBeGreaterThan(0);
    expect(Math.max(...seqScores.map((r) => r.value!))).toBeGreaterThan(0.9);
    // The burst IP has the busiest minute.
    expect(top('requests_per_min_by_ip').value).toBeGreaterThan(1000);
    // The scanner has the most distinct paths among IPs with mostly 4xx.
    const fourxx = new Set(
      by('status_4xx_ratio_10m_by_ip')
        .filter((r) => r.value! > 0.5 && r.events > 100)
        .map((r) => r.key),
    );
    expect(fourxx.size).toBeGreaterThan(0);
  });

  it('pushTo hands the same rows, in the same order, as push (one reused object)', () => {
    const a = new StreamEngine(defaultFeatures());
    const b = new StreamEngine(defaultFeatures());
    const viaPush: Snapshot[] = [];
    const viaVisit: Snapshot[] = [];
    let same = true;
    let last: Snapshot | null = null;
    for (const e of events) {
      viaPush.push(...a.push(e));
      b.pushTo(e, (s) => {
        if (last !== null && last !== s) same = false;
        last = s;
        viaVisit.push({ ...s });
      });
    }
    expect(viaVisit).toEqual(viaPush);
    expect(viaVisit.length).toBeGreaterThan(1000);
    expect(same).toBe(true);
  });
});
