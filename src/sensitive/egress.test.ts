import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EgressTracker, Hll } from './egress.js';
import { SensitiveScanner } from './scanner.js';
import type { Finding } from './types.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const f = (type: string, value: string): Finding => ({
  type,
  field: 'body.x',
  masked: '***',
  hash: h(value),
});

describe('EgressTracker', () => {
  it('counts distinct values per actor per tumbling window and closes windows on the watermark', () => {
    const t = new EgressTracker({ windowMs: 5 * MIN });
    expect(t.observe('ip:1', T0, [f('phone', 'a'), f('email', 'b')])).toEqual([]);
    expect(t.observe('ip:1', T0 + MIN, [f('phone', 'a'), f('phone', 'c')])).toEqual([]);
    expect(t.observe('ip:1', T0 + 2 * MIN, [])).toEqual([]);
    expect(t.observe('ip:2', T0 + 3 * MIN, [f('cn_id', 'a')])).toEqual([]);
    // The first event of the next window moves the watermark past the first window's end.
    const closed = t.observe('ip:1', T0 + 5 * MIN, [f('phone', 'd')]);
    expect(closed).toEqual([
      {
        actor: 'ip:1',
        windowStart: T0,
        windowEnd: T0 + 5 * MIN,
        distinctValues: 3,
        byType: { phone: 2, email: 1 },
        requests: 3,
        requestsWithFindings: 2,
        approximate: false,
      },
      {
        actor: 'ip:2',
        windowStart: T0,
        windowEnd: T0 + 5 * MIN,
        distinctValues: 1,
        byType: { cn_id: 1 },
        requests: 1,
        requestsWithFindings: 1,
        approximate: false,
      },
    ]);
    expect(t.stats().openWindows).toBe(1);
    // Values are distinct per window: `a` again in the next window counts again.
    t.observe('ip:1', T0 + 6 * MIN, [f('phone', 'a')]);
    const rest = t.flush();
    expect(rest.map((r) => [r.actor, r.windowStart, r.distinctValues])).toEqual([['ip:1', T0 + 5 * MIN, 2]]);
    expect(t.stats()).toEqual({ openWindows: 0, actorWindows: 0, exactHashesKept: 0, lateEvents: 0 });
  });

  it('allows lateness, then drops and counts events for closed windows', () => {
    const t = new EgressTracker({ windowMs: 5 * MIN, allowedLatenessMs: MIN });
    t.observe('u', T0 + 5 * MIN + 30_000, [f('email', 'x')]);
    // 30 s behind the latest event, the first window is still open.
    expect(t.observe('u', T0 + 4 * MIN, [f('email', 'y')])).toEqual([]);
    const closed = t.observe('u', T0 + 6 * MIN, []);
    expect(closed.map((r) => [r.windowStart, r.distinctValues])).toEqual([[T0, 1]]);
    expect(t.observe('u', T0 + MIN, [f('email', 'z')])).toEqual([]);
    expect(t.stats().lateEvents).toBe(1);
    // Explicit watermarks never move backwards.
    expect(t.advance(T0)).toEqual([]);
    expect(t.advance(T0 + 20 * MIN).map((r) => r.windowStart)).toEqual([T0 + 5 * MIN]);
  });

  it('emits windows without findings only when asked', () => {
    const quiet = new EgressTracker();
    quiet.observe('a', T0, []);
    expect(quiet.flush()).toEqual([]);
    const all = new EgressTracker({ emitEmpty: true });
    all.observe('a', T0, []);
    expect(all.flush()).toMatchObject([{ actor: 'a', distinctValues: 0, requests: 1, byType: {} }]);
  });

  it('keeps at most maxDistinct hashes per actor-window and estimates beyond it', () => {
    const t = new EgressTracker({ windowMs: 5 * MIN, maxDistinct: 1000 });
    const n = 20_000;
    const typeOf = (i: number) => (i % 4 === 0 ? 'email' : 'phone');
    for (let i = 0; i < n; i++) {
      // Each response repeats the previous value: duplicates must not count.
      const batch = [f(typeOf(i), `v${i}`), f(typeOf(i - 1), `v${i - 1}`)];
      t.observe('scraper', T0 + (i % 1000), batch);
      expect(t.stats().exactHashesKept).toBeLessThanOrEqual(1000);
    }
    t.observe('support', T0 + 10, [f('phone', 'v1'), f('phone', 'v2')]);
    const [scraper, support] = t.flush();
    expect(scraper!.approximate).toBe(true);
    // v-1 is the one extra value (the repeat of the first response).
    expect(Math.abs(scraper!.distinctValues - (n + 1)) / n).toBeLessThan(0.05);
    expect(Math.abs(scraper!.byType.email! - n / 4) / (n / 4)).toBeLessThan(0.06);
    expect(Math.abs(scraper!.byType.phone! - (3 * n) / 4) / ((3 * n) / 4)).toBeLessThan(0.06);
    expect(scraper!.requests).toBe(n);
    // Other actors in the same window stay exact.
    expect(support).toMatchObject({ actor: 'support', distinctValues: 2, approximate: false });
  });

  it('refuses nonsense options', () => {
    expect(() => new EgressTracker({ windowMs: 0 })).toThrow();
    expect(() => new EgressTracker({ maxDistinct: 0 })).toThrow();
  });

  it('counts what the scanner finds in responses, by hash only', () => {
    const scanner = new SensitiveScanner();
    const t = new EgressTracker({ windowMs: MIN });
    for (let page = 0; page < 3; page++) {
      const rows = Array.from({ length: 25 }, (_, i) => ({
        phone: `1381234${String(page * 20 + i).padStart(4, '0')}`,
      }));
      t.observe('token:abc', T0 + page * 1000, scanner.scanBody(JSON.stringify({ rows }), 'response'));
    }
    // Pages overlap by five rows: 25 + 20 + 20 distinct phones.
    expect(t.flush()).toMatchObject([
      { actor: 'token:abc', distinctValues: 65, byType: { phone: 65 }, requests: 3 },
    ]);
  });
});

describe('Hll', () => {
  it('estimates small and large cardinalities within a few percent', () => {
    for (const n of [10, 500, 5000, 100_000]) {
      const s = new Hll();
      for (let i = 0; i < n; i++) s.add(h(`x${i}`));
      for (let i = 0; i < n; i++) s.add(h(`x${i}`));
      // Tiny sets can lose a value to a register collision: allow two values or 5%, whichever is more.
      expect(Math.abs(s.estimate() - n), String(n)).toBeLessThanOrEqual(Math.max(2, 0.05 * n));
    }
  });
});
