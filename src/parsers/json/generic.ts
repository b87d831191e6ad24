/**
 * The generic `json` format: JSON lines read through a config-declared mapping (see mapping.ts for the keys
 * and how times and units are read). Not auto-detected: a mapping is needed to know what anything means.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import { stripPort } from '../../core/net.js';
import type { EventDraft, Normalizer } from '../../core/normalize.js';
import { Malformed } from '../../core/result.js';
import type { FormatSpec, ParserContext } from '../types.js';
import {
  absent,
  anyTime,
  badTime,
  bodyText,
  headerValue,
  type JsonObject,
  JsonObjectParser,
  num,
  REDACTED,
  str,
} from './common.js';
import {
  compilePath,
  type Getter,
  isMappableKey,
  type JsonMapping,
  LATENCY_KEYS,
  type MappableKey,
  TIME_KEYS,
  validateJsonMapping,
} from './mapping.js';

type StringField =
  | 'forwardedFor'
  | 'realIp'
  | 'requestLine'
  | 'method'
  | 'target'
  | 'path'
  | 'queryString'
  | 'host'
  | 'protocol'
  | 'userAgent'
  | 'referer'
  | 'remoteUser'
  | 'consumer';

/** Mapping keys that are plain strings, and the draft field each fills. */
const STRING_FIELDS: Partial<Record<MappableKey, StringField>> = {
  forwardedFor: 'forwardedFor',
  realIp: 'realIp',
  requestLine: 'requestLine',
  method: 'method',
  target: 'target',
  path: 'path',
  query: 'queryString',
  host: 'host',
  protocol: 'protocol',
  userAgent: 'userAgent',
  referer: 'referer',
  user: 'remoteUser',
  consumer: 'consumer',
};

const TIME_SCALE: Record<(typeof TIME_KEYS)[number], number> = {
  ts: 0,
  tsSeconds: 1000,
  tsMs: 1,
  tsUs: 1e-3,
  tsNs: 1e-6,
};
const LATENCY_SCALE: Record<(typeof LATENCY_KEYS)[number], number> = {
  latencyMs: 1,
  latencySeconds: 1000,
  latencyUs: 1e-3,
  latencyNs: 1e-6,
};

/** Copies headers given as an object or as a HAR-like array of {name, value}. */
function copyAnyHeaders(d: EventDraft, v: unknown, response: boolean): void {
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (const h of v) {
      if (typeof h !== 'object' || h === null) continue;
      const { name, value } = h as { name?: unknown; value?: unknown };
      if (typeof name !== 'string') continue;
      add(d, name.toLowerCase(), headerValue(name, value), response);
    }
    return;
  }
  const o = v as JsonObject;
  for (const k in o) {
    const name = k.toLowerCase();
    add(d, name, headerValue(name, o[k]), response);
  }
}

function add(d: EventDraft, name: string, v: string | null, response: boolean): void {
  if (v === null || v === REDACTED) return;
  const map = response ? d.responseHeaders : d.headers;
  const prev = map === null ? undefined : map[name];
  const value =
    prev === undefined ? v : `${prev}${name === 'cookie' ? '; ' : name === 'set-cookie' ? '\n' : ', '}${v}`;
  if (response) d.setResponseHeader(name, value);
  else d.setHeader(name, value);
}

export class JsonMappingParser extends JsonObjectParser {
  readonly format = 'json';
  private readonly time: Getter;
  private readonly timeField: string;
  private readonly timeScale: number;
  private readonly ip: Getter;
  private readonly ipField: string;
  private readonly status: Getter;
  private readonly statusField: string;
  private readonly strings: [Getter, StringField][] = [];
  private readonly bytesOut: Getter | null;
  private readonly bytesIn: Getter | null;
  private readonly latency: Getter | null = null;
  private readonly latencyScale: number = 1;
  private readonly headers: Getter | null;
  private readonly responseHeaders: Getter | null;
  private readonly cookies: Getter | null;
  private readonly requestBody: Getter | null;
  private readonly responseBody: Getter | null;

  /** Throws an Error listing every problem when the mapping is not valid (the registry reports it). */
  constructor(normalizer: Normalizer, mapping: Record<string, unknown>) {
    super(normalizer);
    const errors = validateJsonMapping(mapping);
    if (errors.length > 0) throw new Error(errors.join('; '));
    const m = mapping as JsonMapping;
    const get = (k: MappableKey): Getter | null => (m[k] === undefined ? null : compilePath(m[k]));
    const tk = TIME_KEYS.find((k) => m[k] !== undefined)!;
    this.timeField = m[tk]!;
    this.time = compilePath(this.timeField);
    this.timeScale = TIME_SCALE[tk];
    this.ipField = m.ip!;
    this.ip = compilePath(this.ipField);
    this.statusField = m.status!;
    this.status = compilePath(this.statusField);
    for (const k of Object.keys(m)) {
      if (!isMappableKey(k)) continue;
      const f = STRING_FIELDS[k];
      if (f !== undefined) this.strings.push([compilePath(m[k]!), f]);
    }
    this.bytesOut = get('bytesOut');
    this.bytesIn = get('bytesIn');
    const lk = LATENCY_KEYS.find((k) => m[k] !== undefined);
    if (lk !== undefined) {
      this.latency = compilePath(m[lk]!);
      this.latencyScale = LATENCY_SCALE[lk];
    }
    this.headers = get('headers');
    this.responseHeaders = get('responseHeaders');
    this.cookies = get('cookies');
    const bodies = normalizer.options.captureBodies;
    this.requestBody = bodies ? get('requestBody') : null;
    this.responseBody = bodies ? get('responseBody') : null;
  }

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    const d = this.draft.reset();
    const t = this.time(o);
    if (absent(t)) return missingMapped(this.timeField, 'time');
    d.ts = this.timeScale === 0 ? anyTime(t) : scaled(t, this.timeScale);
    if (Number.isNaN(d.ts)) return badTime(this.timeField, t);
    const ip = str(this.ip(o));
    if (ip === null || ip === '' || ip === '-') return missingMapped(this.ipField, 'ip');
    const status = this.status(o);
    if (absent(status)) return missingMapped(this.statusField, 'status');

    d.peer = stripPort(ip);
    d.status = num(status);
    for (const [get, field] of this.strings) d[field] = str(get(o));
    if (this.bytesOut !== null) d.bytesOut = num(this.bytesOut(o));
    if (this.bytesIn !== null) d.bytesIn = num(this.bytesIn(o));
    if (this.latency !== null) d.latencyMs = num(this.latency(o)) * this.latencyScale;
    if (this.headers !== null) {
      copyAnyHeaders(d, this.headers(o), false);
      const h = d.headers;
      if (h !== null) {
        d.userAgent ??= h['user-agent'] ?? null;
        d.referer ??= h.referer ?? null;
      }
    }
    if (this.responseHeaders !== null) copyAnyHeaders(d, this.responseHeaders(o), true);
    if (this.cookies !== null) {
      const c = this.cookies(o);
      if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
        for (const k in c) {
          const v = str((c as JsonObject)[k]);
          if (v === null) continue;
          if (d.cookies === null) d.cookies = Object.create(null) as Record<string, string>;
          d.cookies[k] = v;
        }
      }
    }
    if (this.requestBody !== null) d.requestBody = bodyText(this.requestBody(o));
    if (this.responseBody !== null) d.responseBody = bodyText(this.responseBody(o));
    return this.normalizer.finalize(d, origin);
  }
}

/** An epoch number (or numeric string) of a known unit, in ms; NaN when not a positive number. */
function scaled(v: unknown, scale: number): number {
  const n = num(v);
  return Number.isFinite(n) && n > 0 ? Math.round(n * scale) : Number.NaN;
}

const missingMapped = (path: string, key: string): Malformed =>
  new Malformed('missing_field', `missing field '${path}' (mapped to ${key})`);

export const jsonMappingFormat: FormatSpec = {
  name: 'json',
  description: 'Any JSON-lines log, through a field mapping declared in the config (input.jsonMapping)',
  framing: 'line',
  requires: 'jsonMapping',
  create: (ctx: ParserContext) => {
    if (!ctx.jsonMapping) throw new Error('a field mapping is required (input.jsonMapping)');
    return new JsonMappingParser(ctx.normalizer, ctx.jsonMapping);
  },
};
