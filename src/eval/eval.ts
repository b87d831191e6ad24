/**
 * Scores detections against ground truth (the simulator's labels.json, or any file of that shape): per
 * campaign, whether it was detected, the share of its actors found (actor recall), and how long after its first
 * request the first matching incident was detected (event time); the benign actors flagged; and, when request
 * scores are given, the request-level ROC-AUC for forged requests.
 */
import { rocAuc } from '../detect/models/metrics.js';
import type { AnomalyType } from '../detect/types.js';

export interface LabelActors {
  ips: string[];
  tokens: string[];
  users: string[];
  devices: string[];
}

export interface LabelsFile {
  start: string;
  end: string;
  warmupEnd?: string;
  campaigns: {
    id: string;
    firstSeen: string | null;
    lastSeen: string | null;
    requests: number;
    actors: LabelActors;
  }[];
  benign?: { id: string; actors: LabelActors }[];
  forged?: { line: number; campaign: string | null; kind: string }[];
}

export interface IncidentLike {
  id: string;
  type: string;
  /** Every type of the incident's alerts (when given, a campaign matches any of them). */
  types?: string[];
  actors: { kind: string; value: string }[];
  detectedTs: number;
}

/** The alert type each campaign of our simulator is expected to raise (other label files may use types as ids). */
export const CAMPAIGN_TYPES: Record<string, AnomalyType> = {
  crawler: 'crawler',
  distributed_crawler: 'crawler',
  credential_stuffing: 'credential_stuffing',
  sms_bombing: 'otp_abuse',
  forged_parameters: 'forged_parameters',
  bola: 'enumeration',
  slow_exfiltration: 'data_exfiltration',
  burst: 'high_frequency',
  scanner: 'scanner',
};

export interface CampaignResult {
  id: string;
  expectedType: string | null;
  actors: number;
  found: number;
  recall: number;
  detected: boolean;
  /** Detected by an incident of the expected type. */
  typeMatched: boolean;
  /** Incident types that matched the campaign's actors, with counts. */
  types: Record<string, number>;
  /** First matching detection minus the campaign's first request, ms (null: not detected). */
  latencyMs: number | null;
  missed: string[];
}

export interface EvalResult {
  campaigns: CampaignResult[];
  benign: {
    actors: number | null;
    flagged: number;
    share: number | null;
    byGroup: Record<string, number>;
    examples: string[];
  };
  forged: null | { requests: number; rocAuc: number; byKind: Record<string, number> };
}

const ak = (kind: string, value: string) => `${kind}:${value}`;

function actorKeys(a: LabelActors): string[] {
  return [
    ...a.ips.map((v) => ak('ip', v)),
    ...a.tokens.map((v) => ak('token', v)),
    ...a.users.map((v) => ak('user', v)),
    ...a.devices.map((v) => ak('device', v)),
  ];
}

/**
 * `seenActors`: how many distinct actors the traffic had (analyze's summary.json), to turn flagged benign
 * actors into a share. `scores`: request line → score, for the forged-request ROC-AUC (missing lines score 0).
 */
export function evaluate(
  labels: LabelsFile,
  incidents: readonly IncidentLike[],
  seenActors: number | null,
  scores?: Map<number, number>,
  totalRequests?: number,
): EvalResult {
  const byActor = new Map<string, IncidentLike[]>();
  for (const inc of incidents)
    for (const a of inc.actors) {
      const k = ak(a.kind, a.value);
      const l = byActor.get(k);
      if (l === undefined) byActor.set(k, [inc]);
      else l.push(inc);
    }
  const attackActors = new Set<string>();
  const campaigns: CampaignResult[] = [];
  for (const c of labels.campaigns) {
    const keys = [...new Set(actorKeys(c.actors))];
    for (const k of keys) attackActors.add(k);
    const expected = CAMPAIGN_TYPES[c.id] ?? (c.id as AnomalyType);
    const first = c.firstSeen === null ? null : Date.parse(c.firstSeen);
    let found = 0;
    const types: Record<string, number> = {};
    let firstDetect = Number.POSITIVE_INFINITY;
    const missed: string[] = [];
    const matched = new Set<string>();
    for (const k of keys) {
      const l = byActor.get(k);
      if (l === undefined) {
        if (missed.length < 10) missed.push(k);
        continue;
      }
      found++;
      for (const inc of l) {
        if (matched.has(inc.id)) continue;
        matched.add(inc.id);
        for (const t of inc.types ?? [inc.type]) types[t] = (types[t] ?? 0) + 1;
        if (inc.detectedTs < firstDetect) firstDetect = inc.detectedTs;
      }
    }
    const detected = found > 0;
    campaigns.push({
      id: c.id,
      expectedType: expected,
      actors: keys.length,
      found,
      recall: keys.length === 0 ? 0 : found / keys.length,
      detected,
      typeMatched: types[expected] !== undefined,
      types,
      latencyMs: detected && first !== null ? Math.max(0, firstDetect - first) : null,
      missed,
    });
  }
  // Benign: every flagged actor that no campaign owns.
  const groupOf = new Map<string, string>();
  for (const g of labels.benign ?? []) for (const k of actorKeys(g.actors)) groupOf.set(k, g.id);
  let flagged = 0;
  const byGroup: Record<string, number> = {};
  const examples: string[] = [];
  for (const k of byActor.keys()) {
    if (attackActors.has(k)) continue;
    flagged++;
    const g = groupOf.get(k) ?? 'other';
    byGroup[g] = (byGroup[g] ?? 0) + 1;
    if (examples.length < 30)
      examples.push(
        `${k} [${g}] (${byActor
          .get(k)!
          .map((i) => i.type)
          .join(',')})`,
      );
  }
  const benignActors = seenActors === null ? null : Math.max(0, seenActors - attackActors.size);
  let forged: EvalResult['forged'] = null;
  if (scores !== undefined && labels.forged !== undefined && totalRequests !== undefined) {
    const positive = new Map<number, string>();
    for (const f of labels.forged) positive.set(f.line, f.kind);
    const byKind: Record<string, number> = {};
    const kinds = [...new Set(labels.forged.map((f) => f.kind))].sort();
    for (const kind of kinds)
      byKind[kind] = rocAucSparse(
        scores,
        totalRequests,
        (line) => positive.get(line) === kind,
        (line) => !positive.has(line),
      );
    forged = {
      requests: totalRequests,
      rocAuc: rocAucSparse(
        scores,
        totalRequests,
        (line) => positive.has(line),
        (line) => !positive.has(line),
      ),
      byKind,
    };
  }
  return {
    campaigns,
    benign: {
      actors: benignActors,
      flagged,
      share: benignActors === null || benignActors === 0 ? null : flagged / benignActors,
      byGroup,
      examples,
    },
    forged,
  };
}

/**
 * ROC-AUC over lines 1..total, most of which have score 0 (absent from `scores`): the lines that are positive
 * or negative, scored by the models' exact rocAuc (ties at average rank, as scikit-learn's roc_auc_score).
 * NaN when one class is empty.
 */
export function rocAucSparse(
  scores: Map<number, number>,
  total: number,
  isPos: (line: number) => boolean,
  isNeg: (line: number) => boolean,
): number {
  const s: number[] = [];
  const y: number[] = [];
  let pos = 0;
  for (let line = 1; line <= total; line++) {
    const p = isPos(line);
    if (!p && !isNeg(line)) continue;
    s.push(scores.get(line) ?? 0);
    y.push(p ? 1 : 0);
    if (p) pos++;
  }
  if (pos === 0 || pos === y.length) return Number.NaN;
  return rocAuc(s, y);
}
