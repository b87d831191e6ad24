/**
 * The app without a socket or a database: `app.request()` against a stand-in state, for what needs no real
 * PostgreSQL (health when the database fails, the answers' headers, unknown routes), and the small parts
 * (pages, rate limits, metrics text, batch parsing, the live pipeline over a real DetectionRun).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiEvent } from '../core/event.js';
import { ProfilingRun } from '../detect/run.js';
import { Enricher } from '../features/enrich.js';
import type { PgStateStore } from '../store/state/pg-state.js';
import { createApp } from './app.js';
import { safeJson } from './http.js';
import { BatchParser, BatchRefused } from './ingest.js';
import { Metrics } from './metrics.js';
import { DetectionPipeline } from './pipeline.js';
import { TokenBuckets } from './ratelimit.js';
import { page } from './views.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A state whose database is gone. */
const brokenState = {
  latestProfile: async () => undefined,
  authenticate: async () => null,
  db: {
    query: async () => {
      throw new Error('connection refused');
    },
  },
} as unknown as PgStateStore;

const nullSink = { write: async () => {}, close: async () => {} };

describe('createApp with app.request()', () => {
  it('answers 503 on /healthz when the database fails, JSON with nosniff', async () => {
    const s = await createApp({
      state: brokenState,
      sink: nullSink,
      log: () => {},
      expireEveryMs: 0,
      statsIntervalMs: 0,
    });
    const r = await s.app.request('/healthz');
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.json()).toMatchObject({ status: 'unavailable', db: 'error' });
    const nf = await s.app.request('/nope');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ error: { code: 'not_found' } });
    const unauth = await s.app.request('/api/v1/incidents', { headers: { authorization: 'Bearer awt_x' } });
    expect(unauth.status).toBe(401);
    await s.close();
  });

  it('answers 409 no_store to a backtest when started without --store', async () => {
    const state = {
      ...brokenState,
      authenticate: async () => ({
        user: { id: 1, name: 'a', role: 'analyst', createdTs: 0 },
        role: 'analyst',
        tokenId: 't',
      }),
    } as unknown as PgStateStore;
    const s = await createApp({ state, sink: nullSink, log: () => {}, expireEveryMs: 0, statsIntervalMs: 0 });
    const r = await s.app.request('/api/v1/backtest', {
      method: 'POST',
      headers: { authorization: 'Bearer awt_x', 'content-type': 'application/json' },
      body: JSON.stringify({ scope: { kind: 'ip', value: '192.0.2.1' } }),
    });
    expect(r.status).toBe(409);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('no_store');
    expect(body.error.message).toMatch(/--store/);
    await s.close();
  });

  it('turns an unexpected error into a 500 without its details', async () => {
    const lines: string[] = [];
    const state = {
      ...brokenState,
      authenticate: async () => ({
        user: { id: 1, name: 'a', role: 'admin', createdTs: 0 },
        role: 'admin',
        tokenId: 't',
      }),
      incidentPage: async () => {
        throw new Error('secret detail');
      },
    } as unknown as PgStateStore;
    const s = await createApp({
      state,
      sink: nullSink,
      log: (m) => lines.push(m),
      expireEveryMs: 0,
      statsIntervalMs: 0,
    });
    const r = await s.app.request('/api/v1/incidents', { headers: { authorization: 'Bearer awt_x' } });
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toContain('secret detail');
    expect(JSON.parse(text).error.code).toBe('internal');
    expect(lines.join('\n')).toContain('secret detail');
    await s.close();
  });
});

describe('safeJson', () => {
  it('escapes what HTML would read, and stays the same JSON', () => {
    const v = { s: '<script>alert(1)</script> & \u2028' };
    const text = safeJson(v);
    expect(text).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual(v);
  });
});

describe('page', () => {
  const items = [
    { ts: 1, id: 'a' },
    { ts: 2, id: 'b' },
    { ts: 2, id: 'c' },
    { ts: 3, id: 'd' },
  ];
  const key = (x: { ts: number; id: string }): [number, string] => [x.ts, x.id];
  it('walks every item once, in both orders', () => {
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const p = page(items, key, { limit: 3, order, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...p.items.map((x) => x.id));
        if (p.nextCursor === null) break;
        cursor = p.nextCursor;
      }
      expect(seen).toEqual(order === 'asc' ? ['a', 'b', 'c', 'd'] : ['d', 'c', 'b', 'a']);
    }
  });
  it('refuses a cursor it did not make', () => {
    expect(() => page(items, key, { cursor: 'bm9wZQ' })).toThrow(/cursor/);
  });
});

describe('TokenBuckets', () => {
  it('allows a burst, then the rate, and says when to retry', () => {
    let now = 0;
    const b = new TokenBuckets({ perSec: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => b.take('k').ok)).toEqual([true, true, true]);
    const no = b.take('k');
    expect(no).toEqual({ ok: false, retryAfterSec: 1 });
    expect(b.take('other').ok).toBe(true);
    now += 500;
    expect(b.take('k').ok).toBe(true);
    expect(b.take('k').ok).toBe(false);
  });
});

describe('Metrics', () => {
  it('escapes label values and averages events per second over 10 s', async () => {
    let now = 100_000;
    const m = new Metrics(() => now);
    m.malformed.add(['we"ird\\reason\n'], 2);
    m.ingested(50, 99_000);
    now += 3000;
    m.ingested(50, 102_000);
    expect(m.eventsPerSec()).toBe(10);
    now += 20_000;
    expect(m.eventsPerSec()).toBe(0);
    const state = { db: { query: async () => [{ status: 'new', n: 2 }] } } as unknown as PgStateStore;
    const text = await m.render(state);
    expect(text).toContain('apiwarden_ingest_malformed_total{reason="we\\"ird\\\\reason\\n"} 2');
    expect(text).toContain('apiwarden_incidents{status="new"} 2');
    expect(text).toContain('apiwarden_ingest_lag_seconds 21');
  });
});

describe('BatchParser', () => {
  const apisix = readFileSync(join(ROOT, 'testdata/parsers/apisix-basic/input.jsonl'), 'utf8');
  const p = new BatchParser();
  const req = { format: 'auto', envelope: 'auto', source: 'http' };
  it('reads the same events from lines, an array and envelopes', () => {
    const lines = apisix.split('\n').slice(0, 4);
    const a = p.parse(lines.join('\n'), req);
    const b = p.parse(JSON.stringify(lines.map((l) => JSON.parse(l))), req);
    const c = p.parse(lines.map((l) => JSON.stringify({ message: l })).join('\n'), req);
    const strip = (evs: ApiEvent[]) => evs.map(({ origin: _, ...e }) => e);
    expect(a.events).toHaveLength(4);
    expect(strip(b.events)).toEqual(strip(a.events));
    expect(strip(c.events)).toEqual(strip(a.events));
    expect(a.maxTs).toBe(Math.max(...a.events.map((e) => e.ts)));
  });
  it('counts the golden file’s malformed lines by reason', () => {
    const r = p.parse(apisix, { ...req, format: 'apisix' });
    expect(r).toMatchObject({
      malformed: 4,
      reasons: { bad_json: 1, not_an_object: 1, missing_field: 1, bad_status: 1 },
    });
    expect(r.events).toHaveLength(4);
  });
  it('refuses a format needing options it lacks, naming the config', () => {
    expect(() => p.parse('x', { ...req, format: 'nginx' })).toThrow(BatchRefused);
    expect(() => p.parse('x', { ...req, format: 'nginx' })).toThrow(/input.logFormat/);
  });
  it('counts records over the line limit as line_too_long', () => {
    const small = new BatchParser({ maxLineBytes: 100 });
    const r = small.parse(`${'x'.repeat(500)}\nshort`, { ...req, format: 'combined' });
    expect(r.reasons).toEqual({ line_too_long: 1, format_mismatch: 1 });
  });
  it('reads a HAR document when told', () => {
    const har = readFileSync(join(ROOT, 'testdata/parsers/har-basic', 'input.har'), 'utf8');
    const r = p.parse(har, { ...req, format: 'har' });
    expect(r.events.length).toBeGreaterThan(0);
  });
});

describe('DetectionPipeline over a real DetectionRun', () => {
  it('judges events against a learned profile and ends segments with their incidents', async () => {
    const lines = readFileSync(join(ROOT, 'testdata/parsers/combined-basic/input.log'), 'utf8')
      .split('\n')
      .slice(0, 10);
    const events = new BatchParser().parse(lines.join('\n'), {
      format: 'combined',
      envelope: 'none',
      source: 't',
    }).events;
    const learn = new ProfilingRun();
    const enricher = new Enricher();
    for (const e of events) learn.push(enricher.enrich(e));
    const profile = learn.build();
    const segments: number[] = [];
    const p = new DetectionPipeline({
      profile,
      onSegment: async (r) => void segments.push(r.incidents.length),
      maxSegmentEvents: 15,
    });
    await p.write(events);
    expect(p.stats()).toMatchObject({ detecting: true, eventsJudged: 10, segmentEvents: 10 });
    await p.write(events); // 20 ≥ 15: the segment ends
    expect(p.stats()).toMatchObject({ segments: 1, segmentEvents: 0 });
    await p.setProfile(null);
    await p.write(events);
    expect(p.stats()).toMatchObject({ detecting: false, eventsSeen: 30, eventsJudged: 20 });
    await p.close();
    await expect(p.write(events)).rejects.toThrow(/closed/);
  });
});
