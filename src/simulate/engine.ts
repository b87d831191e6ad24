/**
 * The simulation engine: agents (a user's session, a partner's poller, a crawler...) each know when their next
 * request happens; a heap keyed on (time, agent number) always steps the earliest, so requests come out in
 * time order with memory bounded by the number of live agents, never by the length of the run.
 *
 * Every agent draws from its own random stream, so the same seed gives the same bytes and one campaign's
 * presence never changes another actor's traffic.
 */
import { tokenId } from '../core/identity.js';
import type { Rng } from './random.js';
import type { Req } from './render.js';
import { HOST, ROUTE_INDEX, ROUTES, type RouteName } from './site.js';

/** Who sends a request, as the labels name it. `attacker` marks every campaign actor. */
export type ActorKind =
  | 'browser'
  | 'mobile'
  | 'staff'
  | 'partner'
  | 'payment_provider'
  | 'googlebot'
  | 'bingbot'
  | 'monitor'
  | 'attacker';

/** How a forged request lies (see docs/simulator.md). */
export type ForgeKind =
  | 'tampered_price'
  | 'negative_quantity'
  | 'invalid_signature'
  | 'coupon_bruteforce'
  | 'foreign_object';

/** One simulated request: what every renderer writes, plus its ground truth. */
export interface SimRequest extends Req {
  /** 0-based position in the output (line i of each file). */
  index: number;
  /** Index into the route table, or -1 for a path the site does not have. */
  route: number;
  kind: ActorKind;
  /** Stable actor label: `user:100042`, `partner:acme`, `crawler`, `stuffing:bot17` ... */
  actor: string;
  /** Attack campaign id, or null for benign traffic. */
  campaign: string | null;
  /** Benign event the request belongs to (`flash_sale`, `staff`, ...), or null. */
  event: string | null;
  forged: ForgeKind | null;
}

/** The sender's side of a request: network identity, client software and credentials. */
export interface Client {
  kind: ActorKind;
  actor: string;
  ip: string;
  ua: string;
  /** The raw bearer token (a JWT), or null. */
  token: string | null;
  apiKey: string | null;
  deviceId: string | null;
  /** Gateway consumer (partners). */
  consumer: string | null;
  h2: boolean;
  /** The page a browser is on: its API calls carry it as Referer. */
  referer: string | null;
  campaign: string | null;
  event: string | null;
}

export function makeClient(c: Partial<Client> & Pick<Client, 'kind' | 'actor' | 'ip' | 'ua'>): Client {
  return {
    token: null,
    apiKey: null,
    deviceId: null,
    consumer: null,
    h2: false,
    referer: null,
    campaign: null,
    event: null,
    ...c,
  };
}

/** What the server did with one request. */
export interface Call {
  /** The route the request hits, or null for a path the site does not have (scanners). */
  route: RouteName | null;
  /** Method for a path with no route (routes carry their own). */
  method?: string;
  /** Origin-form target, query included, percent-encoded. */
  target: string;
  status: number;
  /** Response body (JSON APIs); its UTF-8 size is bytesOut unless `bytesOut` says otherwise. */
  body?: string | null;
  bytesOut?: number;
  requestBody?: string | null;
  /** Server time, ms. */
  latency: number;
  contentType?: string;
  forged?: ForgeKind | null;
  /** Overrides the client's referer for this request. */
  referer?: string | null;
}

/** A source of requests. `step` emits the request due at `t` (or nothing) and moves `t` on, or sets done. */
export abstract class Agent {
  /** Time of the next request, ms since epoch (fractional: sub-ms order matters). */
  t: number;
  done = false;
  /** Assigned by the engine: breaks ties in time, deterministically. */
  seq = 0;
  constructor(
    t: number,
    readonly rng: Rng,
  ) {
    this.t = t;
  }
  abstract step(sim: Sim): void;
}

const ERROR_BODY = (code: string): string => `{"error":"${code}"}`;

const STATUS_ERROR: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'too_many_requests',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

export function errorBody(status: number): string {
  return ERROR_BODY(STATUS_ERROR[status] ?? 'error');
}

const UPSTREAMS: Record<string, string[]> = {};
function upstreamsOf(service: string): string[] {
  let u = UPSTREAMS[service];
  if (u === undefined) {
    let h = 0;
    for (let i = 0; i < service.length; i++) h = (h * 31 + service.charCodeAt(i)) & 0xff;
    u = [0, 1, 2].map((k) => `10.20.${1 + (h % 8)}.${11 + k * 7 + (h % 5)}:8080`);
    UPSTREAMS[service] = u;
  }
  return u;
}

/** A window of elevated upstream errors (a benign incident). */
export interface Incident {
  start: number;
  end: number;
  /** Probability of a 5xx for API requests inside the window. */
  errorRate: number;
}

/** Per-campaign (or benign group) ground truth, accumulated as requests are emitted. */
export class ActorSet {
  readonly ips = new Set<string>();
  readonly tokens = new Set<string>();
  readonly users = new Set<string>();
  readonly devices = new Set<string>();
  readonly actors = new Set<string>();
  requests = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  firstLine = -1;
  lastLine = -1;
  readonly statuses: Record<string, number> = {};

  add(r: SimRequest, token: string | null, user: string | null): void {
    this.ips.add(r.ip);
    if (token !== null) this.tokens.add(token);
    if (user !== null) this.users.add(user);
    if (r.deviceId !== null) this.devices.add(r.deviceId);
    this.actors.add(r.actor);
    this.requests++;
    if (r.ts < this.first) this.first = r.ts;
    if (r.ts > this.last) this.last = r.ts;
    if (this.firstLine < 0) this.firstLine = r.index;
    this.lastLine = r.index;
    const k = String(r.status);
    this.statuses[k] = (this.statuses[k] ?? 0) + 1;
  }
}

/** The subject a JWT was issued for (the simulator's own tokens: the payload is plain base64url JSON). */
function jwtSub(token: string): string | null {
  const a = token.indexOf('.');
  const b = token.indexOf('.', a + 1);
  if (a < 0 || b < 0) return null;
  try {
    const sub = (JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString()) as { sub?: unknown })
      .sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

/** Min-heap of agents on (t, seq). */
class AgentHeap {
  private readonly a: Agent[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: Agent, y: Agent): boolean {
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
  push(x: Agent): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  peek(): Agent | undefined {
    return this.a[0];
  }
  pop(): Agent | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class Sim {
  readonly start: number;
  readonly end: number;
  private readonly heap = new AgentHeap();
  private seq = 0;
  private index = 0;
  private out: SimRequest[] = [];
  readonly campaigns = new Map<string, ActorSet>();
  readonly events = new Map<string, ActorSet>();
  readonly incidents: Incident[] = [];
  private readonly tokenIds = new Map<string, [string, string | null]>();

  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }

  /** The ground truth collected for a campaign (created on first use). */
  campaign(id: string): ActorSet {
    return setOf(this.campaigns, id);
  }

  add(agent: Agent): void {
    if (agent.t >= this.end || agent.done) return;
    agent.seq = this.seq++;
    this.heap.push(agent);
  }

  /** Runs until `end`, yielding requests in time order in batches of up to `batch`. */
  *run(batch = 4096): Generator<SimRequest[]> {
    const heap = this.heap;
    for (;;) {
      const a = heap.pop();
      if (a === undefined || a.t >= this.end) break;
      a.step(this);
      if (!a.done && a.t < this.end) {
        a.seq = this.seq++;
        heap.push(a);
      }
      if (this.out.length >= batch) {
        const b = this.out;
        this.out = [];
        yield b;
      }
    }
    if (this.out.length > 0) {
      const b = this.out;
      this.out = [];
      yield b;
    }
  }

  /** Emits the request `client` makes at `t`, answered as `call` says. Returns it. */
  emit(client: Client, call: Call, t: number, rng: Rng): SimRequest {
    const def = call.route === null ? null : ROUTES[call.route];
    let status = call.status;
    let body = call.body ?? null;
    const api = def === null || def.scenario !== 'static';
    // Gateway-wide noise: rare upstream failures everywhere, more inside a benign incident window.
    if (api && def !== null && status < 500) {
      let p = 0.0012;
      for (const inc of this.incidents) if (t >= inc.start && t < inc.end) p = inc.errorRate;
      if (rng.chance(p)) {
        status = rng.weighted<number>([
          [5, 500],
          [3, 502],
          [3, 503],
          [1, 504],
        ]);
        body = errorBody(status);
      }
    }
    const failed = status === 502 || status === 504;
    const latency = status === 504 ? 30_000 + rng.next() * 50 : call.latency;
    const bytesOut =
      status >= 500 ? body!.length : (call.bytesOut ?? (body === null ? 0 : Buffer.byteLength(body)));
    const reqBody = call.requestBody ?? null;
    const token = client.token;
    const ts = Math.floor(t);
    const r: SimRequest = {
      ts,
      subMs: t - ts,
      ip: client.ip,
      port: rng.int(1024, 65535),
      method: def === null ? (call.method ?? 'GET') : def.method,
      target: call.target,
      protocol: client.h2 ? 'HTTP/2.0' : 'HTTP/1.1',
      host: HOST,
      status,
      bytesOut,
      bytesIn:
        160 +
        client.ua.length +
        call.target.length +
        (token === null ? 0 : token.length + 22) +
        (client.apiKey === null ? 0 : client.apiKey.length + 12) +
        (reqBody === null ? 0 : Buffer.byteLength(reqBody) + 40),
      latencyMs: Math.round(latency * 1000) / 1000,
      upstreamMs: failed ? -1 : Math.round(latency * 0.9 * 1000) / 1000,
      userAgent: client.ua,
      referer: call.referer === undefined ? client.referer : call.referer,
      auth: token === null ? null : `Bearer ${token}`,
      remoteUser: null,
      consumer: client.consumer,
      apiKey: client.apiKey,
      deviceId: client.deviceId,
      contentType:
        call.contentType ?? (api || status >= 400 ? 'application/json' : 'text/html; charset=utf-8'),
      requestId: rng.hex(32),
      service: def === null ? 'web' : def.service,
      upstream: rng.pick(upstreamsOf(def === null ? 'web' : def.service)),
      upstreamFailed: failed,
      requestBody: reqBody,
      responseBody: body,
      index: this.index++,
      route: call.route === null ? -1 : ROUTE_INDEX[call.route],
      kind: client.kind,
      actor: client.actor,
      campaign: client.campaign,
      event: client.event,
      forged: call.forged ?? null,
    };
    this.out.push(r);
    if (client.campaign !== null || client.event !== null) {
      let id: string | null = null;
      let sub: string | null = null;
      if (token !== null) {
        let e = this.tokenIds.get(token);
        if (e === undefined) {
          e = [tokenId(token), jwtSub(token)];
          this.tokenIds.set(token, e);
        }
        [id, sub] = e;
      } else if (client.apiKey !== null) {
        id = tokenId(client.apiKey);
      }
      const user = sub ?? client.consumer;
      if (client.campaign !== null) this.campaign(client.campaign).add(r, id, user);
      if (client.event !== null) setOf(this.events, client.event).add(r, id, user);
    }
    return r;
  }
}

function setOf(m: Map<string, ActorSet>, k: string): ActorSet {
  let s = m.get(k);
  if (s === undefined) {
    s = new ActorSet();
    m.set(k, s);
  }
  return s;
}
