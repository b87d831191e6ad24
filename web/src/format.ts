/** Numbers and times as the pages show them. Times are UTC, as in the logs. */

const nf = new Intl.NumberFormat('en-US');
export const int = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : nf.format(Math.round(n));

export function pct(part: number, whole: number): string {
  if (whole === 0) return '–';
  const p = (part * 100) / whole;
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-03-02 14:05:09` (UTC). */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
}

/** `14:05` (UTC). */
export const clock = (ms: number): string => {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

/** `in 42 min`, `3 h ago`. */
export function relative(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const d = ms - now;
  const a = Math.abs(d);
  const s =
    a < 60_000
      ? `${Math.round(a / 1000)} s`
      : a < 3_600_000
        ? `${Math.round(a / 60_000)} min`
        : a < 172_800_000
          ? `${(a / 3_600_000).toFixed(1)} h`
          : `${Math.round(a / 86_400_000)} d`;
  return d >= 0 ? `in ${s}` : `${s} ago`;
}

export const label = (s: string): string => s.replaceAll('_', ' ');

/** At most `n` characters, with an ellipsis. */
export const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
