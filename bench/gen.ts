/**
 * Deterministic generators of realistic access-log lines, for benchmarks and the bundled demo sample.
 *
 * One traffic model (`Traffic`: a shop with a web front end and a JSON API, browsers, mobile apps, scripts,
 * partner integrations, crawlers and monitors) yields `Req` records in time order; one renderer per format
 * writes a record the way that product logs it:
 *
 *   combined    nginx / Apache "combined"                                    mean ~220 B/line
 *   apisix      Apache APISIX http-logger / file-logger default entry        mean ~850 B/line
 *   kong        Kong kong.log.serialize() (http-log / file-log)              mean ~1160 B/line
 *   envoy       Envoy JSON access log (Istio's default field set)            mean ~740 B/line
 *   traefik     Traefik JSON access log (request headers kept)               mean ~1100 B/line
 *   cloudflare  Cloudflare Logpush http_requests (RequestHeaders field)      mean ~950 B/line
 *   alb         AWS Application Load Balancer access log (text)              mean ~700 B/line
 *
 * Everything is seeded (mulberry32), so the same (format, n, seed) always gives the same lines. Text formats
 * are ASCII (non-ASCII only percent-encoded in URLs). APISIX and Kong also log the decoded query string
 * (`querystring`), where a search term like `café` appears as raw UTF-8, as their Lua JSON encoders write it.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';

export const GEN_FORMATS = ['combined', 'apisix', 'kong', 'envoy', 'traefik', 'cloudflare', 'alb'] as const;
export type GenFormat = (typeof GEN_FORMATS)[number];

export const isGenFormat = (s: string): s is GenFormat => (GEN_FORMATS as readonly string[]).includes(s);

// ---------------------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)]!;
  }
  /** Picks from [weight, value] pairs. */
  weighted<T>(table: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.next() * total;
    for (const [w, v] of table) {
      r -= w;
      if (r < 0) return v;
    }
    return table[table.length - 1]![1];
  }
  /** Index in [0, n) skewed towards 0 (a few hot items, a long tail). */
  skewed(n: number, power = 2.5): number {
    return Math.min(n - 1, Math.floor(n * this.next() ** power));
  }
  /** Log-normal around `median` (sigma in log space). */
  logNormal(median: number, sigma: number): number {
    const u = 1 - this.next();
    const v = this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * z);
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += HEX[Math.floor(this.next() * 16)];
    return s;
  }
  b64url(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += B64URL[Math.floor(this.next() * 64)];
    return s;
  }
  uuid(): string {
    const v = HEX[8 + Math.floor(this.next() * 4)];
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${v}${this.hex(3)}-${this.hex(12)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Vocabulary

export const UA = {
  browsers: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0',
    'Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.178 Mobile Safari/537.36',
  ],
  apps: [
    'ShopApp/4.12.1 (com.example.shop; build:41210; iOS 17.3.1) Alamofire/5.8.1',
    'ShopApp/4.12.0 (com.example.shop; build:41200; iOS 16.7.5) Alamofire/5.8.1',
    'ShopApp/4.12.1 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041) okhttp/4.12.0',
    'ShopApp/4.11.3 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014) okhttp/4.11.0',
    'Dalvik/2.1.0 (Linux; U; Android 12; Redmi Note 11 Build/SKQ1.211103.001)',
    'ShopApp/4.12.1 CFNetwork/1494.0.7 Darwin/23.4.0',
  ],
  tools: [
    'curl/8.5.0',
    'curl/7.81.0',
    'python-requests/2.31.0',
    'python-requests/2.28.2',
    'python-httpx/0.27.0',
    'Go-http-client/1.1',
    'Go-http-client/2.0',
    'axios/1.6.7',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
    'PostmanRuntime/7.36.3',
    'Apache-HttpClient/4.5.14 (Java/17.0.10)',
    'okhttp/4.12.0',
  ],
  bots: [
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.94 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
    'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
    'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  ],
  monitors: ['kube-probe/1.29', 'Prometheus/2.50.1', 'Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)'],
} as const;

const CATEGORIES = ['shoes', 'jackets', 'accessories', 'bags', 'outdoor', 'kids', 'sale', 'new-in', 'socks'];
const SLUG_WORDS = [
  'trail',
  'runner',
  'merino',
  'wool',
  'rain',
  'shell',
  'canvas',
  'tote',
  'classic',
  'leather',
  'low',
  'high',
  'lite',
  'pro',
  'crew',
  'hoodie',
];
/** Search terms as a browser/app would encode them; some non-ASCII, percent-encoded. */
const SEARCH_TERMS = [
  'running shoes',
  'rain jacket',
  'wool socks',
  'backpack',
  'tote bag',
  'caf\u00e9 mug',
  'm\u00fcsli',
  'cr\u00e8me',
  'gr\u00f6\u00dfe 42',
  'ni\u00f1o',
  '\u30b9\u30cb\u30fc\u30ab\u30fc',
  '\u0142\u00f3d\u017a',
  'sneakers',
  'gift card',
  'sale',
  'leather belt',
];
/** Unicode product slugs (percent-encoded in the request line). */
const UNICODE_SLUGS = [
  'cr\u00e8me-br\u00fbl\u00e9e-mug',
  'caf\u00e9-au-lait-set',
  'z\u00fcrich-parka',
  'se\u00f1or-sandal',
];
const REFERER_SITES = [
  'https://www.google.com/',
  'https://www.google.de/',
  'https://www.bing.com/',
  'https://duckduckgo.com/',
  'https://t.co/',
  'https://www.instagram.com/',
  'https://l.facebook.com/',
];
const FIRST_OCTETS = [
  23, 24, 31, 37, 45, 46, 47, 62, 66, 68, 70, 71, 73, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88,
  89, 90, 91, 92, 93, 94, 95, 96, 98, 99, 104, 107, 108, 109, 151, 173, 174, 176, 178, 185, 188, 193, 194,
  195, 203, 212, 213, 217,
];
const V6_PREFIXES = [
  '2a02:8108',
  '2a01:cb00',
  '2600:1700',
  '2601:646',
  '2a00:23c7',
  '2405:201',
  '2a01:4f8',
  '2003:e6',
];

export function randomIpv4(rng: Rng): string {
  return `${rng.pick(FIRST_OCTETS)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

export function randomIpv6(rng: Rng): string {
  const g = () => rng.int(0, 0xffff).toString(16);
  return `${rng.pick(V6_PREFIXES)}:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`;
}

const b64urlJson = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT_HEADER = b64urlJson({ alg: 'HS256', typ: 'JWT' });

/** A JWT-shaped bearer token (HS256-sized signature; not a real signature), ~180 characters. */
export function makeJwt(rng: Rng, sub: string, iat: number, scope: string): string {
  const payload = b64urlJson({ sub, iat, exp: iat + 3600, scope });
  return `${JWT_HEADER}.${payload}.${rng.b64url(43)}`;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `14/Mar/2025:08:00:00 +0000` (UTC). */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(
    d.getUTCMinutes(),
  )}:${pad2(d.getUTCSeconds())} +0000`;
}

/** ISO 8601 UTC with `digits` fractional digits (0, 3, 6 or 9); sub-ms digits come from `subMs` in [0,1). */
export function isoTime(ms: number, digits: 0 | 3 | 6 | 9, subMs = 0): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(
    d.getUTCHours(),
  )}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  if (digits === 0) return `${base}Z`;
  const frac = pad3(d.getUTCMilliseconds());
  if (digits === 3) return `${base}.${frac}Z`;
  const sub = Math.floor(subMs * 1e6)
    .toString()
    .padStart(6, '0');
  return `${base}.${frac}${sub.slice(0, digits - 3)}Z`;
}

// ---------------------------------------------------------------------------------------------------------
// The traffic model

export type ClientKind = 'browser' | 'app' | 'tool' | 'partner' | 'bot' | 'monitor';

export interface Client {
  kind: ClientKind;
  ip: string;
  ua: string;
  /** Full Authorization header value, or null. */
  auth: string | null;
  /** JWT subject / gateway consumer. */
  user: string | null;
  consumer: string | null;
  apiKey: string | null;
  deviceId: string | null;
  /** Last page a browser was on (its API calls carry it as Referer). */
  page: string;
  /** Speaks HTTP/2 (browsers, mostly). */
  h2: boolean;
}

/** One request as the gateway saw it; every renderer writes the same record in its product's layout. */
export interface Req {
  /** Request start, ms since epoch (UTC). */
  ts: number;
  /** Sub-millisecond part in [0,1), for formats with µs/ns timestamps. */
  subMs: number;
  ip: string;
  port: number;
  method: string;
  /** Origin-form request target, query included, percent-encoded. */
  target: string;
  protocol: 'HTTP/1.1' | 'HTTP/2.0';
  host: string;
  status: number;
  bytesOut: number;
  bytesIn: number;
  latencyMs: number;
  upstreamMs: number;
  userAgent: string;
  referer: string | null;
  auth: string | null;
  remoteUser: string | null;
  consumer: string | null;
  apiKey: string | null;
  deviceId: string | null;
  contentType: string;
  requestId: string;
  /** Upstream service (gateway formats). */
  service: string;
  upstream: string;
  /** Set on requests where there is no usable upstream answer (502/504). */
  upstreamFailed: boolean;
}

export interface TrafficOptions {
  seed: number;
  /** First request time (ms). Default 2025-03-14T08:00:00Z. */
  start?: number;
  /** Average requests per second (time advances by exponential gaps). Default 250. */
  ratePerSec?: number;
  /** Host of the web site (combined); the API gateway host is `api.` + this. Default shop.example.com. */
  host?: string;
  /** Number of distinct clients. Default 6000. */
  clients?: number;
}

export const DEFAULT_START = Date.UTC(2025, 2, 14, 8, 0, 0);

const SERVICES: Record<string, string> = {
  products: 'catalog',
  search: 'search',
  categories: 'catalog',
  orders: 'orders',
  cart: 'cart',
  users: 'accounts',
  auth: 'accounts',
  inventory: 'catalog',
  payments: 'payments',
  webhooks: 'orders',
  health: 'gateway',
};

export interface Route {
  method: string;
  target: string;
  status: number;
  bytesOut: number;
  bodyIn: number;
  latency: number;
  contentType: string;
  /** The route needs a credential (401 without one). */
  auth: boolean;
  /** An HTML page a browser navigates to (it becomes the Referer of what follows). */
  page?: boolean;
}

export class Traffic {
  readonly rng: Rng;
  readonly host: string;
  readonly apiHost: string;
  private readonly clients: Client[] = [];
  private readonly clientSeed: number;
  private clock: number;
  private readonly meanGapMs: number;
  private readonly upstreams: string[];

  constructor(o: TrafficOptions) {
    this.rng = new Rng(o.seed);
    this.clientSeed = (o.seed * 2654435761) >>> 0;
    this.clock = o.start ?? DEFAULT_START;
    this.meanGapMs = 1000 / (o.ratePerSec ?? 250);
    this.host = o.host ?? 'shop.example.com';
    this.apiHost = `api.${this.host}`;
    const n = o.clients ?? 6000;
    const crng = new Rng(this.clientSeed);
    for (let i = 0; i < n; i++) this.clients.push(this.makeClient(crng));
    this.upstreams = Array.from({ length: 6 }, (_, i) => `10.20.${1 + (i % 3)}.${11 + i * 7}:8080`);
  }

  /** Current time of the generator (ms). */
  get now(): number {
    return this.clock;
  }

  private makeClient(r: Rng): Client {
    const kind = r.weighted<ClientKind>([
      [55, 'browser'],
      [25, 'app'],
      [8, 'tool'],
      [3, 'partner'],
      [6, 'bot'],
      [1, 'monitor'],
    ]);
    const iat = Math.floor(this.clock / 1000) - r.int(0, 3000);
    let ip = r.chance(0.1) ? randomIpv6(r) : randomIpv4(r);
    let ua: string;
    let auth: string | null = null;
    let user: string | null = null;
    let consumer: string | null = null;
    let apiKey: string | null = null;
    let deviceId: string | null = null;
    switch (kind) {
      case 'browser':
        ua = r.pick(UA.browsers);
        if (r.chance(0.25)) {
          user = `usr_${r.hex(10)}`;
          auth = `Bearer ${makeJwt(r, user, iat, 'shop')}`;
        }
        break;
      case 'app':
        ua = r.pick(UA.apps);
        deviceId = r.uuid();
        consumer = ua.includes('iOS') || ua.includes('Darwin') ? 'shop-ios' : 'shop-android';
        if (r.chance(0.55)) {
          user = `usr_${r.hex(10)}`;
          auth = `Bearer ${makeJwt(r, user, iat, 'shop')}`;
        }
        break;
      case 'tool':
        ua = r.pick(UA.tools);
        if (r.chance(0.6)) {
          user = `svc_${r.pick(['reporting', 'feed-export', 'price-sync', 'qa-bot', 'etl'])}`;
          auth = `Bearer ${makeJwt(r, user, iat, 'reports')}`;
        }
        break;
      case 'partner':
        ua = r.pick(UA.tools);
        consumer = `partner-${r.pick(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'])}`;
        apiKey = `pk_live_${r.b64url(32)}`;
        ip = `${r.pick([18, 34, 35, 52, 54])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
        break;
      case 'bot':
        ua = r.pick(UA.bots);
        if (ua.includes('Googlebot')) ip = `66.249.${r.int(64, 79)}.${r.int(1, 254)}`;
        else if (ua.includes('bingbot'))
          ip = `${r.pick(['40.77.167', '157.55.39', '207.46.13'])}.${r.int(1, 254)}`;
        break;
      default:
        ua = r.pick(UA.monitors);
        ip = ua.startsWith('kube')
          ? `10.42.${r.int(0, 7)}.1`
          : `${r.pick(['5.172.196', '52.0.204', '178.255.153'])}.${r.int(2, 250)}`;
        break;
    }
    const h2 = kind === 'browser' && r.chance(0.75);
    return { kind, ip, ua, auth, user, consumer, apiKey, deviceId, page: `https://${this.host}/`, h2 };
  }

  /** The next request; time advances monotonically. */
  next(): Req {
    const r = this.rng;
    this.clock += r.exp(this.meanGapMs);
    const c = this.clients[r.skewed(this.clients.length, 2.2)]!;
    let rt = this.route(c);
    // Anonymous clients mostly stay on public routes (the rest get their 401).
    if (rt.auth && c.auth === null && c.apiKey === null && r.chance(0.9)) rt = this.route(c);
    if (rt.auth && c.auth === null && c.apiKey === null && r.chance(0.9)) rt = this.route(c);
    return this.request(c, rt);
  }

  /** Builds a request of `client` for a route at the current clock (used by scenario injectors too). */
  request(c: Client, rt: Route, at: number = this.clock): Req {
    const r = this.rng;
    const status = rt.auth && c.auth === null && c.apiKey === null && rt.status < 400 ? 401 : rt.status;
    const failed = status === 502 || status === 504;
    const latency = status === 504 ? 60000 + r.next() * 5 : status === 401 ? 1 + r.next() * 3 : rt.latency;
    const seg = rt.target.split('/')[3] ?? '';
    const service = rt.target.startsWith('/api/') ? (SERVICES[seg.split('?')[0]!] ?? 'catalog') : 'web';
    const bytesOut = status === 401 ? 58 : status === 304 || status === 204 ? 0 : rt.bytesOut;
    const headerBytes = 180 + c.ua.length + (c.auth?.length ?? 0) + (c.apiKey ? 40 : 0) + rt.target.length;
    return {
      ts: Math.floor(at),
      subMs: at - Math.floor(at),
      ip: c.ip,
      port: r.int(1024, 65535),
      method: rt.method,
      target: rt.target,
      protocol: c.h2 ? 'HTTP/2.0' : 'HTTP/1.1',
      host: c.kind === 'browser' || c.kind === 'bot' ? this.host : this.apiHost,
      status,
      bytesOut,
      bytesIn: headerBytes + rt.bodyIn,
      latencyMs: Math.round(latency * 1000) / 1000,
      upstreamMs: failed ? -1 : Math.max(0, Math.round(latency * 0.92 * 1000) / 1000),
      userAgent: c.ua,
      referer: this.referer(c, rt),
      auth: c.auth,
      remoteUser: c.kind === 'monitor' && rt.target === '/metrics' ? 'prometheus' : null,
      consumer: c.consumer,
      apiKey: c.apiKey,
      deviceId: c.deviceId,
      contentType: status === 401 || status === 429 || status >= 500 ? 'application/json' : rt.contentType,
      requestId: r.hex(32),
      service,
      upstream: r.pick(this.upstreams),
      upstreamFailed: failed,
    };
  }

  private referer(c: Client, rt: Route): string | null {
    const r = this.rng;
    if (c.kind === 'browser') {
      if (rt.page !== true || rt.status >= 400) return c.page;
      const ref = r.chance(0.35) ? c.page : r.chance(0.5) ? r.pick(REFERER_SITES) : null;
      c.page = `https://${this.host}${rt.target}`;
      return ref;
    }
    return null;
  }

  /** A route for the client's kind: method, target, status, sizes, latency. */
  route(c: Client): Route {
    switch (c.kind) {
      case 'browser':
        return this.rng.chance(0.45) ? this.webRoute() : this.apiRoute(c);
      case 'bot':
        return this.botRoute();
      case 'monitor':
        return this.monitorRoute(c);
      default:
        return this.apiRoute(c);
    }
  }

  productId(): number {
    return 1000 + this.rng.skewed(9000, 2);
  }

  private slug(id: number): string {
    const r = this.rng;
    if (r.chance(0.03)) return `${encodeURIComponent(r.pick(UNICODE_SLUGS))}-${id}`;
    return `${SLUG_WORDS[id % SLUG_WORDS.length]}-${SLUG_WORDS[(id >> 4) % SLUG_WORDS.length]}-${id}`;
  }

  private static(): Route {
    const r = this.rng;
    const hit = r.chance(0.3);
    const asset = r.weighted<[string, string, number]>([
      [5, ['/static/js/main.8f3a2c1b.js', 'application/javascript', 412_331]],
      [3, ['/static/js/vendor.51c0e9d4.chunk.js', 'application/javascript', 268_904]],
      [4, ['/static/css/main.4b2e9d7a.css', 'text/css', 48_212]],
      [2, ['/fonts/inter-var.woff2', 'font/woff2', 98_340]],
      [1, ['/favicon.ico', 'image/x-icon', 15_086]],
      [1, ['/manifest.json', 'application/json', 612]],
      [9, ['', 'image/webp', 0]],
    ]);
    let [path, type, size] = asset;
    if (path === '') {
      const id = this.productId();
      const w = r.pick([200, 400, 800]);
      path = `/images/products/${id}/${r.pick(['main', 'alt-1', 'alt-2'])}-${w}.webp`;
      size = Math.round(w * w * 0.12 * (0.6 + r.next() * 0.8));
    }
    const status = r.chance(0.01) ? 404 : hit ? 304 : 200;
    return {
      method: 'GET',
      target: path,
      status,
      bytesOut: status === 404 ? 153 : size,
      bodyIn: 0,
      latency: 0.2 + r.exp(1.5),
      contentType: status === 404 ? 'text/html' : type,
      auth: false,
    };
  }

  private webRoute(): Route {
    const r = this.rng;
    if (r.chance(0.55)) return this.static();
    const page = r.weighted<() => string>([
      [4, () => '/'],
      [10, () => `/products/${this.slug(this.productId())}`],
      [4, () => `/category/${r.pick(CATEGORIES)}${r.chance(0.3) ? `?page=${r.int(2, 9)}` : ''}`],
      [2, () => '/cart'],
      [1, () => '/checkout'],
      [1, () => '/account/orders'],
      [1, () => '/shop'],
    ])();
    let status = page === '/shop' ? 301 : r.chance(0.008) ? 404 : r.chance(0.002) ? 502 : 200;
    if (status === 200 && r.chance(0.05)) status = 304;
    return {
      method: 'GET',
      target: page,
      status,
      bytesOut: status === 301 ? 162 : status === 404 ? 555 : Math.round(r.logNormal(28_000, 0.4)),
      bodyIn: 0,
      latency: r.logNormal(18, 0.6),
      contentType: 'text/html; charset=utf-8',
      auth: false,
      page: true,
    };
  }

  private botRoute(): Route {
    const r = this.rng;
    if (r.chance(0.06)) {
      const t = r.pick(['/robots.txt', '/sitemap.xml', '/sitemap-products-1.xml']);
      return {
        method: 'GET',
        target: t,
        status: 200,
        bytesOut: t === '/robots.txt' ? 312 : r.int(40_000, 900_000),
        bodyIn: 0,
        latency: r.logNormal(4, 0.5),
        contentType: t === '/robots.txt' ? 'text/plain' : 'application/xml',
        auth: false,
      };
    }
    return this.webRoute();
  }

  private monitorRoute(c: Client): Route {
    const r = this.rng;
    const t = c.ua.startsWith('Prometheus')
      ? '/metrics'
      : c.ua.startsWith('kube')
        ? '/healthz'
        : '/api/v1/health';
    return {
      method: 'GET',
      target: t,
      status: r.chance(0.001) ? 503 : 200,
      bytesOut: t === '/metrics' ? r.int(18_000, 22_000) : r.int(15, 60),
      bodyIn: 0,
      latency: r.logNormal(1.2, 0.4),
      contentType: t === '/metrics' ? 'text/plain; version=0.0.4' : 'application/json',
      auth: false,
    };
  }

  /** API traffic: reads dominate, then cart and order writes, auth, search. */
  apiRoute(c: Client): Route {
    const r = this.rng;
    const json = 'application/json';
    const id = this.productId();
    const kind = r.weighted<string>([
      [30, 'product'],
      [10, 'products'],
      [10, 'search'],
      [4, 'categories'],
      [6, 'me'],
      [6, 'orders'],
      [5, 'order'],
      [2, 'createOrder'],
      [6, 'cart'],
      [3, 'cartAdd'],
      [1, 'cartDel'],
      [1, 'patchMe'],
      [2, 'login'],
      [1, 'refresh'],
      [c.kind === 'partner' ? 25 : 1, 'inventory'],
      [c.kind === 'partner' ? 8 : 0, 'webhook'],
    ]);
    let method = 'GET';
    let target: string;
    let status = 200;
    let bytesOut = 0;
    let bodyIn = 0;
    let latency = r.logNormal(22, 0.6);
    let auth = false;
    switch (kind) {
      case 'product':
        target = `/api/v1/products/${id}${r.chance(0.1) ? '?include=variants,reviews' : ''}`;
        status = r.chance(0.02) ? 404 : 200;
        bytesOut = status === 404 ? 74 : Math.round(r.logNormal(2400, 0.35));
        break;
      case 'products': {
        const cat = r.pick(CATEGORIES);
        target = `/api/v1/products?category=${cat}&page=${r.int(1, 6)}&limit=${r.pick([24, 48])}${r.chance(0.3) ? `&sort=${r.pick(['price_asc', 'price_desc', 'newest'])}` : ''}`;
        bytesOut = Math.round(r.logNormal(21_000, 0.3));
        latency = r.logNormal(45, 0.5);
        break;
      }
      case 'search': {
        const term = r.pick(SEARCH_TERMS);
        const q = r.chance(0.3) ? encodeURIComponent(term).replace(/%20/g, '+') : encodeURIComponent(term);
        target = `/api/v1/search?q=${q}${r.chance(0.4) ? `&page=${r.int(2, 5)}` : ''}`;
        status = r.chance(0.01) ? 400 : 200;
        bytesOut = status === 400 ? 96 : Math.round(r.logNormal(14_000, 0.5));
        latency = r.logNormal(85, 0.7);
        break;
      }
      case 'categories':
        target = '/api/v1/categories';
        bytesOut = 3_812;
        latency = r.logNormal(6, 0.4);
        break;
      case 'me':
        target = '/api/v1/users/me';
        bytesOut = Math.round(r.logNormal(900, 0.2));
        auth = true;
        break;
      case 'orders':
        target = `/api/v1/orders?status=${r.pick(['open', 'shipped', 'all'])}&page=1`;
        bytesOut = Math.round(r.logNormal(6000, 0.6));
        auth = true;
        break;
      case 'order':
        target = `/api/v1/orders/${r.uuid()}`;
        status = r.chance(0.02) ? 403 : r.chance(0.02) ? 404 : 200;
        bytesOut = status === 200 ? Math.round(r.logNormal(3100, 0.3)) : 82;
        auth = true;
        break;
      case 'createOrder':
        method = 'POST';
        target = '/api/v1/orders';
        status = r.chance(0.04) ? 400 : 201;
        bytesOut = status === 201 ? Math.round(r.logNormal(3300, 0.2)) : 188;
        bodyIn = r.int(300, 1800);
        latency = r.logNormal(160, 0.5);
        auth = true;
        break;
      case 'cart':
        target = '/api/v1/cart';
        bytesOut = Math.round(r.logNormal(1800, 0.5));
        auth = true;
        break;
      case 'cartAdd':
        method = r.chance(0.5) ? 'POST' : 'PUT';
        target = method === 'POST' ? '/api/v1/cart/items' : `/api/v1/cart/items/${id}`;
        status = method === 'POST' ? 201 : 200;
        bytesOut = Math.round(r.logNormal(1900, 0.4));
        bodyIn = r.int(40, 120);
        auth = true;
        break;
      case 'cartDel':
        method = 'DELETE';
        target = `/api/v1/cart/items/${id}`;
        status = 204;
        auth = true;
        break;
      case 'patchMe':
        method = 'PATCH';
        target = `/api/v1/users/${c.user ?? `usr_${r.hex(10)}`}`;
        bytesOut = 912;
        bodyIn = r.int(30, 400);
        auth = true;
        break;
      case 'login':
        method = 'POST';
        target = '/api/v1/auth/login';
        status = r.chance(0.12) ? 401 : 200;
        bytesOut = status === 200 ? 1_180 : 61;
        bodyIn = r.int(60, 110);
        latency = r.logNormal(120, 0.3);
        break;
      case 'refresh':
        method = 'POST';
        target = '/api/v1/auth/refresh';
        bytesOut = 1_164;
        bodyIn = r.int(700, 760);
        latency = r.logNormal(35, 0.3);
        break;
      case 'inventory':
        target = `/api/v1/inventory?updated_since=${encodeURIComponent(isoTime(this.clock - 3_600_000, 0))}&page=${r.int(1, 40)}`;
        bytesOut = Math.round(r.logNormal(48_000, 0.3));
        latency = r.logNormal(140, 0.4);
        auth = true;
        break;
      default:
        method = 'POST';
        target = `/api/v1/webhooks/shipping/${r.hex(24)}`;
        status = 202;
        bytesOut = 2;
        bodyIn = r.int(400, 2000);
        auth = true;
        break;
    }
    // Gateway-wide outcomes: rate limits and upstream failures.
    if (r.chance(0.006)) status = 429;
    else if (r.chance(0.0015)) status = 500;
    else if (r.chance(0.002)) status = r.chance(0.8) ? 502 : 504;
    if (status === 429) bytesOut = 67;
    if (status >= 500) bytesOut = status === 500 ? 113 : 150;
    return { method, target, status, bytesOut, bodyIn, latency, contentType: json, auth };
  }

  /** A client made on the fly (scenario injectors: scanners, credential stuffers, scrapers). */
  adHocClient(kind: ClientKind, ip: string, ua: string, auth: string | null = null): Client {
    return {
      kind,
      ip,
      ua,
      auth,
      user: null,
      consumer: null,
      apiKey: null,
      deviceId: null,
      page: `https://${this.host}/`,
      h2: false,
    };
  }

  /** Sets the clock (scenario injectors); time must not go backwards for the main stream. */
  advance(ms: number): void {
    this.clock += ms;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Renderers

const q = (s: string | null): string => (s === null || s === '' ? '-' : s);

/** nginx / Apache combined. */
export function renderCombined(x: Req): string {
  return `${x.ip} - ${q(x.remoteUser)} [${clfTime(x.ts)}] "${x.method} ${x.target} ${x.protocol}" ${x.status} ${
    x.bytesOut
  } "${q(x.referer)}" "${x.userAgent}"`;
}

function splitTargetQuery(target: string): [string, string | null] {
  const i = target.indexOf('?');
  return i === -1 ? [target, null] : [target.slice(0, i), target.slice(i + 1)];
}

function queryObject(qs: string | null): Record<string, string> {
  const o: Record<string, string> = {};
  if (qs === null) return o;
  for (const part of qs.split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    const v = eq === -1 ? '' : part.slice(eq + 1);
    try {
      o[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      o[k] = v;
    }
  }
  return o;
}

function requestHeaders(x: Req): Record<string, string> {
  const h: Record<string, string> = {
    host: x.host,
    'user-agent': x.userAgent,
    accept: x.contentType.startsWith('application/json') ? 'application/json' : '*/*',
  };
  if (x.auth !== null) h.authorization = x.auth;
  if (x.apiKey !== null) h['x-api-key'] = x.apiKey;
  if (x.deviceId !== null) h['x-device-id'] = x.deviceId;
  if (x.referer !== null) h.referer = x.referer;
  if (x.method !== 'GET' && x.method !== 'DELETE') h['content-type'] = 'application/json';
  return h;
}

/** Apache APISIX http-logger / file-logger default log entry. */
export function renderApisix(x: Req): string {
  const [path, qs] = splitTargetQuery(x.target);
  const failed = x.upstreamFailed;
  const o: Record<string, unknown> = {
    client_ip: x.ip,
    start_time: x.ts,
    latency: x.latencyMs,
    upstream_latency: failed ? undefined : Math.floor(x.upstreamMs),
    apisix_latency: Math.round((x.latencyMs - (failed ? 0 : Math.floor(x.upstreamMs))) * 1000) / 1000,
    request: {
      method: x.method,
      uri: x.target,
      url: `https://${x.host}:443${x.target}`,
      size: x.bytesIn,
      querystring: queryObject(qs),
      headers: requestHeaders(x),
    },
    response: {
      status: x.status,
      size: x.bytesOut + 210,
      headers: {
        'content-type': x.contentType,
        'content-length': String(x.bytesOut),
        server: 'APISIX/3.9.1',
      },
    },
    upstream: failed ? undefined : x.upstream,
    route_id: path.startsWith('/api/') ? `${x.service}-v1` : 'web',
    service_id: x.service,
    server: { hostname: 'apisix-6c9d8f7b5d-q2kxn', version: '3.9.1' },
    consumer: x.consumer === null ? undefined : { username: x.consumer.replace(/-/g, '_') },
  };
  return JSON.stringify(o);
}

const KONG_WS = 'b7d7c1a6-2f7e-4d6b-9a0f-3c2e5d8f1a90';
const kongIds = new Map<string, string>();
function stableId(name: string): string {
  let id = kongIds.get(name);
  if (id === undefined) {
    const r = new Rng(
      [...name].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261),
    );
    id = r.uuid();
    kongIds.set(name, id);
  }
  return id;
}

/** Kong http-log / file-log entry (Kong 3.x). */
export function renderKong(x: Req): string {
  const [, qs] = splitTargetQuery(x.target);
  const failed = x.upstreamFailed;
  const up = Math.round(x.upstreamMs);
  const routeName = `${x.service}-api`;
  const [upIp, upPort] = x.upstream.split(':') as [string, string];
  const o: Record<string, unknown> = {
    request: {
      method: x.method,
      uri: x.target,
      url: `https://${x.host}:8443${x.target}`,
      size: x.bytesIn,
      querystring: queryObject(qs),
      headers: requestHeaders(x),
    },
    upstream_uri: x.target.replace('/api/v1/', '/v1/'),
    upstream_status: failed ? '' : String(x.status),
    response: {
      status: x.status,
      size: x.bytesOut + 340,
      headers: {
        'content-type': x.contentType,
        'content-length': String(x.bytesOut),
        via: '1.1 kong/3.6.1',
        'x-kong-upstream-latency': failed ? undefined : String(up),
        'x-kong-proxy-latency': String(Math.max(0, Math.round(x.latencyMs - up))),
      },
    },
    tries: failed ? [] : [{ ip: upIp, port: Number(upPort), balancer_latency: 0 }],
    route: { id: stableId(routeName), name: routeName },
    service: { id: stableId(x.service), name: x.service, host: `${x.service}.shop.svc`, port: 8080 },
    consumer: x.consumer === null ? undefined : { id: stableId(x.consumer), username: x.consumer },
    latencies: {
      request: Math.round(x.latencyMs),
      kong: Math.max(0, Math.round(x.latencyMs - up)),
      proxy: failed ? -1 : up,
      receive: 0,
    },
    client_ip: x.ip,
    started_at: x.ts,
    source: failed ? 'kong' : 'upstream',
    workspace: KONG_WS,
  };
  return JSON.stringify(o);
}

/**
 * Envoy JSON access log with the field set of Istio's default JSON format. The peer is the in-cluster load
 * balancer; the client is in X-Forwarded-For.
 */
export function renderEnvoy(x: Req): string {
  const failed = x.upstreamFailed;
  const lb = `10.0.${(x.port >> 8) & 3}.${10 + (x.port & 7)}`;
  const o: Record<string, unknown> = {
    start_time: isoTime(x.ts, 3),
    method: x.method,
    path: x.target,
    protocol: x.protocol,
    response_code: x.status,
    response_flags: x.status === 504 ? 'UT' : failed ? 'UF' : x.status === 429 ? 'RL' : '-',
    response_code_details: failed
      ? 'upstream_reset_before_response_started{connection_failure}'
      : 'via_upstream',
    bytes_received: Math.max(0, x.bytesIn - 400),
    bytes_sent: x.bytesOut,
    duration: Math.round(x.latencyMs),
    upstream_service_time: failed ? null : String(Math.round(x.upstreamMs)),
    x_forwarded_for: x.ip,
    user_agent: x.userAgent,
    request_id: `${x.requestId.slice(0, 8)}-${x.requestId.slice(8, 12)}-4${x.requestId.slice(13, 16)}-a${x.requestId.slice(17, 20)}-${x.requestId.slice(20, 32)}`,
    authority: x.host,
    upstream_host: failed ? null : x.upstream,
    upstream_cluster: `outbound|8080||${x.service}.shop.svc.cluster.local`,
    downstream_local_address: '10.20.9.4:8443',
    downstream_remote_address: `${lb}:${x.port}`,
    route_name: 'default',
  };
  if (x.referer !== null) o.referer = x.referer;
  return JSON.stringify(o);
}

/** Traefik v2/v3 JSON access log (logrus: keys sorted), with `User-Agent`, `Referer`, `Authorization` kept. */
export function renderTraefik(x: Req, count: number): string {
  const [path] = splitTargetQuery(x.target);
  const failed = x.upstreamFailed;
  const ns = Math.round(x.latencyMs * 1e6);
  const originNs = failed ? 0 : Math.round(x.upstreamMs * 1e6);
  const start = isoTime(x.ts, 9, x.subMs);
  const ipPort = x.ip.includes(':') ? `[${x.ip}]:${x.port}` : `${x.ip}:${x.port}`;
  const o: Record<string, unknown> = {
    ClientAddr: ipPort,
    ClientHost: x.ip,
    ClientPort: String(x.port),
    ClientUsername: '-',
    DownstreamContentSize: x.bytesOut,
    DownstreamStatus: x.status,
    Duration: ns,
    OriginContentSize: failed ? 0 : x.bytesOut,
    OriginDuration: originNs,
    OriginStatus: failed ? 0 : x.status,
    Overhead: ns - originNs,
    RequestAddr: x.host,
    RequestContentSize: Math.max(0, x.bytesIn - 400),
    RequestCount: count,
    RequestHost: x.host,
    RequestMethod: x.method,
    RequestPath: x.target,
    RequestPort: '-',
    RequestProtocol: x.protocol,
    RequestScheme: 'https',
    RetryAttempts: 0,
    RouterName: path.startsWith('/api/') ? `${x.service}-api@kubernetescrd` : 'web@kubernetescrd',
    ServiceAddr: failed ? undefined : x.upstream,
    ServiceName: `shop-${x.service}-8080@kubernetes`,
    ServiceURL: failed ? undefined : `http://${x.upstream}`,
    StartLocal: start,
    StartUTC: start,
    entryPointName: 'websecure',
    level: 'info',
    msg: '',
    request_Authorization: x.auth ?? undefined,
    request_Referer: x.referer ?? undefined,
    'request_User-Agent': x.userAgent,
    'request_X-Device-Id': x.deviceId ?? undefined,
    time: isoTime(x.ts + Math.round(x.latencyMs), 0),
  };
  return JSON.stringify(o);
}

const COLOS = ['FRA', 'AMS', 'LHR', 'CDG', 'IAD', 'EWR', 'SJC', 'NRT', 'SIN', 'WAW'];
const COUNTRIES = ['de', 'nl', 'gb', 'fr', 'us', 'us', 'us', 'jp', 'sg', 'pl', 'es', 'it', 'ca', 'br'];

/**
 * Cloudflare Logpush `http_requests` dataset: fields sorted (as the dashboard lists them), `unixnano`
 * timestamps (the Logpush API default), the RequestHeaders custom-field object.
 */
export function renderCloudflare(x: Req): string {
  const [path] = splitTargetQuery(x.target);
  const h = x.requestId.charCodeAt(0) + x.requestId.charCodeAt(1) * 7;
  const cached = x.target.startsWith('/static/') || x.target.startsWith('/images/');
  const headers: Record<string, string> = {};
  const startNs = x.ts * 1e6 + Math.floor(x.subMs * 1e6);
  if (x.auth !== null) headers.authorization = x.auth;
  if (x.apiKey !== null) headers['x-api-key'] = x.apiKey;
  if (x.deviceId !== null) headers['x-device-id'] = x.deviceId;
  const o: Record<string, unknown> = {
    CacheCacheStatus: cached ? (h % 10 < 8 ? 'hit' : 'miss') : 'dynamic',
    ClientCountry: COUNTRIES[h % COUNTRIES.length],
    ClientDeviceType:
      x.userAgent.includes('Mobile') || x.userAgent.includes('Android') ? 'mobile' : 'desktop',
    ClientIP: x.ip,
    ClientRequestBytes: x.bytesIn,
    ClientRequestHost: x.host,
    ClientRequestMethod: x.method,
    ClientRequestPath: path,
    ClientRequestProtocol: x.protocol === 'HTTP/2.0' ? 'HTTP/2' : 'HTTP/1.1',
    ClientRequestReferer: x.referer ?? '',
    ClientRequestURI: x.target,
    ClientRequestUserAgent: x.userAgent,
    ClientSSLProtocol: 'TLSv1.3',
    EdgeColoCode: COLOS[h % COLOS.length],
    EdgeEndTimestamp: startNs + Math.round(x.latencyMs * 1e6),
    EdgeResponseBytes: x.bytesOut + 380,
    EdgeResponseStatus: x.status,
    EdgeStartTimestamp: startNs,
    EdgeTimeToFirstByteMs: Math.round(x.latencyMs),
    OriginResponseDurationMs: x.upstreamFailed ? 0 : Math.round(x.upstreamMs),
    OriginResponseStatus: x.upstreamFailed ? 0 : x.status,
    RayID: `${x.requestId.slice(0, 16)}`,
    RequestHeaders: headers,
    SecurityAction: x.status === 429 ? 'block' : 'unknown',
    ZoneName: x.host.replace(/^api\./, ''),
  };
  return JSON.stringify(o);
}

const ALB_TG = 'arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/shop-api/73e2d6bc24d8a067';
const ALB_CERT = 'arn:aws:acm:eu-central-1:123456789012:certificate/3f2a8c1e-5b7d-4e19-9a0c-6d2b1f4e8a73';

/** AWS Application Load Balancer access log entry (HTTPS listener). */
export function renderAlb(x: Req): string {
  const failed = x.upstreamFailed;
  const end = x.ts + Math.round(x.latencyMs);
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const target = x.upstream;
  const tproc = failed ? '-1' : secs(x.upstreamMs);
  const tstatus = failed ? '-' : String(x.status);
  const traceTime = Math.floor(x.ts / 1000).toString(16);
  return `https ${isoTime(end, 6, x.subMs)} app/shop-prod/50dc6c495c0c9188 ${x.ip}:${x.port} ${target} 0.000 ${tproc} ${
    failed ? '-1' : '0.000'
  } ${x.status} ${tstatus} ${x.bytesIn} ${x.bytesOut + 300} "${x.method} https://${x.host}:443${x.target} ${
    x.protocol === 'HTTP/2.0' ? 'HTTP/2.0' : 'HTTP/1.1'
  }" "${x.userAgent}" TLS_AES_128_GCM_SHA256 TLSv1.3 ${ALB_TG} "Root=1-${traceTime}-${x.requestId.slice(0, 24)}" "${
    x.host
  }" "${ALB_CERT}" 0 ${isoTime(x.ts, 6, x.subMs)} "forward" "-" "${failed ? 'TargetConnectionErrorCode' : '-'}" "${target}" "${tstatus}" "-" "-" TID_${x.requestId}`;
}

/** Renders one request in `format`. `seq` is the 1-based request count (Traefik's RequestCount). */
export function render(format: GenFormat, x: Req, seq: number): string {
  switch (format) {
    case 'combined':
      return renderCombined(x);
    case 'apisix':
      return renderApisix(x);
    case 'kong':
      return renderKong(x);
    case 'envoy':
      return renderEnvoy(x);
    case 'traefik':
      return renderTraefik(x, seq);
    case 'cloudflare':
      return renderCloudflare(x);
    case 'alb':
      return renderAlb(x);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Producing lines

/** Request rate per format (lines per second of simulated time): gateways see more than a single nginx. */
const RATE: Record<GenFormat, number> = {
  combined: 250,
  apisix: 400,
  kong: 400,
  envoy: 600,
  traefik: 300,
  cloudflare: 800,
  alb: 500,
};

/** Batches of up to `batchLines` rendered lines (no newlines), generated lazily. */
export function* generateBatches(
  format: GenFormat,
  n: number,
  seed: number,
  batchLines = 512,
  traffic: Traffic = new Traffic({ seed, ratePerSec: RATE[format] }),
): Generator<string[]> {
  let seq = 0;
  while (seq < n) {
    const m = Math.min(batchLines, n - seq);
    const lines = new Array<string>(m);
    for (let i = 0; i < m; i++) lines[i] = render(format, traffic.next(), ++seq);
    yield lines;
  }
}

/** Chunks of text, each of up to `chunkLines` lines ending with `\n` (for files). */
export function* generateChunks(
  format: GenFormat,
  n: number,
  seed: number,
  chunkLines = 4096,
): Generator<string> {
  for (const lines of generateBatches(format, n, seed, chunkLines)) yield `${lines.join('\n')}\n`;
}

/**
 * Flat copies of a batch of lines: the batch is joined into one string and split again, as the file
 * reader's framer cuts lines out of a decoded chunk, so the lines are slices of a flat string rather than
 * the concatenation trees that rendering leaves (which a parser would flatten on first access).
 */
export function flatten(lines: string[]): string[] {
  return lines.join('\n').split('\n');
}

/** `n` lines of `format` (no newlines), deterministic for (format, n, seed). */
export function generateLines(format: GenFormat, n: number, seed: number): string[] {
  const out: string[] = [];
  for (const batch of generateBatches(format, n, seed)) {
    const flat = flatten(batch);
    for (let i = 0; i < flat.length; i++) out.push(flat[i]!);
  }
  return out;
}

/** Writes text chunks to a stream with back-pressure, then ends it. */
export async function writeChunks(out: Writable, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  await new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.end(() => resolve());
  });
}

/** Opens `path` for writing, gzip-compressed when it ends with `.gz`; resolves when the file is complete. */
export async function writeTextFile(path: string, chunks: Iterable<string>): Promise<void> {
  const file = createWriteStream(path);
  const finished = once(file, 'close');
  if (path.endsWith('.gz')) {
    const gz = createGzip({ level: 9 });
    gz.pipe(file);
    await writeChunks(gz, chunks);
  } else {
    await writeChunks(file, chunks);
  }
  await finished;
}

/** Streams `n` generated lines of `format` to a file (gzip when the name ends with `.gz`). Returns bytes of text. */
export async function writeLinesToFile(
  path: string,
  format: GenFormat,
  n: number,
  seed: number,
): Promise<number> {
  let bytes = 0;
  const counted = (function* () {
    for (const c of generateChunks(format, n, seed)) {
      bytes += Buffer.byteLength(c);
      yield c;
    }
  })();
  await writeTextFile(path, counted);
  return bytes;
}
