/**
 * How state values become database values, the same on PGlite and PostgreSQL.
 *
 * NUL: PostgreSQL's `text` cannot hold U+0000 and `jsonb` refuses `\u0000`, yet traffic puts whatever it
 * likes into user names and device ids, and one such incident must not stop the store from recording the
 * rest. So a string that contains NUL (or that happens to start with the marker) is stored marked and
 * percent-escaped (`%00`, `%25`), keys included, and decoded on the way out: every other string is stored as
 * it is, so SQL over the JSONB columns reads naturally.
 *
 * The audit line: each audit entry is hashed as one JSON line, and the next entry's `prev` is that hash. The
 * line is `JSON.stringify` of the entry with its keys in the order seq, ts, by, action, target, data (left
 * out when undefined), prev: `auditEntry` builds exactly that object, so every store that builds its entries
 * with it produces the same chain for the same entries.
 */
import { createHash } from 'node:crypto';
import type { AuditEntry } from '../../respond/state.js';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The entry in canonical key order (only the AuditEntry fields; `data` left out when undefined). */
export function auditEntry(seq: number, e: Omit<AuditEntry, 'seq' | 'prev'>, prev: string): AuditEntry {
  return {
    seq,
    ts: e.ts,
    by: e.by,
    action: e.action,
    target: e.target,
    ...(e.data === undefined ? {} : { data: e.data }),
    prev,
  };
}

/** The line an entry is hashed as (and stored as). */
export const auditLine = (entry: AuditEntry): string =>
  JSON.stringify(auditEntry(entry.seq, entry, entry.prev));

/** U+FFFF is a noncharacter: no text a person or a log writes starts with it. */
const MARK = '\uffff~';

/** A string a `text` column can hold (see the module comment). */
export function encText(s: string): string {
  if (!s.includes('\u0000') && !s.startsWith(MARK)) return s;
  return MARK + s.replace(/[%\u0000]/g, (c) => (c === '%' ? '%25' : '%00'));
}

export function decText(s: string): string {
  if (!s.startsWith(MARK)) return s;
  return s.slice(MARK.length).replace(/%(25|00)/g, (_, h: string) => (h === '25' ? '%' : '\u0000'));
}

function walk(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, f));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[f(k)] = walk(x, f);
    return out;
  }
  return v;
}

/** JSON text for a `jsonb` parameter (`$1::jsonb`). */
export function toJsonb(v: unknown): string {
  const text = JSON.stringify(v);
  if (text === undefined) throw new TypeError('cannot store undefined as JSON');
  // JSON.stringify writes NUL as the escape \u0000 and U+FFFF as itself: the common case needs no walk.
  if (!text.includes('\\u0000') && !text.includes(MARK)) return text;
  return JSON.stringify(walk(JSON.parse(text), encText));
}

/** The value back from a `jsonb` column read as text (`col::text`). */
export function fromJsonb<T>(text: string): T {
  const v: unknown = JSON.parse(text);
  return (text.includes(MARK) ? walk(v, decText) : v) as T;
}
