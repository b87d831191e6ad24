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
 *   headers the Normalizer reads are looked up, by those names.
 * - Without header capture lines are scanned for just the core keys and those header keys (scan.ts); the
 *   rest is validated but never built. Header capture needs every `request_…` / `downstream_…` key, which
 *   no fixed list names: then lines go through JSON.parse and the keys are walked.
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
  missing,
  num,
  PickedJsonParser,
  REDACTED,
  readHeaderNames,
  str,
} from './common.js';
import { JsonPick, type Picked, type PickSpec } from './scan.js';

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

// Slots of the values the parser reads (its JsonPick spec names the keys); header probes follow them.
const START_UTC = 0;
const START_LOCAL = 1;
const TIME = 2;
const CLIENT_HOST = 3;
const CLIENT_ADDR = 4;
const DOWNSTREAM_STATUS = 5;
const ORIGIN_STATUS = 6;
const METHOD = 7;
const PATH = 8;
const PROTOCOL = 9;
const REQUEST_ADDR = 10;
const REQUEST_HOST = 11;
const REQUEST_SIZE = 12;
const DOWNSTREAM_SIZE = 13;
const DURATION = 14;
const USERNAME = 15;
const FIRST_PROBE = 16;

const CORE: PickSpec = {
  StartUTC: START_UTC,
  StartLocal: START_LOCAL,
  time: TIME,
  ClientHost: CLIENT_HOST,
  ClientAddr: CLIENT_ADDR,
  DownstreamStatus: DOWNSTREAM_STATUS,
  OriginStatus: ORIGIN_STATUS,
  RequestMethod: METHOD,
  RequestPath: PATH,
  RequestProtocol: PROTOCOL,
  RequestAddr: REQUEST_ADDR,
  RequestHost: REQUEST_HOST,
  RequestContentSize: REQUEST_SIZE,
  DownstreamContentSize: DOWNSTREAM_SIZE,
  Duration: DURATION,
  ClientUsername: USERNAME,
};

export class TraefikParser extends PickedJsonParser {
  readonly format = 'traefik';
  protected readonly pick: JsonPick;
  /**
   * `[request_<Canonical-Name>, lower-case name]` of every header the Normalizer reads, in slots from
   * FIRST_PROBE on; null with capture.
   */
  private readonly probes: [string, string][] | null;

  constructor(normalizer: Normalizer) {
    super(normalizer);
    if (this.captureHeaders) {
      // Header capture keeps every `request_…` / `downstream_…` key, which no fixed spec can name.
      this.probes = null;
      this.scanLines = false;
      this.pick = new JsonPick(CORE);
    } else {
      const probes = new Map<string, string>();
      for (const n of readHeaderNames(normalizer.options)) {
        const key = `request_${canonicalHeaderKey(n)}`;
        if (!probes.has(key)) probes.set(key, n.toLowerCase());
      }
      this.probes = [...probes];
      const spec: Record<string, PickSpec[string]> = { ...CORE };
      for (let i = 0; i < this.probes.length; i++) spec[this.probes[i]![0]] = FIRST_PROBE + i;
      this.pick = new JsonPick(spec);
    }
  }

  protected fromPicked(v: Picked, origin: Origin): ApiEvent | Malformed {
    return this.map(v, null, origin);
  }

  override fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    return this.map(this.pick.read(o), o, origin);
  }

  /** `o` is the parsed entry on the JSON.parse path (walked for headers under header capture). */
  private map(v: Picked, o: JsonObject | null, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const start = v[START_UTC] ?? v[START_LOCAL] ?? v[TIME];
    if (absent(start)) return missing('StartUTC');
    d.ts = anyTime(start);
    if (Number.isNaN(d.ts)) return badTime('StartUTC', start);
    let peer = str(v[CLIENT_HOST]);
    if (peer === null || peer === '' || peer === '-') {
      const addr = str(v[CLIENT_ADDR]);
      if (addr === null || addr === '' || addr === '-') return missing('ClientHost');
      peer = stripPort(addr);
    }
    const status = v[DOWNSTREAM_STATUS] ?? v[ORIGIN_STATUS];
    if (absent(status)) return missing('DownstreamStatus');

    d.peer = peer;
    d.status = num(status);
    d.method = str(v[METHOD]);
    d.target = str(v[PATH]);
    d.protocol = str(v[PROTOCOL]);
    d.host = str(v[REQUEST_ADDR]) ?? str(v[REQUEST_HOST]);
    d.bytesIn = num(v[REQUEST_SIZE]);
    d.bytesOut = num(v[DOWNSTREAM_SIZE]);
    const ns = num(v[DURATION]);
    d.latencyMs = ns / 1e6;
    d.remoteUser = str(v[USERNAME]);
    let h: Record<string, string> | null = null;
    let rh: Record<string, string> | null = null;
    if (this.probes !== null) {
      // Without header capture only the headers the Normalizer reads matter: the spec picked just those.
      const probes = this.probes;
      for (let i = 0; i < probes.length; i++) {
        const x = v[FIRST_PROBE + i];
        if (x === undefined) continue;
        const name = probes[i]![1];
        const s = headerValue(name, x);
        if (s === null || s === REDACTED) continue;
        if (h === null) h = Object.create(null) as Record<string, string>;
        h[name] = s;
      }
    } else if (o !== null) {
      for (const k in o) {
        const c = k.charCodeAt(0);
        // `request_…` and `downstream_…`: the lower-case prefixes never collide with the core keys.
        if (c === 114 /* r */ && k.startsWith('request_')) {
          const name = k.slice(8).toLowerCase();
          const x = headerValue(name, o[k]);
          if (x === null || x === REDACTED) continue;
          if (h === null) h = Object.create(null) as Record<string, string>;
          h[name] = x;
        } else if (c === 100 /* d */ && k.startsWith('downstream_')) {
          const name = k.slice(11).toLowerCase();
          const x = headerValue(name, o[k]);
          if (x === null || x === REDACTED) continue;
          if (rh === null) rh = Object.create(null) as Record<string, string>;
          rh[name] = x;
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
