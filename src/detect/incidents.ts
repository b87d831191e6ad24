/**
 * Alerts grouped into incidents: alerts that share an actor are one incident (union-find over actors), so a
 * botnet reported by one population alert and by per-IP alerts is one incident listing every member. The id is
 * derived from the earliest alert's id, so the same input gives the same incident ids. (Linking across actor
 * kinds — an IP that carried a token that belongs to a user — and the response workflow build on this.)
 */
import { stableId } from './alerts.js';
import { type ActorRef, type Alert, type AnomalyType, actorKey, SEVERITIES, type Severity } from './types.js';

/** An alert's fields (without its detector), plus the group's. */
export interface Incident extends Omit<Alert, 'detector'> {
  /** Every type among its alerts, most severe first. */
  types: AnomalyType[];
  status: 'new';
  alerts: string[];
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

export function groupIncidents(alerts: readonly Alert[]): Incident[] {
  const parent = alerts.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const owner = new Map<string, number>();
  alerts.forEach((a, i) => {
    for (const actor of a.actors) {
      const k = actorKey(actor);
      const j = owner.get(k);
      if (j === undefined) owner.set(k, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Alert[]>();
  alerts.forEach((a, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [a]);
    else g.push(a);
  });
  const out: Incident[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.detectedTs - b.detectedTs || (a.id < b.id ? -1 : 1));
    const lead = [...g].sort((a, b) => rank(b.severity) - rank(a.severity) || b.score - a.score)[0]!;
    const types = [...new Set([...g].sort((a, b) => rank(b.severity) - rank(a.severity)).map((a) => a.type))];
    const actors = new Map<string, ActorRef>();
    for (const a of g) for (const x of a.actors) actors.set(actorKey(x), x);
    out.push({
      id: stableId('inc', g[0]!.id),
      type: lead.type,
      types,
      severity: lead.severity,
      score: Math.max(...g.map((a) => a.score)),
      confidence: Math.max(...g.map((a) => a.confidence)),
      status: 'new',
      actors: [...actors.values()],
      endpoints: [...new Set(g.flatMap((a) => a.endpoints))].sort(),
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
