import { describe, expect, it } from 'vitest';
import { checkScope, parseRateText, parseScopeText } from './scope.js';

describe('decision scopes', () => {
  it('accepts each kind with a value of its shape', () => {
    expect(parseScopeText('ip:203.0.113.7')).toEqual({
      ok: true,
      value: { kind: 'ip', value: '203.0.113.7' },
    });
    expect(checkScope('cidr', '2001:db8::/32').ok).toBe(true);
    expect(checkScope('token', '0123456789abcdef').ok).toBe(true);
    expect(checkScope('user', 'alice', 'POST /api/v1/auth/login')).toEqual({
      ok: true,
      value: { kind: 'user', value: 'alice', endpoint: 'POST /api/v1/auth/login' },
    });
  });
  it('names the part that is wrong', () => {
    const part = (r: ReturnType<typeof checkScope>) => (r.ok ? null : r.error.part);
    expect(part(parseScopeText('203.0.113.7'))).toBe('scope');
    expect(part(checkScope('asn', '64500'))).toBe('kind');
    expect(part(checkScope('ip', '203.0.113.0/24'))).toBe('value');
    expect(part(checkScope('cidr', 'x/8'))).toBe('value');
    expect(part(checkScope('token', 'Bearer abc'))).toBe('value');
    expect(part(checkScope('ip', '192.0.2.1', 'login'))).toBe('endpoint');
  });
  it('reads rate limits', () => {
    expect(parseRateText('100/5m')).toEqual({ ok: true, value: { requests: 100, perSeconds: 300 } });
    expect(parseRateText('0/s').ok).toBe(false);
    expect(parseRateText('fast').ok).toBe(false);
  });
});
