/**
 * Value profiles for forged-parameter detection (docs/params.md): what one parameter's values looked like in
 * training — wire kinds, value types, numeric sample and sign, lengths, character classes, a bounded tally
 * of values — and the per-value classification both training and scoring use. Everything here is bounded
 * (values are attacker-controlled), mergeable (endpoints found under a literal path merge into their template)
 * and serializes to plain JSON.
 */
import { owned } from '../core/strings.js';

/** How a value travelled: query values are always `str`; JSON body values keep their JSON type. */
export type WireKind = 'str' | 'num' | 'bool' | 'null' | 'obj' | 'arr';

/**
 * The type of a value, from its text (or JSON type). `secret` is a value apiwarden redacted (a credential
 * replaced by `[token:…]`, a password by `[redacted]`): never tallied, never checked beyond its type.
 */
export type ValueType =
  | 'empty'
  | 'integer'
  | 'decimal'
  | 'boolean'
  | 'uuid'
  | 'hex'
  | 'email'
  | 'phone'
  | 'date'
  | 'datetime'
  | 'secret'
  | 'string'
  | 'null'
  | 'object'
  | 'array';

/** Types that are formats of a string: a value of another type where one of these was learned is a `format` finding. */
export const FORMAT_TYPES: ReadonlySet<ValueType> = new Set([
  'uuid',
  'hex',
  'email',
  'phone',
  'date',
  'datetime',
]);

/** Character classes a string value can contain (a value is summarized by the set of classes it holds). */
export const CHAR_CLASSES = [
  'digit',
  'lower',
  'upper',
  'space',
  'dash', // - _
  'dot', // .
  'plus', // +
  'at', // @
  'colon', // :
  'slash', // / \
  'comma', // , ;
  'quote', // ' " `
  'bracket', // ( ) [ ] { } < >
  'symbol', // ! # $ % & * = ? ^ | ~
  'control', // < 0x20, 0x7f
  'nonascii', // > 0x7f
] as const;
export type CharClass = (typeof CHAR_CLASSES)[number];

const CLASS_OF = new Uint8Array(128);
(() => {
  const set = (chars: string, c: CharClass) => {
    for (const ch of chars) CLASS_OF[ch.charCodeAt(0)] = CHAR_CLASSES.indexOf(c);
  };
  for (let i = 0; i < 128; i++) CLASS_OF[i] = CHAR_CLASSES.indexOf('symbol');
  for (let i = 0; i < 32; i++) CLASS_OF[i] = CHAR_CLASSES.indexOf('control');
  CLASS_OF[127] = CHAR_CLASSES.indexOf('control');
  for (let i = 48; i <= 57; i++) CLASS_OF[i] = CHAR_CLASSES.indexOf('digit');
  for (let i = 97; i <= 122; i++) CLASS_OF[i] = CHAR_CLASSES.indexOf('lower');
  for (let i = 65; i <= 90; i++) CLASS_OF[i] = CHAR_CLASSES.indexOf('upper');
  set(' \t', 'space');
  set('-_', 'dash');
  set('.', 'dot');
  set('+', 'plus');
  set('@', 'at');
  set(':', 'colon');
  set('/\\', 'slash');
  set(',;', 'comma');
  set('\'"`', 'quote');
  set('()[]{}<>', 'bracket');
})();
const NONASCII_BIT = 1 << CHAR_CLASSES.indexOf('nonascii');

/** The bitmask of character classes in `s` (bit i = CHAR_CLASSES[i]). */
export function charMask(s: string): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    m |= c < 128 ? 1 << CLASS_OF[c]! : NONASCII_BIT;
  }
  return m;
}

/** The class names of a mask, in CHAR_CLASSES order. */
export function maskClasses(m: number): CharClass[] {
  const out: CharClass[] = [];
  for (let i = 0; i < CHAR_CLASSES.length; i++) if (m & (1 << i)) out.push(CHAR_CLASSES[i]!);
  return out;
}

const INT = /^[-+]?\d{1,18}$/;
const DEC = /^[-+]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;
const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[a-z]{2,}$/i;
const PHONE = /^\+?[\d\s().-]{7,20}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

function digitCount(s: string): number {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) d++;
  }
  return d;
}

/** The type of a string value (query values, JSON strings). */
export function stringType(s: string): ValueType {
  const n = s.length;
  if (n === 0) return 'empty';
  const c0 = s.charCodeAt(0);
  if (c0 === 91 && (s === '[redacted]' || s.startsWith('[token:'))) return 'secret';
  if (n <= 19 && INT.test(s)) return 'integer';
  if (n <= 40 && DEC.test(s)) return 'decimal';
  if (n === 4 || n === 5) {
    const l = s.toLowerCase();
    if (l === 'true' || l === 'false') return 'boolean';
  }
  if (n === 36 && UUID.test(s)) return 'uuid';
  if (n >= 8 && HEX.test(s)) return 'hex';
  if (n === 10 && DATE.test(s)) return 'date';
  if (n >= 16 && n <= 35 && DATETIME.test(s)) return 'datetime';
  if (n <= 254 && s.indexOf('@') > 0 && EMAIL.test(s)) return 'email';
  if (n >= 7 && n <= 20 && PHONE.test(s)) {
    const d = digitCount(s);
    if (d >= 7 && d <= 15) return 'phone';
  }
  return 'string';
}

/** An observed value, classified once and used by every check. */
export interface Observed {
  kind: WireKind;
  type: ValueType;
  /** The value as text (JSON numbers and booleans as JSON writes them); null for objects and arrays. */
  text: string | null;
  /** The numeric value for integer / decimal values, else NaN. */
  num: number;
}

/** Classifies a query value. */
export function observeString(s: string): Observed {
  const type = stringType(s);
  return {
    kind: 'str',
    type,
    text: s,
    num: type === 'integer' || type === 'decimal' ? Number(s) : Number.NaN,
  };
}

/** Classifies a JSON body value by its JSON type (strings by their text). */
export function observeJson(v: unknown): Observed {
  switch (typeof v) {
    case 'string':
      return { ...observeString(v), kind: 'str' };
    case 'number':
      return {
        kind: 'num',
        type: Number.isInteger(v) ? 'integer' : 'decimal',
        text: String(v),
        num: v,
      };
    case 'boolean':
      return { kind: 'bool', type: 'boolean', text: String(v), num: Number.NaN };
    default:
      if (v === null) return { kind: 'null', type: 'null', text: 'null', num: Number.NaN };
      if (Array.isArray(v)) return { kind: 'arr', type: 'array', text: null, num: Number.NaN };
      return { kind: 'obj', type: 'object', text: null, num: Number.NaN };
  }
}

/**
 * Whether a value of type `value` can be the caller's user id of type `user` at all: the same type (integers
 * and hex digits count as one space). The actor relation compares a parameter only with callers whose id is
 * of its type: an account from another namespace (`staff-17` where customers are `100042`) reading customers'
 * ids is not a customer reading someone else's, and neither learns nor breaks the relation.
 */
export function sameIdSpace(user: ValueType, value: ValueType): boolean {
  if (user === value) return true;
  return (user === 'integer' && value === 'hex') || (user === 'hex' && value === 'integer');
}

/** Limits of one parameter's value profile. */
export interface ValueLimits {
  /** Distinct values tallied; one more distinct value drops the tally (the parameter is not an enumeration). */
  maxValues: number;
  /** Values longer than this are not tallied (and end the tally). */
  maxValueLength: number;
  /** Numeric sample size (a deterministic reservoir). */
  sampleSize: number;
}

/** Distinct callers counted per parameter for the actor relation, and callers remembered with another value. */
const MAX_ACTOR_USERS = 4_096;
const MAX_ACTOR_OTHERS = 256;

export const DEFAULT_VALUE_LIMITS: ValueLimits = { maxValues: 64, maxValueLength: 64, sampleSize: 256 };

/** The JSON form of a parameter's numeric values. */
export interface NumericJson {
  /** Numeric values seen. */
  n: number;
  min: number;
  max: number;
  /** Values < 0 and values = 0. */
  negative: number;
  zero: number;
  /** Values with a fractional part. */
  fractional: number;
  /** Up to `sampleSize` values, a uniform sample of all seen, sorted. */
  sample: number[];
  /**
   * The robust extremes: the least and greatest values that at least m callers reached (m = a 20th of the
   * callers, 1 to 8). Absent in profiles written before them (then `min` and `max`).
   */
  low?: number;
  high?: number;
}

/** The JSON form of one parameter's value profile (docs/params.md, "The profile"). */
export interface ParamJson {
  /** Requests that carried the parameter (an array field counts once per request). */
  requests: number;
  /** Values seen (array fields: one per element). */
  values: number;
  /** Values by wire kind. */
  kinds: Partial<Record<WireKind, number>>;
  /** Values by type. */
  types: Partial<Record<ValueType, number>>;
  /** String lengths (not of secrets): counts by length (exact to 64, then by power of two: "128" = 65..128). */
  lengths: Record<string, number>;
  minLength: number;
  maxLength: number;
  /** Values containing each character class (a value counts once per class). */
  charset: Partial<Record<CharClass, number>>;
  numeric: NumericJson | null;
  /** For values that read as a Unix time: their offsets in seconds from the request time (see `clockOffset`). */
  clock: NumericJson | null;
  /** Values with their counts while at most `maxValues` distinct were seen; null once there were more. */
  tally: Record<string, number> | null;
  /**
   * The parameter's value compared with the caller's user (requests with a user): how many requests were
   * compared and equal, how many distinct callers were compared (exact up to 4,096), and the callers seen with
   * another value, with their requests (at most 256; null once more, or once they were more than half of the
   * callers: the parameter is not the caller's own id).
   */
  actor: { compared: number; equal: number; users: number; others: Record<string, number> | null };
}

/** A small deterministic PRNG (xorshift32) for the reservoir, so the same input gives the same profile. */
function xorshift(s: number): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}

/** The length bucket of a string length. */
export function lengthKey(n: number): number {
  if (n <= 64) return n;
  return 2 ** Math.ceil(Math.log2(n));
}

/** Callers whose most extreme value is kept at each end, and callers counted (the trim is a 20th of them). */
const EXTREME_CALLERS = 8;
const COUNTED_CALLERS = EXTREME_CALLERS * 20;

/** A caller (a 32-bit hash of its identity) with its most extreme value at one end. */
interface CallerValue {
  c: number;
  v: number;
}

/**
 * Keeps, in `list`, the callers with the `EXTREME_CALLERS` most extreme values (`better(a, b)`: a is more
 * extreme), one entry per caller, most extreme first.
 */
function keepExtreme(list: CallerValue[], c: number, v: number, better: (a: number, b: number) => boolean) {
  const i = list.findIndex((e) => e.c === c);
  if (i >= 0) {
    if (!better(v, list[i]!.v)) return;
    list.splice(i, 1);
  } else if (list.length >= EXTREME_CALLERS && !better(v, list[EXTREME_CALLERS - 1]!.v)) return;
  let j = list.length;
  while (j > 0 && better(v, list[j - 1]!.v)) j--;
  list.splice(j, 0, { c, v });
  if (list.length > EXTREME_CALLERS) list.length = EXTREME_CALLERS;
}
const lower = (a: number, b: number) => a < b;
const higher = (a: number, b: number) => a > b;

/** A 32-bit FNV-1a hash of a caller's identity (token, user or address), for counting callers. */
export function callerHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Numeric values: count, exact extremes and signs, a uniform sample (deterministic reservoir), and the
 * **robust extremes** `low` and `high`: the most extreme values that at least m callers reached, m = a 20th
 * of the callers, 1 to 8. A caller is one source (token, user or address); the exact extremes are the word of
 * one request. When the training traffic holds an attack (the day being analyzed), a few callers sending
 * 0.01 as a price must not teach that 0.01 is a price; the values between the exact and the robust extremes
 * are judged by the tail model, so a legitimate rare extreme gets a weak finding at most.
 */
export class NumericStats {
  n = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  negative = 0;
  zero = 0;
  fractional = 0;
  sample: number[] = [];
  private rng = 0x9e3779b9;
  private sorted: number[] | null = null;
  /** Training: the callers with the lowest and highest values (one value each, the most extreme). */
  private lows: CallerValue[] = [];
  private highs: CallerValue[] = [];
  /** Training: distinct callers, counted to COUNTED_CALLERS. */
  private callers = new Set<number>();
  /** Read from a profile: the robust extremes as learned. */
  private fixed: { low: number; high: number } | null = null;

  constructor(readonly size: number) {}

  /** The least value at least m callers reached (see the class comment); `min` with one caller. */
  low(): number {
    if (this.fixed !== null) return this.fixed.low;
    const l = this.lows;
    return l.length === 0 ? this.min : l[Math.min(this.trim(), l.length) - 1]!.v;
  }

  /** The greatest value at least m callers reached. */
  high(): number {
    if (this.fixed !== null) return this.fixed.high;
    const h = this.highs;
    return h.length === 0 ? this.max : h[Math.min(this.trim(), h.length) - 1]!.v;
  }

  /** m: how many callers must reach a value for it to be in the robust range. */
  private trim(): number {
    return Math.max(1, Math.min(EXTREME_CALLERS, Math.floor(this.callers.size / 20)));
  }

  /** Records `count` occurrences of `x` sent by `caller` (a callerHash; 0 when unknown). */
  add(x: number, count = 1, caller = 0): void {
    if (this.callers.size < COUNTED_CALLERS) this.callers.add(caller);
    keepExtreme(this.lows, caller, x, lower);
    keepExtreme(this.highs, caller, x, higher);
    for (let k = 0; k < count; k++) {
      this.n++;
      if (x < 0) this.negative++;
      else if (x === 0) this.zero++;
      if (!Number.isInteger(x)) this.fractional++;
      if (this.sample.length < this.size) this.sample.push(x);
      else {
        this.rng = xorshift(this.rng);
        const j = this.rng % this.n;
        if (j < this.size) this.sample[j] = x;
      }
    }
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.sorted = null;
  }

  /** Samples merge by taking evenly spaced order statistics of each, in proportion to what each saw. */
  merge(o: NumericStats): void {
    if (o.n === 0) return;
    const total = this.n + o.n;
    if (this.sample.length + o.sample.length <= this.size) this.sample = [...this.sample, ...o.sample];
    else {
      const ka = Math.round((this.size * this.n) / total);
      this.sample = [...spaced(this.sample, ka), ...spaced(o.sample, this.size - ka)];
    }
    this.n = total;
    this.negative += o.negative;
    this.zero += o.zero;
    this.fractional += o.fractional;
    if (this.fixed !== null || o.fixed !== null) {
      // A profile read from JSON keeps only the robust extremes.
      this.fixed = { low: Math.min(this.low(), o.low()), high: Math.max(this.high(), o.high()) };
    } else {
      for (const e of o.lows) keepExtreme(this.lows, e.c, e.v, lower);
      for (const e of o.highs) keepExtreme(this.highs, e.c, e.v, higher);
      for (const c of o.callers) {
        if (this.callers.size >= COUNTED_CALLERS) break;
        this.callers.add(c);
      }
    }
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.sorted = null;
  }

  /** The sample, sorted (cached). */
  sortedSample(): number[] {
    this.sorted ??= [...this.sample].sort((x, y) => x - y);
    return this.sorted;
  }

  toJSON(): NumericJson | null {
    if (this.n === 0) return null;
    return {
      n: this.n,
      min: this.min,
      max: this.max,
      negative: this.negative,
      zero: this.zero,
      fractional: this.fractional,
      sample: this.sortedSample().slice(),
      low: this.low(),
      high: this.high(),
    };
  }

  static fromJSON(j: NumericJson | null, size: number): NumericStats {
    const s = new NumericStats(size);
    if (j === null) return s;
    s.n = j.n;
    s.min = j.min;
    s.max = j.max;
    s.negative = j.negative;
    s.zero = j.zero;
    s.fractional = j.fractional;
    s.sample = j.sample.slice(0, size);
    // Profiles written before the robust extremes: the exact ones.
    s.fixed = { low: j.low ?? j.min, high: j.high ?? j.max };
    return s;
  }
}

/**
 * Seconds from the request time to a value that reads as a Unix time (seconds 1e9..1e10, or milliseconds
 * 1e12..1e13); null for other values. A parameter whose values track the clock (`ts`, `timestamp`) is
 * checked by this offset, not by its value, which grows with every day.
 */
export function clockOffset(x: number, ts: number): number | null {
  if (x >= 1e9 && x < 1e10) return x - ts / 1000;
  if (x >= 1e12 && x < 1e13) return (x - ts) / 1000;
  return null;
}

/** Training accumulator and profile of one parameter. */
export class ParamStats {
  requests = 0;
  values = 0;
  kinds: Partial<Record<WireKind, number>> = {};
  types: Partial<Record<ValueType, number>> = {};
  lengths = new Map<number, number>();
  minLength = Number.POSITIVE_INFINITY;
  maxLength = 0;
  charset = new Uint32Array(CHAR_CLASSES.length);
  num: NumericStats;
  /** Offsets (seconds) of clock-like values from their request's time. */
  clock: NumericStats;
  tally: Map<string, number> | null = new Map();
  actorCompared = 0;
  actorEqual = 0;
  /** Distinct callers compared (training only; the profile keeps the count). */
  actorUsers: Set<string> | null = new Set();
  actorUserCount = 0;
  /** Callers seen with another value than their own user, with their requests; null: not a relation. */
  actorOthers: Map<string, number> | null = new Map();
  /** The last request that counted towards `requests` (presence is once per request). */
  lastRequest = -1;

  constructor(readonly limits: ValueLimits = DEFAULT_VALUE_LIMITS) {
    this.num = new NumericStats(limits.sampleSize);
    this.clock = new NumericStats(limits.sampleSize);
  }

  /**
   * Records a value seen in request number `request` at time `ts` (presence counts once per request), sent by
   * `caller` (a callerHash; 0 when unknown).
   */
  add(o: Observed, request: number, ts: number, count = 1, caller = 0): void {
    if (request !== this.lastRequest) {
      this.lastRequest = request;
      this.requests += count;
    }
    this.values += count;
    this.kinds[o.kind] = (this.kinds[o.kind] ?? 0) + count;
    this.types[o.type] = (this.types[o.type] ?? 0) + count;
    if (!Number.isNaN(o.num)) {
      this.num.add(o.num, count, caller);
      const off = clockOffset(o.num, ts);
      if (off !== null) this.clock.add(off, count, caller);
    }
    const t = o.text;
    if (t === null || o.type === 'secret') return;
    if (o.kind === 'str') {
      const k = lengthKey(t.length);
      this.lengths.set(k, (this.lengths.get(k) ?? 0) + count);
      if (t.length < this.minLength) this.minLength = t.length;
      if (t.length > this.maxLength) this.maxLength = t.length;
      const m = charMask(t);
      for (let i = 0; m >>> i !== 0; i++) if (m & (1 << i)) this.charset[i]! += count;
    }
    const tally = this.tally;
    if (tally !== null) {
      if (t.length > this.limits.maxValueLength) this.tally = null;
      else {
        const c = tally.get(t);
        if (c !== undefined) tally.set(t, c + count);
        else if (tally.size < this.limits.maxValues) tally.set(owned(t), count);
        else this.tally = null;
      }
    }
  }

  /** Compares the value with the caller's user id (for the actor relation). */
  compareActor(text: string, user: string): void {
    this.actorCompared++;
    if (text === user) this.actorEqual++;
    const others = this.actorOthers;
    if (others === null) return;
    if (this.actorUsers !== null && !this.actorUsers.has(user)) {
      if (this.actorUsers.size < MAX_ACTOR_USERS) this.actorUsers.add(user);
      this.actorUserCount = this.actorUsers.size;
    }
    if (text !== user) {
      const c = others.get(user);
      if (c !== undefined) others.set(user, c + 1);
      else if (others.size < MAX_ACTOR_OTHERS) others.set(owned(user), 1);
      else this.dropActor();
    }
    if (this.actorUserCount >= 20 && others !== null && others.size * 2 > this.actorUserCount)
      this.dropActor();
  }

  private dropActor(): void {
    this.actorOthers = null;
    this.actorUsers = null;
  }

  /**
   * Whether the parameter is the caller's own id: compared for at least 10 callers, and at most a tenth of the
   * callers ever sent another value (those callers, e.g. support staff, are remembered and exempt).
   */
  isActorId(): boolean {
    return (
      this.actorOthers !== null &&
      this.actorEqual >= 10 &&
      this.actorUserCount >= 10 &&
      this.actorOthers.size <= this.actorUserCount * 0.1
    );
  }

  /** Whether the values track the request time (nearly all numeric values read as a Unix time). */
  isClock(): boolean {
    return this.num.n >= 3 && this.clock.n >= this.num.n * 0.95;
  }

  merge(o: ParamStats): void {
    this.requests += o.requests;
    this.values += o.values;
    for (const k in o.kinds)
      this.kinds[k as WireKind] = (this.kinds[k as WireKind] ?? 0) + o.kinds[k as WireKind]!;
    for (const k in o.types)
      this.types[k as ValueType] = (this.types[k as ValueType] ?? 0) + o.types[k as ValueType]!;
    for (const [k, v] of o.lengths) this.lengths.set(k, (this.lengths.get(k) ?? 0) + v);
    if (o.minLength < this.minLength) this.minLength = o.minLength;
    if (o.maxLength > this.maxLength) this.maxLength = o.maxLength;
    for (let i = 0; i < this.charset.length; i++) this.charset[i]! += o.charset[i]!;
    this.num.merge(o.num);
    this.clock.merge(o.clock);
    if (this.tally === null || o.tally === null) this.tally = null;
    else
      for (const [v, c] of o.tally) {
        const cur = this.tally.get(v);
        if (cur !== undefined) this.tally.set(v, cur + c);
        else if (this.tally.size < this.limits.maxValues) this.tally.set(v, c);
        else {
          this.tally = null;
          break;
        }
      }
    this.actorCompared += o.actorCompared;
    this.actorEqual += o.actorEqual;
    if (this.actorOthers === null || o.actorOthers === null) this.dropActor();
    else {
      for (const [u, c] of o.actorOthers) {
        if (this.actorOthers.size >= MAX_ACTOR_OTHERS && !this.actorOthers.has(u)) {
          this.dropActor();
          break;
        }
        this.actorOthers.set(u, (this.actorOthers.get(u) ?? 0) + c);
      }
      if (this.actorUsers !== null && o.actorUsers !== null) {
        for (const u of o.actorUsers) if (this.actorUsers.size < MAX_ACTOR_USERS) this.actorUsers.add(u);
        this.actorUserCount = this.actorUsers.size;
      } else this.actorUserCount = Math.max(this.actorUserCount, o.actorUserCount);
    }
  }

  /** Values counted with each character class. */
  classCount(i: number): number {
    return this.charset[i]!;
  }

  toJSON(): ParamJson {
    const lengths: Record<string, number> = {};
    for (const k of [...this.lengths.keys()].sort((x, y) => x - y)) lengths[String(k)] = this.lengths.get(k)!;
    const charset: Partial<Record<CharClass, number>> = {};
    for (let i = 0; i < CHAR_CLASSES.length; i++)
      if (this.charset[i]! > 0) charset[CHAR_CLASSES[i]!] = this.charset[i]!;
    let tally: Record<string, number> | null = null;
    if (this.tally !== null) {
      // A null-prototype map: a value may be `__proto__`.
      tally = Object.create(null) as Record<string, number>;
      for (const k of [...this.tally.keys()].sort()) tally[k] = this.tally.get(k)!;
    }
    return {
      requests: this.requests,
      values: this.values,
      kinds: { ...this.kinds },
      types: { ...this.types },
      lengths,
      minLength: this.lengths.size === 0 ? 0 : this.minLength,
      maxLength: this.maxLength,
      charset,
      numeric: this.num.toJSON(),
      clock: this.clock.toJSON(),
      tally,
      actor: {
        compared: this.actorCompared,
        equal: this.actorEqual,
        users: this.actorUserCount,
        others:
          this.actorOthers === null
            ? null
            : Object.assign(
                Object.create(null) as Record<string, number>,
                Object.fromEntries([...this.actorOthers].sort()),
              ),
      },
    };
  }

  static fromJSON(j: ParamJson, limits: ValueLimits = DEFAULT_VALUE_LIMITS): ParamStats {
    const p = new ParamStats(limits);
    p.requests = j.requests;
    p.values = j.values;
    p.kinds = { ...j.kinds };
    p.types = { ...j.types };
    for (const k in j.lengths) p.lengths.set(Number(k), j.lengths[k]!);
    p.minLength = p.lengths.size === 0 ? Number.POSITIVE_INFINITY : j.minLength;
    p.maxLength = j.maxLength;
    for (let i = 0; i < CHAR_CLASSES.length; i++) p.charset[i] = j.charset[CHAR_CLASSES[i]!] ?? 0;
    p.num = NumericStats.fromJSON(j.numeric, limits.sampleSize);
    p.clock = NumericStats.fromJSON(j.clock, limits.sampleSize);
    p.tally = j.tally === null ? null : new Map(Object.entries(j.tally));
    p.actorCompared = j.actor.compared;
    p.actorEqual = j.actor.equal;
    p.actorUsers = null;
    p.actorUserCount = j.actor.users;
    p.actorOthers = j.actor.others === null ? null : new Map(Object.entries(j.actor.others));
    return p;
  }
}

/** `k` evenly spaced order statistics of `xs` (all of them when k ≥ length). */
function spaced(xs: number[], k: number): number[] {
  if (k >= xs.length) return xs.slice();
  if (k <= 0) return [];
  const s = [...xs].sort((x, y) => x - y);
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(s[Math.floor(((i + 0.5) * s.length) / k)]!);
  return out;
}

/** The q-quantile of a sorted array (linear interpolation), NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
