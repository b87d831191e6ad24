import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStore } from '../store/events.js';
import { compileFeature, runBatch } from './batch.js';
import type { FeatureEvent } from './enrich.js';
import type { FeatureInput } from './spec.js';
import { KEY_SEP, type Snapshot, StreamEngine } from './stream.js';
import { featureEvent, specs } from './testing.js';

const fe = featureEvent;

const MIN = 60_000;
const T0 = Date.parse('2025-03-01T10:00:00Z');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const order = (a: Snapshot, b: Snapshot) =>
  a.feature.localeCompare(b.feature) ||
  a.windowStart - b.windowStart ||
  (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Both engines over the same events (the batch one through a store on disk). */
async function both(fs: FeatureInput[], events: FeatureEvent[]) {
  const sp = specs(...fs);
  const dir = await mkdtemp(join(tmpdir(), 'apiwarden-batch-'));
  dirs.push(dir);
  const store = new EventStore(dir);
  await store.append(events);
  await store.close();
  const stream = new StreamEngine(sp);
  const s: Snapshot[] = [];
  for (const e of events) s.push(...stream.push(e));
  s.push(...stream.flush());
  const b = await runBatch(sp, { dir });
  return { stream: s.sort(order), batch: b.sort(order) };
}

const win = (sizeMs = 10 * MIN) => ({ type: 'tumbling' as const, sizeMs });

describe('batch engine', () => {
  it('matches the stream on every aggregation (small cases)', async () => {
    const evs = [
      fe(T0, { path: '/a/5', numericId: 5, status: 404, sensitive: ['h1', 'h2'], latencyMs: 3 }),
      fe(T0 + 1000, { path: '/a/6', numericId: 6, method: 'POST', sensitive: ['h2'] }),
      fe(T0 + 1000, { path: '/a/8', numericId: 8, endpoint: 'GET /b', userAgent: null, latencyMs: -1 }),
      fe(T0 + 5000, { path: '/x', numericId: null, scenario: 'static', bytesOut: null }),
      fe(T0 + 9000, { path: '/a/20', numericId: 20, ip: 'b', latencyMs: null }),
      fe(T0 + 11 * MIN, { path: '/a/21', numericId: 21, endpoint: 'GET /c', status: 500 }),
      fe(T0 + 11 * MIN + 7, { path: '/a/23', numericId: 23, device: 'd1' }),
    ];
    const fs: FeatureInput[] = [
      { name: 'count', key: ['ip'], window: win(), agg: { fn: 'count' } },
      { name: 'rate', key: ['ip'], window: win(), agg: { fn: 'rate_per_min' } },
      { name: 'dist', key: ['ip'], window: win(), agg: { fn: 'distinct', field: 'path' } },
      { name: 'dist_ua', key: ['ip'], window: win(), agg: { fn: 'distinct', field: 'user_agent' } },
      { name: 'ratio', key: ['ip'], window: win(), agg: { fn: 'ratio', where: { status: ['4xx', '5xx'] } } },
      { name: 'ratio_m', key: ['ip'], window: win(), agg: { fn: 'ratio', where: { method: ['POST'] } } },
      { name: 'ent', key: ['ip'], window: win(), agg: { fn: 'entropy', field: 'path' } },
      { name: 'ent_ua', key: ['ip'], window: win(), agg: { fn: 'entropy', field: 'user_agent' } },
      { name: 'q', key: ['ip'], window: win(), agg: { fn: 'quantile', field: 'latency_ms', q: 0.5 } },
      { name: 'sum', key: ['ip'], window: win(), agg: { fn: 'sum', field: 'bytes_out' } },
      { name: 'sum_in', key: ['ip'], window: win(), agg: { fn: 'sum', field: 'bytes_in' } },
      { name: 'iam', key: ['ip'], window: win(), agg: { fn: 'interarrival_mean' } },
      { name: 'iacv', key: ['ip'], window: win(), agg: { fn: 'interarrival_cv' } },
      { name: 'seqid', key: ['ip'], window: win(), agg: { fn: 'sequential_id_score' } },
      { name: 'sens', key: ['ip'], window: win(), agg: { fn: 'sensitive_distinct' } },
      { name: 'newep', key: ['ip'], window: win(), agg: { fn: 'new_endpoint_share' } },
      { name: 'static', key: ['ip'], window: win(), agg: { fn: 'count' }, filter: { static: true } },
      { name: 'dev', key: ['ip', 'device'], window: win(), agg: { fn: 'count' } },
      {
        name: 'hop',
        key: ['ip', 'endpoint'],
        window: { type: 'hopping', sizeMs: 10 * MIN, advanceMs: 5 * MIN },
        agg: { fn: 'count' },
      },
      {
        name: 'sess',
        key: ['ip'],
        window: { type: 'session', gapMs: 5 * MIN },
        agg: { fn: 'rate_per_min' },
        filter: { status: ['2xx'] },
      },
      { name: 'sess_all', key: ['ip'], window: { type: 'session', gapMs: 5 * MIN }, agg: { fn: 'count' } },
    ];
    const { stream, batch } = await both(fs, evs);
    expect(batch.length).toBe(stream.length);
    for (let i = 0; i < stream.length; i++) {
      const s = stream[i]!;
      const b = batch[i]!;
      expect({ ...b, value: null }).toEqual({ ...s, value: null });
      if (s.value === null) expect(b.value).toBeNull();
      else expect(b.value).toBeCloseTo(s.value, 9);
    }
    // Spot checks of the definitions themselves.
    const v = (f: string, key = '203.0.113.1') =>
      batch.find((r) => r.feature === f && r.key === key && r.windowStart === T0)?.value;
    // ids 5, 6, 8: steps of 1 and 2.
    expect(v('seqid')).toBe(1);
    expect(v('sens')).toBe(2);
    expect(v('dev', `203.0.113.1${KEY_SEP}d1`)).toBeUndefined();
  });

  it('cuts sessions on the events of the whole group, as the stream does', async () => {
    const fs: FeatureInput[] = [
      { name: 'a', key: ['ip'], window: { type: 'session', gapMs: MIN }, agg: { fn: 'count' } },
      {
        name: 'b',
        key: ['ip'],
        window: { type: 'session', gapMs: MIN },
        agg: { fn: 'count' },
        filter: { method: ['POST'] },
      },
    ];
    const evs = [fe(T0, { method: 'POST' }), fe(T0 + 50_000), fe(T0 + 100_000, { method: 'POST' })];
    const { stream, batch } = await both(fs, evs);
    expect(batch).toEqual(stream);
    expect(batch.find((r) => r.feature === 'b')).toMatchObject({ events: 2, windowEnd: T0 + 100_001 });
  });

  it('binds filter values as parameters: traffic strings never become SQL', async () => {
    const evil = "x') OR TRUE --";
    const fs: FeatureInput[] = [
      {
        name: 'c',
        key: ['ip'],
        window: win(),
        agg: { fn: 'ratio', where: { method: [evil] } },
        filter: { scenario: [evil, 'listing'] },
      },
    ];
    const q = compileFeature(specs(...fs)[0]!);
    expect(q.sql).not.toContain(evil);
    expect(q.params).toEqual([evil, 'listing', evil]);
    const { stream, batch } = await both(fs, [
      fe(T0, { ip: evil }),
      fe(T0 + 1, { scenario: evil, method: evil }),
    ]);
    expect(batch).toEqual(stream);
    // The evil address is a key like any other; the evil method matched only the event that has it.
    expect(batch.map((r) => [r.key, r.value])).toEqual([
      ['203.0.113.1', 1],
      [evil, 0],
    ]);
  });

  it('returns no rows for an empty store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apiwarden-batch-'));
    dirs.push(dir);
    expect(
      await runBatch(specs({ name: 'c', key: ['ip'], window: win(), agg: { fn: 'count' } }), { dir }),
    ).toEqual([]);
  });
});
