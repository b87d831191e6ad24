/**
 * The detection output contract (docs/output.md): alerts, their types, actors, evidence. Later stages
 * (incidents, decisions, the server, Kafka workers) read these shapes; change them only with the doc.
 */
import type { ActorKind } from '../core/event.js';

export const ANOMALY_TYPES = [
  'crawler',
  'credential_stuffing',
  'otp_abuse',
  'forged_parameters',
  'enumeration',
  'data_exfiltration',
  'high_frequency',
  'scanner',
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An actor: token values are the 16-hex SHA-256 identity, never the credential. */
export interface ActorRef {
  kind: ActorKind;
  value: string;
}

/** One fact behind an alert: a feature's value against the threshold or baseline it crossed. */
export interface Evidence {
  /** What was measured: a feature name (`rpm_by_ip_endpoint`), a model (`iforest`), an intel list. */
  feature: string;
  value: number | string;
  /** The learned or configured limit it was compared with. */
  threshold?: number;
  /** Where it came from: `profile`, `population`, `config`, `baseline`, `intel`, `model`. */
  source?: string;
  /** The baseline (actor history, seasonal) when the comparison was against one. */
  baseline?: number;
  /** The window the value was measured over (ms epoch). */
  windowStart?: number;
  windowEnd?: number;
  endpoint?: string;
  note?: string;
}

export interface Alert {
  /** Deterministic: the same input gives the same id. */
  id: string;
  type: AnomalyType;
  /** The detector that raised it (named after the behaviour it finds). */
  detector: string;
  severity: Severity;
  /** 0..1: how far beyond normal. */
  score: number;
  /** 0..1: how well supported the thresholds and evidence are. */
  confidence: number;
  actors: ActorRef[];
  endpoints: string[];
  /** The actor's first event that belongs to the behaviour (ms epoch). */
  firstEventTs: number;
  /** The event time at which the evidence was enough. */
  detectedTs: number;
  lastEventTs: number;
  /** Requests that made up the behaviour (as counted by the evidence windows). */
  requests: number;
  evidence: Evidence[];
  explanation: string;
}

export const actorKey = (a: ActorRef): string => `${a.kind}:${a.value}`;
