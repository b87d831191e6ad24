/**
 * Alerts grouped into incidents over an actor graph. Every alert ties its actors together (a token alert
 * lists the user it belongs to and the addresses that carried it), and `links` can add ties the run saw
 * outside alerts (a device that logged into several accounts); alerts whose actors are connected are one
 * incident (union-find over actors), so a stuffing botnet reported by one population alert and by per-IP
 * alerts is one incident listing every member, not 300 tickets. The id derives from the earliest alert's id,
 * so re-running the same input gives the same incident ids.
 *
 * Severity starts from the most severe alert and rises one step when the incident touches what matters most:
 * an endpoint of a sensitive scenario (authentication, payment, personal data, admin) or one that answers
 * sensitive data, with a confident score (docs/operations.md, "Severity").
 */
import { stableId } from './alerts.js';
import { type ActorRef, type Alert, type AnomalyType, actorKey, SEVERITIES, type Severity } from './types.js';

export const INCIDENT_STATUSES = [
  'new',
  'triaged',
  'confirmed',
  'false_positive',
  'mitigated',
  'resolved',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** An alert's fields (without its detector), plus the group's. */
export interface Incident extends Omit<Alert, 'detector'> {
  /** Every type among its alerts, most severe first. */
  types: AnomalyType[];
  status: IncidentStatus;
  alerts: string[];
  /** Why the severity is what it is (the lead alert's, and any step up). */
  severityReason?: string;
}

export interface IncidentContext {
  /** Extra ties between actors (pairs), e.g. a device and the accounts it used. */
  links?: Iterable<readonly [ActorRef, ActorRef]>;
  /** An endpoint's risk scenario ('' when unknown). */
  scenarioOf?: (endpoint: string) => string;
  /** Whether an endpoint answers sensitive data (from the inventory). */
  sensitiveOf?: (endpoint: string) => boolean;
}

/** Scenarios whose abuse costs the most: an incident touching them is one step more severe. */
export const SENSITIVE_SCENARIOS: ReadonlySet<string> = new Set([
  'authentication',
  'payment',
  'personal_data',
  'admin',
]);

const rank = (s: Severity) => SEVERITIES.indexOf(s);

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(k: string): string {
    let p = this.parent.get(k);
    if (p === undefined) {
      this.parent.set(k, k);
      return k;
    }
    let r = k;
    while (p !== r) {
      r = p;
      p = this.parent.get(r)!;
    }
    // Path compression.
    let c = k;
    while (c !== r) {
      const n = this.parent.get(c)!;
      this.parent.set(c, r);
      c = n;
    }
    return r;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // The smaller key wins: the result does not depend on the order of unions.
    if (ra !== rb) ra < rb ? this.parent.set(rb, ra) : this.parent.set(ra, rb);
  }
  has(k: string): boolean {
    return this.parent.has(k);
  }
}

export function groupIncidents(alerts: readonly Alert[], ctx: IncidentContext = {}): Incident[] {
  const uf = new UnionFind();
  for (const a of alerts) {
    const first = actorKey(a.actors[0]!);
    uf.find(first);
    for (let i = 1; i < a.actors.length; i++) uf.union(first, actorKey(a.actors[i]!));
  }
  // A link only joins actors that are in some alert: it never pulls a bystander into an incident.
  for (const [x, y] of ctx.links ?? []) {
    const kx = actorKey(x);
    const ky = actorKey(y);
    if (uf.has(kx) && uf.has(ky)) uf.union(kx, ky);
  }
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    const r = uf.find(actorKey(a.actors[0]!));
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [a]);
    else g.push(a);
  }
  const out: Incident[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.detectedTs - b.detectedTs || (a.id < b.id ? -1 : 1));
    const bySeverity = [...g].sort(
      (a, b) => rank(b.severity) - rank(a.severity) || b.score - a.score || (a.id < b.id ? -1 : 1),
    );
    const lead = bySeverity[0]!;
    const types = [...new Set(bySeverity.map((a) => a.type))];
    const actors = new Map<string, ActorRef>();
    for (const a of g) for (const x of a.actors) actors.set(actorKey(x), x);
    const endpoints = [...new Set(g.flatMap((a) => a.endpoints))].sort();
    const score = Math.max(...g.map((a) => a.score));
    const confidence = Math.max(...g.map((a) => a.confidence));
    const { severity, reason } = incidentSeverity(lead.severity, endpoints, score, confidence, ctx);
    out.push({
      id: stableId('inc', g[0]!.id),
      type: lead.type,
      types,
      severity,
      ...(reason === undefined ? {} : { severityReason: reason }),
      score,
      confidence,
      status: 'new',
      actors: [...actors.values()],
      endpoints,
      firstEventTs: Math.min(...g.map((a) => a.firstEventTs)),
      detectedTs: g[0]!.detectedTs,
      lastEventTs: Math.max(...g.map((a) => a.lastEventTs)),
      requests: g.reduce((s, a) => s + a.requests, 0),
      alerts: g.map((a) => a.id),
      evidence: g.flatMap((a) => a.evidence).slice(0, 20),
      explanation:
        g.length === 1 ? lead.explanation : `${lead.explanation} (${g.length} alerts: ${types.join(', ')})`,
    });
  }
  return out.sort((a, b) => a.detectedTs - b.detectedTs || (a.id < b.id ? -1 : 1));
}

/** The lead alert's severity, one step up for a confident incident on a sensitive endpoint. */
export function incidentSeverity(
  base: Severity,
  endpoints: readonly string[],
  score: number,
  confidence: number,
  ctx: IncidentContext,
): { severity: Severity; reason?: string } {
  if (score < 0.5 || confidence < 0.5) return { severity: base };
  let why: string | undefined;
  for (const ep of endpoints) {
    const scenario = ctx.scenarioOf?.(ep) ?? '';
    if (SENSITIVE_SCENARIOS.has(scenario)) {
      why = `${ep} is in the ${scenario} scenario`;
      break;
    }
    if (ctx.sensitiveOf?.(ep) === true) {
      why = `${ep} answers sensitive data`;
      break;
    }
  }
  if (why === undefined) return { severity: base };
  const up = SEVERITIES[Math.min(SEVERITIES.length - 1, rank(base) + 1)]!;
  return up === base ? { severity: base } : { severity: up, reason: `raised from ${base}: ${why}` };
}
