/**
 * The event store: enriched events (FeatureEvents) as Parquet files partitioned by hour, in the Hive layout
 * DuckDB (and Spark, Trino, pandas...) read directly:
 *
 *   DIR/events/date=YYYY-MM-DD/hour=HH/part-<n>.parquet      (UTC)
 *
 * Rows go into an in-memory DuckDB table through an appender (columnar, compact: the JS objects are not kept);
 * `flush()` writes one new part per hour touched with `COPY ... TO ... (FORMAT parquet)`. A part is written
 * under a hidden temporary name and renamed, so a reader globbing `*.parquet` never sees half a file.
 * Retention deletes whole hour partitions that ended before the newest event time minus `retentionHours`.
 * docs/store.md documents the layout and the columns.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance, LIST, VARCHAR } from '@duckdb/node-api';
import type { FeatureEvent } from '../features/enrich.js';

/** FeatureEvent fields as DuckDB columns (names as in FeatureEvent), in appender order. */
export const FEATURE_EVENT_COLUMNS = {
  ts: 'BIGINT',
  seq: 'BIGINT',
  ip: 'VARCHAR',
  device: 'VARCHAR',
  token: 'VARCHAR',
  user: 'VARCHAR',
  host: 'VARCHAR',
  method: 'VARCHAR',
  path: 'VARCHAR',
  endpoint: 'VARCHAR',
  scenario: 'VARCHAR',
  status: 'INTEGER',
  latencyMs: 'DOUBLE',
  bytesOut: 'BIGINT',
  bytesIn: 'BIGINT',
  userAgent: 'VARCHAR',
  numericId: 'BIGINT',
  sensitive: 'VARCHAR[]',
} as const satisfies Record<keyof FeatureEvent, string>;

const HOUR = 3_600_000;

/** A SQL string literal: single quotes doubled. Only for paths we build; never for traffic values. */
export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** A quoted SQL identifier (our own names only). */
export const sqlIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** The UTC hour partition of an event time: `date=YYYY-MM-DD/hour=HH`. */
export function partitionOf(ts: number): string {
  const iso = new Date(Math.floor(ts / HOUR) * HOUR).toISOString();
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** The events directory under a store directory. */
export const eventsDir = (dir: string): string => join(resolve(dir), 'events');

/**
 * The DuckDB relation over every stored event: `read_parquet('DIR/events/** /*.parquet', hive_partitioning =
 * true)` (adds `date` DATE and `hour` INTEGER columns, which filters prune on). The path is a quoted literal; glob characters in DIR itself (`*`,
 * `?`, `[`) would still be globbed, so store directories should not contain them.
 */
export function eventsRelation(dir: string): string {
  return `read_parquet(${sqlString(join(eventsDir(dir), '**', '*.parquet'))}, hive_partitioning = true, hive_types = {'date': DATE, 'hour': INTEGER})`;
}

export interface EventStoreOptions {
  /** Keep this many hours before the newest event time; older hour partitions are deleted on flush. */
  retentionHours?: number;
  /** Flush on its own once this many rows are buffered (default 500,000). */
  maxBufferedRows?: number;
}

export interface FlushResult {
  rows: number;
  /** Paths of the part files written. */
  files: string[];
  /** Partitions (`date=.../hour=..`) deleted by retention. */
  deleted: string[];
}

const BUFFER = 'buf';
const columnsDdl = Object.entries(FEATURE_EVENT_COLUMNS)
  .map(([k, v]) => `${sqlIdent(k)} ${v}`)
  .join(', ');
/** What a part holds: every column plus `time` (TIMESTAMP, UTC) for humans and time-based SQL. */
const partSelect = [
  ...Object.keys(FEATURE_EVENT_COLUMNS).map(sqlIdent),
  'make_timestamp(ts * 1000) AS "time"',
].join(', ');
const VARCHAR_LIST = LIST(VARCHAR);

export class EventStore {
  private instance: DuckDBInstance | null = null;
  private conn: DuckDBConnection | null = null;
  private appender: DuckDBAppender | null = null;
  /** Hour starts of the buffered rows. */
  private readonly hours = new Set<number>();
  private buffered = 0;
  private newest = Number.NEGATIVE_INFINITY;
  private readonly root: string;

  constructor(
    readonly dir: string,
    private readonly o: EventStoreOptions = {},
  ) {
    this.root = eventsDir(dir);
  }

  private async open(): Promise<DuckDBAppender> {
    if (this.appender) return this.appender;
    if (!this.conn) {
      this.instance = await DuckDBInstance.create(':memory:');
      this.conn = await this.instance.connect();
      await this.conn.run(`CREATE TABLE ${BUFFER} (${columnsDdl})`);
    }
    this.appender = await this.conn.createAppender(BUFFER);
    return this.appender;
  }

  /** Buffers events (any order, any hours); flushes on its own past `maxBufferedRows`. */
  async append(events: readonly FeatureEvent[]): Promise<void> {
    const a = await this.open();
    for (const e of events) {
      a.appendBigInt(BigInt(e.ts));
      a.appendBigInt(BigInt(e.seq));
      a.appendVarchar(e.ip);
      str(a, e.device);
      str(a, e.token);
      str(a, e.user);
      str(a, e.host);
      a.appendVarchar(e.method);
      a.appendVarchar(e.path);
      a.appendVarchar(e.endpoint);
      a.appendVarchar(e.scenario);
      a.appendInteger(e.status);
      if (e.latencyMs === null) a.appendNull();
      else a.appendDouble(e.latencyMs);
      int(a, e.bytesOut);
      int(a, e.bytesIn);
      str(a, e.userAgent);
      int(a, e.numericId);
      a.appendList(e.sensitive, VARCHAR_LIST);
      a.endRow();
      this.hours.add(Math.floor(e.ts / HOUR) * HOUR);
      if (e.ts > this.newest) this.newest = e.ts;
    }
    this.buffered += events.length;
    if (this.buffered >= (this.o.maxBufferedRows ?? 500_000)) await this.flush();
  }

  /** Writes one new part per buffered hour, then applies retention. */
  async flush(): Promise<FlushResult> {
    const res: FlushResult = { rows: this.buffered, files: [], deleted: [] };
    if (this.appender && this.conn) {
      this.appender.closeSync();
      this.appender = null;
      const conn = this.conn;
      for (const h of [...this.hours].sort((x, y) => x - y)) {
        const part = join(this.root, partitionOf(h));
        await mkdir(part, { recursive: true });
        const n = await nextPart(part);
        const tmp = join(part, `.part-${n}.parquet.tmp`);
        const final = join(part, `part-${n}.parquet`);
        // Numbers only in the SQL: the hour bounds are ours.
        await conn.run(
          `COPY (SELECT ${partSelect} FROM ${BUFFER} WHERE ts >= ${h} AND ts < ${h + HOUR} ORDER BY ts, seq) ` +
            `TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        await rename(tmp, final);
        res.files.push(final);
      }
      await conn.run(`DELETE FROM ${BUFFER}`);
      this.hours.clear();
      this.buffered = 0;
    }
    if (this.o.retentionHours !== undefined && Number.isFinite(this.newest))
      res.deleted = await this.retain(this.newest - this.o.retentionHours * HOUR);
    return res;
  }

  /** Deletes hour partitions whose whole hour lies before `cutoff` (ms). Returns the partitions deleted. */
  async retain(cutoff: number): Promise<string[]> {
    const deleted: string[] = [];
    for (const d of await dirs(this.root)) {
      const dm = /^date=(\d{4}-\d{2}-\d{2})$/.exec(d);
      if (!dm) continue;
      const hoursIn = await dirs(join(this.root, d));
      let left = hoursIn.length;
      for (const hd of hoursIn) {
        const hm = /^hour=(\d{2})$/.exec(hd);
        if (!hm) continue;
        const start = Date.parse(`${dm[1]}T${hm[1]}:00:00Z`);
        if (Number.isNaN(start) || start + HOUR > cutoff) continue;
        await rm(join(this.root, d, hd), { recursive: true, force: true });
        deleted.push(`${d}/${hd}`);
        left--;
      }
      if (left === 0) await rm(join(this.root, d), { recursive: true, force: true });
    }
    return deleted.sort();
  }

  /** Flushes and releases DuckDB. */
  async close(): Promise<FlushResult> {
    const r = await this.flush();
    this.conn?.closeSync();
    this.instance?.closeSync();
    this.conn = null;
    this.instance = null;
    return r;
  }
}

function str(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(v);
}

function int(a: DuckDBAppender, v: number | null): void {
  // Byte counts and ids are integers in every source; a fraction would be a parser bug, so round, not throw.
  if (v === null || !Number.isFinite(v)) a.appendNull();
  else a.appendBigInt(BigInt(Math.round(v)));
}

async function dirs(p: string): Promise<string[]> {
  try {
    return (await readdir(p, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The next free part number in a partition (parts are never overwritten: appends add files). */
async function nextPart(partDir: string): Promise<number> {
  let max = -1;
  for (const f of await readdir(partDir)) {
    const m = /^part-(\d+)\.parquet$/.exec(f);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}
