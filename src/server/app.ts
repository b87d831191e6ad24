/**
 * `createApp`: the whole HTTP API as a Hono app, without a listener, so tests call `app.request()` and the
 * `serve` command (src/cli/serve.ts) puts it behind a real socket (listen.ts). docs/server.md describes the
 * API; GET /api/v1/openapi.json is its OpenAPI 3.1 document.
 *
 * The app owns what it starts (the live pipeline unless one is given, timers, the SSE hub) and `close()`
 * stops them, ending the pipeline's open segment; the state belongs to the caller, who closes it after.
 */
import { Hono } from 'hono';
import type { Config } from '../config/schema.js';
import { defaultConfig } from '../config/schema.js';
import type { Quarantine } from '../pipeline/quarantine.js';
import type { Notifier } from '../respond/notify.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import type { PgStateStore } from '../store/state/pg-state.js';
import type { ServerEnv } from './auth.js';
import { type Change, type IngestSink, ServerContext } from './context.js';
import { dashboardFiles } from './dashboard.js';
import { errorBody, errorResponse, json } from './http.js';
import { BatchParser } from './ingest.js';
import { LiveHub, type LiveOptions } from './live.js';
import { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { DetectionPipeline, type PipelineOptions } from './pipeline.js';
import { type RateLimitOptions, TokenBuckets } from './ratelimit.js';
import { adminRoutes } from './routes/admin.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { decisionRoutes } from './routes/decisions.js';
import { documentRoutes } from './routes/documents.js';
import { incidentRoutes } from './routes/incidents.js';
import { auditRoutes, type IngestFn, ingestFunction, ingestRoutes, ingestStats } from './routes/live.js';
import { type TrafficOptions, TrafficTap } from './traffic.js';

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_INGEST_RATE: RateLimitOptions = { perSec: 20, burst: 40 };

export interface AppOptions {
  state: PgStateStore;
  /** The configuration (response policy, event options, detection rules, notifications). */
  config?: Config;
  /** The event store directory for backtests (`--store`); null or absent: backtests answer 409. */
  storeDir?: string | null;
  /** Where ingested events go (default: the live DetectionPipeline against the latest stored profile). */
  sink?: IngestSink;
  /** Options of the default pipeline (segment length...). */
  pipeline?: Partial<Omit<PipelineOptions, 'profile' | 'onSegment'>>;
  /** Largest request body, as sent and after gzip (default 10 MiB). */
  maxBodyBytes?: number;
  /** Ingest requests per API token (default 20/s, bursts of 40). */
  ingestRate?: RateLimitOptions;
  live?: LiveOptions;
  /** How often ingest statistics go to the live streams when they changed (default 5 s; 0: never). */
  statsIntervalMs?: number;
  /** How often decisions past their TTL are marked expired (default 60 s; 0: only on request). */
  expireEveryMs?: number;
  /** Notification channels for what the server changes (none by default). */
  notifier?: Notifier | null;
  /** Keeps the first malformed ingest records (none by default: only counted). */
  quarantine?: Quarantine | null;
  /** Server log lines (default: stderr). */
  log?: (msg: string) => void;
  now?: () => number;
  /** Bounds of the dashboard's in-memory read model of the traffic (traffic.ts). */
  traffic?: TrafficOptions;
  /** The built dashboard (default: dist/web of this package); `/` answers 503 without index.html there. */
  dashboardDir?: string;
}

export interface ServerApp {
  app: Hono<ServerEnv>;
  hub: LiveHub;
  metrics: Metrics;
  sink: IngestSink;
  /** The dashboard's read model: every ingested event and the live pipeline's alerts pass through it. */
  traffic: TrafficTap;
  /**
   * What POST /api/v1/ingest does with a body, callable inside the process (the demo's replay): parse the
   * lines (format and envelope detected or given), count malformed ones, feed the events to the sink.
   */
  ingest: IngestFn;
  /** Stops timers, ends the live streams, closes the sink (the pipeline's last segment is stored). */
  close(): Promise<void>;
}

export async function createApp(o: AppOptions): Promise<ServerApp> {
  const { state } = o;
  const config = o.config ?? defaultConfig();
  const log = o.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const now = o.now ?? Date.now;
  const hub = new LiveHub(o.live);
  const metrics = new Metrics(now);
  const latest = await state.latestProfile();
  const traffic = new TrafficTap(o.traffic);

  let ctx: ServerContext | undefined;
  const sink: IngestSink =
    o.sink ??
    new DetectionPipeline({
      profile: latest?.value ?? null,
      profileTs: latest?.ts ?? null,
      detection: { rules: config.detection.rules },
      scanner: new SensitiveScanner(config.sensitive),
      log,
      ...o.pipeline,
      onSegment: async (r) => {
        for (const a of r.alerts) metrics.alerts.add([a.type]);
        traffic.alerts(r.alerts);
        const s = ctx!;
        const res = await s.serial(() => s.responder({ mergeOpen: true }).ingest(r.incidents, 'pipeline'));
        s.announce([
          ...res.created.map((incident): Change => ({ kind: 'incident.new', incident })),
          ...res.updated.map((incident): Change => ({ kind: 'incident.updated', incident })),
          ...res.decisions.map((decision): Change => ({ kind: 'decision.new', decision })),
        ]);
      },
    });

  const maxBodyBytes = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const s = new ServerContext(state, config, hub, metrics, sink, o.notifier ?? null, {
    maxBodyBytes,
    storeDir: o.storeDir ?? null,
    now,
    log,
  });
  ctx = s;
  if (latest !== undefined) Object.assign(s.current, { profile: latest.value, id: latest.id, ts: latest.ts });

  const events = config.events;
  const parser = new BatchParser({
    events,
    ...(config.input.logFormat === undefined ? {} : { logFormat: config.input.logFormat }),
    ...(config.input.jsonMapping === undefined ? {} : { jsonMapping: config.input.jsonMapping }),
    maxLineBytes: config.input.maxLineBytes,
    ...(o.quarantine
      ? {
          onMalformed: (src, n, m, sample) => o.quarantine!.add(src, n, m.reason, m.detail, sample),
        }
      : {}),
  });
  const buckets = new TokenBuckets(o.ingestRate ?? DEFAULT_INGEST_RATE, now);

  const app = new Hono<ServerEnv>();
  app.use('*', async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-frame-options', 'DENY');
    // Nothing the API answers is a page: no scripts, frames or loads (a dashboard's own routes set theirs).
    if (!c.res.headers.has('content-security-policy'))
      c.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    const route = c.get('unmatched') ? 'unmatched' : c.req.routePath;
    metrics.http.add([c.req.method, route, String(c.res.status)]);
  });
  app.onError((e, c) => errorResponse(c, e, log));
  app.notFound((c) => {
    c.set('unmatched', true);
    return json(c, errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404);
  });

  app.get('/healthz', async (c) => {
    try {
      await state.db.query('SELECT 1');
      return json(c, { status: 'ok', db: 'ok' });
    } catch (e) {
      return json(c, { status: 'unavailable', db: 'error', error: (e as Error).message }, 503);
    }
  });
  app.get('/metrics', async (c) => {
    metrics.sseClients = hub.clients;
    metrics.detectedEvents = sink.stats?.().eventsJudged ?? 0;
    return c.body(await metrics.render(state), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });
  const doc = openApiDocument();
  app.get('/api/v1/openapi.json', (c) => json(c, doc));

  incidentRoutes(app, s);
  decisionRoutes(app, s);
  documentRoutes(app, s);
  adminRoutes(app, s);
  auditRoutes(app, s);
  const ingest = ingestFunction(
    s,
    parser,
    async () => {
      await o.quarantine?.flush();
    },
    traffic,
  );
  ingestRoutes(app, s, ingest, buckets);
  dashboardRoutes(app, s, traffic);
  dashboardFiles(app, o.dashboardDir);

  // Background work: ingest statistics to the live streams, decisions past their TTL.
  const timers: NodeJS.Timeout[] = [];
  let lastStats = '';
  if ((o.statsIntervalMs ?? 5000) > 0) {
    const t = setInterval(() => {
      const st = { ...ingestStats(s), pipeline: sink.stats?.() ?? null };
      const key = JSON.stringify([st.events, st.malformed, st.pipeline?.eventsJudged, st.pipeline?.segments]);
      if (key === lastStats || hub.clients === 0) return;
      lastStats = key;
      hub.publish('ingest.stats', st);
    }, o.statsIntervalMs ?? 5000);
    t.unref();
    timers.push(t);
  }
  if ((o.expireEveryMs ?? 60_000) > 0) {
    const t = setInterval(() => {
      s.serial(() => s.responder().expire())
        .then((ds) => s.announce(ds.map((decision): Change => ({ kind: 'decision.expired', decision }))))
        .catch((e: Error) => log(`expiring decisions failed: ${e.message}`));
    }, o.expireEveryMs ?? 60_000);
    t.unref();
    timers.push(t);
  }

  let closed = false;
  return {
    app,
    hub,
    metrics,
    sink,
    traffic,
    ingest,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const t of timers) clearInterval(t);
      hub.close();
      await sink.close();
      await s.serial(async () => {});
      await o.quarantine?.close();
      if (o.notifier) await o.notifier.flush();
    },
  };
}
