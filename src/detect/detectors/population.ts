/**
 * Distributed actors, found at population level. Attackers that keep every IP under any per-IP limit
 * (residential proxies, botnets) still behave alike: the same few endpoints, the same answers, no page
 * assets. Per block of event time, low-volume actors are grouped by that fingerprint; each group is judged as
 * one virtual actor, against the same learned per-actor thresholds, and against its own history (the same
 * fingerprint's usual size in earlier blocks), so that an ordinary crowd — app users who only open product
 * pages — is not a botnet. Two collective behaviours are measured:
 * - walking ids together: in time order, the group's next id request steps by 1 or 2 from the previous one
 *   (a distributed crawler hands the next id to whichever bot runs next);
 * - failing authentication together: the group's failed logins (credential stuffing from many addresses).
 * A group over both lines raises one alert that lists every member that took part.
 */
import type { FeatureEvent } from '../../features/enrich.js';
import { thresholdFor } from '../../profiling/profile.js';
import type { Detector, DetectorContext } from '../detector.js';
import type { ActorRef } from '../types.js';

export interface PopulationOptions {
  /** Block length (default 5 min). */
  blockMs?: number;
  /** Actors with more API requests than this in a block are left to the per-actor detectors (default 40). */
  maxActorRequests?: number;
  /** A group needs at least this many members (default 5). */
  minMembers?: number;
  /** Tracked actors per block (default 200,000; further ones are counted in `overflow`). */
  maxActors?: number;
}

const ID_SCENARIOS = new Set(['detail', 'personal_data', 'orders']);
const MAX_ENDPOINTS = 6;
const HISTORY = 48;

interface ActorBlock {
  endpoints: string[];
  statuses: number;
  statics: number;
  api: number;
  token: boolean;
  first: number;
  last: number;
}

interface Req {
  ts: number;
  seq: number;
  actor: string;
  id: number | null;
  authFail: boolean;
  auth: boolean;
}

export class PopulationDetector implements Detector {
  readonly name = 'population';
  private readonly blockMs: number;
  private readonly maxReq: number;
  private readonly minMembers: number;
  private readonly maxActors: number;
  private block = Number.NaN;
  private actors = new Map<string, ActorBlock>();
  private reqs: Req[] = [];
  /** Per fingerprint and measure: values of earlier blocks (0 when absent), newest last. */
  private readonly history = new Map<string, number[]>();
  private blocks = 0;
  overflow = 0;

  constructor(
    private readonly ctx: DetectorContext,
    o: PopulationOptions = {},
  ) {
    this.blockMs = o.blockMs ?? 300_000;
    this.maxReq = o.maxActorRequests ?? 40;
    this.minMembers = o.minMembers ?? 5;
    this.maxActors = o.maxActors ?? 200_000;
  }

  onEvent(e: FeatureEvent): void {
    const b = Math.floor(e.ts / this.blockMs);
    if (Number.isNaN(this.block)) this.block = b;
    if (b > this.block) {
      this.close();
      this.block = b;
    } else if (b < this.block) return; // late for a closed block
    let a = this.actors.get(e.ip);
    if (a === undefined) {
      if (this.actors.size >= this.maxActors) {
        this.overflow++;
        return;
      }
      a = { endpoints: [], statuses: 0, statics: 0, api: 0, token: false, first: e.ts, last: e.ts };
      this.actors.set(e.ip, a);
    }
    if (e.ts > a.last) a.last = e.ts;
    if (e.scenario === 'static') {
      a.statics++;
      return;
    }
    a.api++;
    if (a.api > this.maxReq) return;
    if (e.token !== null) a.token = true;
    a.statuses |= 1 << Math.min(5, Math.floor(e.status / 100));
    if (a.endpoints.length <= MAX_ENDPOINTS && !a.endpoints.includes(e.endpoint))
      a.endpoints.push(e.endpoint);
    const auth = e.scenario === 'authentication';
    this.reqs.push({
      ts: e.ts,
      seq: e.seq,
      actor: e.ip,
      id: ID_SCENARIOS.has(e.scenario) ? e.numericId : null,
      auth,
      authFail: auth && e.status >= 400 && e.status < 500,
    });
  }

  finish(): void {
    if (!Number.isNaN(this.block)) this.close();
  }

  private fingerprint(a: ActorBlock): string | null {
    if (a.statics > 0 || a.api === 0 || a.api > this.maxReq || a.endpoints.length > MAX_ENDPOINTS)
      return null;
    return `${[...a.endpoints].sort().join(' | ')} #${a.statuses.toString(16)}${a.token ? ' +token' : ''}`;
  }

  private close(): void {
    const start = this.block * this.blockMs;
    const end = start + this.blockMs;
    this.blocks++;
    const fp = new Map<string, string>();
    for (const [actor, a] of this.actors) {
      const f = this.fingerprint(a);
      if (f !== null) fp.set(actor, f);
    }
    const groups = new Map<string, Req[]>();
    for (const r of this.reqs) {
      const f = fp.get(r.actor);
      if (f === undefined) continue;
      const g = groups.get(f);
      if (g === undefined) groups.set(f, [r]);
      else g.push(r);
    }
    const seenNow = new Set<string>();
    for (const [f, reqs] of groups) {
      const members = new Set(reqs.map((r) => r.actor));
      reqs.sort((x, y) => x.ts - y.ts || x.seq - y.seq);
      // Walking ids together: steps of 1-2 between consecutive id requests of the group, in time order.
      let prev: number | null = null;
      let steps = 0;
      const stepBy = new Map<string, [number, number]>();
      let failures = 0;
      const failBy = new Map<string, [number, number]>();
      const endpoints = new Set<string>();
      for (const r of reqs) {
        if (r.id !== null) {
          const d = prev === null ? 0 : Math.abs(r.id - prev);
          const hit = d >= 1 && d <= 2;
          if (hit) steps++;
          const s = stepBy.get(r.actor) ?? [0, 0];
          s[0] += hit ? 1 : 0;
          s[1]++;
          stepBy.set(r.actor, s);
          prev = r.id;
        }
        if (r.auth) {
          const s = failBy.get(r.actor) ?? [0, 0];
          s[0] += r.authFail ? 1 : 0;
          s[1]++;
          failBy.set(r.actor, s);
          if (r.authFail) failures++;
        }
      }
      for (const a of members) for (const ep of this.actors.get(a)!.endpoints) endpoints.add(ep);
      const eps = [...endpoints].sort();
      seenNow.add(`walk|${f}`);
      seenNow.add(`fail|${f}`);
      const walkBase = this.baseline(`walk|${f}`, steps);
      const failBase = this.baseline(`fail|${f}`, failures);
      if (members.size < this.minMembers) continue;
      // The per-actor lines, for one virtual actor: distinct ids per 5 min on these endpoints; failed logins
      // per 15 min (scaled to the block).
      const idLimit = Math.max(
        0,
        ...eps.map(
          (ep) =>
            thresholdFor(this.ctx.profile, 'ids_5m_by_ip_endpoint', ep, this.ctx.scenarioOf(ep))?.threshold ??
            0,
        ),
      );
      const idT = (idLimit * this.blockMs) / 300_000;
      if (steps > idT && steps > 2 * walkBase) {
        const who = [...stepBy].filter(([, [h, n]]) => h * 2 >= n).map(([a]) => a);
        if (who.length >= this.minMembers)
          this.report(
            'crawler',
            who,
            eps,
            start,
            end,
            steps,
            idT,
            walkBase,
            'id requests stepping by 1-2 in time order',
            f,
          );
      }
      const authT = thresholdFor(this.ctx.profile, 'auth_failures_15m_by_ip', null, '');
      const failT = authT === null ? Number.POSITIVE_INFINITY : (authT.threshold * this.blockMs) / 900_000;
      if (failures > failT && failures > 2 * failBase) {
        const who = [...failBy].filter(([, [fails, n]]) => fails * 2 > n).map(([a]) => a);
        if (who.length >= this.minMembers)
          this.report(
            'credential_stuffing',
            who,
            eps,
            start,
            end,
            failures,
            failT,
            failBase,
            'failed logins',
            f,
          );
      }
    }
    // Fingerprints absent this block count as 0 in their history.
    for (const [k, h] of this.history)
      if (!seenNow.has(k)) {
        h.push(0);
        if (h.length > HISTORY) h.shift();
      }
    if (this.history.size > 50_000) this.history.clear();
    this.actors = new Map();
    this.reqs = [];
  }

  /** The median of the fingerprint's earlier blocks (0 without history), then records this block's value. */
  private baseline(k: string, v: number): number {
    let h = this.history.get(k);
    if (h === undefined) {
      h = [];
      this.history.set(k, h);
    }
    const sorted = [...h].sort((a, b) => a - b);
    // Blocks before the fingerprint was first seen count as 0 too.
    const missing = Math.max(0, Math.min(HISTORY, this.blocks - 1) - sorted.length);
    const all = missing + sorted.length;
    const mid = all >> 1;
    const base = all === 0 ? 0 : mid < missing ? 0 : sorted[mid - missing]!;
    h.push(v);
    if (h.length > HISTORY) h.shift();
    return base;
  }

  private report(
    type: 'crawler' | 'credential_stuffing',
    members: string[],
    endpoints: string[],
    start: number,
    end: number,
    value: number,
    threshold: number,
    baseline: number,
    what: string,
    fingerprint: string,
  ): void {
    members.sort();
    const actors: ActorRef[] = members.map((m) => ({ kind: 'ip', value: m }));
    // Accounts the group got into: the outcome that matters most in a stuffing campaign.
    if (type === 'credential_stuffing')
      for (const m of members) for (const u of this.ctx.loggedIn(m)) actors.push({ kind: 'user', value: u });
    let first = end;
    let last = start;
    for (const m of members) {
      const a = this.actors.get(m)!;
      if (a.first < first) first = a.first;
      if (a.last > last) last = a.last;
    }
    const t = Math.round(threshold * 100) / 100;
    this.ctx.emit({
      type,
      detector: this.name,
      actors,
      groupKey: `${type}|${fingerprint}`,
      endpoints,
      windowStart: start,
      detectedTs: end,
      firstEventTs: first,
      lastEventTs: last,
      requests: value,
      score: Math.min(1, 1 - Math.max(t, baseline) / value),
      confidence: Math.min(1, members.length / 20),
      evidence: [
        {
          feature: type === 'crawler' ? 'group_sequential_id_steps' : 'group_auth_failures',
          value,
          threshold: t,
          baseline,
          source: 'population',
          windowStart: start,
          windowEnd: end,
          note: `${members.length} actors with the fingerprint ${fingerprint}`,
        },
      ],
      explanation: `${members.length} addresses with the same fingerprint (${fingerprint}) made ${value} ${what} in ${Math.round((end - start) / 60_000)} min together — over the per-actor limit of ${t} and the group's usual ${baseline}; each stayed low on its own.`,
    });
  }
}
