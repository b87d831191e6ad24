/**
 * The response SOP as code (docs/operations.md): incidents move new → triaged → confirmed | false_positive →
 * mitigated → resolved, each step recorded with who, when and why in the append-only audit log. The policy
 * turns incidents into decisions (applied at once or proposed for approval); approving a decision of a
 * confirmed incident mitigates it. A false positive feeds back: its decisions are revoked, its actors are
 * allow-listed, and the profile learns the values it reached as that actor's own usual peak (habitual), so
 * the same behaviour is judged against itself next time.
 */
import { stableId } from '../detect/alerts.js';
import type { Incident, IncidentStatus } from '../detect/incidents.js';
import { type ActorRef, actorKey, SEVERITIES } from '../detect/types.js';
import { CrawlerDnsVerifier } from '../enrich/crawler-dns.js';
import type { Profile } from '../profiling/profile.js';
import { type AllowEntry, AllowList, type DecideContext, decide, type ResponsePolicy } from './policy.js';
import type { AuditEntry, IncidentRecord, StateStore } from './state.js';
import type { Decision, DecisionAction, DecisionScope, RateLimit } from './types.js';

/** Where each status may go next. Reopening (resolved or false_positive → triaged) is allowed. */
export const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  new: ['triaged', 'false_positive'],
  triaged: ['confirmed', 'false_positive'],
  confirmed: ['mitigated', 'false_positive'],
  mitigated: ['resolved', 'false_positive'],
  false_positive: ['triaged'],
  resolved: ['triaged'],
};

export class WorkflowError extends Error {}

export interface ResponderOptions {
  policy: ResponsePolicy;
  /** The profile decisions take their rate limits from, and false positives teach (optional). */
  profile?: Profile | null;
  /** Wall clock (ms epoch); injectable for tests. */
  now?: () => number;
  scenarioOf?: (endpoint: string) => string;
  /** Reverse-DNS crawler proof, used when the policy's `allow.crawlersByDns` is on. */
  crawlerDns?: {
    verifyMany(ips: Iterable<string>): Promise<ReadonlyMap<string, { crawler: string; host: string }>>;
  };
  /**
   * Fold a new incident into an open one (not resolved, not a false positive) that shares an actor and a
   * type, instead of opening another: the live pipeline judges traffic in segments, and one behaviour that
   * goes on for an hour would otherwise be a new incident (and a new offence) every segment. Off for
   * `analyze --state` and imports, whose incidents come from one run over the whole input.
   */
  mergeOpen?: boolean;
}

export interface IngestResult {
  created: IncidentRecord[];
  updated: IncidentRecord[];
  decisions: Decision[];
}

export interface TransitionResult {
  record: IncidentRecord;
  /** What else happened: decisions revoked, actors allow-listed, profile entries learned. */
  effects: string[];
  revoked: Decision[];
  profileChanged: boolean;
}

export class Responder {
  private readonly now: () => number;
  constructor(
    readonly store: StateStore,
    private readonly o: ResponderOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  private async allowList(ips: readonly string[] = []): Promise<AllowList> {
    const allow = new AllowList(this.o.policy, await this.store.allowlist());
    if (this.o.policy.allow.crawlersByDns && ips.length > 0) {
      this.dns ??= this.o.crawlerDns ?? new CrawlerDnsVerifier();
      allow.addDnsCrawlers(await this.dns.verifyMany(ips));
    }
    return allow;
  }
  private dns: ResponderOptions['crawlerDns'];

  private async decideCtx(ips: readonly string[] = [], about?: Incident): Promise<DecideContext> {
    // The policy looks at the incident's own decisions and those on its actors; a store that can select them
    // saves reading every decision for every new incident.
    const history =
      about !== undefined && this.store.decisionsAbout !== undefined
        ? await this.store.decisionsAbout(about.id, about.actors)
        : await this.store.decisions();
    return {
      profile: this.o.profile ?? null,
      history,
      allow: await this.allowList(ips),
      now: this.now(),
      ...(this.o.scenarioOf === undefined ? {} : { scenarioOf: this.o.scenarioOf }),
    };
  }

  /**
   * Stores what a detection run found (idempotent: the same incidents again change nothing) and applies the
   * policy to new incidents. Workflow fields of known incidents are kept; their detection fields are updated.
   */
  async ingest(incidents: readonly Incident[], by = 'analyze'): Promise<IngestResult> {
    const out: IngestResult = { created: [], updated: [], decisions: [] };
    const now = this.now();
    const folded: IncidentRecord[] = [];
    for (const inc of incidents) {
      const old = await this.store.incident(inc.id);
      const into = old === undefined && this.o.mergeOpen === true ? await this.openMatch(inc) : undefined;
      if (into !== undefined) {
        // Already folded in (a segment reported again): nothing new.
        if (into.merged?.includes(inc.id) === true) continue;
        const rec = foldInto(into, inc, now);
        await this.store.putIncident(rec);
        await this.store.audit({
          ts: now,
          by,
          action: 'incident.updated',
          target: rec.id,
          data: {
            merged: inc.id,
            lastEventTs: rec.lastEventTs,
            requests: rec.requests,
            actors: rec.actors.length,
          },
        });
        folded.push(rec);
        continue;
      }
      if (old === undefined) {
        const rec: IncidentRecord = {
          ...inc,
          status: 'new',
          assignee: null,
          notes: [],
          createdTs: now,
          updatedTs: now,
          statusTs: { new: now },
        };
        await this.store.putIncident(rec);
        await this.store.audit({
          ts: now,
          by,
          action: 'incident.created',
          target: inc.id,
          data: { type: inc.type, severity: inc.severity, actors: inc.actors.length },
        });
        out.created.push(rec);
        continue;
      }
      if (sameDetection(old, inc)) continue;
      const rec: IncidentRecord = {
        ...inc,
        status: old.status,
        assignee: old.assignee,
        notes: old.notes,
        createdTs: old.createdTs,
        updatedTs: now,
        statusTs: old.statusTs,
      };
      await this.store.putIncident(rec);
      await this.store.audit({
        ts: now,
        by,
        action: 'incident.updated',
        target: inc.id,
        data: { lastEventTs: inc.lastEventTs, requests: inc.requests, actors: inc.actors.length },
      });
      out.updated.push(rec);
    }
    if (folded.length > 0) {
      // The latest version of each incident a fold touched (one may take several in a batch); new actors in
      // it get the policy's decisions (those already decided are skipped, and a fold is not a new offence).
      const latest = new Map<string, IncidentRecord>();
      for (const r of folded) latest.set(r.id, r);
      out.created = out.created.map((r) => latest.get(r.id) ?? r);
      const created = new Set(out.created.map((r) => r.id));
      for (const r of latest.values()) {
        if (created.has(r.id)) continue;
        out.updated = out.updated.filter((u) => u.id !== r.id);
        out.updated.push(r);
        out.decisions.push(...(await this.applyPolicy(r)));
      }
    }
    for (const rec of out.created) out.decisions.push(...(await this.applyPolicy(rec)));
    await this.store.commit();
    return out;
  }

  /** The open incident a new one folds into: the oldest sharing an actor and a type (see `mergeOpen`). */
  private async openMatch(inc: Incident): Promise<IncidentRecord | undefined> {
    const keys = new Set(inc.actors.map(actorKey));
    const open =
      this.store.openIncidentsWith !== undefined
        ? await this.store.openIncidentsWith(inc.actors)
        : (await this.store.incidents()).filter(
            (r) =>
              r.status !== 'resolved' &&
              r.status !== 'false_positive' &&
              r.actors.some((a) => keys.has(actorKey(a))),
          );
    const types = new Set(inc.types);
    return (
      open.find((r) => r.merged?.includes(inc.id) === true) ??
      open.find((r) => r.types.some((t) => types.has(t)))
    );
  }

  /** The policy's decisions for one incident, recorded (active or proposed). */
  async applyPolicy(rec: IncidentRecord, by = 'policy'): Promise<Decision[]> {
    if (rec.status === 'false_positive' || rec.status === 'resolved') return [];
    const ips = rec.actors.filter((a) => a.kind === 'ip').map((a) => a.value);
    const { decisions } = decide(this.o.policy, rec, await this.decideCtx(ips, rec));
    for (const d of decisions) {
      await this.store.putDecision(d);
      await this.store.audit({
        ts: d.createdTs,
        by,
        action: d.status === 'active' ? 'decision.applied' : 'decision.proposed',
        target: d.id,
        data: {
          incident: rec.id,
          action: d.action,
          scope: d.scope,
          expiresTs: d.expiresTs,
          offence: d.offence,
        },
      });
    }
    return decisions;
  }

  async transition(
    id: string,
    to: IncidentStatus,
    who: { by: string; note?: string; assignee?: string },
  ): Promise<TransitionResult> {
    const rec = await this.need(id);
    const allowed = TRANSITIONS[rec.status];
    if (!allowed.includes(to))
      throw new WorkflowError(
        `incident ${id} is ${rec.status}; from there it can go to ${allowed.join(' or ')}, not ${to}`,
      );
    if (
      to === 'mitigated' &&
      !(await this.store.decisions()).some((d) => d.incidentId === id && d.status === 'active')
    )
      throw new WorkflowError(
        `incident ${id} has no active decision; approve one (apiwarden decide --approve ID) or take one first`,
      );
    const now = this.now();
    const from = rec.status;
    rec.status = to;
    rec.statusTs = { ...rec.statusTs, [to]: now };
    rec.updatedTs = now;
    if (who.assignee !== undefined) rec.assignee = who.assignee;
    if (who.note !== undefined && who.note !== '')
      rec.notes = [...rec.notes, { ts: now, by: who.by, text: who.note }];
    await this.store.putIncident(rec);
    await this.store.audit({
      ts: now,
      by: who.by,
      action: 'incident.transition',
      target: id,
      data: {
        from,
        to,
        ...(who.note ? { note: who.note } : {}),
        ...(who.assignee !== undefined ? { assignee: who.assignee } : {}),
      },
    });
    const result: TransitionResult = { record: rec, effects: [], revoked: [], profileChanged: false };
    if (to === 'false_positive') await this.falsePositive(rec, who.by, result);
    await this.store.commit();
    return result;
  }

  private async falsePositive(rec: IncidentRecord, by: string, r: TransitionResult): Promise<void> {
    const now = this.now();
    for (const d of await this.store.decisions())
      if (d.incidentId === rec.id && (d.status === 'active' || d.status === 'proposed')) {
        r.revoked.push(await this.setDecision(d, 'revoked', by, 'the incident is a false positive'));
      }
    if (r.revoked.length > 0) r.effects.push(`${r.revoked.length} decision(s) revoked`);
    let listed = 0;
    for (const a of rec.actors) {
      const e: AllowEntry = {
        kind: a.kind,
        value: a.value,
        reason: 'false positive',
        by,
        ts: now,
        incidentId: rec.id,
      };
      await this.store.addAllow(e);
      await this.store.audit({
        ts: now,
        by,
        action: 'allowlist.added',
        target: `${a.kind}:${a.value}`,
        data: { incident: rec.id },
      });
      listed++;
    }
    r.effects.push(`${listed} actor(s) allow-listed`);
    if (this.o.profile) {
      const learned = learnFromFalsePositive(this.o.profile, rec);
      if (learned.length > 0) {
        r.profileChanged = true;
        r.effects.push(`profile learned ${learned.length} own peak(s): ${learned.slice(0, 3).join('; ')}`);
        await this.store.audit({
          ts: now,
          by,
          action: 'profile.learned',
          target: rec.id,
          data: { habitual: learned },
        });
      }
    }
  }

  async assign(id: string, assignee: string, by: string): Promise<IncidentRecord> {
    const rec = await this.need(id);
    const now = this.now();
    rec.assignee = assignee;
    rec.updatedTs = now;
    await this.store.putIncident(rec);
    await this.store.audit({ ts: now, by, action: 'incident.assigned', target: id, data: { assignee } });
    await this.store.commit();
    return rec;
  }

  async note(id: string, text: string, by: string): Promise<IncidentRecord> {
    const rec = await this.need(id);
    const now = this.now();
    rec.notes = [...rec.notes, { ts: now, by, text }];
    rec.updatedTs = now;
    await this.store.putIncident(rec);
    await this.store.audit({ ts: now, by, action: 'incident.note', target: id, data: { note: text } });
    await this.store.commit();
    return rec;
  }

  /** Approves a proposed decision (dry-run policies refuse); a confirmed incident becomes mitigated. */
  async approve(decisionId: string, by: string): Promise<Decision> {
    if (this.o.policy.dryRun)
      throw new WorkflowError('the policy is in dry-run mode: decisions are not applied');
    const d = await this.needDecision(decisionId);
    if (d.status !== 'proposed')
      throw new WorkflowError(
        `decision ${decisionId} is ${d.status}; only a proposed decision can be approved`,
      );
    const now = this.now();
    // Its TTL starts now.
    const ttl = d.expiresTs === null ? null : d.expiresTs - d.createdTs;
    const out = await this.setDecision(
      { ...d, origin: 'manual', createdTs: now, expiresTs: ttl === null ? null : now + ttl },
      'active',
      by,
      'approved',
    );
    if (d.incidentId !== undefined) {
      const rec = await this.store.incident(d.incidentId);
      if (rec !== undefined && rec.status === 'confirmed') {
        rec.status = 'mitigated';
        rec.statusTs = { ...rec.statusTs, mitigated: now };
        rec.updatedTs = now;
        await this.store.putIncident(rec);
        await this.store.audit({
          ts: now,
          by,
          action: 'incident.transition',
          target: rec.id,
          data: { from: 'confirmed', to: 'mitigated', decision: d.id },
        });
      }
    }
    await this.store.commit();
    return out;
  }

  async revoke(decisionId: string, by: string, reason: string): Promise<Decision> {
    const d = await this.needDecision(decisionId);
    if (d.status === 'revoked' || d.status === 'expired')
      throw new WorkflowError(`decision ${decisionId} is already ${d.status}`);
    const out = await this.setDecision(d, 'revoked', by, reason);
    await this.store.commit();
    return out;
  }

  /** A decision taken by hand (not from the policy): active at once unless dry-run. */
  async manual(
    input: {
      action: DecisionAction;
      scope: DecisionScope;
      ttlMs: number | null;
      reason: string;
      rateLimit?: RateLimit;
      incidentId?: string;
    },
    by: string,
  ): Promise<Decision> {
    const now = this.now();
    const allow = (await this.allowList(input.scope.kind === 'ip' ? [input.scope.value] : [])).why(
      input.scope,
    );
    if (allow !== null)
      throw new WorkflowError(
        `${input.scope.kind} ${input.scope.value} is ${allow}; remove it from the allow-list first`,
      );
    const d: Decision = {
      id: stableId(
        'dec',
        input.incidentId ?? 'manual',
        input.action,
        input.scope.kind,
        input.scope.value,
        input.scope.endpoint ?? '',
        now,
      ),
      action: input.action,
      scope: input.scope,
      ...(input.action === 'rate_limit'
        ? { rateLimit: input.rateLimit ?? { requests: 60, perSeconds: 60 } }
        : {}),
      status: this.o.policy.dryRun ? 'proposed' : 'active',
      origin: 'manual',
      ...(input.incidentId === undefined ? {} : { incidentId: input.incidentId }),
      reason: input.reason,
      createdTs: now,
      expiresTs: input.ttlMs === null ? null : now + input.ttlMs,
      offence: 1,
    };
    await this.store.putDecision(d);
    await this.store.audit({
      ts: now,
      by,
      action: d.status === 'active' ? 'decision.applied' : 'decision.proposed',
      target: d.id,
      data: { action: d.action, scope: d.scope, expiresTs: d.expiresTs, reason: d.reason },
    });
    await this.store.commit();
    return d;
  }

  /** Marks active and proposed decisions past their TTL as expired; returns them. */
  async expire(): Promise<Decision[]> {
    const now = this.now();
    const out: Decision[] = [];
    const due =
      this.store.decisionsDue !== undefined
        ? await this.store.decisionsDue(now)
        : (await this.store.decisions()).filter(
            (d) =>
              (d.status === 'active' || d.status === 'proposed') &&
              d.expiresTs !== null &&
              d.expiresTs <= now,
          );
    for (const d of due) out.push(await this.setDecision(d, 'expired', 'policy', 'TTL passed'));
    if (out.length > 0) await this.store.commit();
    return out;
  }

  private async setDecision(
    d: Decision,
    status: Decision['status'],
    by: string,
    reason: string,
  ): Promise<Decision> {
    const next: Decision = { ...d, status };
    await this.store.putDecision(next);
    const action = {
      active: 'decision.approved',
      revoked: 'decision.revoked',
      expired: 'decision.expired',
      proposed: 'decision.proposed',
    }[status];
    await this.store.audit({
      ts: this.now(),
      by,
      action,
      target: d.id,
      data: { from: d.status, to: status, reason },
    });
    return next;
  }

  private async need(id: string): Promise<IncidentRecord> {
    const rec = await this.store.incident(id);
    if (rec === undefined)
      throw new WorkflowError(
        `no incident ${id} in ${this.store.location} (apiwarden incidents list shows them)`,
      );
    return rec;
  }

  private async needDecision(id: string): Promise<Decision> {
    const d = (await this.store.decisions()).find((x) => x.id === id);
    if (d === undefined)
      throw new WorkflowError(
        `no decision ${id} in ${this.store.location} (apiwarden decide --list shows them)`,
      );
    return d;
  }

  async history(id: string): Promise<AuditEntry[]> {
    const decisions = new Set(
      (await this.store.decisions()).filter((d) => d.incidentId === id).map((d) => d.id),
    );
    return (await this.store.auditLog()).filter((e) => e.target === id || decisions.has(e.target));
  }
}

function sameDetection(a: Incident, b: Incident): boolean {
  return (
    a.lastEventTs === b.lastEventTs &&
    a.requests === b.requests &&
    a.actors.length === b.actors.length &&
    a.severity === b.severity &&
    a.alerts.length === b.alerts.length
  );
}

const KIND_OF_FEATURE = /_by_(ip|token|device|user)(?:_|$)/;

/**
 * A false positive teaches the profile: every learned-threshold value the incident's actors reached becomes
 * their own usual peak for that feature (habitual), so they are judged against twice it from now on. Returns
 * what it learned (`feature actor=value`); the profile is changed in place.
 */
export function learnFromFalsePositive(profile: Profile, inc: Incident): string[] {
  const byKind = new Map<string, ActorRef[]>();
  for (const a of inc.actors) {
    const l = byKind.get(a.kind);
    if (l === undefined) byKind.set(a.kind, [a]);
    else l.push(a);
  }
  // Per feature and actor, the highest value the incident showed.
  const peaks = new Map<string, { feature: string; actor: ActorRef; value: number }>();
  for (const e of inc.evidence) {
    if (typeof e.value !== 'number' || !(e.source ?? '').startsWith('profile')) continue;
    if (profile.features[e.feature] === undefined) continue;
    const kind = KIND_OF_FEATURE.exec(e.feature)?.[1];
    if (kind === undefined) continue;
    for (const a of byKind.get(kind) ?? []) {
      const k = `${e.feature}\u0000${a.value}`;
      const p = peaks.get(k);
      if (p === undefined || e.value > p.value)
        peaks.set(k, { feature: e.feature, actor: a, value: e.value });
    }
  }
  const learned: string[] = [];
  for (const { feature, actor, value } of peaks.values()) {
    let own = profile.habitual[feature];
    if (own === undefined) {
      own = {};
      profile.habitual[feature] = own;
    }
    const old = own[actor.value];
    if (old === undefined || value > old) {
      own[actor.value] = value;
      learned.push(`${feature} ${actor.kind}:${actor.value}=${value}`);
    }
  }
  return learned;
}

/** At most this many evidence items are kept on an incident that folds in later detections. */
const MAX_FOLDED_EVIDENCE = 50;

/** `into` with `inc` folded in: the union of actors, types, endpoints and alerts; the wider time span. */
function foldInto(into: IncidentRecord, inc: Incident, now: number): IncidentRecord {
  const union = <T>(a: readonly T[], b: readonly T[], key: (t: T) => string = String): T[] => {
    const seen = new Set(a.map(key));
    const out = [...a];
    for (const x of b) {
      const k = key(x);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(x);
    }
    return out;
  };
  const rank = (s: Incident['severity']) => SEVERITIES.indexOf(s);
  const higher = rank(inc.severity) > rank(into.severity);
  return {
    ...into,
    types: union(into.types, inc.types),
    actors: union(into.actors, inc.actors, actorKey),
    endpoints: union(into.endpoints, inc.endpoints),
    alerts: union(into.alerts, inc.alerts),
    evidence: [...into.evidence, ...inc.evidence].slice(0, MAX_FOLDED_EVIDENCE),
    requests: into.requests + inc.requests,
    firstEventTs: Math.min(into.firstEventTs, inc.firstEventTs),
    lastEventTs: Math.max(into.lastEventTs, inc.lastEventTs),
    severity: higher ? inc.severity : into.severity,
    ...(higher && inc.severityReason !== undefined ? { severityReason: inc.severityReason } : {}),
    score: Math.max(into.score, inc.score),
    confidence: Math.max(into.confidence, inc.confidence),
    updatedTs: now,
    merged: [...(into.merged ?? []), inc.id],
  };
}
