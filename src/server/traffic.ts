/**
 * The dashboard's read model: what the server remembers of the traffic it ingested, in memory and within
 * fixed bounds, for the overview, the endpoint pages and the actor pages (routes/dashboard.ts). It is a tap
 * on the one ingest path (`ingestFunction`, routes/live.ts): every parsed event passes through `record` with
 * its raw log line before it reaches the sink, and the live pipeline's alerts through `alerts`.
 *
 *   per minute (event time)   requests, 4xx+5xx, 5xx and alerts in Uint32Arrays over `horizonMinutes`
 *                             (a ring: the newest minute seen moves the window, older slots are cleared)
 *   per endpoint              totals, status classes, and its own per-minute requests and errors, for at most
 *                             `maxEndpoints` endpoints; later ones are counted under `(other)`
 *   per actor (ip, token,     the last `requestsPerActor` requests (parsed fields and the raw line, cut to
 *   user, device)             `maxLineChars`), its last alerts, the identities seen with it, the endpoints
 *                             that answered it; at most `maxActors` actors, the least recently seen evicted
 *                             first; actors named by an alert ("flagged") are evicted only after the others
 *                             and take at most half the table; all of it held to `maxBytes` (estimated)
 *
 * A request belongs to every actor it names (its address, token, user and device): one record, shared by
 * their rings. Endpoints are the stored inventory's templates when the path matches one (so the live counts
 * line up with the inventory's rows), else the path with id-shaped segments replaced (`/orders/{id}`).
 *
 * Strings kept here are copies (`owned`): parsers cut fields as slices of the request body, and a kept slice
 * would keep the whole body alive. Nothing is persisted: after a restart the series start empty (incidents
 * and decisions are in the state).
 */
import { ACTOR_KINDS, type ActorKind, type ApiEvent } from '../core/event.js';
import { owned } from '../core/strings.js';
import { type ActorRef, type Alert, SEVERITIES, type Severity } from '../detect/types.js';
import { ID_SHAPES, PARAM_NAME, segmentShape } from '../inventory/shape.js';
import { SpecTemplates } from '../inventory/templater.js';

export const MINUTE_MS = 60_000;

export interface TrafficOptions {
  /** Minutes of per-minute history, by event time (default 1440: a day). */
  horizonMinutes?: number;
  /** Endpoints with their own counts and series (default 500); the rest are counted under `(other)`. */
  maxEndpoints?: number;
  /** Actors tracked (default 5000). */
  maxActors?: number;
  /** Requests kept per actor (default 30). */
  requestsPerActor?: number;
  /** Alerts kept per actor (default 20). */
  alertsPerActor?: number;
  /** Characters of a raw line (and of a path) kept (default 2048); longer ones are cut and marked. */
  maxLineChars?: number;
  /**
   * Estimated bytes of the actor tables — the actors, their kept requests and raw lines, counting two bytes
   * per character (default 64 MiB); beyond, the least recently seen actors are evicted.
   */
  maxBytes?: number;
}

/** One request as the actor pages show it. */
export interface RequestView {
  ts: number;
  method: string;
  path: string;
  endpoint: string;
  status: number;
  bytesOut: number | null;
  latencyMs: number | null;
  userAgent: string | null;
  ip: string;
  token: string | null;
  user: string | null;
  device: string | null;
  /** Where the line came from (`http:<token id>`, a replay's name) and its record number in that batch. */
  source: string;
  line: number;
  /** The log line as received (null when the input had no lines, e.g. HAR), cut to maxLineChars. */
  raw: string | null;
  truncated: boolean;
}

export interface AlertBrief {
  id: string;
  type: string;
  severity: Severity;
  detectedTs: number;
  firstEventTs: number;
  requests: number;
  endpoints: string[];
  actors: number;
  explanation: string;
}

export interface LinkView {
  kind: ActorKind;
  value: string;
  /** `traffic`: seen in the same requests; `alert`: named by the same alert. */
  via: ('traffic' | 'alert')[];
}

export interface ActorView {
  kind: ActorKind;
  value: string;
  firstTs: number;
  lastTs: number;
  requests: number;
  errors: number;
  flagged: boolean;
  /** Oldest first. */
  recent: RequestView[];
  alerts: AlertBrief[];
  links: LinkView[];
  /** Endpoint → requests it answered with 2xx (at most 32 endpoints). */
  answered: Record<string, number>;
}

export interface ActorSummary {
  kind: ActorKind;
  value: string;
  requests: number;
  errors: number;
  lastTs: number;
  flagged: boolean;
}

export interface Series {
  /** Minute starts (ms epoch, event time), oldest first. */
  ts: number[];
  requests: number[];
  errors: number[];
  serverErrors: number[];
  alerts: number[];
}

export interface EndpointTraffic {
  endpoint: string;
  requests: number;
  errors: number;
  /** Requests per status class: 1xx..5xx at 1..5, 0 for no response. */
  statusClasses: number[];
  /** Requests not answered 404 (the endpoint exists). */
  answered: number;
  alerts: number;
  firstTs: number;
  lastTs: number;
}

export interface TapStats {
  events: number;
  /** Events older than the horizon when they arrived (counted, not in the series). */
  late: number;
  actors: number;
  flaggedActors: number;
  endpoints: number;
  /** Estimated bytes of the actor tables (what maxBytes bounds). */
  estimatedBytes: number;
  evictedActors: number;
  firstMinuteTs: number | null;
  lastMinuteTs: number | null;
}

const OTHER = '(other)';
const MAX_LINKS = 16;
const MAX_ANSWERED = 32;
const MAX_UA = 512;
/** Longer actor values (a user name from a JWT) are cut to this for the tables. */
const MAX_VALUE = 512;
const MAX_EXPLANATION = 500;
/** Alerts naming more actors than this link each actor to the first only (not every pair). */
const PAIRWISE_ALERT_ACTORS = 20;
/** Estimated fixed bytes of one kept request (the object, its numbers and references). */
const RECORD_BYTES = 200;
/** Estimated fixed bytes of one actor (the entry, its table slot, its ring, small maps), besides requests. */
const ACTOR_BYTES = 1200;

const LINK_BIT = { traffic: 1, alert: 2 } as const;

class Req {
  constructor(
    readonly ts: number,
    readonly method: string,
    readonly path: string,
    readonly endpoint: string,
    readonly status: number,
    readonly bytesOut: number | null,
    readonly latencyMs: number | null,
    readonly userAgent: string | null,
    readonly ip: string,
    readonly token: string | null,
    readonly user: string | null,
    readonly device: string | null,
    readonly source: string,
    readonly line: number,
    readonly raw: string | null,
    readonly truncated: boolean,
    readonly size: number,
  ) {}
}

class Actor {
  readonly ring: Req[] = [];
  /** Next slot to overwrite once the ring is full. */
  head = 0;
  requests = 0;
  errors = 0;
  firstTs = Number.POSITIVE_INFINITY;
  lastTs = Number.NEGATIVE_INFINITY;
  /** Estimated bytes of the requests in the ring. */
  bytes = 0;
  flagged = false;
  /** When it was last seen (the tap's clock: one tick per touch), for evicting the least recently seen. */
  tick = 0;
  /** The tick at which it was put at the end of its table. */
  placed = 0;
  alerts: AlertBrief[] = [];
  /** `kind\u0001value` → LINK_BIT mask. */
  links: Map<string, number> | null = null;
  answered: Map<string, number> | null = null;
  constructor(
    readonly kind: ActorKind,
    readonly value: string,
  ) {}
  last(): Req | undefined {
    const n = this.ring.length;
    if (n === 0) return undefined;
    return this.ring[(this.head + n - 1) % n];
  }
}

class Endpoint {
  requests = 0;
  errors = 0;
  answered = 0;
  alerts = 0;
  readonly classes = new Float64Array(6);
  firstTs = Number.POSITIVE_INFINITY;
  lastTs = Number.NEGATIVE_INFINITY;
  constructor(
    readonly name: string,
    readonly series: Uint32Array,
    readonly errSeries: Uint32Array,
  ) {}
}

const linkKey = (kind: ActorKind, value: string) => `${kind}\u0001${value}`;

/** The path with id-shaped segments as parameters: `/orders/123/items` → `/orders/{id}/items`. */
export function shapeTemplate(path: string): string {
  let out = '';
  let start = 1;
  if (path.length === 0 || path.charCodeAt(0) !== 47) return path;
  for (;;) {
    const end = path.indexOf('/', start);
    const seg = end < 0 ? path.slice(start) : path.slice(start, end);
    if (seg !== '') {
      const sh = segmentShape(seg);
      out += ID_SHAPES.has(sh) ? `/{${PARAM_NAME[sh]}}` : `/${seg}`;
    } else out += '/';
    if (end < 0) break;
    start = end + 1;
  }
  return out === '' ? '/' : out;
}

/** An endpoint with its parameter names dropped, for matching names from different sources. */
export const endpointShape = (endpoint: string): string => endpoint.replace(/\{[^}]*\}/g, '{}');

export class TrafficTap {
  readonly horizon: number;
  private readonly maxEndpoints: number;
  private readonly maxActors: number;
  private readonly perActor: number;
  private readonly alertsPerActor: number;
  private readonly maxLine: number;
  private readonly maxBytes: number;

  private readonly reqs: Uint32Array;
  private readonly errs: Uint32Array;
  private readonly server: Uint32Array;
  private readonly alertCounts: Uint32Array;
  /** Minute index (ts / 60 s) of the newest minute seen; -Infinity before the first event. */
  private latestMin = Number.NEGATIVE_INFINITY;
  private firstMin = Number.POSITIVE_INFINITY;

  private readonly endpoints = new Map<string, Endpoint>();
  /** method → template → endpoint (the hot path's lookup; `endpoints` is by name). */
  private readonly byMethod = new Map<string, Map<string, Endpoint>>();
  private templates: SpecTemplates | null = null;

  /** Per kind, in least-recently-seen order (a seen actor is moved to the end). */
  private readonly normal: Record<ActorKind, Map<string, Actor>>;
  private readonly flagged: Record<ActorKind, Map<string, Actor>>;
  private normalCount = 0;
  private flaggedCount = 0;
  private bytes = 0;
  private evicted = 0;
  private events = 0;
  private late = 0;
  private clock = 0;
  private lastSource = '';
  private lastSourceOwned = '';

  constructor(o: TrafficOptions = {}) {
    this.horizon = Math.max(2, Math.floor(o.horizonMinutes ?? 1440));
    this.maxEndpoints = Math.max(1, o.maxEndpoints ?? 500);
    this.maxActors = Math.max(2, o.maxActors ?? 5000);
    this.perActor = Math.max(1, o.requestsPerActor ?? 30);
    this.alertsPerActor = Math.max(1, o.alertsPerActor ?? 20);
    this.maxLine = Math.max(64, o.maxLineChars ?? 2048);
    this.maxBytes = Math.max(64 * 1024, o.maxBytes ?? 64 * 1024 * 1024);
    this.reqs = new Uint32Array(this.horizon);
    this.errs = new Uint32Array(this.horizon);
    this.server = new Uint32Array(this.horizon);
    this.alertCounts = new Uint32Array(this.horizon);
    const maps = () =>
      Object.fromEntries(ACTOR_KINDS.map((k) => [k, new Map<string, Actor>()])) as Record<
        ActorKind,
        Map<string, Actor>
      >;
    this.normal = maps();
    this.flagged = maps();
  }

  /** The stored inventory's endpoints (`METHOD /template`): live paths are named after them. */
  setInventory(endpoints: readonly { method: string; template: string }[]): void {
    const t = new SpecTemplates();
    for (const e of endpoints) t.add(e.template);
    this.templates = endpoints.length === 0 ? null : t;
    // Paths now resolve to the inventory's templates: look them up afresh (counts stay with their names).
    this.byMethod.clear();
  }

  private slot(min: number): number {
    const h = this.horizon;
    return ((min % h) + h) % h;
  }

  /** Moves the window so that `min` is its newest minute, clearing the slots it passes. */
  private advance(min: number): void {
    const h = this.horizon;
    if (this.latestMin === Number.NEGATIVE_INFINITY) {
      this.latestMin = min;
      this.firstMin = min;
      return;
    }
    const steps = Math.min(h, min - this.latestMin);
    for (let k = 1; k <= steps; k++) {
      const s = this.slot(this.latestMin + k);
      this.reqs[s] = 0;
      this.errs[s] = 0;
      this.server[s] = 0;
      this.alertCounts[s] = 0;
      for (const ep of this.endpoints.values()) {
        ep.series[s] = 0;
        ep.errSeries[s] = 0;
      }
    }
    this.latestMin = min;
    if (this.firstMin < min - h + 1) this.firstMin = min - h + 1;
  }

  /** The slot of an event time within the window, or -1 when it is older than the horizon. */
  private place(ts: number): number {
    const min = Math.floor(ts / MINUTE_MS);
    if (min > this.latestMin) this.advance(min);
    if (min <= this.latestMin - this.horizon) return -1;
    if (min < this.firstMin) this.firstMin = min;
    return this.slot(min);
  }

  private endpointOf(e: ApiEvent): Endpoint {
    const method = e.method.length > 16 ? '(other)' : e.method;
    let template: string | null = this.templates === null ? null : this.templates.match(e.path);
    template ??= shapeTemplate(e.path.length > 300 ? e.path.slice(0, 300) : e.path);
    // By method, then template: no key string built per event (inventory templates are the same instances).
    let byTemplate = this.byMethod.get(method);
    if (byTemplate === undefined) {
      if (this.byMethod.size >= 64) return this.other();
      byTemplate = new Map();
      this.byMethod.set(owned(method), byTemplate);
    }
    let ep = byTemplate.get(template);
    if (ep !== undefined) return ep;
    ep = this.endpointNamed(`${method} ${template}`);
    if (ep.name !== OTHER) byTemplate.set(owned(template), ep);
    return ep;
  }

  private other(): Endpoint {
    return this.endpointNamed(OTHER);
  }

  private endpointNamed(name: string): Endpoint {
    let ep = this.endpoints.get(name);
    if (ep !== undefined) return ep;
    if (this.endpoints.size >= this.maxEndpoints) {
      ep = this.endpoints.get(OTHER);
      if (ep !== undefined) return ep;
    }
    const key = this.endpoints.size >= this.maxEndpoints ? OTHER : owned(name);
    ep = new Endpoint(key, new Uint32Array(this.horizon), new Uint32Array(this.horizon));
    this.endpoints.set(key, ep);
    return ep;
  }

  /** Every parsed event of a batch, with its raw line (same index; absent for document formats). */
  record(events: readonly ApiEvent[], lines?: readonly (string | null)[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.events++;
      const slot = this.place(e.ts);
      const err = e.status >= 400;
      if (slot < 0) this.late++;
      else {
        this.reqs[slot]!++;
        if (err) this.errs[slot]!++;
        if (e.status >= 500) this.server[slot]!++;
      }
      const ep = this.endpointOf(e);
      ep.requests++;
      if (err) ep.errors++;
      if (e.status !== 404) ep.answered++;
      const cls = e.status >= 100 && e.status < 600 ? Math.floor(e.status / 100) : 0;
      ep.classes[cls]!++;
      if (e.ts < ep.firstTs) ep.firstTs = e.ts;
      if (e.ts > ep.lastTs) ep.lastTs = e.ts;
      if (slot >= 0) {
        ep.series[slot]!++;
        if (err) ep.errSeries[slot]!++;
      }
      this.remember(e, ep.name, lines?.[i] ?? null, err);
    }
  }

  /** The event's actors: seen (moved to the end of their table), created if new, the request kept. */
  private remember(e: ApiEvent, endpoint: string, raw: string | null, err: boolean): void {
    const ipA = this.touch('ip', e.ip);
    const tokA = e.token === null ? null : this.touch('token', e.token);
    const userA = e.user === null ? null : this.touch('user', e.user);
    const devA = e.device === null ? null : this.touch('device', e.device);
    const ok = e.status >= 200 && e.status < 300;

    const prev = ipA.last();
    // Strings shared with the previous request of this address (a client repeats its user agent) or owned
    // by the actor tables are reused; the rest are copied once here.
    let ua = e.userAgent;
    if (ua !== null) {
      if (prev !== undefined && prev.userAgent !== null && prev.userAgent === ua) ua = prev.userAgent;
      else ua = owned(ua.length > MAX_UA ? ua.slice(0, MAX_UA) : ua);
    }
    const path = owned(e.path.length > this.maxLine ? e.path.slice(0, this.maxLine) : e.path);
    let line: string | null = null;
    let truncated = false;
    if (raw !== null) {
      truncated = raw.length > this.maxLine;
      line = owned(truncated ? raw.slice(0, this.maxLine) : raw);
    }
    if (e.origin.source !== this.lastSource) {
      this.lastSource = e.origin.source;
      this.lastSourceOwned = owned(e.origin.source);
    }
    const size =
      RECORD_BYTES +
      2 * (path.length + (line?.length ?? 0) + (ua === prev?.userAgent ? 0 : (ua?.length ?? 0)));
    const rec = new Req(
      e.ts,
      e.method.length > 16 ? e.method.slice(0, 16) : e.method,
      path,
      endpoint,
      e.status,
      e.bytesOut,
      e.latencyMs,
      ua,
      ipA.value,
      tokA?.value ?? null,
      userA?.value ?? null,
      devA?.value ?? null,
      this.lastSourceOwned,
      e.origin.line,
      line,
      truncated,
      size,
    );
    // Identities seen together: only when this request's set differs from the address's previous one.
    const linked =
      prev === undefined || prev.token !== rec.token || prev.user !== rec.user || prev.device !== rec.device;
    for (const a of [ipA, tokA, userA, devA]) {
      if (a === null) continue;
      this.keep(a, rec, err, ok, endpoint);
      if (linked) {
        if (a !== ipA) this.link(a, 'ip', rec.ip, LINK_BIT.traffic);
        if (a !== tokA && rec.token !== null) this.link(a, 'token', rec.token, LINK_BIT.traffic);
        if (a !== userA && rec.user !== null) this.link(a, 'user', rec.user, LINK_BIT.traffic);
        if (a !== devA && rec.device !== null) this.link(a, 'device', rec.device, LINK_BIT.traffic);
      }
    }
    this.trim();
  }

  private keep(a: Actor, rec: Req, err: boolean, ok: boolean, endpoint: string): void {
    a.requests++;
    if (err) a.errors++;
    if (rec.ts < a.firstTs) a.firstTs = rec.ts;
    if (rec.ts > a.lastTs) a.lastTs = rec.ts;
    if (a.ring.length < this.perActor) a.ring.push(rec);
    else {
      const old = a.ring[a.head]!;
      a.bytes -= old.size;
      this.bytes -= old.size;
      a.ring[a.head] = rec;
      a.head = (a.head + 1) % this.perActor;
    }
    a.bytes += rec.size;
    this.bytes += rec.size;
    if (ok) {
      a.answered ??= new Map();
      const n = a.answered.get(endpoint);
      if (n !== undefined) a.answered.set(endpoint, n + 1);
      else if (a.answered.size < MAX_ANSWERED) a.answered.set(endpoint, 1);
    }
  }

  private link(a: Actor, kind: ActorKind, value: string, bit: number): void {
    a.links ??= new Map();
    const k = linkKey(kind, value);
    const m = a.links.get(k);
    if (m !== undefined) {
      if ((m & bit) === 0) a.links.set(k, m | bit);
    } else if (a.links.size < MAX_LINKS) a.links.set(k, bit);
  }

  /** The actor, moved to the most recently seen end of its table (created when new). */
  private touch(kind: ActorKind, value: string): Actor {
    if (value.length > MAX_VALUE) value = value.slice(0, MAX_VALUE);
    const f = this.flagged[kind].get(value);
    if (f !== undefined) {
      f.tick = ++this.clock;
      return f;
    }
    const m = this.normal[kind];
    let a = m.get(value);
    if (a !== undefined) {
      a.tick = ++this.clock;
      return a;
    }
    a = new Actor(kind, owned(value));
    a.tick = a.placed = ++this.clock;
    a.bytes = ACTOR_BYTES + 2 * a.value.length;
    this.bytes += a.bytes;
    m.set(a.value, a);
    this.normalCount++;
    return a;
  }

  /** Evicts the least recently seen actors while over the actor or byte bounds (flagged ones last). */
  private trim(): void {
    while (this.normalCount + this.flaggedCount > this.maxActors || this.bytes > this.maxBytes) {
      if (!this.evictOldest(this.normalCount > 0 ? this.normal : this.flagged)) return;
    }
  }

  /**
   * Tables are in order of placement, not of last sight (moving an actor on every request costs a delete and
   * an insert): an actor at the front that was seen since it was placed gets a second chance, moved to the
   * end. The front is then the least recently seen of its table; the oldest front of the four kinds goes.
   */
  private evictOldest(tables: Record<ActorKind, Map<string, Actor>>): boolean {
    let victim: Actor | undefined;
    for (const k of ACTOR_KINDS) {
      const t = tables[k];
      let first = t.values().next().value as Actor | undefined;
      while (first !== undefined && first.tick !== first.placed) {
        t.delete(first.value);
        t.set(first.value, first);
        first.placed = first.tick;
        first = t.values().next().value as Actor | undefined;
      }
      if (first !== undefined && (victim === undefined || first.tick < victim.tick)) victim = first;
    }
    if (victim === undefined) return false;
    this.drop(victim);
    return true;
  }

  private drop(a: Actor): void {
    const t = a.flagged ? this.flagged : this.normal;
    if (!t[a.kind].delete(a.value)) return;
    if (a.flagged) this.flaggedCount--;
    else this.normalCount--;
    this.bytes -= a.bytes;
    this.evicted++;
  }

  /** A finished segment's alerts: counted per minute and endpoint, their actors flagged and linked. */
  alerts(alerts: readonly Alert[]): void {
    for (const al of alerts) {
      const slot = this.place(al.detectedTs);
      if (slot >= 0) this.alertCounts[slot]!++;
      for (const name of al.endpoints) {
        const ep = this.endpoints.get(name) ?? this.findByShape(name);
        if (ep !== undefined) ep.alerts++;
      }
      const brief: AlertBrief = {
        id: owned(al.id),
        type: al.type,
        severity: al.severity,
        detectedTs: al.detectedTs,
        firstEventTs: al.firstEventTs,
        requests: al.requests,
        endpoints: al.endpoints.slice(0, 5).map(owned),
        actors: al.actors.length,
        explanation: owned(
          al.explanation.length > MAX_EXPLANATION
            ? `${al.explanation.slice(0, MAX_EXPLANATION)}…`
            : al.explanation,
        ),
      };
      const members: Actor[] = [];
      for (const ref of al.actors) {
        const a = this.flag(ref);
        if (a === null) continue;
        members.push(a);
        a.alerts.push(brief);
        if (a.alerts.length > this.alertsPerActor) a.alerts.shift();
      }
      if (members.length <= PAIRWISE_ALERT_ACTORS) {
        for (const a of members)
          for (const b of members) if (a !== b) this.link(a, b.kind, b.value, LINK_BIT.alert);
      } else {
        const head = members[0]!;
        for (const b of members.slice(1)) {
          this.link(head, b.kind, b.value, LINK_BIT.alert);
          this.link(b, head.kind, head.value, LINK_BIT.alert);
        }
      }
    }
    this.trim();
  }

  private findByShape(name: string): Endpoint | undefined {
    const want = endpointShape(name);
    for (const ep of this.endpoints.values()) if (endpointShape(ep.name) === want) return ep;
    return undefined;
  }

  /** Marks an actor flagged (moving it to the flagged table, which holds at most half the actors). */
  private flag(ref: ActorRef): Actor | null {
    if (!(ACTOR_KINDS as readonly string[]).includes(ref.kind)) return null;
    const value = ref.value.length > MAX_VALUE ? ref.value.slice(0, MAX_VALUE) : ref.value;
    const f = this.flagged[ref.kind].get(value);
    if (f !== undefined) return f;
    let a = this.normal[ref.kind].get(value);
    if (a !== undefined) {
      this.normal[ref.kind].delete(value);
      this.normalCount--;
    } else {
      a = new Actor(ref.kind, owned(value));
      a.bytes = ACTOR_BYTES + 2 * a.value.length;
      this.bytes += a.bytes;
    }
    a.flagged = true;
    a.tick = a.placed = ++this.clock;
    this.flagged[ref.kind].set(a.value, a);
    this.flaggedCount++;
    while (this.flaggedCount > Math.floor(this.maxActors / 2)) this.evictOldest(this.flagged);
    return a;
  }

  private lookup(kind: ActorKind, value: string): Actor | undefined {
    if (value.length > MAX_VALUE) value = value.slice(0, MAX_VALUE);
    return this.flagged[kind]?.get(value) ?? this.normal[kind]?.get(value);
  }

  /** What is known of one actor, or null when it is not tracked. */
  actor(kind: ActorKind, value: string): ActorView | null {
    const a = this.lookup(kind, value);
    if (a === undefined) return null;
    const n = a.ring.length;
    const recent: RequestView[] = [];
    for (let i = 0; i < n; i++) recent.push(view(a.ring[(a.head + i) % n]!));
    const links: LinkView[] = [];
    for (const [k, m] of a.links ?? []) {
      const cut = k.indexOf('\u0001');
      links.push({
        kind: k.slice(0, cut) as ActorKind,
        value: k.slice(cut + 1),
        via: [
          ...(m & LINK_BIT.traffic ? ['traffic' as const] : []),
          ...(m & LINK_BIT.alert ? ['alert' as const] : []),
        ],
      });
    }
    return {
      kind: a.kind,
      value: a.value,
      firstTs: a.firstTs,
      lastTs: a.lastTs,
      requests: a.requests,
      errors: a.errors,
      flagged: a.flagged,
      recent,
      alerts: [...a.alerts],
      links,
      answered: Object.fromEntries(a.answered ?? []),
    };
  }

  /** Whether two actors were seen together (a request or an alert naming both). */
  linked(a: ActorRef, b: ActorRef): ('traffic' | 'alert')[] {
    const x = this.lookup(a.kind, a.value)?.links?.get(linkKey(b.kind, b.value)) ?? 0;
    const y = this.lookup(b.kind, b.value)?.links?.get(linkKey(a.kind, a.value)) ?? 0;
    const m = x | y;
    return [
      ...(m & LINK_BIT.traffic ? ['traffic' as const] : []),
      ...(m & LINK_BIT.alert ? ['alert' as const] : []),
    ];
  }

  /** A tracked actor's counts, or null. */
  summary(kind: ActorKind, value: string): ActorSummary | null {
    const a = this.lookup(kind, value);
    return a === undefined ? null : summarize(a);
  }

  /** The `n` tracked actors with the most requests (of one kind, or all). */
  busiest(n: number, kind?: ActorKind): ActorSummary[] {
    const top: Actor[] = [];
    for (const k of kind === undefined ? ACTOR_KINDS : [kind])
      for (const t of [this.normal, this.flagged])
        for (const a of t[k].values()) {
          if (top.length < n) {
            top.push(a);
            if (top.length === n) top.sort((x, y) => y.requests - x.requests);
          } else if (a.requests > top[n - 1]!.requests) {
            top[n - 1] = a;
            top.sort((x, y) => y.requests - x.requests);
          }
        }
    return top.sort((x, y) => y.requests - x.requests).map(summarize);
  }

  /** Flagged actors with the endpoints that answered them 2xx. */
  flaggedAnswers(): { kind: ActorKind; value: string; answered: Map<string, number> }[] {
    const out: { kind: ActorKind; value: string; answered: Map<string, number> }[] = [];
    for (const k of ACTOR_KINDS)
      for (const a of this.flagged[k].values())
        if (a.answered !== null) out.push({ kind: a.kind, value: a.value, answered: a.answered });
    return out;
  }

  /** The per-minute series over the window's minutes that hold data (the last `minutes` of them at most). */
  series(minutes = this.horizon): Series {
    const out: Series = { ts: [], requests: [], errors: [], serverErrors: [], alerts: [] };
    if (this.latestMin === Number.NEGATIVE_INFINITY) return out;
    const from = Math.max(this.firstMin, this.latestMin - Math.min(minutes, this.horizon) + 1);
    for (let m = from; m <= this.latestMin; m++) {
      const s = this.slot(m);
      out.ts.push(m * MINUTE_MS);
      out.requests.push(this.reqs[s]!);
      out.errors.push(this.errs[s]!);
      out.serverErrors.push(this.server[s]!);
      out.alerts.push(this.alertCounts[s]!);
    }
    return out;
  }

  /** One endpoint's per-minute requests and errors (matched by name, else by shape), or null. */
  endpointSeries(
    name: string,
    minutes = this.horizon,
  ): { traffic: EndpointTraffic; ts: number[]; requests: number[]; errors: number[] } | null {
    const ep = this.endpoints.get(name) ?? this.findByShape(name);
    if (ep === undefined || this.latestMin === Number.NEGATIVE_INFINITY) return null;
    const from = Math.max(this.firstMin, this.latestMin - Math.min(minutes, this.horizon) + 1);
    const ts: number[] = [];
    const requests: number[] = [];
    const errors: number[] = [];
    for (let m = from; m <= this.latestMin; m++) {
      const s = this.slot(m);
      ts.push(m * MINUTE_MS);
      requests.push(ep.series[s]!);
      errors.push(ep.errSeries[s]!);
    }
    return { traffic: traffic(ep), ts, requests, errors };
  }

  /** Every endpoint seen, with its totals. */
  endpointTraffic(): EndpointTraffic[] {
    return [...this.endpoints.values()].map(traffic);
  }

  stats(): TapStats {
    const none = this.latestMin === Number.NEGATIVE_INFINITY;
    return {
      events: this.events,
      late: this.late,
      actors: this.normalCount + this.flaggedCount,
      flaggedActors: this.flaggedCount,
      endpoints: this.endpoints.size,
      estimatedBytes: this.bytes,
      evictedActors: this.evicted,
      firstMinuteTs: none ? null : this.firstMin * MINUTE_MS,
      lastMinuteTs: none ? null : this.latestMin * MINUTE_MS,
    };
  }
}

const summarize = (a: Actor): ActorSummary => ({
  kind: a.kind,
  value: a.value,
  requests: a.requests,
  errors: a.errors,
  lastTs: a.lastTs,
  flagged: a.flagged,
});

const traffic = (ep: Endpoint): EndpointTraffic => ({
  endpoint: ep.name,
  requests: ep.requests,
  errors: ep.errors,
  statusClasses: [...ep.classes],
  answered: ep.answered,
  alerts: ep.alerts,
  firstTs: ep.firstTs,
  lastTs: ep.lastTs,
});

const view = (r: Req): RequestView => ({
  ts: r.ts,
  method: r.method,
  path: r.path,
  endpoint: r.endpoint,
  status: r.status,
  bytesOut: r.bytesOut,
  latencyMs: r.latencyMs,
  userAgent: r.userAgent,
  ip: r.ip,
  token: r.token,
  user: r.user,
  device: r.device,
  source: r.source,
  line: r.line,
  raw: r.raw,
  truncated: r.truncated,
});

export const severityRank = (s: string): number => SEVERITIES.indexOf(s as Severity);
