/**
 * Turning what a parser extracted into an ApiEvent. Parsers only cut fields out of their format into a
 * reusable EventDraft; everything that must be the same for every format — request-line splitting, path
 * normalization, query parsing, trusted-proxy resolution, identities, redaction, capture — happens here once.
 */
import type { ApiEvent, Origin, QueryParams } from './event.js';
import {
  type Credential,
  CredentialCache,
  jwtSubject,
  parseCookies,
  redactBody,
  redactCookieHeader,
  redactSetCookie,
  tokenMarker,
} from './identity.js';
import { CidrSet, resolveClientIp } from './net.js';
import { DEFAULT_EVENT_OPTIONS, type EventOptions } from './options.js';
import { normalizeHost, normalizePath, parseQuery, splitTarget } from './path.js';
import { Malformed } from './result.js';

/**
 * A mutable scratch record that a parser fills for one line. One instance is reused for every line (call
 * `reset()` first), so a parser allocates nothing but the strings it cuts out.
 */
export class EventDraft {
  /** Event time in ms UTC; NaN when the record has none (→ `bad_timestamp`). */
  ts = Number.NaN;
  /** The connecting peer as logged (`$remote_addr`, `%a`/`%h`), without port. */
  peer = '';
  /** Raw X-Forwarded-For, when the format logs it outside `headers`. */
  forwardedFor: string | null = null;
  /** Raw X-Real-IP, when the format logs it outside `headers`. */
  realIp: string | null = null;
  /** The whole request line (`GET /a?b HTTP/1.1`), for formats that log only that. */
  requestLine: string | null = null;
  method: string | null = null;
  /** The request-target in any form (origin, absolute, authority, `*`), query included. */
  target: string | null = null;
  /** Path and query as separate fields, for formats that log them apart (used when `target` is null). */
  path: string | null = null;
  queryString: string | null = null;
  host: string | null = null;
  protocol: string | null = null;
  status = Number.NaN;
  bytesOut = Number.NaN;
  bytesIn = Number.NaN;
  latencyMs = Number.NaN;
  userAgent: string | null = null;
  referer: string | null = null;
  /** Authenticated user as the server logged it (`$remote_user`, `%u`). */
  remoteUser: string | null = null;
  /** Gateway consumer (Kong, APISIX). */
  consumer: string | null = null;
  /** Request headers, lower-case names. */
  headers: Record<string, string> | null = null;
  /** Response headers, lower-case names. */
  responseHeaders: Record<string, string> | null = null;
  /** Individual cookies (nginx `$cookie_NAME`). */
  cookies: Record<string, string> | null = null;
  /** Individual query arguments (nginx `$arg_NAME`), merged into the query when absent there. */
  args: Record<string, string> | null = null;
  requestBody: string | null = null;
  responseBody: string | null = null;

  reset(): this {
    this.ts = Number.NaN;
    this.peer = '';
    this.forwardedFor = null;
    this.realIp = null;
    this.requestLine = null;
    this.method = null;
    this.target = null;
    this.path = null;
    this.queryString = null;
    this.host = null;
    this.protocol = null;
    this.status = Number.NaN;
    this.bytesOut = Number.NaN;
    this.bytesIn = Number.NaN;
    this.latencyMs = Number.NaN;
    this.userAgent = null;
    this.referer = null;
    this.remoteUser = null;
    this.consumer = null;
    this.headers = null;
    this.responseHeaders = null;
    this.cookies = null;
    this.args = null;
    this.requestBody = null;
    this.responseBody = null;
    return this;
  }

  /** Sets a request header (name lower-cased by the caller or here). */
  setHeader(name: string, value: string): void {
    if (this.headers === null) this.headers = Object.create(null) as Record<string, string>;
    this.headers[name.toLowerCase()] = value;
  }

  setResponseHeader(name: string, value: string): void {
    if (this.responseHeaders === null) this.responseHeaders = Object.create(null) as Record<string, string>;
    this.responseHeaders[name.toLowerCase()] = value;
  }
}

/** `-` and empty mean absent in access logs. */
const nz = (s: string | null | undefined): string | null =>
  s === null || s === undefined || s === '' || s === '-' ? null : s;
const num = (n: number): number | null => (Number.isNaN(n) || n < 0 ? null : n);
const MAX_ID = 256;
/** A JWT handed out under a token-ish key of a JSON answer (`"access_token": "eyJ…"`). */
const ISSUED_JWT =
  /"(?:access_token|id_token|token|jwt)"\s*:\s*"(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"/;

function issuedSubject(body: string): string | null {
  if (body.indexOf('eyJ') === -1) return null;
  const m = ISSUED_JWT.exec(body.length > 65_536 ? body.slice(0, 65_536) : body);
  return m === null ? null : jwtSubject(m[1]!);
}
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

export class Normalizer {
  private readonly trusted: CidrSet;
  private readonly creds = new CredentialCache();
  private readonly queryKeys: Set<string>;
  private readonly cookieNames: string[];
  private readonly keepCookies: Set<string>;
  private readonly credentialKeyRe: RegExp;

  constructor(readonly options: EventOptions = DEFAULT_EVENT_OPTIONS) {
    this.trusted = new CidrSet(options.trustedProxies);
    this.queryKeys = new Set(options.credentialQueryKeys.map((k) => k.toLowerCase()));
    this.cookieNames = options.credentialCookies;
    const keys = [...this.queryKeys].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    this.credentialKeyRe = new RegExp(`(?:^|[&;])(?:${keys === '' ? '(?!)' : keys})(?:=|&|;|$)`, 'i');
    this.keepCookies = new Set(options.deviceCookie ? [options.deviceCookie.toLowerCase()] : []);
  }

  /** Validates and normalizes a draft into an event, or says why it cannot be one. */
  finalize(d: EventDraft, origin: Origin): ApiEvent | Malformed {
    if (Number.isNaN(d.ts)) return new Malformed('bad_timestamp', 'no valid event time');
    const status = d.status;
    if (!(status >= 0 && status <= 999) || !Number.isInteger(status)) {
      return new Malformed('bad_status', `status '${d.status}' is not an HTTP status code`);
    }
    const h = d.headers;

    // Request line → method, target, protocol.
    let method = d.method;
    let target = d.target;
    let protocol = d.protocol;
    if (d.requestLine !== null && (target === null || method === null || protocol === null)) {
      const rl = d.requestLine;
      const sp1 = rl.indexOf(' ');
      if (sp1 > 0) {
        const m = rl.slice(0, sp1);
        // Not an HTTP method token (RFC 9110): junk such as TLS bytes sent to a plain-HTTP port.
        if (!METHOD_TOKEN.test(m)) {
          method = '-';
          target = null;
        } else {
          method ??= m;
          const sp2 = rl.lastIndexOf(' ');
          const hasProto = sp2 > sp1 && rl.startsWith('HTTP/', sp2 + 1);
          target ??= hasProto ? rl.slice(sp1 + 1, sp2) : rl.slice(sp1 + 1);
          if (hasProto) protocol ??= rl.slice(sp2 + 1);
        }
      }
    }
    let host = normalizeHost(d.host ?? h?.host);
    let path: string;
    let rawQuery: string | null;
    if (target !== null && target !== '') {
      const st = splitTarget(target);
      if (host === null) host = st.host;
      path = normalizePath(st.path);
      rawQuery = st.query;
    } else if (method !== '-' && nz(d.path) !== null) {
      const st = splitTarget(d.path!);
      if (host === null) host = st.host;
      path = normalizePath(st.path);
      rawQuery = d.queryString ?? st.query;
    } else {
      path = '-';
      rawQuery = null;
    }
    if (path === '-') method = '-';
    method = nz(method) ?? '-';

    const ip = resolveClientIp(
      d.peer,
      d.forwardedFor ?? h?.['x-forwarded-for'] ?? null,
      d.realIp ?? h?.['x-real-ip'] ?? null,
      this.trusted,
    );
    if (ip === '' || ip === '-') return new Malformed('missing_ip', 'no client address');

    let query = parseQuery(rawQuery);
    if (d.args !== null) {
      for (const k in d.args) {
        if (query === null) query = Object.create(null) as QueryParams;
        if (!(k in query) && d.args[k] !== '' && d.args[k] !== '-') query[k] = d.args[k]!;
      }
    }

    // Identities. Credentials, by priority: Authorization, API-key headers, query keys, cookies.
    let cred: Credential | null = null;
    let scheme = '';
    const auth = h === null ? undefined : h.authorization;
    if (auth !== undefined && auth !== '' && auth !== '-') {
      const sp = auth.indexOf(' ');
      scheme = sp === -1 ? '' : auth.slice(0, sp).toLowerCase();
      cred = this.creds.identify(scheme, sp === -1 ? auth : auth.slice(sp + 1).trim());
    }
    if (cred === null && h !== null) {
      for (const name of this.options.apiKeyHeaders) {
        const v = h[name];
        if (v !== undefined && v !== '' && v !== '-') {
          cred = this.creds.identify('', v);
          break;
        }
      }
    }
    // Walk the query only when a credential key could be in it (a regex over the raw string is cheaper).
    const mayHoldCredential =
      rawQuery === null ||
      d.args !== null ||
      rawQuery.indexOf('%') !== -1 ||
      this.credentialKeyRe.test(rawQuery);
    if (query !== null && this.queryKeys.size > 0 && mayHoldCredential) {
      for (const k in query) {
        if (!this.queryKeys.has(k.toLowerCase())) continue;
        const v = query[k]!;
        const first = typeof v === 'string' ? v : v[0]!;
        if (first === '') continue;
        const c = this.creds.identify('', first);
        if (cred === null) cred = c;
        query[k] =
          typeof v === 'string'
            ? tokenMarker(c.id)
            : v.map((x) => tokenMarker(this.creds.identify('', x).id));
      }
    }
    let cookies = d.cookies;
    if (cookies === null && h !== null && h.cookie !== undefined) cookies = parseCookies(h.cookie);
    if (cred === null && cookies !== null) {
      for (const name of this.cookieNames) {
        const v = cookies[name];
        if (v !== undefined && v !== '' && v !== '-') {
          cred = this.creds.identify('', v);
          break;
        }
      }
    }

    let user = cred !== null && scheme !== 'basic' ? cred.subject : null;
    user ??= nz(d.consumer) ?? nz(d.remoteUser) ?? (cred !== null ? cred.subject : null);
    // A request answered with a JWT (a login) authenticated as that token's subject: the link from the
    // address that logged in to the account, even when the token is never used afterwards.
    if (user === null && status >= 200 && status < 300 && d.responseBody !== null)
      user = issuedSubject(d.responseBody);
    let device = h === null ? null : nz(h[this.options.deviceHeader]);
    if (device === null && cookies !== null && this.options.deviceCookie !== null) {
      device = nz(cookies[this.options.deviceCookie]);
    }

    let referer = nz(d.referer ?? h?.referer);
    if (referer !== null && this.queryKeys.size > 0 && referer.indexOf('?') !== -1)
      referer = this.redactUrl(referer);

    const ev: ApiEvent = {
      ts: d.ts,
      ip,
      method,
      host,
      path,
      query,
      status,
      bytesOut: num(d.bytesOut),
      bytesIn: num(d.bytesIn),
      latencyMs: num(d.latencyMs),
      userAgent: nz(d.userAgent ?? h?.['user-agent']),
      referer,
      token: cred === null ? null : cred.id,
      user: user === null ? null : user.slice(0, MAX_ID),
      device: device === null ? null : device.slice(0, MAX_ID),
      protocol: nz(protocol),
      origin,
    };
    if (this.options.captureHeaders) {
      if (h !== null) ev.requestHeaders = this.redactHeaders(h);
      if (d.responseHeaders !== null) ev.responseHeaders = this.redactHeaders(d.responseHeaders);
    }
    if (this.options.captureBodies) {
      const max = this.options.maxBodyBytes;
      // Redact first, then cut: a cut inside a password value would hide it from the pattern.
      if (nz(d.requestBody) !== null) {
        const body = redactBody(d.requestBody!);
        ev.requestBody = body.slice(0, max);
        if (body.length > max) ev.bodyTruncated = true;
      }
      if (nz(d.responseBody) !== null) {
        const body = redactBody(d.responseBody!);
        ev.responseBody = body.slice(0, max);
        if (body.length > max) ev.bodyTruncated = true;
      }
    }
    return ev;
  }

  /** Replaces credential query values in a URL (Referer) by their token marker. */
  private redactUrl(url: string): string {
    const q = url.indexOf('?');
    const parts = url.slice(q + 1).split('&');
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const eq = parts[i]!.indexOf('=');
      if (eq > 0 && this.queryKeys.has(parts[i]!.slice(0, eq).toLowerCase())) {
        parts[i] =
          `${parts[i]!.slice(0, eq + 1)}${tokenMarker(this.creds.identify('', parts[i]!.slice(eq + 1)).id)}`;
        changed = true;
      }
    }
    return changed ? `${url.slice(0, q + 1)}${parts.join('&')}` : url;
  }

  private redactHeaders(h: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (const name in h) {
      const v = h[name]!;
      if (name === 'authorization' || name === 'proxy-authorization') {
        const sp = v.indexOf(' ');
        const scheme = sp === -1 ? '' : v.slice(0, sp);
        const c = this.creds.identify(scheme.toLowerCase(), sp === -1 ? v : v.slice(sp + 1).trim());
        out[name] = scheme === '' ? tokenMarker(c.id) : `${scheme} ${tokenMarker(c.id)}`;
      } else if (this.options.apiKeyHeaders.includes(name)) {
        out[name] = tokenMarker(this.creds.identify('', v).id);
      } else if (name === 'cookie') {
        out[name] = redactCookieHeader(v, this.keepCookies);
      } else if (name === 'set-cookie') {
        out[name] = redactSetCookie(v);
      } else {
        out[name] = v;
      }
    }
    return out;
  }
}
