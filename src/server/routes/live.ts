/**
 * Reading what happens: the audit log (paged by sequence number) and its hash-chain check, HTTP ingest into
 * the pipeline, the pipeline's state, and the Server-Sent Events stream.
 */
import type { Hono } from 'hono';
import { guard, type ServerEnv } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ApiError, errorBody, json, readBody, readQuery } from '../http.js';
import { type Batch, type BatchParser, BatchRefused, type BatchRequest } from '../ingest.js';
import type { TokenBuckets } from '../ratelimit.js';
import { auditQuery, ingestQuery } from '../schemas.js';
import type { TrafficTap } from '../traffic.js';

export function auditRoutes(app: Hono<ServerEnv>, s: ServerContext): void {
  const { state } = s;
  app.get('/api/v1/audit', guard(state, 'viewer'), async (c) => {
    const q = readQuery(c, auditQuery);
    const after = q.afterSeq ?? 0;
    const limit = q.limit ?? 100;
    const all = await state.auditLog(q.target);
    const rest = all.filter((e) => e.seq > after);
    const entries = rest.slice(0, limit);
    return json(c, {
      entries,
      nextAfterSeq: rest.length > limit ? entries[entries.length - 1]!.seq : null,
    });
  });

  app.get('/api/v1/audit/verify', guard(state, 'viewer'), async (c) => {
    const problem = await state.verifyAudit();
    return json(c, { intact: problem === null, problem });
  });
}

export function ingestRoutes(
  app: Hono<ServerEnv>,
  s: ServerContext,
  ingest: IngestFn,
  buckets: TokenBuckets,
): void {
  const { state } = s;

  app.post('/api/v1/ingest', guard(state, 'analyst'), async (c) => {
    const take = buckets.take(c.var.auth.tokenId);
    if (!take.ok)
      throw new ApiError(
        429,
        'rate_limited',
        `too many ingest requests for this token; retry in ${take.retryAfterSec} s`,
        undefined,
        { 'retry-after': String(take.retryAfterSec) },
      );
    const q = readQuery(c, ingestQuery);
    const body = await readBody(c, s.o.maxBodyBytes);
    let batch: Batch;
    try {
      batch = await ingest(body.toString('utf8'), {
        format: q.format ?? 'auto',
        envelope: q.envelope ?? 'auto',
        source: `http:${c.var.auth.tokenId}`,
      });
    } catch (e) {
      if (e instanceof BatchRefused) throw new ApiError(400, 'invalid_body', e.message, e.field);
      throw e;
    }
    return json(c, {
      accepted: batch.events.length,
      malformed: batch.malformed,
      blank: batch.blank,
      records: batch.records,
      reasons: batch.reasons,
      errors: batch.errors,
      format: batch.format,
      detected: batch.detected,
    });
  });

  app.get('/api/v1/pipeline', guard(state, 'viewer'), (c) =>
    json(c, {
      pipeline: s.sink.stats?.() ?? null,
      profile: { id: s.current.id, ts: s.current.ts },
      ingest: ingestStats(s),
    }),
  );

  app.post('/api/v1/pipeline/flush', guard(state, 'analyst'), async (c) => {
    if (s.sink.endSegment === undefined)
      return json(c, errorBody('conflict', 'this server’s ingest pipeline has no segments to end'), 409);
    const r = await s.sink.endSegment();
    return json(c, { events: r.events, alerts: r.alerts.length, incidents: r.incidents.length });
  });

  app.get('/api/v1/events', guard(state, 'viewer', { allowQueryToken: true }), (c) => {
    const last = Number(c.req.header('last-event-id'));
    const body = s.hub.stream(c.req.raw.signal, Number.isInteger(last) && last >= 0 ? last : undefined);
    if (body === null)
      throw new ApiError(
        503,
        'unavailable',
        `too many live streams open (${s.hub.maxClients}); try again later`,
      );
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      },
    });
  });
}

/** Ingest totals for GET /pipeline and the `ingest.stats` live event. */
export function ingestStats(s: ServerContext) {
  const m = s.metrics;
  return {
    events: m.eventsIngested,
    eventsPerSec: m.eventsPerSec(),
    malformed: Object.fromEntries(m.malformed.samples().map(([l, v]) => [l.reason!, v])),
    lastEventTs: m.lastEventTs,
  };
}

export type IngestFn = (text: string, o: BatchRequest) => Promise<Batch>;

/**
 * The one ingest path (POST /api/v1/ingest, and replays inside the process such as the demo's): parse a
 * body of log lines, count the malformed ones, show the events and their raw lines to the dashboard's read
 * model (`tap`), hand the events to the sink, update the metrics. Throws BatchRefused when the body as a
 * whole cannot be taken (an unknown format...).
 */
export function ingestFunction(
  s: ServerContext,
  parser: BatchParser,
  afterBatch: () => Promise<void>,
  tap: TrafficTap | null = null,
): IngestFn {
  const { metrics } = s;
  return async (text, o) => {
    const batch = parser.parse(text, o);
    for (const [reason, n] of Object.entries(batch.reasons)) metrics.malformed.add([reason], n);
    if (batch.malformed > 0) await afterBatch();
    if (batch.events.length > 0) tap?.record(batch.events, batch.lines);
    if (batch.events.length > 0) await s.sink.write(batch.events);
    metrics.ingested(batch.events.length, batch.maxTs);
    return batch;
  };
}
