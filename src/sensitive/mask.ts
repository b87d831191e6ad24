/**
 * Normalization, masking and hashing of detected values. The normalized value is what is hashed (so the same
 * phone written `+86 138 1234 5678` and `13812345678` counts once); the mask is what people see. A mask never
 * shows more than a few characters of the secret part of a value; keys and tokens keep only their public
 * prefix (`ghp_`, `sk_live_`) and at most their last four characters.
 */
import { createHash, createHmac } from 'node:crypto';
import { countryCodeLength, isCnMobile } from './validators.js';

const stars = (n: number): string => '*'.repeat(Math.max(n, 4));

/**
 * First 16 hex characters of SHA-256 of the normalized value (the same id scheme as `tokenId` for
 * credentials), or of HMAC-SHA-256 when a key is configured. A keyed hash matters for low-entropy values:
 * there are only about 10^9 SSNs and 10^10 mobile numbers, so an unkeyed hash of one can be reversed by trying
 * them all.
 */
export function hashValue(normalized: string, key: Buffer | null = null): string {
  const h = key === null ? createHash('sha256') : createHmac('sha256', key);
  return h.update(normalized).digest('hex').slice(0, 16);
}

function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) out += s[i];
  }
  return out;
}

/** The normalized form of an IPv6 address (RFC 5952: lower-case, no leading zeros, longest zero run `::`). */
export function canonicalIpv6(s: string): string {
  const groups: number[] = [];
  let tail: number[] = [];
  let target = groups;
  let i = 0;
  const n = s.length;
  if (s.startsWith('::')) {
    target = tail;
    i = 2;
  }
  while (i < n) {
    let j = i;
    while (j < n && s.charCodeAt(j) !== 58 && s.charCodeAt(j) !== 46) j++;
    if (j < n && s.charCodeAt(j) === 46) {
      // An embedded IPv4 address fills the last two groups.
      const o = s.slice(i).split('.').map(Number);
      target.push(((o[0]! << 8) | o[1]!) >>> 0, ((o[2]! << 8) | o[3]!) >>> 0);
      break;
    }
    target.push(Number.parseInt(s.slice(i, j), 16));
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      target = tail;
      i = j + 2;
    } else i = j + 1;
  }
  if (target === groups) tail = [];
  const all = [
    ...groups,
    ...new Array<number>(Math.max(0, 8 - groups.length - tail.length)).fill(0),
    ...tail,
  ];
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (all[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && all[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = all.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The base64 body of a PEM block: everything between the markers except whitespace and `\n`-style escapes. */
export function pemBody(s: string): string {
  let i = s.indexOf('-----', 5);
  i = i === -1 ? 0 : i + 5;
  let end = s.indexOf('-----END', i);
  if (end === -1) end = s.length;
  let out = '';
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) {
      i++;
      continue;
    }
    if (
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      c === 43 ||
      c === 47 ||
      c === 61
    )
      out += s[i];
  }
  return out;
}

/** The phone number in E.164 form (`+8613812345678`) from a raw spelling, as the detector normalizes it. */
export function canonicalPhone(raw: string): string {
  const plus = raw.trimStart().startsWith('+');
  const d = digitsOf(raw.replace('(0)', ''));
  if (plus) return `+${d}`;
  if (isCnMobile(d)) return `+86${d}`;
  if (d.length === 13 && d.startsWith('86')) return `+${d}`;
  if (d.length === 10) return `+1${d}`;
  return `+${d}`;
}

/**
 * The normalized value of a raw value of a built-in type, as the detector would normalize what it found. Used
 * by tests and by anything that must hash a known value the way findings are hashed.
 */
export function canonical(type: string, raw: string): string {
  switch (type) {
    case 'email':
      return raw.toLowerCase();
    case 'phone':
      return canonicalPhone(raw);
    case 'cn_id':
    case 'iban':
    case 'passport':
      return raw.replace(/[\s-]/g, '').toUpperCase();
    case 'bank_card':
    case 'us_ssn':
      return digitsOf(raw);
    case 'ipv6':
      return canonicalIpv6(raw);
    case 'private_key':
      return pemBody(raw);
    default:
      return raw;
  }
}

const TOKEN_PREFIX: Readonly<Record<string, number>> = {
  aws_access_key: 4,
  google_api_key: 4,
  jwt: 3,
};

/** The mask of a normalized value of `type` (built-in or custom) with its kind. */
export function maskValue(type: string, v: string, kind: string | null): string {
  switch (type) {
    case 'email': {
      const at = v.lastIndexOf('@');
      return `${v.slice(0, 1)}***${v.slice(at)}`;
    }
    case 'phone': {
      const d = v.slice(1);
      if (kind === 'cn_mobile') {
        const nat = d.slice(2);
        return `${nat.slice(0, 3)}****${nat.slice(7)}`;
      }
      const cc = countryCodeLength(d) || 1;
      const nsn = d.slice(cc);
      return `+${d.slice(0, cc)} ${stars(nsn.length - 4)}${nsn.slice(-4)}`;
    }
    case 'cn_id':
      return `${v.slice(0, 2)}${stars(v.length - 4)}${v.slice(-2)}`;
    case 'bank_card':
    case 'iban':
      return `${v.slice(0, 4)}${stars(v.length - 8)}${v.slice(-4)}`;
    case 'us_ssn':
      return `***-**-${v.slice(-4)}`;
    case 'passport':
      return `${v.slice(0, 1)}${stars(v.length - 3)}${v.slice(-2)}`;
    case 'ipv4': {
      const dot = v.indexOf('.', v.indexOf('.') + 1);
      return `${v.slice(0, dot)}.*.*`;
    }
    case 'ipv6':
      return `${v.slice(0, v.indexOf(':'))}:****`;
    case 'aws_secret_key':
    case 'password':
      return '********';
    case 'github_token':
    case 'stripe_key':
    case 'slack_token': {
      // The public prefix ends at the last `_` of `ghp_` / `github_pat_` / `sk_live_`, or the first `-` of
      // `xoxb-`.
      const p =
        type === 'slack_token'
          ? v.indexOf('-') + 1
          : type === 'github_token' && v.startsWith('github_pat_')
            ? 11
            : v.indexOf('_', 3) + 1;
      return `${v.slice(0, p)}****${v.slice(-4)}`;
    }
    case 'aws_access_key':
    case 'google_api_key':
    case 'jwt':
      return `${v.slice(0, TOKEN_PREFIX[type])}****${v.slice(-4)}`;
    case 'slack_webhook':
      return 'https://hooks.slack.com/services/****';
    case 'private_key': {
      // The kind is the PEM label's algorithm (`rsa`, `openssh`, `pkcs8` for a bare PRIVATE KEY).
      const name = (kind ?? 'pkcs8').replace(/_truncated$/, '');
      const label = name === 'pkcs8' ? 'PRIVATE KEY' : `${name.toUpperCase().replace(/_/g, ' ')} PRIVATE KEY`;
      return `-----BEGIN ${label}-----****`;
    }
    default:
      return genericMask(v);
  }
}

/** Custom types: at most the first and last two characters of a long value, nothing of a short one. */
export function genericMask(v: string): string {
  const n = v.length;
  if (n >= 16) return `${v.slice(0, 2)}${stars(n - 4)}${v.slice(-2)}`;
  if (n >= 8) return `${v.slice(0, 1)}${stars(n - 2)}${v.slice(-1)}`;
  return stars(n);
}
