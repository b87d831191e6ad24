import { describe, expect, it } from 'vitest';
import { CidrSet, DEFAULT_TRUSTED_PROXIES, parseCidr, resolveClientIp, stripPort } from './net.js';

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
  it('parseCidr rejects bad input', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual(['10.0.0.0', 8, 'ipv4']);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('nope')).toBeNull();
    expect(() => new CidrSet(['10.0.0.0/40'])).toThrow(/invalid CIDR/);
  });
});
