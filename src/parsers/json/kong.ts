/**
 * Kong Gateway `file-log` / `http-log` / `tcp-log` / `udp-log` / `syslog`: the output of `kong.log.serialize()`,
 * one JSON object per line:
 *
 *   {"client_ip":"203.0.113.7","started_at":1709633472123,
 *    "latencies":{"request":21,"kong":2,"proxy":18,"receive":0},
 *    "request":{"method":"GET","uri":"/v1/items?id=7","url":"https://api.example.com:8443/v1/items?id=7",
 *      "headers":{"host":"api.example.com","authorization":"REDACTED"},"querystring":{"id":"7"},"size":143,"id":"…"},
 *    "response":{"status":200,"headers":{"content-type":"application/json"},"size":934},
 *    "upstream_uri":"/items?id=7","authenticated_entity":{"id":"<credential id>"},
 *    "consumer":{"username":"mobile-app","custom_id":"app-7","id":"…"},"route":{…},"service":{…},"tries":[…]}
 *
 * - `client_ip` is `$remote_addr`; X-Forwarded-For in `request.headers` is resolved by the Normalizer.
 * - `started_at` is epoch ms; `latencies.request` is the total request time in ms (`kong` and `proxy` are
 *   parts of it).
 * - `request.uri` is the request URI with query (Kong ≥ 0.x; very old versions logged the full URL as
 *   `request_uri`); `request.url` is used only when there is no Host header.
 * - `request.size` / `response.size` are `$request_length` / `$bytes_sent` (whole messages); very old Kong
 *   printed them as strings.
 * - The user is the consumer (`username`, else `custom_id`, else `id`); without a consumer object,
 *   `authenticated_entity.consumer_id`. `authenticated_entity.id` is a credential id, not a user.
 * - Kong ≥ 3 writes `REDACTED` for the Authorization / Proxy-Authorization headers: such values are skipped.
 *   Request/response bodies appear only when a custom serializer adds `request.body` / `response.body`.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import type { Malformed } from '../../core/result.js';
import type { FormatSpec, ParserContext } from '../types.js';
import {
  absent,
  adoptHeaders,
  agentFromHeaders,
  anyTime,
  badTime,
  bodyText,
  detectJsonLines,
  type JsonObject,
  JsonObjectParser,
  missing,
  num,
  obj,
  str,
} from './common.js';

export class KongParser extends JsonObjectParser {
  readonly format = 'kong';

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const ip = str(o.client_ip);
    if (ip === null || ip === '') return missing('client_ip');
    const t = o.started_at;
    if (absent(t)) return missing('started_at');
    d.ts = anyTime(t);
    if (Number.isNaN(d.ts)) return badTime('started_at', t);
    const req = obj(o.request);
    if (req === null) return missing('request');
    const res = obj(o.response);
    if (res === null) return missing('response');
    const status = res.status;
    if (absent(status)) return missing('response.status');

    d.peer = ip;
    const lat = obj(o.latencies);
    if (lat !== null) d.latencyMs = num(lat.request);
    d.method = str(req.method);
    adoptHeaders(d, req.headers, false);
    // Response headers only serve header capture.
    if (this.captureHeaders) adoptHeaders(d, res.headers, true);
    agentFromHeaders(d);
    const uri = str(req.uri);
    const url = str(req.url) ?? str(req.request_uri);
    d.target =
      url !== null && (uri === null || d.headers === null || d.headers.host === undefined) ? url : uri;
    d.bytesIn = num(req.size);
    d.status = num(status);
    d.bytesOut = num(res.size);

    const consumer = obj(o.consumer);
    if (consumer !== null) {
      d.consumer = nonEmpty(str(consumer.username)) ?? nonEmpty(str(consumer.custom_id)) ?? str(consumer.id);
    } else {
      const entity = obj(o.authenticated_entity);
      if (entity !== null) d.consumer = str(entity.consumer_id);
    }
    if (this.bodies) {
      d.requestBody = bodyText(req.body);
      d.responseBody = bodyText(res.body);
    }
    return this.normalizer.finalize(d, origin);
  }
}

const nonEmpty = (s: string | null): string | null => (s === '' ? null : s);

/** One Kong serialized entry: the client, `started_at`, `latencies` and request/response objects. */
export function looksLikeKong(o: JsonObject): boolean {
  return (
    o.client_ip !== undefined &&
    o.started_at !== undefined &&
    obj(o.latencies) !== null &&
    obj(o.request) !== null &&
    obj(o.response) !== null
  );
}

export const kongFormat: FormatSpec = {
  name: 'kong',
  description: 'Kong Gateway file-log / http-log JSON lines (kong.log.serialize)',
  framing: 'line',
  create: (ctx: ParserContext) => new KongParser(ctx.normalizer),
  detect: (sample) => detectJsonLines(sample, looksLikeKong),
};
