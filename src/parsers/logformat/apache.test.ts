import { describe, expect, it } from 'vitest';
import { context } from '../../../test/support/golden.js';
import type { ApiEvent } from '../../core/event.js';
import { tokenId } from '../../core/identity.js';
import type { EventOptions } from '../../core/options.js';
import { isMalformed, type Malformed } from '../../core/result.js';
import {
  APACHE_COMBINED,
  APACHE_COMMON,
  APACHE_VHOST_COMBINED,
  apacheFormat,
  compileApacheLogFormat,
  readApacheLogFormat,
  tokenizeApache,
} from './apache.js';
import {
  type FieldSpec,
  K_BYTES_OUT_CLF,
  K_PEER,
  K_SKIP,
  K_STATUS,
  K_TIME_CLF,
  K_USER_AGENT,
  type LogFormatParser,
} from './program.js';

const origin = { source: 't.log', line: 1 };
const parse = (logFormat: string, line: string, options: Partial<EventOptions> = {}) =>
  (apacheFormat.create(context({ logFormat }, options)) as LogFormatParser).parseLine(line, origin);
const ok = (r: ApiEvent | Malformed): ApiEvent => {
  if (isMalformed(r)) throw new Error(`malformed: ${r.reason}: ${r.detail}`);
  return r;
};
const bad = (r: ApiEvent | Malformed): Malformed => {
  if (!isMalformed(r)) throw new Error(`expected malformed, got ${JSON.stringify(r)}`);
  return r;
};
const labels = (f: string) => tokenizeApache(f).map((t) => (typeof t === 'string' ? t : t.label));

const TS = Date.UTC(2024, 2, 5, 10, 11, 12);
const T = '[05/Mar/2024:10:11:12 +0000]';

describe('apache LogFormat: tokenizing', () => {
  it('splits directives from literal text; %t brings its brackets', () => {
    expect(labels(APACHE_COMMON)).toEqual([
      '%h',
      ' ',
      '%l',
      ' ',
      '%u',
      ' ',
      '[',
      '%t',
      ']',
      ' "',
      '%r',
      '" ',
      '%>s',
      ' ',
      '%b',
    ]);
    const t = tokenizeApache('%h %t') as FieldSpec[];
    expect(t[0]!.kind).toBe(K_PEER);
    expect((t[3] as FieldSpec).kind).toBe(K_TIME_CLF);
  });

  it('reads %%, conditions, < and >, and {arguments}', () => {
    expect(labels('100%% %!200,304{Referer}i %400,501{User-agent}i %<s %>s %{c}a %{X}^ti')).toEqual([
      '100% ',
      '%!200,304{Referer}i',
      ' ',
      '%400,501{User-agent}i',
      ' ',
      '%<s',
      ' ',
      '%>s',
      ' ',
      '%{c}a',
      ' ',
      '%{X}^ti',
    ]);
    const t = tokenizeApache('%400,501{User-agent}i %b %{X}^to %L') as FieldSpec[];
    expect(t[0]!.kind).toBe(K_USER_AGENT);
    expect((t[2] as FieldSpec).kind).toBe(K_BYTES_OUT_CLF);
    expect((t[4] as FieldSpec).kind).toBe(K_SKIP);
    expect((t[6] as FieldSpec).kind).toBe(K_SKIP);
  });

  it('rejects unknown directives and missing arguments with the directive in the message', () => {
    expect(() => tokenizeApache('%h %Z')).toThrow('unknown LogFormat directive %Z');
    expect(() => tokenizeApache('%{Referer')).toThrow(/unclosed '\{'/);
    expect(() => tokenizeApache('%h %>')).toThrow(/ends inside a directive/);
    expect(() => tokenizeApache('%i')).toThrow(/needs a header name/);
    expect(() => tokenizeApache('%{min}T')).toThrow(/unknown time unit 'min'/);
    expect(() => tokenizeApache('%{%c}t')).toThrow(/%c is not supported/);
  });
});

describe('apache LogFormat: reading the format text', () => {
  const common = '%h %l %u %t "%r" %>s %b';
  it('accepts the format alone, httpd.conf-quoted, or as LogFormat / CustomLog directives', () => {
    expect(readApacheLogFormat(common)).toBe(common);
    expect(readApacheLogFormat('%h %l %u %t \\"%r\\" %>s %b')).toBe(common);
    expect(readApacheLogFormat('"%h %l %u %t \\"%r\\" %>s %b"')).toBe(common);
    expect(readApacheLogFormat('LogFormat "%h %l %u %t \\"%r\\" %>s %b" common')).toBe(common);
    expect(readApacheLogFormat('CustomLog logs/access_log "%h %l %u %t \\"%r\\" %>s %b"')).toBe(common);
    // A format that merely starts and ends with a quote is left alone.
    expect(readApacheLogFormat('"%r" %>s "%{Referer}i"')).toBe('"%r" %>s "%{Referer}i"');
  });

  it('refuses formats that cannot produce events', () => {
    expect(() => compileApacheLogFormat('%h "%r" %>s')).toThrow(/no time field \(%t/);
    expect(() => compileApacheLogFormat('%h %t "%r"')).toThrow(/no status field \(%>s\)/);
    expect(() => compileApacheLogFormat('%t "%r" %>s')).toThrow(/no client address field/);
    expect(() => compileApacheLogFormat('%h%u %t %>s')).toThrow(/%h and %u follow each other/);
    expect(() => apacheFormat.create(context({ logFormat: ' ' }))).toThrow(/needs the LogFormat string/);
  });

  it('compiles the standard formats', () => {
    for (const f of [APACHE_COMMON, APACHE_COMBINED, APACHE_VHOST_COMBINED]) {
      expect(compileApacheLogFormat(f).source).toBe(f);
    }
  });
});

describe('apache LogFormat: parsing', () => {
  it('undoes Apache escaping: \\" \\\\ \\xhh (UTF-8) and C-style whitespace', () => {
    const e = ok(
      parse(
        APACHE_COMBINED,
        `192.0.2.1 - - ${T} "GET /caf\\xc3\\xa9?q=\\"a\\" HTTP/1.1" 200 5 "-" "x \\"y\\" \\\\z\\ttab\\x7f"`,
      ),
    );
    expect(e.path).toBe('/café');
    expect({ ...e.query }).toEqual({ q: '"a"' });
    expect(e.userAgent).toBe('x "y" \\z\ttab\x7f');
  });

  it('reads %b "-" as 0 bytes, %B / %O as given, %I as bytes in', () => {
    expect(ok(parse(APACHE_COMMON, `192.0.2.1 - - ${T} "GET / HTTP/1.1" 304 -`)).bytesOut).toBe(0);
    const e = ok(parse('%h %t "%r" %>s %B %O %I', `192.0.2.1 ${T} "GET / HTTP/1.1" 200 100 350 420`));
    expect([e.bytesOut, e.bytesIn]).toEqual([100, 420]);
    expect(ok(parse('%h %t "%r" %>s %O', `192.0.2.1 ${T} "GET / HTTP/1.1" 200 350`)).bytesOut).toBe(350);
    expect(ok(parse('%h %t "%r" %>s %B', `192.0.2.1 ${T} "GET / HTTP/1.1" 200 -`)).bytesOut).toBeNull();
  });

  it('reads %D (µs), %{ms}T, %{us}T and %T (s), preferring the most precise', () => {
    const at = (f: string, v: string) => ok(parse(`%h %t %>s ${f}`, `192.0.2.1 ${T} 200 ${v}`)).latencyMs;
    expect(at('%D', '15234')).toBe(15.234);
    expect(at('%{us}T', '812')).toBe(0.812);
    expect(at('%{ms}T', '47')).toBe(47);
    expect(at('%T', '3')).toBe(3000);
    expect(at('%{s}T', '2')).toBe(2000);
    expect(at('%T %D', '0 812')).toBe(0.812);
  });

  it('prefers %>s over %s, %a over %h over %{c}a, %{Host}i over %V over %v', () => {
    const e = ok(
      parse(
        '%{c}a %h %a %v %V %{Host}i %t %s %>s',
        `10.0.0.1 198.51.100.1 198.51.100.2 canonical.example.com vhost.example.com Api.Example.com:8443 ${T} 302 200`,
      ),
    );
    expect([e.ip, e.host, e.status]).toEqual(['198.51.100.2', 'api.example.com:8443', 200]);
    const v = ok(parse('%v %V %h %t %>s', `canonical.example.com vhost.example.com 198.51.100.1 ${T} 200`));
    expect(v.host).toBe('vhost.example.com');
  });

  it('reads %m %U %q %H when %r is not logged', () => {
    const e = ok(parse('%h %t %m %U%q %H %>s', `192.0.2.1 ${T} GET /v1/items?page=2&q=a%20b HTTP/1.1 200`));
    expect([e.method, e.path, { ...e.query }, e.protocol]).toEqual([
      'GET',
      '/v1/items',
      { page: '2', q: 'a b' },
      'HTTP/1.1',
    ]);
    const n = ok(parse('%h %t %m %U%q %H %>s', `192.0.2.1 ${T} GET /v1/items HTTP/1.1 200`));
    expect([n.path, n.query]).toEqual(['/v1/items', null]);
  });

  it('maps request headers, response headers and cookies (with capture)', () => {
    const e = ok(
      parse(
        '%h %t "%r" %>s "%{Authorization}i" "%{Content-Type}o" "%{sessionid}C" "%{X-Device-Id}i"',
        `192.0.2.1 ${T} "GET / HTTP/1.1" 200 "-" "text/html" "s-abc123" "dev-9"`,
        { captureHeaders: true },
      ),
    );
    expect(e.token).toBe(tokenId('s-abc123'));
    expect(e.device).toBe('dev-9');
    // An absent header (`-`) is not kept.
    expect(e.requestHeaders).toEqual({ 'x-device-id': 'dev-9' });
    expect(e.responseHeaders).toEqual({ 'content-type': 'text/html' });
  });

  it('reads the documented millisecond timestamp and other %{format}t forms', () => {
    const docs = '%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] %>s';
    expect(ok(parse(docs, '192.0.2.1 [05/Mar/2024 11:11:12.345 +0100] 200')).ts).toBe(TS + 345);
    // Adjacent fields are cut by length: `%{msec_frac}t%{%z}t`.
    const iso = '%h %{%Y-%m-%dT%H:%M:%S}t.%{usec_frac}t%{%z}t %>s';
    expect(ok(parse(iso, '192.0.2.1 2024-03-05T10:11:12.250500+0000 200')).ts).toBe(TS + 250.5);
    expect(ok(parse('%h %{sec}t %>s', '192.0.2.1 1709633472 200')).ts).toBe(TS);
    expect(ok(parse('%h %{msec}t %>s', '192.0.2.1 1709633472123 200')).ts).toBe(TS + 123);
    expect(ok(parse('%h %{end:usec}t %>s', '192.0.2.1 1709633472123456 200')).ts).toBe(TS + 123);
    expect(ok(parse('%h %{%d/%b/%Y:%H:%M:%S %z}t %>s', '192.0.2.1 05/Mar/2024:10:11:12 +0000 200')).ts).toBe(
      TS,
    );
    expect(ok(parse('%h [%{%F %T %Z}t] %>s', '192.0.2.1 [2024-03-05 10:11:12 UTC] 200')).ts).toBe(TS);
    expect(
      ok(parse('%h [%{%d/%B/%Y %I:%M:%S %p}t] %>s', '192.0.2.1 [05/March/2024 10:11:12 AM] 200')).ts,
    ).toBe(TS);
    expect(
      ok(parse('%h [%{%d/%B/%Y %I:%M:%S %p}t] %>s', '192.0.2.1 [05/March/2024 10:11:12 PM] 200')).ts,
    ).toBe(TS + 12 * 3600_000);
  });

  it('rejects impossible dates and unreadable times as bad_timestamp', () => {
    const docs = '%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] %>s';
    const m = bad(parse(docs, '192.0.2.1 [31/Feb/2024 10:11:12.000 +0000] 200'));
    expect([m.reason, m.detail]).toEqual(['bad_timestamp', 'the time fields do not make a valid time']);
    const n = bad(parse(docs, '192.0.2.1 [05/Mrz/2024 10:11:12.000 +0000] 200'));
    expect([n.reason, n.detail]).toEqual([
      'bad_timestamp',
      "%{%d/%b/%Y %T}t '05/Mrz/2024 10:11:12' is not a valid time",
    ]);
    // The brackets are where they belong, so it is the time that is bad.
    expect(
      bad(parse(APACHE_COMMON, '192.0.2.1 - - [05/Mar/2024:10:11:12] "GET / HTTP/1.1" 200 1')).reason,
    ).toBe('bad_timestamp');
  });

  it('reports where a line stops fitting', () => {
    const m = bad(parse(APACHE_COMMON, `192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 1 "-" "curl"`));
    expect([m.reason, m.detail]).toEqual(['format_mismatch', 'expected a number for %b at column 65']);
    const n = bad(parse(APACHE_VHOST_COMBINED, `192.0.2.1 - - ${T} "GET / HTTP/1.1" 200 1 "-" "curl"`));
    expect([n.reason, n.detail]).toEqual([
      'format_mismatch',
      "expected ' [' after %u (column 49), not found",
    ]);
  });

  it('does not treat the status as a number when it is not one', () => {
    const m = bad(parse(APACHE_COMMON, `192.0.2.1 - - ${T} "GET / HTTP/1.1" 2OO 1`));
    expect([m.reason, m.detail]).toEqual(['bad_status', "%>s '2OO' is not a number"]);
    expect(tokenizeApache('%>s').map((t) => (t as FieldSpec).kind)).toEqual([K_STATUS]);
  });
});
