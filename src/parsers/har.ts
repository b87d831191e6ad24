/**
 * HAR 1.2 (HTTP Archive, as browsers' dev tools, proxies like mitmproxy / Charles / ZAP and API clients
 * export): one JSON document, `log.entries[]`, each entry one request → one event with `origin.line` = the
 * entry's 1-based index.
 *
 *   {"log":{"version":"1.2","creator":{…},"entries":[{"startedDateTime":"2024-03-05T10:11:12.345+01:00",
 *     "time":87.3,"request":{"method":"POST","url":"https://api.example.com/v1/login?x=1","httpVersion":"HTTP/1.1",
 *     "headers":[{"name":"Host","value":"api.example.com"}],"queryString":[…],"cookies":[…],
 *     "postData":{"mimeType":"application/json","text":"{…}"},"headersSize":312,"bodySize":41},
 *     "response":{"status":200,"headers":[…],"content":{"size":512,"mimeType":"application/json","text":"…"},
 *     "bodySize":230,…},"serverIPAddress":"93.184.216.34",…}]}}
 *
 * - ts = `startedDateTime`; latencyMs = `time` (the entry's total, ms).
 * - Client IP: a HAR is recorded on the client and never says the client's address (`serverIPAddress` is
 *   the server's). Every event gets the placeholder 0.0.0.0 — the unspecified address ("this host"), which
 *   no real client can have and which is not a trusted proxy, so X-Forwarded-For headers in the capture are
 *   not believed. All entries of a HAR therefore share one IP actor, which is what they are: one client.
 * - target = `request.url` (absolute: the host comes from it unless a Host header says otherwise);
 *   `queryString[]` repeats the URL's query and is not read. HTTP/2 pseudo-headers (`:authority`, …) are
 *   skipped; repeated headers are joined.
 * - `request.cookies[]` fill the cookies when present (else the Cookie header is used).
 * - bytesIn = `request.bodySize`; bytesOut = `response.bodySize`, else `response.content.size` (-1 = unknown).
 * - protocol = `httpVersion`, upper-cased (`h2` / `h3` as dev tools write them become `HTTP/2` / `HTTP/3`).
 * - Bodies (only read when body capture is on): `request.postData.text`, `response.content.text`
 *   (base64-encoded content is decoded when its mimeType is textual, else left out).
 * - Errors: a document that is not JSON or has no `log.entries` array is one `bad_har` at position 1; an
 *   entry that cannot be an event is reported at its index and the other entries still parse.
 */
import type { ApiEvent } from '../core/event.js';
import { EventDraft, type Normalizer } from '../core/normalize.js';
import { isMalformed, Malformed } from '../core/result.js';
import { IsoTimeParser } from './json/common.js';
import type { DocumentParser, DocumentSink, FormatSpec, ParserContext } from './types.js';

/** The client address every HAR event gets (see above). */
export const HAR_CLIENT_IP = '0.0.0.0';

/** Characters of a bad entry kept as the malformed sample. */
const SAMPLE_CHARS = 1024;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

const TEXTUAL =
  /^(?:text\/|application\/(?:[\w.+-]*\+)?(?:json|xml|x-www-form-urlencoded|javascript|graphql)\b)/i;

function protocolOf(v: unknown): string | null {
  const s = str(v);
  if (s === null || s === '' || s === 'unknown') return null;
  const l = s.toLowerCase();
  if (l === 'h2' || l === 'http/2') return 'HTTP/2';
  if (l === 'h3' || l === 'http/3') return 'HTTP/3';
  return l.startsWith('http/') ? s.toUpperCase() : s;
}

/** Adds a header, joining a repeated one as HTTP does (cookies with `; `, Set-Cookie one per line). */
function addHeader(d: EventDraft, name: string, value: string, response: boolean): void {
  const map = response ? d.responseHeaders : d.headers;
  const prev = map === null ? undefined : map[name];
  const v =
    prev === undefined
      ? value
      : `${prev}${name === 'cookie' ? '; ' : name === 'set-cookie' ? '\n' : ', '}${value}`;
  if (response) d.setResponseHeader(name, v);
  else d.setHeader(name, v);
}

function copyHeaders(d: EventDraft, list: unknown, response: boolean): void {
  if (!Array.isArray(list)) return;
  for (const h of list) {
    const o = obj(h);
    if (o === null) continue;
    const name = str(o.name);
    const value = str(o.value);
    if (name === null || value === null || name === '' || name.charCodeAt(0) === 58 /* : */) continue;
    addHeader(d, name.toLowerCase(), value, response);
  }
}

export class HarParser implements DocumentParser {
  readonly format = 'har';
  readonly framing = 'document' as const;
  private readonly draft = new EventDraft();
  private readonly time = new IsoTimeParser();
  private readonly bodies: boolean;

  constructor(private readonly normalizer: Normalizer) {
    this.bodies = normalizer.options.captureBodies;
  }

  parseDocument(doc: string, source: string, sink: DocumentSink): void {
    let root: unknown;
    try {
      root = JSON.parse(doc.charCodeAt(0) === 0xfeff ? doc.slice(1) : doc);
    } catch {
      sink.malformed(
        1,
        new Malformed('bad_har', 'the document is not valid JSON'),
        doc.slice(0, SAMPLE_CHARS),
      );
      return;
    }
    const log = obj(obj(root)?.log);
    const entries = log?.entries;
    if (!Array.isArray(entries)) {
      sink.malformed(
        1,
        new Malformed(
          'bad_har',
          log === null ? "no 'log' object: not a HAR document" : "no 'log.entries' array",
        ),
        doc.slice(0, SAMPLE_CHARS),
      );
      return;
    }
    for (let i = 0; i < entries.length; i++) {
      const r = this.entry(entries[i], source, i + 1);
      if (isMalformed(r)) {
        sink.malformed(i + 1, r, (JSON.stringify(entries[i]) ?? String(entries[i])).slice(0, SAMPLE_CHARS));
      } else {
        sink.event(r);
      }
    }
  }

  /** One entry → event. Exposed for tests. */
  entry(e: unknown, source: string, index: number): ApiEvent | Malformed {
    const en = obj(e);
    if (en === null) return new Malformed('not_an_object', `entry ${index} is not an object`);
    const started = str(en.startedDateTime);
    if (started === null || started === '')
      return new Malformed('missing_field', "missing field 'startedDateTime'");
    const ts = this.time.parse(started);
    if (Number.isNaN(ts)) {
      return new Malformed('bad_timestamp', `startedDateTime '${started.slice(0, 40)}' is not ISO 8601`);
    }
    const req = obj(en.request);
    if (req === null) return new Malformed('missing_field', "missing field 'request'");
    const url = str(req.url);
    if (url === null || url === '') return new Malformed('missing_field', "missing field 'request.url'");
    const res = obj(en.response);
    if (res === null) return new Malformed('missing_field', "missing field 'response'");
    if (res.status === undefined || res.status === null) {
      return new Malformed('missing_field', "missing field 'response.status'");
    }

    const d = this.draft.reset();
    d.ts = ts;
    d.peer = HAR_CLIENT_IP;
    d.status = num(res.status);
    d.method = str(req.method);
    d.target = url;
    d.protocol = protocolOf(req.httpVersion);
    d.latencyMs = num(en.time);
    d.bytesIn = num(req.bodySize);
    const content = obj(res.content);
    const bodySize = num(res.bodySize);
    d.bytesOut = bodySize >= 0 ? bodySize : content === null ? Number.NaN : num(content.size);
    copyHeaders(d, req.headers, false);
    copyHeaders(d, res.headers, true);
    const h = d.headers;
    if (h !== null) {
      d.userAgent = h['user-agent'] ?? null;
      d.referer = h.referer ?? null;
    }
    if (Array.isArray(req.cookies) && req.cookies.length > 0) {
      for (const c of req.cookies) {
        const co = obj(c);
        const name = co === null ? null : str(co.name);
        const value = co === null ? null : str(co.value);
        if (name === null || value === null || name === '') continue;
        if (d.cookies === null) d.cookies = Object.create(null) as Record<string, string>;
        if (!(name in d.cookies)) d.cookies[name] = value;
      }
    }
    if (this.bodies) {
      d.requestBody = str(obj(req.postData)?.text);
      if (content !== null) {
        const text = str(content.text);
        if (text !== null && content.encoding === 'base64') {
          const mime = str(content.mimeType);
          d.responseBody =
            mime !== null && TEXTUAL.test(mime) ? Buffer.from(text, 'base64').toString('utf8') : null;
        } else {
          d.responseBody = text;
        }
      }
    }
    return this.normalizer.finalize(d, { source, line: index });
  }
}

/**
 * A HAR document: a JSON object whose `log` holds `entries` (or, in a cut sample, at least the `version` /
 * `creator` HAR writers put first).
 */
export function detectHar(sample: string): number {
  const head = sample.slice(0, 4096);
  const m = /^\uFEFF?\s*\{\s*"log"\s*:\s*\{/.exec(head);
  if (m !== null) {
    return /"entries"\s*:\s*\[/.test(sample) || /"creator"\s*:\s*\{/.test(head) ? 1 : 0.8;
  }
  // `log` not first (a writer that sorts keys, or a wrapper object): ask for several HAR-only keys.
  if (!/^\uFEFF?\s*\{/.test(head)) return 0;
  let keys = 0;
  for (const k of ['"log"', '"entries"', '"startedDateTime"', '"httpVersion"', '"headersSize"']) {
    if (sample.includes(k)) keys++;
  }
  return keys >= 4 ? 0.9 : 0;
}

export const harFormat: FormatSpec = {
  name: 'har',
  description: 'HAR 1.2 HTTP archive (browser dev tools, proxies); one document, one event per entry',
  framing: 'document',
  create: (ctx: ParserContext) => new HarParser(ctx.normalizer),
  detect: detectHar,
};
