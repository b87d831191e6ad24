import { describe, expect, it } from 'vitest';
import { context, goldenCases, plain, readCase, runParser } from '../../test/support/golden.js';
import { tokenId } from '../core/identity.js';
import { detectHar, HAR_CLIENT_IP, harFormat } from './har.js';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256' })}.${b64url({ sub: 'har-user' })}.c2lnbmF0dXJlLWhhcg`;

const entry = (over: Record<string, unknown> = {}) => ({
  startedDateTime: '2024-03-05T10:11:12.000Z',
  time: 12.5,
  request: {
    method: 'POST',
    url: 'https://api.example.com/v1/login',
    httpVersion: 'HTTP/1.1',
    headers: [
      { name: 'Host', value: 'api.example.com' },
      { name: 'Authorization', value: `Bearer ${JWT}` },
      { name: 'Accept', value: 'text/html' },
      { name: 'Accept', value: 'application/json' },
    ],
    queryString: [],
    cookies: [],
    postData: { mimeType: 'application/json', text: '{"user":"a","password":"hunter2"}' },
    headersSize: -1,
    bodySize: 34,
  },
  response: {
    status: 200,
    statusText: 'OK',
    httpVersion: 'HTTP/1.1',
    headers: [{ name: 'Content-Type', value: 'application/json' }],
    cookies: [],
    content: {
      size: 11,
      mimeType: 'application/json',
      text: Buffer.from('{"ok":true}').toString('base64'),
      encoding: 'base64',
    },
    redirectURL: '',
    headersSize: -1,
    bodySize: -1,
  },
  cache: {},
  timings: { send: 0, wait: 12, receive: 0.5 },
  ...over,
});
const har = (entries: unknown[]) =>
  JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries } });

describe('har: golden files', () => {
  for (const name of goldenCases('har-')) {
    it(name, () => {
      const expected = JSON.parse(readCase(name, 'expected.json'));
      const got = runParser(
        harFormat.create(context({}, expected.options ?? {})),
        readCase(name, 'input.har'),
      );
      expect(plain(got.events)).toEqual(expected.events);
      expect(got.malformed).toEqual(expected.malformed);
    });
  }
});

describe('har parser', () => {
  it('turns each entry into an event at its 1-based index, with the placeholder client address', () => {
    const got = runParser(harFormat.create(context()), har([entry(), entry({ time: 3 })]), 'x.har');
    expect(got.events.map((e) => e.origin)).toEqual([
      { source: 'x.har', line: 1 },
      { source: 'x.har', line: 2 },
    ]);
    expect(got.events[0]!.ip).toBe(HAR_CLIENT_IP);
    expect(got.events[0]!.ip).toBe('0.0.0.0');
  });

  it('identifies a bearer JWT by hash and sub, and the raw token appears nowhere', () => {
    const { events } = runParser(
      harFormat.create(context({}, { captureHeaders: true, captureBodies: true })),
      har([entry()]),
    );
    const e = events[0]!;
    expect(e.token).toMatch(/^[0-9a-f]{16}$/);
    expect(e.token).toBe(tokenId(JWT));
    expect(e.user).toBe('har-user');
    const json = JSON.stringify(e);
    expect(json).not.toContain(JWT);
    for (const part of JWT.split('.')) expect(json).not.toContain(part);
    expect(json).not.toContain('hunter2');
  });

  it('joins repeated headers, captures bodies and decodes base64 text content', () => {
    const { events } = runParser(
      harFormat.create(context({}, { captureHeaders: true, captureBodies: true })),
      har([entry()]),
    );
    const e = events[0]!;
    expect(e.requestHeaders!.accept).toBe('text/html, application/json');
    expect(e.requestBody).toBe('{"user":"a","password":"[redacted]"}');
    expect(e.responseBody).toBe('{"ok":true}');
    // bodySize -1 (unknown): bytesOut falls back to content.size.
    expect([e.bytesIn, e.bytesOut, e.latencyMs, e.protocol]).toEqual([34, 11, 12.5, 'HTTP/1.1']);
  });

  it('leaves bodies out unless body capture is on, and binary base64 content out always', () => {
    const off = runParser(harFormat.create(context()), har([entry()])).events[0]!;
    expect(off.requestBody).toBeUndefined();
    const png = entry();
    png.response.content = { size: 3, mimeType: 'image/png', text: 'iVBORw==', encoding: 'base64' };
    const on = runParser(harFormat.create(context({}, { captureBodies: true })), har([png])).events[0]!;
    expect(on.responseBody).toBeUndefined();
  });

  it('does not believe X-Forwarded-For from a capture', () => {
    const e = entry();
    e.request.headers.push({ name: 'X-Forwarded-For', value: '198.51.100.1' });
    expect(runParser(harFormat.create(context()), har([e])).events[0]!.ip).toBe('0.0.0.0');
  });

  it('reports a bad entry at its index and still parses the others', () => {
    const got = runParser(
      harFormat.create(context()),
      har([entry(), 'junk', entry({ startedDateTime: 'x' }), entry({ response: undefined }), entry()]),
    );
    expect(got.events.map((e) => e.origin.line)).toEqual([1, 5]);
    expect(got.malformed).toEqual([
      { line: 2, reason: 'not_an_object' },
      { line: 3, reason: 'bad_timestamp' },
      { line: 4, reason: 'missing_field' },
    ]);
  });

  it('reports a document that is not a HAR as one bad_har at position 1', () => {
    for (const doc of ['', 'not json', '{"log":{"version":"1.2"}}', '[1,2]', '{"log":[]}', '{"lo']) {
      expect(runParser(harFormat.create(context()), doc).malformed).toEqual([{ line: 1, reason: 'bad_har' }]);
    }
    expect(runParser(harFormat.create(context()), har([]))).toEqual({ events: [], malformed: [] });
  });

  it('passes a sample of the bad entry to the sink', () => {
    const p = harFormat.create(context());
    if (p.framing !== 'document') throw new Error('HAR is a document format');
    const samples: string[] = [];
    p.parseDocument(har([{ bad: 1 }]), 's', {
      event: () => {},
      malformed: (_p, _m, sample) => samples.push(sample),
    });
    expect(samples).toEqual(['{"bad":1}']);
  });

  it('detects HAR documents, also from a cut sample', () => {
    const doc = readCase('har-basic', 'input.har');
    expect(detectHar(doc)).toBe(1);
    expect(detectHar(doc.slice(0, 200))).toBeGreaterThanOrEqual(0.8);
    expect(detectHar('{"client_ip":"1.2.3.4","start_time":1}\n')).toBe(0);
    expect(detectHar('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326\n')).toBe(0);
  });
});
