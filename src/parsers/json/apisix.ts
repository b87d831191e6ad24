/**
 * Apache APISIX `http-logger` / `file-logger` (and the other loggers sharing apisix/utils/log-util.lua) with
 * their default, full log entry — one JSON object per line:
 *
 *   {"client_ip":"203.0.113.7","start_time":1709633472123,"latency":18.0,"upstream_latency":15,
 *    "apisix_latency":3.0,"request":{"method":"GET","uri":"/v1/items?id=7","url":"http://api.example.com:9080/v1/items?id=7",
 *    "headers":{"host":"api.example.com","user-agent":"curl/8.5.0"},"querystring":{"id":"7"},"size":112,"body":"…"},
 *    "response":{"status":200,"headers":{"content-type":"application/json"},"size":412,"body":"…"},
 *    "upstream":"10.0.3.4:8080","route_id":"1","service_id":"","consumer":{"username":"app_1"},
 *    "server":{"hostname":"gw-1","version":"3.9.0"}}
 *
 * - `client_ip` is the connecting peer (`$remote_addr`); X-Forwarded-For in `request.headers` is resolved by
 *   the Normalizer against the trusted proxies.
 * - `start_time` is epoch ms (a float); `latency` is the total in ms.
 * - `request.uri` is `$request_uri` (path and query); `request.url` is scheme://host:port + uri and is used
 *   only when there is no Host header. `querystring` repeats the query and is not read.
 * - `request.size` (`$request_length`) → bytesIn, `response.size` (`$bytes_sent`) → bytesOut: whole messages.
 * - `request.body` / `response.body` appear with include_req_body / include_resp_body.
 * - Header values are strings, or arrays for repeated headers.
 * - `upstream`, `route_id`, `service_id`, `server` have no place in the event and are not read.
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

export class ApisixParser extends JsonObjectParser {
  readonly format = 'apisix';

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const ip = str(o.client_ip);
    if (ip === null || ip === '') return missing('client_ip');
    const t = o.start_time;
    if (absent(t)) return missing('start_time');
    d.ts = anyTime(t);
    if (Number.isNaN(d.ts)) return badTime('start_time', t);
    const req = obj(o.request);
    if (req === null) return missing('request');
    const res = obj(o.response);
    if (res === null) return missing('response');
    const status = res.status;
    if (absent(status)) return missing('response.status');

    d.peer = ip;
    d.latencyMs = num(o.latency);
    d.method = str(req.method);
    adoptHeaders(d, req.headers, false);
    // Response headers only serve header capture.
    if (this.captureHeaders) adoptHeaders(d, res.headers, true);
    agentFromHeaders(d);
    // The Host header names the host; without one, the absolute `url` does.
    const uri = str(req.uri);
    d.target =
      uri !== null && d.headers !== null && d.headers.host !== undefined ? uri : (str(req.url) ?? uri);
    d.bytesIn = num(req.size);
    d.status = num(status);
    d.bytesOut = num(res.size);
    const consumer = obj(o.consumer);
    if (consumer !== null) d.consumer = str(consumer.username);
    if (this.bodies) {
      d.requestBody = bodyText(req.body);
      d.responseBody = bodyText(res.body);
    }
    return this.normalizer.finalize(d, origin);
  }
}

/** One APISIX full-log entry: the client, the epoch-ms start time and request/response objects. */
export function looksLikeApisix(o: JsonObject): boolean {
  return (
    o.client_ip !== undefined &&
    typeof o.start_time === 'number' &&
    obj(o.request) !== null &&
    obj(o.response) !== null
  );
}

export const apisixFormat: FormatSpec = {
  name: 'apisix',
  description: 'Apache APISIX http-logger / file-logger JSON lines (default full log entry)',
  framing: 'line',
  create: (ctx: ParserContext) => new ApisixParser(ctx.normalizer),
  detect: (sample) => detectJsonLines(sample, looksLikeApisix),
};
