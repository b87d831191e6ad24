import { describe, expect, it } from 'vitest';
import type { IntelCategory } from '../../enrich/intel-index.js';
import type { FeatureEvent } from '../../features/enrich.js';
import { readProfile } from '../../profiling/profile.js';
import type { Finding } from '../alerts.js';
import type { DetectorContext, IntelCategories } from '../detector.js';
import {
  BEHAVIOUR_FEATURES,
  BEHAVIOUR_INTEL_FEATURES,
  BehaviourDetector,
  type BehaviourModelJson,
  BehaviourTrainer,
  BehaviourWindows,
} from './behaviour.js';

let seq = 0;
const ATTACKER = '203.0.113.5';
/** 20 of the 400 ordinary addresses (with an agent of their own), and the one the clone copies. */
const LISTED = new Set(Array.from({ length: 20 }, (_, a) => `10.0.${a >> 8}.${a & 255}`));
const CLONED = '10.0.1.44';
const CLONE = '198.51.100.7';
const LOGIN = {
  method: 'POST',
  path: '/api/login',
  endpoint: 'POST /api/login',
  scenario: 'authentication',
} as const;
const ev = (ts: number, ip: string, extra: Partial<FeatureEvent> = {}): FeatureEvent => ({
  ts,
  seq: seq++,
  ip,
  device: null,
  token: null,
  user: null,
  host: 'h',
  method: 'GET',
  path: '/api/items',
  endpoint: 'GET /api/items',
  scenario: 'listing',
  status: 200,
  latencyMs: 10,
  bytesOut: 500,
  bytesIn: null,
  userAgent: 'ua',
  numericId: null,
  sensitive: [],
  ...extra,
});

/**
 * 400 addresses browsing for two hours, 12-40 requests per 10 minutes each: page assets, listings, product
 * pages (random ids), a cart, now and then a mistyped password or a missing product.
 */
function traffic(attack: boolean, clone?: string): FeatureEvent[] {
  const out: FeatureEvent[] = [];
  let r = 12345;
  const rnd = () => {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    return r / 2 ** 32;
  };
  for (let w = 0; w < 12; w++)
    for (let a = 0; a < 400; a++) {
      const ip = `10.0.${a >> 8}.${a & 255}`;
      const n = 12 + Math.floor(rnd() * 28);
      for (let i = 0; i < n; i++) {
        const ts = w * 600_000 + Math.floor(rnd() * 599_000);
        const k = rnd();
        const bytesOut = 300 + Math.floor(rnd() * 2000);
        const id = 1 + Math.floor(rnd() * 5000);
        const detail = { path: `/api/items/${id}`, endpoint: 'GET /api/items/{id}', scenario: 'detail' };
        const e = ev(
          ts,
          ip,
          k < 0.2
            ? { scenario: 'static', path: '/app.js', endpoint: 'GET /app.js' }
            : k < 0.45
              ? { ...detail, numericId: id, bytesOut }
              : k < 0.53
                ? {
                    method: 'POST',
                    path: '/api/cart',
                    endpoint: 'POST /api/cart',
                    scenario: 'cart',
                    bytesOut,
                  }
                : k < 0.55
                  ? { ...LOGIN, status: rnd() < 0.5 ? 401 : 200 }
                  : k < 0.57
                    ? { ...detail, numericId: id, status: 404, bytesOut: 100 }
                    : { bytesOut },
        );
        if (LISTED.has(ip)) e.userAgent = 'curl/8.4.0';
        out.push(e);
        // The clone repeats one ordinary address's requests exactly, from its own address.
        if (clone !== undefined && ip === CLONED) out.push({ ...e, ip: clone, seq: seq++ });
      }
    }
  if (attack)
    // An ordinary volume (14 requests), but every one a failed login and no page assets.
    for (let i = 0; i < 14; i++)
      out.push(ev(6 * 600_000 + i * 40_000, '203.0.113.5', { ...LOGIN, status: 401 }));
  return out.sort((x, y) => x.ts - y.ts);
}

/** Threat intel over a set of listed addresses (and agents), as DetectorContext.intelOf answers. */
function intelOver(
  ips: ReadonlySet<string>,
  category: IntelCategory = 'datacenter',
  agents: ReadonlySet<string> = new Set(),
): (ip: string, ua: string | null) => IntelCategories {
  return (ip, ua) => ({
    address: ips.has(ip) ? [category] : [],
    agent: ua !== null && agents.has(ua) ? ['scanner'] : [],
  });
}

function train(
  events: readonly FeatureEvent[],
  intelOf?: (ip: string, ua: string | null) => IntelCategories,
) {
  const t = new BehaviourTrainer(undefined, intelOf);
  for (const e of events) t.windows.add(e);
  return t.build()!;
}

function detect(
  model: BehaviourModelJson,
  events: readonly FeatureEvent[],
  intelOf?: (ip: string, ua: string | null) => IntelCategories,
) {
  const found: Finding[] = [];
  const ctx = {
    emit: (f: Finding) => found.push(f),
    ...(intelOf === undefined ? {} : { intelOf }),
  } as unknown as DetectorContext;
  const d = new BehaviourDetector(ctx, JSON.parse(JSON.stringify(model)));
  for (const e of events) d.onEvent(e);
  d.finish();
  return { found, detector: d };
}

/** Every closed window's row (a copy), keyed by address and window start. */
function rowsOf(events: readonly FeatureEvent[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const w = new BehaviourWindows((ip, row, _a, start) => out.set(`${ip}@${start}`, Float64Array.from(row)));
  for (const e of events) w.add(e);
  w.finish();
  return out;
}

describe('behaviour model (Isolation Forest over 10-minute windows)', () => {
  it('learns from windows, then flags a window of failed logins and explains it by its features', () => {
    const t = new BehaviourTrainer();
    for (const e of traffic(false)) t.windows.add(e);
    const model = t.build()!;
    expect(model).not.toBeNull();
    expect(model.trainingWindows).toBeGreaterThan(2000);
    const found: Finding[] = [];
    const ctx = { emit: (f: Finding) => found.push(f) } as unknown as DetectorContext;
    const d = new BehaviourDetector(ctx, JSON.parse(JSON.stringify(model)));
    for (const e of traffic(true)) d.onEvent(e);
    d.finish();
    const hit = found.find((f) => f.actors[0]!.value === '203.0.113.5');
    expect(hit).toBeDefined();
    expect(hit?.evidence[0]?.feature).toMatch(/^iforest\./);
    expect(hit?.explanation).toMatch(/rarer than 99\.9% of the training windows/);
    expect(hit?.evidence.every((x) => x.source === 'model')).toBe(true);
    expect(hit?.type).toBe('credential_stuffing');
    // The third opinion, DBSCAN density, is in the evidence with the features that drove its distance.
    const density = hit?.evidence.find((x) => x.feature === 'dbscan.distance');
    expect(density?.note).toMatch(
      /core points of normal behaviour over eps [\d.]+ .*most from (error_share|post_share|auth_failures) \d+%/,
    );
    // Ordinary windows stay below the line (a few at most, by construction of the 99.9th percentile).
    expect(found.filter((f) => f.actors[0]!.value !== '203.0.113.5').length).toBeLessThanOrEqual(10);
  });

  it('gives no model for too little traffic', () => {
    const t = new BehaviourTrainer();
    for (let i = 0; i < 50; i++) t.windows.add(ev(i * 1000, '10.0.0.1'));
    expect(t.build()).toBeNull();
  });

  it('keeps the DBSCAN density model in the profile: minPts 2 x columns, eps from the data, at most 2,000 cores', () => {
    const model = train(traffic(false));
    expect(model.features).toEqual([...BEHAVIOUR_FEATURES]);
    const db = model.dbscan as unknown as { eps: number; minPts: number; corePoints: number[]; cols: number };
    expect(db.minPts).toBe(22);
    expect(db.cols).toBe(11);
    expect(db.eps).toBeGreaterThan(0);
    expect(db.corePoints.length / 11).toBeLessThanOrEqual(2000);
    expect(db.corePoints.length).toBeGreaterThan(0);
    expect(model.dbscanSupport).toBeGreaterThan(0);
    expect(model.dbscanThreshold).toBeGreaterThanOrEqual(model.dbscanSupport);
    // readProfile checks the model: a good one passes, a broken or older one is refused with the field.
    const profile = {
      kind: 'apiwarden-profile',
      version: 1,
      features: {},
      habitual: {},
      models: { behaviour: model },
    };
    expect(readProfile(JSON.stringify(profile)).ok).toBe(true);
    const bad = (behaviour: unknown) => {
      const r = readProfile(JSON.stringify({ ...profile, models: { behaviour } }));
      return r.ok ? '' : r.error;
    };
    expect(bad({ ...model, version: 1 })).toMatch(
      /models\.behaviour: version 1 is not 2 .*learn the profile again/,
    );
    expect(bad({ ...model, dbscan: { ...model.dbscan, eps: -1 } })).toMatch(
      /models\.behaviour: dbscan.fromJSON: field "eps"/,
    );
    expect(bad({ ...model, dbscanThreshold: 'x' })).toMatch(/dbscanThreshold must be a number/);
    expect(bad({ ...model, features: ['requests'] })).toMatch(/features must be/);
  });

  it('scores the same after a JSON round trip of the profile, and fits the same models twice (seeded)', () => {
    const events = traffic(true);
    const a = train(events);
    const b = train(events);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const ctx = { emit: () => {} } as unknown as DetectorContext;
    const fresh = new BehaviourDetector(ctx, a);
    const loaded = new BehaviourDetector(ctx, JSON.parse(JSON.stringify(a)));
    const s1 = new Float64Array(3);
    const s2 = new Float64Array(3);
    let n = 0;
    for (const row of rowsOf(events).values()) {
      fresh.score(row, s1);
      loaded.score(row, s2);
      expect(Array.from(s2)).toEqual(Array.from(s1));
      n++;
    }
    expect(n).toBeGreaterThan(2000);
    // The attacker's window is far from every core point of normal behaviour.
    const row = [...rowsOf(events)].find(([k]) => k.startsWith(ATTACKER))![1];
    fresh.score(row, s1);
    expect(s1[2]!).toBeGreaterThan(a.dbscanThreshold);
  });

  it('intel configured but listing nobody changes nothing: columns 0, the same models and findings', () => {
    const nobody = intelOver(new Set());
    const plain = train(traffic(false));
    const withIntel = train(traffic(false), nobody);
    expect(JSON.stringify(withIntel)).toBe(JSON.stringify(plain));
    for (const row of rowsOf(traffic(false)).values()) expect(row.subarray(11)).toEqual(new Float64Array(2));
    const a = detect(plain, traffic(true));
    const b = detect(plain, traffic(true), nobody);
    expect(b.found).toEqual(a.found);
  });

  for (const learned of [false, true]) {
    const how = learned ? 'learned with intel' : 'learned without intel';
    it(`never flags a window for being listed alone (profile ${how})`, () => {
      // Training: when learned with intel, the same 20 addresses (and their agent) were listed then.
      const agents = new Set(['curl/8.4.0']);
      const model = train(traffic(false), learned ? intelOver(LISTED, 'datacenter', agents) : undefined);
      expect(model.features).toEqual(
        learned ? [...BEHAVIOUR_FEATURES, ...BEHAVIOUR_INTEL_FEATURES] : [...BEHAVIOUR_FEATURES],
      );
      // Detection: a clone of an ordinary address, identical to it except for being listed (address on a Tor
      // list), and the 20 addresses listed with their agent.
      const events = traffic(false, CLONE);
      const intel = intelOver(new Set([...LISTED, CLONE]), 'tor', agents);
      const plain = detect(model, events);
      const { found, detector } = detect(model, events, intel);
      expect(plain.found.filter((f) => f.actors[0]!.value === CLONED)).toEqual([]);
      expect(found.filter((f) => f.actors[0]!.value === CLONE)).toEqual([]);
      const s = new Float64Array(3);
      const beyond = (x: number, i: number) =>
        x > [model.support, model.kmeansSupport, model.dbscanSupport][i]!;
      // A listed address is flagged only where its behaviour is unusual without intel (beyond the 99th
      // percentile of two models): the windows flagged anyway, or lifted by intel from unusual to abnormal.
      for (const f of found.filter((x) => LISTED.has(x.actors[0]!.value))) {
        const row = rowsOf(events).get(`${f.actors[0]!.value}@${f.windowStart}`)!;
        detector.score(row, s);
        expect(Array.from(s).filter(beyond).length, f.explanation).toBeGreaterThanOrEqual(2);
      }
      // Unlisted addresses are judged as without intel.
      const others = (l: Finding[]) =>
        l.filter((f) => !LISTED.has(f.actors[0]!.value) && f.actors[0]!.value !== CLONE);
      expect(others(found)).toEqual(others(plain.found));
    });

    it(`holds back a window the listing alone pushed over the lines (profile ${how})`, () => {
      const model = train(traffic(false), learned ? intelOver(LISTED) : undefined);
      const events = traffic(false, CLONE);
      const rows = [...rowsOf(events)].filter(([k]) => k.startsWith(`${CLONE}@`)).map(([, r]) => r);
      // Lines just above the clone's own distances: listed, it is beyond them; as it is, it is not.
      const probe = detect(model, []).detector;
      const s = new Float64Array(3);
      let k = 0;
      let d = 0;
      let listedMax = [0, 0];
      for (const row of rows) {
        probe.score(row, s);
        k = Math.max(k, s[1]!);
        d = Math.max(d, s[2]!);
        row[11] = 1;
        probe.score(row, s);
        listedMax = [Math.max(listedMax[0]!, s[1]!), Math.max(listedMax[1]!, s[2]!)];
      }
      expect(listedMax[0]!).toBeGreaterThan(k);
      expect(listedMax[1]!).toBeGreaterThan(d);
      const lines = {
        ...model,
        kmeansSupport: k * (1 + 1e-9),
        kmeansThreshold: k * (1 + 1e-9),
        dbscanSupport: d * (1 + 1e-9),
        dbscanThreshold: d * (1 + 1e-9),
      };
      const { found, detector } = detect(lines, events, intelOver(new Set([CLONE])));
      expect(found.filter((f) => f.actors[0]!.value === CLONE)).toEqual([]);
      expect(detector.intelOnly).toBeGreaterThan(0);
      // The same window, abnormal on its own (lines below its distances), is reported, listed or not.
      const low = {
        ...lines,
        kmeansSupport: k / 2,
        kmeansThreshold: k / 2,
        dbscanSupport: d / 2,
        dbscanThreshold: d / 2,
      };
      expect(
        detect(low, events, intelOver(new Set([CLONE]))).found.some((f) => f.actors[0]!.value === CLONE),
      ).toBe(true);
    });

    it(`raises the score of a listed abnormal window and names the intel columns (profile ${how})`, () => {
      const model = train(traffic(false), learned ? intelOver(LISTED) : undefined);
      const unlisted = detect(model, traffic(true), intelOver(LISTED));
      const listed = detect(model, traffic(true), intelOver(new Set([...LISTED, ATTACKER])));
      const before = unlisted.found.find((f) => f.actors[0]!.value === ATTACKER)!;
      const after = listed.found.find((f) => f.actors[0]!.value === ATTACKER)!;
      expect(before).toBeDefined();
      expect(after).toBeDefined();
      expect(after.score).toBeGreaterThan(before.score);
      expect(after.confidence).toBeGreaterThanOrEqual(before.confidence);
      expect(after.explanation).toMatch(
        /its intel columns \(listed_ip\) weigh in its scores \(without them isolation [\d.]+, .*\), but the behaviour is unusual without them/,
      );
      expect(after.evidence.find((x) => x.feature === 'behaviour.listed_ip')).toMatchObject({
        value: 1,
        source: 'intel',
      });
      expect(before.evidence.some((x) => x.source === 'intel')).toBe(false);
      // The behaviour keeps its name: intel columns never name it.
      expect(after.type).toBe(before.type);
    });
  }
});
