import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupIncidents, type Incident } from '../detect/incidents.js';
import type { Alert } from '../detect/types.js';
import { CrawlerDnsVerifier } from '../enrich/crawler-dns.js';
import type { Profile } from '../profiling/profile.js';
import { AllowList, decide, defaultPolicy, parseDuration, responseSchema } from './policy.js';
import { FileStateStore } from './state.js';
import type { Decision } from './types.js';
import { learnFromFalsePositive, Responder, TRANSITIONS } from './workflow.js';

const T0 = Date.UTC(2026, 2, 2, 10);

function alert(over: Partial<Alert> & Pick<Alert, 'id' | 'actors'>): Alert {
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

function profile(): Profile {
  return {
    kind: 'apiwarden-profile',
    version: 1,
    from: 0,
    to: 1,
    periodMs: 3_600_000,
    method: '',
    features: {
      rpm_by_ip_endpoint: {
        actor: 'ip',
        unit: 'req/min',
        perEndpoint: true,
        population: null,
        endpoints: {
          'GET /api/v2/products/{id}': {
            threshold: 12.4,
            scenario: 'detail',
          } as never,
        },
        scenarios: {},
      },
    },
    habitual: {},
  };
}

async function responder(policy = defaultPolicy(), prof: Profile | null = null, mergeOpen = false) {
  const dir = await mkdtemp(join(tmpdir(), 'aw-state-'));
  let now = T0 + 3_600_000;
  const store = await FileStateStore.open(dir);
  const r = new Responder(store, {
    policy,
    profile: prof,
    now: () => now,
    ...(mergeOpen ? { mergeOpen } : {}),
  });
  return { dir, store, r, tick: (ms: number) => (now += ms), now: () => now };
}

describe('incidents over the actor graph', () => {
  it('joins alerts through shared and linked actors, deterministically', () => {
    const a = alert({ id: 'a1', actors: [ip('198.51.100.1'), { kind: 'token', value: 'aaaaaaaaaaaaaaaa' }] });
    const b = alert({ id: 'a2', actors: [{ kind: 'token', value: 'aaaaaaaaaaaaaaaa' }], detectedTs: T0 + 1 });
    const c = alert({ id: 'a3', actors: [{ kind: 'device', value: 'dev-1' }] });
    const d = alert({ id: 'a4', actors: [{ kind: 'user', value: 'alice' }] });
    const e = alert({ id: 'a5', actors: [ip('198.51.100.9')] });
    const links = [
      [
        { kind: 'device', value: 'dev-1' },
        { kind: 'user', value: 'alice' },
      ] as const,
    ];
    const one = groupIncidents([a, b, c, d, e], { links });
    const two = groupIncidents([e, d, c, b, a], { links });
    expect(one.map((i) => i.id)).toEqual(two.map((i) => i.id));
    expect(one).toHaveLength(3);
    expect(one.find((i) => i.alerts.includes('a3'))!.alerts.sort()).toEqual(['a3', 'a4']);
    // A link to an actor in no alert does not pull it in.
    const three = groupIncidents([e], { links: [[ip('198.51.100.9'), { kind: 'user', value: 'bob' }]] });
    expect(three[0]!.actors).toEqual([ip('198.51.100.9')]);
  });

  it('raises severity one step on a sensitive scenario, with the reason', () => {
    const a = alert({ id: 'a1', actors: [ip('198.51.100.1')], endpoints: ['POST /api/v1/auth/login'] });
    const [inc] = groupIncidents([a], { scenarioOf: () => 'authentication' });
    expect(inc!.severity).toBe('high');
    expect(inc!.severityReason).toMatch(/is in the authentication scenario/);
    const [low] = groupIncidents([{ ...a, score: 0.3 }], { scenarioOf: () => 'authentication' });
    expect(low!.severity).toBe('medium');
    const [data] = groupIncidents([a], { sensitiveOf: () => true });
    expect(data!.severityReason).toMatch(/answers sensitive data/);
  });
});

describe('policy', () => {
  it('parses durations and names bad fields', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7x')).toBeNull();
    const bad = responseSchema.safeParse({ rules: [{ action: 'nuke', ttl: 'soon' }] });
    expect(bad.success).toBe(false);
    const msgs = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs.join('\n')).toMatch(/rules.0.action: expected one of block, rate_limit, challenge/);
    expect(msgs.join('\n')).toMatch(/rules.0.ttl: expected a duration such as 30m/);
  });

  it('decides per rule: actors, endpoints, rate limit from the profile, never the victims', () => {
    const policy = responseSchema.parse({
      rules: [{ types: ['high_frequency'], action: 'rate_limit', perEndpoint: true, auto: true, ttl: '2h' }],
    });
    const [inc] = groupIncidents([
      alert({ id: 'a1', actors: [ip('198.51.100.1'), { kind: 'user', value: 'victim' }] }),
    ]);
    const d = decide(policy, inc!, {
      profile: profile(),
      history: [],
      allow: new AllowList(policy),
      now: T0,
    });
    expect(d.decisions).toHaveLength(1);
    expect(d.decisions[0]).toMatchObject({
      action: 'rate_limit',
      status: 'active',
      origin: 'auto',
      scope: { kind: 'ip', value: '198.51.100.1', endpoint: 'GET /api/v2/products/{id}' },
      rateLimit: { requests: 13, perSeconds: 60 },
      expiresTs: T0 + 7_200_000,
      offence: 1,
    });
    expect(d.skipped).toEqual([
      { actor: { kind: 'user', value: 'victim' }, reason: 'the rule does not act on user actors' },
    ]);
  });

  it('escalates repeat offenders: longer TTL, then a block', () => {
    const policy = responseSchema.parse({
      rules: [{ action: 'challenge', ttl: '1h' }],
      escalation: { factor: 4, blockAfter: 3 },
    });
    const history: Decision[] = [];
    const allow = new AllowList(policy);
    const out: Decision[] = [];
    for (let n = 0; n < 3; n++) {
      const [inc] = groupIncidents([alert({ id: `a${n}`, actors: [ip('198.51.100.1')] })]);
      const d = decide(policy, inc!, { history, allow, now: T0 + n }).decisions[0]!;
      history.push(d);
      out.push(d);
    }
    expect(out.map((d) => d.offence)).toEqual([1, 2, 3]);
    expect(out.map((d) => d.expiresTs! - d.createdTs)).toEqual([3_600_000, 14_400_000, 57_600_000]);
    expect(out.map((d) => d.action)).toEqual(['challenge', 'challenge', 'block']);
  });

  it('leaves allow-listed actors and published crawler ranges alone; dry-run proposes only', () => {
    const policy = responseSchema.parse({
      dryRun: true,
      rules: [{ action: 'block', auto: true }],
      allow: { cidrs: ['10.0.0.0/8'] },
    });
    const [inc] = groupIncidents([
      alert({ id: 'a1', actors: [ip('10.1.2.3'), ip('66.249.66.1'), ip('198.51.100.1')] }),
    ]);
    const d = decide(policy, inc!, { history: [], allow: new AllowList(policy), now: T0 });
    expect(d.decisions.map((x) => [x.scope.value, x.status])).toEqual([['198.51.100.1', 'proposed']]);
    expect(d.skipped.map((s) => s.reason)).toEqual([
      'config allow.cidrs 10.0.0.0/8',
      'published googlebot range',
    ]);
  });
});

describe('live segments fold into open incidents (mergeOpen)', () => {
  const segment = (n: number, ips: string[], over: Partial<Alert> = {}) =>
    groupIncidents([
      alert({
        id: `seg${n}`,
        actors: ips.map(ip),
        firstEventTs: T0 + n * 300_000,
        detectedTs: T0 + n * 300_000 + 60_000,
        lastEventTs: T0 + n * 300_000 + 240_000,
        requests: 50,
        ...over,
      }),
    ]);

  it('one behaviour over three segments is one incident; new actors get decisions, not a new offence', async () => {
    const policy = responseSchema.parse({ rules: [{ action: 'block', ttl: '1h' }] });
    const { r, store } = await responder(policy, null, true);
    const first = await r.ingest(segment(0, ['198.51.100.1']), 'pipeline');
    expect(first.created).toHaveLength(1);
    const id = first.created[0]!.id;
    const second = await r.ingest(segment(1, ['198.51.100.1', '198.51.100.2']), 'pipeline');
    expect(second.created).toHaveLength(0);
    expect(second.updated.map((u) => u.id)).toEqual([id]);
    // The new address is decided on; the known one is not decided again (and not escalated).
    expect(second.decisions.map((d) => [d.scope.value, d.offence])).toEqual([['198.51.100.2', 1]]);
    await r.ingest(segment(2, ['198.51.100.1'], { severity: 'high', type: 'high_frequency' }), 'pipeline');
    // The same segment reported again changes nothing.
    const again = await r.ingest(segment(2, ['198.51.100.1'], { severity: 'high' }), 'pipeline');
    expect([again.created.length, again.updated.length, again.decisions.length]).toEqual([0, 0, 0]);
    const all = await store.incidents();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      id,
      requests: 150,
      firstEventTs: T0,
      lastEventTs: T0 + 2 * 300_000 + 240_000,
      severity: 'high',
      actors: [ip('198.51.100.1'), ip('198.51.100.2')],
    });
    expect(all[0]!.merged).toHaveLength(2);
    expect(all[0]!.alerts).toEqual(['seg0', 'seg1', 'seg2']);
    expect((await store.decisions()).map((d) => [d.scope.value, d.offence]).sort()).toEqual([
      ['198.51.100.1', 1],
      ['198.51.100.2', 1],
    ]);
    expect((await store.auditLog()).filter((e) => e.action === 'incident.updated')).toHaveLength(2);
  });

  it('does not fold into a resolved incident, nor across types, nor without the option', async () => {
    const { r, store } = await responder(defaultPolicy(), null, true);
    const a = (await r.ingest(segment(0, ['198.51.100.1']), 'pipeline')).created[0]!;
    await r.transition(a.id, 'false_positive', { by: 'al' });
    expect((await r.ingest(segment(1, ['198.51.100.1']), 'pipeline')).created).toHaveLength(1);
    expect(
      (await r.ingest(segment(2, ['198.51.100.1'], { type: 'scanner' }), 'pipeline')).created,
    ).toHaveLength(1);
    expect(await store.incidents()).toHaveLength(3);
    const plain = await responder();
    await plain.r.ingest(segment(0, ['198.51.100.1']));
    await plain.r.ingest(segment(1, ['198.51.100.1']));
    expect(await plain.store.incidents()).toHaveLength(2);
  });
});

describe('the workflow', () => {
  it('follows the SOP, refuses other moves, and keeps an append-only hash-chained audit log', async () => {
    const { r, store, dir } = await responder(
      responseSchema.parse({ rules: [{ action: 'block', ttl: '1h' }] }),
    );
    const incs = groupIncidents([alert({ id: 'a1', actors: [ip('198.51.100.1')] })]);
    const res = await r.ingest(incs);
    expect(res.created).toHaveLength(1);
    expect(res.decisions.map((d) => d.status)).toEqual(['proposed']);
    // Idempotent: the same incidents again change nothing.
    const again = await r.ingest(incs);
    expect([again.created.length, again.updated.length, again.decisions.length]).toEqual([0, 0, 0]);
    const id = incs[0]!.id;
    await expect(r.transition(id, 'resolved', { by: 'al' })).rejects.toThrow(
      /is new; from there it can go to triaged or false_positive/,
    );
    await r.transition(id, 'triaged', { by: 'al', assignee: 'bo', note: 'on it' });
    await r.transition(id, 'confirmed', { by: 'bo' });
    await expect(r.transition(id, 'mitigated', { by: 'bo' })).rejects.toThrow(/no active decision/);
    await r.approve(res.decisions[0]!.id, 'bo');
    expect((await store.incident(id))!.status).toBe('mitigated');
    await r.transition(id, 'resolved', { by: 'bo' });
    const rec = (await store.incident(id))!;
    expect(rec).toMatchObject({ status: 'resolved', assignee: 'bo', notes: [{ by: 'al', text: 'on it' }] });
    expect(Object.keys(rec.statusTs).sort()).toEqual([
      'confirmed',
      'mitigated',
      'new',
      'resolved',
      'triaged',
    ]);
    const log = await store.auditLog();
    expect(log.map((e) => e.action)).toEqual([
      'incident.created',
      'decision.proposed',
      'incident.transition',
      'incident.transition',
      'decision.approved',
      'incident.transition',
      'incident.transition',
    ]);
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await store.verifyAudit()).toBeNull();
    await store.close();
    // Reopened, the state is all there; a tampered line breaks the chain.
    const s2 = await FileStateStore.open(dir);
    expect((await s2.incident(id))!.status).toBe('resolved');
    expect((await s2.decisions())[0]!.status).toBe('active');
    await s2.close();
    const path = join(dir, 'audit.jsonl');
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('"by":"al"', '"by":"mallory"');
    await writeFile(path, lines.join('\n'));
    const s3 = await FileStateStore.open(dir);
    expect(await s3.verifyAudit()).toMatch(/audit entry 4 does not follow/);
    await s3.close();
  });

  it('a false positive revokes, allow-lists and teaches the profile', async () => {
    const prof = profile();
    const { r, store } = await responder(
      responseSchema.parse({ rules: [{ action: 'block', auto: true }] }),
      prof,
    );
    const incs = groupIncidents([alert({ id: 'a1', actors: [ip('198.51.100.1')] })]);
    const res = await r.ingest(incs);
    expect(res.decisions[0]!.status).toBe('active');
    const t = await r.transition(incs[0]!.id, 'false_positive', { by: 'al' });
    expect(t.revoked.map((d) => d.status)).toEqual(['revoked']);
    expect(prof.habitual).toEqual({ rpm_by_ip_endpoint: { '198.51.100.1': 80 } });
    expect(await store.allowlist()).toMatchObject([
      { kind: 'ip', value: '198.51.100.1', reason: 'false positive' },
    ]);
    // The next incident of that actor brings no decision: it is allow-listed now.
    const next = groupIncidents([alert({ id: 'b1', actors: [ip('198.51.100.1')] })]);
    expect((await r.ingest(next)).decisions).toEqual([]);
    await store.close();
  });

  it('expires decisions past their TTL and lets two stores not share a directory', async () => {
    const { r, store, tick, dir } = await responder(
      responseSchema.parse({ rules: [{ action: 'block', auto: true, ttl: '30m' }] }),
    );
    await r.ingest(groupIncidents([alert({ id: 'a1', actors: [ip('198.51.100.1')] })]));
    expect(await r.expire()).toEqual([]);
    tick(31 * 60_000);
    expect((await r.expire()).map((d) => d.status)).toEqual(['expired']);
    await expect(FileStateStore.open(dir)).resolves.toBeDefined(); // same process: the lock is ours
    await store.close();
  });

  it('allows only the documented moves', () => {
    expect(TRANSITIONS.new).toEqual(['triaged', 'false_positive']);
    expect(TRANSITIONS.confirmed).toContain('mitigated');
  });

  it('learns each feature once per actor, at the highest value', () => {
    const prof = profile();
    const [inc] = groupIncidents([
      alert({
        id: 'a1',
        actors: [ip('198.51.100.1')],
        evidence: [30, 90, 60].map((value) => ({
          feature: 'rpm_by_ip_endpoint',
          value,
          threshold: 10,
          source: 'profile',
        })),
      }),
    ]);
    expect(learnFromFalsePositive(prof, inc as Incident)).toEqual(['rpm_by_ip_endpoint ip:198.51.100.1=90']);
  });

  it('leaves addresses that reverse DNS proves to be crawlers alone, when the policy asks', async () => {
    const resolver = {
      reverse: async (ip: string) => (ip === '203.0.113.5' ? ['crawl-203-0-113-5.googlebot.com'] : []),
      resolve4: async (host: string) => (host === 'crawl-203-0-113-5.googlebot.com' ? ['203.0.113.5'] : []),
      resolve6: async () => [],
    };
    const dir = await mkdtemp(join(tmpdir(), 'aw-state-'));
    const store = await FileStateStore.open(dir);
    const r = new Responder(store, {
      policy: responseSchema.parse({ rules: [{ action: 'block' }], allow: { crawlersByDns: true } }),
      crawlerDns: new CrawlerDnsVerifier({ resolver }),
      now: () => T0,
    });
    const res = await r.ingest(
      groupIncidents([alert({ id: 'a1', actors: [ip('203.0.113.5'), ip('198.51.100.1')] })]),
    );
    expect(res.decisions.map((d) => d.scope.value)).toEqual(['198.51.100.1']);
    await expect(
      r.manual(
        { action: 'block', scope: { kind: 'ip', value: '203.0.113.5' }, ttlMs: 1000, reason: 'x' },
        'al',
      ),
    ).rejects.toThrow(/googlebot by reverse DNS \(crawl-203-0-113-5\.googlebot\.com\)/);
    await store.close();
  });
});
