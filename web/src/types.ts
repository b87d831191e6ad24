/**
 * The API's answers as the dashboard reads them (docs/openapi-server.yaml, src/server/routes/*.ts). Every
 * string here may come from traffic: the app renders them as text, never as HTML.
 */

export type Role = 'viewer' | 'analyst' | 'admin';
export type ActorKind = 'ip' | 'device' | 'token' | 'user';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type IncidentStatus = 'new' | 'triaged' | 'confirmed' | 'false_positive' | 'mitigated' | 'resolved';

export interface Me {
  user: string;
  role: Role;
  tokenId: string;
}

export interface ActorRef {
  kind: ActorKind;
  value: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}

export interface IncidentSummary {
  id: string;
  status: IncidentStatus;
  severity: Severity;
  type: string;
  types: string[];
  score: number;
  confidence: number;
  actorCount: number;
  actors: ActorRef[];
  endpointCount: number;
  endpoints: string[];
  requests: number;
  firstEventTs: number;
  detectedTs: number;
  lastEventTs: number;
  assignee: string | null;
  explanation: string;
  createdTs: number;
  updatedTs: number;
  decisions?: { active: number; proposed: number };
}

export interface Evidence {
  feature: string;
  value: number | string;
  threshold?: number;
  source?: string;
  baseline?: number;
  windowStart?: number;
  windowEnd?: number;
  endpoint?: string;
  note?: string;
}

export interface Incident {
  id: string;
  status: IncidentStatus;
  severity: Severity;
  severityReason?: string;
  type: string;
  types: string[];
  score: number;
  confidence: number;
  actors: ActorRef[];
  endpoints: string[];
  firstEventTs: number;
  detectedTs: number;
  lastEventTs: number;
  requests: number;
  evidence: Evidence[];
  explanation: string;
  alerts: string[];
  assignee: string | null;
  notes: { ts: number; by: string; text: string }[];
  createdTs: number;
  updatedTs: number;
  statusTs: Partial<Record<IncidentStatus, number>>;
}

export interface Decision {
  id: string;
  action: 'block' | 'rate_limit' | 'challenge';
  scope: { kind: string; value: string; endpoint?: string };
  rateLimit?: { requests: number; perSeconds: number };
  status: 'proposed' | 'active' | 'expired' | 'revoked';
  origin: 'auto' | 'manual';
  incidentId?: string;
  type?: string;
  severity?: Severity;
  reason: string;
  createdTs: number;
  expiresTs: number | null;
  offence: number;
}

export interface AuditEntry {
  seq: number;
  ts: number;
  by: string;
  action: string;
  target: string;
  data?: Record<string, unknown>;
}

export interface IncidentDetail {
  incident: Incident;
  decisions: Decision[];
  audit: AuditEntry[];
}

export interface Series {
  stepMs: number;
  ts: number[];
  requests: number[];
  errors: number[];
  serverErrors?: number[];
  alerts?: number[];
  incidents?: number[];
}

export interface Overview {
  now: number;
  series: Series & { serverErrors: number[]; alerts: number[]; incidents: number[] };
  totals: {
    requests: number;
    errors: number;
    serverErrors: number;
    alerts: number;
    incidents: number;
    openIncidents: number;
    activeDecisions: number;
    proposedDecisions: number;
    expiringDecisions: number;
  };
  topEndpoints: {
    endpoint: string;
    incidents: number;
    open: number;
    actors: number;
    severity: Severity;
    requests: number;
    alerts: number;
    traffic: number;
  }[];
  topActors: {
    kind: ActorKind;
    value: string;
    incidents: number;
    openIncidents: number;
    severity: Severity;
    types: string[];
    requests: number | null;
  }[];
  busiestActors: {
    kind: ActorKind;
    value: string;
    requests: number;
    errors: number;
    lastTs: number;
    flagged: boolean;
  }[];
  sensitive: {
    endpoints: { endpoint: string; scenario: string; auth: string; response: string[]; request: string[] }[];
    byType: { type: string; endpoints: number; findings: number; distinctValues: number }[];
    flaggedReceived: { type: string; requests: number; actors: number }[];
  };
  inventory: { id: number; ts: number; endpoints: number } | null;
  ingest: { events: number; eventsPerSec: number; lastEventTs: number | null };
  pipeline: { detecting: boolean; segments: number; alerts: number; incidents: number } | null;
  readModel: { actors: number; endpoints: number; events: number };
}

export interface LiveTraffic {
  endpoint: string;
  requests: number;
  errors: number;
  statusClasses: number[];
  answered: number;
  alerts: number;
  firstTs: number;
  lastTs: number;
}

export interface Risk {
  score: number;
  level: 'low' | 'medium' | 'high';
  reasons: string[];
}

export interface EndpointRow {
  endpoint: string;
  method: string;
  template: string;
  host: string | null;
  scenario: string | null;
  auth: string | null;
  authKinds: Record<string, number>;
  sensitive: { request: string[]; response: string[] };
  inventoryRequests: number;
  lastSeen: string | null;
  live: LiveTraffic | null;
  incidents: number;
  openIncidents: number;
  risk: Risk;
  shadow: boolean;
  zombie: boolean;
  notes: string[];
}

export interface EndpointList {
  inventory: { id: number; ts: number; from: string | null; to: string | null } | null;
  endpoints: EndpointRow[];
}

export interface SensitiveFinding {
  type: string;
  field: string;
  count: number;
  distinctValues: number;
  example: string;
}

export interface ParamReport {
  name: string;
  type: string;
  format?: string;
  requiredRate: number;
}

export interface InventoryEntry {
  method: string;
  host: string | null;
  template: string;
  scenario: string;
  requests: number;
  firstSeen: string;
  lastSeen: string;
  status: Record<string, number>;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number } | null;
  distinctIps: number;
  distinctTokens: number;
  pathParams: ParamReport[];
  queryParams: ParamReport[];
  bodyParams: ParamReport[];
  sensitive: { request: SensitiveFinding[]; response: SensitiveFinding[] };
}

export interface Threshold {
  feature: string;
  actor: string;
  unit: string;
  source: string;
  threshold: number;
  seedThreshold: number | null;
  p50: number;
  p99: number;
  confidence: number;
  actors: number;
  periods: number;
  borrowedFrom?: string;
}

export interface EndpointDetail {
  endpoint: string;
  row: EndpointRow | null;
  inventory: InventoryEntry | null;
  profile: { id: number | null; ts: number | null };
  thresholds: Threshold[];
  series: Series | null;
  incidents: IncidentSummary[];
}

export interface RequestView {
  ts: number;
  method: string;
  path: string;
  endpoint: string;
  status: number;
  bytesOut: number | null;
  latencyMs: number | null;
  userAgent: string | null;
  ip: string;
  token: string | null;
  user: string | null;
  device: string | null;
  source: string;
  line: number;
  raw: string | null;
  truncated: boolean;
}

export interface AlertBrief {
  id: string;
  type: string;
  severity: Severity;
  detectedTs: number;
  firstEventTs: number;
  requests: number;
  endpoints: string[];
  actors: number;
  explanation: string;
}

export interface ActorDetail {
  actor: ActorRef;
  tracked: boolean;
  summary: {
    firstTs: number;
    lastTs: number;
    requests: number;
    errors: number;
    flagged: boolean;
    answered: Record<string, number>;
  } | null;
  requests: RequestView[];
  alerts: AlertBrief[];
  incidents: IncidentSummary[];
  decisions: Decision[];
  linked: { kind: ActorKind; value: string; via: string[]; incidents: string[] }[];
}

export interface IncidentGraph {
  incident: string;
  nodes: { kind: ActorKind; value: string; requests: number | null; flagged: boolean }[];
  edges: { a: number; b: number; via: string[] }[];
  more: number;
}

export interface BacktestDecision {
  decision: string;
  action: string;
  scope: string;
  requests: number;
  actors: { ip: number; token: number; user: number; device: number };
  collateralActors: number;
  collateralRequests: number;
  collateralSample: string[];
  firstTs: number | null;
  lastTs: number | null;
}

export interface BacktestReport {
  from: number | null;
  to: number | null;
  storedRequests: number;
  decisions: BacktestDecision[];
  total: { requests: number; actors: number; collateralActors: number; collateralRequests: number };
}

export interface ExportResult {
  target: string;
  active: number;
  files: { name: string; contentType: string; bytes: number; content: string }[];
  skipped: { decision: string; reason: string }[];
}
