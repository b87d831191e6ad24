/**
 * The storage conformance suite on every backend: the file store (the StateStore part), PGlite in a
 * temporary directory, and the PostgreSQL server at 127.0.0.1:5432 (trust auth, user postgres; each run
 * creates a database `apiwarden_test_<random>` from the `test` database and drops it afterwards, each test a
 * schema of its own in it). The server is part of CI here: when it cannot be reached these tests fail,
 * saying so; APIWARDEN_TEST_DATABASE_URL points them at another one.
 *
 * PGlite's first start (initdb in WASM) takes seconds, so it runs once into a template directory and every
 * test copies that.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../respond/state.js';
import { type ConformanceStore, serverStateConformance, stateConformance, tamperDb } from './conformance.js';
import { openPglite, redactUrl } from './db.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { openState, PgStateStore, pgliteDir } from './pg-state.js';

const temps: string[] = [];
const temp = async (prefix: string) => {
  const d = await mkdtemp(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

// ---- the file store

stateConformance('FileStateStore', {
  open: async () => FileStateStore.open(await temp('aw-file-')),
  reopen: (s) => FileStateStore.open(s.location),
  tamper: async (s, seq, from, to) => {
    const path = join(s.location, 'audit.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[seq - 1] = lines[seq - 1]!.replace(from, to);
    writeFileSync(path, lines.join('\n'));
  },
});

// ---- PGlite

const pglite = (() => {
  let template: Promise<string> | undefined;
  const dirs = new WeakMap<object, string>();
  const at = async (dir: string) => {
    const s = await openState({ dataDir: dir });
    dirs.set(s, dir);
    return s;
  };
  return {
    /** Runs initdb and the migrations once. */
    init: () => {
      template ??= (async () => {
        const dir = await temp('aw-pglite-template-');
        await (await openState({ dataDir: dir })).close();
        return dir;
      })();
      return template;
    },
    open: async () => {
      const dir = await temp('aw-pglite-');
      cpSync(pgliteDir(await pglite.init()), pgliteDir(dir), { recursive: true });
      return at(dir);
    },
    reopen: (s: ConformanceStore) => at(dirs.get(s)!),
  };
})();

describe('PGlite', () => {
  beforeAll(() => pglite.init(), 120_000);
  stateConformance('PGlite', { open: pglite.open, reopen: pglite.reopen, tamper: tamperDb });
  serverStateConformance('PGlite', pglite.open);

  it('refuses a second open of the same directory while the first is open', async () => {
    const s = await pglite.open();
    const dir = s.location;
    await expect(openPglite(dir)).rejects.toThrow(/already open in this process; close it first/);
    await s.close();
    const again = await openPglite(dir);
    await again.close();
  });
});

// ---- PostgreSQL

const BASE = process.env.APIWARDEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN_ID = randomBytes(6).toString('hex');
const RUN_DB = `apiwarden_test_${RUN_ID}`;
/** A login role for the least-privilege test (roles are cluster-wide: dropped with the database). */
const APP_ROLE = `apiwarden_test_app_${RUN_ID}`;

const server = (() => {
  let ready: Promise<{ admin: pg.Client; run: pg.Client }> | undefined;
  let schemas = 0;
  const urls = new WeakMap<object, string>();
  const runUrl = (schema?: string) => {
    const u = new URL(BASE);
    u.pathname = `/${RUN_DB}`;
    if (schema !== undefined) u.searchParams.set('options', `-c search_path=${schema}`);
    return u.toString();
  };
  // Database and schema names cannot be parameters; these are ours (hex and a counter), never input.
  const ident = (name: string) => {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a safe identifier: ${name}`);
    return `"${name}"`;
  };
  const init = () => {
    ready ??= (async () => {
      const admin = new pg.Client({ connectionString: BASE, connectionTimeoutMillis: 5_000 });
      try {
        await admin.connect();
      } catch (e) {
        throw new Error(
          `the PostgreSQL conformance tests need the server at ${redactUrl(BASE)} (trust auth, user postgres, ` +
            `database test), and could not connect: ${(e as Error).message}. Start PostgreSQL, or set ` +
            'APIWARDEN_TEST_DATABASE_URL to a server where the tests may create and drop a database.',
        );
      }
      await admin.query(`CREATE DATABASE ${ident(RUN_DB)}`);
      const run = new pg.Client({ connectionString: runUrl() });
      await run.connect();
      return { admin, run };
    })();
    return ready;
  };
  const at = async (url: string) => {
    const s = await openState({ databaseUrl: url });
    urls.set(s, url);
    return s;
  };
  return {
    init,
    runUrl,
    ident,
    /** A fresh schema in the run's database; returns its URL. */
    schema: async () => {
      const { run } = await init();
      const name = `t${++schemas}`;
      await run.query(`CREATE SCHEMA ${ident(name)}`);
      return runUrl(name);
    },
    /** The superuser connection to the run's database. */
    run: async () => (await init()).run,
    open: async () => at(await server.schema()),
    reopen: (s: ConformanceStore) => at(urls.get(s)!),
    drop: async () => {
      if (ready === undefined) return;
      const { admin, run } = await ready.catch(() => ({ admin: undefined, run: undefined }));
      await run?.end();
      await admin?.query(`DROP DATABASE IF EXISTS ${ident(RUN_DB)} WITH (FORCE)`);
      await admin?.query(`DROP ROLE IF EXISTS ${ident(APP_ROLE)}`);
      await admin?.end();
    },
  };
})();

describe('PostgreSQL', () => {
  beforeAll(() => server.init().then(() => {}), 30_000);

  stateConformance('PostgreSQL', { open: server.open, reopen: server.reopen, tamper: tamperDb });
  serverStateConformance('PostgreSQL', server.open);

  it('two processes starting at once apply each migration once', async () => {
    const url = await server.schema();
    const [a, b] = await Promise.all([openState({ databaseUrl: url }), openState({ databaseUrl: url })]);
    const rows = await a.db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await Promise.all([a.close(), b.close()]);
  });

  it('a server role that does not own the tables works, and cannot disable the audit trigger', async () => {
    const url = await server.schema();
    const schema = /search_path=(\w+)/.exec(new URL(url).searchParams.get('options')!)![1]!;
    await (await openState({ databaseUrl: url })).close(); // migrations, as the owner
    const run = await server.run();
    const [role, sch] = [server.ident(APP_ROLE), server.ident(schema)];
    await run.query(`CREATE ROLE ${role} LOGIN`);
    for (const grant of [
      `GRANT USAGE ON SCHEMA ${sch} TO ${role}`,
      `GRANT SELECT ON ${sch}.schema_migrations TO ${role}`,
      `GRANT SELECT, INSERT ON ${sch}.audit TO ${role}`,
      `GRANT SELECT, UPDATE ON ${sch}.audit_head TO ${role}`,
      `GRANT SELECT, INSERT, UPDATE ON ${sch}.incidents, ${sch}.decisions, ${sch}.allowlist, ${sch}.inventory_snapshots, ${sch}.profiles, ${sch}.users, ${sch}.api_tokens TO ${role}`,
    ])
      await run.query(grant);
    const appUrl = new URL(url);
    appUrl.username = APP_ROLE;
    const app = await openState({ databaseUrl: appUrl.toString() });
    try {
      await app.audit({ ts: 1, by: 'al', action: 'incident.created', target: 'inc-1' });
      await app.addAllow({ kind: 'ip', value: '198.51.100.1', reason: 'fp', by: 'al', ts: 1 });
      await app.createUser('ann', 'viewer');
      expect(await app.authenticate((await app.createToken('ann')).secret)).not.toBeNull();
      await app.putProfile({ kind: 'apiwarden-profile' } as never);
      await expect(app.db.exec('ALTER TABLE audit DISABLE TRIGGER USER')).rejects.toThrow(/must be owner/);
      await expect(app.db.query("UPDATE audit SET actor = 'mallory'")).rejects.toThrow(/permission denied/);
      await expect(app.db.query('DELETE FROM audit')).rejects.toThrow(/permission denied/);
      expect(await app.verifyAudit()).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('a failing migration changes nothing; a schema newer than this apiwarden is refused', async () => {
    const s = await server.open();
    const bad = { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE x (a int); SELEC 1;' };
    await expect(migrate(s.db, [...MIGRATIONS, bad])).rejects.toThrow(
      new RegExp(`migration ${bad.version} \\(broken\\) failed on .*syntax error.*nothing was changed`),
    );
    expect(await s.db.query("SELECT to_regclass('x') AS t")).toEqual([{ t: null }]);
    await s.db.query('INSERT INTO schema_migrations (version, name, applied_ts) VALUES ($1, $2, $3)', [
      99,
      'from the future',
      0,
    ]);
    await expect(PgStateStore.open(s.db)).rejects.toThrow(
      /has schema version 99, newer than this apiwarden knows \(3\): upgrade apiwarden/,
    );
  });

  it('a bad DATABASE_URL fails naming DATABASE_URL and what failed, never the password', async () => {
    await server.init();
    const cases: [string, RegExp][] = [
      [
        'postgres://postgres:s3cret-pw@127.0.0.1:1/x',
        /^DATABASE_URL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x: cannot connect: .*ECONNREFUSED/,
      ],
      [
        `postgres://postgres:s3cret-pw@127.0.0.1:5432/${RUN_DB}_missing`,
        /^DATABASE_URL postgres:\/\/postgres:\*\*\*@.*: cannot connect: database ".*_missing" does not exist/,
      ],
      [
        'mysql://root:s3cret-pw@db/x',
        /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, not mysql:\/\//,
      ],
      ['s3cret-pw', /^DATABASE_URL is not a URL; expected postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE/],
      [
        'postgres://postgres:s3cret-pw@127.0.0.1:5432',
        /^DATABASE_URL names no database \(postgres:\/\/postgres:\*\*\*@/,
      ],
    ];
    for (const [url, want] of cases) {
      const err = await openState({ databaseUrl: url }).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(want);
      expect(err!.message).not.toContain('s3cret-pw');
    }
    expect(redactUrl('postgres://u:pw@h/db?sslmode=require&password=pw2')).toBe('postgres://u:***@h/db?…');
  });
});

// ---- across backends

describe('across backends', () => {
  beforeAll(async () => {
    await Promise.all([pglite.init(), server.init()]);
  }, 120_000);

  it('the same audit entries make the same chain, line for line, on every backend', async () => {
    const stores = [
      await FileStateStore.open(await temp('aw-file-')),
      await pglite.open(),
      await server.open(),
    ];
    const entries = [
      {
        ts: 1,
        by: 'analyze',
        action: 'incident.created',
        target: 'inc-1',
        data: { type: 'crawler', actors: 3 },
      },
      { ts: 2, by: 'policy', action: 'decision.proposed', target: 'dec-1' },
      {
        ts: 3,
        by: 'al',
        action: 'incident.transition',
        target: 'inc-1',
        data: { to: 'triaged', note: 'é\u0000' },
      },
    ];
    const chains: string[][] = [];
    for (const s of stores) {
      for (const e of entries) await s.audit(e);
      chains.push((await s.auditLog()).map((e) => JSON.stringify(e)));
      await s.close();
    }
    expect(chains[1]).toEqual(chains[0]);
    expect(chains[2]).toEqual(chains[0]);
    // The file store's lines are those lines.
    const file = readFileSync(join(stores[0]!.location, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
    expect(file).toEqual(chains[0]);
  });
});

afterAll(() => server.drop(), 30_000);
