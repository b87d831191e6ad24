/**
 * The state schema as numbered migrations (docs/state.md), the same SQL on PGlite and PostgreSQL. `migrate`
 * applies the ones a database lacks, in order, all in one transaction (a failing migration leaves the
 * database as it was), and records each in `schema_migrations`. A transaction-scoped advisory lock makes two
 * processes that start at once take turns: the second finds the work done. (PGlite is one process's
 * database; the lock costs nothing there.)
 *
 * A migration, once released, is never edited: a change is a new migration. A database migrated by a newer
 * apiwarden (a version this one does not know) is refused rather than used with the wrong schema.
 */
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Any fixed number shared by every apiwarden; 'apiw' in ASCII. */
const LOCK_KEY = 0x61706977;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'response state: incidents, decisions, allow-list, audit log',
    sql: `
CREATE TABLE incidents (
  id text PRIMARY KEY,
  status text NOT NULL,
  severity text NOT NULL,
  type text NOT NULL,
  detected_ts double precision NOT NULL,
  updated_ts double precision NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX incidents_by_detected ON incidents (detected_ts, id COLLATE "C");
CREATE INDEX incidents_by_status ON incidents (status, updated_ts);

CREATE TABLE decisions (
  id text PRIMARY KEY,
  status text NOT NULL,
  action text NOT NULL,
  scope_kind text NOT NULL,
  scope_value text NOT NULL,
  incident_id text,
  created_ts double precision NOT NULL,
  expires_ts double precision,
  record jsonb NOT NULL
);
CREATE INDEX decisions_by_created ON decisions (created_ts, id COLLATE "C");
CREATE INDEX decisions_by_incident ON decisions (incident_id);
CREATE INDEX decisions_by_scope ON decisions (scope_kind, scope_value);

CREATE TABLE allowlist (
  pos bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL,
  value text NOT NULL,
  entry jsonb NOT NULL,
  PRIMARY KEY (kind, value)
);

CREATE TABLE audit (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  ts double precision NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  prev text NOT NULL,
  line text NOT NULL
);
CREATE INDEX audit_by_target ON audit (target, seq);

CREATE TABLE audit_head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (one, seq, hash) VALUES (true, 0, '');

CREATE FUNCTION apiwarden_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on audit is refused', TG_OP
    USING HINT = 'audit entries are hash-chained; corrections are new entries';
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION apiwarden_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION apiwarden_audit_append_only();
`,
  },
  {
    version: 2,
    name: 'inventory snapshots and profiles',
    sql: `
CREATE TABLE inventory_snapshots (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_ts bigint NOT NULL,
  report jsonb NOT NULL
);
CREATE INDEX inventory_by_created ON inventory_snapshots (created_ts, id);

CREATE TABLE profiles (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  created_ts bigint NOT NULL,
  profile jsonb NOT NULL
);
CREATE INDEX profiles_by_name ON profiles (name, created_ts, id);
`,
  },
  {
    version: 3,
    name: 'users and API tokens',
    sql: `
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
  created_ts bigint NOT NULL
);

CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  label text NOT NULL,
  secret_sha256 text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
  created_ts bigint NOT NULL,
  last_used_ts bigint,
  revoked_ts bigint
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
`,
  },
];

export class MigrationError extends Error {}

export interface MigrateResult {
  /** Versions applied by this call, in order (empty when the database was current). */
  applied: number[];
  /** The schema version now. */
  version: number;
}

/** Brings the database to the latest schema. Safe to call on every start, from several processes at once. */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new MigrationError(`migration ${i + 1} is numbered ${m.version}: number them 1, 2, 3… in order`);
  });
  const latest = migrations.length;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [LOCK_KEY]);
    // Created only when missing: a role without CREATE on the schema (a server that does not own the tables,
    // docs/state.md) can still start on a database that is up to date.
    const [present] = await tx.query<{ t: string | null }>(
      "SELECT to_regclass('schema_migrations')::text AS t",
    );
    if (present?.t === null || present?.t === undefined)
      await tx.exec(`CREATE TABLE schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_ts bigint NOT NULL
)`);
    const done = await tx.query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations ORDER BY version',
    );
    for (const r of done) {
      const m = migrations[r.version - 1];
      if (m === undefined)
        throw new MigrationError(
          `the state database (${db.location}) has schema version ${r.version}, newer than this apiwarden ` +
            `knows (${latest}): upgrade apiwarden, or point it at another database`,
        );
      if (m.name !== r.name)
        throw new MigrationError(
          `the state database (${db.location}) recorded migration ${r.version} as '${r.name}', but this ` +
            `apiwarden's migration ${r.version} is '${m.name}': it was made by a different build`,
        );
    }
    const have = new Set(done.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      try {
        await tx.exec(m.sql);
      } catch (e) {
        throw new MigrationError(
          `migration ${m.version} (${m.name}) failed on ${db.location}: ${(e as Error).message}; ` +
            'nothing was changed',
        );
      }
      await tx.query('INSERT INTO schema_migrations (version, name, applied_ts) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        Date.now(),
      ]);
      applied.push(m.version);
    }
    return { applied, version: latest };
  });
}
