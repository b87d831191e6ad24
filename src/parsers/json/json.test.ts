import { describe, expect, it } from 'vitest';
import { context, readCase } from '../../../test/support/golden.js';
import type { ApiEvent } from '../../core/event.js';
import { tokenId } from '../../core/identity.js';
import type { EventOptions } from '../../core/options.js';
import { isMalformed, type Malformed } from '../../core/result.js';
import { parseIsoTime } from '../../core/time.js';
import type { FormatSpec, LineParser } from '../types.js';
import { anyTime, detectJsonLines, IsoTimeParser, parseJsonLine } from './common.js';
import {
  apisixFormat,
  cloudflareFormat,
  envoyFormat,
  jsonMappingFormat,
  kongFormat,
  MAPPABLE_KEYS,
  traefikFormat,
  validateJsonMapping,
} from './index.js';
import { compilePath } from './mapping.js';
import { canonicalHeaderKey } from './traefik.js';

const origin = { source: 't.jsonl', line: 3 };
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ sub: 'sub-777', exp: 2000000000 })}.c2lnbmF0dXJlLWJ5dGVzLWhlcmU`;

const line = (
  spec: FormatSpec,
  text: string,
  options: Partial<EventOptions> = {},
  mapping?: Record<string, string>,
) => {
  const p = spec.create(context({ jsonMapping: mapping }, options)) as LineParser;
  return p.parseLine(text, origin);
};
const ok = (r: ApiEvent | Malformed): ApiEvent => {
  if (isMalformed(r)) throw new Error(`malformed: ${r.reason}: ${r.detail}`);
  return r;
};
const bad = (r: ApiEvent | Malformed): Malformed => {
  if (!isMalformed(r)) throw new Error('expected a Malformed');
  return r;
};

/** The good lines of each golden input, as detection samples. */
const goodLines = (name: string, n: number) =>
  readCase(name, 'input.jsonl').replace(/\r/g, '').split('\n').slice(0, n).join('\n');
const SAMPLES: Record<string, string> = {
  apisix: `${goodLines('apisix-basic', 4)}\n`,
  kong: `${goodLines('kong-basic', 3)}\n`,
  envoy: `${goodLines('envoy-basic', 3)}\n`,
  traefik: `${goodLines('traefik-basic', 3)}\n`,
  cloudflare: `${goodLines('cloudflare-basic', 3)}\n`,
};
const PRESETS = [apisixFormat, kongFormat, envoyFormat, traefikFormat, cloudflareFormat];

const apisix = (over: { headers?: Record<string, unknown>; client?: string; extra?: string } = {}) =>
  JSON.stringify({
    client_ip: over.client ?? '198.51.100.4',
    start_time: 1709633472123,
    latency: 5,
    request: {
      method: 'GET',
      uri: '/v1/a?b=1',
      url: 'http://api.example.com:9080/v1/a?b=1',
      headers: { host: 'api.example.com', ...over.headers },
      querystring: { b: '1' },
      size: 100,
    },
    response: { status: 200, headers: { 'content-type': 'application/json' }, size: 300 },
    route_id: '1',
  });

describe('parseJsonLine', () => {
  it('says "truncated JSON" for a line cut short, without quoting it', () => {
    for (const cut of ['{"a":1', '{"a":"secret-tok', '{"a":[1,', '{"a":tru', '{']) {
      const m = parseJsonLine(cut) as Malformed;
      expect(m.reason).toBe('bad_json');
      expect(m.detail).toMatch(/^truncated JSON/);
    }
  });

  it('explains other invalid JSON by position, never echoing the input', () => {
    const m = parseJsonLine('{"token":"abc123secret",}') as Malformed;
    expect(m.reason).toBe('bad_json');
    expect(m.detail).toMatch(/^invalid JSON: .* at position 24$/);
    const t = parseJsonLine('{"a":secret-value}') as Malformed;
    expect(t.detail).toBe("invalid JSON: unexpected character 's'");
    expect(t.detail).not.toContain('secret-value');
    expect((parseJsonLine('GET / HTTP/1.1') as Malformed).reason).toBe('bad_json');
  });

  it('reports JSON values that are not objects as not_an_object', () => {
    for (const [text, what] of [
      ['[1,2]', 'an array'],
      ['"x"', 'a string'],
      ['42', 'a number'],
      ['null', 'null'],
      ['true', 'a boolean'],
    ] as const) {
      const m = parseJsonLine(text) as Malformed;
      expect(m.reason).toBe('not_an_object');
      expect(m.detail).toContain(what);
    }
  });

  it('accepts a BOM and a trailing CR', () => {
    expect(parseJsonLine('\uFEFF{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonLine('{"a":1}\r')).toEqual({ a: 1 });
  });
});

describe('anyTime', () => {
  it('reads ISO, CLF and epochs of any unit', () => {
    const t = Date.UTC(2024, 2, 5, 10, 11, 12);
    expect(anyTime('2024-03-05T10:11:12Z')).toBe(t);
    expect(anyTime('05/Mar/2024:10:11:12 +0000')).toBe(t);
    expect(anyTime('[05/Mar/2024:11:11:12 +0100]')).toBe(t);
    expect(anyTime(t / 1000)).toBe(t);
    expect(anyTime(t)).toBe(t);
    expect(anyTime(t * 1000)).toBe(t);
    expect(anyTime(t * 1e6)).toBe(t);
    expect(anyTime(String(t / 1000))).toBe(t);
    for (const junk of ['soon', '', 'yesterday at noon', null, true, {}, -5]) expect(anyTime(junk)).toBeNaN();
  });
});

describe('IsoTimeParser', () => {
  it('gives exactly what parseIsoTime gives, cache hit or miss', () => {
    const p = new IsoTimeParser();
    const cases = [
      '2024-03-05T10:11:12Z',
      '2024-03-05T10:11:12.3Z',
      '2024-03-05T10:11:12.34Z',
      '2024-03-05T10:11:12.345Z',
      '2024-03-05T10:11:12.345678901Z',
      '2024-03-05T10:11:12.999999+01:00',
      '2024-03-05T10:11:12.5-08:30',
      '2024-03-05T10:11:12+00:00',
      '2024-03-05T10:11:12.Z',
      '2024-03-05T10:11:12.123',
      '2024-03-05T10:11:12+1:00',
      '2024-03-05T10:11:12+24:00',
      '2024-03-05T10:11:12.1Zjunk',
      '2024-03-05T10:11:12 ',
      '2024-03-05T10:11Z',
      '2024-03-05T10:11+01:00',
      '2024-02-30T10:11:12Z',
      '2024-03-05T25:11:12Z',
      '2024-13-05T10:11:12.000Z',
      '2024-03-05 10:11:12Z',
      '2024-03-05',
      'xxxx-03-05T10:11:12Z',
      '',
    ];
    for (let round = 0; round < 2; round++) {
      for (const s of cases) expect([s, p.parse(s)]).toEqual([s, parseIsoTime(s)]);
    }
    // Same second, different fractions and zones: the cached prefix must not leak between them.
    expect(p.parse('2024-03-05T10:11:12.001Z')).toBe(Date.UTC(2024, 2, 5, 10, 11, 12, 1));
    expect(p.parse('2024-03-05T10:11:12.002+02:00')).toBe(Date.UTC(2024, 2, 5, 8, 11, 12, 2));
    expect(p.parse('2024-03-05T10:11:13.000Z')).toBe(Date.UTC(2024, 2, 5, 10, 11, 13));
  });
});

describe('detection', () => {
  it('each preset recognizes its own lines and no other preset does', () => {
    for (const spec of PRESETS) {
      for (const [name, sample] of Object.entries(SAMPLES)) {
        expect([spec.name, name, spec.detect!(sample)]).toEqual([
          spec.name,
          name,
          spec.name === name ? 1 : 0,
        ]);
      }
    }
  });

  it('is not fooled by non-JSON input and ignores a cut last line', () => {
    const nginx = '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "curl"\n';
    for (const spec of PRESETS) expect(spec.detect!(nginx)).toBe(0);
    const cut = `${SAMPLES.kong}${goodLines('kong-basic', 1).slice(0, 50)}`;
    expect(kongFormat.detect!(cut)).toBe(1);
    expect(detectJsonLines('', () => true)).toBe(0);
  });

  it('scores the share of matching lines', () => {
    const mixed = `${goodLines('apisix-basic', 1)}\n{"other":1}\n`;
    expect(apisixFormat.detect!(mixed)).toBe(0.5);
  });

  it('the generic json format needs a mapping and is never auto-detected', () => {
    expect(jsonMappingFormat.requires).toBe('jsonMapping');
    expect(jsonMappingFormat.detect).toBeUndefined();
  });
});

describe('identities and redaction', () => {
  it('APISIX: a bearer JWT becomes a 16-hex token id and its sub the user; the raw token appears nowhere', () => {
    for (const captureHeaders of [false, true]) {
      const e = ok(
        line(apisixFormat, apisix({ headers: { authorization: `Bearer ${JWT}` } }), { captureHeaders }),
      );
      expect(e.token).toMatch(/^[0-9a-f]{16}$/);
      expect(e.token).toBe(tokenId(JWT));
      expect(e.user).toBe('sub-777');
      const json = JSON.stringify(e);
      expect(json).not.toContain(JWT);
      for (const part of JWT.split('.')) expect(json).not.toContain(part);
      expect(e.requestHeaders === undefined).toBe(!captureHeaders);
    }
  });

  it('Traefik: a bearer JWT in request_Authorization, same guarantees', () => {
    const text = JSON.stringify({
      ClientHost: '192.0.2.1',
      StartUTC: '2024-03-05T10:11:12.000000001Z',
      RequestMethod: 'GET',
      RequestPath: '/me',
      DownstreamStatus: 200,
      request_Authorization: `Bearer ${JWT}`,
    });
    const e = ok(line(traefikFormat, text, { captureHeaders: true }));
    expect([e.token, e.user]).toEqual([tokenId(JWT), 'sub-777']);
    for (const part of JWT.split('.')) expect(JSON.stringify(e)).not.toContain(part);
  });

  it('Traefik: identity headers are found with and without header capture', () => {
    const text = JSON.stringify({
      ClientHost: '192.0.2.1',
      StartUTC: '2024-03-05T10:11:12Z',
      RequestMethod: 'GET',
      RequestPath: '/',
      DownstreamStatus: 200,
      'request_X-Api-Key': 'key-123456',
      'request_X-Client-Id': 'cli-9',
      'request_User-Agent': 'UA/2',
      request_Cookie: 'lang=en',
      'downstream_Content-Type': 'text/plain',
    });
    for (const captureHeaders of [false, true]) {
      const e = ok(line(traefikFormat, text, { captureHeaders, deviceHeader: 'x-client-id' }));
      expect([e.token, e.device, e.userAgent]).toEqual([tokenId('key-123456'), 'cli-9', 'UA/2']);
      expect(e.responseHeaders).toEqual(captureHeaders ? { 'content-type': 'text/plain' } : undefined);
    }
    expect(['x-api-key', 'USER-AGENT', 'apikey', 'x-real-ip'].map(canonicalHeaderKey)).toEqual([
      'X-Api-Key',
      'User-Agent',
      'Apikey',
      'X-Real-Ip',
    ]);
  });

  it('Kong: the consumer is the user, and a REDACTED Authorization is no credential', () => {
    const kong = (consumer: unknown, headers: Record<string, string> = {}) =>
      JSON.stringify({
        client_ip: '198.51.100.4',
        started_at: 1709633472123,
        latencies: { request: 9, kong: 1, proxy: 8 },
        request: { method: 'GET', uri: '/x', headers: { host: 'h', ...headers }, size: 10 },
        response: { status: 200, headers: {}, size: 20 },
        consumer,
      });
    const e = ok(
      line(kongFormat, kong({ id: 'c-1', username: 'mobile-app' }, { authorization: 'REDACTED' })),
    );
    expect([e.user, e.token]).toEqual(['mobile-app', null]);
    expect(ok(line(kongFormat, kong({ id: 'c-2', custom_id: 'ext-9' }))).user).toBe('ext-9');
    expect(ok(line(kongFormat, kong({ id: 'c-3' }))).user).toBe('c-3');
    expect(ok(line(kongFormat, kong(undefined))).user).toBeNull();
    // A JWT's sub outranks the consumer, as for every format.
    expect(ok(line(kongFormat, kong({ username: 'app' }, { authorization: `Bearer ${JWT}` }))).user).toBe(
      'sub-777',
    );
  });

  it('keeps header names that shadow Object.prototype members as plain data', () => {
    const text = apisix({ headers: { constructor: 'c', 'x-device-id': 'dev-7' } });
    const e = ok(line(apisixFormat, text, { captureHeaders: true, deviceHeader: 'constructor' }));
    expect(e.device).toBe('c');
    expect(e.requestHeaders!.constructor).toBe('c');
    // Without a constructor header, the device header lookup must not find Object.prototype.constructor.
    expect(ok(line(apisixFormat, apisix(), { deviceHeader: 'constructor' })).device).toBeNull();
  });

  it('copies non-lower-case or non-string header maps entry by entry', () => {
    const text = apisix({
      headers: { 'User-Agent': 'UA/1', Accept: ['a', 'b'], Cookie: ['x=1', 'sid=s-9'] },
    });
    const e = ok(line(apisixFormat, text, { captureHeaders: true }));
    expect(e.userAgent).toBe('UA/1');
    expect(e.requestHeaders!.accept).toBe('a, b');
    expect(e.token).toBe(tokenId('s-9'));
  });

  it('resolves X-Forwarded-For only through a trusted (private) peer', () => {
    const xff = { 'x-forwarded-for': '203.0.113.99, 10.0.0.7' };
    expect(ok(line(apisixFormat, apisix({ client: '10.1.2.3', headers: xff }))).ip).toBe('203.0.113.99');
    expect(ok(line(apisixFormat, apisix({ client: '198.51.100.200', headers: xff }))).ip).toBe(
      '198.51.100.200',
    );
    const envoy = (peer: string) =>
      JSON.stringify({
        start_time: '2024-03-05T10:11:12Z',
        method: 'GET',
        path: '/',
        response_code: 200,
        x_forwarded_for: '203.0.113.99',
        downstream_remote_address: peer,
      });
    expect(ok(line(envoyFormat, envoy('[fd00::5]:4000'))).ip).toBe('203.0.113.99');
    expect(ok(line(envoyFormat, envoy('192.0.2.50:4000'))).ip).toBe('192.0.2.50');
  });

  it('Cloudflare: custom header and cookie fields feed device and token', () => {
    const e = ok(
      line(
        cloudflareFormat,
        JSON.stringify({
          ClientIP: '192.0.2.9',
          EdgeStartTimestamp: '2024-03-05T10:11:12Z',
          EdgeResponseStatus: 200,
          ClientRequestURI: '/',
          RequestHeaders: { 'x-api-key': 'key-abcdef', 'x-device-id': 'd-1' },
          Cookies: { device_id: 'ignored-header-wins' },
        }),
      ),
    );
    expect([e.token, e.device]).toEqual([tokenId('key-abcdef'), 'd-1']);
  });
});

describe('bodies', () => {
  const withBodies = (req: string, res: string) =>
    JSON.stringify({
      client_ip: '198.51.100.4',
      start_time: 1709633472123,
      latency: 5,
      request: { method: 'POST', uri: '/login', headers: { host: 'h' }, size: 100, body: req },
      response: { status: 200, headers: {}, size: 300, body: res },
    });

  it('APISIX bodies are kept only with captureBodies, redacted and cut at maxBodyBytes', () => {
    const text = withBodies('{"user":"bob","password":"p@ss-w0rd"}', 'r'.repeat(50));
    const off = ok(line(apisixFormat, text));
    expect(off.requestBody).toBeUndefined();
    expect(off.responseBody).toBeUndefined();
    const on = ok(line(apisixFormat, text, { captureBodies: true, maxBodyBytes: 40 }));
    expect(on.requestBody).toBe('{"user":"bob","password":"[redacted]"}');
    expect(on.responseBody).toBe('r'.repeat(40));
    expect(on.bodyTruncated).toBe(true);
    expect(JSON.stringify(on)).not.toContain('p@ss-w0rd');
  });
});

describe('required fields and bad values', () => {
  it('names the missing field', () => {
    const cases: [FormatSpec, unknown, string][] = [
      [apisixFormat, { start_time: 1, request: {}, response: { status: 200 } }, 'client_ip'],
      [
        apisixFormat,
        { client_ip: '1.2.3.4', start_time: 1709633472123, response: { status: 200 } },
        'request',
      ],
      [
        apisixFormat,
        { client_ip: '1.2.3.4', start_time: 1709633472123, request: {}, response: {} },
        'response.status',
      ],
      [kongFormat, { client_ip: '1.2.3.4', started_at: 1709633472123, request: {} }, 'response'],
      [envoyFormat, { response_code: 200, downstream_remote_address: '1.2.3.4:5' }, 'start_time'],
      [traefikFormat, { StartUTC: '2024-03-05T10:11:12Z', DownstreamStatus: 200 }, 'ClientHost'],
      [cloudflareFormat, { EdgeStartTimestamp: 1709633472, EdgeResponseStatus: 200 }, 'ClientIP'],
    ];
    for (const [spec, o, field] of cases) {
      const m = bad(line(spec, JSON.stringify(o)));
      expect([spec.name, m.reason, m.detail]).toEqual([
        spec.name,
        'missing_field',
        `missing field '${field}'`,
      ]);
    }
  });

  it('reports unparseable times and statuses', () => {
    expect(bad(line(kongFormat, '{"client_ip":"1.2.3.4","started_at":"later"}')).reason).toBe(
      'bad_timestamp',
    );
    const s = '{"ClientIP":"1.2.3.4","EdgeStartTimestamp":1709633472,"EdgeResponseStatus":"2xx"}';
    expect(bad(line(cloudflareFormat, s)).reason).toBe('bad_status');
  });

  it('missing optional fields give nulls, not errors', () => {
    const e = ok(
      line(
        envoyFormat,
        '{"start_time":"2024-03-05T10:11:12Z","response_code":200,"x_forwarded_for":"192.0.2.4"}',
      ),
    );
    expect(e).toMatchObject({
      ip: '192.0.2.4',
      method: '-',
      path: '-',
      host: null,
      latencyMs: null,
      bytesOut: null,
    });
    const t = ok(
      line(
        traefikFormat,
        '{"ClientAddr":"192.0.2.4:999","StartUTC":"2024-03-05T10:11:12Z","DownstreamStatus":404}',
      ),
    );
    expect(t).toMatchObject({ ip: '192.0.2.4', status: 404, latencyMs: null, userAgent: null, user: null });
  });

  it('never throws, whatever the line', () => {
    const lines = Object.values(SAMPLES).join('').split('\n');
    const junk = ['', ' ', '{}', '[]', '{"request":null,"response":[]}', '\u0000', '{"__proto__":{"x":1}}'];
    for (const spec of [...PRESETS]) {
      const p = spec.create(context({}, { captureBodies: true, captureHeaders: true })) as LineParser;
      for (const l of [...lines, ...junk]) {
        for (let cut = 0; cut <= l.length; cut += 7) {
          expect(() => p.parseLine(l.slice(0, cut), origin)).not.toThrow();
        }
      }
    }
  });
});

describe('json mapping', () => {
  it('validates: unknown keys are named with the valid ones listed', () => {
    const errors = validateJsonMapping({ ts: 't', ip: 'i', status: 's', latency: 'x' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("unknown key 'latency'");
    for (const k of Object.keys(MAPPABLE_KEYS)) expect(errors[0]).toContain(k);
  });

  it('validates: required keys, one unit per field, path syntax', () => {
    expect(validateJsonMapping({ ts: 't', ip: 'i', status: 's' })).toEqual([]);
    const e = validateJsonMapping({
      ts: 't',
      tsMs: 'u',
      latencyMs: 'a',
      latencySeconds: 'b',
      method: '',
      host: 'a..b',
    });
    expect(e.join('\n')).toMatch(/only one of ts, tsMs/);
    expect(e.join('\n')).toMatch(/only one of latencyMs, latencySeconds/);
    expect(e.join('\n')).toMatch(/'ip' is required/);
    expect(e.join('\n')).toMatch(/'status' is required/);
    expect(e.join('\n')).toMatch(/jsonMapping.method: expected a field path/);
    expect(e.join('\n')).toMatch(/jsonMapping.host: 'a..b' is not a field path/);
    expect(validateJsonMapping({ ip: 'i', status: 's' })[0]).toMatch(/no event time mapped/);
  });

  it('a bad mapping is refused when the parser is built, with the reasons', () => {
    const build = (jsonMapping?: Record<string, string>) => () =>
      jsonMappingFormat.create(context({ jsonMapping }));
    expect(build({ ts: 't', ip: 'i', statuss: 's' })).toThrow(/unknown key 'statuss'.*'status' is required/);
    expect(build(undefined)).toThrow(/mapping is required/);
    expect(build({ ts: 't', ip: 'i', status: 's' })).not.toThrow();
  });

  it('compiled paths read nested values, literal dotted keys and array indexes', () => {
    expect(compilePath('a.b.c')({ a: { b: { c: 1 } } })).toBe(1);
    expect(compilePath('http.status')({ 'http.status': 2 })).toBe(2);
    expect(compilePath('a.b.c')({ a: { 'b.c': 3 } })).toBe(3);
    expect(compilePath('a.1')({ a: [9, 8] })).toBe(8);
    expect(compilePath('a.b.c')({ a: 'str' })).toBeUndefined();
    expect(compilePath('a.b')({ a: null })).toBeUndefined();
  });

  it('reads units from the key, headers as arrays, bodies when capturing', () => {
    const mapping = {
      tsNs: 'ts',
      ip: 'peer',
      requestLine: 'rl',
      status: 'st',
      latencySeconds: 'dur',
      headers: 'hdrs',
      requestBody: 'body',
      consumer: 'app',
    };
    const text = JSON.stringify({
      ts: 1709633472123000000,
      peer: '198.51.100.3:4431',
      rl: 'POST /v1/x?y=1 HTTP/1.1',
      st: 201,
      dur: 0.0125,
      hdrs: [
        { name: 'Host', value: 'Api.Example.com' },
        { name: 'Cookie', value: 'a=1' },
        { name: 'Cookie', value: 'device_id=dv' },
      ],
      body: { password: 'x' },
      app: 'svc-a',
    });
    const e = ok(line(jsonMappingFormat, text, { captureBodies: true }, mapping));
    expect(e).toMatchObject({
      ts: 1709633472123,
      ip: '198.51.100.3',
      method: 'POST',
      host: 'api.example.com',
      path: '/v1/x',
      status: 201,
      latencyMs: 12.5,
      device: 'dv',
      user: 'svc-a',
      protocol: 'HTTP/1.1',
      requestBody: '{"password":"[redacted]"}',
    });
  });

  it('names the mapped path of a missing field', () => {
    const m = bad(
      line(
        jsonMappingFormat,
        '{"t":"2024-03-05T10:11:12Z","s":200}',
        {},
        { ts: 't', ip: 'who.ip', status: 's' },
      ),
    );
    expect([m.reason, m.detail]).toEqual(['missing_field', "missing field 'who.ip' (mapped to ip)"]);
  });
});
