/**
 * The dashboard's read model (src/server/traffic.ts) on its own: per-minute series by event time and the
 * moving window, endpoints named after the inventory, the bounds (actors, kept bytes, endpoints, line
 * length), flagged actors kept over others, links, and copies rather than slices of the request body.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../src/core/event.js';
import type { Alert } from '../src/detect/types.js';
import { endpointShape, MINUTE_MS, shapeTemplate, TrafficTap } from '../src/server/traffic.js';

const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

function ev(o: Partial<ApiEvent> & { ts?: number }): ApiEvent {
  return {
    ts: o.ts ?? T0,
    ip: o.ip ?? '198.51.100.1',
    method: o.method ?? 'GET',
    host: 'shop.example.com',
    path: o.path ?? '/api/v1/products/42',
    query: null,
    status: o.status ?? 200,
    bytesOut: 100,
    bytesIn: null,
    latencyMs: 3,
    userAgent: o.userAgent ?? 'curl/8',
    referer: null,
    token: o.token ?? null,
    user: o.user ?? null,
    device: o.device ?? null,
    protocol: 'HTTP/1.1',
    origin: { source: 'test', line: 1 },
  };
}

const alert = (actors: Alert['actors'], ts = T0): Alert => ({
  id: `alert-${actors.map((a) => a.value).join('-')}`,
  type: 'scanner',
  detector: 'test',
  severity: 'high',
  score: 0.9,
  confidence: 0.9,
  actors,
  endpoints: ['GET /api/v1/products/{id}'],
  firstEventTs: ts,
  detectedTs: ts,
  lastEventTs: ts,
  requests: 10,
  evidence: [],
  explanation: 'probed',
});

describe('the traffic read model', () => {
  it('counts requests, errors and alerts per minute of event time, moving the window with the newest minute', () => {
    const tap = new TrafficTap({ horizonMinutes: 10 });
    tap.record([ev({}), ev({ status: 404 }), ev({ status: 502, ts: T0 + MINUTE_MS })]);
    tap.alerts([alert([{ kind: 'ip', value: '198.51.100.1' }], T0 + MINUTE_MS)]);
    let s = tap.series();
    expect(s.ts).toEqual([T0, T0 + MINUTE_MS]);
    expect(s.requests).toEqual([2, 1]);
    expect(s.errors).toEqual([1, 1]);
    expect(s.serverErrors).toEqual([0, 1]);
    expect(s.alerts).toEqual([0, 1]);
    // 12 minutes later: the old minutes left the 10-minute window; an event older than it is counted late.
    tap.record([ev({ ts: T0 + 12 * MINUTE_MS })]);
    tap.record([ev({ ts: T0 })]);
    s = tap.series();
    expect(s.ts[0]).toBe(T0 + 3 * MINUTE_MS);
    expect(s.ts).toHaveLength(10);
    expect(s.requests.reduce((a, b) => a + b, 0)).toBe(1);
    expect(tap.stats().late).toBe(1);
    expect(tap.series(3).ts).toHaveLength(3);
  });

  it('names endpoints after the inventory, else by the shape of the path, within a bounded table', () => {
    expect(shapeTemplate('/api/v1/orders/123/items/9f0c0a4e-1b2c-4d5e-8f90-123456789abc')).toBe(
      '/api/v1/orders/{id}/items/{id}',
    );
    expect(endpointShape('GET /users/{name}/x')).toBe(endpointShape('GET /users/{id}/x'));
    const tap = new TrafficTap({ maxEndpoints: 3 });
    tap.setInventory([{ method: 'GET', template: '/api/v1/users/{name}' }]);
    tap.record([ev({ path: '/api/v1/users/alice' }), ev({ path: '/api/v1/users/bob' })]);
    tap.record([ev({ path: '/a' }), ev({ path: '/b' }), ev({ path: '/c' }), ev({ path: '/d' })]);
    const names = tap.endpointTraffic().map((t) => [t.endpoint, t.requests]);
    expect(names).toEqual([
      ['GET /api/v1/users/{name}', 2],
      ['GET /a', 1],
      ['GET /b', 1],
      ['(other)', 2],
    ]);
    const series = tap.endpointSeries('GET /api/v1/users/{id}');
    expect(series?.requests).toEqual([2]);
  });

  it('keeps the last requests of each actor with its raw line, cut, as copies', () => {
    const tap = new TrafficTap({ requestsPerActor: 3, maxLineChars: 100 });
    const body = `${'x'.repeat(300)}\nline two`;
    const events = [1, 2, 3, 4, 5].map((i) =>
      ev({ ts: T0 + i, token: 'aaaabbbbccccdddd', user: 'alice', path: `/api/v1/products/${i}` }),
    );
    tap.record(events, [body.slice(0, 300), 'short', 'l3', 'l4', 'l5']);
    const a = tap.actor('ip', '198.51.100.1')!;
    expect(a.requests).toBe(5);
    expect(a.recent.map((r) => r.path)).toEqual([
      '/api/v1/products/3',
      '/api/v1/products/4',
      '/api/v1/products/5',
    ]);
    expect(a.recent.map((r) => r.raw)).toEqual(['l3', 'l4', 'l5']);
    const one = new TrafficTap({ maxLineChars: 100 });
    one.record([ev({})], [body.slice(0, 300)]);
    const r = one.actor('ip', '198.51.100.1')!.recent[0]!;
    expect(r.raw).toHaveLength(100);
    expect(r.truncated).toBe(true);
    // The same request is in the token's and the user's ring, and they are linked to the address.
    expect(tap.actor('token', 'aaaabbbbccccdddd')!.recent).toHaveLength(3);
    expect(tap.actor('user', 'alice')!.links).toContainEqual({
      kind: 'ip',
      value: '198.51.100.1',
      via: ['traffic'],
    });
    expect(tap.linked({ kind: 'ip', value: '198.51.100.1' }, { kind: 'user', value: 'alice' })).toEqual([
      'traffic',
    ]);
  });

  it('holds at most maxActors, evicting the least recently seen, flagged actors last', () => {
    const tap = new TrafficTap({ maxActors: 10 });
    tap.alerts([alert([{ kind: 'ip', value: '203.0.113.1' }])]);
    for (let i = 0; i < 100; i++) tap.record([ev({ ip: `198.51.100.${i}`, ts: T0 + i })]);
    const st = tap.stats();
    expect(st.actors).toBe(10);
    expect(st.flaggedActors).toBe(1);
    expect(tap.actor('ip', '203.0.113.1')).not.toBeNull();
    expect(tap.actor('ip', '198.51.100.99')).not.toBeNull();
    expect(tap.actor('ip', '198.51.100.0')).toBeNull();
    expect(tap.actor('ip', '203.0.113.1')!.alerts[0]!.type).toBe('scanner');
    expect(tap.busiest(3)).toHaveLength(3);
    // Flagged actors take at most half the table.
    tap.alerts([
      alert(Array.from({ length: 20 }, (_, i) => ({ kind: 'ip' as const, value: `192.0.2.${i}` }))),
    ]);
    expect(tap.stats().flaggedActors).toBe(5);
    expect(tap.stats().actors).toBeLessThanOrEqual(10);
  });

  it('holds the actor tables to maxBytes (estimated)', () => {
    const tap = new TrafficTap({ maxBytes: 256 * 1024, maxLineChars: 2000, requestsPerActor: 50 });
    const line = 'y'.repeat(2000);
    for (let i = 0; i < 2000; i++) tap.record([ev({ ip: `10.0.${i >> 8}.${i & 255}` })], [line]);
    const st = tap.stats();
    expect(st.estimatedBytes).toBeLessThanOrEqual(256 * 1024);
    expect(st.actors).toBeGreaterThan(0);
    expect(st.evictedActors).toBeGreaterThan(1900);
    expect(st.actors).toBeLessThan(100);
  });

  it('only flags the actor kinds it knows', () => {
    const tap = new TrafficTap();
    tap.alerts([alert([{ kind: 'cidr' as never, value: '10.0.0.0/8' }])]);
    expect(tap.stats().actors).toBe(0);
  });
});

describe('bench/dashboard-tap', () => {
  it('prints a JSON report: events per second through the tap and bytes per tracked actor', async () => {
    // The built bench (pretest builds it); a tiny run: no timing is asserted.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'dist', 'bench', 'dashboard-tap.js'),
        '--quick',
        '--events',
        '5000',
        '--actors',
        '200',
      ],
      { maxBuffer: 16 << 20 },
    );
    const r = JSON.parse(stdout);
    expect(r.events).toBe(5000);
    expect(r.throughput.tapEventsPerSec).toBeGreaterThan(0);
    expect(r.memory.unbounded.trackedActors).toBe(400);
    expect(r.memory.unbounded.bytesPerTrackedActor).toBeGreaterThan(0);
  }, 120_000);
});
