/**
 * Parse-only throughput of the JSON presets (and ALB / HAR for reference): ~300,000 generated, realistic
 * lines per preset (500–1000 bytes, varied clients, paths, credentials), each through parseLine including
 * Normalizer.finalize; the best of three passes after a warm-up pass. Not a test (timings are never
 * asserted); run it after a build:
 *
 *   npm run build && node dist/src/parsers/json/throughput.js [lines] [apisix,kong,…]
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Origin } from '../src/core/event.js';
import { Normalizer } from '../src/core/normalize.js';
import { isMalformed } from '../src/core/result.js';
import { albFormat } from '../src/parsers/alb.js';
import { harFormat } from '../src/parsers/har.js';
import {
  apisixFormat,
  cloudflareFormat,
  envoyFormat,
  jsonMappingFormat,
  kongFormat,
  traefikFormat,
} from '../src/parsers/json/index.js';
import type { FormatSpec, LineParser } from '../src/parsers/types.js';

const N = Number(process.argv[2] ?? 300_000);
const T0 = 1_709_633_472_123;

/** Deterministic pseudo-random numbers, so every run parses the same lines. */
let seed = 42;
const rnd = (n: number): number => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed % n;
};
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWTS = Array.from(
  { length: 500 },
  (_, i) =>
    `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: `user-${i}`, iat: 1709600000 + i })}.${createHash('sha256').update(String(i)).digest('base64url')}`,
);
const CLIENTS = Array.from({ length: 2000 }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}`);
const PATHS = [
  '/v1/orders',
  '/v1/orders/{id}',
  '/v1/users/{id}/profile',
  '/v1/search',
  '/v2/products/{id}/reviews',
  '/v1/caf%C3%A9/{id}',
  '/health',
];
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];
const path = () => pick(PATHS).replace('{id}', String(rnd(100_000)));
const query = () => (rnd(3) === 0 ? '' : `?page=${rnd(20)}&sort=${pick(['asc', 'desc'])}&q=${rnd(9999)}`);
const auth = () => (rnd(4) === 0 ? {} : { authorization: `Bearer ${pick(JWTS)}` });
const reqId = () => `${rnd(1e9).toString(16)}-${rnd(1e9).toString(16)}-4c55-9a3e-${rnd(1e9).toString(16)}`;

export const GEN: Record<string, (i: number) => string> = {
  apisix: (i) => {
    const target = `${path()}${query()}`;
    return JSON.stringify({
      client_ip: rnd(5) === 0 ? '10.0.0.12' : pick(CLIENTS),
      start_time: T0 + i * 3,
      latency: rnd(20000) / 100,
      upstream_latency: rnd(150),
      apisix_latency: rnd(500) / 100,
      request: {
        method: pick(['GET', 'GET', 'POST', 'PUT']),
        uri: target,
        url: `https://api.example.com:9443${target}`,
        headers: {
          host: 'api.example.com',
          'user-agent': pick(UAS),
          accept: 'application/json',
          'x-forwarded-for': `${pick(CLIENTS)}, 10.0.0.5`,
          'x-request-id': reqId(),
          ...auth(),
        },
        querystring: {},
        size: 300 + rnd(500),
      },
      response: {
        status: pick([200, 200, 200, 201, 204, 404, 401, 500]),
        headers: { 'content-type': 'application/json', 'content-length': String(rnd(5000)) },
        size: 200 + rnd(5000),
      },
      upstream: '10.0.3.4:8080',
      route_id: 'orders',
      service_id: '',
      server: { hostname: 'gw-1', version: '3.9.0' },
    });
  },
  kong: (i) => {
    const target = `${path()}${query()}`;
    return JSON.stringify({
      client_ip: pick(CLIENTS),
      started_at: T0 + i * 3,
      latencies: { request: rnd(300), kong: rnd(5), proxy: rnd(290), receive: 0 },
      request: {
        id: reqId(),
        method: pick(['GET', 'GET', 'POST', 'DELETE']),
        uri: target,
        url: `https://api.example.com:8443${target}`,
        headers: {
          host: 'api.example.com',
          'user-agent': pick(UAS),
          apikey: `k-${rnd(300)}-7f3a9c2e51d04b88`,
          accept: '*/*',
        },
        querystring: {},
        size: 200 + rnd(600),
      },
      upstream_uri: target,
      response: {
        status: pick([200, 200, 201, 404, 429]),
        headers: { 'content-type': 'application/json', via: '1.1 kong/3.6.1' },
        size: 300 + rnd(6000),
      },
      authenticated_entity: { id: '4f8b1c3e-2a6d-4e9f-b7c1-0d5e8a9f3b21' },
      consumer: { id: 'a1b2c3d4-0000-4000-8000-000000000001', username: `app-${rnd(50)}` },
      route: { id: 'r-1', paths: ['/v1'], protocols: ['https'] },
      service: { id: 's-1', host: 'orders.internal', port: 8080, name: 'orders' },
      source: 'upstream',
    });
  },
  envoy: (i) =>
    JSON.stringify({
      start_time: new Date(T0 + i * 3).toISOString(),
      method: pick(['GET', 'GET', 'POST']),
      path: `${path()}${query()}`,
      protocol: 'HTTP/1.1',
      response_code: pick([200, 200, 201, 404, 503]),
      response_flags: '-',
      response_code_details: 'via_upstream',
      bytes_received: rnd(900),
      bytes_sent: rnd(9000),
      duration: rnd(400),
      upstream_service_time: String(rnd(390)),
      x_forwarded_for: pick(CLIENTS),
      user_agent: pick(UAS),
      request_id: reqId(),
      authority: 'shop.example.com',
      upstream_host: '10.1.2.3:8080',
      upstream_cluster: 'outbound|8080||shop.default.svc.cluster.local',
      downstream_remote_address: `10.8.0.${rnd(250)}:${40000 + rnd(20000)}`,
      downstream_local_address: '10.8.1.1:8080',
      route_name: 'default',
    }),
  traefik: (i) =>
    JSON.stringify({
      ClientAddr: `10.0.0.12:${40000 + rnd(20000)}`,
      ClientHost: '10.0.0.12',
      ClientPort: '51234',
      ClientUsername: '-',
      DownstreamContentSize: rnd(9000),
      DownstreamStatus: pick([200, 200, 304, 404]),
      Duration: rnd(300_000_000),
      OriginContentSize: rnd(9000),
      OriginDuration: rnd(290_000_000),
      OriginStatus: 200,
      RequestContentSize: rnd(500),
      RequestCount: i,
      RequestHost: 'api.example.com',
      RequestMethod: pick(['GET', 'POST']),
      RequestPath: `${path()}${query()}`,
      RequestPort: '-',
      RequestProtocol: 'HTTP/1.1',
      RequestScheme: 'https',
      RouterName: 'api@docker',
      ServiceName: 'api@docker',
      ServiceURL: 'http://10.0.3.4:8080',
      StartUTC: new Date(T0 + i * 3).toISOString().replace('Z', '123456Z'),
      entryPointName: 'websecure',
      level: 'info',
      msg: '',
      time: new Date(T0 + i * 3).toISOString(),
      'request_User-Agent': pick(UAS),
      'request_X-Forwarded-For': pick(CLIENTS),
      'downstream_Content-Type': 'application/json',
    }),
  cloudflare: (i) =>
    JSON.stringify({
      ClientIP: pick(CLIENTS),
      ClientRequestHost: 'api.example.com',
      ClientRequestMethod: pick(['GET', 'GET', 'POST']),
      ClientRequestURI: `${path()}${query()}`,
      ClientRequestProtocol: 'HTTP/2',
      ClientRequestUserAgent: pick(UAS),
      ClientRequestReferer: 'https://www.example.com/',
      ClientRequestBytes: 300 + rnd(2000),
      ClientCountry: 'de',
      ClientASN: 3320,
      EdgeResponseStatus: pick([200, 200, 301, 403, 404]),
      EdgeResponseBytes: rnd(9000),
      EdgeStartTimestamp: (T0 + i * 3) * 1e6,
      EdgeEndTimestamp: (T0 + i * 3 + rnd(300)) * 1e6,
      EdgeTimeToFirstByteMs: rnd(290),
      OriginResponseTime: rnd(280) * 1e6,
      RayID: `85f2c3a1b9${rnd(1e6).toString(16)}`,
      CacheCacheStatus: 'dynamic',
      SecurityAction: 'unknown',
    }),
  json: (i) =>
    JSON.stringify({
      time: new Date(T0 + i * 3).toISOString(),
      level: 'info',
      msg: 'request completed',
      remote: { ip: pick(CLIENTS), port: 40000 + rnd(20000) },
      req: {
        method: pick(['GET', 'POST']),
        url: `${path()}${query()}`,
        proto: 'HTTP/1.1',
        headers: { host: 'api.example.com', 'user-agent': pick(UAS), accept: 'application/json', ...auth() },
      },
      res: { code: pick([200, 200, 404]), bytes: rnd(9000) },
      took_ms: rnd(30000) / 100,
      trace_id: reqId(),
    }),
  alb: (i) => {
    const t = new Date(T0 + i * 3).toISOString();
    return `https ${t.replace('Z', '113Z')} app/prod-api/50dc6c495c0c9188 ${pick(CLIENTS)}:${40000 + rnd(20000)} 10.0.12.34:8080 0.001 0.0${rnd(99)} 0.000 200 200 ${rnd(900)} ${rnd(9000)} "GET https://api.example.com:443${path()}${query()} HTTP/1.1" "${pick(UAS)}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/73e2d6bc24d8a067 "Root=1-65e6f0a0-1d84f3d73c47ec4e58577259" "api.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 3 ${t} "forward" "-" "-" "10.0.12.34:8080" "200" "-" "-" TID_0a1b2c3d4e5f60718293a4b5c6d7e8f9`;
  },
};

export const MAPPING = {
  ts: 'time',
  ip: 'remote.ip',
  method: 'req.method',
  target: 'req.url',
  protocol: 'req.proto',
  status: 'res.code',
  bytesOut: 'res.bytes',
  latencyMs: 'took_ms',
  headers: 'req.headers',
};

const SPECS: [string, FormatSpec][] = [
  ['apisix', apisixFormat],
  ['kong', kongFormat],
  ['envoy', envoyFormat],
  ['traefik', traefikFormat],
  ['cloudflare', cloudflareFormat],
  ['json', jsonMappingFormat],
  ['alb', albFormat],
];

function run(name: string, spec: FormatSpec): void {
  const lines = Array.from({ length: N }, (_, i) => GEN[name]!(i));
  const bytes = lines.reduce((s, l) => s + l.length, 0);
  const parser = spec.create({ normalizer: new Normalizer(), jsonMapping: MAPPING }) as LineParser;
  const origin: Origin = { source: 'bench', line: 0 };
  let bad = 0;
  // A warm-up pass (JIT, inline caches), then the best of three timed passes of JSON.parse alone (the
  // floor) and of the whole parser.
  for (let i = 0; i < N; i++) parser.parseLine(lines[i]!, origin);
  let base = Number.POSITIVE_INFINITY;
  let s = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 3; pass++) {
    let t = process.hrtime.bigint();
    if (name !== 'alb') for (let i = 0; i < N; i++) JSON.parse(lines[i]!);
    base = Math.min(base, Number(process.hrtime.bigint() - t) / 1e9);
    bad = 0;
    t = process.hrtime.bigint();
    for (let i = 0; i < N; i++)
      if (isMalformed(parser.parseLine(lines[i]!, { source: 'bench', line: i + 1 }))) bad++;
    s = Math.min(s, Number(process.hrtime.bigint() - t) / 1e9);
  }
  const rate = (x: number) => Math.round(x).toLocaleString('en').padStart(10);
  console.log(
    `${name.padEnd(11)} ${rate(N / s)} lines/s  ${(bytes / N).toFixed(0)} B/line  ${(bytes / s / 1e6).toFixed(0)} MB/s` +
      `  (JSON.parse alone: ${name === 'alb' ? '         -' : rate(N / base)} lines/s)  malformed ${bad}`,
  );
}

function runHar(): void {
  const entries = Array.from({ length: 50_000 }, (_, i) => ({
    startedDateTime: new Date(T0 + i * 3).toISOString(),
    time: rnd(300),
    request: {
      method: 'GET',
      url: `https://api.example.com${path()}${query()}`,
      httpVersion: 'HTTP/1.1',
      headers: [
        { name: 'Host', value: 'api.example.com' },
        { name: 'User-Agent', value: pick(UAS) },
        { name: 'Authorization', value: `Bearer ${pick(JWTS)}` },
      ],
      queryString: [],
      cookies: [],
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: 200,
      headers: [{ name: 'Content-Type', value: 'application/json' }],
      content: { size: rnd(9000), mimeType: 'application/json' },
      bodySize: rnd(9000),
    },
    cache: {},
    timings: { send: 0, wait: 10, receive: 1 },
  }));
  const doc = JSON.stringify({ log: { version: '1.2', creator: { name: 'bench', version: '1' }, entries } });
  const p = harFormat.create({ normalizer: new Normalizer() });
  if (p.framing !== 'document') return;
  let n = 0;
  const t = process.hrtime.bigint();
  p.parseDocument(doc, 'bench.har', { event: () => n++, malformed: () => {} });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(
    `${'har'.padEnd(11)} ${Math.round(n / s)
      .toLocaleString('en')
      .padStart(10)} entries/s (one ${(doc.length / 1e6).toFixed(0)} MB document)`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(
    `node ${process.version}, ${N.toLocaleString('en')} lines per format, parse + finalize, one core`,
  );
  const only = process.argv[3]?.split(',');
  for (const [name, spec] of SPECS) if (only === undefined || only.includes(name)) run(name, spec);
  if (only === undefined || only.includes('har')) runHar();
}
