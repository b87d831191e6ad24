/**
 * Timestamp parsing for the formats we read. Logs are mostly in time order and many lines share a second,
 * so the common case is a cache hit on the previous string.
 */

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const d2 = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN;
};

/** Parses Common Log Format time `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t`). NaN if invalid. */
export function parseClfTime(s: string): number {
  // dd/Mon/yyyy:HH:MM:SS +zzzz  (26 chars)
  if (
    s.length !== 26 ||
    s.charCodeAt(2) !== 47 ||
    s.charCodeAt(6) !== 47 ||
    s.charCodeAt(11) !== 58 ||
    s.charCodeAt(14) !== 58 ||
    s.charCodeAt(17) !== 58 ||
    s.charCodeAt(20) !== 32
  ) {
    return Number.NaN;
  }
  const day = d2(s, 0);
  const mon = MONTHS[s.slice(3, 6)];
  const year = d2(s, 7) * 100 + d2(s, 9);
  const hh = d2(s, 12);
  const mm = d2(s, 15);
  const ss = d2(s, 18);
  const sign = s.charCodeAt(21) === 45 ? -1 : s.charCodeAt(21) === 43 ? 1 : 0;
  const tzh = d2(s, 22);
  const tzm = d2(s, 24);
  if (mon === undefined || sign === 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
    return Number.NaN;
  const local = Date.UTC(year, mon, day, hh, mm, ss);
  // Date.UTC rolls 31/Feb over into March: an impossible date is invalid, not another day.
  if (new Date(local).getUTCDate() !== day) return Number.NaN;
  return local - sign * (tzh * 60 + tzm) * 60_000;
}

const HAS_OFFSET = /(?:Z|[+-]\d\d:?\d\d)$/i;

/** Parses ISO 8601 / RFC 3339 (`2024-03-05T10:11:12.345Z`, `+08:00` offsets). NaN if invalid. */
export function parseIsoTime(s: string): number {
  // Date.parse accepts many non-ISO shapes; require the ISO date prefix so "12" or "May 5" do not pass.
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return Number.NaN;
  // Without an offset Date.parse would use the process's time zone: logs without one are read as UTC.
  if (s.length > 10 && !HAS_OFFSET.test(s)) return Date.parse(`${s}Z`);
  return Date.parse(s);
}

const EPOCH = /^\d{1,12}(?:\.\d{1,9})?$/;

/** Epoch seconds with an optional fraction (`1700000000.123`, nginx `$msec`). NaN if invalid. */
export function parseEpochSeconds(s: string): number {
  // Decimal digits only: Number() would also take ' 12', '0x10' and '1e3'.
  if (!EPOCH.test(s)) return Number.NaN;
  return Math.round(Number(s) * 1000);
}

/**
 * Epoch number of unknown unit, as JSON logs carry: seconds, milliseconds, microseconds or nanoseconds are
 * told apart by magnitude (valid for dates between 2001 and 2286).
 */
export function epochToMs(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return Number.NaN;
  if (n < 1e11) return Math.round(n * 1000);
  if (n < 1e14) return Math.round(n);
  if (n < 1e17) return Math.round(n / 1000);
  return Math.round(n / 1e6);
}

/** A one-entry cache in front of a string → time parser: consecutive log lines usually share a second. */
export function cachedTimeParser(parse: (s: string) => number): (s: string) => number {
  let lastIn = '';
  let lastOut = Number.NaN;
  return (s: string) => {
    if (s === lastIn) return lastOut;
    lastIn = s;
    lastOut = parse(s);
    return lastOut;
  };
}
