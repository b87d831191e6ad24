import { describe, expect, it } from 'vitest';
import type { ApiEvent } from './event.js';
import { jwtSubject, redactBody, secretScrubber, tokenId } from './identity.js';
import { EventDraft, Normalizer } from './normalize.js';
import { DEFAULT_EVENT_OPTIONS } from './options.js';
import { Malformed } from './result.js';

const origin = { source: 't.log', line: 7 };
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256' })}.${b64url({ sub: 'user-42', iat: 1 })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;

function draft(f: (d: EventDraft) => void): EventDraft {
  const d = new EventDraft();
  d.ts = 1_700_000_000_000;
  d.peer = '198.51.100.7';
  d.status = 200;
  d.requestLine = 'GET /api/v1/items/1?x=1 HTTP/1.1';
  f(d);
  return d;
}
const ev = (n: Normalizer, d: EventDraft) => {
  const r = n.finalize(d, origin);
  if (r instanceof Malformed) throw new Error(`malformed: ${r.reason}`);
  return r as ApiEvent;
};

describe('Normalizer.finalize', () => {
  const n = new Normalizer();

  it('splits the request line and normalizes', () => {
    const e = ev(
      n,
      draft((d) => {
        d.requestLine = 'GET //api/./v1/items/%E4%B8%AD?q=a+b&q=c HTTP/2.0';
      }),
    );
    expect(e.method).toBe('GET');
    expect(e.path).toBe('/api/v1/items/中');
    expect({ ...e.query }).toEqual({ q: ['a b', 'c'] });
    expect(e.protocol).toBe('HTTP/2.0');
    expect(e.origin).toEqual(origin);
  });

  it('keeps junk and absent request lines as events with method and path "-"', () => {
    for (const rl of ['-', '\\x16\\x03\\x01\\x00', '']) {
      const e = ev(
        n,
        draft((d) => {
          d.requestLine = rl;
        }),
      );
      expect([e.method, e.path]).toEqual(['-', '-']);
    }
    const e = ev(
      n,
      draft((d) => {
        d.requestLine = 'GET /a b HTTP/1.1';
      }),
    );
    expect(e.path).toBe('/a b');
  });

  it('treats a request line whose method is not a token as junk, even with spaces in it', () => {
    const e = ev(
      n,
      draft((d) => {
        d.requestLine = '\x16\x03\x01 \x00\xfc\x03';
      }),
    );
    expect([e.method, e.path]).toEqual(['-', '-']);
  });

  it('takes method and protocol from the request line when the target is logged apart', () => {
    const e = ev(
      n,
      draft((d) => {
        d.requestLine = 'PUT /x?a=1 HTTP/1.0';
        d.target = '/y?b=2';
      }),
    );
    expect([e.method, e.path, e.protocol, { ...e.query }]).toEqual(['PUT', '/y', 'HTTP/1.0', { b: '2' }]);
  });

  it('falls back to the user-agent and referer headers', () => {
    const e = ev(
      n,
      draft((d) => {
        d.setHeader('User-Agent', 'ua/1');
        d.setHeader('referer', 'https://r.example/');
      }),
    );
    expect([e.userAgent, e.referer]).toEqual(['ua/1', 'https://r.example/']);
  });

  it('reports missing time, bad status and missing address as reasons', () => {
    expect(
      (
        n.finalize(
          draft((d) => {
            d.ts = Number.NaN;
          }),
          origin,
        ) as Malformed
      ).reason,
    ).toBe('bad_timestamp');
    expect(
      (
        n.finalize(
          draft((d) => {
            d.status = 1000;
          }),
          origin,
        ) as Malformed
      ).reason,
    ).toBe('bad_status');
    expect(
      (
        n.finalize(
          draft((d) => {
            d.status = Number.NaN;
          }),
          origin,
        ) as Malformed
      ).reason,
    ).toBe('bad_status');
    expect(
      (
        n.finalize(
          draft((d) => {
            d.peer = '-';
          }),
          origin,
        ) as Malformed
      ).reason,
    ).toBe('missing_ip');
  });

  it('identifies a bearer JWT by hash and its sub as user, never keeping the raw token', () => {
    const e = ev(
      n,
      draft((d) => d.setHeader('Authorization', `Bearer ${JWT}`)),
    );
    expect(e.token).toBe(tokenId(JWT));
    expect(e.token).toMatch(/^[0-9a-f]{16}$/);
    expect(e.user).toBe('user-42');
    expect(JSON.stringify(e)).not.toContain(JWT.split('.')[2]);
  });

  it('uses the Basic user name as user and hashes the credential', () => {
    const basic = Buffer.from('alice:s3cret').toString('base64');
    const e = ev(
      n,
      draft((d) => d.setHeader('authorization', `Basic ${basic}`)),
    );
    expect(e.user).toBe('alice');
    expect(e.token).toBe(tokenId(basic));
  });

  it('takes API-key headers, then query keys, then cookies, in that order', () => {
    expect(
      ev(
        n,
        draft((d) => {
          d.setHeader('x-api-key', 'k-123456');
          d.requestLine = 'GET /a?api_key=other HTTP/1.1';
        }),
      ).token,
    ).toBe(tokenId('k-123456'));
    const q = ev(
      n,
      draft((d) => {
        d.requestLine = 'GET /a?api_key=abcdef&x=1 HTTP/1.1';
        d.setHeader('cookie', 'session=zzz');
      }),
    );
    expect(q.token).toBe(tokenId('abcdef'));
    expect(q.query!.api_key).toBe(`[token:${tokenId('abcdef')}]`);
    expect(JSON.stringify(q)).not.toContain('abcdef');
    expect(
      ev(
        n,
        draft((d) => d.setHeader('cookie', 'lang=en; sessionid="s-9"')),
      ).token,
    ).toBe(tokenId('s-9'));
  });

  it('redacts credential query values in the referer', () => {
    const e = ev(
      n,
      draft((d) => {
        d.referer = 'https://x.example/cb?code=1&access_token=SECRETVALUE';
      }),
    );
    expect(e.referer).toBe(`https://x.example/cb?code=1&access_token=[token:${tokenId('SECRETVALUE')}]`);
  });

  it('prefers JWT sub over gateway consumer over remote user', () => {
    expect(
      ev(
        n,
        draft((d) => {
          d.consumer = 'app-1';
          d.remoteUser = 'bob';
        }),
      ).user,
    ).toBe('app-1');
    expect(
      ev(
        n,
        draft((d) => {
          d.remoteUser = 'bob';
        }),
      ).user,
    ).toBe('bob');
    expect(
      ev(
        n,
        draft((d) => {
          d.remoteUser = '-';
        }),
      ).user,
    ).toBeNull();
    expect(
      ev(
        n,
        draft((d) => {
          d.consumer = 'app-1';
          d.setHeader('authorization', `Bearer ${JWT}`);
        }),
      ).user,
    ).toBe('user-42');
  });

  it('reads the device from the header or the cookie', () => {
    expect(
      ev(
        n,
        draft((d) => d.setHeader('X-Device-Id', 'dev-1')),
      ).device,
    ).toBe('dev-1');
    expect(
      ev(
        n,
        draft((d) => d.setHeader('cookie', 'device_id=dev-2')),
      ).device,
    ).toBe('dev-2');
    expect(
      ev(
        n,
        draft((d) => {
          d.cookies = { device_id: 'dev-3' };
        }),
      ).device,
    ).toBe('dev-3');
  });

  it('resolves the client through X-Forwarded-For of a trusted peer', () => {
    expect(
      ev(
        n,
        draft((d) => {
          d.peer = '10.0.0.1';
          d.setHeader('x-forwarded-for', '203.0.113.5, 10.0.0.9');
        }),
      ).ip,
    ).toBe('203.0.113.5');
    expect(
      ev(
        n,
        draft((d) => {
          d.peer = '198.51.100.1';
          d.forwardedFor = '203.0.113.5';
        }),
      ).ip,
    ).toBe('198.51.100.1');
  });

  it('takes path and query given apart, the host from headers, and args', () => {
    const e = ev(
      n,
      draft((d) => {
        d.requestLine = null;
        d.method = 'POST';
        d.path = '/login';
        d.queryString = 'next=%2Fhome';
        d.setHeader('host', 'API.example.com:443');
        d.args = { lang: 'en', next: 'ignored' };
      }),
    );
    expect([e.method, e.host, e.path]).toEqual(['POST', 'api.example.com', '/login']);
    expect({ ...e.query }).toEqual({ next: '/home', lang: 'en' });
  });

  it('maps "-" and negative numbers to null', () => {
    const e = ev(
      n,
      draft((d) => {
        d.userAgent = '-';
        d.referer = '';
        d.bytesOut = -1;
        d.latencyMs = 12.5;
      }),
    );
    expect([e.userAgent, e.referer, e.bytesOut, e.latencyMs]).toEqual([null, null, null, 12.5]);
  });

  it('captures headers and bodies only when asked, redacted and truncated', () => {
    expect(
      ev(
        n,
        draft((d) => d.setHeader('accept', 'x')),
      ).requestHeaders,
    ).toBeUndefined();
    const c = new Normalizer({
      ...DEFAULT_EVENT_OPTIONS,
      captureHeaders: true,
      captureBodies: true,
      maxBodyBytes: 40,
    });
    const e = ev(
      c,
      draft((d) => {
        d.setHeader('authorization', `Bearer ${JWT}`);
        d.setHeader('cookie', 'sid=abc; device_id=d1');
        d.setHeader('x-api-key', 'KEY-XYZ');
        d.setResponseHeader('Set-Cookie', 'sid=new; Path=/; HttpOnly');
        d.requestBody = '{"user":"a","password":"hunter2"}';
        d.responseBody = 'x'.repeat(100);
      }),
    );
    expect(e.requestHeaders!.authorization).toBe(`Bearer [token:${tokenId(JWT)}]`);
    expect(e.requestHeaders!.cookie).toBe('sid=[redacted]; device_id=d1');
    expect(e.requestHeaders!['x-api-key']).toBe(`[token:${tokenId('KEY-XYZ')}]`);
    expect(e.responseHeaders!['set-cookie']).toBe('sid=[redacted]; Path=/; HttpOnly');
    expect(e.requestBody).toBe('{"user":"a","password":"[redacted]"}');
    expect(e.responseBody).toHaveLength(40);
    expect(e.bodyTruncated).toBe(true);
    const json = JSON.stringify(e);
    for (const secret of ['hunter2', 'KEY-XYZ', 'abc;', JWT]) expect(json).not.toContain(secret);
  });
});

describe('capture redaction', () => {
  const c = new Normalizer({
    ...DEFAULT_EVENT_OPTIONS,
    captureHeaders: true,
    captureBodies: true,
    maxBodyBytes: 30,
  });
  it('redacts before cutting, so a cut inside a password cannot keep part of it', () => {
    const e = ev(
      c,
      draft((d) => {
        d.requestBody = '{"username":"bob","password":"correct-horse-battery"}';
      }),
    );
    expect(e.requestBody).not.toContain('correct');
    expect(e.bodyTruncated).toBe(true);
  });
  it('redacts response bodies and every Set-Cookie', () => {
    const e = ev(
      c,
      draft((d) => {
        d.responseBody = '{"access_token":"tok-abcdef"}';
        d.setResponseHeader('set-cookie', 'a=one; Path=/\nb=two; HttpOnly');
      }),
    );
    expect(e.responseBody).toBe('{"access_token":"[redacted]"}');
    expect(e.responseHeaders!['set-cookie']).toBe('a=[redacted]; Path=/\nb=[redacted]; HttpOnly');
  });
});

describe('identity helpers', () => {
  it('jwtSubject decodes without verifying and tolerates junk', () => {
    expect(jwtSubject(JWT)).toBe('user-42');
    expect(jwtSubject(`${b64url({})}.${b64url({ sub: 7 })}.x`)).toBe('7');
    expect(jwtSubject('a.b.c')).toBeNull();
    expect(jwtSubject('nodots')).toBeNull();
  });
  it('redactBody covers JSON and form bodies', () => {
    expect(redactBody('user=a&password=x%20y&otp=123')).toBe('user=a&password=[redacted]&otp=[redacted]');
    expect(redactBody('{"Password": "a\\"b", "n": 1}')).toBe('{"Password": "[redacted]", "n": 1}');
  });
  it('secretScrubber removes credentials from raw lines', () => {
    const scrub = secretScrubber(['access_token', 'session']);
    const line = `1.2.3.4 "GET /x?access_token=abc123&y=1" "Authorization: Bearer ${JWT}" "cookie: a=1; session=qwerty"`;
    const out = scrub(line);
    for (const s of ['abc123', 'qwerty', JWT.split('.')[1]!]) expect(out).not.toContain(s);
    expect(out).toContain('y=1');
  });
});
