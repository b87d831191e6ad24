import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalCidr,
  formatIpv6,
  MAX_REJECT_SAMPLES,
  parseAwsRanges,
  parseGcpRanges,
  parseIpList,
  parseTorExitAddresses,
  parseTorList,
  parseUserAgentList,
  userAgentPatternProblem,
} from './intel-formats.js';

const sample = (name: string) =>
  readFileSync(join(import.meta.dirname, '../../testdata/intel', name), 'utf8');

describe('canonicalCidr', () => {
  it('clears host bits, gives bare addresses a full prefix, compresses IPv6', () => {
    expect(canonicalCidr('192.0.2.130/25')).toBe('192.0.2.128/25');
    expect(canonicalCidr('203.0.113.7')).toBe('203.0.113.7/32');
    expect(canonicalCidr('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1/128');
    expect(canonicalCidr('2001:db8:ffff::/33')).toBe('2001:db8:8000::/33');
    expect(canonicalCidr('::ffff:1.2.3.4')).toBe('::ffff:102:304/128');
  });
  it('refuses what is not a CIDR, an empty prefix and /0', () => {
    for (const bad of [
      '1.2.3.4/',
      '1.2.3.4/ 8',
      '1.2.3.4/0x8',
      '10.0.0.0/33',
      '0.0.0.0/0',
      '::/0',
      'x',
      'fe80::1%eth0',
    ])
      expect(canonicalCidr(bad), bad).toBeNull();
  });
  it('formats IPv6 as RFC 5952 does', () => {
    expect(formatIpv6([0, 0, 0, 1])).toBe('::1');
    expect(formatIpv6([0x20010db8, 0, 1, 0])).toBe('2001:db8::1:0:0');
    expect(formatIpv6([0x20010db8, 0x00010000, 0x00010000, 0x00010001])).toBe('2001:db8:1:0:1:0:1:1');
    expect(formatIpv6([0, 0, 0, 0])).toBe('::');
  });
});

describe('parseIpList', () => {
  it('reads the sample: comments, names, IPv6, duplicates once, bad lines with their line number', () => {
    const r = parseIpList(sample('blocklist.txt'));
    expect(r.entries).toEqual([
      { cidr: '198.51.100.0/24', name: 'SBL000001' },
      { cidr: '203.0.113.7/32' },
      { cidr: '203.0.113.64/26', name: 'credential stuffing, 2026-02' },
      { cidr: '192.0.2.128/25' },
      { cidr: '2001:db8:bad::/48' },
      { cidr: '2001:db8:f00d::1/128' },
    ]);
    expect(r.rejected).toBe(4);
    expect(r.rejects.map((x) => x.line)).toEqual([11, 12, 13, 14]);
    expect(r.rejects[0]!.reason).toBe('not an IP address or CIDR: "203.0.113.300"');
    expect(r.rejects[3]!.reason).toMatch(/^expected one IP address or CIDR per line/);
  });
  it('handles CRLF, a BOM, an empty text and /0', () => {
    const r = parseIpList('\ufeff10.0.0.1\r\n\r\n10.0.0.2\r\n0.0.0.0/0\r\n');
    expect(r.entries.map((e) => e.cidr)).toEqual(['10.0.0.1/32', '10.0.0.2/32']);
    expect(r.rejects).toEqual([{ line: 4, reason: 'a /0 network matches every address: "0.0.0.0/0"' }]);
    expect(parseIpList('')).toEqual({ entries: [], rejected: 0, rejects: [] });
  });
  it('counts every bad line but keeps only the first samples; quotes hostile text', () => {
    const r = parseIpList(`${'\u001b[31mbad\n'.repeat(100)}1.1.1.1\n`);
    expect(r.rejected).toBe(100);
    expect(r.rejects).toHaveLength(MAX_REJECT_SAMPLES);
    expect(r.rejects[0]!.reason).toContain('\\u001b[31mbad');
    expect(r.entries).toEqual([{ cidr: '1.1.1.1/32' }]);
  });
});

describe('Tor lists', () => {
  it('reads the bulk exit list', () => {
    const r = parseTorList(sample('torbulkexitlist'));
    expect(r.entries).toHaveLength(6);
    expect(r.entries[5]).toEqual({ cidr: '2001:67c:e60:c0c:192:42:116:16/128' });
  });
  it('reads exit-addresses, naming each address by its relay', () => {
    const text = sample('exit-addresses');
    const r = parseTorList(text);
    expect(r).toEqual(parseTorExitAddresses(text));
    expect(r.entries).toEqual([
      { cidr: '162.247.74.201/32', name: '0011BD2485AD45D984EC4159C88FC066E5E3300E' },
      { cidr: '185.220.101.1/32', name: '01A9258A46E97FF8B2CAC7910577862C14F2C524' },
      { cidr: '185.220.101.2/32', name: '01A9258A46E97FF8B2CAC7910577862C14F2C524' },
    ]);
    expect(r.rejects).toEqual([
      {
        line: 13,
        reason: 'ExitAddress without a valid IP address: "ExitAddress 999.1.2.3 2026-02-28 12:02:10"',
      },
    ]);
  });
  it('counts unknown keywords', () => {
    const r = parseTorExitAddresses(
      'ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nBogus 1\nExitAddress 1.2.3.4 x y\n',
    );
    expect(r.rejects).toEqual([{ line: 2, reason: 'unknown keyword in exit-addresses: "Bogus 1"' }]);
    expect(r.entries).toHaveLength(1);
  });
});

describe('cloud ranges', () => {
  it('reads AWS ip-ranges.json, one entry per network with its most specific services', () => {
    const r = parseAwsRanges(sample('aws-ip-ranges.json'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.entries).toEqual([
      { cidr: '3.2.34.0/26', region: 'af-south-1', service: 'AMAZON' },
      { cidr: '3.5.140.0/22', region: 'ap-northeast-2', service: 'S3' },
      { cidr: '52.94.76.0/22', region: 'us-west-2', service: 'AMAZON' },
      { cidr: '18.208.0.0/13', region: 'us-east-1', service: 'EC2' },
      { cidr: '13.32.0.0/15', region: 'GLOBAL', service: 'CLOUDFRONT' },
      { cidr: '2600:1f18::/33', region: 'us-east-1', service: 'EC2' },
      { cidr: '2a05:d07a:a000::/40', region: 'eu-south-1', service: 'S3' },
    ]);
    expect(r.value.rejects).toEqual([
      {
        field: 'prefixes[7].ip_prefix',
        reason: 'expected an IPv4 CIDR; not an IP address or CIDR: "13.34.0.0/33"',
      },
    ]);
  });
  it('reads Google cloud.json', () => {
    const r = parseGcpRanges(sample('gcp-cloud.json'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.entries[0]).toEqual({
      cidr: '34.1.208.0/20',
      region: 'africa-south1',
      service: 'Google Cloud',
    });
    expect(r.value.entries[1]).toEqual({
      cidr: '2600:1900:8000::/44',
      region: 'africa-south1',
      service: 'Google Cloud',
    });
    expect(r.value.entries).toHaveLength(5);
    expect(r.value.rejects.map((x) => x.field)).toEqual(['prefixes[5].ipv4Prefix']);
  });
  it('refuses documents that are not the format, and reports bad elements', () => {
    expect(parseAwsRanges('<html>503</html>')).toEqual({
      ok: false,
      error: expect.stringMatching(/^not JSON: expected AWS ip-ranges.json/),
    });
    expect(parseGcpRanges('{"items": []}')).toEqual({
      ok: false,
      error: expect.stringMatching(/^no "prefixes" array: expected Google cloud.json/),
    });
    const r = parseAwsRanges(
      '{"prefixes": [7, {"ip_prefix": "2001:db8::/32"}, {"ip_prefix": null}], "ipv6_prefixes": {}}',
    );
    expect(r.ok && r.value.rejects).toEqual([
      { field: 'prefixes[0]', reason: 'expected an object' },
      { field: 'prefixes[1].ip_prefix', reason: 'expected an IPv4 CIDR, got an IPv6 one: "2001:db8::/32"' },
      { field: 'prefixes[2].ip_prefix', reason: 'expected an IPv4 CIDR, got null' },
      { field: 'ipv6_prefixes', reason: 'expected an array' },
    ]);
    const g = parseGcpRanges('{"prefixes": [{"service": "x"}]}');
    expect(g.ok && g.value.rejects).toEqual([
      { field: 'prefixes[0]', reason: 'expected ipv4Prefix or ipv6Prefix' },
    ]);
  });
});

describe('user-agent lists', () => {
  it('reads substrings and regexes with names, refusing dangerous and broken patterns', () => {
    const r = parseUserAgentList(sample('bad-user-agents.txt'));
    expect(r.entries.map((e) => [e.kind, e.source, e.name])).toEqual([
      ['substring', 'sqlmap/', 'sqlmap SQL injection tool'],
      ['substring', 'nikto', 'nikto'],
      ['substring', 'nuclei - open-source project', 'nuclei scanner'],
      ['substring', 'masscan', 'masscan'],
      ['substring', 'zgrab', 'zgrab'],
      ['substring', 'wpscan', 'WPScan'],
      ['regex', '^python-requests/\\d', 'python-requests library'],
      ['regex', '^curl/[\\d.]+$', 'bare curl'],
      ['regex', '\\bGo-http-client/1\\.1$', 're:\\bGo-http-client/1\\.1$'],
    ]);
    expect(r.rejects.map((x) => x.line)).toEqual([15, 16, 17]);
    expect(r.rejects[0]!.reason).toMatch(/^regular expression a repeated group contains a repetition/);
    expect(r.rejects[1]!.reason).toMatch(/^substring shorter than 3 characters/);
    expect(r.rejects[2]!.reason).toMatch(/^regular expression does not compile/);
  });
  it('caps the pattern length', () => {
    expect(userAgentPatternProblem('x'.repeat(257))).toMatch(/longer than 256/);
    expect(userAgentPatternProblem(`re:${'x'.repeat(257)}`)).toMatch(/longer than 256/);
    expect(userAgentPatternProblem('re:')).toMatch(/empty regular expression/);
    expect(userAgentPatternProblem('re:a*')).toMatch(/matches the empty string/);
    expect(userAgentPatternProblem('re:(\\w+\\s?)+$')).not.toBeNull();
    expect(userAgentPatternProblem('re:^Mozilla/4\\.0 \\(compatible; MSIE 6')).toBeNull();
  });
});
