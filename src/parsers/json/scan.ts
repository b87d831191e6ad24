/**
 * A selective JSON scanner for the JSON-lines presets. A gateway log line is about a kilobyte of JSON of
 * which a preset reads a dozen values; JSON.parse builds all of it (every header, the querystring, the route
 * and service objects, ...), and that building is most of its cost. `JsonPick` walks the text once instead,
 * validating all of it as JSON.parse does (RFC 8259: a line JSON.parse rejects is rejected, a line it accepts
 * is accepted, however deep), but materializes only the keys it was asked for; everything else is skipped
 * without allocating.
 *
 * The text is first copied into a shared UTF-16 code-unit buffer (one native copy): reading a typed array in
 * a loop is about twice as fast as `charCodeAt` on the sliced strings the line framer produces. A 0 written
 * after the last code unit ends every inner loop without a bounds check: a raw U+0000 is never valid JSON, so
 * the sentinel cannot be mistaken for text, and a comparison that stops at the first mismatch (`true`,
 * `null`) never reads past it. Only `\uXXXX`, whose four digits are read at once, checks the length.
 *
 * What a pick returns is a values array, one slot per wanted key, reused for every line. A wanted value comes
 * out exactly as JSON.parse would produce it (strings unescaped, numbers as Number(text), objects and arrays
 * as JSON.parse builds them); the slot of an absent key is undefined; a key given twice keeps its last value,
 * as in JSON.parse. See PickSpec for nested objects and header maps.
 *
 * On any error a pick only says "not a valid JSON object" (null): callers get the reason from parseJsonLine,
 * which is slow but runs only for broken lines.
 */
import { Buffer } from 'node:buffer';
import type { JsonObject } from './common.js';

/** Marks the slot of a key with a nested spec when its value was an object (read into the nested slots). */
export const OBJECT: unique symbol = Symbol('object');

/** The values of a pick, by the slot numbers its spec gave the keys. Reused for every line. */
export type Picked = readonly unknown[];

/**
 * A `{name: string}` map (request headers) of which only some names are wanted. When the value is an object
 * whose keys hold no ASCII upper-case letter and no escape, and whose values are all strings — the way
 * gateways log headers — the slot gets an object with just the entries named in `names`: a repeated name
 * keeps its last value, and a name whose last value is `omit` is left out. The object has no prototype
 * members, so every name is data. Any other value — an object with an upper-case or escaped name or with a
 * value that is not a string included — comes out whole, as JSON.parse makes it, so that a caller that
 * lower-cases names or joins array values sees every entry; `isPickedMap` tells the two apart.
 */
export class StringMapSpec {
  constructor(
    readonly slot: number,
    readonly names: readonly string[],
    readonly omit: string | null = null,
  ) {}
}

/**
 * The restricted maps of StringMapSpecs are instances of this class, whose prototype has no members at all
 * (not even `constructor`) and no prototype of its own: every name looked up in such a map is data, as in
 * an Object.create(null) map, but the map is a fast object (Object.create(null) makes a dictionary, slower
 * to build and to read).
 */
class PickedMap {}
Object.setPrototypeOf(PickedMap.prototype, null);
Reflect.deleteProperty(PickedMap.prototype, 'constructor');

/** True for the restricted map of a StringMapSpec, false for anything else (a whole object included). */
export const isPickedMap = (v: unknown): v is Record<string, string> => v instanceof PickedMap;

/**
 * Which keys to read and where their values go:
 * - `key: slot` — the whole value;
 * - `key: [slot, spec]` — an object value is read against `spec` (its wanted keys have their own slots) and
 *   `slot` gets OBJECT; any other value goes into `slot` itself. A repeated key forgets what the earlier
 *   object gave, as JSON.parse does;
 * - `key: new StringMapSpec(slot, names)` — see StringMapSpec.
 */
export interface PickSpec {
  readonly [key: string]: number | readonly [number, PickSpec] | StringMapSpec;
}

const VALUE = 0;
const NESTED = 1;
const MAP = 2;

interface Entry {
  readonly key: string;
  /** The key's code units, compared with the text (faster than charCodeAt on the key). */
  readonly codes: Uint16Array;
  readonly slot: number;
  readonly kind: typeof VALUE | typeof NESTED | typeof MAP;
  /** The level of a nested key; the wanted names of a map. */
  readonly sub: Level | null;
  /** The value a map leaves out. */
  readonly omit: string | null;
}

/** One object level of a spec, with its keys hashed for matching against the raw text. */
interface Level {
  readonly entries: readonly Entry[];
  /** Entries by keyHash (the bucket is the hash's top bits); null for an empty bucket. */
  readonly table: readonly (readonly Entry[] | null)[];
  /** 32 - log2(table.length). */
  readonly shift: number;
  readonly byName: ReadonlyMap<string, Entry>;
  /** Every slot of this level and of the levels below it: cleared when the key holding the level repeats. */
  readonly slots: readonly number[];
}

/**
 * A hash of a key from its length and three of its code units — the first, the middle and the last, read
 * in the quoted text `"key"` so that the empty key needs no special case. Computed from the raw text without
 * walking the key again; keys that collide are told apart by a full comparison.
 */
const keyHash = (len: number, first: number, mid: number, last: number, shift: number): number =>
  Math.imul(len ^ (first << 7) ^ (mid << 14) ^ (last << 21), 0x9e3779b1) >>> shift;

function level(entries: Entry[]): Level {
  let bits = 3;
  while (1 << bits < entries.length * 4) bits++;
  const shift = 32 - bits;
  const table: (Entry[] | null)[] = new Array<Entry[] | null>(1 << bits).fill(null);
  for (const e of entries) {
    const q = `"${e.key}"`;
    const len = e.key.length;
    const h = keyHash(len, q.charCodeAt(1), q.charCodeAt(1 + (len >> 1)), q.charCodeAt(len), shift);
    const bucket = table[h] ?? [];
    bucket.push(e);
    table[h] = bucket;
  }
  const slots: number[] = [];
  for (const e of entries) {
    if (e.slot >= 0) slots.push(e.slot);
    if (e.kind === NESTED) slots.push(...e.sub!.slots);
  }
  return { entries, table, shift, byName: new Map(entries.map((e) => [e.key, e])), slots };
}

function codesOf(key: string): Uint16Array {
  const codes = new Uint16Array(key.length);
  for (let k = 0; k < key.length; k++) codes[k] = key.charCodeAt(k);
  return codes;
}

function compile(spec: PickSpec, used: Set<number>): Level {
  const entries: Entry[] = [];
  for (const key of Object.keys(spec)) {
    const v = spec[key]!;
    const slot = typeof v === 'number' ? v : v instanceof StringMapSpec ? v.slot : v[0];
    if (!Number.isInteger(slot) || slot < 0 || used.has(slot)) {
      throw new Error(`JsonPick: the slot of '${key}' (${slot}) is not a new non-negative integer`);
    }
    used.add(slot);
    if (typeof v === 'number') {
      entries.push({ key, codes: codesOf(key), slot, kind: VALUE, sub: null, omit: null });
    } else if (v instanceof StringMapSpec) {
      const names = [...new Set(v.names)].map(
        (name): Entry => ({ key: name, codes: codesOf(name), slot: -1, kind: VALUE, sub: null, omit: null }),
      );
      entries.push({ key, codes: codesOf(key), slot, kind: MAP, sub: level(names), omit: v.omit });
    } else {
      entries.push({ key, codes: codesOf(key), slot, kind: NESTED, sub: compile(v[1], used), omit: null });
    }
  }
  return level(entries);
}

// ---------------------------------------------------------------------------------------------------------
// The shared code-unit buffer.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let units = new Uint16Array(0);
let bytes = Buffer.alloc(0);

/**
 * Copies `line` into the shared buffer, followed by two 0s: the sentinel, and a unit that the two-at-a-time
 * loops may read after it. The buffer grows to the longest line seen and stays (two bytes per code unit).
 */
function load(line: string): Uint16Array {
  const n = line.length;
  if (n + 2 > units.length) {
    const ab = new ArrayBuffer(Math.max(4096, units.length * 2, n + 2) * 2);
    units = new Uint16Array(ab);
    bytes = Buffer.from(ab);
  }
  const b = units;
  // Buffer writes UTF-16 little-endian: a copy of the code units where the typed array reads the same order.
  if (LITTLE_ENDIAN) bytes.write(line, 0, 'utf16le');
  else for (let i = 0; i < n; i++) b[i] = line.charCodeAt(i);
  b[n] = 0;
  b[n + 1] = 0;
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// Character classes.

/** Code units that end the plain run of a string: control characters, `"` and `\`. */
const STOP = new Uint8Array(65536);
for (let c = 0; c < 0x20; c++) STOP[c] = 1;
STOP[34] = 1;
STOP[92] = 1;

/** STOP, and the ASCII upper-case letters: the plain run of a header name. */
const NAME_STOP = STOP.slice();
for (let c = 65; c <= 90; c++) NAME_STOP[c] = 1;

/**
 * The end of the plain run (no control character, quote or backslash) starting at j. Two units per step
 * halve the loop's own work; on log lines that makes string skipping about 1.5 times as fast. The hottest
 * callers have this loop written out: V8 does not inline the call into them.
 */
function plainEnd(b: Uint16Array, j: number, stop: Uint8Array): number {
  while ((stop[b[j]!]! | stop[b[j + 1]!]!) === 0) j += 2;
  return stop[b[j]!] === 0 ? j + 1 : j;
}

/** What the one-character escapes stand for (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`); '' for no escape. */
const ESCAPED: readonly string[] = (() => {
  const t = new Array<string>(128).fill('');
  const pairs: [string, string][] = [
    ['"', '"'],
    ['\\', '\\'],
    ['/', '/'],
    ['b', '\b'],
    ['f', '\f'],
    ['n', '\n'],
    ['r', '\r'],
    ['t', '\t'],
  ];
  for (const [e, v] of pairs) t[e.charCodeAt(0)] = v;
  return t;
})();

/** Value of a hex digit, -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

const hex = (c: number): number => (c < 128 ? HEX[c]! : -1);

/** The code unit of `\uXXXX` whose hex digits start at `i` (all four are known to be hex digits). */
const hex4 = (b: Uint16Array, i: number): number =>
  (HEX[b[i]!]! << 12) | (HEX[b[i + 1]!]! << 8) | (HEX[b[i + 2]!]! << 4) | HEX[b[i + 3]!]!;

/** Exact powers of ten, for the decimal fast path of number reading. */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

const isWs = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

// ---------------------------------------------------------------------------------------------------------
// Skipping: validate without allocating. Each function takes the index where its token starts and returns the
// index after it, or -1 when the text is not valid JSON there.

function ws(b: Uint16Array, i: number): number {
  // Log lines rarely hold whitespace: one comparison settles the common case.
  while (b[i]! <= 32 && isWs(b[i]!)) i++;
  return i;
}

/**
 * The end of a string from `j` inside it: the index after the closing quote. Escapes are checked; a raw
 * control character (or the end of the line) is an error.
 */
function stringEnd(b: Uint16Array, j: number, n: number): number {
  for (;;) {
    j = plainEnd(b, j, STOP);
    const c = b[j]!;
    if (c === 34) return j + 1;
    if (c !== 92) return -1;
    // At most the sentinel follows a backslash at the end of the line, and it is no escape.
    const e = b[j + 1]!;
    if (e === 117 /* u */) {
      if (j + 5 >= n || (hex(b[j + 2]!) | hex(b[j + 3]!) | hex(b[j + 4]!) | hex(b[j + 5]!)) < 0) return -1;
      j += 6;
    } else if (e < 128 && ESCAPED[e] !== '') {
      j += 2;
    } else {
      return -1;
    }
  }
}

/** The end of a number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`). */
function numberEnd(b: Uint16Array, i: number): number {
  if (b[i] === 45 /* - */) i++;
  const c = b[i]!;
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) while (isDigit(b[++i]!));
  else return -1;
  if (b[i] === 46 /* . */) {
    if (!isDigit(b[++i]!)) return -1;
    while (isDigit(b[++i]!));
  }
  const e = b[i];
  if (e === 101 || e === 69 /* e E */) {
    const s = b[++i];
    if (s === 43 || s === 45 /* + - */) i++;
    if (!isDigit(b[i]!)) return -1;
    while (isDigit(b[++i]!));
  }
  return i;
}

/** The end of `true`, `false` or `null` starting at `i`, or -1. */
function literalEnd(b: Uint16Array, i: number): number {
  const c = b[i];
  if (c === 116 /* t */) return b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101 ? i + 4 : -1;
  if (c === 102 /* f */) {
    return b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101 ? i + 5 : -1;
  }
  if (c === 110 /* n */) return b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108 ? i + 4 : -1;
  return -1;
}

/** After `{` or `,` inside an object: a key, the colon and the whitespace before the value. */
function memberStart(b: Uint16Array, i: number, n: number): number {
  if (b[i] !== 34) return -1;
  let j = i + 1;
  while ((STOP[b[j]!]! | STOP[b[j + 1]!]!) === 0) j += 2;
  if (STOP[b[j]!] === 0) j++;
  i = b[j] === 34 ? j + 1 : stringEnd(b, j, n);
  if (i < 0) return -1;
  if (b[i] !== 58 /* : */) {
    i = ws(b, i);
    if (b[i] !== 58) return -1;
  }
  return b[i + 1]! > 32 ? i + 1 : ws(b, i + 1);
}

/** Open containers of skipValue, innermost last: 1 for an object, 0 for an array. Grown as needed. */
let stack = new Uint8Array(64);

/**
 * Skips any value, however deeply nested (JSON.parse has no depth limit either, so this keeps its own stack
 * instead of recursing).
 */
function skipValue(b: Uint16Array, i: number, n: number): number {
  let depth = 0;
  for (;;) {
    // A value starts at i.
    const c = b[i]!;
    if (c === 34) {
      let j = i + 1;
      while ((STOP[b[j]!]! | STOP[b[j + 1]!]!) === 0) j += 2;
      if (STOP[b[j]!] === 0) j++;
      i = b[j] === 34 ? j + 1 : stringEnd(b, j, n);
    } else if (c === 123 || c === 91 /* { [ */) {
      i = ws(b, i + 1);
      if (b[i] === c + 2 /* } ] */) {
        i++;
      } else {
        if (depth === stack.length) {
          const grown = new Uint8Array(depth * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[depth++] = c === 123 ? 1 : 0;
        if (c === 123) i = memberStart(b, i, n);
        if (i < 0) return -1;
        continue;
      }
    } else if (c === 45 || isDigit(c)) {
      i = numberEnd(b, i);
    } else {
      i = literalEnd(b, i);
    }
    if (i < 0) return -1;
    // After a value: close what ends here, or move on to the next element or member.
    for (;;) {
      if (depth === 0) return i;
      i = ws(b, i);
      const inObject = stack[depth - 1] === 1;
      const d = b[i];
      if (d === 44 /* , */) {
        i = ws(b, i + 1);
        if (inObject) i = memberStart(b, i, n);
        if (i < 0) return -1;
        break;
      }
      if (d !== (inObject ? 125 : 93)) return -1;
      i++;
      depth--;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading wanted values. Each function leaves the value in `out` and returns the index after it (or -1).

let out: unknown;

/** The content [start, end) of a validated string with escapes, unescaped the way JSON.parse does. */
function unescapeText(b: Uint16Array, line: string, start: number, end: number): string {
  let s = '';
  let seg = start;
  let j = line.indexOf('\\', start);
  while (j !== -1 && j < end) {
    s += line.slice(seg, j);
    const e = b[j + 1]!;
    if (e === 117) {
      // Each \uXXXX is one UTF-16 code unit, surrogate halves included, as in JSON.parse.
      s += String.fromCharCode(hex4(b, j + 2));
      seg = j + 6;
    } else {
      s += ESCAPED[e]!;
      seg = j + 2;
    }
    j = line.indexOf('\\', seg);
  }
  return s + line.slice(seg, end);
}

/**
 * Recently read short strings, by a hash of their text. A substring shorter than 13 code units is a copy,
 * and making one costs V8 several times what a slice of a longer string does (which only points into the
 * line); the short values of a log (methods, protocols, addresses, `-`) repeat, so most of them are found
 * here instead.
 */
const SHORT = new Array<string>(4096).fill('');
const SHORT_MAX = 12;

function shortString(b: Uint16Array, line: string, i: number, j: number): string {
  const len = j - i;
  let h = len;
  for (let k = i; k < j; k++) h = (Math.imul(h, 31) + b[k]!) | 0;
  h = (h ^ (h >>> 12)) & 4095;
  const s = SHORT[h]!;
  if (s.length === len) {
    let k = 0;
    while (k < len && s.charCodeAt(k) === b[i + k]) k++;
    if (k === len) return s;
  }
  const t = line.slice(i, j);
  SHORT[h] = t;
  return t;
}

function readString(b: Uint16Array, i: number, n: number, line: string): number {
  const j = plainEnd(b, i + 1, STOP);
  if (b[j] === 34) {
    out = j - i - 1 > SHORT_MAX ? line.slice(i + 1, j) : shortString(b, line, i + 1, j);
    return j + 1;
  }
  const end = stringEnd(b, j, n);
  if (end < 0) return -1;
  out = unescapeText(b, line, i + 1, end - 1);
  return end;
}

/**
 * A number as JSON.parse gives it, without making a string of it. Up to 15 digits and no exponent (sizes,
 * statuses, epoch ms, latencies): the digits form an exact integer, and one division by an exact power of
 * ten rounds correctly, which is what Number(text) gives too. Integers of 16 to 19 digits (epoch
 * nanoseconds): the first 15 digits `m` and the rest `r` (k digits) make m·10^k + r; with m split at 2^26
 * both parts of that sum are exact doubles, so the one addition rounds it correctly. Anything else goes
 * through Number(text).
 */
function readNumber(b: Uint16Array, i: number, line: string): number {
  const end = numberEnd(b, i);
  if (end < 0) return -1;
  let j = i;
  const neg = b[j] === 45;
  if (neg) j++;
  let m = 0;
  let rest = 0;
  let digits = 0;
  let frac = -1;
  for (; j < end; j++) {
    const c = b[j]!;
    if (c === 46) {
      frac = 0;
      continue;
    }
    if (c > 57) break; // an exponent
    if (digits < 15) m = m * 10 + (c - 48);
    else rest = rest * 10 + (c - 48);
    digits++;
    if (frac >= 0) frac++;
  }
  let v: number;
  if (j === end && digits <= 15) {
    v = frac > 0 ? m / POW10[frac]! : m;
  } else if (j === end && frac < 0 && digits <= 19) {
    const scale = POW10[digits - 15]!;
    const high = Math.floor(m / 67108864);
    v = high * scale * 67108864 + ((m - high * 67108864) * scale + rest);
  } else {
    out = Number(line.slice(i, end));
    return end;
  }
  out = neg ? -v : v;
  return end;
}

/** The whole value at `i` (an object or array) as JSON.parse builds it, after validating it here. */
function readWhole(b: Uint16Array, i: number, n: number, line: string): number {
  const end = skipValue(b, i, n);
  if (end < 0) return -1;
  // JSON.parse of the validated text gives exactly what JSON.parse of the line holds there: prototype,
  // `__proto__` keys, key order and repeated keys included.
  out = JSON.parse(line.slice(i, end));
  return end;
}

function readValue(b: Uint16Array, i: number, n: number, line: string): number {
  const c = b[i]!;
  if (c === 34) return readString(b, i, n, line);
  if (c === 45 || isDigit(c)) return readNumber(b, i, line);
  if (c === 123 || c === 91) return readWhole(b, i, n, line);
  out = c === 116 ? true : c === 102 ? false : null;
  return literalEnd(b, i);
}

/** The entry of `level` whose key is the plain text [ks, ke), or null. */
function find(level: Level, b: Uint16Array, ks: number, ke: number): Entry | null {
  const len = ke - ks;
  const cands = level.table[keyHash(len, b[ks]!, b[ks + (len >> 1)]!, b[ke - 1]!, level.shift)]!;
  if (cands === null) return null;
  for (let c = 0; c < cands.length; c++) {
    const e = cands[c]!;
    const codes = e.codes;
    if (codes.length !== len) continue;
    let k = 0;
    while (k < len && b[ks + k] === codes[k]) k++;
    if (k === len) return e;
  }
  return null;
}

/** A string map (`{` at i): see StringMapSpec. */
function readMap(b: Uint16Array, i: number, n: number, line: string, map: Entry): number {
  const start = i;
  const names = map.sub!;
  const o = new PickedMap() as Record<string, string>;
  i = ws(b, i + 1);
  if (b[i] !== 125) {
    for (;;) {
      if (b[i] !== 34) return -1;
      const ks = i + 1;
      let ke = ks;
      while ((NAME_STOP[b[ke]!]! | NAME_STOP[b[ke + 1]!]!) === 0) ke += 2;
      if (NAME_STOP[b[ke]!] === 0) ke++;
      // An upper-case letter or an escape in a name, or a value that is not a string: the caller must see
      // every entry as it is.
      if (b[ke] !== 34) return readWhole(b, start, n, line);
      const e = find(names, b, ks, ke);
      i = ws(b, ke + 1);
      if (b[i] !== 58) return -1;
      i = ws(b, i + 1);
      if (b[i] !== 34) return readWhole(b, start, n, line);
      if (e !== null) {
        i = readString(b, i, n, line);
        if (out !== map.omit) o[e.key] = out as string;
        else delete o[e.key];
      } else {
        let j = i + 1;
        while ((STOP[b[j]!]! | STOP[b[j + 1]!]!) === 0) j += 2;
        if (STOP[b[j]!] === 0) j++;
        i = b[j] === 34 ? j + 1 : stringEnd(b, j, n);
      }
      if (i < 0) return -1;
      i = ws(b, i);
      if (b[i] === 125) break;
      if (b[i] !== 44) return -1;
      i = ws(b, i + 1);
    }
  }
  out = o;
  return i + 1;
}

/** An object (`{` at i) read against one level of the spec. */
function pickObject(
  b: Uint16Array,
  i: number,
  n: number,
  line: string,
  level: Level,
  values: unknown[],
): number {
  i = ws(b, i + 1);
  if (b[i] === 125) return i + 1;
  for (;;) {
    if (b[i] !== 34) return -1;
    const ks = i + 1;
    // plainEnd, written out (see there).
    let j = ks;
    while ((STOP[b[j]!]! | STOP[b[j + 1]!]!) === 0) j += 2;
    if (STOP[b[j]!] === 0) j++;
    let entry: Entry | null;
    if (b[j] === 34) {
      entry = find(level, b, ks, j);
      i = j + 1;
    } else {
      // A key with escapes (or an error): compared once unescaped.
      i = stringEnd(b, j, n);
      if (i < 0) return -1;
      entry = level.byName.get(unescapeText(b, line, ks, i - 1)) ?? null;
    }
    if (b[i] !== 58) {
      i = ws(b, i);
      if (b[i] !== 58) return -1;
    }
    i = ws(b, i + 1);
    if (b[i] === 34 && (entry === null || entry.kind === VALUE)) {
      // Most values are strings, wanted or not: read here, without the calls of skipValue or readValue.
      j = i + 1;
      while ((STOP[b[j]!]! | STOP[b[j + 1]!]!) === 0) j += 2;
      if (STOP[b[j]!] === 0) j++;
      if (b[j] !== 34) {
        i = entry === null ? stringEnd(b, j, n) : readString(b, i, n, line);
        if (entry !== null) values[entry.slot] = out;
      } else {
        if (entry !== null) {
          values[entry.slot] = j - i - 1 > SHORT_MAX ? line.slice(i + 1, j) : shortString(b, line, i + 1, j);
        }
        i = j + 1;
      }
    } else if (entry === null) {
      i = skipValue(b, i, n);
    } else if (entry.kind === VALUE) {
      i = readValue(b, i, n, line);
      values[entry.slot] = out;
    } else if (entry.kind === MAP) {
      i = b[i] === 123 ? readMap(b, i, n, line, entry) : readValue(b, i, n, line);
      values[entry.slot] = out;
    } else {
      // A repeated key replaces the whole earlier object, as in JSON.parse: forget what it gave.
      const sub = entry.sub!;
      for (let k = 0; k < sub.slots.length; k++) values[sub.slots[k]!] = undefined;
      if (b[i] === 123) {
        values[entry.slot] = OBJECT;
        i = pickObject(b, i, n, line, sub, values);
      } else {
        i = readValue(b, i, n, line);
        values[entry.slot] = out;
      }
    }
    if (i < 0) return -1;
    if (b[i]! <= 32) i = ws(b, i);
    const c = b[i];
    if (c === 44) {
      i = ws(b, i + 1);
      continue;
    }
    return c === 125 ? i + 1 : -1;
  }
}

function readObject(o: JsonObject, level: Level, values: unknown[]): void {
  for (const e of level.entries) {
    const v = Object.hasOwn(o, e.key) ? o[e.key] : undefined;
    if (e.kind === NESTED && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      values[e.slot] = OBJECT;
      readObject(v as JsonObject, e.sub!, values);
    } else {
      values[e.slot] = v;
    }
  }
}

/** A compiled PickSpec: reads the wanted values of JSON object lines. */
export class JsonPick {
  private readonly root: Level;
  private readonly values: unknown[];

  constructor(spec: PickSpec) {
    const used = new Set<number>();
    this.root = compile(spec, used);
    this.values = new Array<unknown>(used.size === 0 ? 0 : Math.max(...used) + 1).fill(undefined);
  }

  /**
   * The wanted values of `line`, or null when it is not a valid JSON object (a UTF-8 BOM before it is not
   * part of the JSON text, as in parseJsonLine). The array is reused by the next call.
   */
  scan(line: string): Picked | null {
    const b = load(line);
    const n = line.length;
    let i = ws(b, b[0] === 0xfeff ? 1 : 0);
    if (b[i] !== 123) return null;
    const values = this.values;
    for (let k = 0; k < values.length; k++) values[k] = undefined;
    i = pickObject(b, i, n, line, this.root, values);
    return i >= 0 && ws(b, i) === n ? values : null;
  }

  /**
   * The same slots read from an object JSON.parse made (the path for lines the caller already parsed). A
   * string map gets its whole value here.
   */
  read(o: JsonObject): Picked {
    const values = this.values;
    for (let k = 0; k < values.length; k++) values[k] = undefined;
    readObject(o, this.root, values);
    return values;
  }
}
