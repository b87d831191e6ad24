/**
 * The API inventory: every endpoint (method + host + template) seen in traffic with what it takes, returns
 * and who calls it. Feed events with `add`, then `report()`. Memory is bounded by the number of keys the
 * templater hands out (one per endpoint, plus the literal paths of a position until it proves to be a
 * parameter), never by the number of events.
 */

import type { ApiEvent } from '../core/event.js';
import { owned } from '../core/strings.js';
import { type ClientKind, clientKind } from '../enrich/useragent.js';
import type { SensitiveScanner } from '../sensitive/scanner.js';
import type { Finding } from '../sensitive/types.js';
import { inferScenario, type Scenario } from './scenario.js';
import {
  addToSchema,
  LogHistogram,
  mergeSchema,
  newSchema,
  ParamSet,
  type SchemaNode,
  toJsonSchema,
} from './stats.js';
import { type SpecTemplates, type TemplateDecision, Templater, type TemplaterOptions } from './templater.js';

/** How a request authenticated, as far as the event tells. */
export type AuthKind = 'none' | 'bearer_jwt' | 'bearer' | 'basic' | 'api_key' | 'cookie' | 'credential';

const MAX_DISTINCT = 10_000;
const MAX_SCHEMA_SAMPLES = 200;
const MAX_MERGED = 20;
/** Distinct (side, type, field) combinations kept per endpoint. */
const MAX_SENSITIVE_KEYS = 100;

interface SensitiveTally {
  count: number;
  /** Value hashes (never values), exact up to MAX_DISTINCT. */
  hashes: Set<string>;
  /** One masked value. */
  example: string;
}

export interface SensitiveReport {
  type: string;
  /** `query.<key>`, `body.<path>`, `header.<name>`, `path` or `text`. */
  field: string;
  /** Findings (a request can hold several). */
  count: number;
  /** Distinct values, exact up to 10,000. */
  distinctValues: number;
  /** A masked example, e.g. `138****5678`. */
  example: string;
}

class Acc {
  requests = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  readonly status = new Map<number, number>();
  readonly latency = new LogHistogram();
  bytesOut = 0;
  bytesOutN = 0;
  bytesOutMax = 0;
  readonly clients: Partial<Record<ClientKind, number>> = {};
  readonly auth: Partial<Record<AuthKind, number>> = {};
  ips = new Set<string>();
  tokens = new Set<string>();
  readonly query = new ParamSet();
  readonly body = new ParamSet();
  /** Path parameter values by segment position. */
  readonly path = new ParamSet();
  readonly contentTypes: Record<string, number> = {};
  responseSchema: SchemaNode | null = null;
  schemaSamples = 0;
  /** Literal keys merged into this endpoint, with their request counts. */
  readonly merged = new Map<string, number>();
  /** Sensitive data by `side|type|field`. */
  readonly sensitive = new Map<string, SensitiveTally>();

  note(side: 'request' | 'response', findings: Finding[]): void {
    for (const f of findings) {
      const k = `${side}|${f.type}|${f.field}`;
      let t = this.sensitive.get(k);
      if (t === undefined) {
        if (this.sensitive.size >= MAX_SENSITIVE_KEYS) continue;
        t = { count: 0, hashes: new Set(), example: f.masked };
        this.sensitive.set(k, t);
      }
      t.count++;
      if (t.hashes.size < MAX_DISTINCT) t.hashes.add(f.hash);
    }
  }

  merge(o: Acc, key: string): void {
    this.requests += o.requests;
    if (o.first < this.first) this.first = o.first;
    if (o.last > this.last) this.last = o.last;
    for (const [k, v] of o.status) this.status.set(k, (this.status.get(k) ?? 0) + v);
    this.latency.merge(o.latency);
    this.bytesOut += o.bytesOut;
    this.bytesOutN += o.bytesOutN;
    if (o.bytesOutMax > this.bytesOutMax) this.bytesOutMax = o.bytesOutMax;
    for (const k in o.clients)
      this.clients[k as ClientKind] = (this.clients[k as ClientKind] ?? 0) + o.clients[k as ClientKind]!;
    for (const k in o.auth)
      this.auth[k as AuthKind] = (this.auth[k as AuthKind] ?? 0) + o.auth[k as AuthKind]!;
    for (const ip of o.ips) if (this.ips.size < MAX_DISTINCT) this.ips.add(ip);
    for (const t of o.tokens) if (this.tokens.size < MAX_DISTINCT) this.tokens.add(t);
    this.query.merge(o.query);
    this.body.merge(o.body);
    this.path.merge(o.path);
    for (const k in o.contentTypes) this.contentTypes[k] = (this.contentTypes[k] ?? 0) + o.contentTypes[k]!;
    if (o.responseSchema !== null) {
      if (this.responseSchema === null) this.responseSchema = o.responseSchema;
      else mergeSchema(this.responseSchema, o.responseSchema);
    }
    this.schemaSamples += o.schemaSamples;
    for (const [k, v] of o.sensitive) {
      const t = this.sensitive.get(k);
      if (t === undefined) {
        if (this.sensitive.size < MAX_SENSITIVE_KEYS)
          this.sensitive.set(k, { count: v.count, hashes: new Set(v.hashes), example: v.example });
        continue;
      }
      t.count += v.count;
      for (const h of v.hashes) if (t.hashes.size < MAX_DISTINCT) t.hashes.add(h);
    }
    for (const [k, v] of o.merged)
      if (this.merged.size < MAX_MERGED) this.merged.set(k, (this.merged.get(k) ?? 0) + v);
    if (o.merged.size === 0 && this.merged.size < MAX_MERGED)
      this.merged.set(key, (this.merged.get(key) ?? 0) + o.requests);
  }
}

/** The auth kind of an event: from the token and user it carries (header capture refines it). */
export function authKind(e: ApiEvent): AuthKind {
  if (e.token === null) return 'none';
  const h = e.requestHeaders;
  if (h !== undefined) {
    const a = h.authorization;
    if (a !== undefined) {
      const s = a.slice(0, a.indexOf(' ')).toLowerCase();
      if (s === 'basic') return 'basic';
      if (s === 'bearer') return e.user !== null ? 'bearer_jwt' : 'bearer';
    }
    if (h.cookie !== undefined && a === undefined) return 'cookie';
    return 'api_key';
  }
  return 'credential';
}

function flattenJson(
  v: unknown,
  prefix: string,
  out: (path: string, v: unknown) => void,
  depth: number,
): void {
  if (depth > 3 || v === null || typeof v !== 'object') {
    out(prefix, v);
    return;
  }
  if (Array.isArray(v)) {
    out(prefix, v);
    for (let i = 0; i < Math.min(v.length, 5); i++)
      if (v[i] !== null && typeof v[i] === 'object') flattenJson(v[i], `${prefix}[]`, out, depth + 1);
    return;
  }
  if (prefix !== '') out(prefix, v);
  for (const k in v as Record<string, unknown>)
    flattenJson((v as Record<string, unknown>)[k], prefix === '' ? k : `${prefix}.${k}`, out, depth + 1);
}

function parseJson(s: string): unknown {
  const c = s.charCodeAt(0);
  if (c !== 123 && c !== 91) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

export interface ParamReport {
  name: string;
  type: string;
  format?: string;
  /** Share of the endpoint's requests that carried it. */
  requiredRate: number;
  min?: number;
  max?: number;
  enum?: string[];
  maxLength?: number;
}

export interface EndpointReport {
  method: string;
  host: string | null;
  template: string;
  scenario: Scenario;
  requests: number;
  firstSeen: string;
  lastSeen: string;
  status: Record<string, number>;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number } | null;
  bytesOut: { mean: number; max: number } | null;
  clients: Partial<Record<ClientKind, number>>;
  auth: Partial<Record<AuthKind, number>>;
  distinctIps: number;
  distinctTokens: number;
  pathParams: ParamReport[];
  queryParams: ParamReport[];
  bodyParams: ParamReport[];
  responses: { contentTypes: Record<string, number>; schema?: Record<string, unknown> };
  /** Sensitive data seen in requests (path, query, body) and responses (body), by type and field. */
  sensitive: { request: SensitiveReport[]; response: SensitiveReport[] };
  /** Literal paths merged into the template (up to 20), with requests: how to undo the merge. */
  merged: { path: string; requests: number }[];
}

export interface InventoryReport {
  version: 1;
  events: number;
  from: string | null;
  to: string | null;
  /** Endpoints that answered: some 2xx/3xx, or non-404 answers to at least two clients. */
  endpoints: EndpointReport[];
  /** Paths only ever answered with 404 (or by one client with errors): probes, typos, dead links. */
  unconfirmed: {
    method: string;
    host: string | null;
    template: string;
    requests: number;
    status: Record<string, number>;
  }[];
  /** Why each parameter position is one. */
  decisions: TemplateDecision[];
}

/**
 * The endpoints (`METHOD template`, as alerts name them) whose responses carried sensitive data: an incident
 * touching one is a step more severe (groupIncidents' `sensitiveOf`).
 */
export function sensitiveResponseEndpoints(report: Pick<InventoryReport, 'endpoints'>): Set<string> {
  return new Set(
    report.endpoints.filter((e) => e.sensitive.response.length > 0).map((e) => `${e.method} ${e.template}`),
  );
}

export interface InventoryOptions extends TemplaterOptions {
  /** OpenAPI templates to match first. */
  spec?: SpecTemplates;
  /** Scans every event for sensitive data (per endpoint: types, fields, distinct values); null to skip. */
  scanner?: SensitiveScanner | null;
}

export class Inventory {
  private readonly templater: Templater;
  private readonly spec: SpecTemplates | null;
  private readonly scanner: SensitiveScanner | null;
  private readonly accs = new Map<string, Acc>();
  /** key → [method, host, key, fromSpec] */
  private readonly keys = new Map<string, [string, string, string, boolean]>();
  events = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;

  constructor(o: InventoryOptions = {}) {
    this.templater = new Templater(o);
    this.spec = o.spec ?? null;
    this.scanner = o.scanner ?? null;
  }

  add(e: ApiEvent): void {
    if (e.method === '-' || e.path === '-') return;
    this.events++;
    if (e.ts < this.first) this.first = e.ts;
    if (e.ts > this.last) this.last = e.ts;
    const host = e.host ?? '';
    const fromSpec = this.spec?.match(e.path) ?? null;
    const key = fromSpec ?? this.templater.add(host, e.path, e.status !== 404);
    const id = `${e.method} ${host} ${fromSpec === null ? '' : 'S'}${key}`;
    let a = this.accs.get(id);
    if (a === undefined) {
      a = new Acc();
      this.accs.set(id, a);
      this.keys.set(id, [e.method, host, key, fromSpec !== null]);
    }
    a.requests++;
    if (e.ts < a.first) a.first = e.ts;
    if (e.ts > a.last) a.last = e.ts;
    a.status.set(e.status, (a.status.get(e.status) ?? 0) + 1);
    if (e.latencyMs !== null) a.latency.add(e.latencyMs);
    if (e.bytesOut !== null) {
      a.bytesOut += e.bytesOut;
      a.bytesOutN++;
      if (e.bytesOut > a.bytesOutMax) a.bytesOutMax = e.bytesOut;
    }
    const ck = clientKind(e.userAgent);
    a.clients[ck] = (a.clients[ck] ?? 0) + 1;
    const ak = authKind(e);
    a.auth[ak] = (a.auth[ak] ?? 0) + 1;
    // owned: the set outlives the line, which a sliced address would keep alive (src/core/strings.ts).
    if (a.ips.size < MAX_DISTINCT && !a.ips.has(e.ip)) a.ips.add(owned(e.ip));
    if (e.token !== null && a.tokens.size < MAX_DISTINCT) a.tokens.add(e.token);
    a.query.requests++;
    if (e.query !== null) {
      for (const k in e.query) {
        const v = e.query[k]!;
        const p = a.query.get(k);
        if (p !== null) p.addString(typeof v === 'string' ? v : v[0]!);
      }
    }
    if (fromSpec === null) this.pathValues(a, key, e.path);
    if (e.requestBody !== undefined) {
      a.body.requests++;
      const j = parseJson(e.requestBody);
      if (j !== undefined && j !== null && typeof j === 'object')
        flattenJson(j, '', (path, v) => a.body.get(path)?.addJson(v), 0);
    }
    const ct = e.responseHeaders?.['content-type'];
    if (ct !== undefined) {
      const t = ct.split(';')[0]!.trim().toLowerCase();
      a.contentTypes[t] = (a.contentTypes[t] ?? 0) + 1;
    }
    if (this.scanner !== null) {
      const f = this.scanner.scanEvent(e);
      if (f.request.length > 0) a.note('request', f.request);
      if (f.response.length > 0) a.note('response', f.response);
    }
    if (e.responseBody !== undefined && a.schemaSamples < MAX_SCHEMA_SAMPLES && e.status < 300) {
      const j = parseJson(e.responseBody);
      if (j !== undefined) {
        a.responseSchema ??= newSchema();
        addToSchema(a.responseSchema, j);
        a.schemaSamples++;
        if (ct === undefined)
          a.contentTypes['application/json'] = (a.contentTypes['application/json'] ?? 0) + 1;
      }
    }
  }

  /** Values of the segments the key already holds as parameters, by position. */
  private pathValues(a: Acc, key: string, path: string): void {
    if (key.indexOf('{') === -1) return;
    const ks = key.split('/');
    const ps = path.split('/');
    for (let i = 1; i < ks.length && i < ps.length; i++)
      if (ks[i]!.charCodeAt(0) === 123) a.path.get(String(i))?.addString(ps[i]!);
  }

  report(): InventoryReport {
    const groups = new Map<string, { method: string; host: string; template: string; acc: Acc }>();
    for (const [id, a] of this.accs) {
      const [method, host, key, fromSpec] = this.keys.get(id)!;
      const template = fromSpec ? key : this.templater.resolve(host, key);
      const g = `${method} ${host} ${template}`;
      let x = groups.get(g);
      if (x === undefined) {
        x = { method, host, template, acc: new Acc() };
        groups.set(g, x);
      }
      // Segments that were literal in the key and are parameters in the template: their values count too.
      if (!fromSpec && key !== template) {
        const ks = key.split('/');
        const ts = template.split('/');
        for (let i = 1; i < ks.length && i < ts.length; i++)
          if (ts[i]!.charCodeAt(0) === 123 && ks[i]!.charCodeAt(0) !== 123) {
            const p = a.path.get(String(i));
            if (p !== null) for (let k = 0; k < Math.min(a.requests, 50); k++) p.addString(ks[i]!);
          }
      }
      x.acc.merge(a, key);
    }
    const endpoints: EndpointReport[] = [];
    const unconfirmed: InventoryReport['unconfirmed'] = [];
    for (const { method, host, template, acc } of groups.values()) {
      let ok = false;
      let answered = 0;
      for (const [s, n] of acc.status) {
        if (s >= 200 && s < 400) ok = true;
        if (s !== 404) answered += n;
      }
      const status = Object.fromEntries(
        [...acc.status].sort((x, y) => x[0] - y[0]).map(([k, v]) => [String(k), v]),
      );
      if (!ok && !(answered > 0 && acc.ips.size >= 2)) {
        unconfirmed.push({
          method,
          host: host === '' ? null : host,
          template,
          requests: acc.requests,
          status,
        });
        continue;
      }
      endpoints.push(this.endpoint(method, host, template, acc, status));
    }
    const order = (a: { template: string; method: string; host: string | null }, b: typeof a) =>
      (a.host ?? '').localeCompare(b.host ?? '') ||
      a.template.localeCompare(b.template) ||
      a.method.localeCompare(b.method);
    endpoints.sort(order);
    unconfirmed.sort(order);
    return {
      version: 1,
      events: this.events,
      from: this.events === 0 ? null : new Date(this.first).toISOString(),
      to: this.events === 0 ? null : new Date(this.last).toISOString(),
      endpoints,
      unconfirmed,
      decisions: [...this.templater.decisions].sort((a, b) => a.at.localeCompare(b.at)),
    };
  }

  private endpoint(
    method: string,
    host: string,
    template: string,
    a: Acc,
    status: Record<string, number>,
  ): EndpointReport {
    const params = (set: ParamSet, total: number, names?: (k: string) => string): ParamReport[] => {
      const out: ParamReport[] = [];
      for (const [k, p] of set.params) {
        const r: ParamReport = {
          name: names ? names(k) : k,
          type: p.type(),
          requiredRate: Math.round((p.count / Math.max(1, total)) * 1000) / 1000,
        };
        const f = p.format();
        if (f !== null) r.format = f;
        if (p.min <= p.max) {
          r.min = p.min;
          r.max = p.max;
        }
        const en = p.enumValues();
        if (en !== null) r.enum = en;
        if (p.maxLength > 0 && r.type === 'string') r.maxLength = p.maxLength;
        out.push(r);
      }
      return out.sort((x, y) => y.requiredRate - x.requiredRate || x.name.localeCompare(y.name));
    };
    const segs = template.split('/');
    const pathParams = params(a.path, a.requests, (k) => segs[Number(k)]?.slice(1, -1) ?? k).map((p) => ({
      ...p,
      requiredRate: 1,
    }));
    const queryParams = params(a.query, a.query.requests);
    const bodyParams = params(a.body, a.body.requests);
    const schema = a.responseSchema === null ? undefined : toJsonSchema(a.responseSchema);
    const e: EndpointReport = {
      method,
      host: host === '' ? null : host,
      template,
      scenario: 'detail',
      requests: a.requests,
      firstSeen: new Date(a.first).toISOString(),
      lastSeen: new Date(a.last).toISOString(),
      status,
      latencyMs:
        a.latency.n === 0
          ? null
          : {
              p50: a.latency.quantile(0.5),
              p90: a.latency.quantile(0.9),
              p99: a.latency.quantile(0.99),
              max: a.latency.max,
            },
      bytesOut: a.bytesOutN === 0 ? null : { mean: Math.round(a.bytesOut / a.bytesOutN), max: a.bytesOutMax },
      clients: a.clients,
      auth: a.auth,
      distinctIps: a.ips.size,
      distinctTokens: a.tokens.size,
      pathParams,
      queryParams,
      bodyParams,
      responses:
        schema === undefined ? { contentTypes: a.contentTypes } : { contentTypes: a.contentTypes, schema },
      sensitive: sensitiveReport(a.sensitive),
      merged: [...a.merged].filter(([k]) => k !== template).map(([path, requests]) => ({ path, requests })),
    };
    e.scenario = inferScenario(e);
    return e;
  }
}

function sensitiveReport(m: Map<string, SensitiveTally>): EndpointReport['sensitive'] {
  const out: EndpointReport['sensitive'] = { request: [], response: [] };
  for (const [k, t] of m) {
    const [side, type, field] = k.split('|') as ['request' | 'response', string, string];
    out[side].push({ type, field, count: t.count, distinctValues: t.hashes.size, example: t.example });
  }
  const order = (a: SensitiveReport, b: SensitiveReport) =>
    b.count - a.count || a.type.localeCompare(b.type) || a.field.localeCompare(b.field);
  out.request.sort(order);
  out.response.sort(order);
  return out;
}
