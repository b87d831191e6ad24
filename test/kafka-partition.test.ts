/**
 * The detect stage's per-partition logic without a broker (src/kafka/partition.ts): the event-time merge of
 * input partitions gated by watermarks, deduplication by input offset, segment ends (event time and end
 * markers) and the offsets they commit.
 */
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../src/core/event.js';
import { ProfilingRun } from '../src/detect/run.js';
import { PartitionState } from '../src/kafka/partition.js';
import { type KeyedRecord, ownerOf, populationOwner } from '../src/kafka/topology.js';

const profile = new ProfilingRun().build();

function ev(ts: number, ip: string): ApiEvent {
  return {
    ts,
    ip,
    method: 'GET',
    host: 'shop.example.com',
    path: '/products/1',
    query: null,
    status: 200,
    bytesOut: 100,
    bytesIn: null,
    latencyMs: 5,
    userAgent: 'test',
    referer: null,
    token: null,
    user: null,
    device: null,
    protocol: 'HTTP/1.1',
    origin: { source: 't', line: 1 },
  };
}

const state = (segmentMs = 0) =>
  new PartitionState({
    partition: 0,
    partitions: 1,
    profile,
    detection: {},
    scorer: null,
    scanner: null,
    segmentMs,
  });

const e = (r: number, o: number, ts: number): KeyedRecord => ({
  k: 'e',
  r,
  R: 2,
  o,
  ts,
  ev: ev(ts, `10.0.0.${r}`),
});

describe('PartitionState', () => {
  it('releases events only when no input partition can still send an earlier one', () => {
    const s = state();
    let off = 0;
    s.accept(e(1, 0, 10), off++);
    s.accept(e(1, 1, 20), off++);
    // Input partition 0 has said nothing: it might still send ts 5.
    expect(s.stats.events).toBe(0);
    s.accept(e(0, 0, 5), off++);
    // 5 is released (partition 1's queue holds 10), then 10 waits for partition 0 again.
    expect(s.stats.events).toBe(1);
    s.accept({ k: 'w', r: 0, R: 2, wm: 12 }, off++);
    expect(s.stats.events).toBe(2);
    s.accept({ k: 'i', r: 0, R: 2 }, off++);
    expect(s.stats.events).toBe(3);
    expect(s.stats.queued).toBe(0);
  });

  it('drops records at an input offset already used (a router replay) and keyed offsets already read', () => {
    const s = state();
    s.accept({ k: 'i', r: 1, R: 2 }, 0);
    s.accept(e(0, 7, 10), 1);
    s.accept(e(0, 7, 10), 2);
    s.accept(e(0, 6, 9), 3);
    expect(s.stats.duplicates).toBe(2);
    s.accept(e(0, 8, 11), 3); // keyed offset 3 again: already read
    expect(s.stats.events).toBe(1);
    s.accept(e(0, 8, 11), 4);
    expect(s.stats.events).toBe(2);
  });

  it('drops a copy of an event still queued (a router that reconnected and sent it again)', () => {
    const s = state();
    s.accept(e(0, 5, 10), 0);
    s.accept(e(0, 5, 10), 1);
    expect(s.stats.queued).toBe(1);
    expect(s.stats.duplicates).toBe(1);
    s.accept({ k: 'i', r: 1, R: 2 }, 2);
    expect(s.stats.events).toBe(1);
  });

  it('ends a stretch when every input partition sent its end marker, and commits after it', () => {
    const s = state();
    expect(s.accept(e(0, 0, 10), 0)).toEqual([]);
    expect(s.accept(e(1, 0, 11), 1)).toEqual([]);
    expect(s.accept({ k: 'x', r: 0, R: 2, id: 'a' }, 2)).toEqual([]);
    const done = s.accept({ k: 'x', r: 1, R: 2, id: 'b' }, 3);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({
      seg: 'end:b',
      events: 2,
      checkpoint: { next: 4, maxRaw: { 0: 0, 1: 0 } },
    });
  });

  it('ends event-time segments, commits the first record it did not use, and restores from the checkpoint', () => {
    const s = state(1000);
    s.accept({ k: 'i', r: 1, R: 2 }, 0);
    s.accept(e(0, 0, 100), 1);
    s.accept(e(0, 1, 900), 2);
    // 1100 ends [0, 1000): the segment's 2 events; the commit points at 1100's keyed offset (not used yet).
    const first = s.accept(e(0, 2, 1100), 3);
    expect(first.map((d) => [d.seg, d.through, d.events, d.checkpoint.next])).toEqual([
      ['t:1970-01-01T00:00:00.000Z', 1000, 2, 3],
    ]);
    // 2500 ends [1000, 2000) (1 event).
    const done = s.accept(e(0, 3, 2500), 4);
    expect(done.map((d) => [d.seg, d.through, d.events, d.checkpoint.next])).toEqual([
      ['t:1970-01-01T00:00:01.000Z', 2000, 1, 4],
    ]);
    expect(done[0]!.checkpoint.maxRaw).toEqual({ 0: 2 });
    const restored = new PartitionState(
      { partition: 0, partitions: 1, profile, detection: {}, scorer: null, scanner: null, segmentMs: 1000 },
      done[0]!.checkpoint,
    );
    expect(restored.resumeFrom).toBe(4);
    // Keyed records before the checkpoint are ignored; a router's replay of input offset 2 is a duplicate.
    restored.accept(e(0, 1, 900), 2);
    restored.accept({ k: 'i', r: 1, R: 2 }, 4);
    restored.accept(e(0, 2, 1100), 5);
    expect(restored.stats.duplicates).toBe(1);
    restored.accept(e(0, 3, 2500), 6);
    expect(restored.stats.events).toBe(1);
  });

  it('owns actors by a stable hash, and one partition owns the population detector', () => {
    expect(ownerOf('ip', '10.0.0.1', 4)).toBe(ownerOf('ip', '10.0.0.1', 4));
    const owners = new Set(Array.from({ length: 200 }, (_, i) => ownerOf('ip', `10.0.${i}.1`, 4)));
    expect([...owners].sort()).toEqual([0, 1, 2, 3]);
    expect(populationOwner(4)).toBeGreaterThanOrEqual(0);
    expect(populationOwner(4)).toBeLessThan(4);
  });
});
