/**
 * Field names and the words around a value: what turns "nine digits" into a passport number, "a value" into a
 * password, and an 11-digit number under `order_no` into an order number rather than a phone.
 */

/** Keys whose value is a password when their last word is one of these (`new_password`, `client_secret`). */
const PASSWORD_WORDS = ['password', 'passwd', 'pwd', 'pswd', 'pass', 'passphrase', 'passcode', 'secret'];
/** `password_hash`, `password_confirm`, ...: a first word from PASSWORD_LEAD and a last word from these. */
const PASSWORD_TAILS = [
  'hash',
  'digest',
  'confirm',
  'confirmation',
  'again',
  'repeat',
  'new',
  'old',
  'plain',
  'plaintext',
];
const PASSWORD_LEAD = ['password', 'passwd', 'pwd'];

const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlnum = (c: number): boolean => isUpper(c) || isLower(c) || isDigit(c);

/** True when s[from, to), without trailing digits (`password2`), is one of `words` (lower-case), any case. */
function wordIn(s: string, from: number, to: number, words: readonly string[]): boolean {
  while (to > from && isDigit(s.charCodeAt(to - 1))) to--;
  const n = to - from;
  outer: for (const w of words) {
    if (w.length !== n) continue;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(from + k);
      if ((isUpper(c) ? c + 32 : c) !== w.charCodeAt(k)) continue outer;
    }
    return true;
  }
  return false;
}

/** True when s starts, in any case, with `pass` or `pwd` (the keys that need the full word split). */
function startsLikePassword(s: string, from: number, to: number): boolean {
  const lower = (k: number) => {
    const c = s.charCodeAt(from + k);
    return isUpper(c) ? c + 32 : c;
  };
  if (to - from >= 4 && lower(0) === 112 && lower(1) === 97 && lower(2) === 115 && lower(3) === 115)
    return true;
  return to - from >= 3 && lower(0) === 112 && lower(1) === 119 && lower(2) === 100;
}

/**
 * The fast path, run before any word split (it sees every JSON key of a body scanned as text): the last word,
 * found by walking back over trailing digits, a lower-case run and the capital of a camelCase hump (or an
 * all-capitals run), is a password word; or the key contains 密码.
 */
function lastWordIsPassword(s: string, from: number, to: number): boolean {
  let e = to;
  while (e > from && isDigit(s.charCodeAt(e - 1))) e--;
  let k = e;
  while (k > from && isLower(s.charCodeAt(k - 1))) k--;
  if (k === e) while (k > from && isUpper(s.charCodeAt(k - 1))) k--;
  else if (k > from && isUpper(s.charCodeAt(k - 1))) k--;
  if (k < e && wordIn(s, k, e, PASSWORD_WORDS)) return true;
  for (let i = from; i + 1 < to; i++)
    if (s.charCodeAt(i) === 0x5bc6 && s.charCodeAt(i + 1) === 0x7801) return true;
  return false;
}

/**
 * True when the key s[from, to) names a password or secret: its last word (split at `_`, `-`, `.`, spaces and
 * camelCase humps) is `password`, `passwd`, `pwd`, `pass`, `secret` ... (`newPassword`, `db_pass`,
 * `client_secret`), the whole key is one (`PassWord`, `passCode`), it is `password_<hash|confirm|new...>`, or it
 * contains 密码. Keys that only talk about a password (`password_changed_at`, `password_policy`,
 * `has_password`) are not: their last word is something else.
 */
export function isPasswordKey(s: string, from = 0, to = s.length): boolean {
  if (to - from > 64 || to <= from) return false;
  if (lastWordIsPassword(s, from, to)) return true;
  if (!startsLikePassword(s, from, to)) return false;
  let firstStart = -1;
  let firstEnd = -1;
  let lastStart = -1;
  let lastEnd = -1;
  let words = 0;
  let compactLen = 0;
  let i = from;
  while (i < to) {
    let c = s.charCodeAt(i);
    if (!isAlnum(c)) {
      i++;
      continue;
    }
    const start = i;
    i++;
    // A word runs over letters and digits and ends at a separator or at a lower-to-upper hump (camelCase).
    while (i < to) {
      const prev = c;
      c = s.charCodeAt(i);
      if (!isAlnum(c) || (isUpper(c) && (isLower(prev) || isDigit(prev)))) break;
      i++;
    }
    words++;
    compactLen += i - start;
    if (firstStart === -1) {
      firstStart = start;
      firstEnd = i;
    }
    lastStart = start;
    lastEnd = i;
  }
  if (words === 0) return false;
  if (wordIn(s, lastStart, lastEnd, PASSWORD_WORDS)) return true;
  if (
    words > 1 &&
    words <= 3 &&
    wordIn(s, lastStart, lastEnd, PASSWORD_TAILS) &&
    wordIn(s, firstStart, firstEnd, PASSWORD_LEAD)
  )
    return true;
  if (words > 1 && compactLen <= 12) {
    // `PassWord`, `pass_code`: the words together spell one of the password words.
    let joined = '';
    for (let k = from; k < to; k++) if (isAlnum(s.charCodeAt(k))) joined += s[k];
    return wordIn(joined, 0, joined.length, PASSWORD_WORDS);
  }
  return false;
}

/**
 * Values that stand in for a removed secret, or are not a secret at all: our own `[redacted]` and
 * `[token:<id>]` markers, other products' markers, empty and null-ish values, and runs of one mask character
 * (`******`, `xxxxxx`).
 */
export function isPlaceholder(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  if (v.startsWith('[token:')) return true;
  if (n <= 12) {
    switch (v.toLowerCase()) {
      case '[redacted]':
      case '<redacted>':
      case 'redacted':
      case '[filtered]':
      case 'filtered':
      case '[hidden]':
      case 'hidden':
      case 'null':
      case 'undefined':
      case 'none':
      case 'true':
      case 'false':
        return true;
    }
  }
  if (n >= 3) {
    const c = v.charCodeAt(0);
    if (c === 42 || c === 120 || c === 88 || c === 46 || c === 8226) {
      let same = true;
      for (let i = 1; i < n && same; i++) same = v.charCodeAt(i) === c;
      if (same) return true;
    }
  }
  return false;
}

/** Labels before a phone-like or card-like number that say it is a business number, not personal data. */
export const BUSINESS_NUMBER_WORDS = [
  'order',
  'trade',
  'txn',
  'transaction',
  'serial',
  'sku',
  'invoice',
  'tracking',
  'waybill',
  'shipment',
  'ticket',
  'batch',
  'timestamp',
  '订单',
  '单号',
  '流水',
  '编号',
];

/** Labels before an IPv4-looking dotted quad that say it is a version. */
export const VERSION_WORDS = ['version', 'ver.', 'build', 'release', 'firmware', '版本'];

/** Context for numbers that are only personal data when something says so. */
export const PHONE_WORDS = ['phone', 'tel', 'mobile', 'cell', 'fax', 'contact', '电话', '手机'];
export const SSN_WORDS = ['ssn', 'social security', 'social_security', 'socialsecurity'];
export const PASSPORT_WORDS = ['passport', '护照'];
export const AWS_SECRET_WORDS = ['aws', 'secret_access', 'secretaccess', 'secret-access', 'secret access'];

const LABEL_MAX = 32;

/**
 * The label just before a value at `start`: walking back over separators (`": "`, `=`, `: `, `#`, `No.`) and
 * the words of the label, and stopping at the quote that opens a JSON key, at punctuation that ends the
 * previous value (`,` `{` `[` `&` `;` newline), or after LABEL_MAX characters. For `{"order_no":"15012345678"}`
 * that is `order_no":"`; for `Order No. 15012345678` it is `Order No. `.
 */
export function labelBefore(text: string, from: number, start: number): string {
  let i = start;
  let letters = false;
  const stop = Math.max(from, start - LABEL_MAX);
  while (i > stop) {
    const c = text.charCodeAt(i - 1);
    if (isAlnum(c) || c === 95 || c >= 0x2e80) letters = true;
    else if (c === 34 || c === 39) {
      if (letters) break;
    } else if (c !== 32 && c !== 45 && c !== 46 && c !== 58 && c !== 61 && c !== 35 && c !== 0xff1a) break;
    i--;
  }
  return text.slice(i, start);
}

/**
 * True when `s` contains one of `words` (lower-case) at the start of a word: after a non-letter or at a
 * camelCase hump, so `userPhone` and `tel_no` match `phone` and `tel`, but `hotel` does not match `tel` and
 * `server` does not match `ver`. The end of the word is free (`phonenumber`, `passport_no`).
 */
export function hasWord(s: string, words: readonly string[]): boolean {
  if (s === '') return false;
  const lower = s.toLowerCase();
  for (const w of words) {
    let at = lower.indexOf(w);
    while (at !== -1) {
      if (at === 0 || w.charCodeAt(0) >= 128) return true;
      const before = s.charCodeAt(at - 1);
      if (!isUpper(before) && !isLower(before)) return true;
      if (isLower(before) && isUpper(s.charCodeAt(at))) return true;
      at = lower.indexOf(w, at + 1);
    }
  }
  return false;
}
