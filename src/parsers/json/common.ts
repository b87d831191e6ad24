/**
 * What every JSON-lines preset shares: turning a line into an object (or a Malformed saying why not), the
 * base class of presets whose lines are scanned for just the keys they read (scan.ts), reading loosely typed
 * values, copying header objects into the draft, and detection over the first sample lines.
 *
 * Presets only cut fields into an EventDraft; the Normalizer does the rest. Nothing here allocates beyond
 * what JSON.parse or the scanner already made, except the strings handed to the draft.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import { EventDraft, type Normalizer } from '../../core/normalize.js';
import type { EventOptions } from '../../core/options.js';
import { Malformed } from '../../core/result.js';
import { epochToMs, parseClfTime, parseIsoTime } from '../../core/time.js';
import type { LineParser } from '../types.js';
import { isPickedMap, type JsonPick, type Picked } from './scan.js';

export type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` when it is a JSON object (not an array), else null. */
export const obj = (v: unknown): JsonObject | null => (isObject(v) ? v : null);

const POSITION = / in JSON at position (\d+)/;
const UNEXPECTED = /^Unexpected token '(.)'/u;

/**
 * Explains a JSON.parse failure without quoting the input (V8 messages embed a snippet of the text, which may
 * hold credentials). A line that ends where the parser stopped was cut short: "truncated JSON".
 */
function jsonFailure(line: string, e: unknown): Malformed {
  const msg = e instanceof Error ? e.message : '';
  const m = POSITION.exec(msg);
  if (m !== null) {
    const pos = Number(m[1]);
    if (pos >= line.length)
      return new Malformed('bad_json', `truncated JSON: the line ends after ${line.length} characters`);
    return new Malformed(
      'bad_json',
      `invalid JSON: ${msg.slice(0, m.index).toLowerCase()} at position ${pos}`,
    );
  }
  if (msg.includes('end of JSON input')) {
    return new Malformed(
      'bad_json',
      line.trim() === ''
        ? 'invalid JSON: the line is blank'
        : `truncated JSON: the line ends after ${line.length} characters`,
    );
  }
  const t = UNEXPECTED.exec(msg);
  return new Malformed(
    'bad_json',
    t !== null ? `invalid JSON: unexpected character '${t[1]}'` : 'invalid JSON',
  );
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** Parses one line as a JSON object: `bad_json` when it is not JSON, `not_an_object` when it is another value. */
export function parseJsonLine(line: string): JsonObject | Malformed {
  // A UTF-8 BOM on the first line of a file is not part of the JSON text.
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return jsonFailure(text, e);
  }
  if (isObject(v)) return v;
  return new Malformed('not_an_object', `the line is JSON but ${kind(v)}, not an object`);
}

/** A JSON-lines format: one object per line, parsed here, mapped to a draft by the preset's `fromObject`. */
export abstract class JsonObjectParser implements LineParser {
  abstract readonly format: string;
  readonly framing = 'line' as const;
  /** Reused for every line: a preset allocates only what it cuts. */
  protected readonly draft = new EventDraft();
  /** Capture switches, read once: presets skip bodies and response headers nobody keeps. */
  protected readonly bodies: boolean;
  protected readonly captureHeaders: boolean;

  constructor(protected readonly normalizer: Normalizer) {
    this.bodies = normalizer.options.captureBodies;
    this.captureHeaders = normalizer.options.captureHeaders;
  }

  parseLine(line: string, origin: Origin): ApiEvent | Malformed {
    const o = parseJsonLine(line);
    if (o instanceof Malformed) return o;
    return this.fromObject(o, origin);
  }

  abstract fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed;
}

/**
 * A preset that reads a fixed set of keys: its lines are scanned by a JsonPick (scan.ts) instead of parsed
 * whole, which skips everything else without building it, and `fromPicked` maps the picked values. An object
 * JSON.parse made (`fromObject`) is mapped by the same code through `JsonPick.read`.
 */
export abstract class PickedJsonParser extends JsonObjectParser {
  /** The keys the preset reads; set by the subclass' constructor. */
  protected abstract readonly pick: JsonPick;
  /** False sends every line through JSON.parse (options under which a preset needs keys no spec names). */
  protected scanLines = true;

  override parseLine(line: string, origin: Origin): ApiEvent | Malformed {
    if (this.scanLines) {
      const v = this.pick.scan(line);
      if (v !== null) return this.fromPicked(v, origin);
    }
    // A line the scanner refused is not a JSON object: parseJsonLine says why, with the usual messages.
    return super.parseLine(line, origin);
  }

  fromObject(o: JsonObject, origin: Origin): ApiEvent | Malformed {
    return this.fromPicked(this.pick.read(o), origin);
  }

  protected abstract fromPicked(v: Picked, origin: Origin): ApiEvent | Malformed;
}

/** A string field as text: strings as they are, finite numbers printed; anything else (incl. null) is null. */
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** A numeric field: numbers, or strings holding a number (Lua and Go loggers print some as strings); else NaN. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '' && v !== '-') return Number(v);
  return Number.NaN;
}

/** True when a field is absent: missing, null, empty, or `-`. */
export const absent = (v: unknown): boolean => v === undefined || v === null || v === '' || v === '-';

export const missing = (field: string): Malformed =>
  new Malformed('missing_field', `missing field '${field}'`);

const preview = (v: unknown): string => {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

export const badTime = (field: string, v: unknown): Malformed =>
  new Malformed('bad_timestamp', `${field} '${preview(v)}' is not a valid time`);

const DIGITS = /^\d+(?:\.\d+)?$/;

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/**
 * RFC 3339 timestamps, the way log lines carry them: one per line, mostly in order, many in the same second,
 * with up to nine fraction digits (`2024-03-05T10:11:12.345678901Z`, `…+01:00`). Each distinct string is
 * different (so a whole-string cache misses), but the part up to the second repeats: it is parsed once by
 * Date.parse and remembered; the fraction and the offset are read by hand. The result is the same as
 * parseIsoTime's (fractions truncated to ms); any other shape is handed to parseIsoTime.
 */
export class IsoTimeParser {
  private prefix = '';
  private base = Number.NaN;

  parse(s: string): number {
    const n = s.length;
    if (n < 20 || s.charCodeAt(10) !== 84 /* T */) return parseIsoTime(s);
    let base: number;
    if (this.prefix.length === 19 && s.startsWith(this.prefix)) {
      base = this.base;
    } else {
      const prefix = s.slice(0, 19);
      base = Date.parse(`${prefix}Z`);
      if (Number.isNaN(base) || prefix.charCodeAt(4) !== 45) return parseIsoTime(s);
      this.prefix = prefix;
      this.base = base;
    }
    let i = 19;
    let ms = 0;
    if (s.charCodeAt(i) === 46 /* . */) {
      i++;
      const start = i;
      while (i < n && digit(s, i) >= 0) {
        if (i - start < 3) ms = ms * 10 + digit(s, i);
        i++;
      }
      const digits = i - start;
      if (digits === 0) return parseIsoTime(s);
      if (digits === 1) ms *= 100;
      else if (digits === 2) ms *= 10;
    }
    const z = s.charCodeAt(i);
    if (z === 90 /* Z */ && i + 1 === n) return base + ms;
    if ((z === 43 || z === 45) /* + - */ && i + 6 === n && s.charCodeAt(i + 3) === 58 /* : */) {
      const h1 = digit(s, i + 1);
      const h2 = digit(s, i + 2);
      const m1 = digit(s, i + 4);
      const m2 = digit(s, i + 5);
      const hh = h1 * 10 + h2;
      const mm = m1 * 10 + m2;
      if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 || hh > 23 || mm > 59) return parseIsoTime(s);
      return base + ms - (z === 43 ? 1 : -1) * (hh * 60 + mm) * 60_000;
    }
    return parseIsoTime(s);
  }
}

const iso = new IsoTimeParser();

/**
 * A time of any common JSON-log shape, in ms: an epoch number of any unit (told apart by magnitude, see
 * epochToMs), a string holding such a number, an ISO 8601 / RFC 3339 string, or a Common Log Format string.
 */
export function anyTime(v: unknown): number {
  if (typeof v === 'number') return epochToMs(v);
  if (typeof v !== 'string' || v.length < 8) return Number.NaN;
  if (v.charCodeAt(4) === 45 /* - */) return iso.parse(v);
  if (DIGITS.test(v)) return epochToMs(Number(v));
  // `10/Oct/2000:13:55:36 -0700`, with or without nginx's brackets.
  return parseClfTime(v.charCodeAt(0) === 91 && v.endsWith(']') ? v.slice(1, -1) : v);
}

/** A header value as one string: arrays (repeated headers, as OpenResty logs them) are joined. */
export function headerValue(name: string, v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    let out: string | null = null;
    // Cookie pairs join with `; `; Set-Cookie values one per line (their Expires dates hold commas); others `, `.
    const sep = name === 'cookie' ? '; ' : name === 'set-cookie' ? '\n' : ', ';
    for (const x of v) {
      const s = typeof x === 'string' ? x : typeof x === 'number' ? String(x) : null;
      if (s !== null) out = out === null ? s : `${out}${sep}${s}`;
    }
    return out;
  }
  return null;
}

/**
 * Loggers that redact a header (Kong's Authorization, Traefik's `redact` mode) write this value. It says
 * nothing about the request, and as a credential it would make every client the same token actor: skipped.
 */
export const REDACTED = 'REDACTED';

/**
 * Request headers the Normalizer (and agentFromHeaders) read, besides the configured device / API-key ones.
 * Keep this in step with Normalizer.finalize: without header capture, presets keep only these headers, so a
 * header the Normalizer starts to read must be added here.
 */
export const NORMALIZER_HEADERS = [
  'host',
  'user-agent',
  'referer',
  'authorization',
  'x-forwarded-for',
  'x-real-ip',
  'cookie',
] as const;

/**
 * Every request header name the Normalizer looks up under these options (as it looks them up): without
 * header capture, the only headers a preset needs to keep.
 */
export const readHeaderNames = (o: EventOptions): string[] => [
  ...new Set([...NORMALIZER_HEADERS, o.deviceHeader, ...o.apiKeyHeaders]),
];

/** Copies a `{name: value}` header object into the draft's request headers (or response headers). */
export function copyHeaders(d: EventDraft, headers: unknown, response: boolean): void {
  if (!isObject(headers)) return;
  for (const k in headers) {
    const name = k.toLowerCase();
    const v = headerValue(name, headers[k]);
    if (v === null || v === REDACTED) continue;
    if (response) d.setResponseHeader(name, v);
    else d.setHeader(name, v);
  }
}

const isLowerCase = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
  }
  return true;
};

/**
 * Hands a freshly parsed `{name: value}` header object to the draft. The common case — lower-case names,
 * string values, as OpenResty-based gateways log them — takes the object itself, made prototype-less like
 * the draft's own maps (a name such as `constructor` must stay data); anything else is copied entry by
 * entry. The object must not be used by the caller afterwards.
 */
export function adoptHeaders(d: EventDraft, headers: unknown, response: boolean): void {
  if (!isObject(headers)) return;
  for (const k in headers) {
    const v = headers[k];
    if (typeof v !== 'string' || v === REDACTED || !isLowerCase(k)) {
      copyHeaders(d, headers, response);
      return;
    }
  }
  Object.setPrototypeOf(headers, null);
  if (response) d.responseHeaders = headers as Record<string, string>;
  else d.headers = headers as Record<string, string>;
}

/**
 * Headers as a JsonPick read them. The restricted map of a StringMapSpec (lower-case names, string values,
 * REDACTED left out) is already what adoptHeaders would make of those names and is taken as it is; anything
 * else (the whole object) goes through adoptHeaders.
 */
export function pickedHeaders(d: EventDraft, v: unknown, response: boolean): void {
  if (!isPickedMap(v)) adoptHeaders(d, v, response);
  else if (response) d.responseHeaders = v;
  else d.headers = v;
}

/**
 * The Normalizer reads User-Agent and Referer from their draft fields only: formats that log them inside a
 * header map fill the fields from it.
 */
export function agentFromHeaders(d: EventDraft): void {
  const h = d.headers;
  if (h === null) return;
  d.userAgent ??= h['user-agent'] ?? null;
  d.referer ??= h.referer ?? null;
}

/** A body as text: strings as they are; a JSON value some loggers embed is re-serialized. */
export function bodyText(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (v === undefined || v === null) return null;
  return JSON.stringify(v) ?? null;
}

/** How many sample lines JSON detection looks at. */
export const DETECT_LINES = 20;

/**
 * Confidence that a sample is in a JSON-lines format: the share of its first non-blank lines (up to
 * DETECT_LINES) that parse as objects accepted by `matches`. A last line that does not parse and is not
 * followed by a newline is the sample's cut and is not counted.
 */
export function detectJsonLines(sample: string, matches: (o: JsonObject) => boolean): number {
  let seen = 0;
  let hits = 0;
  let start = 0;
  const n = sample.length;
  while (start < n && seen < DETECT_LINES) {
    let end = sample.indexOf('\n', start);
    const last = end === -1;
    if (last) end = n;
    let line = sample.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const o = parseJsonLine(line);
    if (o instanceof Malformed) {
      if (last && o.reason === 'bad_json') break;
      seen++;
      continue;
    }
    seen++;
    if (matches(o)) hits++;
  }
  return seen === 0 ? 0 : hits / seen;
}

/** Number of `keys` present in `o`. */
export function countKeys(o: JsonObject, keys: readonly string[]): number {
  let c = 0;
  for (const k of keys) if (o[k] !== undefined) c++;
  return c;
}
