/**
 * Actor identities from credentials. A credential is identified ONLY by the first 16 hex chars of its
 * SHA-256: the raw value never leaves this module (it is not stored, logged or printed).
 */
import { createHash } from 'node:crypto';

/** First 16 hex chars of SHA-256 of the credential. */
export function tokenId(credential: string): string {
  return createHash('sha256').update(credential).digest('hex').slice(0, 16);
}

/** The text that replaces a credential wherever it is kept (query, headers): `[token:<id>]`. */
export const tokenMarker = (id: string): string => `[token:${id}]`;

export interface Credential {
  /** tokenId of the credential. */
  id: string;
  /** The JWT `sub` claim, or the Basic-auth user name, when present. */
  subject: string | null;
}

const MAX_SUBJECT = 256;

/** Decodes a JWT's payload (not verified: identification only) and returns `sub` as a string. */
export function jwtSubject(jwt: string): string | null {
  const a = jwt.indexOf('.');
  const b = a === -1 ? -1 : jwt.indexOf('.', a + 1);
  if (a <= 0 || b === -1 || jwt.indexOf('.', b + 1) !== -1) return null;
  try {
    const payload = JSON.parse(Buffer.from(jwt.slice(a + 1, b), 'base64url').toString('utf8')) as unknown;
    if (payload && typeof payload === 'object' && 'sub' in payload) {
      const sub = (payload as { sub: unknown }).sub;
      if (typeof sub === 'string' && sub !== '') return sub.slice(0, MAX_SUBJECT);
      if (typeof sub === 'number' && Number.isFinite(sub)) return String(sub);
    }
  } catch {
    // Not a JWT after all: it is still a credential, just without a subject.
  }
  return null;
}

/** Memoizes credential → identity; bounded, because attackers can send endless distinct tokens. */
export class CredentialCache {
  // One map per scheme, so a lookup needs no key string built per line.
  private readonly maps = new Map<string, Map<string, Credential>>();
  constructor(private readonly max = 65_536) {}

  /** `scheme` is the Authorization scheme lower-cased (`bearer`, `basic`) or `` for keys and cookies. */
  identify(scheme: string, value: string): Credential {
    let map = this.maps.get(scheme);
    if (map === undefined) {
      map = new Map();
      this.maps.set(scheme, map);
    }
    let c = map.get(value);
    if (c === undefined) {
      let subject: string | null = null;
      if (scheme === 'basic') subject = basicUser(value);
      else if (scheme === 'bearer' || scheme === '') subject = jwtSubject(value);
      c = { id: tokenId(value), subject };
      if (map.size >= this.max) map.clear();
      map.set(value, c);
    }
    return c;
  }
}

/** The user name of a Basic credential (`base64(user:password)`); the password is never returned. */
export function basicUser(b64: string): string | null {
  try {
    const s = Buffer.from(b64, 'base64').toString('utf8');
    const colon = s.indexOf(':');
    return colon > 0 ? s.slice(0, Math.min(colon, MAX_SUBJECT)) : null;
  } catch {
    return null;
  }
}

/** Parses a Cookie header into a null-prototype map (first occurrence of a name wins, as servers do). */
export function parseCookies(header: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || name in out) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
    out[name] = v;
  }
  return out;
}

/** A Cookie header with every value replaced (values may be sessions); names stay for analysis. */
export function redactCookieHeader(header: string, keep: ReadonlySet<string>): string {
  return header
    .split(';')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part.trim();
      const name = part.slice(0, eq).trim();
      return keep.has(name.toLowerCase()) ? part.trim() : `${name}=[redacted]`;
    })
    .join('; ');
}

/** Set-Cookie header(s) with each value replaced, attributes kept; repeated headers are `\n`-joined. */
export function redactSetCookie(header: string): string {
  return header
    .split('\n')
    .map((one) => {
      const eq = one.indexOf('=');
      if (eq === -1) return one;
      const semi = one.indexOf(';', eq);
      return `${one.slice(0, eq)}=[redacted]${semi === -1 ? '' : one.slice(semi)}`;
    })
    .join('\n');
}

const BODY_SECRET_KEYS =
  'password|passwd|pwd|pass|secret|client_secret|access_token|refresh_token|id_token|api_key|apikey|otp|pin|cvv|cvc';
const JSON_SECRET = new RegExp(`("(?:${BODY_SECRET_KEYS})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
const FORM_SECRET = new RegExp(`(^|&)(${BODY_SECRET_KEYS})=[^&]*`, 'gi');

/** Replaces password-like fields in JSON and form bodies with `[redacted]` before a body is kept. */
export function redactBody(body: string): string {
  return body.replace(JSON_SECRET, '$1"[redacted]"').replace(FORM_SECRET, '$1$2=[redacted]');
}

const SCRUB_AUTH = /\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{6,}/gi;
const SCRUB_JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/**
 * Best-effort removal of credentials from a raw line that is kept for humans (the quarantine file):
 * Authorization values, JWTs, and the values of credential query keys and cookies.
 */
export function secretScrubber(queryKeys: readonly string[]): (line: string) => string {
  const keys = queryKeys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const query = keys === '' ? null : new RegExp(`([?&;\\s"](?:${keys})=)[^&\\s";]+`, 'gi');
  return (line) => {
    const s = line.replace(SCRUB_AUTH, '$1 [redacted]').replace(SCRUB_JWT, '[redacted-jwt]');
    return query ? s.replace(query, '$1[redacted]') : s;
  };
}
