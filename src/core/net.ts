/**
 * Client address resolution. A proxy's X-Forwarded-For is only believed when the peer that sent it is a
 * trusted proxy; otherwise any client could claim any address.
 */
import { BlockList, isIP } from 'node:net';
import { owned } from './strings.js';

/** The default trusted proxies: loopback and private networks (a load balancer in the same network). */
export const DEFAULT_TRUSTED_PROXIES = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '100.64.0.0/10',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/** Parses `a.b.c.d/n`, `v6/n` or a bare address into [address, prefix, family]; null if invalid. */
export function parseCidr(s: string): [string, number, 'ipv4' | 'ipv6'] | null {
  const slash = s.indexOf('/');
  const addr = slash === -1 ? s : s.slice(0, slash);
  const fam = isIP(addr);
  if (fam === 0) return null;
  const max = fam === 4 ? 32 : 128;
  // Plain decimal digits only: Number() would read '' as 0 (so `10.0.0.1/` would match every address) and
  // accept ' 8', '0x8' or '1e1'.
  const digits = slash === -1 ? null : s.slice(slash + 1);
  if (digits !== null && !/^\d{1,3}$/.test(digits)) return null;
  const prefix = digits === null ? max : Number(digits);
  if (prefix > max) return null;
  return [addr, prefix, fam === 4 ? 'ipv4' : 'ipv6'];
}

/** Strips a port and IPv6 brackets: `1.2.3.4:80` → `1.2.3.4`, `[::1]:80` → `::1`; other text unchanged. */
export function stripPort(s: string): string {
  if (s.charCodeAt(0) === 91 /* [ */) {
    const end = s.indexOf(']');
    return end === -1 ? s : s.slice(1, end);
  }
  const colon = s.indexOf(':');
  // One colon: host:port. More than one: a bare IPv6 address, keep it.
  if (colon !== -1 && s.indexOf(':', colon + 1) === -1) return s.slice(0, colon);
  return s;
}

/** Dotted-quad IPv4 → unsigned 32-bit integer, or -1 if the text is not one. */
export function ipv4ToInt(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + part : -1;
}

/**
 * A set of CIDRs. IPv4 (the common case, asked about on every proxied line) is matched with integer
 * arithmetic; IPv6 goes through node's BlockList behind a bounded memo.
 */
export class CidrSet {
  private readonly list = new BlockList();
  private readonly v4: { net: number; mask: number }[] = [];
  private memo = new Map<string, boolean>();
  private older = new Map<string, boolean>();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const p = parseCidr(c);
      if (!p) throw new Error(`invalid CIDR '${c}'`);
      this.list.addSubnet(p[0], p[1], p[2]);
      if (p[2] === 'ipv4') {
        const mask = p[1] === 0 ? 0 : (0xffffffff << (32 - p[1])) >>> 0;
        this.v4.push({ net: (ipv4ToInt(p[0]) & mask) >>> 0, mask });
      }
    }
    this.size = cidrs.length;
  }

  private hasV4(n: number): boolean {
    for (let i = 0; i < this.v4.length; i++) {
      const r = this.v4[i]!;
      if ((n & r.mask) >>> 0 === r.net) return true;
    }
    return false;
  }

  has(ip: string): boolean {
    if (this.size === 0) return false;
    const n = ipv4ToInt(ip);
    if (n !== -1) return this.hasV4(n);
    let m = this.memo.get(ip);
    if (m === undefined) m = this.older.get(ip);
    if (m !== undefined) return m;
    let hit = isIP(ip) === 6 && this.list.check(ip, 'ipv6');
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 peer as a dual-stack socket reports it.
    if (!hit && ip.toLowerCase().startsWith('::ffff:')) {
      const v4 = ipv4ToInt(ip.slice(7));
      if (v4 !== -1) hit = this.hasV4(v4);
    }
    // Two generations: a full memo becomes the older one, so hot addresses survive the turnover.
    if (this.memo.size >= 8192) {
      this.older = this.memo;
      this.memo = new Map();
    }
    // A copy: the address is usually a slice of a log line or a request body, which a kept slice would pin.
    this.memo.set(owned(ip), hit);
    return hit;
  }
}

/**
 * The client address: the peer, unless the peer is a trusted proxy, in which case X-Forwarded-For is walked
 * from the right (the entry the nearest proxy appended) past trusted proxies to the first untrusted
 * address; X-Real-IP is used when there is no X-Forwarded-For. Malformed entries stop the walk.
 */
export function resolveClientIp(
  peer: string,
  forwardedFor: string | null,
  realIp: string | null,
  trusted: CidrSet,
): string {
  // Most access logs carry no forwarding headers: skip the trust lookup entirely.
  if (
    (forwardedFor === null || forwardedFor === '' || forwardedFor === '-') &&
    (realIp === null || realIp === '' || realIp === '-')
  ) {
    return peer;
  }
  const peerTrusted = peer === '' || peer === '-' || trusted.has(peer);
  if (!peerTrusted) return peer;
  if (forwardedFor && forwardedFor !== '-') {
    let ip = peer;
    let end = forwardedFor.length;
    while (end > 0) {
      const comma = forwardedFor.lastIndexOf(',', end - 1);
      const cand = stripPort(forwardedFor.slice(comma + 1, end).trim());
      end = comma === -1 ? 0 : comma;
      if (isIP(cand) === 0) break;
      ip = cand;
      if (!trusted.has(cand)) break;
    }
    if (ip !== '' && ip !== '-') return ip;
  }
  if (realIp && realIp !== '-') {
    const r = stripPort(realIp.trim());
    if (isIP(r) !== 0) return r;
  }
  return peer;
}

/** Dotted-quad IPv4 in s[start, end) → unsigned 32-bit integer, or -1 (ipv4ToInt without the slice). */
function ipv4At(s: string, start: number, end: number): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + part : -1;
}

/** The value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

const GROUPS = new Uint16Array(8);

/**
 * IPv6 text → four unsigned 32-bit words, most significant first, written to `out` (no BigInt, no
 * allocation). Accepts `::` compression, upper- or lower-case hex and a dotted IPv4 tail (`::ffff:1.2.3.4`).
 * Returns false, leaving `out` unspecified, for anything else, including zone ids (`fe80::1%eth0`) and IPv4.
 */
export function ipv6ToWords(s: string, out: Uint32Array): boolean {
  const len = s.length;
  if (len < 2 || len > 45) return false;
  let n = 0;
  /** Number of groups before `::`, or -1 when there is none. */
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    if (n === 8) return false;
    const start = i;
    let v = 0;
    while (i < len) {
      const h = hexValue(s.charCodeAt(i));
      if (h === -1) break;
      v = v * 16 + h;
      i++;
    }
    if (i < len && s.charCodeAt(i) === 46) {
      // A dotted IPv4 tail: the last 32 bits.
      if (n > 6) return false;
      const v4 = ipv4At(s, start, len);
      if (v4 === -1) return false;
      GROUPS[n++] = v4 >>> 16;
      GROUPS[n++] = v4 & 0xffff;
      i = len;
      break;
    }
    if (i === start || i - start > 4) return false;
    GROUPS[n++] = v;
    if (i === len) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i === len) return false;
    if (s.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = n;
      i++;
    }
  }
  if (gap === -1 ? n !== 8 : n > 7) return false;
  // Expand `::`: the groups after it move to the end, zeros in between.
  for (let w = 0; w < 4; w++) {
    let hi = 0;
    let lo = 0;
    const a = 2 * w;
    const b = a + 1;
    if (gap === -1) {
      hi = GROUPS[a]!;
      lo = GROUPS[b]!;
    } else {
      const tail = n - gap;
      hi = a < gap ? GROUPS[a]! : a >= 8 - tail ? GROUPS[a - (8 - n)]! : 0;
      lo = b < gap ? GROUPS[b]! : b >= 8 - tail ? GROUPS[b - (8 - n)]! : 0;
    }
    out[w] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}

/** A 32-bit IPv4 address → dotted text. */
export const ipv4Text = (n: number): string =>
  `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** Clears the host bits below `prefix` in an IPv6 address held as four 32-bit words. */
export function maskIpv6Words(w: Uint32Array, prefix: number): void {
  for (let i = 0; i < 4; i++) {
    const bits = Math.min(32, Math.max(0, prefix - 32 * i));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    w[i] = (w[i]! & mask) >>> 0;
  }
}

/** Four 32-bit words → RFC 5952 text (lower-case, the longest run of two or more zero groups as `::`). */
export function formatIpv6(words: ArrayLike<number>): string {
  const g: number[] = [];
  for (let w = 0; w < 4; w++) g.push(words[w]! >>> 16, words[w]! & 0xffff);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) =>
    g
      .slice(a, b)
      .map((x) => x.toString(16))
      .join(':');
  return bestAt === -1 ? hex(0, 8) : `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}
