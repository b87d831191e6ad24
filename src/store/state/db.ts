/**
 * A tiny database handle over the two PostgreSQLs the server's state can live in: an embedded PGlite (WASM
 * PostgreSQL in this process, a directory under the data directory: nothing to install or run) and a real
 * PostgreSQL server (`DATABASE_URL`, for several processes or a managed database). The state store and the
 * migrations speak plain PostgreSQL through `query(sql, params)` and `transaction(fn)`, so the same SQL runs
 * on both. Values always travel as parameters, never inside the SQL text.
 *
 * Both drivers are loaded on first use (PGlite brings a WASM build of PostgreSQL; the CLI's other commands
 * should not pay for it). BIGINT comes back as a JS number on both (the drivers disagree otherwise: pg
 * returns strings): the state keeps ms epochs and sequence numbers there, far below 2^53.
 *
 * PGlite is one process's database: a lock file next to the directory refuses a second process (and a second
 * open in this one) instead of letting two WASM PostgreSQLs write the same files.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PoolClient } from 'pg';
import { dropLockFile, takeLockFile } from '../../core/lockfile.js';

export type Row = Record<string, unknown>;

/** What runs SQL: the database itself, or one transaction on it. */
export interface Queryable {
  /** One statement; `$1`, `$2`… are bound to `params`. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations: fixed SQL only). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Where it is, safe to print: the PGlite directory, or the URL without its password. */
  readonly location: string;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. On PGlite
   * transactions (and every other query) run one at a time; on PostgreSQL each gets its own connection.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DbError extends Error {}

const INT8 = 20;

/**
 * A connection URL safe to print: scheme, user, host, port and database; the password becomes `***` and
 * the query string (which can carry `password=`, `sslkey=`…) is left out. Anything that is not a postgres://
 * URL shows only its scheme: it may be a password pasted in the wrong place.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(not a URL)';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return `${u.protocol}//…`;
  const user = u.username === '' ? '' : `${u.username}${u.password === '' ? '' : ':***'}@`;
  return `${u.protocol}//${user}${u.host}${u.pathname}${u.search === '' ? '' : '?…'}`;
}

/**
 * Connects to the PostgreSQL server named by a `DATABASE_URL` (postgres:// or postgresql://) and checks that
 * it answers. Errors name DATABASE_URL and what failed, with the password masked.
 */
export async function openPostgres(url: string, opts: { max?: number } = {}): Promise<Db> {
  const shown = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DbError(
      'DATABASE_URL is not a URL; expected postgres://USER:PASSWORD@HOST:5432/DATABASE (a password with ' +
        'special characters must be percent-encoded)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new DbError(`DATABASE_URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
  if (parsed.pathname.replace(/^\//, '') === '')
    throw new DbError(`DATABASE_URL names no database (${shown}); add /DATABASE after the host`);
  const pg = (await import('pg')).default;
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8 && format !== 'binary'
        ? (v: string) => Number(v)
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 10_000,
    application_name: 'apiwarden',
    types,
  });
  // An idle connection the server dropped (restart, failover) is discarded by the pool; the next query opens
  // a new one. Without a listener the 'error' event would end the process.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => {});
    throw new DbError(`DATABASE_URL ${shown}: cannot connect: ${(e as Error).message}`);
  }
  return new PgDb(pool, shown);
}

class PgDb implements Db {
  readonly kind = 'postgres';
  constructor(
    private readonly pool: import('pg').Pool,
    readonly location: string,
  ) {}

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(sql, params as unknown[])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = clientQueryable(client);
    try {
      await client.query('BEGIN');
      const out = await fn(tx);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollback) {
        client.release(rollback as Error); // broken connection: the pool drops it
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function clientQueryable(client: PoolClient): Queryable {
  return {
    async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []) {
      return (await client.query<T>(sql, params as unknown[])).rows;
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

/** Directories this process has open through PGlite. */
const openHere = new Set<string>();

/** Opens (creating when new) an embedded PGlite database in a directory. */
export async function openPglite(dir: string): Promise<Db> {
  const path = resolve(dir);
  mkdirSync(dirname(path), { recursive: true });
  const lock = `${path}.lock`;
  if (openHere.has(path)) throw new DbError(`${path} is already open in this process; close it first`);
  takeLockFile(
    lock,
    (pid) =>
      new DbError(
        `${path} is in use by process ${pid} (the embedded database is one process's); stop it, ` +
          `remove ${lock} if it is gone, or set DATABASE_URL to share a PostgreSQL server`,
      ),
  );
  openHere.add(path);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const pg = await PGlite.create(path, { parsers: { [INT8]: (v: string) => Number(v) } });
    return new PgliteDb(pg, path, () => {
      openHere.delete(path);
      dropLockFile(lock);
    });
  } catch (e) {
    openHere.delete(path);
    dropLockFile(lock);
    throw new DbError(`${path}: cannot open the embedded database: ${(e as Error).message}`);
  }
}

class PgliteDb implements Db {
  readonly kind = 'pglite';
  private closed = false;
  constructor(
    private readonly pg: PGlite,
    readonly location: string,
    private readonly release: () => void,
  ) {}

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.pg.query<T>(sql, [...params])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) =>
      fn({
        async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []) {
          return (await tx.query<R>(sql, [...params])).rows;
        },
        async exec(sql: string) {
          await tx.exec(sql);
        },
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pg.close();
    } finally {
      this.release();
    }
  }
}
