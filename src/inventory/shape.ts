/**
 * Shapes of path segments and parameter values. A segment's shape is the first evidence templating uses:
 * integers, UUIDs, hashes, dates, e-mails, long tokens and id-like codes are parameters wherever they appear;
 * words and slugs are parameters only when their cardinality says so (see templater.ts).
 */

export type SegmentShape =
  | 'int'
  | 'uuid'
  | 'hex'
  | 'date'
  | 'email'
  | 'token'
  | 'code'
  | 'file'
  | 'slug'
  | 'word';

/** Shapes that are parameters by themselves, whatever their cardinality. */
export const ID_SHAPES: ReadonlySet<SegmentShape> = new Set([
  'int',
  'uuid',
  'hex',
  'date',
  'email',
  'token',
  'code',
  'file',
]);

/** The parameter name a template gives a shape. */
export const PARAM_NAME: Record<SegmentShape, string> = {
  int: 'id',
  uuid: 'id',
  hex: 'hash',
  date: 'date',
  email: 'email',
  token: 'token',
  code: 'code',
  file: 'file',
  slug: 'slug',
  word: 'name',
};

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^(\d{4})-?(\d{2})-?(\d{2})$/;
const EMAIL = /^[^@\s/]{1,64}@[^@\s/]+\.[a-z]{2,}$/i;
const EXT = /\.([a-z0-9]{1,5})$/i;

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  return y >= 1900 && y <= 2200 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

/** The shape of one (decoded) path segment. */
export function segmentShape(s: string): SegmentShape {
  const n = s.length;
  if (n === 0) return 'word';
  let digits = 0;
  let hex = 0;
  let lower = 0;
  let upper = 0;
  let other = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (isLower(c)) lower++;
    else if (isUpper(c)) upper++;
    else other++;
    if (isHex(c)) hex++;
  }
  if (digits === n) {
    if (n === 8 && validDate(s)) return 'date';
    return 'int';
  }
  if (n === 36 && UUID.test(s)) return 'uuid';
  if (n === 10 && validDate(s)) return 'date';
  if (other === 0 && hex === n && n >= 8 && digits > 0) return 'hex';
  if (s.indexOf('@') > 0 && EMAIL.test(s)) return 'email';
  const ext = EXT.exec(s);
  if (ext !== null && ext.index > 0) {
    // A file name is a parameter when its stem is id-like (a number, a hash, a build hash): `1234-320.webp`,
    // `app.3f9c1e7a.js`; `favicon.ico` and `robots.txt` stay literal.
    const stem = s.slice(0, ext.index);
    let d = 0;
    let run = 0;
    let hexRun = 0;
    for (let i = 0; i < stem.length; i++) {
      const c = stem.charCodeAt(i);
      if (isDigit(c)) d++;
      if (isHex(c)) {
        run++;
        if (run > hexRun) hexRun = run;
      } else run = 0;
    }
    return d >= 3 || (hexRun >= 8 && d > 0) ? 'file' : 'word';
  }
  // Long opaque strings: tokens, base64, keys.
  if (n >= 20 && other <= 2 && digits > 0 && (upper > 0 || n >= 32) && lower > 0) return 'token';
  // Id-like codes: SKU-000123, ord_12345, A1B2C3D4.
  if (digits >= 3 && (digits * 3 >= n || (upper > 0 && lower === 0))) return 'code';
  if (
    s.indexOf('-') > 0 &&
    other === countChar(s, '-') &&
    lower + digits + other === n &&
    s.split('-').length >= 3
  )
    return 'slug';
  return 'word';
}

function countChar(s: string, ch: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (s[i] === ch) k++;
  return k;
}

/** Types of parameter values, in the order a mixed parameter's type is widened (see params.ts). */
export type ValueType = 'integer' | 'number' | 'boolean' | 'string';
export type ValueFormat = 'uuid' | 'date' | 'date-time' | 'email' | 'ipv4' | 'hex' | 'credential' | null;

const INT = /^-?\d{1,15}$/;
const NUM = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** The type and format of a query or form value (always a string on the wire). */
export function valueType(v: string): { type: ValueType; format: ValueFormat } {
  if (v.startsWith('[token:')) return { type: 'string', format: 'credential' };
  if (INT.test(v)) return { type: 'integer', format: null };
  if (NUM.test(v)) return { type: 'number', format: null };
  if (v === 'true' || v === 'false') return { type: 'boolean', format: null };
  if (v.length === 36 && UUID.test(v)) return { type: 'string', format: 'uuid' };
  if (v.length === 10 && validDate(v)) return { type: 'string', format: 'date' };
  if (v.length >= 16 && DATETIME.test(v)) return { type: 'string', format: 'date-time' };
  if (v.indexOf('@') > 0 && EMAIL.test(v)) return { type: 'string', format: 'email' };
  if (v.length >= 7 && v.length <= 15 && IPV4.test(v)) return { type: 'string', format: 'ipv4' };
  if (v.length >= 16 && /^[0-9a-f]+$/i.test(v)) return { type: 'string', format: 'hex' };
  return { type: 'string', format: null };
}
