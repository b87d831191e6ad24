import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CrawlerDnsVerifier, type DnsLike } from './crawler-dns.js';

const A = 1;
const PTR = 12;
const AAAA = 28;

/** IPv6 text (no dotted tail) → eight 16-bit groups. */
function groups6(ip: string): number[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (all.length !== 8) throw new Error(`test: bad IPv6 ${ip}`);
  return all.map((g) => Number.parseInt(g, 16));
}

/** The name a PTR query for `ip` asks about. */
function reverseName(ip: string): string {
  if (ip.includes(':')) {
    const nibbles = groups6(ip).flatMap((g) => g.toString(16).padStart(4, '0').split(''));
    return `${nibbles.reverse().join('.')}.ip6.arpa`;
  }
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .map((l) => {
      const b = Buffer.from(l, 'ascii');
      return Buffer.concat([Buffer.from([b.length]), b]);
    });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

interface Records {
  ptr: string[];
  a: string[];
  aaaa: string[];
}

/**
 * A tiny authoritative DNS server over UDP: parses the header and the one question (QNAME labels, QTYPE,
 * QCLASS) and answers PTR, A and AAAA from its table; NXDOMAIN for unknown names, SERVFAIL for names in
 * `servfail`. `silent` drops every query; `delayMs` holds answers back (to observe concurrency).
 */
class TestDns {
  readonly records = new Map<string, Records>();
  readonly servfail = new Set<string>();
  readonly queries: { name: string; type: number }[] = [];
  silent = false;
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<TestDns> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    const server = new TestDns(socket, socket.address().port);
    socket.on('message', (msg, rinfo) => server.onQuery(msg, rinfo));
    return server;
  }

  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.records.clear();
    this.servfail.clear();
    this.queries.length = 0;
    this.silent = false;
    this.delayMs = 0;
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  private entry(name: string): Records {
    const key = name.toLowerCase();
    const r = this.records.get(key) ?? { ptr: [], a: [], aaaa: [] };
    this.records.set(key, r);
    return r;
  }
  ptr(ip: string, ...names: string[]): this {
    this.entry(reverseName(ip)).ptr.push(...names);
    return this;
  }
  a(name: string, ...ips: string[]): this {
    this.entry(name).a.push(...ips);
    return this;
  }
  aaaa(name: string, ...ips: string[]): this {
    this.entry(name).aaaa.push(...ips);
    return this;
  }
  count(type?: number): number {
    return this.queries.filter((q) => type === undefined || q.type === type).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onQuery(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    if (msg.readUInt16BE(4) !== 1) {
      this.send(this.reply(id, flags, 1, Buffer.alloc(0), []), rinfo); // FORMERR: one question only
      return;
    }
    const labels: string[] = [];
    let off = 12;
    for (;;) {
      if (off >= msg.length) return;
      const len = msg[off]!;
      off++;
      if (len === 0) break;
      if (len > 63 || off + len > msg.length) return; // no compression in a question
      labels.push(msg.toString('ascii', off, off + len));
      off += len;
    }
    if (off + 4 > msg.length) return;
    const qtype = msg.readUInt16BE(off);
    const qclass = msg.readUInt16BE(off + 2);
    const question = msg.subarray(12, off + 4);
    const name = labels.join('.').toLowerCase();
    this.queries.push({ name, type: qtype });
    if (this.silent) return;

    let rcode = 0;
    const answers: Buffer[] = [];
    const rec = this.records.get(name);
    if (this.servfail.has(name)) rcode = 2;
    else if (!rec) rcode = 3;
    else if (qclass === 1) {
      const rr = (type: number, rdata: Buffer) => {
        const fixed = Buffer.alloc(12);
        fixed.writeUInt16BE(0xc00c, 0); // pointer to the question's name
        fixed.writeUInt16BE(type, 2);
        fixed.writeUInt16BE(1, 4);
        fixed.writeUInt32BE(0, 6); // TTL 0: c-ares must not cache, every lookup reaches us
        fixed.writeUInt16BE(rdata.length, 10);
        answers.push(Buffer.concat([fixed, rdata]));
      };
      if (qtype === PTR) for (const n of rec.ptr) rr(PTR, encodeName(n));
      if (qtype === A) for (const ip of rec.a) rr(A, Buffer.from(ip.split('.').map(Number)));
      if (qtype === AAAA) {
        for (const ip of rec.aaaa) {
          const b = Buffer.alloc(16);
          for (const [i, g] of groups6(ip).entries()) b.writeUInt16BE(g, 2 * i);
          rr(AAAA, b);
        }
      }
    }
    const response = this.reply(id, flags, rcode, question, answers);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    setTimeout(() => {
      this.inFlight--;
      this.send(response, rinfo);
    }, this.delayMs);
  }

  private reply(id: number, flags: number, rcode: number, question: Buffer, answers: Buffer[]): Buffer {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    // QR, the query's opcode, AA, the query's RD, RA, rcode.
    h.writeUInt16BE(0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode, 2);
    h.writeUInt16BE(question.length > 0 ? 1 : 0, 4);
    h.writeUInt16BE(answers.length, 6);
    return Buffer.concat([h, question, ...answers]);
  }

  private send(b: Buffer, rinfo: RemoteInfo): void {
    this.socket.send(b, rinfo.port, rinfo.address);
  }
}

let dns: TestDns;
beforeAll(async () => {
  dns = await TestDns.start();
});
afterAll(async () => {
  await dns.close();
});
beforeEach(() => dns.reset());

function verifier(opts: ConstructorParameters<typeof CrawlerDnsVerifier>[0] = {}): CrawlerDnsVerifier {
  return new CrawlerDnsVerifier({ servers: [dns.server], timeoutMs: 1000, ...opts });
}

describe('CrawlerDnsVerifier over real DNS', () => {
  it('verifies a genuine Googlebot: PTR in googlebot.com, A record back to the address', async () => {
    dns
      .ptr('66.249.66.1', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1');
    expect(await verifier().verify('66.249.66.1')).toEqual({
      crawler: 'googlebot',
      host: 'crawl-66-249-66-1.googlebot.com',
    });
    expect(dns.queries).toEqual([
      { name: '1.66.249.66.in-addr.arpa', type: PTR },
      { name: 'crawl-66-249-66-1.googlebot.com', type: A },
    ]);
  });

  it('verifies Google special crawlers (google.com) as "google"', async () => {
    const host = 'rate-limited-proxy-66-249-90-77.google.com';
    dns.ptr('66.249.90.77', host).a(host, '66.249.90.77');
    expect(await verifier().verify('66.249.90.77')).toEqual({ crawler: 'google', host });
  });

  it('rejects a spoofed PTR: the name is in googlebot.com but its A records are elsewhere', async () => {
    dns
      .ptr('203.0.113.7', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1')
      .ptr('203.0.113.8', 'crawl-203-0-113-8.googlebot.com'); // no such name at all
    const v = verifier();
    expect(await v.verify('203.0.113.7')).toBeNull();
    expect(await v.verify('203.0.113.8')).toBeNull();
    expect(dns.count(A)).toBe(2); // both were forward-checked
  });

  it('matches domains on a label boundary: crawl.evilgooglebot.com is not googlebot.com', async () => {
    dns
      .ptr('198.51.100.9', 'crawl.evilgooglebot.com')
      .a('crawl.evilgooglebot.com', '198.51.100.9')
      .ptr('198.51.100.10', 'googlebot.com.evil.example')
      .a('googlebot.com.evil.example', '198.51.100.10')
      .ptr('198.51.100.11', 'googlebot.com') // the bare domain: not a crawler's host
      .a('googlebot.com', '198.51.100.11');
    const v = verifier();
    expect(await v.verify('198.51.100.9')).toBeNull();
    expect(await v.verify('198.51.100.10')).toBeNull();
    expect(await v.verify('198.51.100.11')).toBeNull();
    expect(dns.count(A)).toBe(0); // foreign names are not even looked up
  });

  it('verifies Bingbot (search.msn.com), case-insensitively', async () => {
    dns
      .ptr('157.55.39.1', 'MSNBOT-157-55-39-1.Search.MSN.com')
      .a('msnbot-157-55-39-1.search.msn.com', '157.55.39.1');
    expect(await verifier().verify('157.55.39.1')).toEqual({
      crawler: 'bingbot',
      host: 'msnbot-157-55-39-1.search.msn.com',
    });
  });

  it('verifies IPv6 Googlebot with AAAA, whatever way the address is written', async () => {
    const host = 'crawl-2001-4860-4801-10--1.googlebot.com';
    dns.ptr('2001:4860:4801:10::1', host).aaaa(host, '2001:4860:4801:10:0:0:0:1');
    const v = verifier({ cacheSize: 0 });
    for (const written of [
      '2001:4860:4801:10::1',
      '2001:4860:4801:0010:0000:0000:0000:0001',
      '2001:4860:4801:10:0::1',
    ]) {
      expect(await v.verify(written)).toEqual({ crawler: 'googlebot', host });
    }
    expect(dns.queries.slice(0, 2)).toEqual([
      { name: reverseName('2001:4860:4801:10::1'), type: PTR },
      { name: host, type: AAAA },
    ]);
    expect(dns.count(A)).toBe(0);
  });

  it('rejects IPv6 whose AAAA records do not include it', async () => {
    const host = 'crawl-2001-db8--5.googlebot.com';
    dns.ptr('2001:db8::5', host).aaaa(host, '2001:4860:4801:10::1');
    expect(await verifier().verify('2001:db8::5')).toBeNull();
  });

  it('looks IPv4-mapped IPv6 up as IPv4', async () => {
    dns
      .ptr('66.249.66.1', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1');
    expect((await verifier().verify('::ffff:66.249.66.1'))?.crawler).toBe('googlebot');
    expect(dns.queries[0]).toEqual({ name: '1.66.249.66.in-addr.arpa', type: PTR });
  });

  it('tries every PTR name: a foreign one first does not hide the crawler', async () => {
    const host = 'crawl-66-249-66-2.googlebot.com';
    dns.ptr('66.249.66.2', 'other.example.net', host).a(host, '66.249.66.2');
    expect(await verifier().verify('66.249.66.2')).toEqual({ crawler: 'googlebot', host });
  });

  it('NXDOMAIN, SERVFAIL and no PTR record give null', async () => {
    dns.servfail.add(reverseName('192.0.2.2'));
    dns.a('only-a.example', '192.0.2.3'); // exists, but no PTR under its reverse name
    const v = verifier();
    expect(await v.verify('192.0.2.1')).toBeNull();
    expect(await v.verify('192.0.2.2')).toBeNull();
    expect(await v.verify('192.0.2.3')).toBeNull();
    expect(dns.count(PTR)).toBe(3);
  });

  it('does not verify googleusercontent.com (any cloud customer) unless configured to', async () => {
    const host = '3.2.1.34.bc.googleusercontent.com';
    dns.ptr('34.1.2.3', host).a(host, '34.1.2.3');
    expect(await verifier().verify('34.1.2.3')).toBeNull();
    const custom = verifier({
      domains: [{ crawler: 'google-cloud', suffixes: ['.googleusercontent.com.'] }],
    });
    expect(await custom.verify('34.1.2.3')).toEqual({ crawler: 'google-cloud', host });
  });

  it('gives null for text that is not an address, without asking DNS', async () => {
    const v = verifier();
    for (const bad of [
      '',
      'not-an-ip',
      '1.2.3',
      '66.249.66.1:443',
      '66.249.66.256',
      'fe80::1%eth0',
      ' 66.249.66.1',
    ]) {
      expect(await v.verify(bad)).toBeNull();
    }
    expect(await v.verify(42 as unknown as string)).toBeNull();
    expect(dns.queries).toEqual([]);
  });

  it('a server that never answers yields null within timeoutMs (default resolver)', async () => {
    dns.silent = true;
    const v = verifier({ timeoutMs: 400 });
    const t0 = performance.now();
    expect(await v.verify('66.249.66.1')).toBeNull();
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(400 + 1000);
  });

  it('a server that never answers yields null within timeoutMs (caller resolver with long timeouts)', async () => {
    dns.silent = true;
    const resolver = new Resolver(); // c-ares defaults: seconds per try, several tries
    resolver.setServers([dns.server]);
    try {
      const v = new CrawlerDnsVerifier({ resolver, timeoutMs: 300 });
      const t0 = performance.now();
      const [a, b] = await Promise.all([v.verify('66.249.66.1'), v.verify('66.249.66.2')]);
      expect([a, b]).toEqual([null, null]);
      expect(performance.now() - t0).toBeLessThan(300 + 1000);
    } finally {
      resolver.cancel();
    }
  });

  it('caches positive and negative answers: a second verify sends no query', async () => {
    dns
      .ptr('66.249.66.1', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1');
    const v = verifier();
    const first = await v.verify('66.249.66.1');
    expect(await v.verify('192.0.2.1')).toBeNull();
    const sent = dns.queries.length;
    expect(sent).toBe(3);
    expect(await v.verify('66.249.66.1')).toEqual(first);
    expect(await v.verify('::ffff:66.249.66.1')).toEqual(first); // same address, same entry
    expect(await v.verify('192.0.2.1')).toBeNull();
    expect(dns.queries.length).toBe(sent);
  });

  it('shares one lookup between concurrent requests for an address', async () => {
    dns.delayMs = 50;
    dns
      .ptr('66.249.66.1', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1');
    const v = verifier({ cacheSize: 0 });
    const results = await Promise.all([
      v.verify('66.249.66.1'),
      v.verify('66.249.66.1'),
      v.verify('66.249.66.1'),
    ]);
    expect(results.every((r) => r?.crawler === 'googlebot')).toBe(true);
    expect(dns.count(PTR)).toBe(1);
  });

  it('expires cached answers after cacheTtlMs and keeps at most cacheSize addresses', async () => {
    const v = verifier({ cacheTtlMs: 60 });
    await v.verify('192.0.2.1');
    await v.verify('192.0.2.1');
    expect(dns.count(PTR)).toBe(1);
    await new Promise((r) => setTimeout(r, 90));
    await v.verify('192.0.2.1');
    expect(dns.count(PTR)).toBe(2);

    dns.reset();
    const small = verifier({ cacheSize: 2 });
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.3']) await small.verify(ip);
    expect(dns.count(PTR)).toBe(3); // .1 was a hit and stayed recent
    await small.verify('192.0.2.1');
    expect(dns.count(PTR)).toBe(3);
    await small.verify('192.0.2.2'); // evicted by .3
    expect(dns.count(PTR)).toBe(4);
  });

  it('keeps failures only for failureTtlMs', async () => {
    dns.silent = true;
    const v = verifier({ timeoutMs: 150, failureTtlMs: 0 });
    await v.verify('66.249.66.1');
    await v.verify('66.249.66.1');
    expect(dns.count(PTR)).toBe(2); // a timeout is not cached as "not a crawler"
    const w = verifier({ timeoutMs: 150 });
    await w.verify('66.249.66.3');
    await w.verify('66.249.66.3');
    expect(dns.count(PTR)).toBe(3); // but kept a while (60 s by default) not to hammer a dead server
  });

  it('tells a failed forward lookup (SERVFAIL, kept briefly) from a definitive one (NXDOMAIN, kept)', async () => {
    dns
      .ptr('66.249.66.4', 'crawl-66-249-66-4.googlebot.com')
      .ptr('66.249.66.5', 'crawl-66-249-66-5.googlebot.com');
    dns.servfail.add('crawl-66-249-66-4.googlebot.com'); // ...-5 does not exist: NXDOMAIN
    const v = verifier({ failureTtlMs: 0 });
    for (let i = 0; i < 2; i++) {
      expect(await v.verify('66.249.66.4')).toBeNull();
      expect(await v.verify('66.249.66.5')).toBeNull();
    }
    expect(dns.queries.filter((q) => q.type === PTR).map((q) => q.name)).toEqual([
      reverseName('66.249.66.4'),
      reverseName('66.249.66.5'),
      reverseName('66.249.66.4'),
    ]);
  });

  it('runs at most maxConcurrent verifications at once', async () => {
    dns.delayMs = 40;
    const ips = Array.from({ length: 8 }, (_, i) => `66.249.66.${i + 10}`);
    for (const ip of ips) {
      const host = `crawl-${ip.replaceAll('.', '-')}.googlebot.com`;
      dns.ptr(ip, host).a(host, ip);
    }
    const found = await verifier({ maxConcurrent: 2 }).verifyMany(ips);
    expect(found.size).toBe(8);
    expect(dns.count()).toBe(16);
    expect(dns.maxInFlight).toBe(2);

    dns.queries.length = 0;
    dns.maxInFlight = 0;
    await verifier({ maxConcurrent: 1 }).verifyMany(ips);
    expect(dns.maxInFlight).toBe(1);
  });

  it('verifyMany returns the verified ones keyed as given, each address looked up once', async () => {
    dns
      .ptr('66.249.66.1', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1');
    dns
      .ptr('157.55.39.1', 'msnbot-157-55-39-1.search.msn.com')
      .a('msnbot-157-55-39-1.search.msn.com', '157.55.39.1');
    const found = await verifier().verifyMany([
      '66.249.66.1',
      '192.0.2.1',
      'nonsense',
      '157.55.39.1',
      '66.249.66.1',
    ]);
    expect([...found]).toEqual([
      ['66.249.66.1', { crawler: 'googlebot', host: 'crawl-66-249-66-1.googlebot.com' }],
      ['157.55.39.1', { crawler: 'bingbot', host: 'msnbot-157-55-39-1.search.msn.com' }],
    ]);
    expect(dns.count(PTR)).toBe(3);
  });

  it('accepts a caller resolver pointed at the server', async () => {
    dns
      .ptr('66.249.66.1', 'crawl-66-249-66-1.googlebot.com')
      .a('crawl-66-249-66-1.googlebot.com', '66.249.66.1');
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([dns.server]);
    expect((await new CrawlerDnsVerifier({ resolver }).verify('66.249.66.1'))?.host).toBe(
      'crawl-66-249-66-1.googlebot.com',
    );
  });
});

describe('CrawlerDnsVerifier with a scripted resolver', () => {
  function scripted(over: Partial<DnsLike>): DnsLike {
    const nx = () => Promise.reject(Object.assign(new Error('queryX ENOTFOUND'), { code: 'ENOTFOUND' }));
    return { reverse: nx, resolve4: nx, resolve6: nx, ...over };
  }

  it('allows a trailing dot in the PTR name and any spelling of the AAAA answer', async () => {
    const v = new CrawlerDnsVerifier({
      resolver: scripted({
        reverse: async () => ['crawl-2001-4860-4801-10--1.googlebot.com.'],
        resolve6: async () => ['2001:4860:4801:0010:0000:0000:0000:0001'.toUpperCase()],
      }),
    });
    expect(await v.verify('2001:4860:4801:10::1')).toEqual({
      crawler: 'googlebot',
      host: 'crawl-2001-4860-4801-10--1.googlebot.com',
    });
  });

  it('never throws, whatever the resolver does', async () => {
    const boom = () => {
      throw new TypeError('synchronous failure');
    };
    const cases: DnsLike[] = [
      scripted({ reverse: boom }),
      scripted({ reverse: () => Promise.reject('not even an Error') }),
      scripted({ reverse: async () => ['crawl.googlebot.com'], resolve4: boom }),
      scripted({ reverse: async () => null as unknown as string[] }),
      scripted({ reverse: async () => [42, null, 'crawl.googlebot.com'] as unknown as string[] }),
      scripted({
        reverse: async () => ['crawl.googlebot.com'],
        resolve4: async () => [null] as unknown as string[],
      }),
    ];
    for (const resolver of cases) {
      await expect(new CrawlerDnsVerifier({ resolver }).verify('66.249.66.1')).resolves.toBeNull();
    }
  });

  it('tries at most 8 matching PTR names', async () => {
    let forward = 0;
    const v = new CrawlerDnsVerifier({
      resolver: scripted({
        reverse: async () => Array.from({ length: 1000 }, (_, i) => `crawl-${i}.googlebot.com`),
        resolve4: async () => {
          forward++;
          return ['192.0.2.1'];
        },
      }),
    });
    expect(await v.verify('66.249.66.1')).toBeNull();
    expect(forward).toBe(8);
  });

  it('rejects bad options with clear errors', () => {
    const resolver = scripted({});
    expect(() => new CrawlerDnsVerifier({ resolver, servers: ['127.0.0.1'] })).toThrow(
      /either resolver or servers/,
    );
    expect(() => new CrawlerDnsVerifier({ timeoutMs: 0 })).toThrow(
      /timeoutMs must be a number from 1 to 2147483647, got 0/,
    );
    expect(() => new CrawlerDnsVerifier({ timeoutMs: 2 ** 31 })).toThrow(/timeoutMs must be/);
    expect(() => new CrawlerDnsVerifier({ maxConcurrent: 1.5 })).toThrow(
      /maxConcurrent must be an integer from 1 to/,
    );
    expect(() => new CrawlerDnsVerifier({ cacheSize: -1 })).toThrow(/cacheSize must be an integer from 0 to/);
    expect(() => new CrawlerDnsVerifier({ servers: ['not a server'] })).toThrow(/invalid DNS servers/);
    expect(() => new CrawlerDnsVerifier({ domains: [{ crawler: 'x', suffixes: ['com'] }] })).toThrow(
      /crawler "x" has an invalid domain suffix "com"/,
    );
    expect(() => new CrawlerDnsVerifier({ domains: [{ crawler: 'x', suffixes: [] }] })).toThrow(
      /at least one suffix/,
    );
  });
});
