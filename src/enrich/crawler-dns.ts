/**
 * Verifying search-engine crawlers by forward-confirmed reverse DNS: the method Google ("Verifying
 * Googlebot and other Google crawlers") and Microsoft ("Verifying Bingbot") document besides their
 * published ranges. It keeps working when a vendor adds ranges before our summary in `crawlers.ts` is
 * updated.
 *
 * 1. Reverse lookup (PTR) of the address; every name returned is considered.
 * 2. The name must end in a crawler's domain on a label boundary (`crawl-1-2-3-4.googlebot.com` matches
 *    `googlebot.com`; `crawl.evilgooglebot.com` and `googlebot.com.evil.net` do not). Anyone controls the
 *    PTR records of their own addresses, so this alone proves nothing.
 * 3. Forward lookup (A for IPv4, AAAA for IPv6) of that name must include the address. Only the vendor
 *    controls its domain's A/AAAA records, so this is the proof. Addresses are compared in canonical form
 *    (`2001:DB8:0:0::1` is `2001:db8::1`).
 *
 * The default domains leave out `googleusercontent.com` on purpose, although Google's page lists it for
 * its user-triggered fetchers: the addresses of Google Cloud customers' VMs and App Engine apps reverse
 * to names in it (`….bc.googleusercontent.com`, `….gae.googleusercontent.com`) and forward-confirm, so
 * anyone with a cloud account would pass as "Google". An allow-list must not be that cheap to join.
 *
 * DNS is slow and can be down, and this runs on attacker-chosen addresses, so: one verification is
 * bounded by `timeoutMs` (the resolver's own timeout plus an overall guard — a dead server yields null,
 * never a hung caller), lookups run at most `maxConcurrent` at a time, results (positive and negative)
 * are kept in a bounded cache with a TTL, concurrent requests for one address share one lookup, and DNS
 * errors never throw: any failure is "not verified".
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ipv4ToInt, ipv6ToWords } from '../core/net.js';

/** The lookups the verifier needs; `Resolver` from `node:dns/promises` satisfies it. */
export interface DnsLike {
  reverse(ip: string): Promise<string[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

/** A crawler and the DNS domains its reverse names end in. */
export interface CrawlerDomains {
  crawler: string;
  suffixes: readonly string[];
}

export interface DnsVerifiedCrawler {
  crawler: string;
  /** The forward-confirmed name, lower case, without a trailing dot. */
  host: string;
}

export interface CrawlerDnsVerifierOptions {
  /** Lookups to use; by default a `Resolver` with `timeout: timeoutMs, tries: 1`. Exclusive with `servers`. */
  resolver?: DnsLike;
  /** DNS servers for the default resolver (`'192.0.2.53'`, `'[2001:db8::53]:5353'`); the system's when unset. */
  servers?: string[];
  /** Bound on one verification (reverse plus forward lookups), ms. Default 2000. */
  timeoutMs?: number;
  /** Verifications in flight at once; more wait their turn (waiting does not count against `timeoutMs`). Default 16. */
  maxConcurrent?: number;
  /** Addresses whose results are cached; the least recently used go first. 0 disables the cache. Default 10,000. */
  cacheSize?: number;
  /** How long an answer is kept — verified, or definitively not (no PTR, foreign name, no match), ms. Default 1 h. */
  cacheTtlMs?: number;
  /** How long a failed lookup (timeout, SERVFAIL, refused) is kept, ms; capped by `cacheTtlMs`. Default 60 s. */
  failureTtlMs?: number;
  /** Crawlers and their domains, tried in order. Default `DNS_VERIFIED_CRAWLERS`. */
  domains?: readonly CrawlerDomains[];
}

/**
 * Domains from the vendors' verification pages: Googlebot's common crawlers reverse to
 * `crawl-….googlebot.com` / `geo-crawl-….geo.googlebot.com`; Google's special-case crawlers (AdsBot…) and
 * its own user-triggered fetchers to `rate-limited-proxy-….google.com` / `google-proxy-….google.com`;
 * Bingbot to `msnbot-….search.msn.com`. See the module comment for why `googleusercontent.com` is not here.
 */
export const DNS_VERIFIED_CRAWLERS: readonly CrawlerDomains[] = [
  { crawler: 'googlebot', suffixes: ['googlebot.com'] },
  { crawler: 'google', suffixes: ['google.com'] },
  { crawler: 'bingbot', suffixes: ['search.msn.com'] },
];

/** PTR names tried per address: a hostile reverse zone may return thousands. */
const MAX_NAMES = 8;
/** What a hostname may be made of (lower case). Anything else in a PTR is not a crawler's name. */
const HOSTNAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/;
/** Errors that are answers ("no such name", "no such record"), as opposed to failures to get one. */
const DEFINITIVE = new Set(['ENOTFOUND', 'ENODATA']);

interface Address {
  /** Canonical text: dotted quad, or eight lower-case hex groups. Also the cache key. */
  key: string;
  family: 4 | 6;
}

interface Outcome {
  result: DnsVerifiedCrawler | null;
  /** A lookup failed (rather than answered): cached for `failureTtlMs` only. */
  failed: boolean;
}

const WORDS = new Uint32Array(4);

/** Canonical form of an address, or null for text that is not one. IPv4-mapped IPv6 becomes IPv4. */
function canonical(ip: string): Address | null {
  const family = isIP(ip);
  if (family === 4) {
    const n = ipv4ToInt(ip);
    return n === -1 ? null : { key: dotted(n), family: 4 };
  }
  if (family !== 6 || !ipv6ToWords(ip, WORDS)) return null;
  if (WORDS[0] === 0 && WORDS[1] === 0 && WORDS[2] === 0xffff) return { key: dotted(WORDS[3]!), family: 4 };
  const groups: string[] = [];
  for (const w of WORDS) groups.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  return { key: groups.join(':'), family: 6 };
}

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function normaliseSuffix(s: string, crawler: string): string {
  const t = s
    .trim()
    .toLowerCase()
    .replace(/^\.+|\.+$/g, '');
  // At least two labels: a bare `com` would let every .com name through.
  if (!HOSTNAME.test(t)) {
    throw new Error(
      `CrawlerDnsVerifier: crawler "${crawler}" has an invalid domain suffix ${JSON.stringify(s)} (want a domain such as "googlebot.com")`,
    );
  }
  return t;
}

function checkNumber(
  name: string,
  v: number | undefined,
  dflt: number,
  min: number,
  integer: boolean,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    const what = integer ? 'an integer' : 'a number';
    throw new RangeError(
      `CrawlerDnsVerifier: ${name} must be ${what} from ${min} to ${max}, got ${String(v)}`,
    );
  }
  return v;
}

export class CrawlerDnsVerifier {
  private readonly dns: DnsLike;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly failureTtlMs: number;
  private readonly domains: { crawler: string; suffixes: string[] }[];
  /** Insertion order is recency order: a hit is moved to the end, eviction takes from the front. */
  private readonly cache = new Map<string, { result: DnsVerifiedCrawler | null; expires: number }>();
  private readonly inflight = new Map<string, Promise<DnsVerifiedCrawler | null>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: CrawlerDnsVerifierOptions = {}) {
    this.timeoutMs = checkNumber('timeoutMs', opts.timeoutMs, 2000, 1, false, 2 ** 31 - 1);
    this.maxConcurrent = checkNumber('maxConcurrent', opts.maxConcurrent, 16, 1, true);
    this.cacheSize = checkNumber('cacheSize', opts.cacheSize, 10_000, 0, true);
    this.cacheTtlMs = checkNumber('cacheTtlMs', opts.cacheTtlMs, 3_600_000, 0, false);
    this.failureTtlMs = Math.min(
      this.cacheTtlMs,
      checkNumber('failureTtlMs', opts.failureTtlMs, 60_000, 0, false),
    );
    this.domains = (opts.domains ?? DNS_VERIFIED_CRAWLERS).map((d) => {
      if (typeof d.crawler !== 'string' || d.crawler === '' || d.suffixes.length === 0) {
        throw new Error(`CrawlerDnsVerifier: each domain needs a crawler name and at least one suffix`);
      }
      return { crawler: d.crawler, suffixes: d.suffixes.map((s) => normaliseSuffix(s, d.crawler)) };
    });
    if (opts.resolver) {
      if (opts.servers) {
        throw new Error(
          'CrawlerDnsVerifier: give either resolver or servers, not both (set the servers on your resolver)',
        );
      }
      this.dns = opts.resolver;
    } else {
      // tries: 1 — a retry would not fit in the budget; the guard in `verify` bounds the whole anyway.
      const r = new Resolver({ timeout: Math.ceil(this.timeoutMs), tries: 1 });
      if (opts.servers) {
        try {
          r.setServers(opts.servers);
        } catch (e) {
          throw new Error(
            `CrawlerDnsVerifier: invalid DNS servers ${JSON.stringify(opts.servers)}: ${(e as Error).message}`,
          );
        }
      }
      this.dns = r;
    }
  }

  /**
   * The crawler whose domain the address's reverse name is in, forward-confirmed; null when it is not one,
   * when the text is not an address, and when DNS fails or takes longer than `timeoutMs`. Never throws.
   */
  verify(ip: string): Promise<DnsVerifiedCrawler | null> {
    const addr = typeof ip === 'string' ? canonical(ip) : null;
    if (addr === null) return Promise.resolve(null);
    const hit = this.cache.get(addr.key);
    if (hit !== undefined) {
      this.cache.delete(addr.key);
      if (hit.expires > Date.now()) {
        this.cache.set(addr.key, hit);
        return Promise.resolve(hit.result);
      }
    }
    const pending = this.inflight.get(addr.key);
    if (pending !== undefined) return pending;
    const p = this.withSlot(() => this.guarded(addr)).then((o) => {
      this.remember(addr.key, o);
      this.inflight.delete(addr.key);
      return o.result;
    });
    this.inflight.set(addr.key, p);
    return p;
  }

  /** The verified ones among `ips`, keyed by the text as given. Duplicates are looked up once. */
  async verifyMany(ips: Iterable<string>): Promise<Map<string, DnsVerifiedCrawler>> {
    const unique = [...new Set(ips)];
    const results = await Promise.all(unique.map((ip) => this.verify(ip)));
    const out = new Map<string, DnsVerifiedCrawler>();
    unique.forEach((ip, i) => {
      const r = results[i];
      if (r) out.set(ip, r);
    });
    return out;
  }

  private remember(key: string, o: Outcome): void {
    const ttl = o.failed ? this.failureTtlMs : this.cacheTtlMs;
    if (this.cacheSize === 0 || ttl === 0) return;
    this.cache.delete(key);
    this.cache.set(key, { result: o.result, expires: Date.now() + ttl });
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (the count stays), or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** `lookup`, or a failure once `timeoutMs` has passed — whichever comes first. */
  private guarded(addr: Address): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ result: null, failed: true }), this.timeoutMs);
    });
    // `lookup` never rejects, so the loser of the race settles quietly in the background.
    return Promise.race([this.lookup(addr), timeout]).finally(() => clearTimeout(timer));
  }

  private async lookup(addr: Address): Promise<Outcome> {
    let names: string[];
    try {
      names = await this.dns.reverse(addr.key);
    } catch (e) {
      return { result: null, failed: !isDefinitive(e) };
    }
    let failed = false;
    const tried = new Set<string>();
    for (const raw of Array.isArray(names) ? names : []) {
      if (tried.size >= MAX_NAMES) break;
      const host = typeof raw === 'string' ? raw.toLowerCase().replace(/\.$/, '') : '';
      if (tried.has(host) || !HOSTNAME.test(host)) continue;
      const crawler = this.crawlerOf(host);
      if (crawler === null) continue;
      tried.add(host);
      try {
        const forward = addr.family === 4 ? await this.dns.resolve4(host) : await this.dns.resolve6(host);
        if (
          Array.isArray(forward) &&
          forward.some((a) => typeof a === 'string' && canonical(a)?.key === addr.key)
        ) {
          return { result: { crawler, host }, failed: false };
        }
      } catch (e) {
        if (!isDefinitive(e)) failed = true;
      }
    }
    return { result: null, failed };
  }

  /** The first crawler with a suffix that `host` is strictly inside of, on a label boundary. */
  private crawlerOf(host: string): string | null {
    for (const d of this.domains) {
      for (const s of d.suffixes) {
        if (
          host.length > s.length + 1 &&
          host.endsWith(s) &&
          host.charCodeAt(host.length - s.length - 1) === 46
        ) {
          return d.crawler;
        }
      }
    }
    return null;
  }
}

function isDefinitive(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DEFINITIVE.has(code);
}
