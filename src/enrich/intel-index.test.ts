import { describe, expect, it } from 'vitest';
import { Rng } from '../simulate/random.js';
import { canonicalCidr, formatIpv6, type IpEntry, parseUserAgentList } from './intel-formats.js';
import { INTEL_FEATURES, type IntelHit, IntelIndex, type IpListData } from './intel-index.js';

const list = (
  name: string,
  category: IpListData['category'],
  cidrs: string[],
  provider?: string,
): IpListData => ({
  list: name,
  category,
  ...(provider === undefined ? {} : { provider }),
  entries: cidrs.map((c) => ({ cidr: canonicalCidr(c)! })),
});

/** Address text → BigInt (IPv6 without an embedded IPv4 tail, which is all this test makes). */
function big(ip: string): bigint {
  if (!ip.includes(':')) return ip.split('.').reduce((a, x) => (a << 8n) | BigInt(Number(x)), 0n);
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

const v4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe('IntelIndex.lookupIp', () => {
  const index = IntelIndex.build(
    [
      list('blocks', 'blocklist', ['203.0.113.0/24', '203.0.113.64/26', '203.0.113.7', '2001:db8::/32']),
      list('tor', 'tor', ['203.0.113.7', '2001:db8:1::1']),
      list('aws', 'datacenter', ['0.0.0.0/1', '128.0.0.0/1', 'ffff::/16'], 'aws'),
    ],
    [],
  );

  it('returns every covering entry, most specific first, with list, category, network and provider', () => {
    expect(index.lookupIp('203.0.113.7').map((h) => [h.list, h.match])).toEqual([
      ['blocks', '203.0.113.7/32'],
      ['tor', '203.0.113.7/32'],
      ['blocks', '203.0.113.0/24'],
      ['aws', '128.0.0.0/1'],
    ]);
    expect(index.lookupIp('203.0.113.65')[0]).toEqual({
      category: 'blocklist',
      list: 'blocks',
      match: '203.0.113.64/26',
    });
    expect(index.lookupIp('1.1.1.1')).toEqual([
      { category: 'datacenter', list: 'aws', match: '0.0.0.0/1', provider: 'aws' },
    ]);
  });

  it('is exact at the edges of networks and of the address space', () => {
    const lists = (ip: string) => index.lookupIp(ip).map((h) => h.match);
    expect(lists('203.0.113.63')).toEqual(['203.0.113.0/24', '128.0.0.0/1']);
    expect(lists('203.0.113.64')).toEqual(['203.0.113.64/26', '203.0.113.0/24', '128.0.0.0/1']);
    expect(lists('203.0.113.127')).toEqual(['203.0.113.64/26', '203.0.113.0/24', '128.0.0.0/1']);
    expect(lists('203.0.113.128')).toEqual(['203.0.113.0/24', '128.0.0.0/1']);
    expect(lists('203.0.114.0')).toEqual(['128.0.0.0/1']);
    expect(lists('0.0.0.0')).toEqual(['0.0.0.0/1']);
    expect(lists('255.255.255.255')).toEqual(['128.0.0.0/1']);
    expect(lists('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual(['ffff::/16']);
    expect(lists('fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual([]);
    expect(lists('::')).toEqual([]);
  });

  it('reads IPv6 in any spelling, and IPv4-mapped IPv6 as IPv4', () => {
    expect(index.lookupIp('2001:DB8:1:0:0:0:0:1').map((h) => h.list)).toEqual(['tor', 'blocks']);
    expect(index.lookupIp('2001:db8::ffff').map((h) => h.list)).toEqual(['blocks']);
    expect(index.lookupIp('2001:db9::').map((h) => h.list)).toEqual([]);
    expect(index.lookupIp('::ffff:203.0.113.7').map((h) => h.list)).toEqual([
      'blocks',
      'tor',
      'blocks',
      'aws',
    ]);
    expect(index.lookupIp('::ffff:cb00:7107').map((h) => h.list)).toEqual(['blocks', 'tor', 'blocks', 'aws']);
  });

  it('answers nothing for text that is not an address', () => {
    for (const bad of ['', '-', 'evil', '203.0.113.7:80', '203.0.113.256', 'fe80::1%eth0', '1:2:3'])
      expect(index.lookupIp(bad), bad).toEqual([]);
  });

  it('shares one frozen result per segment (no allocation per lookup)', () => {
    const a = index.lookupIp('203.0.113.200');
    expect(index.lookupIp('203.0.113.201')).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a[0])).toBe(true);
    expect(index.lookupIp('evil')).toBe(index.lookupIp('::'));
  });

  it('indexes an IPv4-mapped IPv6 network as IPv4', () => {
    const i = IntelIndex.build([list('m', 'proxy', ['::ffff:10.1.0.0/112'])], []);
    expect(i.lookupIp('10.1.2.3').map((h) => h.match)).toEqual(['::ffff:a01:0/112']);
    expect(i.lookupIp('10.2.0.0')).toEqual([]);
  });

  it('agrees with a brute-force check on random nested networks (IPv4 and IPv6)', () => {
    const rng = new Rng(20260228);
    const entries4: IpEntry[] = [];
    const entries6: IpEntry[] = [];
    // Clustered networks so that nesting and shared edges are common.
    for (let i = 0; i < 400; i++) {
      const base = (rng.int(0, 15) << 28) >>> 0;
      const prefix = rng.int(4, 32);
      entries4.push({ cidr: canonicalCidr(`${v4((base | rng.int(0, 0xfffffff)) >>> 0)}/${prefix}`)! });
      const w = [0x20010db8, rng.int(0, 3), rng.int(0, 0xffffffff) >>> 0, rng.int(0, 0xffffffff) >>> 0];
      entries6.push({ cidr: canonicalCidr(`${formatIpv6(w)}/${rng.int(32, 128)}`)! });
    }
    const lists: IpListData[] = [
      { list: 'a', category: 'blocklist', entries: entries4.slice(0, 200).concat(entries6.slice(0, 200)) },
      { list: 'b', category: 'tor', entries: entries4.slice(200).concat(entries6.slice(200)) },
    ];
    const idx = IntelIndex.build(lists, []);
    // An independent reference: addresses as BigInt (fine in a test), membership by shifting.
    const reference = lists.flatMap((l) =>
      l.entries.map((e) => {
        const [addr, p] = e.cidr.split('/');
        const prefix = Number(p);
        const bits = addr!.includes(':') ? 128 : 32;
        const shift = BigInt(bits - prefix);
        const net = big(addr!) >> shift;
        return {
          key: `${l.list} ${e.cidr}`,
          prefix,
          has: (ip: string, b = big(ip)) => ip.includes(':') === (bits === 128) && b >> shift === net,
        };
      }),
    );
    const brute = (ip: string, b = big(ip)) =>
      reference
        .filter((r) => r.has(ip, b))
        .sort((a, b) => b.prefix - a.prefix)
        .map((r) => r.prefix);
    const byKey = new Map(reference.map((r) => [r.key, r]));
    const mismatches: string[] = [];
    let hits = 0;
    for (let i = 0; i < 3000; i++) {
      const pick = reference[rng.int(0, reference.length - 1)]!.key.split(' ')[1]!;
      const [addr, p] = pick.split('/');
      let ip: string;
      if (addr!.includes(':')) {
        const w = [0x20010db8, rng.int(0, 3), rng.int(0, 0xffffffff) >>> 0, rng.int(0, 0xffffffff) >>> 0];
        ip = rng.chance(0.5) ? formatIpv6(w) : addr!;
      } else {
        const base = Number(p) === 32 ? 0 : rng.int(0, 2 ** (32 - Number(p)) - 1);
        const n = addr!.split('.').reduce((a, x) => a * 256 + Number(x), 0);
        ip = v4(rng.chance(0.8) ? n + base : rng.int(0, 0xffffffff) >>> 0);
      }
      const b = big(ip);
      const got = idx.lookupIp(ip);
      // Same entries, most specific first.
      const gotPrefixes = got.map((h: IntelHit) => Number(h.match.split('/')[1]));
      const wantPrefixes = brute(ip, b);
      if (gotPrefixes.join() !== wantPrefixes.join())
        mismatches.push(`${ip}: ${gotPrefixes} vs ${wantPrefixes}`);
      for (const h of got)
        if (!byKey.get(`${h.list} ${h.match}`)!.has(ip, b)) mismatches.push(`${ip}: ${h.match}`);
      hits += got.length;
    }
    expect(mismatches).toEqual([]);
    expect(hits).toBeGreaterThan(3000);
    expect(idx.stats.ipv4Networks + idx.stats.ipv6Networks).toBe(800);
  });
});

describe('IntelIndex.lookupUserAgent', () => {
  const ua = parseUserAgentList(
    [
      'sqlmap/ # sqlmap',
      'nikto',
      'kto/2',
      'Ärger',
      're:^python-requests/\\d # python-requests',
      're:bot$',
    ].join('\n'),
  );
  const index = IntelIndex.build([], [{ list: 'bad-ua', category: 'scanner', entries: ua.entries }]);
  const names = (s: string | null) => index.lookupUserAgent(s).map((h) => h.name);

  it('finds substrings case-insensitively, overlapping ones too, and regexes', () => {
    expect(names('sqlmap/1.7.2#stable (https://sqlmap.org)')).toEqual(['sqlmap']);
    expect(names('Mozilla/5.0 (Nikto/2.5.0)')).toEqual(['nikto', 'kto/2']);
    expect(names('Python-Requests/2.31.0')).toEqual(['python-requests']);
    expect(names('ÄRGER')).toEqual(['Ärger']);
    expect(names('nikto nikto NIKTO')).toEqual(['nikto']);
    expect(
      names('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0 Safari/537.36'),
    ).toEqual([]);
    expect(names(null)).toEqual([]);
    expect(names('-')).toEqual([]);
    expect(index.lookupUserAgent('sqlmap/1')[0]).toEqual({
      category: 'scanner',
      list: 'bad-ua',
      match: 'sqlmap/',
      name: 'sqlmap',
    });
  });

  it('scans only the first 2048 characters', () => {
    expect(names(`${'x'.repeat(2040)}nikto`)).toEqual(['nikto']);
    expect(names(`${'x'.repeat(2044)}nikto`)).toEqual([]);
    expect(names(`${'x'.repeat(3000)}bot`)).toEqual([]);
  });

  it('agrees with includes() on random patterns and agents', () => {
    const rng = new Rng(7);
    const alphabet = 'abcAB/ .-é';
    const word = (lo: number, hi: number) => {
      let s = '';
      const n = rng.int(lo, hi);
      for (let i = 0; i < n; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
      return s;
    };
    const patterns = [...new Set(Array.from({ length: 60 }, () => word(3, 6).toLowerCase()))].filter(
      (p) => p.trim() === p && !p.startsWith('re:'),
    );
    const parsed = parseUserAgentList(patterns.join('\n'));
    expect(parsed.rejected).toBe(0);
    const idx = IntelIndex.build([], [{ list: 'r', category: 'scanner', entries: parsed.entries }]);
    for (let i = 0; i < 2000; i++) {
      const s = word(0, 80);
      const want = parsed.entries.filter((e) => s.toLowerCase().includes(e.source)).map((e) => e.pattern);
      expect(
        idx.lookupUserAgent(s).map((h) => h.match),
        s,
      ).toEqual(want);
    }
  });
});

describe('IntelIndex.features', () => {
  it('writes the fixed feature vector', () => {
    const idx = IntelIndex.build(
      [
        list('tor', 'tor', ['185.220.101.0/24']),
        list('aws', 'datacenter', ['185.220.0.0/16', '3.0.0.0/8']),
        list('block', 'blocklist', ['203.0.113.0/24']),
        list('ours', 'allow', ['192.0.2.10']),
      ],
      [
        { list: 'ua', category: 'scanner', entries: parseUserAgentList('sqlmap').entries },
        { list: 'monitor', category: 'allow', entries: parseUserAgentList('uptime-kuma').entries },
      ],
    );
    expect(INTEL_FEATURES).toEqual(['is_tor', 'is_datacenter', 'is_blocklisted', 'bad_ua', 'is_allowlisted']);
    expect([...idx.features({ ip: '185.220.101.7', userAgent: 'sqlmap/1.8' })]).toEqual([1, 1, 0, 1, 0]);
    expect([...idx.features({ ip: '203.0.113.9', userAgent: null })]).toEqual([0, 0, 1, 0, 0]);
    expect([...idx.features({ ip: '192.0.2.10', userAgent: 'Uptime-Kuma/1.23' })]).toEqual([0, 0, 0, 0, 1]);
    const row = new Float64Array(8).fill(9);
    idx.features({ ip: '3.3.3.3', userAgent: 'curl/8' }, row, 2);
    expect([...row]).toEqual([9, 9, 0, 1, 0, 0, 0, 9]);
    expect([...IntelIndex.EMPTY.features({ ip: '3.3.3.3', userAgent: 'sqlmap' })]).toEqual([0, 0, 0, 0, 0]);
  });
});
