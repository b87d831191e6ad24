/**
 * `apiwarden ingest` (parse, enrich, append to the event store) and `apiwarden query` (SQL and ready
 * questions over it). docs/store.md describes the layout.
 */
import { existsSync } from 'node:fs';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { ApiEvent } from '../core/event.js';
import { Enricher, type FeatureEvent } from '../features/enrich.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import type { EventSink } from '../sinks/types.js';
import { EventStore, eventsDir, eventsRelation, FEATURE_EVENT_COLUMNS, sqlIdent } from '../store/events.js';
import { int, terminalSafe } from './human.js';
import { CliError, humanSummary, type Io, type ParseFlags, parseInputs } from './parse.js';

export interface IngestFlags extends ParseFlags {
  store?: string;
  retentionHours?: number;
}

class StoreSink implements EventSink {
  constructor(
    readonly store: EventStore,
    readonly enricher: Enricher,
  ) {}
  appended = 0;
  async write(events: readonly ApiEvent[]): Promise<void> {
    const out: FeatureEvent[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) out[i] = this.enricher.enrich(events[i]!);
    await this.store.append(out);
    this.appended += out.length;
  }
  async close(): Promise<void> {}
}

/** Opens DuckDB with a view `events` over the store. */
export async function openStore(dir: string): Promise<{ conn: DuckDBConnection; close: () => void } | null> {
  if (!existsSync(eventsDir(dir))) return null;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`CREATE VIEW events AS SELECT * FROM ${eventsRelation(dir)}`);
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    if (/No files found/i.test((e as Error).message)) return null;
    throw e;
  }
  return {
    conn,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export async function runIngest(inputs: string[], flags: IngestFlags, io: Io): Promise<number> {
  const dir = flags.store;
  if (dir === undefined || dir === '') throw new CliError('--store DIR is required', 2);
  // Arrival numbers continue after what the store already holds, so (ts, seq) stays a total order.
  let firstSeq = 0;
  const s = await openStore(dir);
  if (s !== null) {
    const r = await s.conn.runAndReadAll('SELECT coalesce(max(seq) + 1, 0)::BIGINT FROM events');
    firstSeq = Number(r.getRows()[0]![0] as bigint);
    s.close();
  }
  const store = new EventStore(
    dir,
    flags.retentionHours === undefined ? {} : { retentionHours: flags.retentionHours },
  );
  const sink = new StoreSink(store, new Enricher(new SensitiveScanner(), firstSeq));
  const summary = await parseInputs(inputs, { ...flags, out: undefined, captureBodies: true }, io, sink);
  const res = await store.close();
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ parse: summary, appended: sink.appended, files: res.files.length, deletedPartitions: res.deleted })}\n`,
    );
  } else if (!flags.quiet) {
    io.stderr.write(humanSummary(summary));
    io.stdout.write(
      `appended ${int(sink.appended)} events to ${eventsDir(dir)} (${res.files.length} part files)${res.deleted.length > 0 ? `; retention deleted ${res.deleted.length} hour partitions` : ''}\n`,
    );
  }
  return 0;
}

export interface QueryFlags {
  store?: string;
  sql?: string;
  actor?: string;
  endpoint?: string;
  top?: string;
  from?: string;
  to?: string;
  limit?: number;
  output?: string;
}

const ACTORS = ['ip', 'device', 'token', 'user'] as const;

function time(flag: string, v: string | undefined): number | null {
  if (v === undefined) return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new CliError(`${flag} must be an ISO 8601 time, got '${v}'`, 2);
  return t;
}

/** The query to run: the user's SQL, or one of the ready questions with bound parameters. */
function buildQuery(f: QueryFlags): { sql: string; params: DuckDBValue[] } {
  const asked = [f.sql, f.actor, f.endpoint, f.top].filter((x) => x !== undefined).length;
  if (asked !== 1) throw new CliError('give exactly one of --sql, --actor, --endpoint, --top', 2);
  const limit = f.limit ?? 100;
  const params: DuckDBValue[] = [];
  const range: string[] = [];
  const from = time('--from', f.from);
  const to = time('--to', f.to);
  if (from !== null) {
    params.push(from);
    range.push(`ts >= $${params.length}`);
  }
  if (to !== null) {
    params.push(to);
    range.push(`ts < $${params.length}`);
  }
  const where = (extra: string[]) => {
    const all = [...extra, ...range];
    return all.length === 0 ? '' : `WHERE ${all.join(' AND ')}`;
  };
  if (f.sql !== undefined) {
    if (range.length > 0)
      throw new CliError('--from / --to go with the ready questions; put the range in your --sql', 2);
    return { sql: f.sql, params };
  }
  if (f.actor !== undefined) {
    const i = f.actor.indexOf(':');
    const kind = f.actor.slice(0, i);
    if (i < 0 || !(ACTORS as readonly string[]).includes(kind))
      throw new CliError(`--actor must be ip:…, device:…, token:… or user:…, got '${f.actor}'`, 2);
    params.push(f.actor.slice(i + 1));
    const p = `$${params.length}`;
    return {
      sql: `SELECT "time", ip, method, path, endpoint, scenario, status, latencyMs, bytesOut, userAgent FROM events ${where([`${sqlIdent(kind)} = ${p}`])} ORDER BY ts, seq LIMIT ${limit}`,
      params,
    };
  }
  if (f.endpoint !== undefined) {
    params.push(f.endpoint);
    const p = `$${params.length}`;
    return {
      sql: `SELECT date_trunc('hour', "time") AS hour, count(*) AS requests, count(DISTINCT ip) AS ips, round(avg(CASE WHEN status >= 400 THEN 1 ELSE 0 END), 3) AS error_share, quantile_disc(latencyMs, 0.95) AS p95_ms FROM events ${where([`endpoint = ${p}`])} GROUP BY 1 ORDER BY 1 LIMIT ${limit}`,
      params,
    };
  }
  const kind = f.top!;
  if (!(ACTORS as readonly string[]).includes(kind) && kind !== 'endpoint')
    throw new CliError(`--top must be one of ip, device, token, user, endpoint, got '${kind}'`, 2);
  const col = sqlIdent(kind);
  return {
    sql: `SELECT ${col} AS ${col}, count(*) AS requests, count(DISTINCT endpoint) AS endpoints, round(avg(CASE WHEN status >= 400 THEN 1 ELSE 0 END), 3) AS error_share, min("time") AS first, max("time") AS last FROM events ${where([`${col} IS NOT NULL`])} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${limit}`,
    params,
  };
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return String(v);
  return String(v);
};
const csv = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export async function runQuery(flags: QueryFlags, io: Io): Promise<number> {
  const dir = flags.store;
  if (dir === undefined || dir === '') throw new CliError('--store DIR is required', 2);
  const output = flags.output ?? 'table';
  if (!['table', 'csv', 'json'].includes(output))
    throw new CliError(`--output must be table, csv or json, got '${output}'`, 2);
  const q = buildQuery(flags);
  const s = await openStore(dir);
  if (s === null) throw new CliError(`no events in '${dir}' (run apiwarden ingest --store ${dir} first)`);
  try {
    let reader: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>;
    try {
      reader = await s.conn.runAndReadAll(q.sql, q.params.length > 0 ? q.params : undefined);
    } catch (e) {
      throw new CliError(`query failed: ${(e as Error).message.split('\n')[0]}`);
    }
    const names = reader.columnNames();
    const rows = reader.getRows().map((r) => r.map(cell));
    if (output === 'json') {
      for (const r of rows)
        io.stdout.write(`${JSON.stringify(Object.fromEntries(names.map((n, i) => [n, r[i]])))}\n`);
    } else if (output === 'csv') {
      io.stdout.write(`${names.map(csv).join(',')}\n`);
      for (const r of rows) io.stdout.write(`${r.map(csv).join(',')}\n`);
    } else {
      const shown = rows.map((r) => r.map((c) => terminalSafe(c.length > 80 ? `${c.slice(0, 79)}…` : c)));
      const widths = names.map((n, i) => Math.max(n.length, ...shown.map((r) => r[i]!.length)));
      io.stdout.write(
        `${names
          .map((n, i) => n.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
      );
      for (const r of shown)
        io.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd()}\n`,
        );
      io.stdout.write(`(${int(rows.length)} rows)\n`);
    }
  } finally {
    s.close();
  }
  return 0;
}

export const STORE_COLUMNS = Object.keys(FEATURE_EVENT_COLUMNS);
