/**
 * The built-in detectors as one pass over the text. A loop walks the characters once and only stops where a
 * value can begin: at the first character of a word (digits start numbers, addresses and IDs; letters start
 * tokens with known prefixes, IBANs and `key=value` pairs), at `@` (e-mail, by looking back at the local
 * part), `+` and `(` (phone numbers), `-----BEGIN` (PEM keys), and 密码. After a word has been looked at the
 * loop jumps to its end, so no character is examined by more than a couple of candidate extractors, and every
 * extractor stops at a fixed maximum length: the cost is linear in the text whatever an attacker sends.
 *
 * A candidate becomes a finding only when its validator agrees (Luhn and an issuer range, the GB 11643 check
 * character and a real birth date, MOD 97, SSA area rules, octet ranges, a JWT header that decodes to JSON
 * with `alg`) and, for the shapes that are too common to trust alone (9 and 10 digit numbers, 40-character
 * base64), when the field name or the words nearby say what it is.
 *
 * Spans carry the normalized raw value: they never leave src/sensitive (the scanner turns them into
 * findings that hold only a mask and a hash).
 */
import {
  AWS_SECRET_WORDS,
  BUSINESS_NUMBER_WORDS,
  hasWord,
  isPasswordKey,
  isPlaceholder,
  labelBefore,
  PASSPORT_WORDS,
  PHONE_WORDS,
  SSN_WORDS,
  VERSION_WORDS,
} from './keys.js';
import { canonicalIpv6, pemBody } from './mask.js';
import type { BuiltinType } from './types.js';
import {
  cardBrand,
  IBAN_LENGTHS,
  isCnMobile,
  isLuhnValid,
  isNanp,
  isValidCnId,
  isValidIban,
  isValidSsn,
  type PhonePlan,
  phonePlan,
} from './validators.js';

export interface Span {
  /** A built-in type, or a custom type's name (custom.ts makes those spans). */
  type: string;
  kind: string | null;
  start: number;
  end: number;
  /** The normalized value (see mask.ts `canonical`). Internal: never part of a Finding. */
  value: string;
}

// Character classes of ASCII code points, one bit each, so the hot loop does one table load per character.
const WORD = 1; // [A-Za-z0-9_]: what a word is made of
const DIGIT = 2;
const UPPER = 4;
const LOWER = 8;
const HEX = 16;
const B64URL = 32; // [A-Za-z0-9_-]
const LOCAL = 64; // e-mail local part: [A-Za-z0-9._%+-]
const B64 = 128; // [A-Za-z0-9+/]
const DOMAIN = 256; // a domain label: [A-Za-z0-9-]

const CLS = new Uint16Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  let k = 0;
  if (/[0-9]/.test(ch)) k |= WORD | DIGIT | HEX | B64URL | LOCAL | B64 | DOMAIN;
  if (/[A-Z]/.test(ch)) k |= WORD | UPPER | B64URL | LOCAL | B64 | DOMAIN;
  if (/[a-z]/.test(ch)) k |= WORD | LOWER | B64URL | LOCAL | B64 | DOMAIN;
  if (/[A-Fa-f]/.test(ch)) k |= HEX;
  if (ch === '_') k |= WORD | B64URL | LOCAL;
  if (ch === '-') k |= B64URL | LOCAL | DOMAIN;
  if (ch === '.' || ch === '%' || ch === '+') k |= LOCAL;
  if (ch === '+' || ch === '/') k |= B64;
  CLS[c] = k;
}

/** Characters that may follow a key: a closing quote, a separator, or `-` / `.` inside the key. */
const KEY_END = new Uint8Array(128);
for (const ch of '"\':= -.') KEY_END[ch.charCodeAt(0)] = 1;

const is = (c: number, k: number): boolean => c >= 0 && c < 128 && (CLS[c]! & k) !== 0;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Longest candidates: anything longer is not the thing, and bounds the work an attacker can cause. */
const MAX_JWT_PART = 4096;
const MAX_JWT_PAYLOAD = 16384;
const MAX_PEM = 65536;
const MAX_SECRET_VALUE = 256;
const MAX_TOKEN = 255;
/** How far around a candidate context keywords are looked for. */
const CONTEXT_BEFORE = 48;
const CONTEXT_AFTER = 24;

/** Top-level domains that are really file extensions (`logo@2x.png`, `icon@3x.webp` are not e-mails). */
const FILE_TLDS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'ico',
  'bmp',
  'css',
  'js',
  'mjs',
  'json',
  'xml',
  'html',
  'htm',
  'txt',
  'map',
  'woff',
  'woff2',
  'ttf',
]);

const GITHUB_KINDS: Readonly<Record<string, string>> = {
  p: 'personal',
  o: 'oauth',
  u: 'user_to_server',
  s: 'server_to_server',
  r: 'refresh',
};
const SLACK_KINDS: Readonly<Record<string, string>> = {
  b: 'bot',
  a: 'app',
  p: 'user',
  r: 'refresh',
  s: 'session',
};
const STRIPE_KINDS: Readonly<Record<string, string>> = { s: 'secret', r: 'restricted', p: 'publishable' };

export interface DetectorOptions {
  /** The built-in types to report (a disabled type is not reported; its candidates are still skipped). */
  enabled: ReadonlySet<BuiltinType>;
  /** Stop after this many spans in one scan (a body full of values must not make an unbounded list). */
  maxSpans?: number;
  /** "Now", for the birth date of CN IDs (tests pin it). */
  nowMs?: number;
}

/**
 * One detector per scanner; `scan` is not re-entrant (it keeps the text and cursor state in fields so the
 * helpers need no arguments beyond positions), so nested scans use a second instance.
 */
export class Detector {
  private readonly on: Record<BuiltinType, boolean>;
  private readonly maxSpans: number;
  private readonly nowMs: number | undefined;
  private inner: Detector | null = null;
  /** JWT header (base64url) → its `alg`, or null when it is not a JWT header. Bounded. */
  private readonly jwtHeaders = new Map<string, string | null>();

  // State of the current scan.
  private t = '';
  private from = 0;
  private to = 0;
  private key: string | null = null;
  private out: Span[] = [];
  private outBase = 0;
  private kv = true;
  /** End of the base64 run an AWS secret candidate was last measured on (runs are measured once). */
  private b64End = -1;
  /** Where the next `-----END ` is, searched once per scan rather than once per BEGIN. */
  private pemNext = -1;
  private pemSearchedFrom = -1;

  // Digit groups of the current number candidate (`+1 (415) 555-0134`): start, length, separator before, paren.
  private readonly gStart = new Int32Array(8);
  private readonly gLen = new Int32Array(8);
  private readonly gSep = new Int32Array(8);
  private readonly gParen = new Uint8Array(8);
  private gCount = 0;

  constructor(private readonly options: DetectorOptions) {
    this.on = Object.create(null) as Record<BuiltinType, boolean>;
    for (const t of options.enabled) this.on[t] = true;
    this.maxSpans = options.maxSpans ?? 10_000;
    this.nowMs = options.nowMs;
  }

  /**
   * Appends the spans found in text[from, to) to `out`, in order of position. `key` is the field name the text
   * is the value of (context for passports, SSNs, password keys), or null. `kv` enables `key=value` password
   * detection inside the text.
   */
  scan(text: string, from: number, to: number, key: string | null, out: Span[], kv = true): void {
    this.t = text;
    this.from = from;
    this.to = to;
    this.key = key;
    this.out = out;
    this.outBase = out.length;
    this.kv = kv;
    this.b64End = -1;
    this.pemNext = -1;
    this.pemSearchedFrom = -1;
    let i = from;
    while (i < to && out.length < this.maxSpans) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        const k = CLS[c]!;
        if ((k & WORD) !== 0) {
          i = (k & DIGIT) !== 0 ? this.digitWord(i) : this.letterWord(i, c);
          continue;
        }
        switch (c) {
          case 64: // @
            i = this.email(i);
            continue;
          case 43: // +
            i = this.plus(i);
            continue;
          case 40: // (
            i = this.paren(i);
            continue;
          case 45: // -
            i = this.dash(i);
            continue;
          case 47: // /
            i = this.slash(i);
            continue;
        }
      } else if (c === 0x5bc6 && kv && text.charCodeAt(i + 1) === 0x7801) {
        i = this.cnPasswordKey(i);
        continue;
      }
      i++;
    }
  }

  /**
   * The value of field `key`: a password when the key names one (unless the value is a more specific type,
   * such as a GitHub token under `secret`), else the text scanned with the key as context.
   */
  scanValue(text: string, key: string | null, out: Span[]): void {
    // A long value under a password key is no password but may hold something else (a PEM key under
    // `secret`): it is scanned as text below.
    if (key !== null && this.on.password && text.length <= MAX_SECRET_VALUE && isPasswordKey(key)) {
      if (isPlaceholder(text)) return;
      this.t = text;
      this.from = 0;
      this.to = text.length;
      this.key = key;
      this.out = out;
      this.secretValue(0, text.length, text);
      return;
    }
    this.scan(text, 0, text.length, key, out);
  }

  // -------------------------------------------------------------------------------------------------------
  // Helpers on the current text

  private code(i: number): number {
    return i >= this.from && i < this.to ? this.t.charCodeAt(i) : -1;
  }

  private wordEnd(i: number): number {
    const t = this.t;
    const to = this.to;
    let j = i + 1;
    while (j < to) {
      const c = t.charCodeAt(j);
      if (c >= 128 || (CLS[c]! & WORD) === 0) break;
      j++;
    }
    return j;
  }

  private runEnd(i: number, k: number, max: number): number {
    const t = this.t;
    const stop = Math.min(this.to, i + max + 1);
    let j = i;
    while (j < stop) {
      const c = t.charCodeAt(j);
      if (c >= 128 || (CLS[c]! & k) === 0) break;
      j++;
    }
    return j;
  }

  /**
   * True when the word at i continues a compound token: it follows `.` or `-` right after a word character
   * (`v1.2`, `ORD-2024`, `lib-1.2.3.4`), or `:` right after a digit (`12:30`). Such digits are part of
   * something else and are not looked at on their own.
   */
  private joinedLeft(i: number): boolean {
    const p = this.code(i - 1);
    if (p === 46 || p === 45) return is(this.code(i - 2), WORD);
    if (p === 58) return isDigit(this.code(i - 2));
    return false;
  }

  /** True when a value ending at e is not followed by more of a word or a compound (`.5`, `-2`). */
  private endsClean(e: number): boolean {
    const c = this.code(e);
    if (c === -1) return true;
    if (is(c, WORD)) return false;
    if (c === 46 || c === 45) return !is(this.code(e + 1), WORD);
    return true;
  }

  private context(start: number, end: number, words: readonly string[]): boolean {
    if (this.key !== null && hasWord(this.key, words)) return true;
    const t = this.t;
    if (hasWord(t.slice(Math.max(this.from, start - CONTEXT_BEFORE), start), words)) return true;
    return hasWord(t.slice(end, Math.min(this.to, end + CONTEXT_AFTER)), words);
  }

  /** The field name or the label just before says the number is an order, invoice, serial... number. */
  private businessNumber(start: number): boolean {
    if (this.key !== null && hasWord(this.key, BUSINESS_NUMBER_WORDS)) return true;
    return hasWord(labelBefore(this.t, this.from, start), BUSINESS_NUMBER_WORDS);
  }

  private emit(type: BuiltinType, kind: string | null, start: number, end: number, value: string): void {
    if (this.on[type] === true) this.out.push({ type, kind, start, end, value });
  }

  private digitsIn(start: number, end: number): string {
    let s = '';
    const t = this.t;
    for (let i = start; i < end; i++) {
      const c = t.charCodeAt(i);
      if (isDigit(c)) s += t[i];
    }
    return s;
  }

  // -------------------------------------------------------------------------------------------------------
  // Words starting with a digit: phone numbers, IDs, cards, SSNs, IPs

  private digitWord(i: number): number {
    const t = this.t;
    const we = this.wordEnd(i);
    const after = we < this.to ? t.charCodeAt(we) : -1;
    if ((after === 47 || after === 43 || we - i === 40) && this.maybeAwsSecret(i, we)) return this.b64End;
    if (this.joinedLeft(i)) return we;
    let d = i;
    while (d < we && isDigit(t.charCodeAt(d))) d++;
    const run = d - i;
    if (d < we) {
      // Letters follow the digits: a CN ID ending in X, the first group of an IPv6 address, or a word.
      const x = t.charCodeAt(d);
      if (run === 17 && we === d + 1 && (x === 88 || x === 120) && this.endsClean(we)) {
        const v = t.slice(i, we).toUpperCase();
        if (isValidCnId(v, this.nowMs)) this.emit('cn_id', null, i, we, v);
        return we;
      }
      if (we - i <= 4 && this.code(we) === 58 && this.allHex(i, we)) {
        const r = this.ipv6(i);
        if (r > 0) return r;
      }
      return we;
    }
    const nc = this.code(d);
    if (nc === 46 && run <= 3 && isDigit(this.code(d + 1))) {
      const r = this.ipv4(i);
      if (r > 0) return r;
    }
    if (nc === 58 && run <= 4) {
      const r = this.ipv6(i);
      if (r > 0) return r;
    }
    // A grouped number's first group has 1 (`1 415 ...`), 3 or 4 digits, and dots only separate US numbers.
    if ((nc === 32 || nc === 45 || (nc === 46 && run === 3)) && (run === 1 || run === 3 || run === 4)) {
      const n2 = this.code(d + 1);
      if (isDigit(n2) || n2 === 40) {
        const r = this.groupedNumber(i);
        if (r > 0) return r;
      }
    }
    this.digitRun(i, d);
    return d;
  }

  private allHex(i: number, e: number): boolean {
    for (let k = i; k < e; k++) if (!is(this.t.charCodeAt(k), HEX)) return false;
    return true;
  }

  /** A number written as one run of digits. */
  private digitRun(i: number, d: number): void {
    if (!this.endsClean(d)) return;
    const n = d - i;
    if (n < 9 || n > 19) return;
    const t = this.t;
    const v = t.slice(i, d);
    switch (n) {
      case 9: {
        if (this.on.us_ssn && isValidSsn(v) && this.context(i, d, SSN_WORDS))
          this.emit('us_ssn', null, i, d, v);
        else if (this.context(i, d, PASSPORT_WORDS)) this.emit('passport', 'us', i, d, v);
        return;
      }
      case 10:
        if (isNanp(v) && this.context(i, d, PHONE_WORDS)) this.emit('phone', 'nanp', i, d, `+1${v}`);
        return;
      case 11:
        if (isCnMobile(v) && !this.businessNumber(i)) this.emit('phone', 'cn_mobile', i, d, `+86${v}`);
        return;
      case 13:
        if (v.startsWith('86') && isCnMobile(v.slice(2)) && !this.businessNumber(i)) {
          this.emit('phone', 'cn_mobile', i, d, `+${v}`);
          return;
        }
        break;
      case 18:
        if (isValidCnId(v, this.nowMs)) {
          this.emit('cn_id', null, i, d, v);
          return;
        }
        break;
    }
    if (n >= 12) {
      const brand = cardBrand(v);
      if (brand !== null && isLuhnValid(v) && !this.businessNumber(i)) this.emit('bank_card', brand, i, d, v);
    }
  }

  /**
   * Collects digit groups from i: `415-555-0134`, `(415) 555-0134`, `4111 1111 1111 1111`, `86 138 1234
   * 5678`. Groups are separated by one space, `-` or `.`, or follow a `(...)` group directly. Returns the end of
   * the last group, or -1 when there is no group or the number has too many groups or digits to be anything.
   */
  private collectGroups(i: number): number {
    const t = this.t;
    const to = this.to;
    let p = i;
    let sep = 0;
    let count = 0;
    let total = 0;
    let end = -1;
    for (;;) {
      let q = p;
      const open = q < to && t.charCodeAt(q) === 40;
      if (open) q++;
      const ds = q;
      while (q < to && isDigit(t.charCodeAt(q)) && q - ds <= 15) q++;
      const len = q - ds;
      if (len === 0 || len > 15) break;
      if (open) {
        if (q >= to || t.charCodeAt(q) !== 41) break;
        q++;
      }
      if (count === 8) return -1;
      this.gStart[count] = ds;
      this.gLen[count] = len;
      this.gSep[count] = sep;
      this.gParen[count] = open ? 1 : 0;
      count++;
      total += len;
      if (total > 24) return -1;
      end = q;
      const c = q < to ? t.charCodeAt(q) : -1;
      let s = q;
      sep = 0;
      if (c === 32 || c === 45 || c === 46) {
        sep = c;
        s++;
      } else if (!open) break;
      const n = s < to ? t.charCodeAt(s) : -1;
      if (!isDigit(n) && n !== 40) break;
      p = s;
    }
    this.gCount = count;
    return count === 0 ? -1 : end;
  }

  private groupEnd(k: number): number {
    return this.gStart[k]! + this.gLen[k]! + this.gParen[k]!;
  }

  /** A grouped number without `+`: US phone, CN mobile, SSN or card. Returns its end or -1. */
  private groupedNumber(i: number): number {
    if (this.collectGroups(i) < 0 || this.gCount < 2) return -1;
    // The longest prefix of the groups that has a known shape wins: `4111 1111 1111 1111 12/27` is a card
    // followed by an expiry date.
    for (let n = this.gCount; n >= 2; n--) {
      const end = this.groupEnd(n - 1);
      if (!this.endsClean(end)) continue;
      const r = this.groupShape(i, n, end);
      if (r > 0) return r;
    }
    return -1;
  }

  private groupShape(i: number, n: number, end: number): number {
    const L = this.gLen;
    let seps = 0; // bit per separator kind among the groups: 1 space, 2 dash, 4 dot, 8 none (after a paren)
    let parens = 0;
    for (let k = 0; k < n; k++) {
      if (k > 0) seps |= this.gSep[k] === 32 ? 1 : this.gSep[k] === 45 ? 2 : this.gSep[k] === 46 ? 4 : 8;
      if (this.gParen[k]) parens |= 1 << k;
    }
    if ((seps & 4) !== 0 && seps !== 4) return -1; // dots only with dots: 415.555.0134
    const shape = (...want: number[]) => want.length === n && want.every((w, k) => L[k] === w);
    let digits: string | null = null;
    const all = () => {
      if (digits === null) digits = this.digitsIn(i, end);
      return digits;
    };
    // US: (415) 555-0134, 415-555-0134, 415.555.0134, 1-415-555-0134, 1 (415) 555-0134.
    const us3 = shape(3, 3, 4) && (parens === 0 || parens === 1);
    const us4 = shape(1, 3, 3, 4) && this.t.charCodeAt(i) === 49 && (parens === 0 || parens === 2);
    if (us3 || us4) {
      const d = us4 ? all().slice(1) : all();
      if (isNanp(d)) {
        this.emit('phone', 'nanp', i, end, `+1${d}`);
        return end;
      }
      return -1;
    }
    if (parens !== 0 || (seps & 8) !== 0) return -1;
    const one = seps === 1 || seps === 2; // one separator kind throughout
    if (shape(3, 4, 4) && one) {
      if (isCnMobile(all()) && !this.businessNumber(i)) {
        this.emit('phone', 'cn_mobile', i, end, `+86${all()}`);
        return end;
      }
      return -1;
    }
    if (shape(3, 2, 4) && one) {
      if (isValidSsn(all()) && (seps === 2 || this.context(i, end, SSN_WORDS))) {
        this.emit('us_ssn', null, i, end, all());
        return end;
      }
      return -1;
    }
    const card =
      shape(4, 4, 4, 4) ||
      shape(4, 4, 4, 4, 3) ||
      shape(4, 4, 4, 4, 2) ||
      shape(4, 4, 4, 3) ||
      shape(4, 6, 5) ||
      shape(4, 4, 4, 4, 4, 3);
    if (card && one && seps !== 4) {
      const v = all();
      const brand = cardBrand(v);
      if (brand !== null && isLuhnValid(v) && !this.businessNumber(i)) {
        this.emit('bank_card', brand, i, end, v);
        return end;
      }
    }
    return -1;
  }

  /** `+` then an international number: `+8613812345678`, `+1 (415) 555-0134`, `+44 (0)20 7946 0958`. */
  private plus(i: number): number {
    const p = this.code(i - 1);
    const n = this.code(i + 1);
    const last = !is(p, WORD) && p !== 43 && (isDigit(n) || n === 40) ? this.collectGroups(i + 1) : -1;
    if (last > 0) {
      for (let g = this.gCount; g >= 1; g--) {
        const end = this.groupEnd(g - 1);
        if (!this.endsClean(end)) continue;
        let d = '';
        for (let k = 0; k < g; k++) {
          // A `(0)` is the trunk prefix some countries write after the country code; it is not dialled.
          if (this.gParen[k] && this.gLen[k] === 1 && this.t.charCodeAt(this.gStart[k]!) === 48) continue;
          d += this.t.slice(this.gStart[k]!, this.gStart[k]! + this.gLen[k]!);
        }
        const plan: PhonePlan | null = phonePlan(d);
        if (plan !== null) {
          this.emit('phone', plan, i, end, `+${d}`);
          return end;
        }
      }
      // Digits after `+` that are no valid international number (`+1 303 911 6117`: N11 exchange) must not
      // be read again as a national one (`13039116117` would pass as a CN mobile).
      return last;
    }
    if (this.maybeAwsSecret(i, i + 1, true)) return this.b64End;
    return i + 1;
  }

  /** `(415) 555-0134`. */
  private paren(i: number): number {
    if (is(this.code(i - 1), WORD) || !isDigit(this.code(i + 1))) return i + 1;
    const r = this.groupedNumber(i);
    return r > 0 ? r : i + 1;
  }

  /**
   * A dotted quad with octets 0-255 and no leading zeros, not `0.x.x.x` or `255.x.x.x` (not hosts: "this
   * network", broadcast and netmasks), not after `Word/` (`Chrome/120.0.0.0` is a version), not labelled as a
   * version.
   */
  private ipv4(i: number): number {
    const t = this.t;
    let p = i;
    let first = -1;
    let second = -1;
    for (let k = 0; k < 4; k++) {
      let q = p;
      let v = 0;
      while (q < this.to && isDigit(t.charCodeAt(q)) && q - p < 4) {
        v = v * 10 + t.charCodeAt(q) - 48;
        q++;
      }
      const len = q - p;
      if (len === 0 || len > 3 || v > 255 || (len > 1 && t.charCodeAt(p) === 48)) return -1;
      if (k === 0) first = v;
      if (k === 1) second = v;
      if (k < 3) {
        if (this.code(q) !== 46) return -1;
        p = q + 1;
      } else p = q;
    }
    const end = p;
    const nc = this.code(end);
    if (is(nc, WORD) || (nc === 46 && isDigit(this.code(end + 1)))) return -1;
    if (first === 0 || first === 255) return -1;
    if (this.code(i - 1) === 47 && is(this.code(i - 2), UPPER | LOWER)) return -1;
    if (this.key !== null && hasWord(this.key, VERSION_WORDS)) return -1;
    if (hasWord(labelBefore(t, this.from, i), VERSION_WORDS)) return -1;
    const priv =
      first === 10 ||
      first === 127 ||
      (first === 172 && second >= 16 && second <= 31) ||
      (first === 192 && second === 168) ||
      (first === 169 && second === 254) ||
      (first === 100 && second >= 64 && second <= 127);
    this.emit('ipv4', priv ? 'private' : 'public', i, end, t.slice(i, end));
    return end;
  }

  /**
   * An IPv6 address in the usual text forms: eight groups, or fewer with one `::` (at least two groups, so
   * `a::b`-like C++ names are rare and `::1` alone is not reported), optionally ending in an IPv4 address.
   * Times (`12:30:45`) and MAC addresses (six groups) fail the group count.
   */
  private ipv6(i: number): number {
    const t = this.t;
    const p0 = this.code(i - 1);
    if (p0 === 58 || is(p0, WORD)) return -1;
    let p = i;
    let groups = 0;
    let dbl = false;
    let end = -1;
    for (;;) {
      let q = p;
      while (q < this.to && is(t.charCodeAt(q), HEX) && q - p < 5) q++;
      const len = q - p;
      if (len === 0) {
        if (dbl && p >= 2 && t.charCodeAt(p - 1) === 58 && t.charCodeAt(p - 2) === 58) {
          end = p;
          break;
        }
        return -1;
      }
      if (len > 4) return -1;
      if (this.code(q) === 46) {
        // An embedded IPv4 address (`::ffff:192.0.2.1`) takes the place of the last two groups.
        if (groups > 6 || !this.allDigitsIn(p, q)) return -1;
        const e = this.ipv4Bare(p);
        if (e < 0) return -1;
        groups += 2;
        end = e;
        break;
      }
      groups++;
      if (this.code(q) === 58) {
        if (this.code(q + 1) === 58) {
          if (dbl) return -1;
          dbl = true;
          p = q + 2;
          if (!is(this.code(p), HEX)) {
            end = p;
            break;
          }
          continue;
        }
        if (is(this.code(q + 1), HEX)) {
          p = q + 1;
          continue;
        }
      }
      end = q;
      break;
    }
    if (dbl ? groups < 2 || groups > 7 : groups !== 8) return -1;
    const nc = this.code(end);
    if (is(nc, WORD) || nc === 58 || (nc === 46 && isDigit(this.code(end + 1)))) return -1;
    this.emit('ipv6', null, i, end, canonicalIpv6(t.slice(i, end)));
    return end;
  }

  private allDigitsIn(i: number, e: number): boolean {
    for (let k = i; k < e; k++) if (!isDigit(this.t.charCodeAt(k))) return false;
    return e > i;
  }

  /** The end of a dotted quad at i (octet rules only), or -1. */
  private ipv4Bare(i: number): number {
    let p = i;
    for (let k = 0; k < 4; k++) {
      let q = p;
      let v = 0;
      while (q < this.to && isDigit(this.t.charCodeAt(q)) && q - p < 4) {
        v = v * 10 + this.t.charCodeAt(q) - 48;
        q++;
      }
      if (q === p || q - p > 3 || v > 255 || (q - p > 1 && this.t.charCodeAt(p) === 48)) return -1;
      if (k < 3 && this.code(q) !== 46) return -1;
      p = k < 3 ? q + 1 : q;
    }
    return p;
  }

  // -------------------------------------------------------------------------------------------------------
  // Words starting with a letter: tokens with known prefixes, JWTs, IBANs, CN passports, key=value

  private letterWord(i: number, c: number): number {
    const t = this.t;
    const we = this.wordEnd(i);
    const after = we < this.to ? t.charCodeAt(we) : -1;
    if ((after === 47 || after === 43 || we - i === 40) && this.maybeAwsSecret(i, we)) return this.b64End;
    let r = -1;
    const len = we - i;
    // Each prefix detector runs only when the word has the length or the ending its token needs.
    switch (c) {
      case 101: // e: a JWT header ends at `.` (or at a `-` inside it)
        if ((after === 46 || after === 45) && t.charCodeAt(i + 1) === 121 && t.charCodeAt(i + 2) === 74)
          r = this.jwt(i);
        break;
      case 65: // A: AKIA... is one 20-character word; AIza... may contain `-`
        if (len === 20 || t.charCodeAt(i + 1) === 73) r = this.awsKeyOrGoogle(i, we);
        break;
      case 103: // g
        if (len >= 40) r = this.github(i, we);
        break;
      case 115: // s
      case 114: // r
      case 112: // p
        if (len >= 32) r = this.stripe(i, we, c);
        break;
      case 120: // x: `xoxb` then `-`
        if (len === 4 && after === 45) r = this.slackToken(i);
        break;
      case 104: // h: `https`, `http` or `hooks`
        if ((len === 5 || len === 4) && (after === 58 || after === 46)) r = this.slackWebhook(i);
        break;
      case 69: // E
      case 71: // G
        if (len === 9) r = this.cnPassport(i, we, c);
        break;
    }
    if (r > 0) return r;
    if ((CLS[c]! & UPPER) !== 0 && we - i >= 4 && is(this.code(i + 1), UPPER) && isDigit(this.code(i + 2))) {
      r = this.iban(i, we);
      if (r > 0) return r;
    }
    if (after === 58 && we - i <= 4 && (CLS[c]! & HEX) !== 0 && this.allHex(i, we)) {
      r = this.ipv6(i);
      if (r > 0) return r;
    }
    // Only a word followed by what can end a key (`"`, `'`, `:`, `=`, `-`, `.`, `: `) can be one.
    if (this.kv && after !== -1 && (after < 128 ? (KEY_END[after] ?? 0) !== 0 : after === 0xff1a)) {
      if (after === 32) {
        const n2 = this.code(we + 1);
        if (n2 !== 58 && n2 !== 61 && n2 !== 32) return we;
      }
      r = this.keyValue(i, we);
      if (r > 0) return r;
    }
    return we;
  }

  /** `eyJ...` `.` `...` `.` `...`: three base64url parts whose first decodes to a JSON object with `alg`. */
  private jwt(i: number): number {
    const p = this.runEnd(i, B64URL, MAX_JWT_PART);
    if (p - i < 10 || p - i > MAX_JWT_PART || this.code(p) !== 46) return -1;
    const q = this.runEnd(p + 1, B64URL, MAX_JWT_PAYLOAD);
    if (q - p - 1 < 2 || q - p - 1 > MAX_JWT_PAYLOAD || this.code(q) !== 46) return -1;
    const r = this.runEnd(q + 1, B64URL, MAX_JWT_PART);
    if (r - q - 1 > MAX_JWT_PART) return -1;
    // A fourth part makes it something else (a JWE has five).
    if (this.code(r) === 46 && is(this.code(r + 1), B64URL)) return -1;
    const alg = this.jwtAlg(this.t.slice(i, p));
    if (alg === null) return -1;
    this.emit('jwt', alg, i, r, this.t.slice(i, r));
    return r;
  }

  private jwtAlg(header: string): string | null {
    const known = this.jwtHeaders.get(header);
    if (known !== undefined) return known;
    let alg: string | null = null;
    try {
      const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
      if (h !== null && typeof h === 'object' && !Array.isArray(h)) {
        const a = (h as { alg?: unknown }).alg;
        // The alg becomes the finding's kind: keep it to the characters real algorithm names use.
        if (typeof a === 'string') alg = /^[A-Za-z0-9+_-]{1,16}$/.test(a) ? a : 'other';
      }
    } catch {
      // Not JSON: not a JWT header.
    }
    if (this.jwtHeaders.size >= 512) this.jwtHeaders.clear();
    this.jwtHeaders.set(header, alg);
    return alg;
  }

  /** `AKIA`/`ASIA` + 16 upper-case letters or digits; `AIza` + 35 base64url characters. */
  private awsKeyOrGoogle(i: number, we: number): number {
    const t = this.t;
    if ((t.startsWith('AKIA', i) || t.startsWith('ASIA', i)) && we - i === 20) {
      for (let k = i + 4; k < we; k++) if (!is(t.charCodeAt(k), UPPER | DIGIT)) return -1;
      // AWS documentation's example keys all end in EXAMPLE; they are not anybody's key.
      if (t.startsWith('EXAMPLE', we - 7)) return -1;
      this.emit(
        'aws_access_key',
        t.charCodeAt(i + 1) === 75 ? 'long_term' : 'temporary',
        i,
        we,
        t.slice(i, we),
      );
      return we;
    }
    if (t.startsWith('AIza', i)) {
      const e = this.runEnd(i, B64URL, 40);
      if (e - i !== 39) return -1;
      this.emit('google_api_key', null, i, e, t.slice(i, e));
      return e;
    }
    return -1;
  }

  /** `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36+ alphanumerics; `github_pat_` + 50+ word characters. */
  private github(i: number, we: number): number {
    const t = this.t;
    if (t.charCodeAt(i + 1) === 104 && t.charCodeAt(i + 3) === 95) {
      const kind = GITHUB_KINDS[t[i + 2]!];
      if (kind === undefined || we - i - 4 < 36 || we - i - 4 > MAX_TOKEN) return -1;
      for (let k = i + 4; k < we; k++) if (t.charCodeAt(k) === 95) return -1;
      this.emit('github_token', kind, i, we, t.slice(i, we));
      return we;
    }
    if (t.startsWith('github_pat_', i) && we - i - 11 >= 50 && we - i - 11 <= MAX_TOKEN) {
      this.emit('github_token', 'fine_grained', i, we, t.slice(i, we));
      return we;
    }
    return -1;
  }

  /** `sk_live_` / `rk_live_` / `pk_live_` + 24 or more alphanumerics. */
  private stripe(i: number, we: number, c: number): number {
    const t = this.t;
    if (t.charCodeAt(i + 1) !== 107 || !t.startsWith('_live_', i + 2)) return -1;
    const n = we - i - 8;
    if (n < 24 || n > MAX_TOKEN) return -1;
    for (let k = i + 8; k < we; k++) if (t.charCodeAt(k) === 95) return -1;
    this.emit('stripe_key', STRIPE_KINDS[String.fromCharCode(c)]!, i, we, t.slice(i, we));
    return we;
  }

  /** `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-` then digits and more dash-separated parts. */
  private slackToken(i: number): number {
    const t = this.t;
    if (!t.startsWith('xox', i)) return -1;
    const f = t.charCodeAt(i + 3);
    if ((f !== 98 && f !== 97 && f !== 112 && f !== 114 && f !== 115) || t.charCodeAt(i + 4) !== 45)
      return -1;
    const e = this.runEnd(i, B64URL, MAX_TOKEN);
    if (e - i < 20 || e - i > MAX_TOKEN || !isDigit(t.charCodeAt(i + 5))) return -1;
    let dashes = 0;
    for (let k = i + 5; k < e; k++) if (t.charCodeAt(k) === 45) dashes++;
    if (dashes < 2) return -1;
    this.emit('slack_token', SLACK_KINDS[String.fromCharCode(f)]!, i, e, t.slice(i, e));
    return e;
  }

  /** `https://hooks.slack.com/services/T.../B.../<secret>`. */
  private slackWebhook(i: number): number {
    const t = this.t;
    let p: number;
    if (t.startsWith('https://hooks.slack.com/services/', i)) p = i + 33;
    else if (t.startsWith('http://hooks.slack.com/services/', i)) p = i + 32;
    else if (t.startsWith('hooks.slack.com/services/', i)) p = i + 25;
    else return -1;
    // Three path segments: team (T...), bot or channel (B...), and the secret.
    let seg = 0;
    let segStart = p;
    let k = p;
    let ok = true;
    const stop = Math.min(this.to, p + 200);
    for (; k <= stop; k++) {
      const c = k < stop ? t.charCodeAt(k) : -1;
      if (c === 47 || !is(c, UPPER | LOWER | DIGIT)) {
        const len = k - segStart;
        const head = t.charCodeAt(segStart);
        if (seg === 0) ok = len >= 7 && head === 84;
        else if (seg === 1) ok = ok && len >= 7 && head === 66;
        else ok = ok && len >= 16;
        seg++;
        if (c !== 47 || seg === 3) break;
        segStart = k + 1;
      }
    }
    if (!ok || seg !== 3) return -1;
    this.emit('slack_webhook', null, i, k, t.slice(p, k));
    return k;
  }

  /** CN passports: `E` + 8 digits, `E` + a letter (not I or O) + 7 digits, `G` + 8 digits. */
  private cnPassport(i: number, we: number, c: number): number {
    if (we - i !== 9 || this.joinedLeft(i) || !this.endsClean(we)) return -1;
    const t = this.t;
    let k = i + 1;
    const second = t.charCodeAt(k);
    if (c === 69 && second >= 65 && second <= 90 && second !== 73 && second !== 79) k++;
    for (; k < we; k++) if (!isDigit(t.charCodeAt(k))) return -1;
    this.emit('passport', 'cn', i, we, t.slice(i, we));
    return we;
  }

  /** An IBAN, compact (`DE89370400440532013000`) or in groups of four (`DE89 3704 0044 0532 0130 00`). */
  private iban(i: number, we: number): number {
    const t = this.t;
    if (!isDigit(this.code(i + 3)) || this.joinedLeft(i)) return -1;
    const len = IBAN_LENGTHS[t.slice(i, i + 2)];
    if (len === undefined) return -1;
    let value: string;
    let end: number;
    if (we - i === len) {
      value = t.slice(i, we);
      end = we;
    } else if (we - i === 4 && this.code(we) === 32) {
      value = t.slice(i, we);
      let p = we;
      while (value.length < len && this.code(p) === 32) {
        const g = this.runEnd(p + 1, UPPER | DIGIT, 4);
        const glen = g - p - 1;
        if (glen === 0 || glen > 4 || (glen < 4 && value.length + glen !== len)) break;
        value += t.slice(p + 1, g);
        p = g;
      }
      end = p;
    } else return -1;
    if (value.length !== len || is(this.code(end), WORD) || !isValidIban(value)) return -1;
    this.emit('iban', value.slice(0, 2), i, end, value);
    return end;
  }

  // -------------------------------------------------------------------------------------------------------
  // AWS secret access keys: 40 base64 characters, only with context

  /**
   * Measures the base64 run starting at i when it could be exactly 40 characters long (the word is 40 long, or
   * the run continues with `/` or `+`), and reports it as an AWS secret when it has mixed case and digits
   * and the field or the words before name an AWS secret. Each run is measured once.
   */
  private maybeAwsSecret(i: number, we: number, force = false): boolean {
    if (!this.on.aws_secret_key || i < this.b64End) return false;
    const w = this.code(we);
    if (!force && we - i !== 40 && w !== 47 && w !== 43) return false;
    const p = this.code(i - 1);
    if (is(p, B64)) return false;
    const e = this.runEnd(i, B64, 1 << 20);
    this.b64End = e;
    if (e - i !== 40 || this.code(e) === 61) return false;
    let k = 0;
    for (let j = i; j < e; j++) k |= CLS[this.t.charCodeAt(j)]!;
    if ((k & UPPER) === 0 || (k & LOWER) === 0 || (k & DIGIT) === 0) return false;
    // AWS documentation's example secret (…EXAMPLEKEY) is nobody's secret.
    if (this.t.lastIndexOf('EXAMPLE', e - 7) >= i) return false;
    if (!this.context(i, e, AWS_SECRET_WORDS)) return false;
    this.emit('aws_secret_key', null, i, e, this.t.slice(i, e));
    return true;
  }

  private slash(i: number): number {
    return this.maybeAwsSecret(i, i + 1, true) ? this.b64End : i + 1;
  }

  // -------------------------------------------------------------------------------------------------------
  // PEM private keys

  private dash(i: number): number {
    const t = this.t;
    if (!t.startsWith('-----BEGIN ', i)) return i + 1;
    const ls = i + 11;
    const le = this.dashesWithin(ls, 40);
    if (le === -1) return i + 1;
    const label = t.slice(ls, le);
    if (!label.endsWith('PRIVATE KEY') || !/^[A-Z0-9 ]+$/.test(label)) return le + 5;
    const bodyStart = le + 5;
    // A real block breaks the line after its BEGIN marker (a JSON-escaped one has `\n`); prose that merely
    // names the marker does not.
    const lb = this.code(bodyStart);
    if (lb !== 10 && lb !== 13 && lb !== 92) return bodyStart;
    if (this.pemSearchedFrom === -1 || this.pemNext < bodyStart) {
      // Searching once and remembering the hit keeps many BEGINs without an END linear, not quadratic.
      this.pemNext = t.indexOf('-----END ', bodyStart);
      if (this.pemNext === -1 || this.pemNext >= this.to) this.pemNext = this.to;
      this.pemSearchedFrom = bodyStart;
    }
    let end: number;
    let truncated = false;
    if (this.pemNext < this.to && this.pemNext - bodyStart <= MAX_PEM) {
      const close = this.dashesWithin(this.pemNext + 9, 60);
      end = close !== -1 ? close + 5 : this.pemNext + 9;
    } else {
      // No END marker (a body cut at the capture size): the key is still leaked, as far as it goes.
      truncated = true;
      let k = bodyStart;
      const stop = Math.min(this.to, bodyStart + MAX_PEM);
      while (k < stop) {
        const c = t.charCodeAt(k);
        if (!is(c, B64) && c !== 61 && c !== 10 && c !== 13 && c !== 32 && c !== 92) break;
        k++;
      }
      end = k;
    }
    const body = pemBody(t.slice(i, end));
    if (body.length < 32) return end;
    const name = label === 'PRIVATE KEY' ? 'pkcs8' : label.slice(0, -12).toLowerCase().replace(/ /g, '_');
    this.emit('private_key', truncated ? `${name}_truncated` : name, i, end, body);
    return end;
  }

  /** The position of the next `-----` within `max` characters of i, or -1 (bounded: no scan to the end). */
  private dashesWithin(i: number, max: number): number {
    const stop = Math.min(this.to - 5, i + max);
    for (let k = i; k <= stop; k++) if (this.t.startsWith('-----', k)) return k;
    return -1;
  }

  // -------------------------------------------------------------------------------------------------------
  // Passwords in key=value text: `password=...`, `"passwd": "..."`, `密码：...`

  /** When the word at i is a password-like key followed by `=` or `:`, reports its value. */
  private keyValue(i: number, we: number): number {
    const t = this.t;
    // Keys may contain `-` and `.` (`user-password`, `auth.password`).
    let ke = we;
    const c = this.code(ke);
    if (c === 45 || c === 46) {
      ke = this.runEnd(ke, WORD | B64URL | LOCAL, 64);
      while (ke > we && !is(t.charCodeAt(ke - 1), WORD)) ke--;
    }
    const v = this.valueAfterKey(ke);
    if (v < 0 || !isPasswordKey(t, i, ke)) return -1;
    return this.secretAt(v);
  }

  /** `密码` followed by a separator and a value. */
  private cnPasswordKey(i: number): number {
    if (!this.on.password) return i + 2;
    const v = this.valueAfterKey(i + 2);
    return v < 0 ? i + 2 : this.secretAt(v);
  }

  /**
   * The start of the value after a key ending at k: an optional closing quote, optional spaces, then `=`,
   * `:` or `：`, then optional spaces. -1 when no separator follows.
   */
  private valueAfterKey(k: number): number {
    let c = this.code(k);
    if (c === 34 || c === 39) c = this.code(++k);
    let spaces = 0;
    while (c === 32 && spaces < 2) {
      c = this.code(++k);
      spaces++;
    }
    if (c !== 61 && c !== 58 && c !== 0xff1a) return -1;
    // `key::x` and `==` are not assignments.
    const n = this.code(k + 1);
    if (n === 58 || n === 61) return -1;
    k++;
    spaces = 0;
    while (this.code(k) === 32 && spaces < 4) {
      k++;
      spaces++;
    }
    return k;
  }

  /** Reads a quoted or bare value at v and reports it; returns where scanning continues. */
  private secretAt(v: number): number {
    if (!this.on.password) return v;
    const t = this.t;
    const q = this.code(v);
    let vs = v;
    let ve: number;
    let next: number;
    let escaped = false;
    if (q === 34 || q === 39) {
      vs = v + 1;
      let k = vs;
      while (k < this.to && k - vs <= MAX_SECRET_VALUE) {
        const c = t.charCodeAt(k);
        if (c === 92) {
          escaped = true;
          k += 2;
          continue;
        }
        if (c === q) break;
        k++;
      }
      if (k - vs > MAX_SECRET_VALUE) return vs;
      ve = Math.min(k, this.to);
      next = ve < this.to ? ve + 1 : ve;
    } else {
      let k = v;
      while (k < this.to && k - v <= MAX_SECRET_VALUE) {
        const c = t.charCodeAt(k);
        // A bare value ends where form fields, JSON members and words do.
        if (
          c <= 32 ||
          c === 38 ||
          c === 44 ||
          c === 59 ||
          c === 125 ||
          c === 93 ||
          c === 34 ||
          c === 39 ||
          c === 60 ||
          c === 62 ||
          (c >= 0x3000 && c <= 0x303f) || // CJK punctuation: 、。「」
          (c >= 0xff00 && c <= 0xffef) // full-width forms: ，：；
        )
          break;
        k++;
      }
      if (k - v > MAX_SECRET_VALUE) return k;
      ve = k;
      next = k;
    }
    let value = t.slice(vs, ve);
    if (escaped && q === 34) {
      try {
        value = JSON.parse(`"${value}"`) as string;
      } catch {
        // A value cut in the middle of an escape stays as written.
      }
    }
    if (isPlaceholder(value)) return next;
    this.secretValue(vs, ve, value);
    return next;
  }

  /**
   * Reports value t[vs, ve) of a password key: as the more specific type when the whole value is one (a
   * GitHub token under `secret`), else as a password.
   */
  private secretValue(vs: number, ve: number, value: string): void {
    if (this.inner === null) this.inner = new Detector(this.options);
    const found: Span[] = [];
    this.inner.scan(this.t, vs, ve, this.key, found, false);
    const whole = found.find((s) => s.start === vs && s.end === ve);
    if (whole !== undefined) this.out.push(whole);
    else this.emit('password', null, vs, ve, value);
  }

  // -------------------------------------------------------------------------------------------------------
  // E-mail addresses, found from their `@`

  private email(i: number): number {
    const t = this.t;
    let s = i;
    while (s > this.from && is(t.charCodeAt(s - 1), LOCAL) && i - s < 65) s--;
    // Trim what cannot start a local part, and refuse one longer than 64 (RFC 5321), empty, or with `..`.
    while (s < i && (t.charCodeAt(s) === 46 || t.charCodeAt(s) === 45 || t.charCodeAt(s) === 43)) s++;
    if (s === i || i - s > 64 || t.charCodeAt(i - 1) === 46) return i + 1;
    for (let k = s + 1; k < i; k++) if (t.charCodeAt(k) === 46 && t.charCodeAt(k - 1) === 46) return i + 1;
    if (this.urlUserinfo(s)) return i + 1;
    let p = i + 1;
    let labels = 0;
    let lastStart = -1;
    let lastEnd = -1;
    for (;;) {
      const q = this.runEnd(p, DOMAIN, 63);
      if (q === p || q - p > 63 || t.charCodeAt(p) === 45 || t.charCodeAt(q - 1) === 45) break;
      labels++;
      lastStart = p;
      lastEnd = q;
      if (this.code(q) !== 46 || !is(this.code(q + 1), DOMAIN) || q - i > 253) break;
      p = q + 1;
    }
    if (labels < 2 || lastEnd - (i + 1) > 253 || this.code(lastEnd) === 64) return i + 1;
    const tld = t.slice(lastStart, lastEnd).toLowerCase();
    const punycode = tld.startsWith('xn--');
    if (!punycode && (tld.length < 2 || tld.length > 24 || !/^[a-z]+$/.test(tld) || FILE_TLDS.has(tld)))
      return i + 1;
    // Numbers inside the local part (`13812345678@qq.com`) were reported already: the address replaces them.
    const out = this.out;
    while (out.length > this.outBase && out[out.length - 1]!.start >= s) out.pop();
    this.emit('email', null, s, lastEnd, t.slice(s, lastEnd).toLowerCase());
    return lastEnd;
  }

  /**
   * True when the local part at s is the user info of a URL (`https://user:secret@host/`): `://` comes shortly
   * before, with no `/` or space between it and the `@`.
   */
  private urlUserinfo(s: number): boolean {
    const t = this.t;
    const stop = Math.max(this.from, s - 80);
    for (let k = s - 1; k >= stop + 2; k--) {
      const c = t.charCodeAt(k);
      if (c <= 32) return false;
      if (c === 47) return t.charCodeAt(k - 1) === 47 && t.charCodeAt(k - 2) === 58;
    }
    return false;
  }
}
