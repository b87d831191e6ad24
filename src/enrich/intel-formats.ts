/**
 * Threat-intel list formats: plain IP/CIDR lists, the Tor Project's exit lists, AWS `ip-ranges.json`, Google
 * Cloud `cloud.json`, and user-agent pattern lists. Pure functions from text to entries (no I/O); the store
 * (intel.ts) fetches the text and builds the lookup index (intel-index.ts) from what these return.
 *
 * Lists come from the internet: a bad line is counted and kept with its line number and reason, never fatal.
 * Only a document that is not the format at all (JSON that does not parse, no `prefixes` array) is an error.
 */
import { isIP } from 'node:net';
import { formatIpv6, ipv4Text, ipv4ToInt, ipv6ToWords, maskIpv6Words, parseCidr } from '../core/net.js';
import { err, ok, type Result } from '../core/result.js';
import { patternProblem } from '../sensitive/custom.js';

export { formatIpv6 };

/** One IP network of a list, in canonical form. */
export interface IpEntry {
  /** `203.0.113.0/24`, `2001:db8::/32`; a bare address gets /32 or /128; host bits are cleared. */
  cidr: string;
  /** The entry's own comment (`1.2.3.0/24 ; SBL123` → `SBL123`), a Tor relay's fingerprint. */
  name?: string;
  /** Cloud lists: the region (AWS `region`, Google `scope`). */
  region?: string;
  /** Cloud lists: the service (AWS `EC2`, Google `Google Cloud`). */
  service?: string;
}

/** One user-agent pattern: a case-insensitive substring, or a regular expression (`re:` in the list). */
export interface UaEntry {
  /** The pattern as written in the list: `sqlmap` or `re:^python-requests/`. */
  pattern: string;
  /** The name given in the list (`sqlmap/ # SQL injection tool`), else the pattern. */
  name: string;
  kind: 'substring' | 'regex';
  /** Substring: lower-cased text. Regex: the source (compiled with the `i` flag). */
  source: string;
}

/** A line or element that was skipped, and why. */
export interface IntelReject {
  /** 1-based line number, for line formats. */
  line?: number;
  /** JSON location (`prefixes[12].ip_prefix`), for JSON formats. */
  field?: string;
  reason: string;
}

export interface ParsedList<T> {
  entries: T[];
  /** Number of bad lines or elements (all of them). */
  rejected: number;
  /** The first MAX_REJECT_SAMPLES of them. */
  rejects: IntelReject[];
}

export const MAX_REJECT_SAMPLES = 20;
/** Longest user-agent pattern accepted (substring or regex source). */
export const MAX_UA_PATTERN_CHARS = 256;
/** Shortest substring pattern: shorter ones match nearly every agent. */
export const MIN_UA_SUBSTRING_CHARS = 3;
const MAX_NAME_CHARS = 120;

class Collector<T> implements ParsedList<T> {
  entries: T[] = [];
  rejected = 0;
  rejects: IntelReject[] = [];
  reject(r: IntelReject): void {
    this.rejected++;
    if (this.rejects.length < MAX_REJECT_SAMPLES) this.rejects.push(r);
  }
  result(): ParsedList<T> {
    return { entries: this.entries, rejected: this.rejected, rejects: this.rejects };
  }
}

/** Attacker- or internet-supplied text in a message: quoted, escaped, cut. */
function quote(s: string, max = 60): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

function lines(text: string): string[] {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return t.split(/\r?\n/);
}

const WORDS = new Uint32Array(4);

/**
 * The canonical form of an address or CIDR: the network address (host bits cleared) and the prefix, bare
 * addresses as /32 or /128, IPv6 lower-case and compressed. Null when the text is neither, and for a /0
 * (in a list it is a mistake that would match every address).
 */
export function canonicalCidr(text: string): string | null {
  // parseCidr reads the prefix with Number(), which takes '' as 0: `1.2.3.4/` would be the whole internet.
  const slash = text.indexOf('/');
  if (slash !== -1 && !/^\d{1,3}$/.test(text.slice(slash + 1))) return null;
  const p = parseCidr(text);
  if (p === null) return null;
  const [addr, prefix, family] = p;
  if (prefix === 0) return null;
  if (family === 'ipv4') {
    const n = ipv4ToInt(addr);
    if (n === -1) return null;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return `${ipv4Text((n & mask) >>> 0)}/${prefix}`;
  }
  if (!ipv6ToWords(addr, WORDS)) return null;
  maskIpv6Words(WORDS, prefix);
  return `${formatIpv6(WORDS)}/${prefix}`;
}

function cidrProblem(text: string): string {
  return /\/0+$/.test(text) ? 'a /0 network matches every address' : 'not an IP address or CIDR';
}

/** Splits off a comment: `#` or `;` (Spamhaus DROP writes `1.2.3.0/24 ; SBL123`). */
function splitComment(line: string): [body: string, comment: string] {
  let cut = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 35 || c === 59) {
      cut = i;
      break;
    }
  }
  return cut === -1 ? [line.trim(), ''] : [line.slice(0, cut).trim(), line.slice(cut + 1).trim()];
}

/**
 * A plain list: one IP address or CIDR per line; `#` or `;` starts a comment (a whole line, or after the
 * entry, where it becomes the entry's name); blank lines are skipped. Also reads the Tor bulk exit list and
 * Spamhaus DROP / FireHOL netsets. A repeated network is kept once.
 */
export function parseIpList(text: string): ParsedList<IpEntry> {
  const c = new Collector<IpEntry>();
  const seen = new Set<string>();
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const [body, comment] = splitComment(all[i]!);
    if (body === '') continue;
    if (/\s/.test(body)) {
      c.reject({ line: i + 1, reason: `expected one IP address or CIDR per line, got ${quote(body)}` });
      continue;
    }
    const cidr = canonicalCidr(body);
    if (cidr === null) {
      c.reject({ line: i + 1, reason: `${cidrProblem(body)}: ${quote(body)}` });
      continue;
    }
    if (seen.has(cidr)) continue;
    seen.add(cidr);
    c.entries.push(comment === '' ? { cidr } : { cidr, name: comment.slice(0, MAX_NAME_CHARS) });
  }
  return c.result();
}

/**
 * The Tor Project's `exit-addresses` (https://check.torproject.org/exit-addresses): records of
 * `ExitNode <fingerprint>`, `Published`, `LastStatus` and one or more `ExitAddress <ip> <date> <time>`. Each
 * address becomes an entry named by its relay's fingerprint.
 */
export function parseTorExitAddresses(text: string): ParsedList<IpEntry> {
  const c = new Collector<IpEntry>();
  const seen = new Set<string>();
  const all = lines(text);
  let node = '';
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    switch (parts[0]) {
      case 'ExitNode':
        node = /^[0-9A-Fa-f]{40}$/.test(parts[1] ?? '') ? parts[1]!.toUpperCase() : '';
        if (node === '')
          c.reject({ line: i + 1, reason: `ExitNode without a 40-hex fingerprint: ${quote(line)}` });
        break;
      case 'Published':
      case 'LastStatus':
        break;
      case 'ExitAddress': {
        const ip = parts[1] ?? '';
        const cidr = isIP(ip) === 0 ? null : canonicalCidr(ip);
        if (cidr === null) {
          c.reject({ line: i + 1, reason: `ExitAddress without a valid IP address: ${quote(line)}` });
        } else if (!seen.has(cidr)) {
          seen.add(cidr);
          c.entries.push(node === '' ? { cidr } : { cidr, name: node });
        }
        break;
      }
      default:
        c.reject({ line: i + 1, reason: `unknown keyword in exit-addresses: ${quote(line)}` });
    }
  }
  return c.result();
}

/** Tor lists: `exit-addresses` when it looks like one, else the bulk exit list (one address per line). */
export function parseTorList(text: string): ParsedList<IpEntry> {
  return /^(?:ExitNode|ExitAddress) /m.test(text.slice(0, 4096))
    ? parseTorExitAddresses(text)
    : parseIpList(text);
}

function parseJson(text: string, what: string): Result<unknown, string> {
  try {
    return ok(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
  } catch {
    // V8's message quotes the input; say where it is instead.
    return err(`not JSON: expected ${what}`);
  }
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);

/** Cloud prefixes: the same network listed under several services (AWS `AMAZON` and `EC2`) is kept once. */
class CloudMerge {
  private readonly byCidr = new Map<string, { entry: IpEntry; services: string[] }>();
  add(cidr: string, region: string | undefined, service: string | undefined): void {
    const cur = this.byCidr.get(cidr);
    if (cur === undefined) {
      const entry: IpEntry = { cidr };
      if (region !== undefined) entry.region = region;
      this.byCidr.set(cidr, { entry, services: service === undefined ? [] : [service] });
    } else if (service !== undefined && !cur.services.includes(service)) {
      cur.services.push(service);
    }
  }
  into(c: Collector<IpEntry>): void {
    for (const { entry, services } of this.byCidr.values()) {
      // AWS's AMAZON is "every Amazon address"; a specific service (EC2, CLOUDFRONT) says more.
      const specific = services.length > 1 ? services.filter((s) => s !== 'AMAZON') : services;
      if (specific.length > 0) entry.service = specific.join(',');
      c.entries.push(entry);
    }
  }
}

function cloudPrefix(
  c: Collector<IpEntry>,
  merge: CloudMerge,
  field: string,
  value: unknown,
  family: 4 | 6,
  region: string | undefined,
  service: string | undefined,
): void {
  const want = `expected an IPv${family} CIDR`;
  if (typeof value !== 'string') {
    c.reject({ field, reason: `${want}, got ${value === null ? 'null' : typeof value}` });
    return;
  }
  const p = parseCidr(value);
  if (p !== null && p[2] !== (family === 4 ? 'ipv4' : 'ipv6')) {
    c.reject({ field, reason: `${want}, got an IPv${family === 4 ? 6 : 4} one: ${quote(value)}` });
    return;
  }
  const cidr = canonicalCidr(value);
  if (cidr === null) c.reject({ field, reason: `${want}; ${cidrProblem(value)}: ${quote(value)}` });
  else merge.add(cidr, region, service);
}

/**
 * AWS `ip-ranges.json` (https://ip-ranges.amazonaws.com/ip-ranges.json): `prefixes[].ip_prefix` and
 * `ipv6_prefixes[].ipv6_prefix`, each with `region` and `service`.
 */
export function parseAwsRanges(text: string): Result<ParsedList<IpEntry>, string> {
  const what = 'AWS ip-ranges.json ({"prefixes": [{"ip_prefix": ...}], "ipv6_prefixes": [...]})';
  const j = parseJson(text, what);
  if (!j.ok) return j;
  const doc = j.value;
  if (!isObject(doc) || !Array.isArray(doc.prefixes)) return err(`no "prefixes" array: expected ${what}`);
  const c = new Collector<IpEntry>();
  const merge = new CloudMerge();
  const walk = (key: 'prefixes' | 'ipv6_prefixes', field: 'ip_prefix' | 'ipv6_prefix', family: 4 | 6) => {
    const list = doc[key];
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      c.reject({ field: key, reason: 'expected an array' });
      return;
    }
    list.forEach((p, i) => {
      if (!isObject(p)) c.reject({ field: `${key}[${i}]`, reason: 'expected an object' });
      else cloudPrefix(c, merge, `${key}[${i}].${field}`, p[field], family, str(p.region), str(p.service));
    });
  };
  walk('prefixes', 'ip_prefix', 4);
  walk('ipv6_prefixes', 'ipv6_prefix', 6);
  merge.into(c);
  return ok(c.result());
}

/**
 * Google Cloud `cloud.json` (https://www.gstatic.com/ipranges/cloud.json; `goog.json` has the same shape):
 * `prefixes[]` with `ipv4Prefix` or `ipv6Prefix`, `service` and `scope` (the region).
 */
export function parseGcpRanges(text: string): Result<ParsedList<IpEntry>, string> {
  const what = 'Google cloud.json ({"prefixes": [{"ipv4Prefix": ...} or {"ipv6Prefix": ...}]})';
  const j = parseJson(text, what);
  if (!j.ok) return j;
  const doc = j.value;
  if (!isObject(doc) || !Array.isArray(doc.prefixes)) return err(`no "prefixes" array: expected ${what}`);
  const c = new Collector<IpEntry>();
  const merge = new CloudMerge();
  doc.prefixes.forEach((p: unknown, i: number) => {
    if (!isObject(p)) {
      c.reject({ field: `prefixes[${i}]`, reason: 'expected an object' });
      return;
    }
    const region = str(p.scope);
    const service = str(p.service);
    if (p.ipv4Prefix !== undefined)
      cloudPrefix(c, merge, `prefixes[${i}].ipv4Prefix`, p.ipv4Prefix, 4, region, service);
    if (p.ipv6Prefix !== undefined)
      cloudPrefix(c, merge, `prefixes[${i}].ipv6Prefix`, p.ipv6Prefix, 6, region, service);
    if (p.ipv4Prefix === undefined && p.ipv6Prefix === undefined)
      c.reject({ field: `prefixes[${i}]`, reason: 'expected ipv4Prefix or ipv6Prefix' });
  });
  merge.into(c);
  return ok(c.result());
}

/**
 * Why a user-agent pattern cannot be used, or null. Regexes run on every request's agent, which the client
 * writes: besides compiling, they pass the same checks as custom sensitive types (no nested repetition, no
 * back-references, no empty match, fast on hostile probes), and at most MAX_UA_PATTERN_CHARS long.
 */
export function userAgentPatternProblem(pattern: string): string | null {
  const isRe = pattern.startsWith('re:');
  const body = isRe ? pattern.slice(3) : pattern;
  if (body.length > MAX_UA_PATTERN_CHARS) return `longer than ${MAX_UA_PATTERN_CHARS} characters`;
  if (!isRe) {
    return body.length < MIN_UA_SUBSTRING_CHARS
      ? `substring shorter than ${MIN_UA_SUBSTRING_CHARS} characters (it would match almost every agent)`
      : null;
  }
  if (body === '') return 'empty regular expression after re:';
  const p = patternProblem(body, 'i');
  return p === null ? null : `regular expression ${p}`;
}

/**
 * A user-agent list: one pattern per line, a case-insensitive substring (`sqlmap`), or with `re:` a regular
 * expression (`re:^python-requests/\d`), tested case-insensitively. Whole-line `#` comments and blank lines are
 * skipped; ` #` after the pattern (whitespace first) starts the pattern's name. A repeated pattern is kept
 * once.
 */
export function parseUserAgentList(text: string): ParsedList<UaEntry> {
  const c = new Collector<UaEntry>();
  const seen = new Set<string>();
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const raw = all[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const m = /\s#\s*(.*)$/.exec(raw);
    const pattern = m === null ? raw : raw.slice(0, m.index).trim();
    const name = m === null || m[1]!.trim() === '' ? pattern : m[1]!.trim().slice(0, MAX_NAME_CHARS);
    const problem = userAgentPatternProblem(pattern);
    if (problem !== null) {
      c.reject({ line: i + 1, reason: `${problem}: ${quote(pattern)}` });
      continue;
    }
    const isRe = pattern.startsWith('re:');
    const source = isRe ? pattern.slice(3) : pattern.toLowerCase();
    const key = `${isRe ? 'r' : 's'}:${source}`;
    if (seen.has(key)) continue;
    seen.add(key);
    c.entries.push({ pattern, name, kind: isRe ? 'regex' : 'substring', source });
  }
  return c.result();
}
