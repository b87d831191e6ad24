/**
 * Check digits and structural rules of personal identifiers. A regex finds things shaped like an identifier;
 * these checks decide whether it can be one, which is what keeps order numbers, timestamps and hashes out of
 * the findings. The simulator (src/simulate/pii.ts) uses the same functions to make valid values.
 *
 * Every function takes a compact value (no spaces or dashes) and never throws.
 */
import type { ValidatorName } from './types.js';

const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;

function allDigits(s: string, from = 0, to = s.length): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) if (!isDigitCode(s.charCodeAt(i))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// CN resident identity card (GB 11643-1999)

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** The GB 11643-1999 (ISO 7064 MOD 11-2) check character of a resident ID's first 17 digits. */
export function cnIdCheckDigit(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11]!;
}

/**
 * Province-level codes (GB/T 2260) that start a resident ID: the 31 mainland provinces, Taiwan (71), Hong Kong
 * (81), Macao (82) and 83, which the residence permits of Taiwan residents use.
 */
const CN_PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61,
  62, 63, 64, 65, 71, 81, 82, 83,
]);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True when y-m-d is a real calendar date between 1900-01-01 and `nowMs`. */
export function isPlausibleBirthDate(y: number, m: number, d: number, nowMs = Date.now()): boolean {
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!;
  if (d > days) return false;
  return Date.UTC(y, m - 1, d) <= nowMs;
}

const num = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
};

/**
 * An 18-character resident ID that can be real: a known province, a prefecture that is not `00`, a birth date
 * that exists and is not in the future, and the matching check character (`X` upper-case; a lower-case `x` is
 * accepted, as people type it).
 */
export function isValidCnId(id: string, nowMs = Date.now()): boolean {
  if (id.length !== 18 || !allDigits(id, 0, 17)) return false;
  const last = id.charCodeAt(17);
  if (!isDigitCode(last) && last !== 88 && last !== 120) return false;
  if (!CN_PROVINCES.has(num(id, 0, 2)) || num(id, 2, 4) === 0) return false;
  if (!isPlausibleBirthDate(num(id, 6, 10), num(id, 10, 12), num(id, 12, 14), nowMs)) return false;
  return cnIdCheckDigit(id) === (last === 120 ? 'X' : id[17]);
}

// ---------------------------------------------------------------------------------------------------------
// Payment cards

/** The Luhn check digit for a number's leading digits. */
export function luhnCheckDigit(body: string): number {
  let sum = 0;
  let double = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return (10 - (sum % 10)) % 10;
}

/** A 12-19 digit number whose last digit is its Luhn check digit. */
export function isLuhnValid(digits: string): boolean {
  if (digits.length < 12 || digits.length > 19 || !allDigits(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'unionpay' | 'discover' | 'jcb';

/**
 * The brand whose issuer prefix (IIN range) and length the number has, or null. Ranges: Visa 4 (13, 16 or 19
 * digits); Mastercard 51-55 and 2221-2720 (16); American Express 34, 37 (15); UnionPay 62 (16-19, including the
 * 622126-622925 range it shares with Discover); Discover 6011, 644-649, 65 (16-19); JCB 3528-3589 (16-19).
 */
export function cardBrand(digits: string): CardBrand | null {
  const n = digits.length;
  const p2 = num(digits, 0, 2);
  const p4 = num(digits, 0, 4);
  switch (digits.charCodeAt(0) - 48) {
    case 4:
      return n === 13 || n === 16 || n === 19 ? 'visa' : null;
    case 5:
      return p2 >= 51 && p2 <= 55 && n === 16 ? 'mastercard' : null;
    case 2:
      return p4 >= 2221 && p4 <= 2720 && n === 16 ? 'mastercard' : null;
    case 3:
      if (p2 === 34 || p2 === 37) return n === 15 ? 'amex' : null;
      return p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19 ? 'jcb' : null;
    case 6: {
      if (n < 16 || n > 19) return null;
      if (p2 === 62) return 'unionpay';
      const p3 = num(digits, 0, 3);
      if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return 'discover';
      return null;
    }
    default:
      return null;
  }
}

/** A card number: Luhn-valid with a known brand's prefix and length. */
export const isValidCard = (digits: string): boolean => isLuhnValid(digits) && cardBrand(digits) !== null;

// ---------------------------------------------------------------------------------------------------------
// IBAN (ISO 13616)

/** IBAN length per country (SWIFT IBAN registry) for the countries where IBANs are in common use. */
// biome-ignore format: a table reads better packed
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15,
  PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TN: 24,
  TR: 26, UA: 29, VG: 24, XK: 20,
};

/**
 * ISO 7064 MOD 97-10 over an IBAN-like string: the first four characters move to the end, letters count as
 * 10..35, and the remainder of the resulting number must be 1. Computed digit by digit (no big integers).
 */
export function mod97(s: string): boolean {
  const n = s.length;
  if (n < 5) return false;
  let rem = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt((k + 4) % n);
    if (isDigitCode(c)) rem = (rem * 10 + c - 48) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + c - 55) % 97;
    else if (c >= 97 && c <= 122) rem = (rem * 100 + c - 87) % 97;
    else return false;
  }
  return rem === 1;
}

/** A compact, upper-case IBAN of a known country with that country's length and a valid MOD 97 check. */
export function isValidIban(s: string): boolean {
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  if (len === undefined || s.length !== len || !allDigits(s, 2, 4)) return false;
  for (let i = 4; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigitCode(c) && (c < 65 || c > 90)) return false;
  }
  return mod97(s);
}

// ---------------------------------------------------------------------------------------------------------
// US Social Security Number

/**
 * Nine digits that the SSA could have issued: area not 000, 666 or 900-999, group not 00, serial not 0000,
 * and not one of the two numbers that are famous for having been published (078-05-1120, 219-09-9999).
 */
export function isValidSsn(d: string): boolean {
  if (d.length !== 9 || !allDigits(d)) return false;
  const area = num(d, 0, 3);
  if (area === 0 || area === 666 || area >= 900) return false;
  if (num(d, 3, 5) === 0 || num(d, 5, 9) === 0) return false;
  return d !== '078051120' && d !== '219099999';
}

// ---------------------------------------------------------------------------------------------------------
// Phone numbers

/**
 * An 11-digit CN mobile number: 13x, 145-149, 150-159 but 154, 162/165-167, 170-178, 180-189, 190-199 but 194
 * (the MIIT-assigned mobile ranges, including virtual operators and IoT-free data ranges).
 */
export function isCnMobile(d: string): boolean {
  if (d.length !== 11 || !allDigits(d) || d.charCodeAt(0) !== 49) return false;
  const a = d.charCodeAt(1) - 48;
  const b = d.charCodeAt(2) - 48;
  switch (a) {
    case 3:
    case 8:
      return true;
    case 4:
      return b >= 5;
    case 5:
      return b !== 4;
    case 6:
      return b === 2 || (b >= 5 && b <= 7);
    case 7:
      return b <= 8;
    case 9:
      return b !== 4;
    default:
      return false;
  }
}

/**
 * A 10-digit North American (NANP) number: area code and exchange start with 2-9, neither is an N11 service
 * code, and the area code's middle digit is not 9 (reserved for expansion).
 */
export function isNanp(d: string): boolean {
  if (d.length !== 10 || !allDigits(d)) return false;
  const c = (i: number) => d.charCodeAt(i) - 48;
  if (c(0) < 2 || c(1) === 9 || (c(1) === 1 && c(2) === 1)) return false;
  return c(3) >= 2 && !(c(4) === 1 && c(5) === 1);
}

/** Two-digit ITU-T E.164 country codes. Codes 1 and 7 are the only one-digit ones. */
const CC2 = new Set([
  20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60,
  61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
]);

/** Three-digit country codes, as assigned ranges (the unassigned gaps inside them are rare enough to allow). */
// biome-ignore format: a table reads better packed
const CC3: readonly (readonly [number, number])[] = [
  [210, 219], [220, 269], [290, 299], [350, 359], [370, 389], [420, 429], [500, 509], [590, 599],
  [670, 692], [800, 808], [850, 856], [870, 888], [960, 979], [992, 998],
];

/** Length (1-3) of the E.164 country code a digit string starts with, or 0 when none is assigned. */
export function countryCodeLength(d: string): number {
  const a = d.charCodeAt(0) - 48;
  if (a === 1 || a === 7) return 1;
  if (a <= 0 || d.length < 3) return 0;
  if (CC2.has(num(d, 0, 2))) return 2;
  const c3 = num(d, 0, 3);
  for (const [lo, hi] of CC3) if (c3 >= lo && c3 <= hi) return 3;
  return 0;
}

export type PhonePlan = 'cn_mobile' | 'nanp' | 'e164';

/**
 * The plan of an international number (the digits after `+`), or null when it cannot be one: E.164 allows at
 * most 15 digits; +1 must be a valid NANP number; +86 must be a valid mobile (11 digits) or a landline (10-11
 * digits, not starting with 0 or 1 except Beijing's 10); other countries need an assigned country code and
 * 8-15 digits in all.
 */
export function phonePlan(d: string): PhonePlan | null {
  if (d.length < 8 || d.length > 15 || !allDigits(d)) return null;
  const cc = countryCodeLength(d);
  if (cc === 0) return null;
  const nsn = d.slice(cc);
  if (cc === 1 && d.charCodeAt(0) === 49) return isNanp(nsn) ? 'nanp' : null;
  if (cc === 2 && d.startsWith('86')) {
    if (isCnMobile(nsn)) return 'cn_mobile';
    const first = nsn.charCodeAt(0) - 48;
    const landline = (nsn.length === 10 || nsn.length === 11) && (first >= 2 || nsn.startsWith('10'));
    return landline ? 'e164' : null;
  }
  return nsn.length >= 6 ? 'e164' : null;
}

// ---------------------------------------------------------------------------------------------------------
// IP addresses

/** Dotted-quad IPv4 with every octet 0-255 and no leading zeros (which some parsers read as octal). */
export function isValidIpv4(s: string): boolean {
  let parts = 0;
  let i = 0;
  while (i <= s.length) {
    let j = i;
    while (j < s.length && isDigitCode(s.charCodeAt(j))) j++;
    const len = j - i;
    if (len === 0 || len > 3 || (len > 1 && s.charCodeAt(i) === 48) || num(s, i, j) > 255) return false;
    parts++;
    if (j === s.length) break;
    if (s.charCodeAt(j) !== 46) return false;
    i = j + 1;
  }
  return parts === 4;
}

// ---------------------------------------------------------------------------------------------------------
// The validators custom types may name (config `sensitive.custom[].validator`)

/** Letters and digits only, for validators that ignore the spaces and dashes people format numbers with. */
function compact(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 45 && c !== 46) out += s[i];
  }
  return out;
}

export const VALIDATORS: Readonly<Record<ValidatorName, (value: string) => boolean>> = {
  luhn: (v) => isLuhnValid(compact(v)),
  mod97: (v) => mod97(compact(v).toUpperCase()),
  iban: (v) => isValidIban(compact(v).toUpperCase()),
  cn_id: (v) => isValidCnId(v.trim()),
  cn_mobile: (v) => {
    const d = compact(v).replace(/^\+?86/, '');
    return isCnMobile(d);
  },
  us_ssn: (v) => isValidSsn(compact(v)),
  nanp: (v) => {
    const d = compact(v)
      .replace(/[()]/g, '')
      .replace(/^\+?1(?=\d{10}$)/, '');
    return isNanp(d);
  },
  ipv4: (v) => isValidIpv4(v.trim()),
};
