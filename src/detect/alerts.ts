/**
 * Findings become alerts: a detector reports each window in which an actor crossed a line (a finding); the
 * book merges the findings of one behaviour of one actor — same type, same actor — into one alert that
 * starts at the first finding (its `detectedTs`) and grows with later ones. Ids are hashes of what the alert
 * is (type, detector, actor, first window), so the same input always gives the same ids.
 */
import { createHash } from 'node:crypto';
import {
  type ActorRef,
  type Alert,
  type AnomalyType,
  actorKey,
  type Evidence,
  type Severity,
} from './types.js';

export interface Finding {
  type: AnomalyType;
  detector: string;
  /** The primary actor, then others that belong to the same behaviour (population findings list them all). */
  actors: ActorRef[];
  /** Findings with the same group key (and type, detector) merge into one alert; default: the primary actor. */
  groupKey?: string;
  endpoints: string[];
  windowStart: number;
  /** When the evidence was complete: the event time of detection. */
  detectedTs: number;
  firstEventTs: number;
  lastEventTs: number;
  requests: number;
  score: number;
  confidence: number;
  evidence: Evidence[];
  explanation: string;
  /** A configured rule's severity; otherwise it follows from type, score and confidence. */
  severity?: Severity;
}

const MAX_EVIDENCE = 12;

export const stableId = (prefix: string, ...parts: (string | number)[]): string =>
  `${prefix}-${createHash('sha256').update(parts.join('\u001f')).digest('hex').slice(0, 16)}`;

export function severityOf(type: AnomalyType, score: number, confidence: number): Severity {
  const base: Record<AnomalyType, number> = {
    crawler: 1,
    credential_stuffing: 2,
    otp_abuse: 1,
    forged_parameters: 2,
    enumeration: 2,
    data_exfiltration: 3,
    high_frequency: 1,
    scanner: 1,
  };
  const v = base[type] + (score >= 0.8 ? 1 : 0) - (confidence < 0.3 ? 1 : 0);
  return (['low', 'low', 'medium', 'high', 'critical'] as const)[Math.max(0, Math.min(4, v))]!;
}

export class AlertBook {
  private readonly open = new Map<string, Alert>();

  add(f: Finding): void {
    const primary = f.actors[0]!;
    const who = f.groupKey ?? actorKey(primary);
    const k = `${f.type}|${f.detector}|${who}`;
    const a = this.open.get(k);
    if (a === undefined) {
      this.open.set(k, {
        id: stableId('alert', f.type, f.detector, who, f.windowStart),
        type: f.type,
        detector: f.detector,
        severity: f.severity ?? severityOf(f.type, f.score, f.confidence),
        score: round(f.score),
        confidence: round(f.confidence),
        actors: dedupe(f.actors),
        endpoints: [...new Set(f.endpoints)].sort(),
        firstEventTs: f.firstEventTs,
        detectedTs: f.detectedTs,
        lastEventTs: f.lastEventTs,
        requests: f.requests,
        evidence: f.evidence.slice(0, MAX_EVIDENCE),
        explanation: f.explanation,
      });
      return;
    }
    a.actors = dedupe([...a.actors, ...f.actors]);
    a.endpoints = [...new Set([...a.endpoints, ...f.endpoints])].sort();
    if (f.firstEventTs < a.firstEventTs) a.firstEventTs = f.firstEventTs;
    if (f.lastEventTs > a.lastEventTs) a.lastEventTs = f.lastEventTs;
    a.requests += f.requests;
    if (f.score > a.score) {
      a.score = round(f.score);
      a.explanation = f.explanation;
    }
    if (f.confidence > a.confidence) a.confidence = round(f.confidence);
    a.severity = f.severity ?? severityOf(a.type, a.score, a.confidence);
    for (const e of f.evidence) if (a.evidence.length < MAX_EVIDENCE) a.evidence.push(e);
  }

  /** Every alert, in detection order (ties by id). */
  alerts(): Alert[] {
    return [...this.open.values()].sort((a, b) => a.detectedTs - b.detectedTs || (a.id < b.id ? -1 : 1));
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;

function dedupe(actors: ActorRef[]): ActorRef[] {
  const seen = new Set<string>();
  const out: ActorRef[] = [];
  for (const a of actors) {
    const k = actorKey(a);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}
