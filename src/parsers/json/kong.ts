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
 * - `request.uri` is the request REQ_URI with query (Kong ≥ 0.x; very old versions logged the full REQ_URL as
 *   `request_uri`); `request.url` is used only when there is no Host header.
 * - `request.size` / `response.size` are `$request_length` / `$bytes_sent` (whole messages); very old Kong
 *   printed them as strings.
 * - The user is the consumer (`username`, else `custom_id`, else `id`); without a consumer object,
 *   `authenticated_entity.consumer_id`. `authenticated_entity.id` is a credential id, not a user.
 * - Kong ≥ 3 writes `REDACTED` for the Authorization / Proxy-Authorization headers: such values are skipped.
 *   Request/response bodies appear only when a custom serializer adds `request.body` / `response.body`.
 * - Lines are scanned for just these fields (scan.ts): `route`, `service`, `tries` and the rest are validated
 *   but never built. Without header capture only the request headers the Normalizer reads are kept.
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
const STARTED_AT = 1;
const LATENCIES = 2;
const LAT_REQUEST = 3;
const REQUEST = 4;
const METHOD = 5;
const REQ_URI = 6;
const REQ_URL = 7;
const REQUEST_URI = 8;
const REQ_SIZE = 9;
const REQ_HEADERS = 10;
const REQ_BODY = 11;
const RESPONSE = 12;
const STATUS = 13;
const RES_SIZE = 14;
const RES_HEADERS = 15;
const RES_BODY = 16;
const CONSUMER = 17;
const USERNAME = 18;
const CUSTOM_ID = 19;
const CONSUMER_ID = 20;
const ENTITY = 21;
const ENTITY_CONSUMER_ID = 22;

export class KongParser extends PickedJsonParser {
  readonly format = 'kong';
  protected readonly pick: JsonPick;

  constructor(normalizer: Normalizer) {
    super(normalizer);
    // Without header capture only the request headers the Normalizer reads are kept; response headers and
    // bodies are not read at all unless they are captured. `route`, `service`, `tries`, `querystring` and
    // the rest are skipped.
    const capture = this.captureHeaders;
    this.pick = new JsonPick({
      client_ip: CLIENT_IP,
      started_at: STARTED_AT,
      latencies: [LATENCIES, { request: LAT_REQUEST }],
      request: [
        REQUEST,
        {
          method: METHOD,
          uri: REQ_URI,
          url: REQ_URL,
          request_uri: REQUEST_URI,
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
      consumer: [CONSUMER, { username: USERNAME, custom_id: CUSTOM_ID, id: CONSUMER_ID }],
      authenticated_entity: [ENTITY, { consumer_id: ENTITY_CONSUMER_ID }],
    });
  }

  protected fromPicked(v: Picked, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const ip = str(v[CLIENT_IP]);
    if (ip === null || ip === '') return missing('client_ip');
    const t = v[STARTED_AT];
    if (absent(t)) return missing('started_at');
    d.ts = anyTime(t);
    if (Number.isNaN(d.ts)) return badTime('started_at', t);
    if (v[REQUEST] !== OBJECT) return missing('request');
    if (v[RESPONSE] !== OBJECT) return missing('response');
    const status = v[STATUS];
    if (absent(status)) return missing('response.status');

    d.peer = ip;
    if (v[LATENCIES] === OBJECT) d.latencyMs = num(v[LAT_REQUEST]);
    d.method = str(v[METHOD]);
    pickedHeaders(d, v[REQ_HEADERS], false);
    // Response headers only serve header capture.
    if (this.captureHeaders) adoptHeaders(d, v[RES_HEADERS], true);
    agentFromHeaders(d);
    const uri = str(v[REQ_URI]);
    const url = str(v[REQ_URL]) ?? str(v[REQUEST_URI]);
    d.target =
      url !== null && (uri === null || d.headers === null || d.headers.host === undefined) ? url : uri;
    d.bytesIn = num(v[REQ_SIZE]);
    d.status = num(status);
    d.bytesOut = num(v[RES_SIZE]);

    if (v[CONSUMER] === OBJECT) {
      d.consumer = nonEmpty(str(v[USERNAME])) ?? nonEmpty(str(v[CUSTOM_ID])) ?? str(v[CONSUMER_ID]);
    } else if (v[ENTITY] === OBJECT) {
      d.consumer = str(v[ENTITY_CONSUMER_ID]);
    }
    if (this.bodies) {
      d.requestBody = bodyText(v[REQ_BODY]);
      d.responseBody = bodyText(v[RES_BODY]);
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
