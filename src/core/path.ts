/**
 * Request-target handling: split a target into host / path / query, normalize the path, parse the query.
 * Everything here sees attacker-controlled text: it never throws on bad input, it leaves it as data.
 */
import type { QueryParams } from './event.js';

export interface SplitTarget {
  /** Host from an absolute-form target (`GET http://h/p`), lower-case, else null. */
  host: string | null;
  /** The raw path part (still percent-encoded). */
  path: string;
  /** The raw query string without `?`, or null. */
  query: string | null;
}

/** Splits a request-target of any form: origin (`/p?q`), absolute (`http://h/p?q`), authority (`h:443`), `*`. */
export function splitTarget(target: string): SplitTarget {
  let host: string | null = null;
  let rest = target;
  const c0 = target.charCodeAt(0);
  if (c0 !== 47 /* / */ && (c0 === 104 || c0 === 72) /* h H */) {
    const m = /^https?:\/\/([^/?#]*)/i.exec(target);
    if (m) {
      host = normalizeHost(m[1]!.replace(/^[^@]*@/, '')); // drop userinfo: never keep credentials
      rest = target.slice(m[0].length);
      if (rest === '' || rest.charCodeAt(0) !== 47) rest = `/${rest}`;
    }
  }
  let end = rest.length;
  const hash = rest.indexOf('#');
  if (hash !== -1) end = hash;
  const q = rest.indexOf('?');
  if (q !== -1 && q < end) {
    return { host, path: rest.slice(0, q), query: rest.slice(q + 1, end) };
  }
  return { host, path: end === rest.length ? rest : rest.slice(0, end), query: null };
}

/** Lower-cases a Host and drops a default port (`:80`, `:443`); null for empty or `-`. */
export function normalizeHost(h: string | null | undefined): string | null {
  if (!h || h === '-') return null;
  let host = h.toLowerCase();
  if (host.endsWith(':80')) host = host.slice(0, -3);
  else if (host.endsWith(':443')) host = host.slice(0, -4);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host === '' ? null : host;
}

const HEX = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;

/** Length of a UTF-8 sequence from its lead byte, 0 if the byte cannot start one. */
const utf8Len = (b: number): number =>
  b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;

/**
 * Percent-decodes what is safe to decode: characters that do not change the structure of the path. `%2F` (/),
 * `%3F` (?), `%23` (#), `%25` (%), control characters and invalid UTF-8 stay encoded (upper-cased hex), so
 * decoding can never make two different resources look the same or hide an encoding attack.
 */
export function safePercentDecode(s: string): string {
  if (s.indexOf('%') === -1) return s;
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 37 || i + 2 >= n || HEX(s.charCodeAt(i + 1)) < 0 || HEX(s.charCodeAt(i + 2)) < 0) {
      out += s[i];
      i++;
      continue;
    }
    const b0 = HEX(s.charCodeAt(i + 1)) * 16 + HEX(s.charCodeAt(i + 2));
    const len = utf8Len(b0);
    if (len === 1) {
      const keep = b0 < 0x20 || b0 === 0x7f || b0 === 0x2f || b0 === 0x3f || b0 === 0x23 || b0 === 0x25;
      out += keep ? `%${s.slice(i + 1, i + 3).toUpperCase()}` : String.fromCharCode(b0);
      i += 3;
      continue;
    }
    // Multi-byte: read len-1 continuation bytes, all percent-encoded.
    let cp = len === 2 ? b0 & 0x1f : len === 3 ? b0 & 0x0f : b0 & 0x07;
    let ok = len > 0;
    for (let k = 1; ok && k < len; k++) {
      const j = i + k * 3;
      if (j + 2 >= n || s.charCodeAt(j) !== 37) {
        ok = false;
        break;
      }
      const h = HEX(s.charCodeAt(j + 1));
      const l = HEX(s.charCodeAt(j + 2));
      const b = h * 16 + l;
      if (h < 0 || l < 0 || (b & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (b & 0x3f);
    }
    // Reject overlongs, surrogates and out-of-range code points: they stay encoded.
    if (
      ok &&
      ((len === 3 && cp < 0x800) ||
        (len === 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
    ) {
      ok = false;
    }
    if (!ok) {
      out += `%${s.slice(i + 1, i + 3).toUpperCase()}`;
      i += 3;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += len * 3;
  }
  return out;
}

/** Resolves `.` and `..` segments (RFC 3986 5.2.4) and folds repeated slashes; never climbs above `/`. */
function resolveSegments(p: string): string {
  const parts = p.split('/');
  const out: string[] = [];
  const last = parts.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = parts[i]!;
    if (seg === '' || seg === '.') {
      if (i === last) out.push('');
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (i === last) out.push('');
      continue;
    }
    out.push(seg);
  }
  return `/${out.join('/')}`;
}

/**
 * Normalizes a raw request path: safe percent-decoding, dot-segment resolution, `//` folding. A trailing
 * slash is kept (`/a/` and `/a` can be different resources). Paths not starting with `/` (`*`, CONNECT
 * authorities, garbage) are returned as they are.
 */
export function normalizePath(raw: string): string {
  if (raw.charCodeAt(0) !== 47) return raw === '' ? '/' : raw;
  // Fast path: nothing to decode and no `//`, `/.` sequences.
  if (raw.indexOf('%') === -1 && raw.indexOf('//') === -1 && raw.indexOf('/.') === -1) return raw;
  const decoded = safePercentDecode(raw);
  return decoded.indexOf('//') === -1 && decoded.indexOf('/.') === -1 ? decoded : resolveSegments(decoded);
}

/** Decodes a query component: `+` is a space, invalid percent-encoding is kept as it is. */
export function decodeQueryComponent(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  const t = s.indexOf('+') === -1 ? s : s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/** Parses a raw query string into a null-prototype object (attacker keys like `__proto__` stay data). */
export function parseQuery(raw: string | null): QueryParams | null {
  if (raw === null || raw === '') return null;
  const out: QueryParams = Object.create(null);
  let any = false;
  let start = 0;
  const n = raw.length;
  while (start <= n) {
    let amp = raw.indexOf('&', start);
    if (amp === -1) amp = n;
    if (amp > start) {
      const eq = raw.indexOf('=', start);
      const hasEq = eq !== -1 && eq < amp;
      const k = decodeQueryComponent(raw.slice(start, hasEq ? eq : amp));
      const v = hasEq ? decodeQueryComponent(raw.slice(eq + 1, amp)) : '';
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else if (typeof prev === 'string') out[k] = [prev, v];
      else prev.push(v);
      any = true;
    }
    start = amp + 1;
  }
  return any ? out : null;
}
