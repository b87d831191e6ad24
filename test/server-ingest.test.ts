/**
 * HTTP ingest, live updates and metrics over a real listener: what Vector and Fluent Bit send (JSON lines,
 * JSON arrays, envelopes, gzip), raw access-log lines, malformed records counted but never fatal, the body
 * limit (413, and the server keeps serving), the per-token rate limit (429), the Server-Sent Events stream
 * (an import and a pipeline segment each reach it), and /metrics in the Prometheus text format.
 *
 * The live pipeline runs with a stand-in detection run (one alert per segment for the busiest address) so
 * the path ingest → pipeline → incidents → SSE is tested without learning a real profile here.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableId } from '../src/detect/alerts.js';
import type { Alert } from '../src/detect/types.js';
import type { FeatureEvent } from '../src/features/enrich.js';
import { Quarantine } from '../src/pipeline/quarantine.js';
import type { LiveRun } from '../src/server/pipeline.js';
import { makeIncident, startTestServer, type TestServer } from '../src/server/testing.js';

const ROOT = join(import.meta.dirname, '..');
const apisix = readFileSync(join(ROOT, 'testdata/parsers/apisix-basic/input.jsonl'), 'utf8').split('\n');
const GOOD_APISIX = apisix.slice(0, 4);
const BAD_JSON = apisix[4]!;
const combined = readFileSync(join(ROOT, 'testdata/parsers/combined-basic/input.log'), 'utf8').split('\n');
const GOOD_COMBINED = combined.slice(0, 10);

/** A detection run that reports the address with the most events as a scanner when its segment ends. */
function fakeRun(): LiveRun {
  const seen = new Map<string, FeatureEvent[]>();
  return {
    push: (e) => {
      const l = seen.get(e.ip) ?? [];
      l.push(e);
      seen.set(e.ip, l);
    },
    finish: (): Alert[] => {
      const top = [...seen].sort((a, b) => b[1].length - a[1].length)[0];
      if (top === undefined) return [];
      const [ip, evs] = top;
      return [
        {
          id: stableId('alert', 'fake', ip),
          type: 'scanner',
          detector: 'fake',
          severity: 'medium',
          score: 0.9,
          confidence: 0.9,
          actors: [{ kind: 'ip', value: ip }],
          endpoints: [evs[0]!.endpoint],
          firstEventTs: evs[0]!.ts,
          detectedTs: evs[evs.length - 1]!.ts,
          lastEventTs: evs[evs.length - 1]!.ts,
          requests: evs.length,
          evidence: [],
          explanation: `${ip} sent ${evs.length} requests`,
        },
      ];
    },
    links: () => [],
    scenarioOf: () => '',
  };
}

const LIMIT = 64 * 1024;
let t: TestServer;
let quarantineFile: string;

beforeAll(async () => {
  quarantineFile = join(await mkdtemp(join(tmpdir(), 'aw-quarantine-')), 'ingest-quarantine.jsonl');
  t = await startTestServer({
    quarantine: new Quarantine({ path: quarantineFile, maxRecords: 100, sampleChars: 200, scrub: (s) => s }),
    statsIntervalMs: 100,
    maxBodyBytes: LIMIT,
    ingestRate: { perSec: 2, burst: 8 },
    pipeline: { makeRun: () => fakeRun(), segmentMs: 3_600_000 },
    live: { heartbeatMs: 200 },
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** A token of its own, so rate limits of one test do not touch another. */
const freshToken = async () => (await t.state.createToken('ana', 'ingest test')).secret;

const ingest = async (
  body: string | Uint8Array,
  o: { query?: string; headers?: Record<string, string>; token?: string } = {},
) =>
  t.call('POST', `/api/v1/ingest${o.query ?? ''}`, {
    token: o.token ?? (await freshToken()),
    body,
    headers: { 'content-type': 'application/x-ndjson', ...o.headers },
  });

describe('ingest', () => {
  it('takes JSON lines (format detected) and counts malformed ones without failing the batch', async () => {
    const r = await ingest([...GOOD_APISIX, BAD_JSON, ''].join('\n'));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      accepted: 4,
      malformed: 1,
      reasons: { bad_json: 1 },
      format: 'apisix',
      detected: true,
    });
    expect(r.body.errors[0]).toMatchObject({ record: 5, reason: 'bad_json' });
    // The quarantine hands its records to a write stream; they reach the file a moment later.
    let text = '';
    for (let k = 0; k < 100 && text === ''; k++) {
      text = readFileSync(quarantineFile, 'utf8');
      if (text === '') await new Promise((res) => setTimeout(res, 20));
    }
    const kept = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(kept[0]).toMatchObject({ line: 5, reason: 'bad_json', record: BAD_JSON.replace(/\r$/, '') });
    expect(kept[0].source).toMatch(/^http:tok_/);
  });

  it('takes gzip (content-encoding), a JSON array (Vector), envelopes (Vector message, Fluent Bit log)', async () => {
    const gz = await ingest(gzipSync(`${GOOD_APISIX.join('\n')}\n`), {
      headers: { 'content-encoding': 'gzip' },
    });
    expect(gz.body).toMatchObject({ accepted: 4, malformed: 0 });

    const array = await ingest(JSON.stringify(GOOD_APISIX.map((l) => JSON.parse(l))), {
      headers: { 'content-type': 'application/json' },
    });
    expect(array.body).toMatchObject({ accepted: 4, malformed: 0, format: 'apisix' });

    const vector = GOOD_COMBINED.map((l) =>
      JSON.stringify({ message: l, timestamp: '2024-03-05T10:11:12Z', host: 'gw1' }),
    );
    const v = await ingest(vector.join('\n'));
    expect(v.body).toMatchObject({ accepted: 10, malformed: 0, format: 'combined' });

    const fluent = GOOD_COMBINED.map((l, i) => ({ date: 1709633472 + i, log: `${l}\n` }));
    fluent.push({ date: 1, other: 'x' } as never);
    const f = await ingest(JSON.stringify(fluent), { headers: { 'content-type': 'application/json' } });
    expect(f.body).toMatchObject({ accepted: 10, malformed: 1, reasons: { missing_field: 1 } });

    const wrapped = await ingest(gzipSync(JSON.stringify(fluent.slice(0, 3))), {
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
      query: '?format=combined&envelope=log',
    });
    expect(wrapped.body).toMatchObject({ accepted: 3, detected: false });
  });

  it('takes raw access-log lines; an unknown or undetectable format is a 400 naming the parameter', async () => {
    const r = await ingest([...GOOD_COMBINED, 'this is not a log line', 'neither is this\r'].join('\r\n'), {
      query: '?format=combined',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.body).toMatchObject({ accepted: 10, malformed: 2, detected: false, format: 'combined' });
    const unknown = await ingest(GOOD_COMBINED.join('\n'), { query: '?format=iis' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_body', field: 'format' });
    expect(unknown.body.error.message).toMatch(/unknown format 'iis'/);
    const garbage = await ingest('hello\nworld\n');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.message).toMatch(/\?format=NAME/);
    const badEncoding = await ingest('x', { headers: { 'content-encoding': 'br' } });
    expect(badEncoding.status).toBe(415);
  });

  it('refuses a body over the limit with 413 (declared, streamed, or inflated) and keeps serving', async () => {
    const big = `${GOOD_COMBINED[0]}\n`.repeat(Math.ceil((LIMIT * 1.5) / GOOD_COMBINED[0]!.length));
    const declared = await ingest(big);
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe('payload_too_large');
    expect(declared.headers.get('content-type')).toBe('application/json; charset=utf-8');

    const chunks = [Buffer.from(big.slice(0, LIMIT / 2)), Buffer.from(big.slice(LIMIT / 2))];
    const streamed = await t.call('POST', '/api/v1/ingest?format=combined', {
      token: await freshToken(),
      body: new ReadableStream<Uint8Array>({
        pull(c) {
          const next = chunks.shift();
          if (next === undefined) c.close();
          else c.enqueue(next);
        },
      }),
    });
    expect(streamed.status).toBe(413);

    const bomb = gzipSync(Buffer.alloc(LIMIT * 4, 'a'));
    expect(bomb.length).toBeLessThan(LIMIT);
    const inflated = await ingest(bomb, { headers: { 'content-encoding': 'gzip' } });
    expect(inflated.status).toBe(413);
    expect(inflated.body.error.message).toMatch(/inflates/);

    const after = await ingest(GOOD_COMBINED.join('\n'));
    expect(after.status).toBe(200);
    expect(after.body.accepted).toBe(10);
    expect((await t.call('GET', '/healthz', { token: null })).status).toBe(200);
  });

  it('limits ingest requests per token (429 with Retry-After), other tokens unaffected', async () => {
    const token = await freshToken();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof ingest>> | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await ingest(GOOD_APISIX[0]!, { token });
      statuses.push(r.status);
      if (r.status === 429) {
        limited = r;
        break;
      }
    }
    expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
    expect(limited?.status).toBe(429);
    expect(limited?.body.error.code).toBe('rate_limited');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await ingest(GOOD_APISIX[0]!)).status).toBe(200);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: the tests read SSE payloads loosely
type LiveEvent = { event: string; id?: string | undefined; data: any };

/** An open SSE stream and the events read from it so far. */
async function openEvents(query: string) {
  const ac = new AbortController();
  const res = await fetch(`${t.url}/api/v1/events${query}`, { signal: ac.signal });
  const events: LiveEvent[] = [];
  let buffer = '';
  let comments = 0;
  const reader = res.body!.getReader();
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += new TextDecoder().decode(value);
        let i = buffer.indexOf('\n\n');
        while (i >= 0) {
          const frame = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const f: Record<string, string> = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments++;
            const m = /^(\w+): ?(.*)$/.exec(line);
            if (m !== null) f[m[1]!] = m[2]!;
          }
          if (f.event !== undefined)
            events.push({ event: f.event, id: f.id, data: JSON.parse(f.data ?? 'null') });
          i = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  const waitFor = async (pred: (e: LiveEvent) => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const hit = events.find(pred);
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no matching event in ${ms} ms; got ${events.map((e) => e.event).join(', ')}`);
  };
  return {
    res,
    events,
    waitFor,
    comments: () => comments,
    close: async () => {
      ac.abort();
      await pump;
    },
  };
}

describe('live updates', () => {
  it('needs a token (header or ?token=) and streams an imported incident and its decisions', async () => {
    expect((await fetch(`${t.url}/api/v1/events`)).status).toBe(401);
    const s = await openEvents(`?token=${t.tokens.viewer}`);
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const inc = makeIncident({ actors: [{ kind: 'ip', value: '203.0.113.200' }], explanation: '<b>x</b>' });
    const imp = await t.call('POST', '/api/v1/incidents/import', {
      token: t.tokens.analyst,
      json: { incidents: [inc] },
    });
    expect(imp.body).toMatchObject({ created: 1, decisions: 1 });
    const e = await s.waitFor((x) => x.event === 'incident.new' && x.data.id === inc.id);
    expect(e.data).toMatchObject({ status: 'new', explanation: '<b>x</b>', actorCount: 1 });
    await s.waitFor((x) => x.event === 'decision.new' && x.data.incidentId === inc.id);
    // Heartbeats (every 200 ms in this test) keep an idle stream alive.
    const before = s.comments();
    await new Promise((r) => setTimeout(r, 450));
    expect(s.comments()).toBeGreaterThan(before);
    expect(t.server.hub.clients).toBe(1);
    await s.close();
    const end = Date.now() + 2000;
    while (t.server.hub.clients > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(t.server.hub.clients).toBe(0);
  });

  it('runs ingested events through the live pipeline once a profile is stored, and streams the incident', async () => {
    const off = await t.call('GET', '/api/v1/pipeline', { token: t.tokens.viewer });
    expect(off.body.pipeline.detecting).toBe(false);
    const profile = {
      kind: 'apiwarden-profile',
      version: 1,
      from: 0,
      to: 1,
      periodMs: 3_600_000,
      method: 'test',
      features: {},
      habitual: {},
    };
    const put = await t.call('PUT', '/api/v1/profile', { token: t.tokens.analyst, json: profile });
    expect(put.status).toBe(201);
    const on = await t.call('GET', '/api/v1/pipeline', { token: t.tokens.viewer });
    expect(on.body.pipeline.detecting).toBe(true);
    expect(on.body.profile.id).toBe(put.body.id);

    // The Authorization header works on the stream as on every route.
    const ac = new AbortController();
    const res = await fetch(`${t.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${t.tokens.viewer}` },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    ac.abort();

    const live = await openEvents(`?token=${t.tokens.viewer}`);
    const lines = [...GOOD_COMBINED, ...Array.from({ length: 5 }, () => GOOD_COMBINED[0]!)];
    const r = await ingest(lines.join('\n'));
    expect(r.body.accepted).toBe(15);
    const flushed = await t.call('POST', '/api/v1/pipeline/flush', { token: t.tokens.analyst });
    expect(flushed.body).toMatchObject({ events: 15, alerts: 1, incidents: 1 });
    const e = await live.waitFor(
      (x) => x.event === 'incident.new' && x.data.actors[0].value === '203.0.113.42',
    );
    expect(e.data.explanation).toMatch(/sent 6 requests/);
    await live.close();
    const list = await t.call('GET', '/api/v1/incidents?type=scanner', { token: t.tokens.viewer });
    expect(list.body.items.some((i: { id: string }) => i.id === e.data.id)).toBe(true);
    const audit = await t.call('GET', `/api/v1/audit?target=${e.data.id}`, { token: t.tokens.viewer });
    expect(audit.body.entries[0]).toMatchObject({ action: 'incident.created', by: 'pipeline' });
  });
});

/** Samples of a Prometheus text exposition: name{labels} → value; checks every line's shape. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
    if (type !== null) {
      typed.add(type[1]!);
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|[+-]Inf)$/.exec(
        line,
      );
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    if (!typed.has(m[1]!)) throw new Error(`sample before its # TYPE: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

describe('metrics and health', () => {
  it('exposes Prometheus text whose counters follow the traffic', async () => {
    const r1 = await t.call('GET', '/metrics', { token: null });
    expect(r1.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m1 = parseMetrics(r1.text);
    const ingested = m1.get('apiwarden_ingest_events_total')!;
    expect(ingested).toBeGreaterThan(0);
    expect(m1.get('apiwarden_ingest_malformed_total{reason="bad_json"}')).toBeGreaterThanOrEqual(1);
    expect(m1.get('apiwarden_http_requests_total{method="POST",route="/api/v1/ingest",status="413"}')).toBe(
      3,
    );
    expect(m1.get('apiwarden_http_requests_total{method="POST",route="/api/v1/ingest",status="429"}')).toBe(
      1,
    );
    expect(m1.get('apiwarden_alerts_total{type="scanner"}')).toBe(1);
    expect(m1.get('apiwarden_incidents{status="new"}')).toBeGreaterThanOrEqual(2);
    expect(m1.get('apiwarden_decisions{status="proposed"}')).toBeGreaterThanOrEqual(1);
    expect(m1.get('apiwarden_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m1.get('apiwarden_ingest_lag_seconds')).toBeGreaterThan(0);
    expect(m1.has('apiwarden_ingest_events_per_second')).toBe(true);

    await ingest([...GOOD_APISIX, BAD_JSON].join('\n'));
    const m2 = parseMetrics((await t.call('GET', '/metrics', { token: null })).text);
    expect(m2.get('apiwarden_ingest_events_total')).toBe(ingested + 4);
    expect(m2.get('apiwarden_ingest_malformed_total{reason="bad_json"}')).toBe(
      m1.get('apiwarden_ingest_malformed_total{reason="bad_json"}')! + 1,
    );
    expect(m2.get('apiwarden_ingest_events_per_second')).toBeGreaterThan(0);
    expect(m2.get('apiwarden_http_requests_total{method="GET",route="/metrics",status="200"}')).toBe(
      (m1.get('apiwarden_http_requests_total{method="GET",route="/metrics",status="200"}') ?? 0) + 1,
    );
  });

  it('reports health', async () => {
    const ok = await t.call('GET', '/healthz', { token: null });
    expect(ok.body).toEqual({ status: 'ok', db: 'ok' });
  });
});
