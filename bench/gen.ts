/**
 * Deterministic generators of realistic access-log lines, for the parse benchmark and the bundled sample
 * (bench/make-sample.ts).
 *
 * One traffic model (`Traffic`: a shop with a web front end and a JSON API, browsers, mobile apps, scripts,
 * partner integrations, crawlers and monitors) yields `Req` records in time order, fast and stateless (no
 * sessions, no labels: what a parser benchmark needs). The renderers that write a record in each product's
 * layout, the seeded randomness and the vocabulary are the simulator's (src/simulate/), so the benchmark
 * parses exactly the kind of lines `apiwarden simulate` writes:
 *
 *   combined ~220 B/line, apisix ~850, kong ~1160, envoy ~740, traefik ~1100, cloudflare ~950, alb ~700.
 *
 * Everything is seeded (mulberry32), so the same (format, n, seed) always gives the same lines.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { mulberry32, Rng } from '../src/simulate/random.js';
import {
  clfTime,
  isoTime,
  isRenderFormat,
  makeJwt,
  RENDER_FORMATS,
  type RenderFormat,
  type Req,
  render,
  renderCombined,
} from '../src/simulate/render.js';
import { randomIpv4, randomIpv6, UA } from '../src/simulate/vocab.js';

export {
  clfTime,
  isoTime,
  makeJwt,
  mulberry32,
  type Req,
  Rng,
  randomIpv4,
  randomIpv6,
  render,
  renderCombined,
  UA,
};

export const GEN_FORMATS = RENDER_FORMATS;
export type GenFormat = RenderFormat;
export const isGenFormat = isRenderFormat;

// ---------------------------------------------------------------------------------------------------------
// Vocabulary (user agents, addresses, JWTs and time formats are shared with the simulator: src/simulate/)

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
