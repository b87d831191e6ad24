/**
 * The compiled-program machinery shared by the nginx `log_format` and Apache `LogFormat` front-ends. A
 * front-end turns its format string into tokens (literal text and fields, each field saying what its value
 * becomes); `compileProgram` turns those into steps; `LogFormatParser` runs the steps over a line with plain
 * `indexOf` / `charCodeAt` work, fills one reused EventDraft and hands it to the Normalizer.
 *
 * Matching: literal text must appear exactly where the format puts it. A quoted field (literal `"` before
 * and after it) ends at the next `"` that is not escaped by a backslash; an unquoted field ends at the first
 * occurrence of the literal text that follows it, or at the end of the line. Refinements: a field followed
 * only by the format's last literal runs to that literal at the end of the line; a field whose value has
 * spaces of its own (a CLF time) or is a list (`$upstream_response_time`) does not end at those; two
 * fields may touch when the first has a fixed width or the second a fixed first character (`$host$uri`).
 * Values are unescaped only when they contain a backslash.
 */
import type { ApiEvent, Origin } from '../../core/event.js';
import { stripPort } from '../../core/net.js';
import { EventDraft, Normalizer } from '../../core/normalize.js';
import { isMalformed, Malformed } from '../../core/result.js';
import { cachedTimeParser, parseClfTime, parseEpochSeconds, parseIsoTime } from '../../core/time.js';
import type { LineParser } from '../types.js';

// Field kinds: what a field's value becomes. Plain numbers, not a TypeScript enum, so the module also runs
// under type stripping.
/** Consumed and ignored. */
export const K_SKIP = 0;
export const K_PEER = 1;
export const K_USER = 2;
/** `10/Oct/2000:13:55:36 -0700`. */
export const K_TIME_CLF = 3;
export const K_TIME_ISO = 4;
/** Epoch seconds with an optional fraction (nginx `$msec`, Apache `%{sec}t`). */
export const K_TIME_EPOCH_S = 5;
export const K_TIME_EPOCH_MS = 6;
export const K_TIME_EPOCH_US = 7;
/** Part of a time written with a strftime format (Apache `%{...}t`); the parts are assembled at the end. */
export const K_TIME_PART = 8;
export const K_REQUEST = 9;
export const K_METHOD = 10;
export const K_TARGET = 11;
export const K_PATH = 12;
export const K_QUERY = 13;
/** Apache `%q`: the query string with its leading `?`, or empty. */
export const K_QUERY_Q = 14;
export const K_PROTOCOL = 15;
export const K_HOST = 16;
export const K_STATUS = 17;
export const K_BYTES_OUT = 18;
/** Apache `%b`: bytes, `-` meaning zero. */
export const K_BYTES_OUT_CLF = 19;
export const K_BYTES_IN = 20;
/** Seconds with an optional fraction (nginx `$request_time`, Apache `%T`). */
export const K_LATENCY_S = 21;
export const K_LATENCY_MS = 22;
export const K_LATENCY_US = 23;
/** nginx `$upstream_response_time`: `0.010, 0.020 : 0.030` (one per upstream tried), summed. */
export const K_LATENCY_LIST_S = 24;
export const K_REFERER = 25;
export const K_USER_AGENT = 26;
export const K_FORWARDED_FOR = 27;
export const K_REAL_IP = 28;
export const K_HEADER = 29;
export const K_RESPONSE_HEADER = 30;
export const K_COOKIE = 31;
export const K_ARG = 32;
export const K_REQUEST_BODY = 33;
/** Internal: the end of the line. */
const K_END = -1;

/** How the server escaped values. */
export type Escape =
  /** `\xHH` bytes plus `\"`, `\\`, `\n`, `\t`… (nginx default, Apache; both styles are accepted). */
  | 'backslash'
  /** JSON string escapes (nginx `escape=json`). */
  | 'json'
  /** Nothing is escaped (nginx `escape=none`): quotes are then plain literal text. */
  | 'none';

/** One field of a format, as a front-end describes it. */
export interface FieldSpec {
  kind: number;
  /** Header / cookie / argument name (lower-case for headers), else ''. */
  name: string;
  /** The field as written in the format (`$remote_addr`, `%>s`), for messages. */
  label: string;
  /**
   * Fields with the same slot compete (`$body_bytes_sent` vs `$bytes_sent`): only the lowest rank is used,
   * the others are still consumed. Defaults to a slot per kind (per kind and name for headers).
   */
  slot?: string;
  rank?: number;
  /** Spaces the value always contains (times), so an unquoted field does not end at them. */
  spaces?: number;
  /** A list like `0.010, 0.020 : 0.030`: `, ` and ` : ` inside it do not end an unquoted field. */
  list?: boolean;
  /**
   * The value's length when it is always the same (`%{msec_frac}t` is 3 digits): such a field may be
   * followed directly by another one (`%{msec_frac}t%{%z}t`), it is then cut by length.
   */
  width?: number;
  /**
   * A character every value of this field starts with (`/` for `$request_uri`): the field before it may
   * then touch it (`$host$request_uri`), ending where this character first appears.
   */
  lead?: string;
  /** For K_TIME_PART: how to read the part. */
  time?: TimeFormat;
}

export type Token = string | FieldSpec;

/** What a compiled format needs to produce events; front-ends name the fields in their own syntax. */
export interface Requirements {
  time: string;
  status: string;
  address: string;
}

class Step {
  constructor(
    /** Literal text before the field ('' if none). */
    readonly lit: string,
    readonly kind: number,
    readonly name: string,
    readonly label: string,
    readonly quoted: boolean,
    /** Unquoted fields: the text that ends the value ('' = the end of the line). */
    readonly delim: string,
    readonly spaces: number,
    readonly list: boolean,
    readonly time: TimeFormat | null,
    /** Cut by length (a field follows directly), else 0. */
    readonly width: number,
    /**
     * Unquoted and followed only by the format's final literal: the value runs up to that literal at the
     * end of the line (so it may contain the literal itself, as with `escape=none`).
     */
    readonly tail: boolean,
  ) {
    const codes: number[] = [];
    for (let i = 0; i < lit.length; i++) codes.push(lit.charCodeAt(i));
    this.litCodes = codes;
  }
  /** `lit` as char codes: comparing a few codes inline beats a `startsWith` call per literal. */
  readonly litCodes: number[];
}

/** A compiled format: immutable, shared by every parser built from it. */
export class Program {
  constructor(
    readonly steps: readonly Step[],
    readonly escaping: Escape,
    /** True when the time is assembled from strftime parts. */
    readonly timeParts: boolean,
    /** The format as the user wrote it, for messages. */
    readonly source: string,
  ) {}
}

const TIME_KINDS = new Set([K_TIME_CLF, K_TIME_ISO, K_TIME_EPOCH_S, K_TIME_EPOCH_MS, K_TIME_EPOCH_US]);
const PEER_KINDS = new Set([K_PEER, K_FORWARDED_FOR, K_REAL_IP]);

function slotOf(f: FieldSpec): string | null {
  if (f.slot !== undefined) return f.slot;
  switch (f.kind) {
    case K_SKIP:
    case K_TIME_PART:
      return null;
    case K_BYTES_OUT:
    case K_BYTES_OUT_CLF:
      return 'bytesOut';
    case K_LATENCY_S:
    case K_LATENCY_MS:
    case K_LATENCY_US:
    case K_LATENCY_LIST_S:
      return 'latency';
    case K_QUERY:
    case K_QUERY_Q:
      return 'query';
    case K_HEADER:
    case K_RESPONSE_HEADER:
    case K_COOKIE:
    case K_ARG:
      return `${f.kind}:${f.name}`;
    default:
      return TIME_KINDS.has(f.kind) ? 'time' : String(f.kind);
  }
}

/** Literal text in a message: `'" '`. */
const quote = (s: string): string => `'${s}'`;

/**
 * Compiles a token list into a program. Throws an Error with a message for the user when the format cannot
 * be matched (two fields with nothing between them) or cannot produce events (no time, status or address).
 */
export function compileProgram(
  tokens: readonly Token[],
  escaping: Escape,
  source: string,
  needs: Requirements,
): Program {
  // Merge adjacent literals; drop empty ones.
  const toks: Token[] = [];
  for (const t of tokens) {
    if (typeof t === 'string') {
      if (t === '') continue;
      const last = toks.length - 1;
      if (last >= 0 && typeof toks[last] === 'string') toks[last] = (toks[last] as string) + t;
      else toks.push(t);
    } else {
      toks.push({ ...t });
    }
  }
  const fields = toks.filter((t): t is FieldSpec => typeof t !== 'string');

  // Competing fields: keep the best rank (the first among equals), skip the others.
  const best = new Map<string, FieldSpec>();
  for (const f of fields) {
    const slot = slotOf(f);
    if (slot === null) continue;
    const cur = best.get(slot);
    if (cur === undefined || (f.rank ?? 0) < (cur.rank ?? 0)) best.set(slot, f);
  }
  const hasFullTime = best.has('time');
  const hasRequest = best.has(String(K_REQUEST));
  for (const f of fields) {
    const slot = slotOf(f);
    if (slot !== null && best.get(slot) !== f) f.kind = K_SKIP;
    // A full time beats strftime parts.
    if (f.kind === K_TIME_PART && hasFullTime) f.kind = K_SKIP;
    // The request line already holds the target; with both, the Normalizer would take the target and
    // lose the method the request line carries.
    if (f.kind === K_TARGET && hasRequest) f.kind = K_SKIP;
  }

  const has = (pred: (k: number) => boolean): boolean => fields.some((f) => pred(f.kind));
  if (!has((k) => TIME_KINDS.has(k) || k === K_TIME_PART)) {
    throw new Error(`the format has no time field (${needs.time}), so no line could become an event`);
  }
  if (!has((k) => k === K_STATUS)) {
    throw new Error(`the format has no status field (${needs.status}), so no line could become an event`);
  }
  if (!has((k) => PEER_KINDS.has(k))) {
    throw new Error(
      `the format has no client address field (${needs.address}), so no line could become an event`,
    );
  }

  const quoting = escaping !== 'none';
  const steps: Step[] = [];
  let lit = '';
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (typeof t === 'string') {
      lit = t;
      continue;
    }
    const next = toks[i + 1];
    const adjacent = next !== undefined && typeof next !== 'string';
    const byWidth = adjacent && t.width !== undefined && t.width > 0;
    if (adjacent && !byWidth && next.lead === undefined) {
      throw new Error(
        `${t.label} and ${next.label} follow each other with nothing between them: a log line cannot be split there`,
      );
    }
    const after = typeof next === 'string' ? next : adjacent && !byWidth ? next.lead! : '';
    const quoted = quoting && lit.endsWith('"') && after.startsWith('"');
    steps.push(
      new Step(
        lit,
        t.kind,
        t.name,
        t.label,
        quoted,
        quoted ? '' : after,
        t.spaces ?? 0,
        t.list ?? false,
        t.time ?? null,
        byWidth ? t.width! : 0,
        !quoted && typeof next === 'string' && i + 2 === toks.length,
      ),
    );
    lit = '';
  }
  steps.push(new Step(lit, K_END, '', '', false, '', 0, false, null, 0, false));
  return new Program(
    steps,
    escaping,
    fields.some((f) => f.kind === K_TIME_PART),
    source,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Unescaping (slow path: only for values that contain a backslash).

const hexVal = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;

const utf8 = new TextDecoder('utf-8');
let byteScratch = new Uint8Array(256);

/**
 * Undoes nginx's default and Apache's escaping: `\xHH` are bytes (a run of them is decoded as UTF-8, so
 * `caf\xC3\xA9` is `café`; invalid sequences become U+FFFD), `\"` `\\` `\n` `\r` `\t` `\b` `\v` `\f` are
 * their characters. Unknown escapes are kept as they are.
 */
export function unescapeBackslash(s: string): string {
  let out = '';
  let start = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const bs = s.indexOf('\\', i);
    if (bs === -1 || bs + 1 >= n) break;
    const c = s.charCodeAt(bs + 1);
    let rep: string;
    let next = bs + 2;
    if (
      c === 120 /* x */ &&
      bs + 3 < n &&
      hexVal(s.charCodeAt(bs + 2)) >= 0 &&
      hexVal(s.charCodeAt(bs + 3)) >= 0
    ) {
      // A run of \xHH: collect the bytes, decode them together.
      let nb = 0;
      let k = bs;
      while (
        k + 3 < n &&
        s.charCodeAt(k) === 92 &&
        s.charCodeAt(k + 1) === 120 &&
        hexVal(s.charCodeAt(k + 2)) >= 0 &&
        hexVal(s.charCodeAt(k + 3)) >= 0
      ) {
        if (nb === byteScratch.length) {
          const bigger = new Uint8Array(nb * 2);
          bigger.set(byteScratch);
          byteScratch = bigger;
        }
        byteScratch[nb++] = hexVal(s.charCodeAt(k + 2)) * 16 + hexVal(s.charCodeAt(k + 3));
        k += 4;
      }
      rep = utf8.decode(byteScratch.subarray(0, nb));
      next = k;
    } else {
      switch (c) {
        case 34:
          rep = '"';
          break;
        case 92:
          rep = '\\';
          break;
        case 110:
          rep = '\n';
          break;
        case 114:
          rep = '\r';
          break;
        case 116:
          rep = '\t';
          break;
        case 98:
          rep = '\b';
          break;
        case 118:
          rep = '\v';
          break;
        case 102:
          rep = '\f';
          break;
        default:
          i = bs + 2;
          continue;
      }
    }
    out += s.slice(start, bs) + rep;
    start = i = next;
  }
  return start === 0 ? s : out + s.slice(start);
}

/** Undoes JSON string escapes (nginx `escape=json`). Invalid escapes are kept as they are. */
export function unescapeJson(s: string): string {
  let out = '';
  let start = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const bs = s.indexOf('\\', i);
    if (bs === -1 || bs + 1 >= n) break;
    const c = s.charCodeAt(bs + 1);
    let rep: string;
    let next = bs + 2;
    switch (c) {
      case 34:
        rep = '"';
        break;
      case 92:
        rep = '\\';
        break;
      case 47:
        rep = '/';
        break;
      case 98:
        rep = '\b';
        break;
      case 102:
        rep = '\f';
        break;
      case 110:
        rep = '\n';
        break;
      case 114:
        rep = '\r';
        break;
      case 116:
        rep = '\t';
        break;
      case 117: {
        // \uXXXX (surrogate pairs come as two escapes and join up in the string).
        let cp = 0;
        let ok = bs + 5 < n;
        for (let k = 2; ok && k < 6; k++) {
          const h = hexVal(s.charCodeAt(bs + k));
          if (h < 0) ok = false;
          else cp = cp * 16 + h;
        }
        if (!ok) {
          i = bs + 2;
          continue;
        }
        rep = String.fromCharCode(cp);
        next = bs + 6;
        break;
      }
      default:
        i = bs + 2;
        continue;
    }
    out += s.slice(start, bs) + rep;
    start = i = next;
  }
  return start === 0 ? s : out + s.slice(start);
}

// ---------------------------------------------------------------------------------------------------------
// Numbers, read without allocating.

/** A non-negative decimal integer in s[a, e), or -1. */
function uintAt(s: string, a: number, e: number): number {
  // 16 digits: epoch microseconds; still exact below 2^53.
  if (a >= e || e - a > 16) return -1;
  let n = 0;
  for (let i = a; i < e; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * A non-negative decimal number of seconds in s[a, e) (`0.005`, `12`), as milliseconds, or -1. Computed from
 * integers so `0.007` is exactly 7, not 7.000000000000001.
 */
function secondsAt(s: string, a: number, e: number): number {
  let mant = 0;
  let scale = 1;
  let dot = false;
  let digits = 0;
  for (let i = a; i < e; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */ && !dot) {
      dot = true;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || ++digits > 15) return -1;
    mant = mant * 10 + d;
    if (dot) scale *= 10;
  }
  if (digits === 0) return -1;
  // mant / scale seconds → ms, with one correctly rounded division.
  return scale >= 1000 ? mant / (scale / 1000) : mant * (1000 / scale);
}

/**
 * Sums a list of upstream times (`0.010, 0.020 : 0.030`, `-` entries skipped) in milliseconds; NaN when no
 * entry is a number. Summed in microseconds so the result is not off by float noise.
 */
function secondsListMs(s: string): number {
  let us = 0;
  let any = false;
  let a = 0;
  const n = s.length;
  while (a < n) {
    let e = a;
    while (e < n && s.charCodeAt(e) !== 44 /* , */ && s.charCodeAt(e) !== 58 /* : */) e++;
    let x = a;
    let y = e;
    while (x < y && s.charCodeAt(x) === 32) x++;
    while (y > x && s.charCodeAt(y - 1) === 32) y--;
    const ms = secondsAt(s, x, y);
    if (ms >= 0) {
      us += Math.round(ms * 1000);
      any = true;
    }
    a = e + 1;
  }
  return any ? us / 1000 : Number.NaN;
}

// ---------------------------------------------------------------------------------------------------------
// strftime-style times (Apache `%{format}t`).

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** Conversions whose output always has the same length (C locale; `%z` is `+hhmm`). */
const FIXED_WIDTH: Record<string, number> = {
  Y: 4,
  y: 2,
  m: 2,
  d: 2,
  H: 2,
  I: 2,
  M: 2,
  S: 2,
  j: 3,
  p: 2,
  b: 3,
  h: 3,
  a: 3,
  z: 5,
  frac3: 3,
  frac6: 6,
};

/** Time parts read from one line; assembled into `ts` at the end of the line. */
class TimeParts {
  year = Number.NaN;
  month = Number.NaN;
  day = Number.NaN;
  hour = 0;
  minute = 0;
  second = 0;
  pm = -1;
  offsetMin = 0;
  fracMs = 0;
  epochMs = Number.NaN;

  reset(): void {
    this.year = Number.NaN;
    this.month = Number.NaN;
    this.day = Number.NaN;
    this.hour = 0;
    this.minute = 0;
    this.second = 0;
    this.pm = -1;
    this.offsetMin = 0;
    this.fracMs = 0;
    this.epochMs = Number.NaN;
  }

  /** Milliseconds UTC, or NaN. A time without `%z` is taken as UTC. */
  toMs(): number {
    if (!Number.isNaN(this.epochMs)) return this.epochMs + this.fracMs;
    if (Number.isNaN(this.year) || Number.isNaN(this.month) || Number.isNaN(this.day)) return Number.NaN;
    let h = this.hour;
    if (this.pm !== -1) h = (h % 12) + (this.pm === 1 ? 12 : 0);
    const t = Date.UTC(this.year, this.month, this.day, h, this.minute, this.second);
    // Date.UTC rolls 31/Feb over into March: reject days the month does not have.
    if (new Date(t).getUTCDate() !== this.day) return Number.NaN;
    return t - this.offsetMin * 60_000 + this.fracMs;
  }
}

/** A compiled strftime format: literal text and conversion letters (`%Y` → 'Y'). */
export class TimeFormat {
  /** Alternating: even indexes are literal text, odd indexes conversion letters. */
  private readonly items: string[];
  /** Spaces the formatted time always contains. */
  readonly spaces: number;
  /** Length of every time written in this format, or 0 when it varies (month names, epoch seconds). */
  readonly width: number;

  private constructor(items: string[]) {
    this.items = items;
    let spaces = 0;
    let width = 0;
    let fixed = true;
    for (let i = 0; i < items.length; i++) {
      if (i % 2 === 0) {
        for (const ch of items[i]!) if (ch === ' ') spaces++;
        width += items[i]!.length;
      } else {
        const w = FIXED_WIDTH[items[i]!];
        if (w === undefined) fixed = false;
        else width += w;
      }
    }
    this.spaces = spaces;
    this.width = fixed ? width : 0;
  }

  /** Letters we can read back. `F` / `T` / `D` / `R` are expanded; Apache's `msec_frac` etc. are names. */
  static compile(fmt: string): TimeFormat {
    const items: string[] = [''];
    const expand: Record<string, string> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y', R: '%H:%M' };
    const walk = (f: string): void => {
      for (let i = 0; i < f.length; i++) {
        const ch = f[i]!;
        if (ch !== '%') {
          items[items.length - 1] += ch;
          continue;
        }
        const c = f[++i];
        if (c === undefined) throw new Error(`time format '${fmt}' ends with a lone %`);
        if (c === '%') {
          items[items.length - 1] += '%';
        } else if (expand[c] !== undefined) {
          walk(expand[c]);
        } else if ('YymdHIMSpbhBaAzZsj'.includes(c)) {
          items.push(c, '');
        } else {
          throw new Error(`time format '${fmt}': %${c} is not supported`);
        }
      }
    };
    walk(fmt);
    return new TimeFormat(items);
  }

  /** A single named part (`frac3`, `frac6`, `s`). */
  static part(name: string): TimeFormat {
    return new TimeFormat(['', name, '']);
  }

  /** Reads s into parts; false when it does not match. */
  read(s: string, p: TimeParts): boolean {
    let pos = 0;
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i % 2 === 0) {
        if (!s.startsWith(it, pos)) return false;
        pos += it.length;
        continue;
      }
      const r = readConversion(it, s, pos, p);
      if (r < 0) return false;
      pos = r;
    }
    return pos === s.length;
  }
}

/** Where the last digitsAt stopped. */
let digitsEnd = 0;

/** min..max decimal digits at pos: their value (digitsEnd is set past them), or -1. */
function digitsAt(s: string, pos: number, min: number, max: number): number {
  let n = 0;
  let i = pos;
  while (i < s.length && i - pos < max) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    i++;
  }
  digitsEnd = i;
  return i - pos < min ? -1 : n;
}

function lettersEnd(s: string, pos: number): number {
  let i = pos;
  while (i < s.length) {
    const c = s.charCodeAt(i) | 32;
    if (c < 97 || c > 122) break;
    i++;
  }
  return i;
}

/** Numeric conversions: [digits min, digits max, lowest, highest]. */
const NUMERIC: Record<string, readonly [number, number, number, number]> = {
  Y: [4, 4, 0, 9999],
  y: [2, 2, 0, 99],
  m: [2, 2, 1, 12],
  d: [2, 2, 1, 31],
  j: [3, 3, 1, 366],
  H: [2, 2, 0, 23],
  I: [2, 2, 1, 12],
  M: [2, 2, 0, 59],
  S: [2, 2, 0, 60],
  s: [1, 12, 0, 999_999_999_999],
  frac3: [3, 3, 0, 999],
  frac6: [6, 6, 0, 999_999],
};

/** Reads one conversion at pos into p; returns the position after it, or -1. Allocates nothing. */
function readConversion(c: string, s: string, pos: number, p: TimeParts): number {
  const spec = NUMERIC[c];
  if (spec !== undefined) {
    const n = digitsAt(s, pos, spec[0], spec[1]);
    if (n < spec[2] || n > spec[3]) return -1;
    switch (c) {
      case 'Y':
        p.year = n;
        break;
      case 'y':
        p.year = n < 69 ? 2000 + n : 1900 + n;
        break;
      case 'm':
        p.month = n - 1;
        break;
      case 'd':
        p.day = n;
        break;
      case 'H':
      case 'I':
        p.hour = n;
        break;
      case 'M':
        p.minute = n;
        break;
      case 'S':
        p.second = n;
        break;
      case 's':
        p.epochMs = n * 1000;
        break;
      case 'frac3':
        p.fracMs = n;
        break;
      case 'frac6':
        p.fracMs = n / 1000;
        break;
      // 'j' (day of the year) is read but not needed next to a month and day.
    }
    return digitsEnd;
  }
  switch (c) {
    case 'p': {
      const a = s.charCodeAt(pos) | 32;
      if ((a !== 97 && a !== 112) || (s.charCodeAt(pos + 1) | 32) !== 109) return -1;
      p.pm = a === 112 ? 1 : 0;
      return pos + 2;
    }
    case 'b':
    case 'h':
    case 'B': {
      const e = lettersEnd(s, pos);
      const w = s.slice(pos, e).toLowerCase();
      const m = c === 'B' ? MONTH_NAMES.indexOf(w) : MONTHS.indexOf(w);
      if (m < 0) return -1;
      p.month = m;
      return e;
    }
    case 'a':
    case 'A':
    case 'Z': {
      // Weekday names are not needed; a zone name other than an offset is read as UTC.
      const e = lettersEnd(s, pos);
      return e === pos ? -1 : e;
    }
    case 'z': {
      // +hhmm, +hh:mm or Z.
      const sign = s.charCodeAt(pos);
      if (sign === 90 /* Z */) {
        p.offsetMin = 0;
        return pos + 1;
      }
      if (sign !== 43 && sign !== 45) return -1;
      const h = digitsAt(s, pos + 1, 2, 2);
      if (h < 0 || h > 23) return -1;
      const mAt = digitsEnd + (s.charCodeAt(digitsEnd) === 58 ? 1 : 0);
      const m = digitsAt(s, mAt, 2, 2);
      if (m < 0 || m > 59) return -1;
      p.offsetMin = (sign === 45 ? -1 : 1) * (h * 60 + m);
      return digitsEnd;
    }
    default:
      return -1;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The interpreter.

const col = (pos: number): number => pos + 1;

/** Options of one parser instance. */
export interface ParserOptions {
  /**
   * Detection mode: unquoted values other than times and lists may not contain a space. A real log can
   * have a space in `$remote_user`, but a line of another format read with this one almost always puts
   * one there (vhost_combined read as combined puts `- -` into the user).
   */
  strict?: boolean;
}

/** Runs a compiled program over lines: one reused draft, no per-line allocation besides the cut strings. */
export class LogFormatParser implements LineParser {
  readonly framing = 'line' as const;
  private readonly steps: readonly Step[];
  private readonly draft = new EventDraft();
  /** 0: none, 1: backslash, 2: JSON. */
  private readonly unescaping: number;
  private readonly strict: boolean;
  private lastClf = '';
  private lastClfTs = Number.NaN;
  private readonly iso = cachedTimeParser(parseIsoTime);
  private readonly parts: TimeParts | null;

  constructor(
    readonly format: string,
    readonly program: Program,
    private readonly normalizer: Normalizer,
    options: ParserOptions = {},
  ) {
    this.steps = program.steps;
    this.unescaping = program.escaping === 'none' ? 0 : program.escaping === 'json' ? 2 : 1;
    this.strict = options.strict ?? false;
    this.parts = program.timeParts ? new TimeParts() : null;
  }

  parseLine(line: string, origin: Origin): ApiEvent | Malformed {
    const bad = this.fill(line);
    if (bad !== null) return bad;
    return this.normalizer.finalize(this.draft, origin);
  }

  /** Cuts the line into the draft; null when it fits the format. */
  fill(line: string): Malformed | null {
    const d = this.draft.reset();
    const steps = this.steps;
    const n = steps.length;
    const len = line.length;
    const escaping = this.unescaping !== 0;
    const parts = this.parts;
    if (parts !== null) parts.reset();
    /** First bad value (time, status): reported only if the whole line fits the format. */
    let bad: Malformed | null = null;
    let pos = 0;
    /** Position of the next backslash at or after pos, or len. */
    let bs = escaping ? -1 : len;

    for (let i = 0; i < n; i++) {
      const st = steps[i]!;
      const lc = st.litCodes;
      const ll = lc.length;
      if (ll !== 0) {
        if (pos + ll > len) return this.mismatch(i, pos, false);
        for (let k = 0; k < ll; k++) {
          if (line.charCodeAt(pos + k) !== lc[k]) return this.mismatch(i, pos, false);
        }
        pos += ll;
      }
      const kind = st.kind;
      if (kind === K_END) {
        if (pos !== len) return this.mismatch(i, pos, true);
        break;
      }
      if (bs < pos) {
        bs = line.indexOf('\\', pos);
        if (bs === -1) bs = len;
      }
      let end: number;
      let escaped: boolean;
      if (st.quoted) {
        end = line.indexOf('"', pos);
        escaped = bs < end;
        // A backslash before the quote: skip escaped characters until an unescaped quote.
        while (end !== -1 && bs < end) {
          const p = bs + 2;
          bs = line.indexOf('\\', p);
          if (bs === -1) bs = len;
          if (end < p) end = line.indexOf('"', p);
        }
        if (end === -1) {
          return new Malformed(
            'format_mismatch',
            `no closing '"' for ${st.label} opened at column ${col(pos - 1)}`,
          );
        }
      } else if (st.width !== 0) {
        end = pos + st.width;
        if (end > len) {
          return new Malformed(
            'format_mismatch',
            `${st.label} at column ${col(pos)} is cut off by the end of the line`,
          );
        }
        escaped = bs < end;
      } else if (st.delim.length === 0) {
        end = len;
        escaped = bs < end;
      } else {
        end = this.unquotedEnd(line, pos, st);
        escaped = bs < end;
        if (end === -1) {
          return new Malformed(
            'format_mismatch',
            `expected ${quote(st.delim)} after ${st.label} (column ${col(pos)}), not found`,
          );
        }
        if (this.strict && st.spaces === 0 && !st.list) {
          const sp = line.indexOf(' ', pos);
          if (sp !== -1 && sp < end) {
            return new Malformed('format_mismatch', `${st.label} at column ${col(pos)} contains a space`);
          }
        }
      }
      if (kind === K_SKIP) {
        pos = end;
        continue;
      }
      if (end === pos || (end - pos === 1 && line.charCodeAt(pos) === 45) /* - */) {
        // Absent.
        if (kind === K_BYTES_OUT_CLF) d.bytesOut = 0;
        else if (kind === K_STATUS) bad ??= new Malformed('bad_status', `${st.label} is empty or '-'`);
        else if (kind >= K_TIME_CLF && kind <= K_TIME_EPOCH_US) {
          bad ??= new Malformed('bad_timestamp', `${st.label} is empty or '-'`);
        }
        pos = end;
        continue;
      }
      if (kind >= K_STATUS && kind <= K_LATENCY_US) {
        // Numbers are read in place: no string is cut for them.
        if (kind === K_STATUS) {
          const code = escaped ? -1 : uintAt(line, pos, end);
          if (code < 0) {
            bad ??= new Malformed(
              'bad_status',
              `${st.label} '${line.slice(pos, Math.min(end, pos + 16))}' is not a number`,
            );
          } else d.status = code;
        } else {
          const x = escaped ? -1 : kind === K_LATENCY_S ? secondsAt(line, pos, end) : uintAt(line, pos, end);
          if (x < 0) return this.notANumber(st, pos);
          if (kind === K_LATENCY_S || kind === K_LATENCY_MS) d.latencyMs = x;
          else if (kind === K_LATENCY_US) d.latencyMs = x / 1000;
          else if (kind === K_BYTES_IN) d.bytesIn = x;
          else d.bytesOut = x;
        }
        pos = end;
        continue;
      }
      let v = line.slice(pos, end);
      if (escaped) v = this.unescaping === 2 ? unescapeJson(v) : unescapeBackslash(v);
      switch (kind) {
        case K_PEER:
          d.peer = stripPort(v);
          break;
        case K_USER:
          d.remoteUser = v;
          break;
        case K_TIME_CLF:
          // Consecutive lines mostly share a second. (Cutting the string and comparing with === measured
          // faster than comparing char by char in place, or reading the digits in place.)
          if (v !== this.lastClf) {
            this.lastClf = v;
            this.lastClfTs = parseClfTime(v);
          }
          d.ts = this.lastClfTs;
          if (Number.isNaN(d.ts)) bad ??= badTime(st, v);
          break;
        case K_TIME_ISO:
          d.ts = this.iso(v);
          if (Number.isNaN(d.ts)) bad ??= badTime(st, v);
          break;
        case K_TIME_EPOCH_S:
          d.ts = parseEpochSeconds(v);
          if (Number.isNaN(d.ts)) bad ??= badTime(st, v);
          break;
        case K_TIME_EPOCH_MS:
        case K_TIME_EPOCH_US: {
          const t = uintAt(v, 0, v.length);
          d.ts = t < 0 ? Number.NaN : kind === K_TIME_EPOCH_MS ? t : Math.round(t / 1000);
          if (t < 0) bad ??= badTime(st, v);
          break;
        }
        case K_TIME_PART:
          if (!st.time!.read(v, parts!)) bad ??= badTime(st, v);
          break;
        case K_REQUEST:
          d.requestLine = v;
          break;
        case K_METHOD:
          d.method = v;
          break;
        case K_TARGET:
          d.target = v;
          break;
        case K_PATH:
          d.path = v;
          break;
        case K_QUERY:
          d.queryString = v;
          break;
        case K_QUERY_Q:
          d.queryString = v.charCodeAt(0) === 63 /* ? */ ? v.slice(1) : v;
          break;
        case K_PROTOCOL:
          d.protocol = v;
          break;
        case K_HOST:
          d.host = v;
          break;
        case K_LATENCY_LIST_S:
          d.latencyMs = secondsListMs(v);
          break;
        case K_REFERER:
          d.referer = v;
          break;
        case K_USER_AGENT:
          d.userAgent = v;
          break;
        case K_FORWARDED_FOR:
          d.forwardedFor = v;
          break;
        case K_REAL_IP:
          d.realIp = v;
          break;
        case K_HEADER:
          if (d.headers === null) d.headers = Object.create(null) as Record<string, string>;
          d.headers[st.name] = v;
          break;
        case K_RESPONSE_HEADER:
          if (d.responseHeaders === null) d.responseHeaders = Object.create(null) as Record<string, string>;
          d.responseHeaders[st.name] = v;
          break;
        case K_COOKIE:
          if (d.cookies === null) d.cookies = Object.create(null) as Record<string, string>;
          d.cookies[st.name] = v;
          break;
        case K_ARG:
          if (d.args === null) d.args = Object.create(null) as Record<string, string>;
          d.args[st.name] = v;
          break;
        case K_REQUEST_BODY:
          d.requestBody = v;
          break;
      }
      pos = end;
    }
    if (bad !== null) return bad;
    if (parts !== null) {
      d.ts = parts.toMs();
      if (Number.isNaN(d.ts))
        return new Malformed('bad_timestamp', 'the time fields do not make a valid time');
    }
    return null;
  }

  /** End of an unquoted value: the first occurrence of the next literal, past the value's own spaces. */
  private unquotedEnd(line: string, pos: number, st: Step): number {
    const delim = st.delim;
    if (st.tail) {
      const e = line.length - delim.length;
      return e >= pos && line.endsWith(delim) ? e : -1;
    }
    let from = pos;
    const spaceDelim = delim.charCodeAt(0) === 32;
    if (st.spaces > 0 && spaceDelim) {
      for (let k = 0; k < st.spaces; k++) {
        const sp = line.indexOf(' ', from);
        if (sp === -1) return -1;
        from = sp + 1;
      }
    }
    let e = line.indexOf(delim, from);
    if (st.list && spaceDelim) {
      // `0.010, 0.020 : 0.030`: a space after `,` or `:`, or before `:`, is inside the list.
      while (e !== -1) {
        const prev = line.charCodeAt(e - 1);
        if (prev !== 44 && prev !== 58 && line.charCodeAt(e + 1) !== 58) break;
        e = line.indexOf(delim, e + 1);
      }
    }
    return e;
  }

  private notANumber(st: Step, pos: number): Malformed {
    return new Malformed('format_mismatch', `expected a number for ${st.label} at column ${col(pos)}`);
  }

  /** Explains what step i expected at pos: its literal text, or (atEnd) the end of the line. */
  private mismatch(i: number, pos: number, atEnd: boolean): Malformed {
    const prev = i > 0 ? this.steps[i - 1]!.label : '';
    const where = prev === '' ? `at column ${col(pos)}` : `after ${prev} (column ${col(pos)})`;
    if (atEnd) return new Malformed('format_mismatch', `expected the end of the line ${where}`);
    return new Malformed('format_mismatch', `expected ${quote(this.steps[i]!.lit)} ${where}`);
  }
}

const badTime = (st: Step, v: string): Malformed =>
  new Malformed('bad_timestamp', `${st.label} '${v.slice(0, 40)}' is not a valid time`);

// ---------------------------------------------------------------------------------------------------------
// Detection.

const DETECT_LINES = 50;

/**
 * Fraction of the sample's first 50 non-blank lines that a strict parser turns into events. A last line
 * without a newline that does not parse is taken as cut off by the sampling and not counted.
 */
export function detectFraction(program: Program, name: string, sample: string): number {
  const parser = new LogFormatParser(name, program, new Normalizer(), { strict: true });
  const lines = sample.split('\n');
  const endsComplete = sample.endsWith('\n');
  let tried = 0;
  let good = 0;
  for (let i = 0; i < lines.length && tried < DETECT_LINES; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const ok = !isMalformed(parser.parseLine(line, { source: 'sample', line: i + 1 }));
    if (!ok && i === lines.length - 1 && !endsComplete && tried > 0) break;
    tried++;
    if (ok) good++;
  }
  return tried === 0 ? 0 : good / tried;
}
