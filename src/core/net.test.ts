import { describe, expect, it } from 'vitest';
import { CidrSet, DEFAULT_TRUSTED_PROXIES, ipv4ToInt, parseCidr, resolveClientIp, stripPort } from './net.js';

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
