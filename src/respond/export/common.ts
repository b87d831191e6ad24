/**
 * What every exporter shares: which decisions are exported (active, unexpired, once each, in a stable order
 * so that re-exports diff cleanly), strict validation of the values that came from traffic, and the
 * escapers that keep those values data in each target's syntax.
 *
 * Every value in a decision is attacker-influenced: a device id is whatever a client sent in a header, an
 * endpoint template is built from request paths, an address from the connection or a forwarded header. So
 * addresses are parsed by core/net.ts and re-printed from their numeric form (the exported text is never
 * the input text), device ids and paths are only ever written through an escaper of the target syntax, and
 * what cannot be validated or expressed goes to `skipped` with the reason.
 */
import { createHash } from 'node:crypto';
import { formatIpv6, ipv4Text, ipv4ToInt, ipv6ToWords, maskIpv6Words, parseCidr } from '../../core/net.js';
import {
  DECISION_ACTIONS,
  type Decision,
  type ExportInput,
  type ExportResult,
  type RateLimit,
  SCOPE_KINDS,
} from '../types.js';

export type Skip = ExportResult['skipped'][number];

/** A validated address or network, printed canonically (host bits cleared, RFC 5952 IPv6). */
export interface Net {
  family: 4 | 6;
  prefix: number;
  /** The network address. */
  address: string;
  /** `address/prefix`, always with the prefix (`203.0.113.7/32`). */
  cidr: string;
  /** The bare address for a single host, else the CIDR. */
  text: string;
  /** Sorts numerically: IPv4 before IPv6, then by address, then by prefix. */
  key: string;
}

/** `METHOD /template`, with the template's literal parts percent-decoded to bytes and `{param}` as null. */
export interface Endpoint {
  method: string;
  template: string;
  /** Literal bytes (decoded, as servers compare paths after decoding) or null for a `{param}` segment. */
  parts: (Buffer | null)[];
}

export type Actor = { kind: 'net'; net: Net } | { kind: 'device'; value: string };

/** A decision that passed the common checks, with its scope parsed. */
export interface Prepared {
  decision: Decision;
  /** `safeId(decision.id)`: what configs and comments may carry of the id. */
  id: string;
  actor: Actor;
  endpoint: Endpoint | null;
  /** Present for (and only for) `rate_limit`. */
  rate: RateLimit | null;
}

export interface PrepareResult {
  items: Prepared[];
  skipped: Skip[];
}

export const DEFAULT_DEVICE_HEADER = 'x-device-id';

/**
 * The device header, lower-cased. It is operator configuration, not traffic, so a bad one is an error, not
 * a skip. Underscores are refused: nginx drops such headers by default (`underscores_in_headers off`).
 */
export function deviceHeaderName(input: ExportInput): string {
  const h = input.deviceHeader ?? DEFAULT_DEVICE_HEADER;
  if (!/^[A-Za-z0-9-]{1,64}$/.test(h)) {
    throw new Error(
      `invalid deviceHeader ${JSON.stringify(h)}: use letters, digits and '-' only (1-64 characters)`,
    );
  }
  return h.toLowerCase();
}

/** A value quoted for a skip reason: one line (even for U+2028 and the like), bounded. */
export function show(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s).replace(INVISIBLE_IN_JSON, unicodeEscapes);
}

/** What a config may carry of a decision id: `[A-Za-z0-9_.:-]`, at most 64 characters. */
export function safeId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64);
  return s === '' ? '_' : s;
}

/** Comment text: printable ASCII without backslashes (a trailing `\` continues a ModSecurity line). */
export function commentText(s: string): string {
  return s.replace(/[^\x20-\x5b\x5d-\x7e]/g, '?').slice(0, 200);
}

/** A short stable name part derived from a string (10 hex chars of SHA-256). */
export function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 10);
}

const V6 = new Uint32Array(4);

function makeNet(family: 4 | 6, address: string, prefix: number, hex: string): Net {
  const max = family === 4 ? 32 : 128;
  const cidr = `${address}/${prefix}`;
  return {
    family,
    prefix,
    address,
    cidr,
    text: prefix === max ? address : cidr,
    key: `${family}:${hex}/${String(prefix).padStart(3, '0')}`,
  };
}

/**
 * An `ip` (a bare address) or `cidr` scope value, strictly: core/net.ts's parser, then the address is
 * re-read into numbers (IPv6 zone ids and other oddities that `isIP` tolerates are refused) and printed from
 * them. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes the IPv4 address, as servers report those peers. Host
 * bits below the prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`). Returns the reason when invalid.
 */
export function parseNet(kind: 'ip' | 'cidr', value: unknown): Net | string {
  if (typeof value !== 'string' || value.length > 64) return `invalid ${kind} ${show(value)}`;
  const p = parseCidr(value);
  if (p === null)
    return `invalid ${kind} ${show(value)}: not an IPv4/IPv6 address${kind === 'cidr' ? ' or CIDR' : ''}`;
  const hasPrefix = value.includes('/');
  if (kind === 'ip' && hasPrefix)
    return `invalid ip ${show(value)}: an ip scope is one address (use a cidr scope)`;
  let [addr, prefix, fam] = p;
  if (fam === 'ipv6') {
    if (!ipv6ToWords(addr, V6)) return `invalid ${kind} ${show(value)}: not an IPv6 address`;
    if (V6[0] === 0 && V6[1] === 0 && V6[2] === 0xffff && prefix >= 96) {
      fam = 'ipv4';
      addr = ipv4Text(V6[3]!);
      prefix -= 96;
    } else {
      if (prefix === 0) return `refusing ${show(value)}: a /0 is every address`;
      maskIpv6Words(V6, prefix);
      const hex = Array.from(V6, (x) => x.toString(16).padStart(8, '0')).join('');
      return makeNet(6, formatIpv6(V6), prefix, hex);
    }
  }
  const n = ipv4ToInt(addr);
  if (n === -1) return `invalid ${kind} ${show(value)}: not an IPv4 address`;
  if (prefix === 0) return `refusing ${show(value)}: a /0 is every address`;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return makeNet(4, ipv4Text(net), prefix, net.toString(16).padStart(8, '0'));
}

/**
 * A device id can only be matched if a request header can carry it: no control characters (HTTP forbids
 * CR, LF and NUL in header values, servers reject the rest) and no leading or trailing whitespace (which
 * HTTP strips). Anything else — quotes, backslashes, `$`, `;`, braces, `%{`, non-ASCII — is allowed here
 * and escaped by each exporter.
 */
export function checkDevice(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return `invalid device id ${show(value)}`;
  if (value.length > 256) return `device id ${show(value)} is longer than 256 characters`;
  if (/[\x00-\x1f\x7f]/.test(value)) {
    return `device id ${show(value)} has control characters, which no HTTP header value can carry`;
  }
  if (/^[ \t]|[ \t]$/.test(value)) {
    return `device id ${show(value)} has leading or trailing whitespace, which HTTP strips from header values`;
  }
  return null;
}

/** `%XX` sequences to bytes; everything else as UTF-8 (an invalid escape stays literal). */
function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
  }
  return Buffer.from(out);
}

/** A `{param}` in a template: the inventory's `{id}`, `{name}`, `{*}`, or an OpenAPI name. */
const PARAM = /\{[A-Za-z0-9_.*-]{1,64}\}/g;

/**
 * Parses `METHOD /template`. The method must be an upper-case token; the template must start with `/`.
 * `{param}` matches one path segment; everything else is literal, percent-decoded (servers and WAFs match
 * the decoded path, so `/api/v1/auth/%6cogin` cannot slip past a rule for `/api/v1/auth/login`).
 */
export function parseEndpoint(value: unknown): Endpoint | string {
  if (typeof value !== 'string' || value.length > 2048) return `invalid endpoint ${show(value)}`;
  const sp = value.indexOf(' ');
  const method = sp === -1 ? '' : value.slice(0, sp);
  const template = sp === -1 ? '' : value.slice(sp + 1);
  if (!/^[A-Z][A-Z0-9_-]{0,31}$/.test(method)) {
    return `invalid endpoint ${show(value)}: expected 'METHOD /template' with an upper-case method`;
  }
  if (!template.startsWith('/')) return `invalid endpoint ${show(value)}: the template must start with '/'`;
  const parts: (Buffer | null)[] = [];
  let last = 0;
  for (const m of template.matchAll(PARAM)) {
    if (m.index > last) parts.push(percentDecode(template.slice(last, m.index)));
    parts.push(null);
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(percentDecode(template.slice(last)));
  return { method, template, parts };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The literal parts as text, or null when a part is not valid UTF-8 (text-based engines cannot match it). */
export function endpointText(ep: Endpoint): (string | null)[] | null {
  try {
    return ep.parts.map((p) => (p === null ? null : UTF8.decode(p)));
  } catch {
    return null;
  }
}

/** Does the endpoint have a `{param}`? (Otherwise it is one exact path.) */
export const hasParam = (ep: Endpoint): boolean => ep.parts.includes(null);

/** Bytes as PCRE (non-UTF mode: nginx, libmodsecurity): `[A-Za-z0-9_/-]` literal, every other byte `\xHH`. */
export function pcreBytes(b: Buffer): string {
  let s = '';
  for (const c of b) s += isSafeAscii(c) ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

/** Invisible or line-breaking characters (C1 controls, bidi and other format characters, U+2028/9). */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Text as a PCRE literal for engines that may run in UTF mode (AWS WAF, Coraza): ASCII punctuation as
 * `\xHH`, other non-ASCII literal (it matches byte- and code-point-wise alike). With `bytesForInvisible`,
 * invisible and line-breaking characters are written as their UTF-8 bytes instead, so that no reader of a
 * text config is misled (exact in byte-mode PCRE; a UTF-mode engine would not match those characters).
 */
export function pcreText(s: string, bytesForInvisible = false): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out += isSafeAscii(c) ? ch : `\\x${c.toString(16).padStart(2, '0')}`;
    else out += bytesForInvisible && INVISIBLE.test(ch) ? pcreBytes(Buffer.from(ch, 'utf8')) : ch;
  }
  return out;
}

/** Text as a Rust `regex` literal (Cloudflare): ASCII punctuation, controls and invisibles as `\x{H…}`. */
export function rustRegexText(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const plain = c < 0x80 ? isSafeAscii(c) : !INVISIBLE.test(ch);
    out += plain ? ch : `\\x{${c.toString(16).padStart(2, '0')}}`;
  }
  return out;
}

/** Inside JSON strings only: JSON.stringify escapes C0 controls itself, and the layout's newlines must stay. */
const INVISIBLE_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/** `\uXXXX` for each UTF-16 unit of `c`. */
function unicodeEscapes(c: string): string {
  return Array.from(
    { length: c.length },
    (_, k) => `\\u${c.charCodeAt(k).toString(16).padStart(4, '0')}`,
  ).join('');
}

/** JSON for a file: indented, with invisible and line-breaking characters as `\uXXXX` (same value). */
export function jsonFile(v: unknown): string {
  return `${JSON.stringify(v, null, 2).replace(INVISIBLE_IN_JSON, unicodeEscapes)}\n`;
}

function isSafeAscii(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 47 || c === 45
  );
}

/**
 * `+` in a path for engines that decode it as a space first (ModSecurity's `t:urlDecodeUni`, AWS WAF's
 * `URL_DECODE` follow form decoding): a literal `+` of the template is `[\x2b\x20]`.
 */
export const PLUS_OR_SPACE = '[\\x2b\\x20]';

/**
 * A literal path for Cloudflare, which compares the path as sent, percent-encoded but normalised (its URL
 * normalisation decodes unreserved characters only): an unreserved character or `/` as itself, any other
 * character as itself or its percent-encoding, hex digits in either case (`"` is `(?:\x{22}|%22)`).
 */
export function cfPathRegex(text: string): string {
  let out = '';
  for (const ch of text) {
    if (/^[A-Za-z0-9/_~.-]$/.test(ch)) {
      out += rustRegexText(ch);
      continue;
    }
    const pct = [...Buffer.from(ch, 'utf8')]
      .map((b) => {
        const h = b.toString(16).toUpperCase().padStart(2, '0');
        return `%${[...h].map((d) => (/[A-F]/.test(d) ? `[${d}${d.toLowerCase()}]` : d)).join('')}`;
      })
      .join('');
    out += `(?:${rustRegexText(ch)}|${pct})`;
  }
  return out;
}

/** The template's path as a regex body (no anchors): literal parts escaped by `lit`, params `[^/]+`. */
export function pathRegex<T>(parts: readonly (T | null)[], lit: (p: T) => string): string {
  return parts.map((p) => (p === null ? '[^/]+' : lit(p))).join('');
}

/** Target names for skip reasons. */
export type TargetLabel = 'nginx' | 'ModSecurity' | 'AWS WAF' | 'Cloudflare' | 'the blocklist';

function scopeSkip(kind: string, target: TargetLabel): string {
  if (kind === 'token') {
    return `token scope: ${target} cannot compute the credential's SHA-256 identity; enforce at the gateway`;
  }
  return `user scope: the user name is inside the JWT, which ${target} cannot decode; enforce at the gateway`;
}

/** A well-formed rate limit: whole requests ≥ 1 per a positive, finite number of seconds. */
function checkRate(r: RateLimit | undefined): string | null {
  if (r === undefined || r === null || typeof r !== 'object') return 'rate_limit without a rateLimit';
  if (!Number.isInteger(r.requests) || r.requests < 1 || r.requests > 1_000_000_000) {
    return `invalid rateLimit.requests ${show(r.requests)}`;
  }
  if (typeof r.perSeconds !== 'number' || !Number.isFinite(r.perSeconds) || r.perSeconds <= 0) {
    return `invalid rateLimit.perSeconds ${show(r.perSeconds)}`;
  }
  if (r.perSeconds > 86400 * 366) return `invalid rateLimit.perSeconds ${show(r.perSeconds)}`;
  return null;
}

/**
 * The decisions to export: active, not expired at `now` (others are left out, not skipped), one per id,
 * sorted by id; each with its scope validated and parsed. Token and user scopes, which no WAF here can
 * match, are skipped with the reason.
 */
export function prepare(input: ExportInput, target: TargetLabel): PrepareResult {
  const now = input.now ?? Date.now();
  const skipped: Skip[] = [];
  const live = input.decisions
    .filter((d) => d.status === 'active' && (d.expiresTs === null || d.expiresTs > now))
    .slice()
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const items: Prepared[] = [];
  let prev: string | null = null;
  for (const d of live) {
    const skip = (reason: string): void => {
      skipped.push({ decision: d.id, reason });
    };
    if (typeof d.id !== 'string' || d.id === '') {
      skip('decision without an id');
      continue;
    }
    if (d.id === prev) {
      skip('duplicate decision id: the first one is exported');
      continue;
    }
    prev = d.id;
    if (!(DECISION_ACTIONS as readonly string[]).includes(d.action)) {
      skip(`unknown action ${show(d.action)}`);
      continue;
    }
    const scope = d.scope;
    if (!scope || !(SCOPE_KINDS as readonly string[]).includes(scope.kind)) {
      skip(`unknown scope kind ${show(scope?.kind)}`);
      continue;
    }
    if (scope.kind === 'token' || scope.kind === 'user') {
      skip(scopeSkip(scope.kind, target));
      continue;
    }
    let rate: RateLimit | null = null;
    if (d.action === 'rate_limit') {
      const bad = checkRate(d.rateLimit);
      if (bad !== null) {
        skip(bad);
        continue;
      }
      rate = { requests: d.rateLimit!.requests, perSeconds: d.rateLimit!.perSeconds };
    }
    let actor: Actor;
    if (scope.kind === 'device') {
      const bad = checkDevice(scope.value);
      if (bad !== null) {
        skip(bad);
        continue;
      }
      actor = { kind: 'device', value: scope.value };
    } else {
      const net = parseNet(scope.kind, scope.value);
      if (typeof net === 'string') {
        skip(net);
        continue;
      }
      actor = { kind: 'net', net };
    }
    let endpoint: Endpoint | null = null;
    if (scope.endpoint !== undefined && scope.endpoint !== null) {
      const ep = parseEndpoint(scope.endpoint);
      if (typeof ep === 'string') {
        skip(ep);
        continue;
      }
      endpoint = ep;
    }
    items.push({ decision: d, id: safeId(d.id), actor, endpoint, rate });
  }
  return { items, skipped };
}

/** Skips in a stable order (by decision id, then reason). */
export function sortSkips(s: Skip[]): Skip[] {
  return s.sort((a, b) =>
    a.decision < b.decision ? -1 : a.decision > b.decision ? 1 : a.reason < b.reason ? -1 : 1,
  );
}

/** Sorts and deduplicates networks (numerically: IPv4 first). */
export function uniqueNets(nets: Iterable<Net>): Net[] {
  const byKey = new Map<string, Net>();
  for (const n of nets) if (!byKey.has(n.key)) byKey.set(n.key, n);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(a: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
  return out;
}
