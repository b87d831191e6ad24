/**
 * The batch engine: compiles feature specs to DuckDB SQL over the event store (or any table with the store's
 * columns) and returns the stream engine's rows, `Snapshot {feature, key, windowStart, windowEnd, events,
 * value}`, with the stream's definitions (src/features/stream.ts is the reference; docs/store.md lists where
 * the two can differ). Values the stream sketches are exact here: distinct counts are count(DISTINCT), the
 * quantile is quantile_disc (the stream's sketch is within 1% of it).
 *
 * Traffic values never enter the SQL text: filter lists (scenarios, methods) are bound parameters; the SQL is
 * made of our own column names, numbers from validated specs, and the store's path as a quoted literal.
 */
import { readdir } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { eventsDir, eventsRelation, FEATURE_EVENT_COLUMNS, sqlIdent } from '../store/events.js';
import type { FeatureSpec, Filter, KeyPart, NumericField, ValueField } from './spec.js';
import type { Snapshot } from './stream.js';

/** Where the events are: the store's directory, or a table (or view) with the store's columns. */
export type BatchSource = { dir: string } | { table: string };

export interface BatchOptions {
  /** Run on this connection (the caller owns it); default: a fresh in-memory DuckDB. */
  connection?: DuckDBConnection;
}

/** Past this many distinct values, the stream's entropy puts further values in one bucket; so does SQL. */
const MAX_ENTROPY_VALUES = 10_000;

const EV = 'aw_batch_events';
const FIRST = 'aw_batch_first_seen';

const col = (c: keyof typeof FEATURE_EVENT_COLUMNS): string => sqlIdent(c);

const KEY_COLUMN: Record<KeyPart, keyof typeof FEATURE_EVENT_COLUMNS> = {
  ip: 'ip',
  device: 'device',
  token: 'token',
  user: 'user',
  endpoint: 'endpoint',
  host: 'host',
};

function valueSql(f: ValueField): string {
  switch (f) {
    case 'path':
      return col('path');
    case 'user_agent':
      return col('userAgent');
    case 'status':
      // The stream's String(status): integers print the same way.
      return `CAST(${col('status')} AS VARCHAR)`;
    default:
      return col(f);
  }
}

function numberSql(f: NumericField): string {
  return f === 'latency_ms' ? col('latencyMs') : f === 'bytes_out' ? col('bytesOut') : col('bytesIn');
}

/** Collects bound parameters; returns their `$n` placeholders. */
class Params {
  readonly values: DuckDBValue[] = [];
  bind(v: string): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const STATUS_CLASS_DIGIT: Record<string, number> = { '1xx': 1, '2xx': 2, '3xx': 3, '4xx': 4, '5xx': 5 };

/** `passes(e, f)` of stream.ts as a SQL condition. */
function filterSql(f: Filter | undefined, p: Params): string {
  if (f === undefined) return 'TRUE';
  const parts: string[] = [];
  if (f.scenario !== undefined)
    parts.push(`${col('scenario')} IN (${f.scenario.map((s) => p.bind(s)).join(', ')})`);
  if (f.status !== undefined)
    // Classes are validated enum values; only their digit reaches the SQL.
    parts.push(
      `CAST(floor(${col('status')} / 100) AS INTEGER) IN (${f.status.map((s) => STATUS_CLASS_DIGIT[s]!).join(', ')})`,
    );
  if (f.method !== undefined)
    parts.push(`${col('method')} IN (${f.method.map((m) => p.bind(m)).join(', ')})`);
  if (f.static !== undefined) parts.push(`(${col('scenario')} = 'static') = ${f.static ? 'TRUE' : 'FALSE'}`);
  return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
}

/** The features computed together with `spec` by the stream engine (same key and window): sessions are cut
 * on the events any of them takes, so the batch engine must cut them the same way. */
function groupOf(spec: FeatureSpec, all: readonly FeatureSpec[]): FeatureSpec[] {
  const id = (s: FeatureSpec) => `${s.key.join(',')}|${JSON.stringify(s.window)}`;
  const g = all.filter((s) => id(s) === id(spec));
  return g.length === 0 ? [spec] : g;
}

/**
 * One feature as one SQL query over the table `events` (with `firstSeen(endpoint, first_ts)` for
 * new_endpoint_share). Result columns: key, ws, we, n, v (all numbers DOUBLE).
 */
export function compileFeature(
  spec: FeatureSpec,
  all: readonly FeatureSpec[] = [spec],
  tables: { events: string; firstSeen: string } = { events: EV, firstSeen: FIRST },
): { sql: string; params: DuckDBValue[] } {
  const p = new Params();
  const keyCols = spec.key.map((k) => col(KEY_COLUMN[k]));
  const keySql = keyCols.join(' || chr(31) || ');
  const keyOk = keyCols.map((c) => `${c} IS NOT NULL AND ${c} <> ''`).join(' AND ');
  const ctes: string[] = [];
  const w = spec.window;
  if (w.type === 'session') {
    // Sessions are cut on every event of the group (any feature's filter), ordered by (ts, seq); a gap of
    // more than gapMs starts a new one. The window is [first ts, last ts + 1), as the stream emits it.
    const any = groupOf(spec, all)
      .map((s) => filterSql(s.filter, p))
      .join(' OR ');
    ctes.push(
      `g AS (SELECT *, ${keySql} AS k FROM ${tables.events} WHERE ${keyOk} AND (${any}))`,
      `g1 AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY k ORDER BY ts, seq) <= ${w.gapMs} THEN 0 ELSE 1 END AS brk FROM g)`,
      `g2 AS (SELECT *, sum(brk) OVER (PARTITION BY k ORDER BY ts, seq ROWS UNBOUNDED PRECEDING) AS sid FROM g1)`,
      `g3 AS (SELECT *, min(ts) OVER (PARTITION BY k, sid) AS ws, max(ts) OVER (PARTITION BY k, sid) + 1 AS we FROM g2)`,
      `w AS (SELECT * FROM g3 WHERE ${filterSql(spec.filter, p)})`,
    );
  } else {
    const size = w.sizeMs;
    const adv = w.type === 'hopping' ? w.advanceMs : size;
    // Integer floor (also right for times before 1970): the newest window start at or before ts.
    const last = `(ts - ((ts % ${adv}) + ${adv}) % ${adv})`;
    const base = `${tables.events} WHERE ${keyOk} AND ${filterSql(spec.filter, p)}`;
    if (adv === size)
      ctes.push(`w AS (SELECT *, ${keySql} AS k, ${last} AS ws, ${last} + ${size} AS we FROM ${base})`);
    // Each event is in size / advance windows: starts last, last - advance, ... > ts - size.
    else
      ctes.push(
        `h AS (SELECT *, ${keySql} AS k, unnest(generate_series(${last} - ${size - adv}, ${last}, ${adv})) AS ws FROM ${base})`,
        `w AS (SELECT *, ws + ${size} AS we FROM h)`,
      );
  }

  const a = spec.agg;
  let value: string;
  let from = 'w';
  const joins: string[] = [];
  switch (a.fn) {
    case 'count':
      value = 'count(*)';
      break;
    case 'rate_per_min':
      value = 'count(*) / greatest(1, (we - ws) / 60000.0)';
      break;
    case 'distinct':
      value = `count(DISTINCT ${valueSql(a.field)})`;
      break;
    case 'ratio':
      value = `CAST(count(*) FILTER (WHERE ${filterSql(a.where, p)}) AS DOUBLE) / count(*)`;
      break;
    case 'quantile': {
      const x = numberSql(a.field);
      // A DOUBLE fraction, as the stream's quantileRank assumes (a bare 0.95 would be a DECIMAL).
      value = `quantile_disc(${x}, CAST(${String(a.q)} AS DOUBLE)) FILTER (WHERE ${x} >= 0)`;
      break;
    }
    case 'sum': {
      const x = numberSql(a.field);
      value = `sum(${x}) FILTER (WHERE ${x} >= 0)`;
      break;
    }
    case 'interarrival_mean':
    case 'interarrival_cv':
      ctes.push(
        `ia AS (SELECT k, ws, we, ts - lag(ts) OVER (PARTITION BY k, ws ORDER BY ts, seq) AS gap FROM w)`,
      );
      from = 'ia';
      value =
        a.fn === 'interarrival_mean'
          ? 'avg(gap)'
          : 'CASE WHEN count(gap) < 2 OR avg(gap) = 0 THEN NULL ELSE stddev_pop(gap) / avg(gap) END';
      break;
    case 'sequential_id_score':
      // The previous non-null id: partitioning by nullness keeps null-id events out of the sequence.
      ctes.push(
        `sq AS (SELECT k, ws, we, ${col('numericId')} AS id, lag(${col('numericId')}) OVER (PARTITION BY k, ws, ${col('numericId')} IS NULL ORDER BY ts, seq) AS prev FROM w)`,
      );
      from = 'sq';
      value =
        'CASE WHEN count(prev) FILTER (WHERE id IS NOT NULL) < 2 THEN NULL ELSE ' +
        'CAST(count(*) FILTER (WHERE id IS NOT NULL AND abs(id - prev) BETWEEN 1 AND 2) AS DOUBLE) / ' +
        'count(prev) FILTER (WHERE id IS NOT NULL) END';
      break;
    case 'entropy':
      // Exact counts per value; values after the first 10,000 distinct (in arrival order) share a bucket.
      ctes.push(
        `ev AS (SELECT k, ws, v, count(*) AS c, min(seq) AS first FROM (SELECT k, ws, seq, ${valueSql(a.field)} AS v FROM w) WHERE v IS NOT NULL GROUP BY k, ws, v)`,
        `eb AS (SELECT k, ws, CASE WHEN row_number() OVER (PARTITION BY k, ws ORDER BY first) <= ${MAX_ENTROPY_VALUES} THEN v END AS b, c FROM ev)`,
        `ec AS (SELECT k, ws, CAST(sum(c) AS DOUBLE) AS c FROM eb GROUP BY k, ws, b)`,
        `ent AS (SELECT k, ws, 0.0 - sum((c / tot) * log2(c / tot)) AS h FROM (SELECT *, sum(c) OVER (PARTITION BY k, ws) AS tot FROM ec) GROUP BY k, ws)`,
      );
      joins.push('LEFT JOIN ent USING (k, ws)');
      value = 'any_value(ent.h)';
      break;
    case 'sensitive_distinct':
      ctes.push(
        `sd AS (SELECT k, ws, count(DISTINCT h) AS d FROM (SELECT k, ws, unnest(${col('sensitive')}) AS h FROM w) GROUP BY k, ws)`,
      );
      joins.push('LEFT JOIN sd USING (k, ws)');
      value = 'coalesce(any_value(sd.d), 0)';
      break;
    case 'new_endpoint_share':
      joins.push(`LEFT JOIN ${tables.firstSeen} fs ON fs.endpoint = w.${col('endpoint')}`);
      value = 'CAST(count(*) FILTER (WHERE fs.first_ts >= ws) AS DOUBLE) / count(*)';
      break;
  }
  const sql =
    `WITH ${ctes.join(',\n')}\n` +
    `SELECT k AS key, CAST(ws AS DOUBLE) AS ws, CAST(we AS DOUBLE) AS we, CAST(count(*) AS DOUBLE) AS n, ` +
    `CAST(${value} AS DOUBLE) AS v FROM ${from} ${joins.join(' ')} GROUP BY k, ws, we ORDER BY ws, k`;
  return { sql, params: p.values };
}

async function hasParts(dir: string): Promise<boolean> {
  try {
    const files = await readdir(eventsDir(dir), { recursive: true });
    return files.some((f) => f.endsWith('.parquet'));
  } catch {
    return false;
  }
}

/**
 * Computes every spec over the source. The events are read once into a temporary table (the columns the
 * features need are all FeatureEvent columns), then one query runs per feature.
 */
export async function runBatch(
  specs: readonly FeatureSpec[],
  source: BatchSource,
  o: BatchOptions = {},
): Promise<Snapshot[]> {
  if ('dir' in source && !(await hasParts(source.dir))) return [];
  const instance = o.connection ? null : await DuckDBInstance.create(':memory:');
  const conn = o.connection ?? (await instance!.connect());
  try {
    const from = 'dir' in source ? eventsRelation(source.dir) : sqlIdent(source.table);
    const cols = Object.keys(FEATURE_EVENT_COLUMNS).map(sqlIdent).join(', ');
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${EV} AS SELECT ${cols} FROM ${from}`);
    // Every endpoint's first time seen by anyone (the stream's firstSeen, for time-ordered input).
    if (specs.some((s) => s.agg.fn === 'new_endpoint_share'))
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE ${FIRST} AS SELECT endpoint, min(ts) AS first_ts FROM ${EV} GROUP BY endpoint`,
      );
    const out: Snapshot[] = [];
    for (const spec of specs) {
      const q = compileFeature(spec, specs);
      const rows = (await conn.runAndReadAll(q.sql, q.params)).getRows();
      for (const r of rows)
        out.push({
          feature: spec.name,
          key: r[0] as string,
          windowStart: r[1] as number,
          windowEnd: r[2] as number,
          events: r[3] as number,
          value: r[4] as number | null,
        });
    }
    await conn.run(`DROP TABLE IF EXISTS ${EV}`);
    await conn.run(`DROP TABLE IF EXISTS ${FIRST}`);
    return out;
  } finally {
    if (instance) {
      conn.closeSync();
      instance.closeSync();
    }
  }
}
