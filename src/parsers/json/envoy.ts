/**
 * Envoy JSON access logs (`json_format`) with the fields of Envoy's default format under their usual
 * snake_case names — which are also Istio's default JSON access log (`meshConfig.accessLogEncoding: JSON`):
 *
 *   {"start_time":"2024-03-05T10:11:12.345Z","method":"GET","path":"/v1/items?id=7","protocol":"HTTP/1.1",
 *    "response_code":200,"response_flags":"-","bytes_received":0,"bytes_sent":412,"duration":18,
 *    "upstream_service_time":"15","x_forwarded_for":"203.0.113.7","user_agent":"curl/8.5.0",
 *    "request_id":"…","authority":"api.example.com","upstream_host":"10.0.3.4:8080",
 *    "downstream_remote_address":"10.0.0.12:51234"}
 *
 * - `start_time` is `%START_TIME%` (ISO 8601); an epoch number (`%START_TIME(%s)%` etc.) is accepted too.
 * - `path` is `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`: path and query.
 * - The peer is `downstream_remote_address` (`ip:port`, `[v6]:port`), else
 *   `downstream_direct_remote_address`; `x_forwarded_for` is resolved against the trusted proxies by the
 *   Normalizer. Envoy's default format has no peer at all: then the X-Forwarded-For chain alone decides,
 *   and a line with neither is `missing_field`.
 * - `duration` is ms; `bytes_received` / `bytes_sent` are body bytes. Envoy writes absent values as `null`
 *   in JSON (or `-` when a text format was converted): both mean absent.
 * - `authority` is the Host; `user_agent` and `referer` (when configured) fill their event fields. The log
 *   has no header map, so header capture has nothing to keep. `response_code` 0 means no response was sent.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import { stripPort } from '../../core/net.js';
import type { Malformed } from '../../core/result.js';
import type { FormatSpec, ParserContext } from '../types.js';
import {
  absent,
  anyTime,
  badTime,
  countKeys,
  detectJsonLines,
  type JsonObject,
  JsonObjectParser,
  missing,
  num,
  str,
} from './common.js';

export class EnvoyParser extends JsonObjectParser {
  readonly format = 'envoy';

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    if (absent(o.start_time)) return missing('start_time');
    d.ts = anyTime(o.start_time);
    if (Number.isNaN(d.ts)) return badTime('start_time', o.start_time);
    if (absent(o.response_code)) return missing('response_code');
    const peer = str(o.downstream_remote_address) ?? str(o.downstream_direct_remote_address);
    const xff = str(o.x_forwarded_for);
    if ((peer === null || peer === '-' || peer === '') && (xff === null || xff === '-' || xff === '')) {
      return missing('downstream_remote_address');
    }
    d.peer = peer === null || peer === '-' ? '' : stripPort(peer);
    d.status = num(o.response_code);
    d.method = str(o.method);
    d.target = str(o.path);
    d.protocol = str(o.protocol);
    d.bytesIn = num(o.bytes_received);
    d.bytesOut = num(o.bytes_sent);
    d.latencyMs = num(o.duration);
    d.host = str(o.authority);
    d.forwardedFor = xff;
    d.userAgent = str(o.user_agent);
    d.referer = str(o.referer);
    return this.normalizer.finalize(d, origin);
  }
}

const ENVOY_KEYS = [
  'response_flags',
  'upstream_host',
  'downstream_remote_address',
  'bytes_received',
  'bytes_sent',
  'authority',
  'x_forwarded_for',
  'duration',
  'upstream_cluster',
] as const;

/** An Envoy/Istio entry: start time, response code, and at least three of the default format's other keys. */
export function looksLikeEnvoy(o: JsonObject): boolean {
  return typeof o.start_time === 'string' && o.response_code !== undefined && countKeys(o, ENVOY_KEYS) >= 3;
}

export const envoyFormat: FormatSpec = {
  name: 'envoy',
  description: 'Envoy / Istio JSON access log (default format fields: start_time, response_code, …)',
  framing: 'line',
  create: (ctx: ParserContext) => new EnvoyParser(ctx.normalizer),
  detect: (sample) => detectJsonLines(sample, looksLikeEnvoy),
};
