import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../features/enrich.js';
import { featureEvent } from '../features/testing.js';
import { EventStore, eventsRelation, partitionOf } from './events.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-01T22:00:00Z');

/** A stored-looking event: a detail request with a token (featureEvent's defaults otherwise). */
const fe = (ts: number, extra: Partial<FeatureEvent> = {}): FeatureEvent =>
  featureEvent(ts, {
    token: 't1',
    path: '/a/12',
    endpoint: 'GET /a/{id}',
    scenario: 'detail',
    latencyMs: 1.5,
    numericId: 12,
    ...extra,
  });

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'apiwarden-store-'));
  temps.push(d);
  return d;
}
afterEach(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

describe('event store', () => {
  it('names partitions by UTC hour', () => {
    expect(partitionOf(T0 + 59 * 60_000)).toBe('date=2025-03-01/hour=22');
    expect(partitionOf(T0 + 2 * HOUR)).toBe('date=2025-03-02/hour=00');
  });

  it('writes hour partitions, appends parts, and reads back every column', async () => {
    const dir = await temp();
    const store = new EventStore(dir);
    const evil = "x'); DROP TABLE buf; --";
    await store.append([
      fe(T0 + 1000, { sensitive: ['h1', 'h2'], userAgent: evil }),
      fe(T0 + HOUR + 5, { device: 'd', latencyMs: null, numericId: null }),
      fe(T0 + 3 * HOUR),
    ]);
    const r1 = await store.flush();
    expect(r1.rows).toBe(3);
    await store.append([fe(T0 + 2000)]);
    await store.close();
    const parts = await readdir(join(dir, 'events', 'date=2025-03-01', 'hour=22'));
    expect(parts.sort()).toEqual(['part-0.parquet', 'part-1.parquet']);
    expect(await readdir(join(dir, 'events'))).toEqual(
      expect.arrayContaining(['date=2025-03-01', 'date=2025-03-02']),
    );
    const rows = await query(
      `SELECT ts, seq, device, userAgent, latencyMs, numericId, sensitive, epoch_ms("time") AS t, hour
       FROM ${eventsRelation(dir)} ORDER BY ts`,
    );
    expect(rows.length).toBe(4);
    expect(rows[0]).toMatchObject({
      ts: BigInt(T0 + 1000),
      userAgent: evil,
      latencyMs: 1.5,
      numericId: 12n,
      sensitive: ['h1', 'h2'],
      t: BigInt(T0 + 1000),
      hour: 22,
    });
    expect(rows[2]).toMatchObject({ device: 'd', latencyMs: null, numericId: null, sensitive: [] });
  });

  it('quotes the store path', async () => {
    const dir = join(await temp(), "it's");
    const store = new EventStore(dir);
    await store.append([fe(T0)]);
    await store.close();
    expect(eventsRelation(dir)).toContain("it''s");
    expect((await query(`SELECT count(*) AS n FROM ${eventsRelation(dir)}`))[0]!.n).toBe(1n);
  });

  it('retention deletes hour partitions older than the newest event time minus the retention', async () => {
    const dir = await temp();
    const store = new EventStore(dir, { retentionHours: 2 });
    await store.append([fe(T0), fe(T0 + HOUR), fe(T0 + 2 * HOUR), fe(T0 + 3 * HOUR + 10)]);
    const r = await store.close();
    // Newest: 01:00:00.010 on the 2nd; cutoff 23:00:00.010 on the 1st: only hour 22 ended before it.
    expect(r.deleted).toEqual(['date=2025-03-01/hour=22']);
    const rows = await query(`SELECT count(*) AS n FROM ${eventsRelation(dir)}`);
    expect(rows[0]!.n).toBe(3n);
  });
});
