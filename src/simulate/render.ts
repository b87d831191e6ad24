/**
 * Renderers: one request record (`Req`) written the way each product logs it. The simulator writes every
 * request in each chosen format from the same record (line i is the same request in every file); the
 * benchmarks' line generators (bench/gen.ts) use the same renderers.
 *
 *   combined    nginx / Apache "combined"
 *   apisix      Apache APISIX http-logger / file-logger default entry (bodies with include_req/resp_body)
 *   kong        Kong kong.log.serialize() (http-log / file-log; Kong 3 writes REDACTED for Authorization)
 *   envoy       Envoy JSON access log (Istio's default field set; the client in X-Forwarded-For)
 *   traefik     Traefik JSON access log (request headers kept)
 *   cloudflare  Cloudflare Logpush http_requests (RequestHeaders custom field)
 *   alb         AWS Application Load Balancer access log (text)
 */
import { Rng } from './random.js';

export const RENDER_FORMATS = [
  'combined',
  'apisix',
  'kong',
  'envoy',
  'traefik',
  'cloudflare',
  'alb',
] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

export const isRenderFormat = (s: string): s is RenderFormat =>
  (RENDER_FORMATS as readonly string[]).includes(s);

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
  /** Request / response bodies, for formats that log them (APISIX with include_req_body / include_resp_body). */
  requestBody?: string | null;
  responseBody?: string | null;
}

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
      body: x.requestBody ?? undefined,
    },
    response: {
      status: x.status,
      size: x.bytesOut + 210,
      body: x.responseBody ?? undefined,
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

/**
 * Kong http-log / file-log entry (Kong 3.x). Kong 3 writes `REDACTED` for the Authorization header; with
 * `redactAuth` false the raw value is logged (older Kong, or a custom serializer).
 */
export function renderKong(x: Req, redactAuth = false): string {
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
      headers:
        redactAuth && x.auth !== null
          ? { ...requestHeaders(x), authorization: 'REDACTED' }
          : requestHeaders(x),
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

/**
 * Renders one request in `format`. `seq` is the 1-based request count (Traefik's RequestCount); `kongRedact`
 * makes Kong log `REDACTED` for Authorization, as Kong 3 does.
 */
export function render(format: RenderFormat, x: Req, seq: number, kongRedact = false): string {
  switch (format) {
    case 'combined':
      return renderCombined(x);
    case 'apisix':
      return renderApisix(x);
    case 'kong':
      return renderKong(x, kongRedact);
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
