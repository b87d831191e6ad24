import { describe, expect, it } from 'vitest';
import { context, goldenCases, plain, readCase, runParser } from '../../test/support/golden.js';
import type { ApiEvent } from '../core/event.js';
import { tokenId } from '../core/identity.js';
import { isMalformed, type Malformed } from '../core/result.js';
import { type AlbParser, albClientIp, albFormat, detectAlb } from './alb.js';

const origin = { source: 't.log', line: 1 };
const parser = () => albFormat.create(context()) as AlbParser;
const LINE =
  'https 2024-03-05T10:11:12.402113Z app/prod-api/50dc6c495c0c9188 203.0.113.7:52814 10.0.12.34:8080 0.001 0.085 0.000 200 200 512 2381 "GET https://api.example.com:443/v1/items?id=7 HTTP/1.1" "curl/8.5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/73e2d6bc24d8a067 "Root=1-65e6f0a0-1d84f3d73c47ec4e58577259" "api.example.com" "-" 3 2024-03-05T10:11:12.316000Z "forward" "-" "-" "10.0.12.34:8080" "200" "-" "-"';

const ok = (r: ApiEvent | Malformed): ApiEvent => {
  if (isMalformed(r)) throw new Error(`malformed: ${r.reason} ${r.detail}`);
  return r;
};

describe('alb: golden files', () => {
  for (const name of goldenCases('alb-')) {
    it(name, () => {
      const expected = JSON.parse(readCase(name, 'expected.json'));
      const got = runParser(
        albFormat.create(context({}, expected.options ?? {})),
        readCase(name, 'input.log'),
      );
      expect(plain(got.events)).toEqual(expected.events);
      expect(got.malformed).toEqual(expected.malformed);
    });
  }
});

describe('alb parser', () => {
  it('reads the request creation time, the client, the summed latency and the request line', () => {
    const e = ok(parser().parseLine(LINE, origin));
    expect(e.ts).toBe(Date.UTC(2024, 2, 5, 10, 11, 12, 316));
    expect(e.ip).toBe('203.0.113.7');
    expect(e.latencyMs).toBe(86);
    expect([e.method, e.host, e.path, e.protocol]).toEqual([
      'GET',
      'api.example.com',
      '/v1/items',
      'HTTP/1.1',
    ]);
    expect([e.status, e.bytesIn, e.bytesOut, e.userAgent]).toEqual([200, 512, 2381, 'curl/8.5.0']);
  });

  it('falls back to the response time when request_creation_time is absent (older, shorter entries)', () => {
    const short = LINE.split(' "forward"')[0]!.replace(/ 3 2024-03-05T10:11:12.316000Z$/, '');
    const e = ok(parser().parseLine(short, origin));
    expect(e.ts).toBe(Date.UTC(2024, 2, 5, 10, 11, 12, 402));
  });

  it('accepts fields appended after the known ones', () => {
    const e = ok(parser().parseLine(`${LINE} TID_abc "new field" 42 -`, origin));
    expect(e.status).toBe(200);
  });

  it('splits unbracketed IPv6 client:port at the last colon', () => {
    expect(albClientIp('2001:db8::7:51234')).toBe('2001:db8::7');
    expect(albClientIp('[2001:db8::7]:51234')).toBe('2001:db8::7');
    expect(albClientIp('192.0.2.1:80')).toBe('192.0.2.1');
  });

  it('leaves -1 processing times out of the latency, and all -1 is null', () => {
    const partial = LINE.replace('0.001 0.085 0.000', '0.002 -1 -1');
    expect(ok(parser().parseLine(partial, origin)).latencyMs).toBe(2);
    const none = LINE.replace('0.001 0.085 0.000', '-1 -1 -1');
    expect(ok(parser().parseLine(none, origin)).latencyMs).toBeNull();
  });

  it('keeps a user agent with spaces and an escaped quote in one field', () => {
    const ua = LINE.replace('"curl/8.5.0"', '"Mozilla/5.0 (X11) \\"quoted\\" x"');
    expect(ok(parser().parseLine(ua, origin)).userAgent).toBe('Mozilla/5.0 (X11) "quoted" x');
  });

  it('hashes a credential in the URL query and never keeps it', () => {
    const e = ok(parser().parseLine(LINE.replace('?id=7', '?id=7&access_token=SeCrEt-999'), origin));
    expect(e.token).toBe(tokenId('SeCrEt-999'));
    expect(JSON.stringify(e)).not.toContain('SeCrEt-999');
  });

  it('reports short lines, bad times and bad status codes as Malformed', () => {
    const p = parser();
    expect((p.parseLine('http 2024-03-05T10:11:12Z app/x', origin) as Malformed).reason).toBe(
      'format_mismatch',
    );
    expect((p.parseLine('', origin) as Malformed).reason).toBe('format_mismatch');
    expect(
      (p.parseLine(LINE.replace(/2024-03-05T10:11:12\.\d+Z/g, 'nope'), origin) as Malformed).reason,
    ).toBe('bad_timestamp');
    expect((p.parseLine(LINE.replace(' 200 200 ', ' - - '), origin) as Malformed).reason).toBe('bad_status');
  });

  it('never throws on junk', () => {
    const p = parser();
    for (const junk of ['"', '" " " "', 'a '.repeat(40), '\u0000\uffff', `${'"x '.repeat(30)}`]) {
      expect(() => p.parseLine(junk, origin)).not.toThrow();
    }
  });

  it('detects ALB entries', () => {
    expect(detectAlb(`${LINE}\n${LINE}\n`)).toBe(1);
    // A cut last line that no longer looks like an entry does not count against the sample.
    expect(detectAlb(`${LINE}\n${LINE.slice(0, 10)}`)).toBe(1);
    expect(detectAlb('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326\n')).toBe(0);
    expect(detectAlb('{"a":1}\n')).toBe(0);
    expect(detectAlb('')).toBe(0);
  });
});
