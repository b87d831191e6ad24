/**
 * PgStateStore's narrow decision reads (`decisionsAbout`, `decisionsDue`) against reading every decision:
 * a Responder over the store with them and one over the same store without them (the optional methods
 * hidden) must take exactly the same decisions, escalations and expiries. They exist so a long-running
 * server (the live demo makes tens of thousands of decisions an hour) does not read every decision for each
 * new incident.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../config/schema.js';
import type { Incident } from '../../detect/incidents.js';
import type { StateStore } from '../../respond/state.js';
import { Responder } from '../../respond/workflow.js';
import { openState, type PgStateStore } from './pg-state.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-dec-about-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const incident = (id: string, actors: Incident['actors'], over: Partial<Incident> = {}): Incident => ({
  id,
  type: 'credential_stuffing',
  types: ['credential_stuffing'],
  severity: 'high',
  score: 0.9,
  confidence: 0.8,
  status: 'new',
  actors,
  endpoints: ['POST /api/v1/auth/login'],
  firstEventTs: 1_700_000_000_000,
  detectedTs: 1_700_000_060_000,
  lastEventTs: 1_700_000_300_000,
  requests: 400,
  alerts: [`alert-${id}`],
  evidence: [],
  explanation: 'failed logins',
  ...over,
});

/** The same store without the optional narrow reads: the Responder falls back to reading every decision. */
function withoutNarrowReads(s: PgStateStore): StateStore {
  return {
    location: s.location,
    incidents: () => s.incidents(),
    incident: (id) => s.incident(id),
    putIncident: (r) => s.putIncident(r),
    decisions: () => s.decisions(),
    putDecision: (d) => s.putDecision(d),
    allowlist: () => s.allowlist(),
    addAllow: (e) => s.addAllow(e),
    audit: (e) => s.audit(e),
    auditLog: (t) => s.auditLog(t),
    commit: () => s.commit(),
    close: () => s.close(),
  };
}

describe('decisionsAbout / decisionsDue', () => {
  it('give the Responder the same decisions, escalations and expiries as reading every decision', async () => {
    let now = 1_800_000_000_000;
    const clock = () => now;
    const a = await openState({ dataDir: join(dir, 'narrow'), now: clock });
    const b = await openState({ dataDir: join(dir, 'full'), now: clock });
    try {
      const policy = defaultConfig().response;
      const ra = new Responder(a, { policy, now: clock });
      const rb = new Responder(withoutNarrowReads(b), { policy, now: clock });
      expect(ra.store.decisionsAbout).toBeDefined();
      expect(rb.store.decisionsAbout).toBeUndefined();
      // Actors that come back in later incidents (escalation), values with quotes and a NUL (encoded text),
      // and an incident ingested twice (its decisions are known, not repeated).
      const rounds: Incident[][] = [
        [
          incident('inc-1', [
            { kind: 'ip', value: '203.0.113.7' },
            { kind: 'user', value: "o'brien" },
          ]),
          incident('inc-2', [{ kind: 'ip', value: '198.51.100.1' }], { type: 'crawler', types: ['crawler'] }),
        ],
        [
          incident('inc-3', [
            { kind: 'ip', value: '203.0.113.7' },
            { kind: 'token', value: 'a\u0000b' },
          ]),
          incident('inc-1', [
            { kind: 'ip', value: '203.0.113.7' },
            { kind: 'user', value: "o'brien" },
          ]),
        ],
        [
          incident('inc-4', [
            { kind: 'ip', value: '203.0.113.7' },
            { kind: 'token', value: 'a\u0000b' },
          ]),
          incident('inc-5', [{ kind: 'user', value: "o'brien" }], { severity: 'critical' }),
        ],
      ];
      for (const round of rounds) {
        now += 60_000;
        const x = await ra.ingest(round, 'test');
        const y = await rb.ingest(round, 'test');
        expect(x.decisions).toEqual(y.decisions);
        expect(x.created.map((i) => i.id)).toEqual(y.created.map((i) => i.id));
      }
      const all = await a.decisions();
      expect(all).toEqual(await b.decisions());
      expect(all.length).toBeGreaterThan(4);
      // Escalation happened: a later offence on the same actor.
      expect(Math.max(...all.map((d) => d.offence ?? 1))).toBeGreaterThan(1);
      // Only the incident's own decisions and its actors' come back.
      const about = await a.decisionsAbout('inc-2', [{ kind: 'ip', value: '198.51.100.1' }]);
      expect(about.length).toBeGreaterThan(0);
      expect(about.every((d) => d.incidentId === 'inc-2' || d.scope.value === '198.51.100.1')).toBe(true);
      expect(await a.decisionsAbout('inc-none', [{ kind: 'ip', value: '192.0.2.99' }])).toEqual([]);

      // Expiry: nothing is due yet, then everything with a TTL is.
      expect(await a.decisionsDue(now)).toEqual([]);
      now += 400 * 24 * 3_600_000;
      const due = await a.decisionsDue(now);
      expect(due.length).toBeGreaterThan(0);
      const ex = await ra.expire();
      const ey = await rb.expire();
      expect(ex.map((d) => d.id)).toEqual(ey.map((d) => d.id));
      expect(ex.map((d) => d.id).sort()).toEqual(due.map((d) => d.id).sort());
      expect(await a.decisionsDue(now)).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
