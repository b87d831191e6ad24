// biome-ignore-all lint/suspicious/noTemplateCurlyInString: nginx's own ${var} syntax, not templates.
import { describe, expect, it } from 'vitest';
import { context } from '../../../test/support/golden.js';
import type { ApiEvent } from '../../core/event.js';
import { tokenId } from '../../core/identity.js';
import type { EventOptions } from '../../core/options.js';
import { isMalformed, type Malformed } from '../../core/result.js';
import {
  compileNginxLogFormat,
  NGINX_MAIN,
  nginxFormat,
  readNginxLogFormat,
  tokenizeNginx,
} from './nginx.js';
import {
  type FieldSpec,
  K_HEADER,
  K_PEER,
  K_SKIP,
  K_STATUS,
  K_TIME_CLF,
  type LogFormatParser,
} from './program.js';

const origin = { source: 't.log', line: 1 };
const parser = (logFormat: string, options: Partial<EventOptions> = {}) =>
  nginxFormat.create(context({ logFormat }, options)) as LogFormatParser;
const parse = (logFormat: string, line: string, options: Partial<EventOptions> = {}) =>
  parser(logFormat, options).parseLine(line, origin);
const ok = (r: ApiEvent | Malformed): ApiEvent => {
  if (isMalformed(r)) throw new Error(`malformed: ${r.reason}: ${r.detail}`);
  return r;
};
const bad = (r: ApiEvent | Malformed): Malformed => {
  if (!isMalformed(r)) throw new Error(`expected malformed, got ${JSON.stringify(r)}`);
  return r;
};

const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
const LINE =
  '203.0.113.7 - - [05/Mar/2024:10:11:12 +0000] "GET /api/v1/items?id=7 HTTP/1.1" 200 2381 "-" "curl/8.5.0"';
const TS = Date.UTC(2024, 2, 5, 10, 11, 12);

describe('nginx log_format: tokenizing', () => {
  it('splits $var and ${var} from literal text', () => {
    const t = tokenizeNginx('$remote_addr [${time_local}] ${status}ms');
    expect(t.map((x) => (typeof x === 'string' ? x : (x as FieldSpec).label))).toEqual([
      '$remote_addr',
      ' [',
      '${time_local}',
      '] ',
      '${status}',
      'ms',
    ]);
    expect((t[0] as FieldSpec).kind).toBe(K_PEER);
    expect((t[2] as FieldSpec).kind).toBe(K_TIME_CLF);
    expect((t[4] as FieldSpec).kind).toBe(K_STATUS);
  });

  it('keeps a $ that does not start a variable as literal text', () => {
    expect(tokenizeNginx('cost $ 5 $')).toEqual(['cost $ 5 $']);
  });

  it('maps http_ / sent_http_ / cookie_ / arg_ variables by name and skips unknown ones', () => {
    const [h, , s, , c, , a, , u] = tokenizeNginx(
      '$http_x_api_key $sent_http_content_type $cookie_sessionid $arg_page $ssl_protocol',
    ) as FieldSpec[];
    expect([h!.kind, h!.name]).toEqual([K_HEADER, 'x-api-key']);
    expect(s!.name).toBe('content-type');
    expect(c!.name).toBe('sessionid');
    expect(a!.name).toBe('page');
    expect(u!.kind).toBe(K_SKIP);
  });

  it('rejects malformed ${...}', () => {
    expect(() => tokenizeNginx('${remote_addr')).toThrow(/unclosed/);
    expect(() => tokenizeNginx('${remote-addr}')).toThrow(/invalid variable name/);
  });
});

describe('nginx log_format: reading the format text', () => {
  it('takes a bare format string as it is', () => {
    expect(readNginxLogFormat(`  ${COMBINED}  `)).toEqual({ format: COMBINED, escape: 'backslash' });
  });

  it('reads a whole log_format directive with several strings and escape=', () => {
    const r = readNginxLogFormat(
      `log_format main escape=json '{"a":"$remote_addr",'\n    '"s":$status, "q":"it\\'s"}';`,
    );
    expect(r).toEqual({ format: `{"a":"$remote_addr","s":$status, "q":"it's"}`, escape: 'json' });
    expect(readNginxLogFormat(`log_format plain escape=none "$remote_addr \\"$request\\""`)).toEqual({
      format: '$remote_addr "$request"',
      escape: 'none',
    });
  });

  it('reads an escape= prefix and config-quoted strings without the directive', () => {
    expect(readNginxLogFormat("escape=default '$remote_addr' ' $status'")).toEqual({
      format: '$remote_addr $status',
      escape: 'backslash',
    });
    expect(readNginxLogFormat('escape=json {"s":$status}')).toEqual({
      format: '{"s":$status}',
      escape: 'json',
    });
  });

  it('rejects unknown escapes and broken directives', () => {
    expect(() => readNginxLogFormat("escape=html '$status'")).toThrow(/unknown log_format escape 'html'/);
    expect(() => readNginxLogFormat("log_format x '$status")).toThrow(/unbalanced quotes/);
    expect(() => readNginxLogFormat('log_format x;')).toThrow(/no format string/);
  });

  it('lets an explicit escape option override the text', () => {
    const p = compileNginxLogFormat(`escape=json ${COMBINED}`, { escape: 'none' });
    expect(p.escaping).toBe('none');
  });
});

describe('nginx log_format: compiling', () => {
  it('refuses formats that can never produce an event, saying what is missing', () => {
    expect(() => compileNginxLogFormat('$remote_addr "$request" $status')).toThrow(
      /no time field \(\$time_local/,
    );
    expect(() => compileNginxLogFormat('$remote_addr [$time_local] "$request"')).toThrow(/no status field/);
    expect(() => compileNginxLogFormat('[$time_local] "$request" $status')).toThrow(
      /no client address field/,
    );
  });

  it('refuses two variables with nothing between them unless the first has a fixed length', () => {
    expect(() => compileNginxLogFormat('$remote_addr$remote_user [$time_local] $status')).toThrow(
      /\$remote_addr and \$remote_user follow each other/,
    );
    // $status is always 3 digits: `${status}$body_bytes_sent` can be cut.
    const e = ok(
      parse(
        '$remote_addr [$time_local] ${status}${body_bytes_sent}',
        '192.0.2.1 [05/Mar/2024:10:11:12 +0000] 2041234',
      ),
    );
    expect([e.status, e.bytesOut]).toEqual([204, 1234]);
  });

  it('turns a bad format into a buildParser-style error via create()', () => {
    expect(() => nginxFormat.create(context({}))).toThrow(/needs the log_format string/);
  });
});

describe('nginx log_format: parsing', () => {
  it('parses combined through the custom compiler', () => {
    const e = ok(parse(COMBINED, LINE));
    expect(e).toMatchObject({
      ts: TS,
      ip: '203.0.113.7',
      method: 'GET',
      path: '/api/v1/items',
      status: 200,
      bytesOut: 2381,
      referer: null,
      userAgent: 'curl/8.5.0',
      protocol: 'HTTP/1.1',
    });
    expect({ ...e.query }).toEqual({ id: '7' });
  });

  it('skips unknown variables (quoted or not) wherever they are', () => {
    const f =
      '$remote_addr $connection [$time_local] "$request" $status $pipe "$foo_bar" $ssl_protocol/$ssl_cipher';
    const e = ok(
      parse(
        f,
        '192.0.2.9 18234 [05/Mar/2024:10:11:12 +0000] "GET / HTTP/2.0" 200 p "x \\x22y\\x22" TLSv1.3/TLS_AES_256_GCM_SHA384',
      ),
    );
    expect([e.ip, e.status, e.protocol]).toEqual(['192.0.2.9', 200, 'HTTP/2.0']);
  });

  it('unescapes \\xHH as UTF-8 bytes, only where there is a backslash', () => {
    const e = ok(
      parse(
        COMBINED,
        '203.0.113.7 - - [05/Mar/2024:10:11:12 +0000] "GET /caf\\xC3\\xA9 HTTP/1.1" 200 1 "-" "a\\x22b\\x5Cc \\xFF"',
      ),
    );
    expect(e.path).toBe('/café');
    expect(e.userAgent).toBe('a"b\\c \uFFFD');
  });

  it('reads $request_method / $request_uri / $server_protocol, and $uri + $args, without $request', () => {
    const e = ok(
      parse(
        '$remote_addr [$time_local] $request_method $request_uri $server_protocol $status',
        '192.0.2.1 [05/Mar/2024:10:11:12 +0000] PATCH /v1/a/%E4%B8%AD?x=1 HTTP/1.1 200',
      ),
    );
    expect([e.method, e.path, e.protocol, { ...e.query }]).toEqual([
      'PATCH',
      '/v1/a/中',
      'HTTP/1.1',
      { x: '1' },
    ]);
    const u = ok(
      parse(
        '$remote_addr [$time_local] $request_method "$uri" "$args" $status',
        '192.0.2.1 [05/Mar/2024:10:11:12 +0000] GET "/v1/b" "p=2&q=a+b" 200',
      ),
    );
    expect([u.method, u.path, { ...u.query }]).toEqual(['GET', '/v1/b', { p: '2', q: 'a b' }]);
  });

  it('reads the $uri$is_args$args and $scheme://$host$request_uri idioms', () => {
    const f = '$remote_addr [$time_local] "$request_method $uri$is_args$args $server_protocol" $status';
    const e = ok(parse(f, '192.0.2.1 [05/Mar/2024:10:11:12 +0000] "GET /v1/find?q=x&n=2 HTTP/1.1" 200'));
    expect([e.method, e.path, { ...e.query }, e.protocol]).toEqual([
      'GET',
      '/v1/find',
      { q: 'x', n: '2' },
      'HTTP/1.1',
    ]);
    const n = ok(parse(f, '192.0.2.1 [05/Mar/2024:10:11:12 +0000] "GET /v1/find HTTP/1.1" 200'));
    expect([n.path, n.query]).toEqual(['/v1/find', null]);
    const h = ok(
      parse(
        '$remote_addr [$time_local] "$scheme://$host$request_uri" $status',
        '192.0.2.1 [05/Mar/2024:10:11:12 +0000] "https://api.example.com/v1/a?b=1" 200',
      ),
    );
    expect([h.host, h.path, { ...h.query }]).toEqual(['api.example.com', '/v1/a', { b: '1' }]);
  });

  it('prefers $request over $request_uri, $body_bytes_sent over $bytes_sent, $host over $server_name', () => {
    const e = ok(
      parse(
        '$remote_addr [$time_local] "$request" "$request_uri" $status $bytes_sent $body_bytes_sent $server_name $host $request_length',
        '192.0.2.1 [05/Mar/2024:10:11:12 +0000] "POST /a?x=1 HTTP/1.1" "/a?x=1" 201 612 412 _ API.Example.com 733',
      ),
    );
    expect([e.method, e.path, e.bytesOut, e.host, e.bytesIn]).toEqual([
      'POST',
      '/a',
      412,
      'api.example.com',
      733,
    ]);
  });

  it('maps headers, response headers, cookies and args, with header capture', () => {
    const f =
      '$remote_addr [$time_local] "$request" $status "$http_x_api_key" "$sent_http_content_type" "$cookie_device_id" "$arg_page" "$http_cookie"';
    const e = ok(
      parse(
        f,
        '198.51.100.2 [05/Mar/2024:10:11:12 +0000] "GET /v1/list HTTP/1.1" 200 "k-8f2e61" "application/json" "d-42" "3" "device_id=d-42; lang=en"',
        { captureHeaders: true },
      ),
    );
    expect(e.token).toBe(tokenId('k-8f2e61'));
    expect(e.device).toBe('d-42');
    expect({ ...e.query }).toEqual({ page: '3' });
    expect(e.requestHeaders).toEqual({
      'x-api-key': `[token:${tokenId('k-8f2e61')}]`,
      cookie: 'device_id=d-42; lang=[redacted]',
    });
    expect(e.responseHeaders).toEqual({ 'content-type': 'application/json' });
  });

  it('keeps the request body (nginx escapes it) when bodies are captured', () => {
    const e = ok(
      parse(
        '$remote_addr [$time_local] "$request" $status "$request_body"',
        '192.0.2.1 [05/Mar/2024:10:11:12 +0000] "POST /login HTTP/1.1" 200 "{\\x22user\\x22:\\x22bob\\x22,\\x22password\\x22:\\x22hunter2\\x22}"',
        { captureBodies: true },
      ),
    );
    expect(e.requestBody).toBe('{"user":"bob","password":"[redacted]"}');
  });

  it('resolves the client from X-Forwarded-For / X-Real-IP only behind a trusted proxy', () => {
    const f = '$remote_addr [$time_local] "$request" $status "$http_x_forwarded_for" "$http_x_real_ip"';
    const at = (peer: string, xff: string, real: string) =>
      ok(parse(f, `${peer} [05/Mar/2024:10:11:12 +0000] "GET / HTTP/1.1" 200 "${xff}" "${real}"`)).ip;
    expect(at('10.0.0.2', '198.51.100.9, 10.0.0.7', '-')).toBe('198.51.100.9');
    expect(at('10.0.0.2', '-', '198.51.100.10')).toBe('198.51.100.10');
    expect(at('203.0.113.1', '198.51.100.9', '198.51.100.10')).toBe('203.0.113.1');
  });

  it('takes $realip_remote_addr only when $remote_addr is not logged, and $proxy_add_x_forwarded_for', () => {
    const e = ok(
      parse(
        '$realip_remote_addr [$time_local] "$request" $status "$proxy_add_x_forwarded_for"',
        '10.0.0.3 [05/Mar/2024:10:11:12 +0000] "GET / HTTP/1.1" 200 "198.51.100.4, 10.0.0.3"',
      ),
    );
    expect(e.ip).toBe('198.51.100.4');
  });

  it('reads $time_iso8601 and $msec', () => {
    expect(
      ok(parse('$time_iso8601 $remote_addr $status', '2024-03-05T12:11:12+02:00 192.0.2.1 200')).ts,
    ).toBe(TS);
    expect(ok(parse('$msec $remote_addr $status', '1709633472.250 192.0.2.1 200')).ts).toBe(TS + 250);
  });

  it('converts $request_time seconds to ms exactly and sums $upstream_response_time lists', () => {
    const f = '$remote_addr [$time_local] $status $request_time';
    const at = (v: string) => ok(parse(f, `192.0.2.1 [05/Mar/2024:10:11:12 +0000] 200 ${v}`)).latencyMs;
    expect(at('0.007')).toBe(7);
    expect(at('0.123')).toBe(123);
    expect(at('12')).toBe(12000);
    expect(at('1.5')).toBe(1500);
    const u = '$remote_addr [$time_local] $status $upstream_response_time "$http_user_agent"';
    const up = (v: string) => ok(parse(u, `192.0.2.1 [05/Mar/2024:10:11:12 +0000] 200 ${v} "ua"`)).latencyMs;
    expect(up('0.010, 0.020 : 0.030')).toBe(60);
    expect(up('0.001')).toBe(1);
    expect(up('-, 0.004')).toBe(4);
    expect(up('-')).toBeNull();
  });

  it('reads escape=json values', () => {
    const f = `escape=json {"ip":"$remote_addr","t":"$time_local","r":"$request","s":$status,"ua":"$http_user_agent"}`;
    const e = ok(
      parse(
        f,
        '{"ip":"192.0.2.1","t":"05/Mar/2024:10:11:12 +0000","r":"GET /x HTTP/1.1","s":200,"ua":"a \\"b\\" \\\\ \\u00e9\\n\\/"}',
      ),
    );
    expect(e.userAgent).toBe('a "b" \\ é\n/');
    // Empty means absent in escape=json (nginx logs missing variables as "").
    expect(
      ok(
        parse(f, '{"ip":"192.0.2.1","t":"05/Mar/2024:10:11:12 +0000","r":"GET /x HTTP/1.1","s":200,"ua":""}'),
      ).userAgent,
    ).toBeNull();
  });

  it('with escape=none, quotes are plain text and values are taken as they are', () => {
    const f = `escape=none ${COMBINED}`;
    const e = ok(
      parse(f, '192.0.2.1 - - [05/Mar/2024:10:11:12 +0000] "GET /a HTTP/1.1" 200 5 "-" "say "hi" \\x22"'),
    );
    expect(e.userAgent).toBe('say "hi" \\x22');
  });

  it('reports what was expected where when a line does not fit', () => {
    const p = parser(NGINX_MAIN);
    const m1 = bad(p.parseLine(LINE, origin));
    expect(m1.reason).toBe('format_mismatch');
    // The literal after a quoted field starts with its closing quote.
    expect(m1.detail).toBe(`expected '" "' after $http_user_agent (column ${LINE.length})`);
    const m2 = bad(
      p.parseLine('203.0.113.7 - - 05/Mar/2024:10:11:12 +0000 "GET / HTTP/1.1" 200 1 "-" "-" "-"', origin),
    );
    expect(m2.detail).toBe(`expected ' [' after $remote_user (column 15), not found`);
    const m3 = bad(p.parseLine('203.0.113.7 - - [05/Mar/2024:10:11:12 +0000] "GET / HTTP/1.1 200 1', origin));
    expect(m3.detail).toBe(`no closing '"' for $request opened at column 46`);
    const m4 = bad(parser(COMBINED).parseLine(`${LINE} "-"`, origin));
    expect(m4.detail).toBe(`expected the end of the line after $http_user_agent (column ${LINE.length + 1})`);
    const m5 = bad(parser(COMBINED).parseLine(LINE.replace('2381', '2k'), origin));
    expect(m5.detail).toBe('expected a number for $body_bytes_sent at column 84');
  });

  it('reports bad times and statuses as such, but a line that does not fit as format_mismatch first', () => {
    const p = parser(COMBINED);
    const t = bad(p.parseLine(LINE.replace('05/Mar/2024', '05/Foo/2024'), origin));
    expect([t.reason, t.detail]).toEqual([
      'bad_timestamp',
      "$time_local '05/Foo/2024:10:11:12 +0000' is not a valid time",
    ]);
    expect(bad(p.parseLine(LINE.replace('" 200 ', '" 2x0 '), origin)).reason).toBe('bad_status');
    expect(bad(p.parseLine(LINE.replace('" 200 ', '" - '), origin)).reason).toBe('bad_status');
    const both = bad(p.parseLine(`${LINE.replace('05/Mar/2024', '05/Foo/2024')} extra`, origin));
    expect(both.reason).toBe('format_mismatch');
  });

  it('reuses one draft: nothing leaks from one line into the next', () => {
    const f = '$remote_addr [$time_local] "$request" $status "$http_x_device_id" "$cookie_sid"';
    const p = parser(f);
    const a = ok(
      p.parseLine('192.0.2.1 [05/Mar/2024:10:11:12 +0000] "GET / HTTP/1.1" 200 "dev-1" "s-1"', origin),
    );
    const b = ok(p.parseLine('192.0.2.2 [05/Mar/2024:10:11:13 +0000] "GET / HTTP/1.1" 200 "-" "-"', origin));
    expect([a.device, a.token]).toEqual(['dev-1', tokenId('s-1')]);
    expect([b.device, b.token, b.ts]).toEqual([null, null, TS + 1000]);
  });
});
