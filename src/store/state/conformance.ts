/**
 * The storage conformance suite: what every `StateStore` must do, registered as Vitest tests for one
 * backend at a time (src/store/state/state.test.ts runs it on the file store, PGlite and a PostgreSQL
 * server). The file store is the reference: the database stores must agree with it on ordering, upserts,
 * allow-list idempotence, the audit chain byte for byte, and the end state of a whole Responder workflow.
 * `serverStateConformance` adds what only the database stores keep: users, API tokens, inventory snapshots,
 * profiles, and the append-only trigger on the audit table.
 *
 * Test-only (imports Vitest); nothing at run time imports it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupIncidents, type Incident } from '../../detect/incidents.js';
import type { Alert } from '../../detect/types.js';
import type { InventoryReport } from '../../inventory/catalog.js';
import type { Profile } from '../../profiling/profile.js';
import { type AllowEntry, responseSchema } from '../../respond/policy.js';
import {
  type AuditEntry,
  FileStateStore,
  type IncidentRecord,
  type StateStore,
} from '../../respond/state.js';
import type { Decision } from '../../respond/types.js';
import { Responder } from '../../respond/workflow.js';
import { encText, sha256 } from './codec.js';
import type { Queryable } from './db.js';
import type { PgStateStore, Role } from './pg-state.js';

export interface ConformanceStore extends StateStore {
  verifyAudit(): Promise<string | null>;
}

export interface StateBackend<S extends ConformanceStore = ConformanceStore> {
  /** A new, empty store. */
  open(): Promise<S>;
  /** The same state again, after `s.close()`. */
  reopen(s: S): Promise<S>;
  /**
   * Changes audit entry `seq` behind the store's back, replacing `from` with `to` in its stored line (and
   * its columns), as someone with direct access to the files or the database could.
   */
  tamper(s: S, seq: number, from: string, to: string): Promise<void>;
}

const T0 = Date.UTC(2026, 2, 2, 10);

export function alert(over: Partial<Alert> & Pick<Alert, 'id' | 'actors'>): Alert {
  return {
    type: 'high_frequency',
    detector: 'learned_threshold',
    severity: 'medium',
    score: 0.9,
    confidence: 0.9,
    endpoints: ['GET /api/v2/products/{id}'],
    firstEventTs: T0,
    detectedTs: T0 + 60_000,
    lastEventTs: T0 + 120_000,
    requests: 100,
    evidence: [
      {
        feature: 'rpm_by_ip_endpoint',
        value: 80,
        threshold: 10,
        source: 'profile',
        endpoint: 'GET /api/v2/products/{id}',
      },
    ],
    explanation: 'x',
    ...over,
  };
}

const ip = (value: string) => ({ kind: 'ip' as const, value });

/** A record with every field set, including strings a database finds awkward. */
function record(id: string, detectedTs: number, over: Partial<IncidentRecord> = {}): IncidentRecord {
  const [inc] = groupIncidents([
    alert({
      id: `al-${id}`,
      actors: [
        ip('198.51.100.1'),
        { kind: 'user', value: 'nul\u0000user' },
        { kind: 'device', value: '\uffff~x' },
      ],
      detectedTs,
    }),
  ]);
  return {
    ...(inc as Incident),
    id,
    detectedTs,
    severityReason: 'lead alert; “quoted” \\ and ünïcödé 🙂',
    status: 'triaged',
    assignee: 'bo',
    notes: [
      { ts: T0 + 1, by: 'al', text: 'first look' },
      { ts: T0 + 2, by: 'bo', text: 'line\nbreak and "quotes"' },
    ],
    createdTs: T0,
    updatedTs: T0 + 2,
    statusTs: { new: T0, triaged: T0 + 2 },
    ...over,
  };
}

function decision(id: string, createdTs: number, over: Partial<Decision> = {}): Decision {
  return {
    id,
    action: 'rate_limit',
    scope: { kind: 'ip', value: '198.51.100.1', endpoint: 'POST /api/v1/auth/login' },
    rateLimit: { requests: 13, perSeconds: 60 },
    status: 'proposed',
    origin: 'auto',
    incidentId: 'inc-1',
    type: 'credential_stuffing',
    severity: 'high',
    reason: 'high credential_stuffing incident inc-1',
    createdTs,
    expiresTs: createdTs + 3_600_000,
    offence: 1,
    ...over,
  };
}

async function snapshot(s: ConformanceStore) {
  return {
    incidents: await s.incidents(),
    decisions: await s.decisions(),
    allowlist: await s.allowlist(),
    audit: await s.auditLog(),
    verify: await s.verifyAudit(),
  };
}

/** A whole Responder run: ingest, the SOP, approval, a false positive, expiry. Returns the end state. */
async function workflowRun(store: ConformanceStore) {
  let now = T0 + 3_600_000;
  const policy = responseSchema.parse({
    rules: [
      { types: ['credential_stuffing'], action: 'block', ttl: '1h' },
      { action: 'rate_limit', auto: true, perEndpoint: true, ttl: '30m', rateLimit: { requests: 20 } },
    ],
  });
  const r = new Responder(store, { policy, now: () => now });
  const incs = groupIncidents([
    alert({ id: 'a1', type: 'credential_stuffing', actors: [ip('198.51.100.1'), ip('198.51.100.2')] }),
    alert({ id: 'a2', actors: [ip('203.0.113.9')], detectedTs: T0 + 90_000 }),
  ]);
  const stuffing = incs.find((i) => i.type === 'credential_stuffing')!;
  const other = incs.find((i) => i.type !== 'credential_stuffing')!;
  const first = await r.ingest(incs);
  await r.ingest(incs); // idempotent
  now += 1_000;
  await r.transition(stuffing.id, 'triaged', { by: 'al', assignee: 'bo', note: 'on it' });
  now += 1_000;
  await r.transition(stuffing.id, 'confirmed', { by: 'bo' });
  now += 1_000;
  const proposed = first.decisions.filter((d) => d.incidentId === stuffing.id);
  await r.approve(proposed[0]!.id, 'bo');
  await r.note(stuffing.id, 'blocked', 'bo');
  now += 1_000;
  await r.transition(other.id, 'false_positive', { by: 'al', note: 'partner sweep' });
  // An update of a known incident keeps its workflow fields.
  await r.ingest([{ ...stuffing, lastEventTs: stuffing.lastEventTs + 5_000, requests: 150 }]);
  now += 2 * 3_600_000;
  await r.expire();
  await r.transition(stuffing.id, 'resolved', { by: 'bo' });
  return snapshot(store);
}

/** Registers the StateStore tests for one backend. */
export function stateConformance<S extends ConformanceStore>(name: string, backend: StateBackend<S>): void {
  describe(`StateStore conformance: ${name}`, () => {
    const open: S[] = [];
    const fresh = async () => {
      const s = await backend.open();
      open.push(s);
      return s;
    };
    const reopen = async (s: S) => {
      await s.close();
      const again = await backend.reopen(s);
      open.push(again);
      return again;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('incidents: putIncident upserts, incidents() sorts by detectedTs then id, every field round-trips', async () => {
      let s = await fresh();
      const recs = [
        record('inc-b', T0 + 200),
        record('inc-z', T0 + 100),
        record('inc-a', T0 + 200),
        record('inc-B', T0 + 200, { assignee: null, notes: [], statusTs: { new: T0 } }),
      ];
      for (const r of recs) await s.putIncident(structuredClone(r));
      const order = ['inc-z', 'inc-B', 'inc-a', 'inc-b']; // JS string order: upper case before lower
      expect((await s.incidents()).map((r) => r.id)).toEqual(order);
      expect(await s.incident('inc-b')).toEqual(recs[0]);
      expect(await s.incident('inc-none')).toBeUndefined();
      const changed = {
        ...recs[0]!,
        status: 'confirmed' as const,
        updatedTs: T0 + 9,
        statusTs: { ...recs[0]!.statusTs, confirmed: T0 + 9 },
        notes: [...recs[0]!.notes, { ts: T0 + 9, by: 'cy', text: 'confirmed' }],
      };
      await s.putIncident(structuredClone(changed));
      expect(await s.incidents()).toHaveLength(4);
      expect(await s.incident('inc-b')).toEqual(changed);
      s = await reopen(s);
      expect((await s.incidents()).map((r) => r.id)).toEqual(order);
      expect(await s.incident('inc-b')).toEqual(changed);
      expect(await s.incident('inc-B')).toEqual(recs[3]);
    });

    it('decisions: putDecision upserts, decisions() sorts by createdTs then id, every field round-trips', async () => {
      let s = await fresh();
      const ds = [
        decision('dec-2', T0 + 50),
        decision('dec-1', T0 + 50, {
          action: 'block',
          scope: { kind: 'token', value: '0123456789abcdef' },
          expiresTs: null,
          origin: 'manual',
        }),
        decision('dec-0', T0 + 60, { status: 'active' }),
      ];
      delete ds[1]!.rateLimit;
      delete ds[1]!.incidentId;
      for (const d of ds) await s.putDecision(structuredClone(d));
      expect((await s.decisions()).map((d) => d.id)).toEqual(['dec-1', 'dec-2', 'dec-0']);
      await s.putDecision({ ...ds[0]!, status: 'revoked' });
      s = await reopen(s);
      const got = await s.decisions();
      expect(got).toEqual([ds[1], { ...ds[0], status: 'revoked' }, ds[2]]);
      expect(Object.keys(got[0]!)).not.toContain('rateLimit');
    });

    it('allow-list: the same kind and value twice is one entry (the first), in the order added', async () => {
      let s = await fresh();
      const e = (kind: AllowEntry['kind'], value: string, reason: string): AllowEntry => ({
        kind,
        value,
        reason,
        by: 'al',
        ts: T0,
        incidentId: 'inc-1',
      });
      await s.addAllow(e('ip', '198.51.100.1', 'false positive'));
      await s.addAllow(e('user', 'nul\u0000user', 'false positive'));
      await s.addAllow(e('ip', '198.51.100.1', 'again'));
      await s.addAllow(e('device', '198.51.100.1', 'same value, other kind'));
      const { incidentId: _, ...noIncident } = e('cidr', '10.0.0.0/8', 'office');
      await s.addAllow(noIncident);
      const want = [
        e('ip', '198.51.100.1', 'false positive'),
        e('user', 'nul\u0000user', 'false positive'),
        e('device', '198.51.100.1', 'same value, other kind'),
        noIncident,
      ];
      expect(await s.allowlist()).toEqual(want);
      s = await reopen(s);
      expect(await s.allowlist()).toEqual(want);
    });

    it('audit: seq counts from 1, prev is the SHA-256 of the previous canonical line, filter by target', async () => {
      let s = await fresh();
      const stored = [];
      stored.push(
        await s.audit({ ts: T0, by: 'al', action: 'incident.created', target: 'inc-1', data: { n: 1 } }),
      );
      stored.push(await s.audit({ ts: T0 + 1, by: 'policy', action: 'decision.proposed', target: 'dec-1' }));
      stored.push(
        await s.audit({
          ts: T0 + 2,
          by: 'x\u0000y',
          action: 'allowlist.added',
          target: 'user:nul\u0000user',
          data: { z: 1, a: [1, 'two', null], nested: { b: 2, a: 1, '10': 'int-like key', '': 'empty' } },
        }),
      );
      stored.push(
        await s.audit({ ts: T0 + 3, by: 'bo', action: 'incident.note', target: 'inc-1', data: {} }),
      );
      const log = await s.auditLog();
      expect(log).toEqual(stored);
      expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(log[0]!.prev).toBe('');
      for (let i = 1; i < log.length; i++) expect(log[i]!.prev).toBe(sha256(JSON.stringify(log[i - 1])));
      expect(Object.keys(log[0]!)).toEqual(['seq', 'ts', 'by', 'action', 'target', 'data', 'prev']);
      expect(Object.keys(log[1]!)).toEqual(['seq', 'ts', 'by', 'action', 'target', 'prev']);
      expect(Object.keys(log[2]!.data!.nested as object)).toEqual(['10', 'b', 'a', '']);
      expect((await s.auditLog('inc-1')).map((e) => e.seq)).toEqual([1, 4]);
      expect((await s.auditLog('user:nul\u0000user')).map((e) => e.by)).toEqual(['x\u0000y']);
      expect(await s.auditLog('nothing')).toEqual([]);
      expect(await s.verifyAudit()).toBeNull();
      // Reopened, the chain goes on from the last entry.
      s = await reopen(s);
      const next = await s.audit({ ts: T0 + 4, by: 'bo', action: 'incident.transition', target: 'inc-1' });
      expect(next.seq).toBe(5);
      expect(next.prev).toBe(sha256(JSON.stringify(log[3])));
      expect(await s.verifyAudit()).toBeNull();
    });

    it('audit: verifyAudit finds an entry changed behind the store’s back', async () => {
      const s = await fresh();
      for (let i = 1; i <= 5; i++)
        await s.audit({ ts: T0 + i, by: 'al', action: 'incident.note', target: 'inc-1', data: { i } });
      expect(await s.verifyAudit()).toBeNull();
      await backend.tamper(s, 3, '"by":"al"', '"by":"mallory"');
      expect(await s.verifyAudit()).toMatch(/audit entry 4 does not follow the one before it/);
    });

    it('audit: 50 concurrent appends get seq 1..50 once each and a valid chain', async () => {
      const s = await fresh();
      const got = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          s.audit({ ts: T0 + i, by: `w${i}`, action: 'incident.note', target: `inc-${i % 3}` }),
        ),
      );
      expect(got.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      const log = await s.auditLog();
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      for (let i = 1; i < log.length; i++) expect(log[i]!.prev).toBe(sha256(JSON.stringify(log[i - 1])));
      expect(await s.verifyAudit()).toBeNull();
    });

    it('a closed store refuses writes', async () => {
      const s = await backend.open();
      await s.close();
      await expect(s.putIncident(record('inc-1', T0))).rejects.toThrow(/the state store is closed/);
      await expect(s.audit({ ts: T0, by: 'al', action: 'x', target: 'y' })).rejects.toThrow(/closed/);
    });

    it('a whole Responder workflow ends in the same state as on the file store', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'aw-ref-'));
      const ref = await FileStateStore.open(dir);
      let want: Awaited<ReturnType<typeof workflowRun>>;
      try {
        want = await workflowRun(ref);
      } finally {
        await ref.close();
        await rm(dir, { recursive: true, force: true });
      }
      expect(want.verify).toBeNull();
      expect(want.incidents.map((i) => i.status).sort()).toEqual(['false_positive', 'resolved']);
      expect(want.allowlist.map((a) => a.value)).toEqual(['203.0.113.9']);
      let s = await fresh();
      const got = await workflowRun(s);
      expect(got).toEqual(want);
      // Byte for byte: the same lines, so the same hashes.
      expect(got.audit.map((e) => JSON.stringify(e))).toEqual(want.audit.map((e) => JSON.stringify(e)));
      s = await reopen(s);
      expect(await snapshot(s)).toEqual(want);
    });
  });
}

export type ServerStore = PgStateStore;

/** Disables the audit triggers for `fn` (as the table's owner or a superuser could): tests only. */
export async function behindTheStore(s: ServerStore, fn: (tx: Queryable) => Promise<void>): Promise<void> {
  await s.db.transaction(async (tx) => {
    await tx.exec('ALTER TABLE audit DISABLE TRIGGER USER');
    await fn(tx);
    await tx.exec('ALTER TABLE audit ENABLE TRIGGER USER');
  });
}

/**
 * `StateBackend.tamper` for the database stores: a careful forger, who rewrites the entry's line and sets its
 * columns to match, so only the hash chain can tell.
 */
export async function tamperDb(s: ServerStore, seq: number, from: string, to: string): Promise<void> {
  await behindTheStore(s, async (tx) => {
    const [row] = await tx.query<{ line: string }>('SELECT line FROM audit WHERE seq = $1', [seq]);
    if (row === undefined || !row.line.includes(from)) throw new Error(`audit entry ${seq} has no ${from}`);
    const line = row.line.replace(from, to);
    const e = JSON.parse(line) as AuditEntry;
    await tx.query(
      'UPDATE audit SET line = $2, ts = $3, actor = $4, action = $5, target = $6 WHERE seq = $1',
      [seq, line, e.ts, encText(e.by), encText(e.action), encText(e.target)],
    );
  });
}

function profile(): Profile {
  return {
    kind: 'apiwarden-profile',
    version: 1,
    from: T0,
    to: T0 + 86_400_000,
    periodMs: 3_600_000,
    method: 'test',
    features: {},
    habitual: { rpm_by_user: { 'nul\u0000user': 40, alice: 12.5 } },
  };
}

const inventory = (events: number): InventoryReport => ({
  version: 1,
  events,
  from: null,
  to: null,
  endpoints: [],
  unconfirmed: [],
  decisions: [],
});

/** Registers the tests of what only the server's database stores keep. */
export function serverStateConformance(name: string, open: () => Promise<ServerStore>): void {
  describe(`server state conformance: ${name}`, () => {
    const opened: ServerStore[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('openIncidentsWith: open incidents naming any of the actors, oldest first, awkward strings included', async () => {
      const s = await fresh();
      const user = { kind: 'user' as const, value: 'nul\u0000user' };
      await s.putIncident(record('inc-b', T0 + 2000));
      await s.putIncident(record('inc-a', T0 + 1000, { status: 'mitigated' }));
      await s.putIncident(record('inc-c', T0, { status: 'resolved' }));
      await s.putIncident(
        record('inc-d', T0 + 500, { status: 'new', actors: [{ kind: 'ip', value: '203.0.113.9' }] }),
      );
      const ids = async (actors: Parameters<PgStateStore['openIncidentsWith']>[0]) =>
        (await s.openIncidentsWith(actors)).map((r) => r.id);
      expect(await ids([user])).toEqual(['inc-a', 'inc-b']);
      expect(
        await ids([
          { kind: 'ip', value: '203.0.113.9' },
          { kind: 'device', value: '\uffff~x' },
        ]),
      ).toEqual(['inc-d', 'inc-a', 'inc-b']);
      expect(await ids([{ kind: 'user', value: '198.51.100.1' }])).toEqual([]);
      expect(await ids([])).toEqual([]);
      // The Responder folds a live segment into the oldest open one through it.
      const r = new Responder(s, { policy: responseSchema.parse({}), now: () => T0 + 9000, mergeOpen: true });
      const [seg] = groupIncidents([alert({ id: 'al-seg', actors: [user], detectedTs: T0 + 5000 })]);
      const res = await r.ingest([seg!], 'pipeline');
      expect([res.created.length, res.updated.map((u) => u.id)]).toEqual([0, ['inc-a']]);
      expect((await s.incident('inc-a'))!.merged).toEqual([seg!.id]);
    });

    it('incidentPage / decisionPage: filters and keyset pages in SQL match filtering and sorting in memory', async () => {
      const s = await fresh();
      const statuses = ['new', 'triaged', 'confirmed'] as const;
      const severities = ['low', 'medium', 'high', 'critical'] as const;
      const recs: IncidentRecord[] = [];
      for (let n = 0; n < 37; n++) {
        // Repeated detection times (ties broken by id), ids that sort differently as numbers and as text.
        const r = record(`inc-${n % 3 === 0 ? 'z' : 'a'}${n}`, T0 + Math.floor(n / 4) * 1000, {
          status: statuses[n % 3]!,
          severity: severities[n % 4]!,
          types: n % 5 === 0 ? ['crawler', 'scanner'] : ['credential_stuffing'],
          assignee: n % 2 === 0 ? 'bo' : null,
        });
        recs.push(r);
        await s.putIncident(r);
        await s.putDecision(
          decision(`dec-${n}`, T0 + (n % 7) * 500, {
            incidentId: r.id,
            status: n % 4 === 0 ? 'active' : n % 4 === 1 ? 'revoked' : 'proposed',
          }),
        );
      }
      const key = (ts: number, id: string) => [ts, id] as [number, string];
      const sortBy = <T>(xs: T[], k: (x: T) => [number, string], order: 'asc' | 'desc') =>
        [...xs].sort((a, b) => {
          const [x, y] = [k(a), k(b)];
          const c = x[0] !== y[0] ? x[0] - y[0] : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0;
          return order === 'asc' ? c : -c;
        });
      const walk = async <T>(
        get: (after: [number, string] | undefined) => Promise<{ items: T[]; total: number; more: boolean }>,
        k: (x: T) => [number, string],
      ) => {
        const all: T[] = [];
        let after: [number, string] | undefined;
        let total = -1;
        for (let guard = 0; guard < 50; guard++) {
          const p = await get(after);
          total = p.total;
          all.push(...p.items);
          if (!p.more) break;
          expect(p.items).toHaveLength(5);
          after = k(p.items[p.items.length - 1]!);
        }
        return { all, total };
      };
      const filters = [
        {},
        { status: 'triaged' },
        { severities: ['high', 'critical'] },
        { type: 'scanner' },
        { assignee: 'bo', status: 'new' },
        { status: 'resolved' },
      ];
      for (const f of filters)
        for (const order of ['asc', 'desc'] as const) {
          const want = sortBy(
            recs.filter(
              (r) =>
                (f.status === undefined || r.status === f.status) &&
                (f.severities === undefined || f.severities.includes(r.severity)) &&
                (f.type === undefined || r.types.includes(f.type as never)) &&
                (f.assignee === undefined || r.assignee === f.assignee),
            ),
            (r) => key(r.detectedTs, r.id),
            order,
          );
          const got = await walk(
            (after) => s.incidentPage(f, { limit: 5, order, after }),
            (r) => key(r.detectedTs, r.id),
          );
          expect(
            got.all.map((r) => r.id),
            JSON.stringify({ f, order }),
          ).toEqual(want.map((r) => r.id));
          expect(got.total).toBe(want.length);
        }
      expect((await s.incidentPage({}, { limit: 100 })).items[0]).toEqual(
        sortBy(recs, (r) => key(r.detectedTs, r.id), 'desc')[0],
      );
      const decs = await s.decisions();
      for (const f of [{}, { status: 'active' }, { incident: recs[4]!.id }])
        for (const order of ['asc', 'desc'] as const) {
          const want = sortBy(
            decs.filter(
              (d) =>
                (!('status' in f) || d.status === f.status) &&
                (!('incident' in f) || d.incidentId === f.incident),
            ),
            (d) => key(d.createdTs, d.id),
            order,
          );
          const got = await walk(
            (after) => s.decisionPage(f, { limit: 5, order, after }),
            (d) => key(d.createdTs, d.id),
          );
          expect(got.all.map((d) => d.id)).toEqual(want.map((d) => d.id));
          expect(got.total).toBe(want.length);
        }
      const counts = await s.decisionCounts([recs[0]!.id, recs[1]!.id, recs[2]!.id, 'inc-none']);
      expect(Object.fromEntries(counts)).toEqual({
        [recs[0]!.id]: { active: 1, proposed: 0 },
        [recs[2]!.id]: { active: 0, proposed: 1 },
      });
    });

    it('users: roles are viewer, analyst or admin (in the store and in the table); names are unique', async () => {
      const s = await fresh();
      for (const [n, role] of [
        ['ann', 'viewer'],
        ['bob', 'analyst'],
        ['cy', 'admin'],
      ] as const)
        expect(await s.createUser(n, role)).toMatchObject({ name: n, role });
      await expect(s.createUser('dan', 'root' as Role)).rejects.toThrow(
        /role "root" for user dan: expected one of viewer, analyst, admin/,
      );
      await expect(s.createUser('ann', 'admin')).rejects.toThrow(/user ann already exists/);
      await expect(s.createUser('', 'viewer')).rejects.toThrow(/user name "": expected 1 to 100 characters/);
      await expect(
        s.db.query('INSERT INTO users (name, role, created_ts) VALUES ($1, $2, $3)', ['eve', 'root', T0]),
      ).rejects.toThrow(/check constraint/);
      expect(await s.setRole('ann', 'analyst')).toBe(true);
      expect(await s.setRole('nobody', 'analyst')).toBe(false);
      expect((await s.users()).map((u) => [u.name, u.role])).toEqual([
        ['ann', 'analyst'],
        ['bob', 'analyst'],
        ['cy', 'admin'],
      ]);
      expect(await s.user('zed')).toBeUndefined();
    });

    it('tokens: the secret is returned once and stored only as its SHA-256', async () => {
      const s = await fresh();
      await s.createUser('ann', 'viewer');
      const a = await s.createToken('ann', 'ci');
      const b = await s.createToken('ann');
      expect(a.secret).toMatch(/^awt_[A-Za-z0-9_-]{43}$/);
      expect(a.secret).not.toBe(b.secret);
      expect(JSON.stringify(a.token)).not.toContain(a.secret.slice(4));
      const listed = JSON.stringify(await s.tokens());
      const table = JSON.stringify(await s.db.query('SELECT * FROM api_tokens'));
      for (const secret of [a.secret, b.secret]) {
        expect(listed).not.toContain(secret.slice(4));
        expect(table).not.toContain(secret.slice(4));
        expect(table).toContain(sha256(secret));
      }
      expect((await s.tokens('ann')).map((t) => [t.id, t.label, t.user, t.revokedTs])).toEqual([
        [a.token.id, 'ci', 'ann', null],
        [b.token.id, '', 'ann', null],
      ]);
      await expect(s.createToken('nobody')).rejects.toThrow(/no user nobody: create the user first/);
    });

    it('tokens: authenticate accepts a live token and refuses unknown, malformed and revoked ones', async () => {
      const s = await fresh();
      await s.createUser('bob', 'analyst');
      const { token, secret } = await s.createToken('bob', 'laptop');
      const who = await s.authenticate(secret);
      expect(who).toMatchObject({
        role: 'analyst',
        tokenId: token.id,
        user: { name: 'bob', role: 'analyst' },
      });
      expect((await s.tokens('bob'))[0]!.lastUsedTs).not.toBeNull();
      for (const bad of [
        '',
        'Bearer x',
        `awt_${'A'.repeat(43)}`,
        `${secret}x`,
        secret.slice(0, -1),
        `awt_${'a'.repeat(500)}`,
      ])
        expect(await s.authenticate(bad)).toBeNull();
      await s.setRole('bob', 'viewer');
      expect((await s.authenticate(secret))!.role).toBe('viewer');
      expect(await s.revokeToken(token.id)).toBe(true);
      expect(await s.revokeToken(token.id)).toBe(false);
      expect(await s.revokeToken('tok_nope')).toBe(false);
      expect(await s.authenticate(secret)).toBeNull();
      expect((await s.tokens())[0]!.revokedTs).not.toBeNull();
    });

    it('first admin token: made only when there are no users, once even when asked at once', async () => {
      const s = await fresh();
      const got = await Promise.all(Array.from({ length: 5 }, () => s.firstAdminToken()));
      const made = got.filter((g) => g !== null);
      expect(made).toHaveLength(1);
      expect(made[0]!.user).toMatchObject({ name: 'admin', role: 'admin' });
      expect(await s.authenticate(made[0]!.secret)).toMatchObject({ role: 'admin', user: { name: 'admin' } });
      expect(await s.firstAdminToken()).toBeNull();
      expect((await s.users()).map((u) => u.name)).toEqual(['admin']);
      const other = await fresh();
      await other.createUser('ann', 'viewer');
      expect(await other.firstAdminToken()).toBeNull();
    });

    it('inventory snapshots and profiles: the latest wins, earlier versions stay', async () => {
      const s = await fresh();
      expect(await s.latestInventory()).toBeUndefined();
      expect(await s.latestProfile()).toBeUndefined();
      const i1 = await s.putInventory(inventory(10));
      const i2 = await s.putInventory(inventory(20));
      expect(await s.latestInventory()).toEqual({ id: i2.id, ts: i2.ts, value: inventory(20) });
      expect((await s.inventoryVersions()).map((v) => v.id)).toEqual([i2.id, i1.id]);
      const p1 = await s.putProfile(profile());
      const p2 = await s.putProfile({ ...profile(), method: 'second' });
      await s.putProfile({ ...profile(), method: 'staging' }, 'staging');
      expect((await s.latestProfile())!.value).toEqual({ ...profile(), method: 'second' });
      expect((await s.latestProfile('staging'))!.value.method).toBe('staging');
      expect((await s.profile(p1.id))!.value).toEqual(profile());
      expect((await s.profileVersions('default')).map((v) => v.id)).toEqual([p2.id, p1.id]);
      expect(await s.profileVersions()).toHaveLength(3);
    });

    it('audit rows cannot be updated, deleted or truncated (trigger)', async () => {
      const s = await fresh();
      await s.audit({ ts: T0, by: 'al', action: 'incident.created', target: 'inc-1' });
      await expect(s.db.query("UPDATE audit SET actor = 'mallory' WHERE seq = 1")).rejects.toThrow(
        /the audit log is append-only: UPDATE on audit is refused/,
      );
      await expect(s.db.query('DELETE FROM audit')).rejects.toThrow(/append-only: DELETE/);
      await expect(s.db.query('TRUNCATE audit')).rejects.toThrow(/append-only: TRUNCATE/);
      expect(await s.auditLog()).toHaveLength(1);
      expect(await s.verifyAudit()).toBeNull();
    });

    it('verifyAudit also catches a column changed without its line, and a removed or changed last entry', async () => {
      const s = await fresh();
      for (let i = 1; i <= 4; i++)
        await s.audit({ ts: T0 + i, by: 'al', action: 'incident.note', target: 'inc-1' });
      await behindTheStore(s, async (tx) => {
        await tx.query("UPDATE audit SET actor = 'mallory' WHERE seq = 2");
      });
      expect(await s.verifyAudit()).toMatch(/audit entry 2: its columns .* differ from its hashed line/);
      await behindTheStore(s, async (tx) => {
        await tx.query("UPDATE audit SET actor = 'al' WHERE seq = 2");
      });
      expect(await s.verifyAudit()).toBeNull();
      await tamperDb(s, 4, '"by":"al"', '"by":"mallory"');
      expect(await s.verifyAudit()).toMatch(/audit entry 4 \(the last\) was changed/);
      await behindTheStore(s, async (tx) => {
        await tx.query('DELETE FROM audit WHERE seq = 4');
      });
      expect(await s.verifyAudit()).toMatch(
        /ends at entry 3 but its head records 4 entries: entries were removed/,
      );
      await behindTheStore(s, async (tx) => {
        await tx.query('DELETE FROM audit WHERE seq = 2');
      });
      expect(await s.verifyAudit()).toMatch(/audit entry 2 is missing \(the next one is 3\)/);
    });
  });
}
