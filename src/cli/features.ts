/** `apiwarden features`: feature snapshots of traffic, computed by the stream engine (docs/features.md). */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse as parseYaml } from 'yaml';
import type { ApiEvent } from '../core/event.js';
import { runBatch } from '../features/batch.js';
import { defaultFeatures } from '../features/defaults.js';
import type { FeatureEvent } from '../features/enrich.js';
import { Enricher } from '../features/enrich.js';
import { type FeatureSpec, parseFeatures } from '../features/spec.js';
import { KEY_SEP, type Snapshot, StreamEngine } from '../features/stream.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import type { EventSink } from '../sinks/types.js';
import { int } from './human.js';
import {
  CliError,
  humanSummary,
  type Io,
  type ParseFlags,
  type ParseSummary,
  parseInputs,
  readFlagFile,
} from './parse.js';
import { openStore, STORE_COLUMNS } from './store.js';

export interface FeaturesFlags extends ParseFlags {
  store?: string;
  specs?: string;
  engine?: string;
  maxKeys?: number;
}

/** Snapshot rows as JSON lines: the key as its parts, joined by `|` for reading and kept as an array. */
class RowWriter {
  private readonly file;
  rows = 0;
  constructor(path: string) {
    this.file = createWriteStream(path);
  }
  async write(rows: readonly Snapshot[]): Promise<void> {
    if (rows.length === 0) return;
    let text = '';
    for (const r of rows) {
      text += `${JSON.stringify({
        feature: r.feature,
        key: r.key.split(KEY_SEP),
        windowStart: new Date(r.windowStart).toISOString(),
        windowEnd: new Date(r.windowEnd).toISOString(),
        events: r.events,
        value: r.value,
      })}\n`;
    }
    this.rows += rows.length;
    if (!this.file.write(text)) await once(this.file, 'drain');
  }
  async close(): Promise<void> {
    const done = once(this.file, 'close');
    this.file.end();
    await done;
  }
}

class FeatureSink implements EventSink {
  readonly enricher = new Enricher(new SensitiveScanner());
  constructor(
    readonly engine: StreamEngine,
    readonly out: RowWriter,
  ) {}
  async write(events: readonly ApiEvent[]): Promise<void> {
    const rows: Snapshot[] = [];
    for (const e of events) {
      const r = this.engine.push(this.enricher.enrich(e));
      for (let i = 0; i < r.length; i++) rows.push(r[i]!);
    }
    await this.out.write(rows);
  }
  async close(): Promise<void> {
    await this.out.write(this.engine.flush());
  }
}

async function loadSpecs(path: string | undefined): Promise<FeatureSpec[]> {
  if (path === undefined) return defaultFeatures();
  const text = await readFlagFile(path, '--specs');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new CliError(`${path}: not YAML (${(e as Error).message.split('\n')[0]})`, 2);
  }
  const list = Array.isArray(doc) ? doc : (doc as { features?: unknown } | null)?.features;
  if (!Array.isArray(list))
    throw new CliError(`${path}: expected a list of features (or a 'features:' list)`, 2);
  const r = parseFeatures(list);
  if (!r.ok) throw new CliError(`${path}: ${r.error.join('\n')}`, 2);
  return r.value;
}

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

export async function runFeatures(inputs: string[], flags: FeaturesFlags, io: Io): Promise<number> {
  const out = flags.out;
  if (out === undefined || out === '' || out === '-')
    throw new CliError('--out FILE.jsonl or FILE.parquet is required', 2);
  const ext = extname(out).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.parquet')
    throw new CliError(`--out '${out}': use a .jsonl or .parquet file name`, 2);
  const engineName = flags.engine ?? 'stream';
  if (engineName !== 'stream' && engineName !== 'batch')
    throw new CliError(`--engine must be stream or batch, got '${engineName}'`, 2);
  if (engineName === 'batch' && flags.store === undefined)
    throw new CliError(
      '--engine batch reads the event store: give --store DIR (fill it with apiwarden ingest)',
      2,
    );
  if (flags.store !== undefined && inputs.length > 0)
    throw new CliError('give inputs or --store, not both', 2);
  const specs = await loadSpecs(flags.specs);
  const engine = new StreamEngine(specs, flags.maxKeys === undefined ? {} : { maxKeys: flags.maxKeys });
  const spool = ext === '.parquet' ? await mkdtemp(join(tmpdir(), 'apiwarden-features-')) : null;
  const jsonl = spool === null ? out : join(spool, 'rows.jsonl');
  const writer = new RowWriter(jsonl);
  let summary: ParseSummary | null = null;
  let events = 0;
  if (flags.store !== undefined) {
    if (engineName === 'batch') {
      const rows = await runBatch(specs, { dir: flags.store });
      await writer.write(rows);
    } else {
      let rows: Snapshot[] = [];
      events = await forEachStoredEvent(
        flags.store,
        (e) => {
          const out2 = engine.push(e);
          for (let i = 0; i < out2.length; i++) rows.push(out2[i]!);
        },
        async () => {
          await writer.write(rows);
          rows = [];
        },
      );
      await writer.write(engine.flush());
    }
  } else {
    const sink = new FeatureSink(engine, writer);
    summary = await parseInputs(inputs, { ...flags, out: undefined, captureBodies: true }, io, sink);
    events = summary.events;
  }
  await writer.close();
  if (spool !== null) {
    try {
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      await c.run(
        `COPY (SELECT feature, key, CAST(windowStart AS TIMESTAMP) AS windowStart, CAST(windowEnd AS TIMESTAMP) AS windowEnd, events, value FROM read_json(${lit(jsonl)}, columns = {feature: 'VARCHAR', key: 'VARCHAR[]', windowStart: 'VARCHAR', windowEnd: 'VARCHAR', events: 'BIGINT', value: 'DOUBLE'}, format = 'newline_delimited')) TO ${lit(resolve(out))} (FORMAT parquet)`,
      );
      c.closeSync();
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  }
  const stats = engine.stats();
  let late = 0;
  let overflow = 0;
  for (const f of Object.values(stats.features)) {
    late += f.late;
    overflow += f.overflow;
  }
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ parse: summary, engine: engineName, events, features: specs.length, rows: writer.rows, late, overflow, output: out })}\n`,
    );
  } else if (!flags.quiet) {
    if (summary !== null) io.stderr.write(humanSummary(summary));
    io.stdout.write(
      `${int(writer.rows)} snapshot rows of ${specs.length} features (${engineName} engine) in ${out}${engineName === 'stream' ? `; late events ${int(late)}, over the key cap ${int(overflow)}` : ''}\n`,
    );
  }
  return 0;
}

/**
 * Every event of the store, in time order, as FeatureEvents; returns how many. `afterChunk` runs after each
 * chunk DuckDB hands over (a place to write out what the chunk produced, with back-pressure).
 */
export async function forEachStoredEvent(
  dir: string,
  fn: (e: FeatureEvent) => void,
  afterChunk?: () => Promise<void>,
): Promise<number> {
  const s = await openStore(dir);
  if (s === null) throw new CliError(`no events in '${dir}' (run apiwarden ingest --store ${dir} first)`);
  let n = 0;
  try {
    const cols = STORE_COLUMNS.map((c) => `"${c}"`).join(', ');
    const result = await s.conn.stream(`SELECT ${cols} FROM events ORDER BY ts, seq`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      for (const r of chunk.getRows()) {
        n++;
        fn(rowToEvent(r));
      }
      await afterChunk?.();
    }
  } finally {
    s.close();
  }
  return n;
}

/** A store row (columns in STORE_COLUMNS order) as a FeatureEvent. */
export function rowToEvent(r: readonly unknown[]): FeatureEvent {
  const n = (v: unknown): number | null => (v === null ? null : Number(v));
  const sens = r[17] as { items?: unknown[] } | null;
  return {
    ts: Number(r[0]),
    seq: Number(r[1]),
    ip: r[2] as string,
    device: r[3] as string | null,
    token: r[4] as string | null,
    user: r[5] as string | null,
    host: r[6] as string | null,
    method: r[7] as string,
    path: r[8] as string,
    endpoint: r[9] as string,
    scenario: r[10] as string,
    status: Number(r[11]),
    latencyMs: n(r[12]),
    bytesOut: n(r[13]),
    bytesIn: n(r[14]),
    userAgent: r[15] as string | null,
    numericId: n(r[16]),
    sensitive: sens === null || sens.items === undefined ? [] : (sens.items as string[]),
  };
}
