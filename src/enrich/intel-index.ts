/**
 * The threat-intel lookup index: what an address or a user agent is known as, asked once per event.
 *
 * Addresses: every network of every list is an interval of the address space, and CIDR blocks never partly
 * overlap (two are nested or disjoint). A sweep over them cuts the space into disjoint segments, each with
 * the frozen list of hits that covers it (most specific network first); a lookup is one binary search over
 * the segment starts: a Uint32Array for IPv4, four 32-bit words per start for IPv6 (no BigInt). Nothing is
 * allocated per lookup and nothing is memoised, so distinct attacker addresses cost nothing extra.
 *
 * User agents: substrings go through one Aho-Corasick automaton (a dense transition table over the
 * characters the patterns use, case folded by mapping both cases to one class), regexes through one joined
 * prefilter, then each regex only when the prefilter matched. Only the first MAX_UA_SCAN_CHARS characters
 * are scanned.
 *
 * Intel is evidence and a feature, never on its own a reason to alert (docs/intel.md).
 */
import { ipv4ToInt, ipv6ToWords } from '../core/net.js';
import type { IpEntry, UaEntry } from './intel-formats.js';

/** What a listed address or agent is. */
export const INTEL_CATEGORIES = ['tor', 'datacenter', 'proxy', 'blocklist', 'scanner', 'allow'] as const;
export type IntelCategory = (typeof INTEL_CATEGORIES)[number];

/** One list entry that matched. Hits are shared and frozen: do not modify them. */
export interface IntelHit {
  category: IntelCategory;
  /** The name of the list (the source's `name`). */
  list: string;
  /** The matched network (`203.0.113.0/24`) or user-agent pattern (`sqlmap`, `re:^python-requests/`). */
  match: string;
  /** The entry's name in its list (a comment, a Tor relay fingerprint, a user-agent pattern's name). */
  name?: string;
  /** Whose network: `aws`, `gcp`, or the source's `provider`. */
  provider?: string;
  region?: string;
  service?: string;
}

/** An address list ready to index. */
export interface IpListData {
  list: string;
  category: IntelCategory;
  provider?: string;
  entries: readonly IpEntry[];
}

/** A user-agent list ready to index. */
export interface UaListData {
  list: string;
  category: IntelCategory;
  entries: readonly UaEntry[];
}

/** The numbers `features` writes, in this order; each is 0 or 1. */
export const INTEL_FEATURES = [
  'is_tor',
  'is_datacenter',
  'is_blocklisted',
  'bad_ua',
  'is_allowlisted',
] as const;
export type IntelFeature = (typeof INTEL_FEATURES)[number];

/** User agents are scanned up to this many characters. */
export const MAX_UA_SCAN_CHARS = 2048;

const NO_HITS: readonly IntelHit[] = Object.freeze([]);

// ---------------------------------------------------------------------------------------------------------
// Address ranges

/** A network as an interval of W-word keys (W = 1 for IPv4, 4 for IPv6). */
interface Span {
  start: number[];
  end: number[];
  prefix: number;
  order: number;
  hit: IntelHit;
}

function cmpKey(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** k + 1, or null past the end of the address space. */
function nextKey(k: readonly number[]): number[] | null {
  const r = k.slice();
  for (let i = r.length - 1; i >= 0; i--) {
    if (r[i] !== 0xffffffff) {
      r[i]!++;
      return r;
    }
    r[i] = 0;
  }
  return null;
}

/** Disjoint segments covering the whole space: segment i starts at key i and has hit set `sets[i]`. */
class RangeTable {
  constructor(
    readonly words: number,
    readonly starts: Uint32Array,
    readonly sets: Uint32Array,
    readonly hitSets: readonly (readonly IntelHit[])[],
  ) {}

  get segments(): number {
    return this.sets.length;
  }

  static build(words: number, spans: Span[]): RangeTable {
    spans.sort((a, b) => cmpKey(a.start, b.start) || a.prefix - b.prefix || a.order - b.order);
    const starts: number[] = [];
    const sets: number[] = [];
    const hitSets: (readonly IntelHit[])[] = [NO_HITS];
    const setIds = new Map<string, number>([['', 0]]);
    const stack: Span[] = [];
    let pos: number[] | null = new Array<number>(words).fill(0);
    const currentSet = (): number => {
      const key = stack.map((s) => s.order).join(',');
      let id = setIds.get(key);
      if (id === undefined) {
        id = hitSets.length;
        // Most specific network first; the same network in list order.
        const inner = stack.slice().sort((a, b) => b.prefix - a.prefix || a.order - b.order);
        hitSets.push(Object.freeze(inner.map((s) => s.hit)));
        setIds.set(key, id);
      }
      return id;
    };
    /** Ends the open segment [pos, point) with the current stack; null = the end of the space. */
    const cut = (point: number[] | null): void => {
      if (pos === null || (point !== null && cmpKey(pos, point) >= 0)) return;
      const id = currentSet();
      if (sets.length === 0 || sets[sets.length - 1] !== id) {
        starts.push(...pos);
        sets.push(id);
      }
      pos = point;
    };
    for (const s of spans) {
      while (stack.length > 0 && cmpKey(stack[stack.length - 1]!.end, s.start) < 0) {
        cut(nextKey(stack[stack.length - 1]!.end));
        stack.pop();
      }
      cut(s.start);
      stack.push(s);
    }
    while (stack.length > 0) {
      cut(nextKey(stack[stack.length - 1]!.end));
      stack.pop();
    }
    cut(null);
    return new RangeTable(words, Uint32Array.from(starts), Uint32Array.from(sets), hitSets);
  }

  lookup4(n: number): readonly IntelHit[] {
    const s = this.starts;
    let lo = 0;
    let hi = this.sets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid]! <= n) lo = mid;
      else hi = mid - 1;
    }
    return this.hitSets[this.sets[lo]!]!;
  }

  lookup6(k: Uint32Array): readonly IntelHit[] {
    const s = this.starts;
    const k0 = k[0]!;
    const k1 = k[1]!;
    const k2 = k[2]!;
    const k3 = k[3]!;
    let lo = 0;
    let hi = this.sets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const o = mid * 4;
      // starts[mid] <= k, word by word.
      let le: boolean;
      if (s[o] !== k0) le = s[o]! < k0;
      else if (s[o + 1] !== k1) le = s[o + 1]! < k1;
      else if (s[o + 2] !== k2) le = s[o + 2]! < k2;
      else le = s[o + 3]! <= k3;
      if (le) lo = mid;
      else hi = mid - 1;
    }
    return this.hitSets[this.sets[lo]!]!;
  }
}

const WORDS = new Uint32Array(4);

function maskBits(prefix: number, word: number): number {
  const bits = Math.min(32, Math.max(0, prefix - 32 * word));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Reads an indexed entry's CIDR into spans (an IPv4-mapped IPv6 network goes with the IPv4 ones). */
function addSpan(cidr: string, hit: IntelHit, order: number, v4: Span[], v6: Span[]): boolean {
  const slash = cidr.lastIndexOf('/');
  const addr = slash === -1 ? cidr : cidr.slice(0, slash);
  const n = ipv4ToInt(addr);
  if (n !== -1) {
    const prefix = slash === -1 ? 32 : Number(cidr.slice(slash + 1));
    if (!(prefix >= 0 && prefix <= 32)) return false;
    const mask = maskBits(prefix, 0);
    const start = (n & mask) >>> 0;
    v4.push({ start: [start], end: [(start | ~mask) >>> 0], prefix, order, hit });
    return true;
  }
  if (!ipv6ToWords(addr, WORDS)) return false;
  const prefix = slash === -1 ? 128 : Number(cidr.slice(slash + 1));
  if (!(prefix >= 0 && prefix <= 128)) return false;
  if (prefix >= 96 && WORDS[0] === 0 && WORDS[1] === 0 && WORDS[2] === 0xffff) {
    const mask = maskBits(prefix - 96, 0);
    const start = (WORDS[3]! & mask) >>> 0;
    v4.push({ start: [start], end: [(start | ~mask) >>> 0], prefix: prefix - 96, order, hit });
    return true;
  }
  const start: number[] = [];
  const end: number[] = [];
  for (let w = 0; w < 4; w++) {
    const mask = maskBits(prefix, w);
    start.push((WORDS[w]! & mask) >>> 0);
    end.push((WORDS[w]! | ~mask) >>> 0);
  }
  v6.push({ start, end, prefix, order, hit });
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// User agents

/** Aho-Corasick over case-folded character classes; reports every pattern that occurs. */
class SubstringMatcher {
  /** Char code → class (0: no pattern has the character). */
  private readonly classOf: Uint16Array;
  private readonly alpha: number;
  /** Full transition table: delta[state * alpha + class]. */
  private readonly delta: Int32Array;
  /** First pattern that ends at a state, -1 if none; further ones through `termNext`. */
  private readonly term: Int32Array;
  private readonly termNext: Int32Array;
  /** The nearest proper suffix state where a pattern ends, -1 if none. */
  private readonly dict: Int32Array;
  readonly size: number;

  constructor(patterns: readonly string[]) {
    this.size = patterns.length;
    this.classOf = new Uint16Array(patterns.length === 0 ? 0 : 65536);
    let classes = 0;
    const classFor = (code: number): number => {
      let c = this.classOf[code]!;
      if (c === 0) {
        c = ++classes;
        this.classOf[code] = c;
        const ch = String.fromCharCode(code);
        for (const v of [ch.toUpperCase(), ch.toLowerCase()])
          if (v.length === 1 && this.classOf[v.charCodeAt(0)] === 0) this.classOf[v.charCodeAt(0)] = c;
      }
      return c;
    };
    const children: Map<number, number>[] = [new Map()];
    const termList: number[] = [-1];
    const termNext = new Int32Array(patterns.length).fill(-1);
    patterns.forEach((p, pi) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = classFor(p.charCodeAt(i));
        let t = children[s]!.get(c);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          termList.push(-1);
          children[s]!.set(c, t);
        }
        s = t;
      }
      termNext[pi] = termList[s]!;
      termList[s] = pi;
    });
    const states = children.length;
    this.alpha = classes + 1;
    const alpha = this.alpha;
    const delta = new Int32Array(states * alpha);
    const fail = new Int32Array(states);
    const dict = new Int32Array(states).fill(-1);
    const term = Int32Array.from(termList);
    // Breadth first: a state's failure state is shallower, so its row is complete when needed.
    const queue: number[] = [];
    for (const [c, t] of children[0]!) {
      delta[c] = t;
      queue.push(t);
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      const f = fail[s]!;
      dict[s] = term[f] !== -1 ? f : dict[f]!;
      for (let c = 0; c < alpha; c++) delta[s * alpha + c] = delta[f * alpha + c]!;
      for (const [c, t] of children[s]!) {
        fail[t] = delta[f * alpha + c]!;
        delta[s * alpha + c] = t;
        queue.push(t);
      }
    }
    // The root's own row points at the root for characters no pattern starts with (already 0).
    this.delta = delta;
    this.term = term;
    this.termNext = termNext;
    this.dict = dict;
  }

  /**
   * Appends to `out` the index of every pattern occurring in s[0, end), each once: `seen[p] === stamp` marks
   * a pattern already reported by this scan.
   */
  scan(s: string, end: number, seen: Uint32Array, stamp: number, out: number[]): void {
    if (this.size === 0) return;
    const { classOf, delta, alpha, term, termNext, dict } = this;
    let state = 0;
    for (let i = 0; i < end; i++) {
      const c = classOf[s.charCodeAt(i)]!;
      state = c === 0 ? 0 : delta[state * alpha + c]!;
      let t = term[state] !== -1 ? state : dict[state]!;
      while (t !== -1) {
        for (let p = term[t]!; p !== -1; p = termNext[p]!) {
          if (seen[p] !== stamp) {
            seen[p] = stamp;
            out.push(p);
          }
        }
        t = dict[t]!;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The index

export interface IntelIndexStats {
  ipv4Networks: number;
  ipv6Networks: number;
  /** Disjoint segments the networks cut the space into (the binary search's size). */
  ipv4Segments: number;
  ipv6Segments: number;
  uaSubstrings: number;
  uaRegexes: number;
}

function makeHit(
  base: { category: IntelCategory; list: string; provider?: string },
  match: string,
  extra: { name?: string; region?: string; service?: string },
): IntelHit {
  const h: IntelHit = { category: base.category, list: base.list, match };
  if (extra.name !== undefined) h.name = extra.name;
  if (base.provider !== undefined) h.provider = base.provider;
  if (extra.region !== undefined) h.region = extra.region;
  if (extra.service !== undefined) h.service = extra.service;
  return Object.freeze(h);
}

/** An immutable index over address and user-agent lists. Build a new one when a list changes. */
export class IntelIndex {
  static readonly EMPTY = IntelIndex.build([], []);

  private readonly v4: RangeTable;
  private readonly v6: RangeTable;
  private readonly substrings: SubstringMatcher;
  private readonly substringHits: IntelHit[];
  private readonly regexes: RegExp[];
  private readonly regexHits: IntelHit[];
  /** All regexes joined: most agents match none, and then one test answers for all of them. */
  private readonly prefilter: RegExp | null;
  /** Per substring pattern: the lookup that last reported it (dedupes repeats without allocating). */
  private readonly seen: Uint32Array;
  private stamp = 0;
  private readonly found: number[] = [];
  readonly stats: IntelIndexStats;

  private constructor(ipLists: readonly IpListData[], uaLists: readonly UaListData[]) {
    const v4: Span[] = [];
    const v6: Span[] = [];
    let order = 0;
    for (const l of ipLists) {
      for (const e of l.entries) {
        const hit = makeHit(l, e.cidr, e);
        if (!addSpan(e.cidr, hit, order++, v4, v6))
          throw new Error(`intel list '${l.list}': bad CIDR '${e.cidr}'`);
      }
    }
    const stats = { ipv4Networks: v4.length, ipv6Networks: v6.length };
    this.v4 = RangeTable.build(1, v4);
    this.v6 = RangeTable.build(4, v6);
    const subs: string[] = [];
    this.substringHits = [];
    this.regexes = [];
    this.regexHits = [];
    for (const l of uaLists) {
      for (const e of l.entries) {
        const hit = makeHit(l, e.pattern, { name: e.name });
        if (e.kind === 'substring') {
          subs.push(e.source);
          this.substringHits.push(hit);
        } else {
          this.regexes.push(new RegExp(e.source, 'i'));
          this.regexHits.push(hit);
        }
      }
    }
    this.substrings = new SubstringMatcher(subs);
    this.seen = new Uint32Array(subs.length);
    this.prefilter =
      this.regexes.length === 0
        ? null
        : new RegExp(this.regexes.map((r) => `(?:${r.source})`).join('|'), 'i');
    this.stats = {
      ...stats,
      ipv4Segments: this.v4.segments,
      ipv6Segments: this.v6.segments,
      uaSubstrings: subs.length,
      uaRegexes: this.regexes.length,
    };
  }

  /** Throws only on entries the format parsers would never produce (a bad CIDR, a regex that does not compile). */
  static build(ipLists: readonly IpListData[], uaLists: readonly UaListData[]): IntelIndex {
    return new IntelIndex(ipLists, uaLists);
  }

  /**
   * Every list entry covering the address, most specific network first; an empty array when none does, or
   * when the text is not an address. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is looked up as IPv4.
   */
  lookupIp(ip: string): readonly IntelHit[] {
    const n = ipv4ToInt(ip);
    if (n !== -1) return this.v4.lookup4(n);
    if (!ipv6ToWords(ip, WORDS)) return NO_HITS;
    if (WORDS[0] === 0 && WORDS[1] === 0 && WORDS[2] === 0xffff) return this.v4.lookup4(WORDS[3]!);
    return this.v6.lookup6(WORDS);
  }

  /** Every pattern occurring in the agent (substrings first, then regexes, each in list order). */
  lookupUserAgent(ua: string | null): readonly IntelHit[] {
    if (ua === null || ua === '' || ua === '-') return NO_HITS;
    const end = Math.min(ua.length, MAX_UA_SCAN_CHARS);
    let out: IntelHit[] | null = null;
    if (this.substrings.size > 0) {
      if (++this.stamp === 0xffffffff) {
        this.seen.fill(0);
        this.stamp = 1;
      }
      const found = this.found;
      found.length = 0;
      this.substrings.scan(ua, end, this.seen, this.stamp, found);
      if (found.length > 0) {
        found.sort((a, b) => a - b);
        out = found.map((p) => this.substringHits[p]!);
      }
    }
    if (this.prefilter !== null) {
      const s = ua.length > end ? ua.slice(0, end) : ua;
      if (this.prefilter.test(s)) {
        out ??= [];
        for (let i = 0; i < this.regexes.length; i++)
          if (this.regexes[i]!.test(s)) out.push(this.regexHits[i]!);
      }
    }
    return out === null || out.length === 0 ? NO_HITS : out;
  }

  /**
   * The intel features of an event (INTEL_FEATURES order, each 0 or 1), written to `out` at `offset`:
   * is_tor, is_datacenter, is_blocklisted (address hits of those categories), bad_ua (an agent hit of any
   * category but `allow`), is_allowlisted (an address or agent hit of category `allow`).
   */
  features(
    event: { ip: string; userAgent: string | null },
    out: Float64Array = new Float64Array(INTEL_FEATURES.length),
    offset = 0,
  ): Float64Array {
    let tor = 0;
    let dc = 0;
    let block = 0;
    let bad = 0;
    let allow = 0;
    for (const h of this.lookupIp(event.ip)) {
      if (h.category === 'tor') tor = 1;
      else if (h.category === 'datacenter') dc = 1;
      else if (h.category === 'blocklist') block = 1;
      else if (h.category === 'allow') allow = 1;
    }
    for (const h of this.lookupUserAgent(event.userAgent)) {
      if (h.category === 'allow') allow = 1;
      else bad = 1;
    }
    out[offset] = tor;
    out[offset + 1] = dc;
    out[offset + 2] = block;
    out[offset + 3] = bad;
    out[offset + 4] = allow;
    return out;
  }
}
