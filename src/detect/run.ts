/**
 * The detection pipeline over enriched events, in two roles:
 * - `ProfilingRun` learns a profile (thresholds, habitual actors) from traffic: the offline path.
 * - `DetectionRun` judges traffic against a profile, event by event, and collects alerts: the same code
 *   runs over a replayed file and over a live stream, because it only reads event time.
 * Both drive the stream engine with the detection feature set (src/detect/features.ts).
 */

import type { RuleConfig } from '../config/schema.js';
import type { ActorKind } from '../core/event.js';
import { owned } from '../core/strings.js';
import { CrawlerVerifier } from '../enrich/crawlers.js';
import type { IntelCategory, IntelHit } from '../enrich/intel.js';
import type { FeatureEvent } from '../features/enrich.js';
import { type Snapshot, StreamEngine } from '../features/stream.js';
import { type Profile, ProfileBuilder } from '../profiling/profile.js';
import { AlertBook, type Finding } from './alerts.js';
import type { Detector, DetectorContext, IntelCategories } from './detector.js';
import { BehaviourDetector, BehaviourTrainer } from './detectors/behaviour.js';
import { ForgedDetector } from './detectors/forged.js';
import { PopulationDetector } from './detectors/population.js';
import { RuleDetector } from './detectors/rules.js';
import { SeriesDetector } from './detectors/series.js';
import { ThresholdDetector } from './detectors/thresholds.js';
import { detectionFeatures } from './features.js';
import type { Reason } from './params.js';
import type { Anomaly } from './timeseries.js';
import type { ActorRef, Alert, Evidence } from './types.js';

const MAX_ACTORS = 2_000_000;
const MAX_AGENTS = 1_000_000;
const MAX_INTEL_ACTORS = 50;

/**
 * Intel hits of a finding's addresses (and their user agents) become evidence and raise its confidence a
 * little; they never make a finding (docs/intel.md). Population findings: their first addresses only.
 */
function withIntel(f: Finding, intel: Intel, agents: Map<string, string>): Finding {
  const extra: Evidence[] = [];
  let n = 0;
  for (const a of f.actors) {
    if (a.kind !== 'ip') continue;
    if (++n > MAX_INTEL_ACTORS) break;
    for (const h of [...intel.lookupIp(a.value), ...intel.lookupUserAgent(agents.get(a.value) ?? null)])
      if (extra.length < 4)
        extra.push({
          feature: `intel.${h.category}`,
          value: a.value,
          source: 'intel',
          note: `${h.list}: ${h.match}${h.provider === undefined ? '' : ` (${h.provider})`}`,
        });
  }
  if (extra.length === 0) return f;
  return { ...f, evidence: [...f.evidence, ...extra], confidence: Math.min(1, f.confidence + 0.1) };
}

/** The categories of the hits, each once, in order of first hit. */
function categories(hits: readonly IntelHit[]): readonly IntelCategory[] {
  if (hits.length === 0) return [];
  const out: IntelCategory[] = [];
  for (const h of hits) if (!out.includes(h.category)) out.push(h.category);
  return out;
}

/** Intel as a detector input (DetectorContext.intelOf): the categories naming an address and an agent. */
function intelCategories(intel: Intel): (ip: string, userAgent: string | null) => IntelCategories {
  return (ip, userAgent) => ({
    address: categories(intel.lookupIp(ip)),
    agent: categories(intel.lookupUserAgent(userAgent)),
  });
}

const HOUR = 3_600_000;
const MAX_IDS_PER_IP = 256;
const MAX_LOGINS_PER_IP = 16;
const MAX_IPS_PER_TOKEN = 8;
const MAX_USERS_PER_DEVICE = 8;

/** Per IP, the tokens and devices seen from it this hour; per token and device, the user it carried. */
class Identities {
  private readonly behind = new Map<string, { hour: number; ids: Set<string> }>();
  private readonly users = new Map<string, string>();
  private readonly logins = new Map<string, string[]>();
  private readonly deviceUsers = new Map<string, string[]>();
  /** Per token: the addresses that carried it, with when they last did (at most MAX_IPS_PER_TOKEN). */
  private readonly carriers = new Map<string, Map<string, number>>();
  see(e: FeatureEvent): void {
    if (e.token !== null) {
      let c = this.carriers.get(e.token);
      if (c === undefined && this.carriers.size < MAX_ACTORS) {
        c = new Map();
        this.carriers.set(e.token, c);
      }
      if (c !== undefined && (c.has(e.ip) || c.size < MAX_IPS_PER_TOKEN))
        c.set(c.has(e.ip) ? e.ip : owned(e.ip), e.ts);
    }
    if (e.user !== null && e.scenario === 'authentication' && e.status >= 200 && e.status < 300) {
      const l = this.logins.get(e.ip);
      if (l === undefined) {
        if (this.logins.size < MAX_ACTORS) this.logins.set(owned(e.ip), [owned(e.user)]);
      } else if (l.length < MAX_LOGINS_PER_IP && !l.includes(e.user)) l.push(owned(e.user));
    }
    const hour = Math.floor(e.ts / HOUR);
    if (e.token !== null || e.device !== null) {
      let b = this.behind.get(e.ip);
      if (b === undefined || b.hour !== hour) {
        const fresh = b === undefined;
        if (fresh && this.behind.size >= MAX_ACTORS) return;
        b = { hour, ids: new Set() };
        this.behind.set(fresh ? owned(e.ip) : e.ip, b);
      }
      if (b.ids.size < MAX_IDS_PER_IP) {
        if (e.token !== null) b.ids.add(`t${e.token}`);
        if (e.device !== null) b.ids.add(`d${e.device}`);
      }
    }
    if (e.user !== null && this.users.size < MAX_ACTORS) {
      const u = e.user;
      if (e.token !== null && this.users.get(`t${e.token}`) !== u) this.users.set(`t${e.token}`, owned(u));
      if (e.device !== null && this.users.get(`d${e.device}`) !== u) this.users.set(`d${e.device}`, owned(u));
      // A device that used several accounts: every account it used (bounded), for the incident graph.
      if (e.device !== null) {
        const l = this.deviceUsers.get(e.device);
        if (l === undefined) {
          if (this.deviceUsers.size < MAX_ACTORS) this.deviceUsers.set(owned(e.device), [owned(u)]);
        } else if (l.length < MAX_USERS_PER_DEVICE && !l.includes(u)) l.push(owned(u));
      }
    }
  }
  /**
   * Ties between the given actors and others, for the incident graph: a token and the user it belongs to and
   * the addresses that carried it; a device and every account it used; an address and the users it logged in as.
   */
  links(actors: Iterable<ActorRef>): [ActorRef, ActorRef][] {
    const out: [ActorRef, ActorRef][] = [];
    for (const a of actors) {
      if (a.kind === 'token') {
        const u = this.users.get(`t${a.value}`);
        if (u !== undefined) out.push([a, { kind: 'user', value: u }]);
        for (const ip of this.carriers.get(a.value)?.keys() ?? []) out.push([a, { kind: 'ip', value: ip }]);
      } else if (a.kind === 'device') {
        for (const u of this.deviceUsers.get(a.value) ?? []) out.push([a, { kind: 'user', value: u }]);
      } else if (a.kind === 'ip') {
        for (const u of this.logins.get(a.value) ?? []) out.push([a, { kind: 'user', value: u }]);
      }
    }
    return out;
  }
  loggedIn(ip: string): string[] {
    return this.logins.get(ip) ?? [];
  }
  count(ip: string): number {
    return this.behind.get(ip)?.ids.size ?? 0;
  }
  linked(kind: ActorKind, value: string, since: number): ActorRef[] {
    const out: ActorRef[] = [];
    const u =
      kind === 'token'
        ? this.users.get(`t${value}`)
        : kind === 'device'
          ? this.users.get(`d${value}`)
          : undefined;
    if (u !== undefined) out.push({ kind: 'user', value: u });
    // The addresses that carried a token during the behaviour (a stolen token used from a new address).
    if (kind === 'token')
      for (const [ip, last] of this.carriers.get(value) ?? [])
        if (last >= since) out.push({ kind: 'ip', value: ip });
    return out;
  }
}

/** Endpoint → scenario, as seen in traffic (bounded); and which endpoints ever answered below 400. */
class Scenarios {
  private readonly m = new Map<string, string>();
  private readonly answered = new Set<string>();
  see(e: FeatureEvent): void {
    if (this.m.size < 200_000 && !this.m.has(e.endpoint)) this.m.set(e.endpoint, e.scenario);
    if (e.status < 400 && this.answered.size < 200_000) this.answered.add(e.endpoint);
  }
  of = (endpoint: string): string => this.m.get(endpoint) ?? '';
  /** An endpoint that never answered below 400 (a scanner's guesses, all 404) is not an API to profile. */
  exists = (endpoint: string): boolean => this.answered.has(endpoint);
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.m);
  }
}

/** What a profiling run can be given besides its traffic. */
export interface ProfilingOptions {
  /**
   * Threat intel: the behaviour model learns its intel columns from the training windows (docs/intel.md);
   * without it the model has none and scores intel at detection as a column that was always 0.
   */
  intel?: Intel;
}

export class ProfilingRun {
  private readonly engine: StreamEngine;
  private readonly builder: ProfileBuilder;
  private readonly scenarios = new Scenarios();
  private readonly behaviour: BehaviourTrainer;
  private readonly addSnapshot = (s: Snapshot) => this.builder.add(s);
  events = 0;

  constructor(options: ProfilingOptions = {}) {
    this.behaviour = new BehaviourTrainer(
      undefined,
      options.intel === undefined ? undefined : intelCategories(options.intel),
    );
    const { specs, signals } = detectionFeatures();
    this.engine = new StreamEngine(specs);
    this.builder = new ProfileBuilder(signals, this.scenarios.of, undefined, this.scenarios.exists);
  }

  push(e: FeatureEvent): void {
    this.events++;
    this.scenarios.see(e);
    this.behaviour.windows.add(e);
    this.engine.pushTo(e, this.addSnapshot);
  }

  build(): Profile {
    const out = this.engine.flush();
    for (let i = 0; i < out.length; i++) this.builder.add(out[i]!);
    const profile = this.builder.build();
    const behaviour = this.behaviour.build();
    if (behaviour !== null) profile.models = { behaviour };
    return profile;
  }
}

export interface DetectionStats {
  events: number;
  findings: number;
  /** Findings about verified search-engine crawlers, set aside (src/enrich/crawlers.ts). */
  verifiedCrawlerFindings: number;
  verifiedCrawlers: number;
  actors: Record<ActorKind, number>;
}

/** What a detection run can be given besides its profile. */
export interface DetectionOptions {
  /** Configured rules (config `detection.rules`; check them with checkRules first). */
  rules?: readonly RuleConfig[];
  /**
   * Threat intel: evidence on alerts, and features for the detectors (DetectorContext.intelOf), never a
   * reason on its own (docs/intel.md).
   */
  intel?: Intel;
  /**
   * Which detectors run (default `all`). A partitioned deployment (src/kafka/) splits them: `actors` runs
   * every per-actor detector and no population detector, `population` only the population detector (it
   * needs every actor's requests, so one owner sees all events).
   */
  detectors?: 'all' | 'actors' | 'population';
}

/** Threat-intel lookups (an IntelStore or an IntelIndex). */
export interface Intel {
  lookupIp(ip: string): readonly IntelHit[];
  lookupUserAgent(ua: string | null): readonly IntelHit[];
}

export class DetectionRun {
  private readonly engine: StreamEngine;
  private readonly scenarios = new Scenarios();
  private readonly book = new AlertBook();
  private readonly spans: Record<ActorKind, Map<string, { first: number; last: number }>> = {
    ip: new Map(),
    token: new Map(),
    device: new Map(),
    user: new Map(),
  };
  private readonly identities = new Identities();
  private readonly detectors: Detector[] = [];
  private readonly eventDetectors: Detector[] = [];
  private readonly snapshotDetectors: Detector[] = [];
  readonly ctx: DetectorContext;
  events = 0;
  findings = 0;
  private readonly verifier = new CrawlerVerifier();
  private readonly series = new SeriesDetector();
  private readonly forged: ForgedDetector;
  /** Addresses proven to be a published crawler (bounded). */
  private readonly crawlers = new Set<string>();
  /** An address's first user agent (for intel user-agent lists), only when intel is configured. */
  private readonly agents = new Map<string, string>();
  private crawlerFindings = 0;

  constructor(
    readonly profile: Profile,
    readonly options: DetectionOptions = {},
  ) {
    const intel = options.intel;
    const { specs, signals } = detectionFeatures();
    this.engine = new StreamEngine(specs);
    const ctx = {
      profile,
      scenarioOf: this.scenarios.of,
      span: (kind, value) => this.spans[kind].get(value),
      identitiesBehind: (ip) => this.identities.count(ip),
      linked: (kind, value, since) => this.identities.linked(kind, value, since),
      loggedIn: (ip) => this.identities.loggedIn(ip),
      ...(intel === undefined ? {} : { intelOf: intelCategories(intel) }),
      emit: (f: Finding) => {
        // Verified crawlers are expected to read everything: their findings are counted and set aside. A
        // population finding keeps its other members.
        const actors = f.actors.filter((a) => !(a.kind === 'ip' && this.crawlers.has(a.value)));
        if (actors.length < f.actors.length) {
          this.crawlerFindings++;
          const lead = f.actors[0]!;
          if (actors.length === 0 || (lead.kind === 'ip' && this.crawlers.has(lead.value))) return;
        }
        this.findings++;
        const g = actors.length < f.actors.length ? { ...f, actors } : f;
        this.book.add(intel === undefined ? g : withIntel(g, intel, this.agents));
      },
    } satisfies DetectorContext;
    this.ctx = ctx;
    this.forged = new ForgedDetector(ctx);
    const which = options.detectors ?? 'all';
    if (which !== 'population') {
      this.add(new ThresholdDetector(this.ctx, signals));
      if (options.rules !== undefined && options.rules.length > 0)
        this.add(new RuleDetector(this.ctx, options.rules));
      if (profile.models?.behaviour !== undefined)
        this.add(new BehaviourDetector(this.ctx, profile.models.behaviour));
    }
    if (which !== 'actors') this.add(new PopulationDetector(this.ctx));
    if (which !== 'population') {
      this.add(this.forged);
      this.add(this.series);
    }
  }

  private add(d: Detector): void {
    this.detectors.push(d);
    if (d.onEvent !== undefined) this.eventDetectors.push(d);
    if (d.onSnapshot !== undefined) this.snapshotDetectors.push(d);
  }

  private see(kind: ActorKind, v: string | null, ts: number): void {
    if (v === null) return;
    const m = this.spans[kind];
    const s = m.get(v);
    if (s === undefined) {
      if (m.size < MAX_ACTORS) m.set(owned(v), { first: ts, last: ts });
    } else {
      if (ts < s.first) s.first = ts;
      if (ts > s.last) s.last = ts;
    }
  }

  /** One event; `forged`: its parameter score against the param profile, when there is one. */
  push(e: FeatureEvent, forged?: { score: number; reasons: readonly Reason[] }): void {
    this.events++;
    if (forged !== undefined && forged.score > 0 && this.options.detectors !== 'population')
      this.forged.observe(e, forged.score, forged.reasons);
    this.scenarios.see(e);
    this.see('ip', e.ip, e.ts);
    this.see('token', e.token, e.ts);
    this.see('device', e.device, e.ts);
    this.see('user', e.user, e.ts);
    this.identities.see(e);
    if (
      e.userAgent !== null &&
      this.options.intel !== undefined &&
      this.agents.size < MAX_AGENTS &&
      !this.agents.has(e.ip)
    )
      this.agents.set(owned(e.ip), owned(e.userAgent));
    if (e.userAgent !== null && !this.crawlers.has(e.ip) && this.crawlers.size < 100_000) {
      const v = this.verifier.check(e.ip, e.userAgent);
      if (v?.verified) this.crawlers.add(owned(e.ip));
    }
    for (let i = 0; i < this.eventDetectors.length; i++) this.eventDetectors[i]!.onEvent!(e);
    if (this.snapshotDetectors.length > 0) this.engine.pushTo(e, this.onSnapshot);
  }

  private readonly onSnapshot = (s: Snapshot): void => {
    for (let d = 0; d < this.snapshotDetectors.length; d++) this.snapshotDetectors[d]!.onSnapshot!(s);
  };

  /** Live mode: event time moves on without events (windows close on the clock). */
  advanceTo(ts: number): void {
    for (const s of this.engine.advanceTo(ts)) this.onSnapshot(s);
  }

  /** End of input: closes every window, lets detectors report what is pending, returns every alert. */
  /** Ties of these actors to others seen in traffic (token → user and carriers, device → accounts, ip → logins). */
  links(actors: Iterable<ActorRef>): [ActorRef, ActorRef][] {
    return this.identities.links(actors);
  }

  finish(): Alert[] {
    for (const s of this.engine.flush()) this.onSnapshot(s);
    for (const d of this.detectors) d.finish?.();
    return this.book.alerts();
  }

  stats(): DetectionStats {
    return {
      events: this.events,
      findings: this.findings,
      verifiedCrawlerFindings: this.crawlerFindings,
      verifiedCrawlers: this.crawlers.size,
      actors: {
        ip: this.spans.ip.size,
        token: this.spans.token.size,
        device: this.spans.device.size,
        user: this.spans.user.size,
      },
    };
  }

  /** Endpoint time-series anomalies (volume, error rate, latency), complete after finish(). */
  anomalies(): Anomaly[] {
    return this.series.anomalies;
  }

  scenarioMap(): Record<string, string> {
    return this.scenarios.toJSON();
  }
}
