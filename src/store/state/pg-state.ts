/**
 * The server's state in PostgreSQL (docs/state.md): the response state behind the `StateStore` interface
 * (incidents, decisions, allow-list, audit log: the same semantics as the CLI's `FileStateStore`, checked by
 * the conformance suite on both), plus what only the server keeps: inventory snapshots, profiles, users and
 * their API tokens.
 *
 * `openState` picks the database: a PostgreSQL server when a `DATABASE_URL` is given (several processes, a
 * managed database, backups with the usual tools), else an embedded PGlite under the data directory
 * (`DATA/state.pglite`, nothing to run). Both get the same migrations and the same SQL.
 *
 * Writes are immediate (`commit()` has nothing to do). The audit log is appended under a row lock on its
 * single-row head (`audit_head`: last seq and hash), so concurrent appenders, in this process or another,
 * take turns and every entry follows exactly one other; a trigger refuses UPDATE, DELETE and TRUNCATE on
 * the audit table. Each entry is kept as the exact JSON line that was hashed, so `verifyAudit` recomputes
 * the chain the way the file store does, and also checks the indexed columns against the line and the last
 * entry against the head.
 *
 * API tokens: the secret (`awt_` + 32 random bytes, base64url) is returned once, by `createToken`; the
 * database keeps only its SHA-256. A slow password hash buys nothing here: 256 random bits cannot be
 * guessed, so a stolen table gives no secret, and a fast hash keeps each request's check to one indexed
 * lookup (no timing side channel either: the lookup is by the hash, not by comparing secrets).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ActorRef } from '../../detect/types.js';
import type { InventoryReport } from '../../inventory/catalog.js';
import type { Profile } from '../../profiling/profile.js';
import type { AllowEntry } from '../../respond/policy.js';
import type { IncidentRecord, StateStore } from '../../respond/state.js';
import { type AuditEntry, StateError } from '../../respond/state.js';
import type { Decision } from '../../respond/types.js';
import { auditEntry, decText, encText, fromJsonb, sha256, toJsonb } from './codec.js';
import { type Db, openPglite, openPostgres, type Queryable } from './db.js';
import { migrate } from './migrations.js';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  name: string;
  role: Role;
  createdTs: number;
}

/** A token as listed: never its secret. */
export interface TokenInfo {
  id: string;
  user: string;
  role: Role;
  label: string;
  createdTs: number;
  lastUsedTs: number | null;
  revokedTs: number | null;
}

export interface IncidentFilter {
  status?: string | undefined;
  type?: string | undefined;
  /** Any of these severities. */
  severities?: readonly string[] | undefined;
  assignee?: string | undefined;
}

export interface DecisionFilter {
  status?: string | undefined;
  incident?: string | undefined;
}

export interface PageSpec {
  limit: number;
  /** The (time, id) key of the last item of the previous page. */
  after?: [number, string] | undefined;
  /** Newest first (`desc`, the default) or oldest first. */
  order?: 'asc' | 'desc' | undefined;
}

export interface StatePage<T> {
  items: T[];
  /** Matching items over all pages. */
  total: number;
  /** Whether a page follows. */
  more: boolean;
}

export interface Authenticated {
  user: User;
  role: Role;
  tokenId: string;
}

/** A stored version of a document (inventory report, profile). */
export interface Snapshot<T> {
  id: number;
  ts: number;
  value: T;
}

export interface SnapshotInfo {
  id: number;
  ts: number;
  name?: string;
}

export interface OpenStateOptions {
  /** The data directory: the embedded database is `DATA/state.pglite`. */
  dataDir?: string;
  /** A PostgreSQL server (postgres://USER:PASSWORD@HOST:5432/DATABASE); wins over dataDir. */
  databaseUrl?: string;
  /** Wall clock (ms epoch) for the store's own timestamps; injectable for tests. */
  now?: () => number;
}

/** The embedded database's directory under a data directory. */
export const pgliteDir = (dataDir: string): string => join(dataDir, 'state.pglite');

/**
 * Opens the state: PostgreSQL when `databaseUrl` is set (pass `process.env.DATABASE_URL`), else PGlite under
 * `dataDir`. Migrates the schema before returning.
 */
export async function openState(opts: OpenStateOptions): Promise<PgStateStore> {
  const url = opts.databaseUrl?.trim();
  let db: Db;
  if (url !== undefined && url !== '') db = await openPostgres(url);
  else if (opts.dataDir !== undefined && opts.dataDir !== '') db = await openPglite(pgliteDir(opts.dataDir));
  else
    throw new StateError(
      'no place for the state: set DATABASE_URL to a PostgreSQL server, or give a data directory',
    );
  return PgStateStore.open(db, opts.now === undefined ? {} : { now: opts.now });
}

const TOKEN_PREFIX = 'awt_';
/** Tokens are `awt_` + 43 base64url characters; anything much longer is not one of ours. */
const TOKEN_MAX = 128;
/** last_used_ts is refreshed at most this often per token (a write per request is not worth it). */
const LAST_USED_EVERY_MS = 60_000;
const ADMIN_LOCK_KEY = 0x61707775; // 'apwu'

const USER_NAME = /^[^\u0000-\u001f\u007f]{1,100}$/;

type IncidentRow = { record: string };
type UserRow = { id: number; name: string; role: Role; created_ts: number };
type TokenRow = {
  id: string;
  name: string;
  role: Role;
  label: string;
  created_ts: number;
  last_used_ts: number | null;
  revoked_ts: number | null;
};

const userOf = (r: UserRow): User => ({ id: r.id, name: r.name, role: r.role, createdTs: r.created_ts });
const tokenOf = (r: TokenRow): TokenInfo => ({
  id: r.id,
  user: r.name,
  role: r.role,
  label: r.label,
  createdTs: r.created_ts,
  lastUsedTs: r.last_used_ts,
  revokedTs: r.revoked_ts,
});

export class PgStateStore implements StateStore {
  private closed = false;
  private readonly now: () => number;

  private constructor(
    /** The database, for the server's own queries (health checks) and for tests; the store owns it. */
    readonly db: Db,
    opts: { now?: () => number },
  ) {
    this.now = opts.now ?? Date.now;
  }

  get location(): string {
    return this.db.location;
  }

  /** Migrates the database and wraps it; closes it when the migration fails. */
  static async open(db: Db, opts: { now?: () => number } = {}): Promise<PgStateStore> {
    try {
      await migrate(db);
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
    return new PgStateStore(db, opts);
  }

  private check(): Db {
    if (this.closed) throw new StateError('the state store is closed');
    return this.db;
  }

  // ---- incidents, decisions, allow-list

  async incidents(): Promise<IncidentRecord[]> {
    const rows = await this.check().query<IncidentRow>(
      'SELECT record::text AS record FROM incidents ORDER BY detected_ts, id COLLATE "C"',
    );
    return rows.map((r) => fromJsonb<IncidentRecord>(r.record));
  }

  /**
   * One page of incidents matching `f`, in SQL (the list routes; `incidents()` reads every record). Sorted by
   * detection time then id (`order`, newest first by default); `after` is the last key of the previous page.
   */
  async incidentPage(f: IncidentFilter, p: PageSpec): Promise<StatePage<IncidentRecord>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (f.status !== undefined) where.push(`status = ${arg(f.status)}`);
    if (f.severities !== undefined) where.push(`severity = ANY(${arg(f.severities)}::text[])`);
    if (f.type !== undefined)
      where.push(`record->'types' @> jsonb_build_array(${arg(encText(f.type))}::text)`);
    if (f.assignee !== undefined) where.push(`record->>'assignee' = ${arg(encText(f.assignee))}`);
    return this.page<IncidentRecord>('incidents', 'detected_ts', where, args, p);
  }

  /** One page of decisions matching `f`, by creation time then id (see incidentPage). */
  async decisionPage(f: DecisionFilter, p: PageSpec): Promise<StatePage<Decision>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status !== undefined) {
      args.push(f.status);
      where.push(`status = $${args.length}`);
    }
    if (f.incident !== undefined) {
      args.push(encText(f.incident));
      where.push(`incident_id = $${args.length}`);
    }
    return this.page<Decision>('decisions', 'created_ts', where, args, p);
  }

  /** Active and proposed decisions per incident, for the given incidents only. */
  async decisionCounts(
    incidentIds: readonly string[],
  ): Promise<Map<string, { active: number; proposed: number }>> {
    const m = new Map<string, { active: number; proposed: number }>();
    if (incidentIds.length === 0) return m;
    const rows = await this.check().query<{ incident_id: string; status: 'active' | 'proposed'; n: number }>(
      `SELECT incident_id, status, count(*)::int AS n FROM decisions
        WHERE incident_id = ANY($1::text[]) AND status IN ('active', 'proposed') GROUP BY incident_id, status`,
      [incidentIds.map(encText)],
    );
    for (const r of rows) {
      const id = decText(r.incident_id);
      let c = m.get(id);
      if (c === undefined) {
        c = { active: 0, proposed: 0 };
        m.set(id, c);
      }
      c[r.status] += r.n;
    }
    return m;
  }

  private async page<T>(
    table: 'incidents' | 'decisions',
    tsColumn: 'detected_ts' | 'created_ts',
    where: string[],
    args: unknown[],
    p: PageSpec,
  ): Promise<StatePage<T>> {
    const db = this.check();
    const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} ${filter}`, args);
    const desc = p.order !== 'asc';
    const cond = [...where];
    const pageArgs = [...args];
    if (p.after !== undefined) {
      pageArgs.push(p.after[0], encText(p.after[1]));
      const t = `$${pageArgs.length - 1}`;
      const i = `$${pageArgs.length}`;
      const op = desc ? '<' : '>';
      cond.push(`(${tsColumn} ${op} ${t} OR (${tsColumn} = ${t} AND id COLLATE "C" ${op} ${i}))`);
    }
    pageArgs.push(p.limit + 1);
    const dir = desc ? 'DESC' : 'ASC';
    const rows = await db.query<IncidentRow>(
      `SELECT record::text AS record FROM ${table} ${cond.length === 0 ? '' : `WHERE ${cond.join(' AND ')}`}
        ORDER BY ${tsColumn} ${dir}, id COLLATE "C" ${dir} LIMIT $${pageArgs.length}`,
      pageArgs,
    );
    const more = rows.length > p.limit;
    return {
      items: rows.slice(0, p.limit).map((r) => fromJsonb<T>(r.record)),
      total: count?.n ?? 0,
      more,
    };
  }

  async incident(id: string): Promise<IncidentRecord | undefined> {
    const [r] = await this.check().query<IncidentRow>(
      'SELECT record::text AS record FROM incidents WHERE id = $1',
      [encText(id)],
    );
    return r === undefined ? undefined : fromJsonb<IncidentRecord>(r.record);
  }

  async putIncident(r: IncidentRecord): Promise<void> {
    await this.check().query(
      `INSERT INTO incidents (id, status, severity, type, detected_ts, updated_ts, record)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, severity = EXCLUDED.severity,
         type = EXCLUDED.type, detected_ts = EXCLUDED.detected_ts, updated_ts = EXCLUDED.updated_ts,
         record = EXCLUDED.record`,
      [
        encText(r.id),
        encText(r.status),
        encText(r.severity),
        encText(r.type),
        r.detectedTs,
        r.updatedTs,
        toJsonb(r),
      ],
    );
  }

  async decisions(): Promise<Decision[]> {
    const rows = await this.check().query<IncidentRow>(
      'SELECT record::text AS record FROM decisions ORDER BY created_ts, id COLLATE "C"',
    );
    return rows.map((r) => fromJsonb<Decision>(r.record));
  }

  async decisionsAbout(incidentId: string, actors: readonly ActorRef[]): Promise<Decision[]> {
    const rows = await this.check().query<IncidentRow>(
      `SELECT record::text AS record FROM decisions
       WHERE incident_id = $1
          OR (scope_kind, scope_value) IN (SELECT * FROM unnest($2::text[], $3::text[]))
       ORDER BY created_ts, id COLLATE "C"`,
      [encText(incidentId), actors.map((a) => encText(a.kind)), actors.map((a) => encText(a.value))],
    );
    return rows.map((r) => fromJsonb<Decision>(r.record));
  }

  /** Open incidents (not resolved, not a false positive) naming any of `actors`, oldest first. */
  async openIncidentsWith(actors: readonly ActorRef[]): Promise<IncidentRecord[]> {
    if (actors.length === 0) return [];
    const rows = await this.check().query<IncidentRow>(
      `SELECT record::text AS record FROM incidents
       WHERE status NOT IN ('resolved', 'false_positive')
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(record->'actors') a
                      WHERE (a->>'kind', a->>'value') IN (SELECT * FROM unnest($1::text[], $2::text[])))
       ORDER BY detected_ts, id COLLATE "C"`,
      [actors.map((a) => encText(a.kind)), actors.map((a) => encText(a.value))],
    );
    return rows.map((r) => fromJsonb<IncidentRecord>(r.record));
  }

  async decisionsDue(now: number): Promise<Decision[]> {
    const rows = await this.check().query<IncidentRow>(
      `SELECT record::text AS record FROM decisions
       WHERE status IN ('active', 'proposed') AND expires_ts IS NOT NULL AND expires_ts <= $1
       ORDER BY created_ts, id COLLATE "C"`,
      [now],
    );
    return rows.map((r) => fromJsonb<Decision>(r.record));
  }

  async putDecision(d: Decision): Promise<void> {
    await this.check().query(
      `INSERT INTO decisions (id, status, action, scope_kind, scope_value, incident_id, created_ts, expires_ts,
         record)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, action = EXCLUDED.action,
         scope_kind = EXCLUDED.scope_kind, scope_value = EXCLUDED.scope_value,
         incident_id = EXCLUDED.incident_id, created_ts = EXCLUDED.created_ts,
         expires_ts = EXCLUDED.expires_ts, record = EXCLUDED.record`,
      [
        encText(d.id),
        encText(d.status),
        encText(d.action),
        encText(d.scope.kind),
        encText(d.scope.value),
        d.incidentId === undefined ? null : encText(d.incidentId),
        d.createdTs,
        d.expiresTs,
        toJsonb(d),
      ],
    );
  }

  async allowlist(): Promise<AllowEntry[]> {
    const rows = await this.check().query<{ entry: string }>(
      'SELECT entry::text AS entry FROM allowlist ORDER BY pos',
    );
    return rows.map((r) => fromJsonb<AllowEntry>(r.entry));
  }

  /** Idempotent on (kind, value): the first entry for an actor stays. */
  async addAllow(e: AllowEntry): Promise<void> {
    await this.check().query(
      `INSERT INTO allowlist (kind, value, entry) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (kind, value) DO NOTHING`,
      [encText(e.kind), encText(e.value), toJsonb(e)],
    );
  }

  // ---- the audit log

  async audit(e: Omit<AuditEntry, 'seq' | 'prev'>): Promise<AuditEntry> {
    return this.check().transaction(async (tx) => {
      const [head] = await tx.query<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit_head WHERE one FOR UPDATE',
      );
      if (head === undefined) throw new StateError(`${this.location}: the audit head row is missing`);
      const entry = auditEntry(head.seq + 1, e, head.hash);
      const line = JSON.stringify(entry);
      await tx.query(
        'INSERT INTO audit (seq, ts, actor, action, target, prev, line) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [
          entry.seq,
          entry.ts,
          encText(entry.by),
          encText(entry.action),
          encText(entry.target),
          entry.prev,
          line,
        ],
      );
      await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE one', [entry.seq, sha256(line)]);
      return entry;
    });
  }

  async auditLog(target?: string): Promise<AuditEntry[]> {
    const rows =
      target === undefined
        ? await this.check().query<{ line: string }>('SELECT line FROM audit ORDER BY seq')
        : await this.check().query<{ line: string }>(
            'SELECT line FROM audit WHERE target = $1 ORDER BY seq',
            [encText(target)],
          );
    return rows.map((r) => JSON.parse(r.line) as AuditEntry);
  }

  /**
   * Checks the audit chain: null when intact, else what is wrong where. Besides each entry's `prev` (as the
   * file store checks), the seq numbers must run without gaps, the indexed columns must say what the hashed
   * line says, and the head must hold the last entry's hash (so an edited or removed last entry shows too).
   */
  async verifyAudit(): Promise<string | null> {
    const db = this.check();
    let prev = '';
    let expect = 1;
    for (;;) {
      const rows = await db.query<{
        seq: number;
        ts: number;
        actor: string;
        action: string;
        target: string;
        prev: string;
        line: string;
      }>(
        'SELECT seq, ts, actor, action, target, prev, line FROM audit WHERE seq >= $1 ORDER BY seq LIMIT 5000',
        [expect],
      );
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.seq !== expect) return `audit entry ${expect} is missing (the next one is ${r.seq})`;
        let entry: AuditEntry;
        try {
          entry = JSON.parse(r.line) as AuditEntry;
        } catch {
          return `audit entry ${r.seq}: its recorded line is not JSON`;
        }
        if (entry.seq !== r.seq || entry.prev !== prev || r.prev !== prev)
          return `audit entry ${r.seq} does not follow the one before it`;
        if (
          entry.ts !== r.ts ||
          entry.by !== decText(r.actor) ||
          entry.action !== decText(r.action) ||
          entry.target !== decText(r.target)
        )
          return `audit entry ${r.seq}: its columns (ts, actor, action, target) differ from its hashed line`;
        prev = sha256(r.line);
        expect++;
      }
    }
    const [head] = await db.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_head WHERE one',
    );
    const last = expect - 1;
    if (head === undefined) return 'the audit head row is missing';
    if (head.seq > last)
      return `the audit log ends at entry ${last} but its head records ${head.seq} entries: entries were removed`;
    if (head.seq < last)
      return `the audit log has entries past ${head.seq}, the last one its head records: they were not appended by the store`;
    if (head.hash !== prev)
      return `audit entry ${last} (the last) was changed: its hash is not the one its head records`;
    return null;
  }

  /** Writes are immediate: nothing to flush. */
  async commit(): Promise<void> {
    this.check();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  // ---- inventory snapshots and profiles

  /** Stores an inventory report (inventory.json) as the newest snapshot. */
  async putInventory(report: InventoryReport): Promise<SnapshotInfo> {
    const ts = this.now();
    const [r] = await this.check().query<{ id: number }>(
      'INSERT INTO inventory_snapshots (created_ts, report) VALUES ($1, $2::jsonb) RETURNING id',
      [ts, toJsonb(report)],
    );
    return { id: r!.id, ts };
  }

  async latestInventory(): Promise<Snapshot<InventoryReport> | undefined> {
    const [r] = await this.check().query<{ id: number; created_ts: number; report: string }>(
      `SELECT id, created_ts, report::text AS report FROM inventory_snapshots
       ORDER BY created_ts DESC, id DESC LIMIT 1`,
    );
    return r === undefined ? undefined : { id: r.id, ts: r.created_ts, value: fromJsonb(r.report) };
  }

  /** Every stored inventory snapshot, newest first (without the reports). */
  async inventoryVersions(): Promise<SnapshotInfo[]> {
    const rows = await this.check().query<{ id: number; created_ts: number }>(
      'SELECT id, created_ts FROM inventory_snapshots ORDER BY created_ts DESC, id DESC',
    );
    return rows.map((r) => ({ id: r.id, ts: r.created_ts }));
  }

  /** Stores a profile as the newest version under a name (`default` unless the server keeps several). */
  async putProfile(profile: Profile, name = 'default'): Promise<SnapshotInfo> {
    const ts = this.now();
    const [r] = await this.check().query<{ id: number }>(
      'INSERT INTO profiles (name, created_ts, profile) VALUES ($1, $2, $3::jsonb) RETURNING id',
      [encText(name), ts, toJsonb(profile)],
    );
    return { id: r!.id, ts, name };
  }

  async latestProfile(name = 'default'): Promise<Snapshot<Profile> | undefined> {
    const [r] = await this.check().query<{ id: number; created_ts: number; profile: string }>(
      `SELECT id, created_ts, profile::text AS profile FROM profiles WHERE name = $1
       ORDER BY created_ts DESC, id DESC LIMIT 1`,
      [encText(name)],
    );
    return r === undefined ? undefined : { id: r.id, ts: r.created_ts, value: fromJsonb(r.profile) };
  }

  /** One stored profile version by id. */
  async profile(id: number): Promise<Snapshot<Profile> | undefined> {
    const [r] = await this.check().query<{ id: number; created_ts: number; profile: string }>(
      'SELECT id, created_ts, profile::text AS profile FROM profiles WHERE id = $1',
      [id],
    );
    return r === undefined ? undefined : { id: r.id, ts: r.created_ts, value: fromJsonb(r.profile) };
  }

  /** Stored profile versions (every name, or one), newest first, without the profiles. */
  async profileVersions(name?: string): Promise<SnapshotInfo[]> {
    const rows = await this.check().query<{ id: number; name: string; created_ts: number }>(
      `SELECT id, name, created_ts FROM profiles WHERE $1::text IS NULL OR name = $1
       ORDER BY created_ts DESC, id DESC`,
      [name === undefined ? null : encText(name)],
    );
    return rows.map((r) => ({ id: r.id, ts: r.created_ts, name: decText(r.name) }));
  }

  // ---- users and API tokens

  async createUser(name: string, role: Role): Promise<User> {
    return this.insertUser(this.check(), name, role);
  }

  private async insertUser(q: Queryable, name: string, role: Role): Promise<User> {
    if (typeof name !== 'string' || !USER_NAME.test(name))
      throw new StateError(
        `user name ${JSON.stringify(name)}: expected 1 to 100 characters, no control characters`,
      );
    if (!(ROLES as readonly string[]).includes(role))
      throw new StateError(
        `role ${JSON.stringify(role)} for user ${name}: expected one of ${ROLES.join(', ')}`,
      );
    try {
      const [r] = await q.query<UserRow>(
        'INSERT INTO users (name, role, created_ts) VALUES ($1, $2, $3) RETURNING id, name, role, created_ts',
        [name, role, this.now()],
      );
      return userOf(r!);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new StateError(`user ${name} already exists`);
      throw e;
    }
  }

  async users(): Promise<User[]> {
    const rows = await this.check().query<UserRow>(
      'SELECT id, name, role, created_ts FROM users ORDER BY id',
    );
    return rows.map(userOf);
  }

  async user(name: string): Promise<User | undefined> {
    const [r] = await this.check().query<UserRow>(
      'SELECT id, name, role, created_ts FROM users WHERE name = $1',
      [name],
    );
    return r === undefined ? undefined : userOf(r);
  }

  /** Changes a user's role; false when there is no such user. */
  async setRole(name: string, role: Role): Promise<boolean> {
    if (!(ROLES as readonly string[]).includes(role))
      throw new StateError(
        `role ${JSON.stringify(role)} for user ${name}: expected one of ${ROLES.join(', ')}`,
      );
    const rows = await this.check().query('UPDATE users SET role = $2 WHERE name = $1 RETURNING id', [
      name,
      role,
    ]);
    return rows.length > 0;
  }

  /**
   * A new API token for a user. The secret is in the result and nowhere else: the database keeps its
   * SHA-256, so it cannot be shown again (a lost secret means a new token).
   */
  async createToken(userName: string, label = ''): Promise<{ token: TokenInfo; secret: string }> {
    return this.insertToken(this.check(), userName, label);
  }

  private async insertToken(
    q: Queryable,
    userName: string,
    label: string,
  ): Promise<{ token: TokenInfo; secret: string }> {
    const [u] = await q.query<UserRow>('SELECT id, name, role, created_ts FROM users WHERE name = $1', [
      userName,
    ]);
    if (u === undefined) throw new StateError(`no user ${userName}: create the user first`);
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const id = `tok_${randomBytes(8).toString('hex')}`;
    const ts = this.now();
    await q.query(
      'INSERT INTO api_tokens (id, user_id, label, secret_sha256, created_ts) VALUES ($1, $2, $3, $4, $5)',
      [id, u.id, encText(label), sha256(secret), ts],
    );
    return {
      token: { id, user: u.name, role: u.role, label, createdTs: ts, lastUsedTs: null, revokedTs: null },
      secret,
    };
  }

  /** The user and role a token secret belongs to; null for an unknown, malformed or revoked token. */
  async authenticate(secret: string): Promise<Authenticated | null> {
    const db = this.check();
    if (typeof secret !== 'string' || !secret.startsWith(TOKEN_PREFIX) || secret.length > TOKEN_MAX)
      return null;
    const [r] = await db.query<
      UserRow & { token_id: string; last_used_ts: number | null; revoked_ts: number | null }
    >(
      `SELECT t.id AS token_id, t.last_used_ts, t.revoked_ts, u.id, u.name, u.role, u.created_ts
       FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_sha256 = $1`,
      [sha256(secret)],
    );
    if (r === undefined || r.revoked_ts !== null) return null;
    const now = this.now();
    if (r.last_used_ts === null || now - r.last_used_ts >= LAST_USED_EVERY_MS)
      await db.query('UPDATE api_tokens SET last_used_ts = $2 WHERE id = $1', [r.token_id, now]);
    return { user: userOf(r), role: r.role, tokenId: r.token_id };
  }

  /** Revokes a token by id; false when there is no such live token. */
  async revokeToken(id: string): Promise<boolean> {
    const rows = await this.check().query(
      'UPDATE api_tokens SET revoked_ts = $2 WHERE id = $1 AND revoked_ts IS NULL RETURNING id',
      [id, this.now()],
    );
    return rows.length > 0;
  }

  /** Tokens (of every user, or of one), oldest first, revoked ones included; never the secrets. */
  async tokens(userName?: string): Promise<TokenInfo[]> {
    const rows = await this.check().query<TokenRow>(
      `SELECT t.id, u.name, u.role, t.label, t.created_ts, t.last_used_ts, t.revoked_ts
       FROM api_tokens t JOIN users u ON u.id = t.user_id
       WHERE $1::text IS NULL OR u.name = $1
       ORDER BY t.created_ts, t.id`,
      [userName ?? null],
    );
    return rows.map((r) => ({ ...tokenOf(r), label: decText(r.label) }));
  }

  /**
   * The first start: when there are no users at all, creates the admin user and a token for it and returns
   * the secret (to print once); otherwise null. Two servers starting at once create one admin between them.
   */
  async firstAdminToken(name = 'admin'): Promise<{ user: User; token: TokenInfo; secret: string } | null> {
    return this.check().transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [ADMIN_LOCK_KEY]);
      const [c] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
      if (c!.n > 0) return null;
      const user = await this.insertUser(tx, name, 'admin');
      const { token, secret } = await this.insertToken(tx, name, 'first admin token');
      return { user, token, secret };
    });
  }
}
