/**
 * Cloudflare Logpush, dataset `http_requests`, NDJSON output, one request per line:
 *
 *   {"ClientIP":"203.0.113.7","ClientRequestHost":"api.example.com","ClientRequestMethod":"GET",
 *    "ClientRequestURI":"/v1/items?id=7","ClientRequestProtocol":"HTTP/2","ClientRequestUserAgent":"curl/8.5.0",
 *    "ClientRequestReferer":"","ClientRequestBytes":1290,"EdgeResponseStatus":200,"EdgeResponseBytes":934,
 *    "EdgeStartTimestamp":"2024-03-05T10:11:12.345Z","EdgeEndTimestamp":"2024-03-05T10:11:12.363Z",
 *    "EdgeTimeToFirstByteMs":17,"OriginResponseTime":14000000,"RayID":"85f2c3a1b9e04d12",
 *    "RequestHeaders":{"x-device-id":"…"},"ResponseHeaders":{…},"Cookies":{…}}
 *
 * - Timestamps follow the job's `timestamp_format`: `unixnano` (integer ns, the classic default), `unix`
 *   (integer seconds), `rfc3339` / `rfc3339ms` / `rfc3339ns` (strings). All are accepted, also as numeric
 *   strings. `EdgeStartTimestamp` is the event time.
 * - Latency: `EdgeEndTimestamp − EdgeStartTimestamp` when both carry sub-second precision (`unixnano`,
 *   `rfc3339ms/ns`); otherwise `EdgeTimeToFirstByteMs`; otherwise `OriginResponseTime` (ns).
 * - `ClientIP` is the client as Cloudflare's edge saw it; a forwarded-for header among the custom
 *   `RequestHeaders` fields only counts when ClientIP is a trusted proxy.
 * - `ClientRequestURI` is path and query (`ClientRequestPath` is the fallback).
 * - `ClientRequestBytes` → bytesIn, `EdgeResponseBytes` → bytesOut (whole messages).
 * - `RequestHeaders`, `ResponseHeaders` and `Cookies` are the optional custom-field objects.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import type { Malformed } from '../../core/result.js';
import type { FormatSpec, ParserContext } from '../types.js';
import {
  absent,
  adoptHeaders,
  badTime,
  detectJsonLines,
  IsoTimeParser,
  type JsonObject,
  JsonObjectParser,
  missing,
  num,
  obj,
  str,
} from './common.js';

const DIGITS = /^\d+(?:\.\d+)?$/;

/**
 * Epoch time in fractional ms (no rounding, so an end − start difference keeps its precision), and whether
 * the value has sub-second precision. NaN when invalid.
 */
function edgeTime(v: unknown, out: { precise: boolean }, iso: IsoTimeParser): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && v.length > 0) {
    if (v.charCodeAt(4) === 45 /* - */) {
      out.precise = v.indexOf('.') !== -1;
      return iso.parse(v);
    }
    if (!DIGITS.test(v)) return Number.NaN;
    n = Number(v);
  } else return Number.NaN;
  if (!Number.isFinite(n) || n <= 0) return Number.NaN;
  // Magnitudes as in epochToMs: s < 1e11 ≤ ms < 1e14 ≤ µs < 1e17 ≤ ns.
  out.precise = n >= 1e11 || !Number.isInteger(n);
  if (n < 1e11) return n * 1000;
  if (n < 1e14) return n;
  if (n < 1e17) return n / 1000;
  return n / 1e6;
}

export class CloudflareParser extends JsonObjectParser {
  readonly format = 'cloudflare';
  private readonly startInfo = { precise: false };
  private readonly endInfo = { precise: false };
  private readonly startIso = new IsoTimeParser();
  private readonly endIso = new IsoTimeParser();

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const ip = str(o.ClientIP);
    if (ip === null || ip === '') return missing('ClientIP');
    if (absent(o.EdgeStartTimestamp)) return missing('EdgeStartTimestamp');
    this.startInfo.precise = false;
    const start = edgeTime(o.EdgeStartTimestamp, this.startInfo, this.startIso);
    if (Number.isNaN(start)) return badTime('EdgeStartTimestamp', o.EdgeStartTimestamp);
    if (absent(o.EdgeResponseStatus)) return missing('EdgeResponseStatus');

    d.ts = Math.round(start);
    d.peer = ip;
    d.status = num(o.EdgeResponseStatus);
    d.method = str(o.ClientRequestMethod);
    d.target = str(o.ClientRequestURI) ?? str(o.ClientRequestPath);
    d.host = str(o.ClientRequestHost);
    d.protocol = str(o.ClientRequestProtocol);
    d.userAgent = str(o.ClientRequestUserAgent);
    d.referer = str(o.ClientRequestReferer);
    d.bytesIn = num(o.ClientRequestBytes);
    d.bytesOut = num(o.EdgeResponseBytes);

    this.endInfo.precise = false;
    const end = absent(o.EdgeEndTimestamp)
      ? Number.NaN
      : edgeTime(o.EdgeEndTimestamp, this.endInfo, this.endIso);
    if (this.startInfo.precise && this.endInfo.precise && end >= start) {
      d.latencyMs = Math.round((end - start) * 1000) / 1000;
    } else if (!absent(o.EdgeTimeToFirstByteMs)) {
      d.latencyMs = num(o.EdgeTimeToFirstByteMs);
    } else if (!absent(o.OriginResponseTime)) {
      d.latencyMs = num(o.OriginResponseTime) / 1e6;
    }

    adoptHeaders(d, o.RequestHeaders, false);
    if (this.captureHeaders) adoptHeaders(d, o.ResponseHeaders, true);
    const cookies = obj(o.Cookies);
    if (cookies !== null) {
      for (const k in cookies) {
        const v = str(cookies[k]);
        if (v === null) continue;
        if (d.cookies === null) d.cookies = Object.create(null) as Record<string, string>;
        d.cookies[k] = v;
      }
    }
    return this.normalizer.finalize(d, origin);
  }
}

/** A Logpush http_requests record: client IP, edge start time and edge status. */
export function looksLikeCloudflare(o: JsonObject): boolean {
  return o.ClientIP !== undefined && o.EdgeStartTimestamp !== undefined && o.EdgeResponseStatus !== undefined;
}

export const cloudflareFormat: FormatSpec = {
  name: 'cloudflare',
  description: 'Cloudflare Logpush http_requests dataset (NDJSON)',
  framing: 'line',
  create: (ctx: ParserContext) => new CloudflareParser(ctx.normalizer),
  detect: (sample) => detectJsonLines(sample, looksLikeCloudflare),
};
