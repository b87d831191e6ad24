/**
 * What the API returns, shaped for a dashboard: list items are summaries (an incident of a 300-address botnet
 * lists its first actors and says how many there are), details are whole records. Lists are pages in a
 * stable order with an opaque cursor: the sort key of the last item, so a page never repeats or skips an item
 * when new ones arrive between requests.
 */
import type { IncidentRecord } from '../respond/state.js';
import type { PageSpec, StatePage } from '../store/state/pg-state.js';
import { ApiError } from './http.js';

const SUMMARY_ACTORS = 10;
const SUMMARY_ENDPOINTS = 10;

export interface DecisionCounts {
  active: number;
  proposed: number;
}

export function incidentSummary(i: IncidentRecord, counts: DecisionCounts | null) {
  return {
    id: i.id,
    status: i.status,
    severity: i.severity,
    type: i.type,
    types: i.types,
    score: i.score,
    confidence: i.confidence,
    actorCount: i.actors.length,
    actors: i.actors.slice(0, SUMMARY_ACTORS),
    endpointCount: i.endpoints.length,
    endpoints: i.endpoints.slice(0, SUMMARY_ENDPOINTS),
    requests: i.requests,
    firstEventTs: i.firstEventTs,
    detectedTs: i.detectedTs,
    lastEventTs: i.lastEventTs,
    assignee: i.assignee,
    explanation: i.explanation,
    createdTs: i.createdTs,
    updatedTs: i.updatedTs,
    ...(counts === null ? {} : { decisions: counts }),
  };
}

export interface PageQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
  order?: 'asc' | 'desc' | undefined;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** Items matching the filters, all pages together. */
  total: number;
}

type Key = [number, string];

const cmp = (a: Key, b: Key) => (a[0] !== b[0] ? a[0] - b[0] : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

function decodeCursor(s: string): Key {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string')
      return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new ApiError(400, 'invalid_query', 'cursor: not a cursor this API handed out', 'cursor');
}

const encodeCursor = (k: Key) => Buffer.from(JSON.stringify(k)).toString('base64url');

/** One page of `items` sorted by `key` (ascending, or descending: newest first, the default). */
export function page<T>(items: readonly T[], key: (t: T) => Key, q: PageQuery, defaultLimit = 50): Page<T> {
  const dir = q.order === 'asc' ? 1 : -1;
  const sorted = items.map((t) => ({ t, k: key(t) })).sort((a, b) => dir * cmp(a.k, b.k));
  let start = 0;
  if (q.cursor !== undefined) {
    const after = decodeCursor(q.cursor);
    start = sorted.findIndex((x) => dir * cmp(x.k, after) > 0);
    if (start < 0) start = sorted.length;
  }
  const limit = q.limit ?? defaultLimit;
  const slice = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return {
    items: slice.map((x) => x.t),
    nextCursor: more && slice.length > 0 ? encodeCursor(slice[slice.length - 1]!.k) : null,
    total: items.length,
  };
}

/** The state store's page request for a list query. */
export function pageSpec(q: PageQuery, defaultLimit = 50): PageSpec {
  return {
    limit: q.limit ?? defaultLimit,
    order: q.order ?? 'desc',
    ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor) }),
  };
}

/** A page the state store cut in SQL, as the API answers it (the same cursors as `page`). */
export function fromStatePage<T>(r: StatePage<T>, key: (t: T) => Key): Page<T> {
  const last = r.items[r.items.length - 1];
  return {
    items: r.items,
    nextCursor: r.more && last !== undefined ? encodeCursor(key(last)) : null,
    total: r.total,
  };
}
