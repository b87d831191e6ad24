/**
 * DetectionPipeline's event clock and its event-store append: segments end where event time crosses a
 * multiple of `segmentEventMs` (inside a batch too, whatever the batch sizes), and every event goes to the
 * store (with or without a profile), written to Parquet at each segment end and on close. The runs are a
 * recording stand-in (what each segment was given); the store is the real one (DuckDB, Parquet files).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../core/event.js';
import type { Profile } from '../profiling/profile.js';
import { EventStore, eventsRelation } from '../store/events.js';
import { DetectionPipeline, type LiveRun } from './pipeline.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-pipeline-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 14, 0, 0);

function event(ts: number, i: number): ApiEvent {
  return {
    ts,
    ip: `203.0.113.${i % 250}`,
    method: 'GET',
    host: 'shop.example',
    path: `/api/v1/products/${i + 1}`,
    query: null,
    status: 200,
    bytesOut: 100,
    bytesIn: null,
    latencyMs: 3,
    userAgent: 'curl/8',
    referer: null,
    token: null,
    user: null,
    device: null,
    protocol: 'HTTP/1.1',
    origin: { source: 'test', line: i + 1 },
  };
}

/** A run that records the event times it was given; finish() reports none. */
function recorder(segments: number[][]) {
  return (): LiveRun => {
    const got: number[] = [];
    segments.push(got);
    return {
      push: (e) => {
        got.push(e.ts);
      },
      finish: () => [],
      links: () => [],
      scenarioOf: () => '',
    };
  };
}

async function count(store: string, where = 'true'): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const r = await c.runAndReadAll(`SELECT count(*) FROM ${eventsRelation(store)} WHERE ${where}`);
    return Number(r.getRows()[0]![0]);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const partFiles = async (store: string): Promise<number> => {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.parquet')) n++;
    }
  };
  await walk(join(store, 'events')).catch(() => {});
  return n;
};

describe('DetectionPipeline on the event clock', () => {
  it('ends segments where event time crosses a multiple of segmentEventMs, inside batches too', async () => {
    const segments: number[][] = [];
    const p = new DetectionPipeline({
      profile: {} as Profile,
      onSegment: async () => {},
      segmentEventMs: 5 * MIN,
      segmentMs: 3_600_000,
      makeRun: recorder(segments),
    });
    // 40 events a minute apart starting at 14:02, in batches of 7 (so boundaries fall inside batches).
    const evs = Array.from({ length: 40 }, (_, i) => event(T0 + 2 * MIN + i * MIN, i));
    for (let i = 0; i < evs.length; i += 7) await p.write(evs.slice(i, i + 7));
    await p.close();
    // The first run is the one made when the profile loads; every segment ended holds one 5-minute block.
    const used = segments.filter((s) => s.length > 0);
    expect(used.map((s) => s.length)).toEqual([3, 5, 5, 5, 5, 5, 5, 5, 2]);
    for (const s of used) {
      const block = Math.floor(s[0]! / (5 * MIN));
      expect(s.every((ts) => Math.floor(ts / (5 * MIN)) === block)).toBe(true);
    }
    expect(p.stats()).toMatchObject({ eventsSeen: 40, eventsJudged: 40, segments: 9, eventsStored: null });
  });

  it('refuses an event clock under a second', () => {
    expect(
      () => new DetectionPipeline({ profile: null, onSegment: async () => {}, segmentEventMs: 10 }),
    ).toThrow(/segmentEventMs must be at least 1000 ms/);
  });
});

describe('DetectionPipeline with an event store', () => {
  it('appends every event, writes Parquet at each segment end, and closes the store', async () => {
    const store = join(dir, 'store');
    const segments: number[][] = [];
    const p = new DetectionPipeline({
      profile: {} as Profile,
      onSegment: async () => {},
      segmentEventMs: 10 * MIN,
      segmentMs: 3_600_000,
      makeRun: recorder(segments),
      store: new EventStore(store),
    });
    const evs = Array.from({ length: 30 }, (_, i) => event(T0 + i * MIN, i));
    await p.write(evs.slice(0, 12)); // crosses 14:10: the first segment ends, its events reach Parquet
    await p.endSegment(); // flushed in order after the appends
    expect(await count(store)).toBe(12);
    const files = await partFiles(store);
    expect(files).toBeGreaterThan(0);
    await p.write(evs.slice(12)); // crosses 14:20
    await p.close();
    expect(await count(store)).toBe(30);
    expect(await count(store, `ts >= ${T0 + 20 * MIN}`)).toBe(10);
    expect(await count(store, "endpoint = 'GET /api/v1/products/{id}'")).toBe(30);
    expect(p.stats().eventsStored).toBe(30);
    expect(await partFiles(store)).toBeGreaterThan(files);
  });

  it('stores events without a profile too (nothing judged)', async () => {
    const store = join(dir, 'store-no-profile');
    const p = new DetectionPipeline({
      profile: null,
      onSegment: async () => {},
      segmentMs: 3_600_000,
      store: new EventStore(store),
    });
    await p.write(Array.from({ length: 5 }, (_, i) => event(T0 + i * 1000, i)));
    expect(p.stats()).toMatchObject({ detecting: false, eventsSeen: 5, eventsJudged: 0, eventsStored: 5 });
    await p.close();
    expect(await count(store)).toBe(5);
  });
});
