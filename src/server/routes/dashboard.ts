/**
 * The dashboard's read routes: what the pages need beyond the incident and decision API, built from the
 * state (incidents, decisions, the stored inventory and profile) and the in-memory read model of the traffic
 * (traffic.ts). Every route needs a viewer token; none changes anything.
 *
 *   GET /api/v1/overview                 per-minute series, top attacked endpoints, top actors, exposure
 *   GET /api/v1/endpoints                the inventory's endpoints with live traffic, risk, shadow / zombie
 *   GET /api/v1/endpoints/detail         one endpoint: its inventory entry, profile thresholds, series
 *   GET /api/v1/inventory/openapi        the inventory as an OpenAPI 3.1 document (a download)
 *   GET /api/v1/actors/{kind}/{value}    an actor's recent requests with raw lines, alerts, incidents, links
 *   GET /api/v1/incidents/{id}/graph     the incident's actors and the ties between them
 *
 * Strings from traffic go out as JSON data like everywhere else in the API (http.ts escapes `<`, `>`, `&`).
 */
import type { Hono } from 'hono';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ACTOR_KINDS, type ActorKind } from '../../core/event.js';
import { CidrSet, parseCidr } from '../../core/net.js';
import { SENSITIVE_SCENARIOS } from '../../detect/incidents.js';
import { actorKey, SEVERITIES } from '../../detect/types.js';
import type { EndpointReport, InventoryReport } from '../../inventory/catalog.js';
import { toOpenApi } from '../../inventory/openapi.js';
import type { Profile } from '../../profiling/profile.js';
import type { IncidentRecord } from '../../respond/state.js';
import type { Decision } from '../../respond/types.js';
import type { PgStateStore } from '../../store/state/pg-state.js';
import { guard, type ServerEnv } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ApiError, json, readQuery } from '../http.js';
import { type EndpointTraffic, endpointShape, MINUTE_MS, type TrafficTap } from '../traffic.js';
import { incidentSummary } from '../views.js';
import { ingestStats } from './live.js';

const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const overviewQuery = z.object({ minutes: queryInt(1, 100_000).optional() });
export const endpointDetailQuery = z.object({
  endpoint: z
    .string()
    .min(3, { message: 'expected METHOD /template' })
    .max(2048, { message: 'at most 2048 characters' }),
  minutes: queryInt(1, 100_000).optional(),
});
export const openApiQuery = z.object({
  format: z.enum(['yaml', 'json'], { message: 'expected one of yaml, json' }).optional(),
});

/** Statuses where an incident still needs work. */
const OPEN = new Set(['new', 'triaged', 'confirmed']);
/** An active decision ending within this is "expiring". */
export const EXPIRING_MS = 3_600_000;
const TOP = 10;
/** Actors drawn in an incident's graph. */
const GRAPH_ACTORS = 40;

const rank = (s: string) => SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);

/** The latest stored inventory, read again only when a newer snapshot exists; the tap follows it. */
class InventoryCache {
  private id: number | null = null;
  private report: InventoryReport | null = null;
  private ts: number | null = null;
  constructor(
    private readonly state: PgStateStore,
    private readonly tap: TrafficTap,
  ) {}
  async get(): Promise<{ id: number; ts: number; report: InventoryReport } | null> {
    const [newest] = await this.state.inventoryVersions();
    if (newest === undefined) return null;
    if (newest.id !== this.id) {
      const snap = await this.state.latestInventory();
      if (snap === undefined) return null;
      this.id = snap.id;
      this.ts = snap.ts;
      this.report = snap.value;
      this.tap.setInventory(snap.value.endpoints ?? []);
    }
    return { id: this.id!, ts: this.ts!, report: this.report! };
  }
}

const endpointName = (e: { method: string; template: string }) => `${e.method} ${e.template}`;

const sensitiveTypes = (e: EndpointReport, side: 'request' | 'response'): string[] =>
  [...new Set((e.sensitive?.[side] ?? []).map((f) => f.type))].sort();

/** The most frequent authentication kind of an endpoint (`none` when nothing authenticated). */
function mainAuth(e: EndpointReport): string {
  const entries = Object.entries(e.auth ?? {}).sort((a, b) => b[1] - a[1]);
  return entries[0]?.[0] ?? 'none';
}

/** `/api/v1/…` of an older version than one the inventory also has (same method and shape). */
function supersededBy(
  e: { method: string; template: string },
  all: readonly EndpointReport[],
): string | null {
  const m = /\/v(\d+)(?=\/)/.exec(e.template);
  if (m === null) return null;
  const v = Number(m[1]);
  const shape = endpointShape(e.template.replace(/\/v\d+(?=\/)/, '/v*'));
  for (const o of all) {
    if (o.method !== e.method) continue;
    const om = /\/v(\d+)(?=\/)/.exec(o.template);
    if (om === null || Number(om[1]) <= v) continue;
    if (endpointShape(o.template.replace(/\/v\d+(?=\/)/, '/v*')) === shape) return endpointName(o);
  }
  return null;
}

export interface Risk {
  score: number;
  level: 'low' | 'medium' | 'high';
  reasons: string[];
}

/**
 * A 0–100 risk of an endpoint: what it answers (sensitive types), who may call it (no authentication), what
 * it is for (a sensitive scenario), what happened to it (incidents), and what it is (shadow, zombie).
 */
export function endpointRisk(o: {
  scenario: string | null;
  responseTypes: readonly string[];
  requestTypes: readonly string[];
  auth: string | null;
  incidents: number;
  shadow: boolean;
  zombie: boolean;
}): Risk {
  let score = 0;
  const reasons: string[] = [];
  if (o.responseTypes.length > 0) {
    score += 25 + Math.min(15, 5 * (o.responseTypes.length - 1));
    reasons.push(`answers sensitive data (${o.responseTypes.join(', ')})`);
  }
  if (o.requestTypes.length > 0) {
    score += 10;
    reasons.push(`receives sensitive data (${o.requestTypes.join(', ')})`);
  }
  const sensitiveScenario = o.scenario !== null && SENSITIVE_SCENARIOS.has(o.scenario);
  if (sensitiveScenario) {
    score += 15;
    reasons.push(`${o.scenario} endpoint`);
  }
  if (o.auth === 'none' && (o.responseTypes.length > 0 || sensitiveScenario)) {
    score += 20;
    reasons.push('called without authentication');
  }
  if (o.incidents > 0) {
    score += Math.min(30, 10 * o.incidents);
    reasons.push(`${o.incidents} incident${o.incidents === 1 ? '' : 's'}`);
  }
  if (o.shadow) {
    score += 15;
    reasons.push('shadow: not in the inventory');
  }
  if (o.zombie) {
    score += 10;
    reasons.push('zombie: a newer version exists');
  }
  score = Math.min(100, score);
  return { score, level: score >= 60 ? 'high' : score >= 30 ? 'medium' : 'low', reasons };
}

/** Incidents per endpoint shape (false positives left out). */
function incidentsByEndpoint(incidents: readonly IncidentRecord[]) {
  const m = new Map<
    string,
    { endpoint: string; incidents: number; open: number; actors: number; severity: string; requests: number }
  >();
  for (const i of incidents) {
    if (i.status === 'false_positive') continue;
    for (const ep of i.endpoints) {
      const k = endpointShape(ep);
      let r = m.get(k);
      if (r === undefined) {
        r = { endpoint: ep, incidents: 0, open: 0, actors: 0, severity: 'low', requests: 0 };
        m.set(k, r);
      }
      r.incidents++;
      if (OPEN.has(i.status)) r.open++;
      r.actors += i.actors.length;
      r.requests += i.requests;
      if (rank(i.severity) > rank(r.severity)) r.severity = i.severity;
    }
  }
  return m;
}

/** A row of the inventory page. */
export interface EndpointRow {
  endpoint: string;
  method: string;
  template: string;
  host: string | null;
  scenario: string | null;
  auth: string | null;
  authKinds: Record<string, number>;
  sensitive: { request: string[]; response: string[] };
  /** Requests in the stored inventory. */
  inventoryRequests: number;
  lastSeen: string | null;
  /** What the server saw since it started (null: nothing yet). */
  live: EndpointTraffic | null;
  incidents: number;
  openIncidents: number;
  risk: Risk;
  shadow: boolean;
  zombie: boolean;
  /** Why it is flagged shadow or zombie. */
  notes: string[];
}

function inventoryRows(
  inv: InventoryReport | null,
  live: readonly EndpointTraffic[],
  incidents: readonly IncidentRecord[],
): EndpointRow[] {
  const byInc = incidentsByEndpoint(incidents);
  const liveByShape = new Map<string, EndpointTraffic>();
  for (const t of live) {
    const k = endpointShape(t.endpoint);
    const old = liveByShape.get(k);
    if (old === undefined) liveByShape.set(k, t);
    else liveByShape.set(k, mergeTraffic(old, t));
  }
  const rows: EndpointRow[] = [];
  const seen = new Set<string>();
  const endpoints = inv?.endpoints ?? [];
  for (const e of endpoints) {
    const name = endpointName(e);
    const k = endpointShape(name);
    seen.add(k);
    const inc = byInc.get(k);
    const newer = supersededBy(e, endpoints);
    const response = sensitiveTypes(e, 'response');
    const request = sensitiveTypes(e, 'request');
    const auth = mainAuth(e);
    const notes = newer === null ? [] : [`zombie: ${name} is still called while ${newer} exists`];
    rows.push({
      endpoint: name,
      method: e.method,
      template: e.template,
      host: e.host ?? null,
      scenario: e.scenario ?? null,
      auth,
      authKinds: { ...(e.auth ?? {}) },
      sensitive: { request, response },
      inventoryRequests: e.requests,
      lastSeen: e.lastSeen ?? null,
      live: liveByShape.get(k) ?? null,
      incidents: inc?.incidents ?? 0,
      openIncidents: inc?.open ?? 0,
      risk: endpointRisk({
        scenario: e.scenario ?? null,
        responseTypes: response,
        requestTypes: request,
        auth,
        incidents: inc?.incidents ?? 0,
        shadow: false,
        zombie: newer !== null,
      }),
      shadow: false,
      zombie: newer !== null,
      notes,
    });
  }
  // Shadow: answered 2xx/3xx in live traffic, absent from the stored inventory (only with one to compare;
  // probes that only earned errors are not endpoints).
  if (inv !== null)
    for (const [k, t] of liveByShape) {
      const ok = (t.statusClasses[2] ?? 0) + (t.statusClasses[3] ?? 0);
      if (seen.has(k) || ok === 0 || t.endpoint === '(other)') continue;
      const cut = t.endpoint.indexOf(' ');
      const inc = byInc.get(k);
      rows.push({
        endpoint: t.endpoint,
        method: t.endpoint.slice(0, cut),
        template: t.endpoint.slice(cut + 1),
        host: null,
        scenario: null,
        auth: null,
        authKinds: {},
        sensitive: { request: [], response: [] },
        inventoryRequests: 0,
        lastSeen: null,
        live: t,
        incidents: inc?.incidents ?? 0,
        openIncidents: inc?.open ?? 0,
        risk: endpointRisk({
          scenario: null,
          responseTypes: [],
          requestTypes: [],
          auth: null,
          incidents: inc?.incidents ?? 0,
          shadow: true,
          zombie: false,
        }),
        shadow: true,
        zombie: false,
        notes: [`shadow: answered ${ok} live request(s) with 2xx/3xx but is not in the inventory`],
      });
    }
  return rows.sort((a, b) => b.risk.score - a.risk.score || a.endpoint.localeCompare(b.endpoint));
}

function mergeTraffic(a: EndpointTraffic, b: EndpointTraffic): EndpointTraffic {
  return {
    endpoint: a.requests >= b.requests ? a.endpoint : b.endpoint,
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    statusClasses: a.statusClasses.map((v, i) => v + (b.statusClasses[i] ?? 0)),
    answered: a.answered + b.answered,
    alerts: a.alerts + b.alerts,
    firstTs: Math.min(a.firstTs, b.firstTs),
    lastTs: Math.max(a.lastTs, b.lastTs),
  };
}

/** The profile's thresholds that apply to one endpoint (its own, or its scenario's pooled ones). */
export function endpointThresholds(profile: Profile | null, endpoint: string, scenario: string | null) {
  if (profile === null) return [];
  const want = endpointShape(endpoint);
  const out: Record<string, unknown>[] = [];
  for (const [feature, f] of Object.entries(profile.features)) {
    if (!f.perEndpoint) continue;
    const own = Object.entries(f.endpoints).find(([k]) => endpointShape(k) === want);
    const t = own?.[1] ?? (scenario === null ? undefined : f.scenarios[scenario]);
    if (t === undefined) continue;
    out.push({
      feature,
      actor: f.actor,
      unit: f.unit,
      source: own !== undefined ? (t.borrowedFrom === undefined ? 'endpoint' : 'borrowed') : 'scenario',
      threshold: t.threshold,
      seedThreshold: t.seedThreshold,
      p50: t.p50,
      p99: t.p99,
      confidence: t.confidence,
      actors: t.actors,
      periods: t.periods,
      ...(t.borrowedFrom === undefined ? {} : { borrowedFrom: t.borrowedFrom }),
      ...(own !== undefined && 'scenario' in own[1] ? { scenario: own[1].scenario } : {}),
    });
  }
  return out.sort((a, b) => String(a.feature).localeCompare(String(b.feature)));
}

const involves = (i: IncidentRecord, kind: string, value: string) =>
  i.actors.some((a) => a.kind === kind && a.value === value);

/** Whether a decision's scope covers an actor (the same actor, or a CIDR holding the address). */
function covers(d: Decision, kind: ActorKind, value: string): boolean {
  if (d.scope.kind === kind) return d.scope.value === value;
  if (d.scope.kind === 'cidr' && kind === 'ip' && parseCidr(d.scope.value) !== null) {
    try {
      return new CidrSet([d.scope.value]).has(value);
    } catch {
      return false;
    }
  }
  return false;
}

export function dashboardRoutes(app: Hono<ServerEnv>, s: ServerContext, tap: TrafficTap): void {
  const { state } = s;
  const inventory = new InventoryCache(state, tap);
  // The tap names endpoints after the inventory from the start.
  void inventory.get().catch((e: Error) => s.o.log(`reading the stored inventory failed: ${e.message}`));

  app.get('/api/v1/overview', guard(state, 'viewer'), async (c) => {
    const q = readQuery(c, overviewQuery);
    const [incidents, decisions, inv] = await Promise.all([
      state.incidents(),
      state.decisions(),
      inventory.get(),
    ]);
    const now = s.o.now();
    const series = tap.series(q.minutes);
    // Incidents opened per minute (event time of detection), on the same minutes as the traffic.
    const opened = new Array<number>(series.ts.length).fill(0);
    const first = series.ts[0] ?? 0;
    for (const i of incidents) {
      const k = Math.floor((i.detectedTs - first) / MINUTE_MS);
      if (k >= 0 && k < opened.length) opened[k]!++;
    }
    const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

    const byEndpoint = incidentsByEndpoint(incidents);
    const liveByShape = new Map(tap.endpointTraffic().map((t) => [endpointShape(t.endpoint), t]));
    const topEndpoints = [...byEndpoint.entries()]
      .map(([k, r]) => ({
        ...r,
        alerts: liveByShape.get(k)?.alerts ?? 0,
        traffic: liveByShape.get(k)?.requests ?? 0,
      }))
      .sort((a, b) => b.incidents - a.incidents || rank(b.severity) - rank(a.severity) || b.actors - a.actors)
      .slice(0, TOP);

    const actors = new Map<
      string,
      {
        kind: ActorKind;
        value: string;
        incidents: number;
        open: number;
        severity: string;
        types: Set<string>;
      }
    >();
    for (const i of incidents) {
      if (i.status === 'false_positive') continue;
      for (const a of i.actors) {
        const k = actorKey(a);
        let r = actors.get(k);
        if (r === undefined) {
          r = { kind: a.kind, value: a.value, incidents: 0, open: 0, severity: 'low', types: new Set() };
          actors.set(k, r);
        }
        r.incidents++;
        if (OPEN.has(i.status)) r.open++;
        for (const t of i.types) r.types.add(t);
        if (rank(i.severity) > rank(r.severity)) r.severity = i.severity;
      }
    }
    const topActors = [...actors.values()]
      .map((r) => ({
        kind: r.kind,
        value: r.value,
        incidents: r.incidents,
        openIncidents: r.open,
        severity: r.severity,
        types: [...r.types],
        requests: tap.summary(r.kind, r.value)?.requests ?? null,
      }))
      .sort(
        (a, b) =>
          rank(b.severity) - rank(a.severity) ||
          b.incidents - a.incidents ||
          (b.requests ?? 0) - (a.requests ?? 0),
      )
      .slice(0, TOP);

    // Sensitive data: what the inventory says endpoints answer, and what flagged actors were answered.
    const sensitiveEndpoints: {
      endpoint: string;
      scenario: string;
      auth: string;
      response: string[];
      request: string[];
    }[] = [];
    const typesByShape = new Map<string, string[]>();
    const byType = new Map<
      string,
      { type: string; endpoints: number; findings: number; distinctValues: number }
    >();
    for (const e of inv?.report.endpoints ?? []) {
      const response = sensitiveTypes(e, 'response');
      const request = sensitiveTypes(e, 'request');
      if (response.length === 0 && request.length === 0) continue;
      sensitiveEndpoints.push({
        endpoint: endpointName(e),
        scenario: e.scenario,
        auth: mainAuth(e),
        response,
        request,
      });
      typesByShape.set(endpointShape(endpointName(e)), response);
      for (const f of e.sensitive.response) {
        let t = byType.get(f.type);
        if (t === undefined) {
          t = { type: f.type, endpoints: 0, findings: 0, distinctValues: 0 };
          byType.set(f.type, t);
        }
        t.findings += f.count;
        t.distinctValues += f.distinctValues;
      }
      for (const ty of response) byType.get(ty)!.endpoints++;
    }
    const exposed = new Map<string, { type: string; requests: number; actors: Set<string> }>();
    for (const a of tap.flaggedAnswers())
      for (const [ep, n] of a.answered) {
        for (const ty of typesByShape.get(endpointShape(ep)) ?? []) {
          let r = exposed.get(ty);
          if (r === undefined) {
            r = { type: ty, requests: 0, actors: new Set() };
            exposed.set(ty, r);
          }
          r.requests += n;
          r.actors.add(`${a.kind}:${a.value}`);
        }
      }

    const active = decisions.filter(
      (d) => d.status === 'active' && (d.expiresTs === null || d.expiresTs > now),
    );
    return json(c, {
      now,
      series: { stepMs: MINUTE_MS, ...series, incidents: opened },
      totals: {
        requests: sum(series.requests),
        errors: sum(series.errors),
        serverErrors: sum(series.serverErrors),
        alerts: sum(series.alerts),
        incidents: incidents.length,
        openIncidents: incidents.filter((i) => OPEN.has(i.status)).length,
        activeDecisions: active.length,
        proposedDecisions: decisions.filter((d) => d.status === 'proposed').length,
        expiringDecisions: active.filter((d) => d.expiresTs !== null && d.expiresTs - now <= EXPIRING_MS)
          .length,
      },
      topEndpoints,
      topActors,
      busiestActors: tap.busiest(TOP),
      sensitive: {
        endpoints: sensitiveEndpoints.sort((a, b) => b.response.length - a.response.length).slice(0, 50),
        byType: [...byType.values()].sort((a, b) => b.endpoints - a.endpoints || b.findings - a.findings),
        flaggedReceived: [...exposed.values()]
          .map((r) => ({ type: r.type, requests: r.requests, actors: r.actors.size }))
          .sort((a, b) => b.requests - a.requests),
      },
      inventory: inv === null ? null : { id: inv.id, ts: inv.ts, endpoints: inv.report.endpoints.length },
      ingest: ingestStats(s),
      pipeline: s.sink.stats?.() ?? null,
      readModel: tap.stats(),
    });
  });

  app.get('/api/v1/endpoints', guard(state, 'viewer'), async (c) => {
    const [inv, incidents] = await Promise.all([inventory.get(), state.incidents()]);
    const rows = inventoryRows(inv?.report ?? null, tap.endpointTraffic(), incidents);
    return json(c, {
      inventory: inv === null ? null : { id: inv.id, ts: inv.ts, from: inv.report.from, to: inv.report.to },
      endpoints: rows,
    });
  });

  app.get('/api/v1/endpoints/detail', guard(state, 'viewer'), async (c) => {
    const q = readQuery(c, endpointDetailQuery);
    const [inv, incidents] = await Promise.all([inventory.get(), state.incidents()]);
    const want = endpointShape(q.endpoint);
    const rows = inventoryRows(inv?.report ?? null, tap.endpointTraffic(), incidents);
    const row = rows.find((r) => endpointShape(r.endpoint) === want) ?? null;
    const report = inv?.report.endpoints.find((e) => endpointShape(endpointName(e)) === want) ?? null;
    const series = tap.endpointSeries(row?.live?.endpoint ?? q.endpoint, q.minutes);
    if (row === null && series === null)
      throw new ApiError(
        404,
        'not_found',
        `no endpoint ${q.endpoint} in the inventory or the traffic`,
        'endpoint',
      );
    const touching = incidents
      .filter((i) => i.endpoints.some((e) => endpointShape(e) === want))
      .sort((a, b) => b.detectedTs - a.detectedTs)
      .slice(0, 50)
      .map((i) => incidentSummary(i, null));
    return json(c, {
      endpoint: row?.endpoint ?? q.endpoint,
      row,
      inventory: report,
      profile: { id: s.current.id, ts: s.current.ts },
      thresholds: endpointThresholds(s.current.profile, row?.endpoint ?? q.endpoint, row?.scenario ?? null),
      series:
        series === null
          ? null
          : { stepMs: MINUTE_MS, ts: series.ts, requests: series.requests, errors: series.errors },
      incidents: touching,
    });
  });

  app.get('/api/v1/inventory/openapi', guard(state, 'viewer'), async (c) => {
    const q = readQuery(c, openApiQuery);
    const inv = await inventory.get();
    if (inv === null)
      throw new ApiError(
        404,
        'not_found',
        'no inventory stored yet (PUT /api/v1/inventory with an inventory.json)',
      );
    const doc = toOpenApi(inv.report);
    if (q.format === 'json')
      return c.body(`${JSON.stringify(doc, null, 2)}\n`, 200, {
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': 'attachment; filename="openapi.json"',
      });
    return c.body(stringify(doc, { lineWidth: 0 }), 200, {
      'content-type': 'application/yaml; charset=utf-8',
      'content-disposition': 'attachment; filename="openapi.yaml"',
    });
  });

  app.get('/api/v1/actors/:kind/:value', guard(state, 'viewer'), async (c) => {
    const kind = c.req.param('kind');
    const value = c.req.param('value');
    if (!(ACTOR_KINDS as readonly string[]).includes(kind))
      throw new ApiError(400, 'invalid_query', `kind: expected one of ${ACTOR_KINDS.join(', ')}`, 'kind');
    const k = kind as ActorKind;
    const [incidents, decisions] = await Promise.all([state.incidents(), state.decisions()]);
    const mine = incidents.filter((i) => involves(i, k, value)).sort((a, b) => b.detectedTs - a.detectedTs);
    const scoped = decisions.filter((d) => covers(d, k, value)).sort((a, b) => b.createdTs - a.createdTs);
    const tracked = tap.actor(k, value);
    if (tracked === null && mine.length === 0 && scoped.length === 0)
      throw new ApiError(
        404,
        'not_found',
        `nothing known of ${kind} ${value}: no recent traffic, incident or decision (the server keeps the last ${tap.stats().actors} actors it saw)`,
      );
    // Identities linked: seen in the same requests or alerts (the read model), or in the same incidents.
    const linked = new Map<string, { kind: ActorKind; value: string; via: string[]; incidents: string[] }>();
    for (const l of tracked?.links ?? [])
      linked.set(`${l.kind}:${l.value}`, { kind: l.kind, value: l.value, via: [...l.via], incidents: [] });
    for (const i of mine)
      for (const a of i.actors) {
        if (a.kind === k && a.value === value) continue;
        const key = actorKey(a);
        let r = linked.get(key);
        if (r === undefined) {
          if (linked.size >= 200) continue;
          r = { kind: a.kind, value: a.value, via: [], incidents: [] };
          linked.set(key, r);
        }
        if (!r.via.includes('incident')) r.via.push('incident');
        if (r.incidents.length < 5) r.incidents.push(i.id);
      }
    return json(c, {
      actor: { kind: k, value },
      tracked: tracked !== null,
      summary:
        tracked === null
          ? null
          : {
              firstTs: tracked.firstTs,
              lastTs: tracked.lastTs,
              requests: tracked.requests,
              errors: tracked.errors,
              flagged: tracked.flagged,
              answered: tracked.answered,
            },
      requests: tracked?.recent ?? [],
      alerts: tracked?.alerts ?? [],
      incidents: mine.slice(0, 100).map((i) => incidentSummary(i, null)),
      decisions: scoped.slice(0, 100),
      linked: [...linked.values()],
    });
  });

  app.get('/api/v1/incidents/:id/graph', guard(state, 'viewer'), async (c) => {
    const rec = await state.incident(c.req.param('id'));
    if (rec === undefined) throw new ApiError(404, 'not_found', `no incident ${c.req.param('id')}`);
    const shown = rec.actors.slice(0, GRAPH_ACTORS);
    const nodes = shown.map((a) => {
      const t = tap.summary(a.kind, a.value);
      return { kind: a.kind, value: a.value, requests: t?.requests ?? null, flagged: t?.flagged ?? false };
    });
    const edges: { a: number; b: number; via: string[] }[] = [];
    for (let i = 0; i < shown.length; i++)
      for (let j = i + 1; j < shown.length; j++) {
        const via = tap.linked(shown[i]!, shown[j]!);
        if (via.length > 0) edges.push({ a: i, b: j, via });
      }
    return json(c, { incident: rec.id, nodes, edges, more: rec.actors.length - shown.length });
  });
}
