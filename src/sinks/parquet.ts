/**
 * Events as a Parquet file, through DuckDB. Events are spooled as JSON lines to a temporary file (bounded
 * memory, whatever the input size), then DuckDB reads them with an explicit schema and writes Parquet in one
 * multi-threaded COPY. The column layout below is the event store's schema; docs/formats.md documents it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ApiEvent } from '../core/event.js';
import { JsonlSink } from './jsonl.js';
import type { EventSink } from './types.js';

/** ApiEvent fields as DuckDB columns; maps and header sets are JSON text. */
export const EVENT_COLUMNS: Record<string, string> = {
  ts: 'BIGINT',
  ip: 'VARCHAR',
  method: 'VARCHAR',
  host: 'VARCHAR',
  path: 'VARCHAR',
  query: 'JSON',
  status: 'SMALLINT',
  bytesOut: 'BIGINT',
  bytesIn: 'BIGINT',
  latencyMs: 'DOUBLE',
  userAgent: 'VARCHAR',
  referer: 'VARCHAR',
  token: 'VARCHAR',
  user: 'VARCHAR',
  device: 'VARCHAR',
  protocol: 'VARCHAR',
  requestHeaders: 'JSON',
  responseHeaders: 'JSON',
  requestBody: 'VARCHAR',
  responseBody: 'VARCHAR',
  bodyTruncated: 'BOOLEAN',
  origin: 'STRUCT(source VARCHAR, line BIGINT)',
};

/** SQL string literal: single quotes doubled. Paths come from the user, never from traffic. */
const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The SELECT list written to Parquet: every event column plus `time` (TIMESTAMP, UTC) for humans. */
function selectList(): string {
  const cols = Object.keys(EVENT_COLUMNS).map((c) =>
    EVENT_COLUMNS[c] === 'JSON' ? `CAST("${c}" AS VARCHAR) AS "${c}"` : `"${c}"`,
  );
  return ['make_timestamp(ts * 1000) AS "time"', ...cols].join(', ');
}

export class ParquetSink implements EventSink {
  private spool: JsonlSink | null = null;
  private dir: string | null = null;
  private count = 0;

  constructor(private readonly path: string) {}

  private async open(): Promise<JsonlSink> {
    if (this.spool) return this.spool;
    this.dir = await mkdtemp(join(tmpdir(), 'apiwarden-parquet-'));
    this.spool = new JsonlSink(join(this.dir, 'events.jsonl'));
    return this.spool;
  }

  async write(events: readonly ApiEvent[]): Promise<void> {
    const spool = await this.open();
    this.count += events.length;
    await spool.write(events);
  }

  async close(): Promise<void> {
    const spool = await this.open();
    await spool.close();
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const columns = `{${Object.entries(EVENT_COLUMNS)
        .map(([k, v]) => `${lit(k)}: ${lit(v)}`)
        .join(', ')}}`;
      const src =
        this.count === 0
          ? `(SELECT * FROM (SELECT ${Object.entries(EVENT_COLUMNS)
              .map(([k, v]) => `CAST(NULL AS ${v}) AS "${k}"`)
              .join(', ')}) WHERE false)`
          : `read_json(${lit(join(this.dir!, 'events.jsonl'))}, format = 'newline_delimited', columns = ${columns}, maximum_object_size = 1073741824)`;
      await conn.run(
        `COPY (SELECT ${selectList()} FROM ${src}) TO ${lit(resolve(this.path))} (FORMAT parquet, COMPRESSION zstd)`,
      );
    } finally {
      conn.closeSync();
      instance.closeSync();
      await rm(this.dir!, { recursive: true, force: true });
    }
  }
}
