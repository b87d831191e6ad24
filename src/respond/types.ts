/**
 * The response contract (docs/operations.md): decisions taken on incidents, as the exporters, the notifier,
 * the backtest and the state store read them. Change these shapes only with the doc.
 */
import type { AnomalyType, Severity } from '../detect/types.js';

export const DECISION_ACTIONS = ['block', 'rate_limit', 'challenge'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** What a decision applies to. `token` values are the 16-hex SHA-256 identity; `user` is the account name. */
export const SCOPE_KINDS = ['ip', 'cidr', 'token', 'user', 'device'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

export interface DecisionScope {
  kind: ScopeKind;
  /** An address (`203.0.113.7`), a CIDR (`203.0.113.0/24`), a token id, a user name or a device id. */
  value: string;
  /** Optionally only one endpoint: `METHOD /template` as in the inventory (`POST /api/v1/auth/login`). */
  endpoint?: string;
}

export interface RateLimit {
  /** Requests allowed per `perSeconds` (from the profile's learned limit for the endpoint when known). */
  requests: number;
  perSeconds: number;
}

export const DECISION_STATUSES = ['proposed', 'active', 'expired', 'revoked'] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];

export interface Decision {
  /** Deterministic: the same incident, scope and action give the same id. */
  id: string;
  action: DecisionAction;
  scope: DecisionScope;
  /** Only for `rate_limit`. */
  rateLimit?: RateLimit;
  /** proposed: waits for approval (or dry-run); active: applied; expired: past its TTL; revoked: by a person. */
  status: DecisionStatus;
  /** auto: applied by policy; manual: taken or approved by a person. */
  origin: 'auto' | 'manual';
  incidentId?: string;
  type?: AnomalyType;
  severity?: Severity;
  reason: string;
  /** ms epoch */
  createdTs: number;
  /** ms epoch; null: until revoked. */
  expiresTs: number | null;
  /** 1 for a first offence; repeat offenders escalate (longer TTL, rate-limit → block). */
  offence: number;
}

/** The decisions an exporter turns into configuration (active ones, normally). */
export interface ExportInput {
  decisions: readonly Decision[];
  /** Request header that carries the device id (default `x-device-id`). */
  deviceHeader?: string;
  /** ms epoch at export time (decisions already expired are left out). */
  now?: number;
}

/** What an exporter wrote, and what it could not express in its target (with the reason). */
export interface ExportResult {
  files: { path: string; content: string }[];
  skipped: { decision: string; reason: string }[];
}
