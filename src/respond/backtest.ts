/**
 * Backtest: before a decision is approved, what would it have done over the stored history? For each decision:
 * the requests it would have blocked, challenged or throttled, the actors hit, and how many of those were never
 * in any incident — the collateral damage. Runs in DuckDB over the event store (docs/store.md): the decisions'
 * scopes go into a temporary table joined on equality (one join per actor kind, so no scan per decision);
 * CIDR scopes are expanded to the stored addresses inside them first. Traffic values are bound data, never
 * SQL.
 *
 * A rate limit only hits what exceeds it: per decision, scoped actor and window of `perSeconds`, the requests
 * over `requests` (what nginx's limit_req with no burst would refuse).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { CidrSet } from '../core/net.js';
import type { Incident } from '../detect/incidents.js';
import type { Decision, DecisionAction, DecisionScope, RateLimit } from './types.js';

export interface BacktestDecision {
  decision: string;
  action: Decision['action'];
  scope: string;
  /** Requests the decision would have blocked / challenged / refused (rate limit: only the excess). */
  requests: number;
  /** Distinct actors among those requests, by kind. */
  actors: { ip: number; token: number; user: number; device: number };
  /** Actors hit that are in no incident (each kind:value once), and their requests. */
  collateralActors: number;
  collateralRequests: number;
  /** A few collateral actors, to look at. */
  collateralSample: string[];
  firstTs: number | null;
  lastTs: number | null;
}

export interface BacktestReport {
  from: number | null;
  to: number | null;
  storedRequests: number;
  decisions: BacktestDecision[];
  /** Every decision together (a request hit by two counts once). */
  total: { requests: number; actors: number; collateralActors: number; collateralRequests: number };
}

const KINDS = ['ip', 'token', 'user', 'device'] as const;
const NO_BUCKET = 1e15;

const scopeText = (d: Decision) =>
  `${d.scope.kind}:${d.scope.value}${d.scope.endpoint === undefined ? '' : ` on ${d.scope.endpoint}`}`;

/**
 * A decision nobody made, to backtest a scope before deciding (the CLI's `--scope`, the API's `scope`).
 * `rate` is asked only for a rate limit.
 */
export function hypotheticalDecision(
  action: DecisionAction,
  scope: DecisionScope,
  rate: () => RateLimit,
): Decision {
  return {
    id: 'hypothetical',
    action,
    scope,
    ...(action === 'rate_limit' ? { rateLimit: rate() } : {}),
    status: 'proposed',
    origin: 'manual',
    reason: 'backtest',
    createdTs: 0,
    expiresTs: null,
    offence: 1,
  };
}

/**
 * The stored decisions a backtest weighs: the ones named in `wanted`, else all of them with `everything`,
 * else the proposed and active ones. Ids in `wanted` that name no decision are returned as `missing`.
 */
export function decisionsToBacktest(
  all: readonly Decision[],
  wanted: ReadonlySet<string>,
  everything: boolean,
): { decisions: Decision[]; missing: string[] } {
  const missing = [...wanted].filter((id) => !all.some((d) => d.id === id));
  const decisions = all.filter((d) =>
    wanted.size > 0 ? wanted.has(d.id) : everything || d.status === 'proposed' || d.status === 'active',
  );
  return { decisions, missing };
}

/** Actor keys (`kind:value`) of every incident. */
export function incidentActors(incidents: readonly Incident[]): Set<string> {
  const s = new Set<string>();
  for (const i of incidents) for (const a of i.actors) s.add(`${a.kind}:${a.value}`);
  return s;
}

export async function backtest(
  conn: DuckDBConnection,
  decisions: readonly Decision[],
  incidents: readonly Incident[],
  range: { from?: number | null; to?: number | null } = {},
): Promise<BacktestReport> {
  const params: (string | number)[] = [];
  const where: string[] = [];
  if (range.from != null) {
    params.push(range.from);
    where.push(`ts >= $${params.length}`);
  }
  if (range.to != null) {
    params.push(range.to);
    where.push(`ts < $${params.length}`);
  }
  const cond = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  const stored = Number(
    (await conn.runAndReadAll(`SELECT count(*) FROM events ${cond}`, params)).getRows()[0]![0],
  );

  // Scopes: (decision, kind, value, endpoint, bucket_ms); CIDRs become the stored addresses inside them.
  const rows: [string, string, string, string | null, number][] = [];
  const cidrs = decisions.filter((d) => d.scope.kind === 'cidr');
  if (cidrs.length > 0) {
    const ips = (await conn.runAndReadAll(`SELECT DISTINCT ip FROM events ${cond}`, params)).getRows();
    for (const d of cidrs) {
      const set = new CidrSet([d.scope.value]);
      for (const [ip] of ips) if (typeof ip === 'string' && set.has(ip)) rows.push(scopeRow(d, 'ip', ip));
    }
  }
  for (const d of decisions) if (d.scope.kind !== 'cidr') rows.push(scopeRow(d, d.scope.kind, d.scope.value));

  await conn.run(
    'CREATE OR REPLACE TEMP TABLE bt_scopes (decision VARCHAR, kind VARCHAR, value VARCHAR, endpoint VARCHAR, bucket_ms DOUBLE)',
  );
  await conn.run('DELETE FROM bt_scopes');
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values: (string | number | null)[] = [];
    const tuples = chunk.map((r) => {
      const b = values.length;
      values.push(...r);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
    });
    await conn.run(`INSERT INTO bt_scopes VALUES ${tuples.join(', ')}`, values as never);
  }
  const joins = KINDS.map(
    (k) =>
      `SELECT s.decision, s.bucket_ms, e.ts, e.ip, e.token, e."user", e.device, e.${k === 'user' ? '"user"' : k} AS matched
       FROM (SELECT * FROM events ${cond}) e JOIN bt_scopes s
       ON s.kind = '${k}' AND e.${k === 'user' ? '"user"' : k} = s.value AND (s.endpoint IS NULL OR e.endpoint = s.endpoint)`,
  ).join('\nUNION ALL\n');
  const sql = `SELECT decision, matched, CAST(floor(ts / bucket_ms) AS BIGINT) AS bucket, ip, token, "user", device,
      count(*)::BIGINT AS n, min(ts)::BIGINT AS first, max(ts)::BIGINT AS last
    FROM (${joins}) GROUP BY ALL ORDER BY decision, matched, bucket`;
  const hits = (await conn.runAndReadAll(sql, params)).getRows();

  const known = incidentActors(incidents);
  // Per decision → per (matched, bucket) → rows, so a rate limit can take only the excess of each window.
  const groups = new Map<string, Map<string, HitRow[]>>();
  for (const r of hits) {
    const row: HitRow = {
      ip: r[3] as string | null,
      token: r[4] as string | null,
      user: r[5] as string | null,
      device: r[6] as string | null,
      n: Number(r[7]),
      first: Number(r[8]),
      last: Number(r[9]),
    };
    const d = r[0] as string;
    let g = groups.get(d);
    if (g === undefined) {
      g = new Map();
      groups.set(d, g);
    }
    const k = `${r[1]}\u0000${r[2]}`;
    const l = g.get(k);
    if (l === undefined) g.set(k, [row]);
    else l.push(row);
  }
  const out: BacktestDecision[] = [];
  const totalActors = new Set<string>();
  const totalCollateral = new Set<string>();
  // Requests hit, deduplicated across decisions by their actor tuple (approximation: per row identity).
  const hitRows = new Map<string, { n: number; collateral: boolean }>();
  for (const d of decisions) {
    const res: BacktestDecision = {
      decision: d.id,
      action: d.action,
      scope: scopeText(d),
      requests: 0,
      actors: { ip: 0, token: 0, user: 0, device: 0 },
      collateralActors: 0,
      collateralRequests: 0,
      collateralSample: [],
      firstTs: null,
      lastTs: null,
    };
    const seen = new Set<string>();
    const collateral = new Set<string>();
    for (const windowRows of groups.get(d.id)?.values() ?? []) {
      let excess = Number.POSITIVE_INFINITY;
      if (d.action === 'rate_limit' && d.rateLimit !== undefined) {
        const sum = windowRows.reduce((s, r) => s + r.n, 0);
        excess = Math.max(0, sum - d.rateLimit.requests);
        if (excess === 0) continue;
      }
      // The excess is spread over the window's rows in order (the later requests are the refused ones).
      for (let i = windowRows.length - 1; i >= 0 && excess > 0; i--) {
        const r = windowRows[i]!;
        const n = Math.min(r.n, excess);
        excess -= n;
        res.requests += n;
        if (res.firstTs === null || r.first < res.firstTs) res.firstTs = r.first;
        if (res.lastTs === null || r.last > res.lastTs) res.lastTs = r.last;
        const keys = KINDS.map((k) => (r[k] === null ? null : `${k}:${r[k]}`)).filter(
          (k): k is string => k !== null,
        );
        const innocent = !keys.some((k) => known.has(k));
        if (innocent) res.collateralRequests += n;
        for (const k of keys) {
          if (!seen.has(k)) {
            seen.add(k);
            res.actors[k.slice(0, k.indexOf(':')) as (typeof KINDS)[number]]++;
          }
          totalActors.add(k);
          if (!known.has(k)) {
            collateral.add(k);
            totalCollateral.add(k);
          }
        }
        const rowKey = `${r.ip}\u0000${r.token}\u0000${r.user}\u0000${r.device}\u0000${r.first}`;
        const prev = hitRows.get(rowKey);
        if (prev === undefined || n > prev.n) hitRows.set(rowKey, { n, collateral: innocent });
      }
    }
    res.collateralActors = collateral.size;
    res.collateralSample = [...collateral].sort().slice(0, 5);
    out.push(res);
  }
  let requests = 0;
  let collateralRequests = 0;
  for (const v of hitRows.values()) {
    requests += v.n;
    if (v.collateral) collateralRequests += v.n;
  }
  return {
    from: range.from ?? null,
    to: range.to ?? null,
    storedRequests: stored,
    decisions: out,
    total: { requests, actors: totalActors.size, collateralActors: totalCollateral.size, collateralRequests },
  };

  function scopeRow(
    d: Decision,
    kind: string,
    value: string,
  ): [string, string, string, string | null, number] {
    const bucket =
      d.action === 'rate_limit' && d.rateLimit !== undefined ? d.rateLimit.perSeconds * 1000 : NO_BUCKET;
    return [d.id, kind, value, d.scope.endpoint ?? null, bucket];
  }
}

interface HitRow {
  ip: string | null;
  token: string | null;
  user: string | null;
  device: string | null;
  n: number;
  first: number;
  last: number;
}
