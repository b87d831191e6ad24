import { describe, expect, it } from 'vitest';
import { normalizeHost, normalizePath, parseQuery, safePercentDecode, splitTarget } from './path.js';

describe('splitTarget', () => {
  it('splits origin-form targets', () => {
    expect(splitTarget('/a/b?x=1&y=2#frag')).toEqual({ host: null, path: '/a/b', query: 'x=1&y=2' });
    expect(splitTarget('/a#f?x')).toEqual({ host: null, path: '/a', query: null });
  });
  it('takes the host from absolute-form targets and drops userinfo', () => {
    expect(splitTarget('http://user:pw@Example.COM:80/x?q=1')).toEqual({
      host: 'example.com',
      path: '/x',
      query: 'q=1',
    });
    expect(splitTarget('HTTPS://api.example.com')).toEqual({
      host: 'api.example.com',
      path: '/',
      query: null,
    });
  });
  it('leaves authority-form and asterisk targets alone', () => {
    expect(splitTarget('example.com:443').path).toBe('example.com:443');
    expect(splitTarget('*').path).toBe('*');
  });
});

describe('normalizeHost', () => {
  it('lower-cases and drops default ports', () => {
    expect(normalizeHost('API.Example.com:443')).toBe('api.example.com');
    expect(normalizeHost('a.example:8080')).toBe('a.example:8080');
    expect(normalizeHost('-')).toBeNull();
    expect(normalizeHost('')).toBeNull();
  });
});

describe('safePercentDecode', () => {
  it('decodes UTF-8 and unreserved characters', () => {
    expect(safePercentDecode('/%E4%B8%AD%E6%96%87/caf%C3%A9')).toBe('/中文/café');
    expect(safePercentDecode('/a%20b/%7Euser')).toBe('/a b/~user');
  });
  it('keeps structural and control characters encoded, upper-casing hex', () => {
    expect(safePercentDecode('/a%2fb%3Fc%23d%25e')).toBe('/a%2Fb%3Fc%23d%25e');
    expect(safePercentDecode('/x%00y%0a')).toBe('/x%00y%0A');
  });
  it('keeps invalid and overlong UTF-8 encoded', () => {
    expect(safePercentDecode('/%C0%AE%C0%AE/')).toBe('/%C0%AE%C0%AE/');
    expect(safePercentDecode('/%E4%B8')).toBe('/%E4%B8');
    expect(safePercentDecode('/%ED%A0%80')).toBe('/%ED%A0%80'); // a surrogate
    expect(safePercentDecode('/%zz%4')).toBe('/%zz%4');
  });
});

describe('normalizePath', () => {
  it('returns clean paths unchanged', () => {
    expect(normalizePath('/api/v1/users/42')).toBe('/api/v1/users/42');
    expect(normalizePath('/a/')).toBe('/a/');
  });
  it('folds slashes and resolves dot segments without climbing above the root', () => {
    expect(normalizePath('//a///b')).toBe('/a/b');
    expect(normalizePath('/a/./b/../c')).toBe('/a/c');
    expect(normalizePath('/../../etc/passwd')).toBe('/etc/passwd');
    expect(normalizePath('/a/b/..')).toBe('/a/');
    expect(normalizePath('/static/%2e%2e/%2E%2E/secret')).toBe('/secret');
  });
  it('does not let an encoded slash create a segment', () => {
    expect(normalizePath('/a/..%2F..%2Fetc')).toBe('/a/..%2F..%2Fetc');
  });
  it('keeps non-path targets', () => {
    expect(normalizePath('*')).toBe('*');
    expect(normalizePath('')).toBe('/');
  });
});

describe('parseQuery', () => {
  it('decodes keys and values and keeps repeated keys', () => {
    const q = parseQuery('a=1&b=x+y&a=2&c&d=%E4%B8%AD&&e=%zz')!;
    expect({ ...q }).toEqual({ a: ['1', '2'], b: 'x y', c: '', d: '中', e: '%zz' });
  });
  it('treats __proto__ as data', () => {
    const q = parseQuery('__proto__=x&constructor=y')!;
    expect(Object.getPrototypeOf(q)).toBeNull();
    const key = '__proto__';
    expect(q[key]).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
  it('returns null for an empty query', () => {
    expect(parseQuery('')).toBeNull();
    expect(parseQuery(null)).toBeNull();
    expect(parseQuery('&&')).toBeNull();
  });
});
