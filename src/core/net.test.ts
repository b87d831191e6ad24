import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  CidrSet,
  DEFAULT_TRUSTED_PROXIES,
  ipv4ToInt,
  ipv6ToWords,
  parseCidr,
  resolveClientIp,
  stripPort,
} from './net.js';

const trusted = new CidrSet(DEFAULT_TRUSTED_PROXIES);

describe('resolveClientIp', () => {
  it('ignores X-Forwarded-For from an untrusted peer (it could be forged)', () => {
    expect(resolveClientIp('203.0.113.9', '1.2.3.4', null, trusted)).toBe('203.0.113.9');
  });
  it('walks X-Forwarded-For from the right past trusted proxies', () => {
    expect(resolveClientIp('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.5', null, trusted)).toBe(
      '198.51.100.7',
    );
  });
  it('stops at garbage entries and keeps the last good address', () => {
    expect(resolveClientIp('10.0.0.2', 'evil, 198.51.100.7', null, trusted)).toBe('198.51.100.7');
    expect(resolveClientIp('10.0.0.2', 'not-an-ip', null, trusted)).toBe('10.0.0.2');
  });
  it('handles IPv6, ports and brackets', () => {
    expect(resolveClientIp('::1', '[2001:db8::1]:4711', null, trusted)).toBe('2001:db8::1');
    expect(resolveClientIp('::ffff:10.1.2.3', '2001:db8::2', null, trusted)).toBe('2001:db8::2');
  });
  it('uses X-Real-IP when there is no X-Forwarded-For', () => {
    expect(resolveClientIp('127.0.0.1', null, '198.51.100.3', trusted)).toBe('198.51.100.3');
    expect(resolveClientIp('127.0.0.1', '-', 'junk', trusted)).toBe('127.0.0.1');
  });
  it('trusts nobody with an empty list', () => {
    expect(resolveClientIp('10.0.0.2', '198.51.100.7', null, new CidrSet([]))).toBe('10.0.0.2');
  });
});

describe('helpers', () => {
  it('stripPort', () => {
    expect(stripPort('1.2.3.4:80')).toBe('1.2.3.4');
    expect(stripPort('[::1]:80')).toBe('::1');
    expect(stripPort('2001:db8::1')).toBe('2001:db8::1');
    expect(stripPort('1.2.3.4')).toBe('1.2.3.4');
  });
  it('ipv4ToInt', () => {
    expect(ipv4ToInt('10.0.0.1')).toBe(0x0a000001);
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', '::1', ''])
      expect(ipv4ToInt(bad)).toBe(-1);
  });
  it('CidrSet matches IPv4 by prefix, IPv6 and mapped IPv4', () => {
    const s = new CidrSet(['172.16.0.0/12', '0.0.0.0/32', '2001:db8::/32']);
    expect([s.has('172.31.255.255'), s.has('172.32.0.0'), s.has('172.15.0.1'), s.has('0.0.0.0')]).toEqual([
      true,
      false,
      false,
      true,
    ]);
    expect([s.has('2001:db8::5'), s.has('2001:db9::5'), s.has('::ffff:172.16.1.1')]).toEqual([
      true,
      false,
      true,
    ]);
    expect(new CidrSet(['0.0.0.0/0']).has('8.8.8.8')).toBe(true);
  });
  it('parseCidr rejects bad input', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual(['10.0.0.0', 8, 'ipv4']);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('nope')).toBeNull();
    expect(() => new CidrSet(['10.0.0.0/40'])).toThrow(/invalid CIDR/);
  });
});

describe('ipv6ToWords', () => {
  const words = (s: string) => {
    const out = new Uint32Array(4);
    return ipv6ToWords(s, out) ? [...out] : null;
  };
  it('reads full, compressed, mixed-case and IPv4-tailed forms', () => {
    expect(words('2001:db8::1')).toEqual([0x20010db8, 0, 0, 1]);
    expect(words('2001:DB8:0:0:0:0:0:1')).toEqual([0x20010db8, 0, 0, 1]);
    expect(words('::')).toEqual([0, 0, 0, 0]);
    expect(words('::1')).toEqual([0, 0, 0, 1]);
    expect(words('1::')).toEqual([0x00010000, 0, 0, 0]);
    expect(words('::ffff:192.0.2.1')).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(words('1:2:3:4:5:6:7::')).toEqual([0x00010002, 0x00030004, 0x00050006, 0x00070000]);
    expect(words('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual([
      0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
    ]);
  });
  it('refuses what is not IPv6, zone ids included', () => {
    for (const bad of [
      '',
      ':',
      ':::',
      '1.2.3.4',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'fe80::1%eth0',
      '::1.2.3',
      'g::',
    ])
      expect(words(bad), bad).toBeNull();
  });
  it('agrees with node:net isIP on random text (zone ids aside)', () => {
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const alphabet = '0123456789abcdefABCDEF:::..g';
    let valid = 0;
    for (let i = 0; i < 50_000; i++) {
      let s = '';
      const n = 1 + Math.floor(next() * 20);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(next() * alphabet.length)];
      const ok = words(s) !== null;
      expect(ok, s).toBe(isIP(s) === 6);
      if (ok) valid++;
    }
    expect(valid).toBeGreaterThan(300);
  });
});

describe('parseCidr prefix strictness', () => {
  it('refuses an empty or non-decimal prefix (an empty one would otherwise mean /0: every address)', async () => {
    const { parseCidr } = await import('./net.js');
    for (const bad of [
      '10.0.0.1/',
      '10.0.0.0/ 8',
      '10.0.0.0/0x8',
      '10.0.0.0/1e1',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/-1',
    ])
      expect(parseCidr(bad), bad).toBeNull();
    expect(parseCidr('10.0.0.0/8')).toEqual(['10.0.0.0', 8, 'ipv4']);
    expect(parseCidr('10.0.0.1')).toEqual(['10.0.0.1', 32, 'ipv4']);
    expect(parseCidr('::/0')).toEqual(['::', 0, 'ipv6']);
  });
});
