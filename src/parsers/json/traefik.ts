/**
 * Traefik access log in JSON (`accessLog.format: json`), one object per line:
 *
 *   {"ClientAddr":"10.0.0.12:51234","ClientHost":"10.0.0.12","ClientPort":"51234","ClientUsername":"-",
 *    "DownstreamContentSize":412,"DownstreamStatus":200,"Duration":18123456,"OriginContentSize":412,
 *    "OriginDuration":15000000,"OriginStatus":200,"Overhead":3123456,"RequestAddr":"api.example.com",
 *    "RequestContentSize":0,"RequestCount":42,"RequestHost":"api.example.com","RequestMethod":"GET",
 *    "RequestPath":"/v1/items?id=7","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"https",
 *    "RouterName":"api@docker","ServiceName":"api@docker","StartLocal":"…","StartUTC":"2024-03-05T10:11:12.345678901Z",
 *    "entryPointName":"websecure","level":"info","msg":"","time":"…",
 *    "request_User-Agent":"curl/8.5.0","request_X-Forwarded-For":"203.0.113.7","downstream_Content-Type":"application/json"}
 *
 * - `StartUTC` (RFC 3339 with nanoseconds) is the time; `StartLocal`, then logrus' `time` (the write time)
 *   are fallbacks.
 * - `ClientHost` is the peer (else `ClientAddr` without its port); `request_X-Forwarded-For` is resolved by
 *   the Normalizer against the trusted proxies.
 * - `RequestPath` is the request URI (path and query). `RequestAddr` (the Host header) or `RequestHost` is
 *   the host.
 * - `Duration` is nanoseconds. `RequestContentSize` / `DownstreamContentSize` are body bytes.
 * - `ClientUsername` (Basic auth / URL user) is the remote user.
 * - Every `request_<Header>` key is a request header, every `downstream_<Header>` key a response header
 *   (`origin_*` headers are the upstream's and are not read). Headers in Traefik's `redact` mode hold
 *   `REDACTED` and are skipped; by default Traefik drops headers, so most logs have only the core keys.
 *   Traefik writes Go's canonical header names (`request_X-Api-Key`): without header capture only the
 *   headers the Normalizer reads are looked up, by those names (a faster path than walking every key).
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import { stripPort } from '../../core/net.js';
import type { Normalizer } from '../../core/normalize.js';
import type { Malformed } from '../../core/result.js';
import type { FormatSpec, ParserContext } from '../types.js';
import {
  absent,
  agentFromHeaders,
  anyTime,
  badTime,
  detectJsonLines,
  headerValue,
  type JsonObject,
  JsonObjectParser,
  missing,
  num,
  REDACTED,
  str,
} from './common.js';

/** Request headers the Normalizer (and agentFromHeaders) read, besides the configured device / API-key ones. */
const NORMALIZER_HEADERS = [
  'host',
  'user-agent',
  'referer',
  'authorization',
  'x-forwarded-for',
  'x-real-ip',
  'cookie',
] as const;

/**
 * Go's canonical header key (textproto.CanonicalMIMEHeaderKey), which is how Traefik names the header fields:
 * `x-api-key` → `X-Api-Key`.
 */
export function canonicalHeaderKey(name: string): string {
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

export class TraefikParser extends JsonObjectParser {
  readonly format = 'traefik';
  /** `[request_<Canonical-Name>, lower-case name]` of every header the Normalizer reads; null with capture. */
  private readonly probes: [string, string][] | null;

  constructor(normalizer: Normalizer) {
    super(normalizer);
    const o = normalizer.options;
    this.probes = o.captureHeaders
      ? null
      : [...new Set([...NORMALIZER_HEADERS, o.deviceHeader, ...o.apiKeyHeaders])].map((n) => [
          `request_${canonicalHeaderKey(n)}`,
          n.toLowerCase(),
        ]);
  }

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const start = o.StartUTC ?? o.StartLocal ?? o.time;
    if (absent(start)) return missing('StartUTC');
    d.ts = anyTime(start);
    if (Number.isNaN(d.ts)) return badTime('StartUTC', start);
    let peer = str(o.ClientHost);
    if (peer === null || peer === '' || peer === '-') {
      const addr = str(o.ClientAddr);
      if (addr === null || addr === '' || addr === '-') return missing('ClientHost');
      peer = stripPort(addr);
    }
    const status = o.DownstreamStatus ?? o.OriginStatus;
    if (absent(status)) return missing('DownstreamStatus');

    d.peer = peer;
    d.status = num(status);
    d.method = str(o.RequestMethod);
    d.target = str(o.RequestPath);
    d.protocol = str(o.RequestProtocol);
    d.host = str(o.RequestAddr) ?? str(o.RequestHost);
    d.bytesIn = num(o.RequestContentSize);
    d.bytesOut = num(o.DownstreamContentSize);
    const ns = num(o.Duration);
    d.latencyMs = ns / 1e6;
    d.remoteUser = str(o.ClientUsername);
    let h: Record<string, string> | null = null;
    let rh: Record<string, string> | null = null;
    if (this.probes !== null) {
      // Without header capture only the headers the Normalizer reads matter: look them up by key instead of
      // walking every key of the entry.
      for (const [key, name] of this.probes) {
        const v = o[key];
        if (v === undefined) continue;
        const s = headerValue(name, v);
        if (s === null || s === REDACTED) continue;
        if (h === null) h = Object.create(null) as Record<string, string>;
        h[name] = s;
      }
    } else {
      for (const k in o) {
        const c = k.charCodeAt(0);
        // `request_…` and `downstream_…`: the lower-case prefixes never collide with the core keys.
        if (c === 114 /* r */ && k.startsWith('request_')) {
          const name = k.slice(8).toLowerCase();
          const v = headerValue(name, o[k]);
          if (v === null || v === REDACTED) continue;
          if (h === null) h = Object.create(null) as Record<string, string>;
          h[name] = v;
        } else if (c === 100 /* d */ && k.startsWith('downstream_')) {
          const name = k.slice(11).toLowerCase();
          const v = headerValue(name, o[k]);
          if (v === null || v === REDACTED) continue;
          if (rh === null) rh = Object.create(null) as Record<string, string>;
          rh[name] = v;
        }
      }
    }
    d.headers = h;
    d.responseHeaders = rh;
    agentFromHeaders(d);
    return this.normalizer.finalize(d, origin);
  }
}

/** A Traefik entry: start time, method, downstream status and the client. */
export function looksLikeTraefik(o: JsonObject): boolean {
  return (
    (o.StartUTC !== undefined || o.StartLocal !== undefined) &&
    o.RequestMethod !== undefined &&
    o.DownstreamStatus !== undefined &&
    (o.ClientHost !== undefined || o.ClientAddr !== undefined)
  );
}

export const traefikFormat: FormatSpec = {
  name: 'traefik',
  description: 'Traefik JSON access log (accessLog.format: json)',
  framing: 'line',
  create: (ctx: ParserContext) => new TraefikParser(ctx.normalizer),
  detect: (sample) => detectJsonLines(sample, looksLikeTraefik),
};
