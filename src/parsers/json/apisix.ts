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
 * - Lines are scanned for just these fields (scan.ts): the rest is validated but never built. Without header
 *   capture only the request headers the Normalizer reads are kept.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import type { Normalizer } from '../../core/normalize.js';
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
  missing,
  num,
  obj,
  PickedJsonParser,
  pickedHeaders,
  REDACTED,
  readHeaderNames,
  str,
} from './common.js';
import { JsonPick, OBJECT, type Picked, StringMapSpec } from './scan.js';

// Slots of the values the parser reads (its JsonPick spec names the keys).
const CLIENT_IP = 0;
const START_TIME = 1;
const LATENCY = 2;
const REQUEST = 3;
const METHOD = 4;
const REQ_URI = 5;
const REQ_URL = 6;
const REQ_SIZE = 7;
const REQ_HEADERS = 8;
const REQ_BODY = 9;
const RESPONSE = 10;
const STATUS = 11;
const RES_SIZE = 12;
const RES_HEADERS = 13;
const RES_BODY = 14;
const CONSUMER = 15;
const USERNAME = 16;

export class ApisixParser extends PickedJsonParser {
  readonly format = 'apisix';
  protected readonly pick: JsonPick;

  constructor(normalizer: Normalizer) {
    super(normalizer);
    // Without header capture only the request headers the Normalizer reads are kept; response headers and
    // bodies are not read at all unless they are captured.
    const capture = this.captureHeaders;
    this.pick = new JsonPick({
      client_ip: CLIENT_IP,
      start_time: START_TIME,
      latency: LATENCY,
      request: [
        REQUEST,
        {
          method: METHOD,
          uri: REQ_URI,
          url: REQ_URL,
          size: REQ_SIZE,
          headers: capture
            ? REQ_HEADERS
            : new StringMapSpec(REQ_HEADERS, readHeaderNames(normalizer.options), REDACTED),
          ...(this.bodies ? { body: REQ_BODY } : {}),
        },
      ],
      response: [
        RESPONSE,
        {
          status: STATUS,
          size: RES_SIZE,
          ...(capture ? { headers: RES_HEADERS } : {}),
          ...(this.bodies ? { body: RES_BODY } : {}),
        },
      ],
      consumer: [CONSUMER, { username: USERNAME }],
    });
  }

  protected fromPicked(v: Picked, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const ip = str(v[CLIENT_IP]);
    if (ip === null || ip === '') return missing('client_ip');
    const t = v[START_TIME];
    if (absent(t)) return missing('start_time');
    d.ts = anyTime(t);
    if (Number.isNaN(d.ts)) return badTime('start_time', t);
    if (v[REQUEST] !== OBJECT) return missing('request');
    if (v[RESPONSE] !== OBJECT) return missing('response');
    const status = v[STATUS];
    if (absent(status)) return missing('response.status');

    d.peer = ip;
    d.latencyMs = num(v[LATENCY]);
    d.method = str(v[METHOD]);
    pickedHeaders(d, v[REQ_HEADERS], false);
    // Response headers only serve header capture.
    if (this.captureHeaders) adoptHeaders(d, v[RES_HEADERS], true);
    agentFromHeaders(d);
    // The Host header names the host; without one, the absolute `url` does.
    const uri = str(v[REQ_URI]);
    d.target =
      uri !== null && d.headers !== null && d.headers.host !== undefined ? uri : (str(v[REQ_URL]) ?? uri);
    d.bytesIn = num(v[REQ_SIZE]);
    d.status = num(status);
    d.bytesOut = num(v[RES_SIZE]);
    if (v[CONSUMER] === OBJECT) d.consumer = str(v[USERNAME]);
    if (this.bodies) {
      d.requestBody = bodyText(v[REQ_BODY]);
      d.responseBody = bodyText(v[RES_BODY]);
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
