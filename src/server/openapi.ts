/**
 * The API's OpenAPI 3.1 document, served at GET /api/v1/openapi.json and written to docs/openapi-server.yaml
 * (test/server-openapi.test.ts keeps the file equal to this). One table, `ROUTES`, lists every route with
 * the role it needs; request bodies and query parameters are generated from the zod schemas the routes
 * validate with, responses are described by the hand-written schemas below. A test checks that the table and
 * the app's routes are the same set, and the auth tests walk the table, so neither can drift.
 */
import { z } from 'zod';
import type { Role } from '../store/state/pg-state.js';
import { endpointDetailQuery, openApiQuery, overviewQuery } from './routes/dashboard.js';
import {
  assignBody,
  auditQuery,
  backtestBody,
  createTokenBody,
  createUserBody,
  decisionListQuery,
  exportQuery,
  importBody,
  incidentListQuery,
  ingestQuery,
  inventoryBody,
  manualDecisionBody,
  noteBody,
  revokeBody,
  setRoleBody,
  tokensQuery,
  transitionBody,
} from './schemas.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteDoc {
  method: Method;
  /** OpenAPI style: `/api/v1/incidents/{id}`. */
  path: string;
  /** The least role; null: no token needed. */
  role: Role | null;
  tag: string;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  /** A zod schema, or a media type for bodies that are not validated JSON. */
  body?: z.ZodType | { mediaType: string; description: string };
  /** Status → schema name in components (or a media type for non-JSON answers). */
  ok: { status: number; schema?: string; mediaType?: string; description?: string };
  /** Error statuses this route can answer besides 401/403 (and 400 when it reads input). */
  errors?: number[];
}

const J = (s: string) => ({ $ref: `#/components/schemas/${s}` });

export const ROUTES: readonly RouteDoc[] = [
  // ---- service
  {
    method: 'get',
    path: '/healthz',
    role: null,
    tag: 'service',
    summary: 'Liveness and database check',
    description: '200 when the state database answers, else 503. Needs no token.',
    ok: { status: 200, schema: 'Health' },
    errors: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    role: null,
    tag: 'service',
    summary: 'Prometheus metrics (text format 0.0.4)',
    description: 'Needs no token (docs/server.md: keep the port off the internet, or put it behind a proxy).',
    ok: { status: 200, mediaType: 'text/plain; version=0.0.4' },
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    role: null,
    tag: 'service',
    summary: 'This document',
    ok: { status: 200, schema: 'Any' },
  },
  {
    method: 'get',
    path: '/api/v1/me',
    role: 'viewer',
    tag: 'access',
    summary: 'The caller: user, role and token id',
    ok: { status: 200, schema: 'Me' },
  },
  // ---- incidents
  {
    method: 'get',
    path: '/api/v1/incidents',
    role: 'viewer',
    tag: 'incidents',
    summary: 'Incidents, newest first, filtered and paged',
    query: incidentListQuery,
    ok: { status: 200, schema: 'IncidentPage' },
  },
  {
    method: 'post',
    path: '/api/v1/incidents/import',
    role: 'analyst',
    tag: 'incidents',
    summary: 'Import incidents (incidents.jsonl of apiwarden analyze) and apply the policy',
    description:
      'Idempotent: the same incidents again change nothing. Workflow fields of known incidents are kept.',
    body: importBody,
    ok: { status: 200, schema: 'ImportResult' },
  },
  {
    method: 'get',
    path: '/api/v1/incidents/{id}',
    role: 'viewer',
    tag: 'incidents',
    summary: 'One incident with its decisions and audit history',
    ok: { status: 200, schema: 'IncidentDetail' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/incidents/{id}/transition',
    role: 'analyst',
    tag: 'incidents',
    summary: 'Move an incident through the SOP',
    description:
      'new → triaged → confirmed | false_positive → mitigated → resolved; resolved and false_positive reopen to triaged. A false positive revokes the incident’s decisions, allow-lists its actors and teaches the stored profile (a new profile version).',
    body: transitionBody,
    ok: { status: 200, schema: 'TransitionResult' },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/incidents/{id}/notes',
    role: 'analyst',
    tag: 'incidents',
    summary: 'Add a note',
    body: noteBody,
    ok: { status: 200, schema: 'IncidentEnvelope' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/incidents/{id}/assign',
    role: 'analyst',
    tag: 'incidents',
    summary: 'Assign to someone',
    body: assignBody,
    ok: { status: 200, schema: 'IncidentEnvelope' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/incidents/{id}/apply-policy',
    role: 'analyst',
    tag: 'incidents',
    summary: 'Apply the response policy to an incident (its decisions, active or proposed)',
    ok: { status: 200, schema: 'DecisionList' },
    errors: [404],
  },
  // ---- decisions
  {
    method: 'get',
    path: '/api/v1/decisions',
    role: 'viewer',
    tag: 'decisions',
    summary: 'Decisions, newest first, filtered and paged',
    query: decisionListQuery,
    ok: { status: 200, schema: 'DecisionPage' },
  },
  {
    method: 'post',
    path: '/api/v1/decisions',
    role: 'analyst',
    tag: 'decisions',
    summary: 'Take a decision by hand (active at once unless the policy is dry-run)',
    description:
      'The scope is checked as the CLI’s --scope: ip an address, cidr a CIDR, token the 16-hex token id, endpoint `METHOD /path`. ttl defaults to 1h; null means until revoked. An allow-listed actor is refused (409).',
    body: manualDecisionBody,
    ok: { status: 201, schema: 'DecisionEnvelope' },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/decisions/expire',
    role: 'analyst',
    tag: 'decisions',
    summary: 'Mark decisions past their TTL as expired (the server also does this every minute)',
    ok: { status: 200, schema: 'ExpireResult' },
  },
  {
    method: 'post',
    path: '/api/v1/decisions/{id}/approve',
    role: 'analyst',
    tag: 'decisions',
    summary: 'Approve a proposed decision (a confirmed incident becomes mitigated)',
    ok: { status: 200, schema: 'ApproveResult' },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/decisions/{id}/revoke',
    role: 'analyst',
    tag: 'decisions',
    summary: 'Revoke a decision',
    body: revokeBody,
    ok: { status: 200, schema: 'DecisionEnvelope' },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/backtest',
    role: 'analyst',
    tag: 'decisions',
    summary: 'What decisions (or a hypothetical scope) would have hit over the stored events',
    description:
      'Runs over the event store given at start (--store DIR); 409 no_store without one. Collateral: actors hit that are in no incident.',
    body: backtestBody,
    ok: { status: 200, schema: 'BacktestReport' },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/api/v1/export/{target}',
    role: 'viewer',
    tag: 'decisions',
    summary: 'Active decisions as WAF / proxy configuration',
    description:
      'target: modsecurity, nginx, aws-waf, cloudflare or blocklist. Without `file`: JSON with every file’s content. With `file=NAME`: that file raw, with its content type and content-disposition: attachment.',
    query: exportQuery,
    ok: { status: 200, schema: 'ExportResult', description: 'JSON, or the raw file with ?file=' },
    errors: [404],
  },
  // ---- documents
  {
    method: 'get',
    path: '/api/v1/inventory',
    role: 'viewer',
    tag: 'documents',
    summary: 'The latest API inventory snapshot',
    ok: { status: 200, schema: 'InventorySnapshot' },
    errors: [404],
  },
  {
    method: 'put',
    path: '/api/v1/inventory',
    role: 'analyst',
    tag: 'documents',
    summary: 'Store an inventory (inventory.json) as the newest snapshot',
    body: inventoryBody,
    ok: { status: 201, schema: 'SnapshotInfo' },
  },
  {
    method: 'get',
    path: '/api/v1/inventory/versions',
    role: 'viewer',
    tag: 'documents',
    summary: 'Stored inventory snapshots, newest first',
    ok: { status: 200, schema: 'Versions' },
  },
  {
    method: 'get',
    path: '/api/v1/profile',
    role: 'viewer',
    tag: 'documents',
    summary: 'The latest detection profile',
    ok: { status: 200, schema: 'ProfileSnapshot' },
    errors: [404],
  },
  {
    method: 'put',
    path: '/api/v1/profile',
    role: 'analyst',
    tag: 'documents',
    summary:
      'Store a profile (profile.json) as the newest version; the live pipeline judges against it at once',
    body: {
      mediaType: 'application/json',
      description: 'A profile as `apiwarden profile` writes it (kind apiwarden-profile, version 1).',
    },
    ok: { status: 201, schema: 'SnapshotInfo' },
  },
  {
    method: 'get',
    path: '/api/v1/profile/versions',
    role: 'viewer',
    tag: 'documents',
    summary: 'Stored profile versions, newest first',
    ok: { status: 200, schema: 'Versions' },
  },
  // ---- ingest and live
  {
    method: 'post',
    path: '/api/v1/ingest',
    role: 'analyst',
    tag: 'ingest',
    summary: 'Send log records: JSON lines, a JSON array, or raw access-log lines; gzip accepted',
    description:
      'The format is ?format=NAME or detected from the first records. Envelopes ({"message": …} from Vector, {"log": …} from Fluent Bit) are unwrapped (?envelope=auto|none|FIELD). Malformed records are counted and described, never fail the batch. Limited per token (429 with Retry-After) and in size (413).',
    query: ingestQuery,
    body: {
      mediaType: 'application/x-ndjson',
      description: 'Newline-delimited records, or a JSON array (application/json), or text/plain log lines.',
    },
    ok: { status: 200, schema: 'IngestResult' },
    errors: [413, 415, 429],
  },
  {
    method: 'get',
    path: '/api/v1/pipeline',
    role: 'viewer',
    tag: 'ingest',
    summary: 'The live pipeline: detection on or off, segments, counts',
    ok: { status: 200, schema: 'PipelineState' },
  },
  {
    method: 'post',
    path: '/api/v1/pipeline/flush',
    role: 'analyst',
    tag: 'ingest',
    summary: 'End the open detection segment now: its alerts become incidents',
    ok: { status: 200, schema: 'FlushResult' },
    errors: [409],
  },
  {
    method: 'get',
    path: '/api/v1/events',
    role: 'viewer',
    tag: 'ingest',
    summary:
      'Server-Sent Events: incident.new / incident.updated, decision.new / approved / revoked / expired, ingest.stats',
    description:
      'The token may also be given as ?token= (EventSource cannot set headers; docs/server.md on the trade-off). Heartbeat comments every 15 s; Last-Event-ID replays recent events.',
    ok: { status: 200, mediaType: 'text/event-stream' },
    errors: [503],
  },
  // ---- audit
  {
    method: 'get',
    path: '/api/v1/audit',
    role: 'viewer',
    tag: 'audit',
    summary: 'The audit log, oldest first, paged by sequence number',
    query: auditQuery,
    ok: { status: 200, schema: 'AuditPage' },
  },
  {
    method: 'get',
    path: '/api/v1/audit/verify',
    role: 'viewer',
    tag: 'audit',
    summary: 'Check the audit log’s hash chain',
    ok: { status: 200, schema: 'AuditVerify' },
  },
  // ---- the dashboard: its files and its read model
  {
    method: 'get',
    path: '/',
    role: null,
    tag: 'dashboard',
    summary: 'The web dashboard (index.html; the app routes by the URL fragment)',
    description:
      'Served with a strict Content-Security-Policy (scripts, styles and connections from this origin only). 503 with a page saying to run `npm run build` when the dashboard is not built. The page needs no token; the API calls it makes do.',
    ok: { status: 200, mediaType: 'text/html' },
    errors: [503],
  },
  {
    method: 'get',
    path: '/assets/{file}',
    role: null,
    tag: 'dashboard',
    summary: 'The dashboard’s hashed script, style and image files (immutable)',
    ok: { status: 200, mediaType: 'application/octet-stream' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/overview',
    role: 'viewer',
    tag: 'dashboard',
    summary: 'Threat posture: per-minute series, top attacked endpoints, top actors, sensitive-data exposure',
    description:
      'Series are per minute of event time over the read model’s horizon (default a day; `minutes` keeps the last N): requests, errors (4xx and 5xx), server errors, alerts of the live pipeline, incidents detected. The read model is in memory and starts empty at each start (docs/dashboard.md).',
    query: overviewQuery,
    ok: { status: 200, schema: 'Overview' },
  },
  {
    method: 'get',
    path: '/api/v1/endpoints',
    role: 'viewer',
    tag: 'dashboard',
    summary: 'The inventory’s endpoints with live traffic, incidents, risk, and shadow / zombie flags',
    description:
      'Shadow: answered in live traffic but not in the stored inventory. Zombie: an older API version (`/v1/`) still called while a newer one of the same path exists. Risk: 0–100 from sensitive data, scenario, authentication, incidents and the flags, with its reasons.',
    ok: { status: 200, schema: 'EndpointList' },
  },
  {
    method: 'get',
    path: '/api/v1/endpoints/detail',
    role: 'viewer',
    tag: 'dashboard',
    summary:
      'One endpoint: its inventory entry, the profile’s thresholds for it, its per-minute traffic, incidents',
    query: endpointDetailQuery,
    ok: { status: 200, schema: 'EndpointDetail' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/inventory/openapi',
    role: 'viewer',
    tag: 'dashboard',
    summary: 'The latest inventory as an OpenAPI 3.1 document (a download: YAML, or JSON with format=json)',
    query: openApiQuery,
    ok: { status: 200, mediaType: 'application/yaml' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/actors/{kind}/{value}',
    role: 'viewer',
    tag: 'dashboard',
    summary:
      'An actor: its recent requests with their raw log lines, alerts, incidents, decisions, linked identities',
    description:
      'kind: ip, token (the 16-hex id), user or device; value URL-encoded. Recent requests and alerts come from the read model (the last requests of the most recently seen actors); 404 when nothing is known of the actor.',
    ok: { status: 200, schema: 'ActorDetail' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/incidents/{id}/graph',
    role: 'viewer',
    tag: 'dashboard',
    summary:
      'An incident’s actors (the first 40) and the ties seen between them (same requests, same alerts)',
    ok: { status: 200, schema: 'IncidentGraph' },
    errors: [404],
  },
  // ---- users and tokens
  {
    method: 'get',
    path: '/api/v1/users',
    role: 'admin',
    tag: 'access',
    summary: 'Users',
    ok: { status: 200, schema: 'UserList' },
  },
  {
    method: 'post',
    path: '/api/v1/users',
    role: 'admin',
    tag: 'access',
    summary: 'Create a user',
    body: createUserBody,
    ok: { status: 201, schema: 'UserEnvelope' },
    errors: [409],
  },
  {
    method: 'patch',
    path: '/api/v1/users/{name}',
    role: 'admin',
    tag: 'access',
    summary: 'Change a user’s role',
    body: setRoleBody,
    ok: { status: 200, schema: 'UserEnvelope' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/tokens',
    role: 'admin',
    tag: 'access',
    summary: 'API tokens (never their secrets), revoked ones included',
    query: tokensQuery,
    ok: { status: 200, schema: 'TokenList' },
  },
  {
    method: 'post',
    path: '/api/v1/tokens',
    role: 'admin',
    tag: 'access',
    summary: 'Create an API token; its secret is in this answer only',
    body: createTokenBody,
    ok: { status: 201, schema: 'CreatedToken' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/api/v1/tokens/{id}',
    role: 'admin',
    tag: 'access',
    summary: 'Revoke a token',
    ok: { status: 200, schema: 'Revoked' },
    errors: [404],
  },
];

const str = { type: 'string' };
const num = { type: 'number' };
const int = { type: 'integer' };
const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
const arr = (items: object) => ({ type: 'array', items });
const obj = (properties: Record<string, object>, required: string[] = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});
const page = (item: object) => obj({ items: arr(item), nextCursor: nullable(str), total: int });

const ERROR_STATUS: Record<number, string> = {
  400: 'Invalid input (invalid_json, invalid_body, invalid_query); `field` names the part',
  401: 'No token, or not a valid one (unauthorized)',
  403: 'The token’s role is too low (forbidden)',
  404: 'No such object (not_found)',
  409: 'Not possible in the current state (conflict, no_store)',
  413: 'The body is over the size limit (payload_too_large)',
  415: 'Wrong content type or encoding (unsupported_media_type)',
  429: 'Too many requests for this token (rate_limited); see Retry-After',
  503: 'Unavailable',
};

const schemas: Record<string, object> = {
  Any: {},
  Error: obj(
    {
      error: obj({ code: str, message: str, field: str }, ['code', 'message']),
    },
    ['error'],
  ),
  Health: obj({ status: { enum: ['ok', 'unavailable'] }, db: { enum: ['ok', 'error'] } }, ['status', 'db']),
  Me: obj({ user: str, role: { enum: ['viewer', 'analyst', 'admin'] }, tokenId: str }),
  Actor: obj({ kind: { enum: ['ip', 'device', 'token', 'user'] }, value: str }),
  IncidentSummary: obj(
    {
      id: str,
      status: str,
      severity: str,
      type: str,
      types: arr(str),
      score: num,
      confidence: num,
      actorCount: int,
      actors: arr(J('Actor')),
      endpointCount: int,
      endpoints: arr(str),
      requests: num,
      firstEventTs: num,
      detectedTs: num,
      lastEventTs: num,
      assignee: nullable(str),
      explanation: str,
      createdTs: num,
      updatedTs: num,
      decisions: obj({ active: int, proposed: int }),
    },
    ['id', 'status', 'severity', 'type', 'actorCount', 'actors', 'detectedTs', 'explanation'],
  ),
  Incident: {
    type: 'object',
    description:
      'The whole IncidentRecord (docs/output.md, docs/operations.md): detection fields plus workflow.',
    properties: {
      id: str,
      status: str,
      severity: str,
      type: str,
      types: arr(str),
      actors: arr(J('Actor')),
      endpoints: arr(str),
      evidence: arr({ type: 'object' }),
      explanation: str,
      assignee: nullable(str),
      notes: arr(obj({ ts: num, by: str, text: str })),
      statusTs: { type: 'object', additionalProperties: num },
    },
    required: ['id', 'status', 'severity', 'type', 'actors'],
  },
  Decision: {
    type: 'object',
    description: 'A decision (src/respond/types.ts, docs/operations.md).',
    properties: {
      id: str,
      action: { enum: ['block', 'rate_limit', 'challenge'] },
      scope: obj({ kind: { enum: ['ip', 'cidr', 'token', 'user', 'device'] }, value: str, endpoint: str }, [
        'kind',
        'value',
      ]),
      rateLimit: obj({ requests: int, perSeconds: int }),
      status: { enum: ['proposed', 'active', 'expired', 'revoked'] },
      origin: { enum: ['auto', 'manual'] },
      incidentId: str,
      reason: str,
      createdTs: num,
      expiresTs: nullable(num),
      offence: int,
    },
    required: ['id', 'action', 'scope', 'status', 'origin', 'reason', 'createdTs', 'expiresTs', 'offence'],
  },
  AuditEntry: obj(
    { seq: int, ts: num, by: str, action: str, target: str, data: { type: 'object' }, prev: str },
    ['seq', 'ts', 'by', 'action', 'target', 'prev'],
  ),
  IncidentPage: page(J('IncidentSummary')),
  DecisionPage: page(J('Decision')),
  IncidentDetail: obj({
    incident: J('Incident'),
    decisions: arr(J('Decision')),
    audit: arr(J('AuditEntry')),
  }),
  IncidentEnvelope: obj({ incident: J('Incident') }),
  TransitionResult: obj({
    incident: J('Incident'),
    effects: arr(str),
    revoked: arr(J('Decision')),
    profileChanged: { type: 'boolean' },
  }),
  ImportResult: obj({ incidents: int, created: int, updated: int, decisions: int, active: int }),
  DecisionList: obj({ decisions: arr(J('Decision')) }),
  DecisionEnvelope: obj({ decision: J('Decision') }),
  ApproveResult: obj({ decision: J('Decision'), incident: nullable(J('Incident')) }),
  ExpireResult: obj({ expired: arr(J('Decision')) }),
  BacktestReport: {
    type: 'object',
    description:
      'src/respond/backtest.ts: per decision the requests and actors it would have hit, and collateral.',
    properties: {
      from: nullable(num),
      to: nullable(num),
      storedRequests: int,
      decisions: arr({ type: 'object' }),
      total: { type: 'object' },
    },
  },
  ExportResult: obj({
    target: str,
    active: int,
    files: arr(obj({ name: str, contentType: str, bytes: int, content: str })),
    skipped: arr(obj({ decision: str, reason: str })),
  }),
  SnapshotInfo: obj({ id: int, ts: num, name: str }, ['id', 'ts']),
  Versions: obj({ versions: arr(J('SnapshotInfo')) }),
  InventorySnapshot: obj({
    id: int,
    ts: num,
    inventory: { type: 'object', description: 'inventory.json (docs/inventory.md)' },
  }),
  ProfileSnapshot: obj({
    id: int,
    ts: num,
    profile: { type: 'object', description: 'profile.json (docs/profiling.md)' },
  }),
  IngestResult: obj({
    accepted: int,
    malformed: int,
    blank: int,
    records: int,
    reasons: { type: 'object', additionalProperties: int, description: 'malformed records by reason' },
    errors: arr(obj({ record: int, reason: str, detail: str }, ['record', 'reason'])),
    format: str,
    detected: { type: 'boolean' },
  }),
  PipelineState: obj({
    pipeline: nullable({ type: 'object' }),
    profile: obj({ id: nullable(int), ts: nullable(num) }),
    ingest: { type: 'object' },
  }),
  FlushResult: obj({ events: int, alerts: int, incidents: int }),
  AuditPage: obj({ entries: arr(J('AuditEntry')), nextAfterSeq: nullable(int) }),
  AuditVerify: obj({ intact: { type: 'boolean' }, problem: nullable(str) }),
  User: obj({ id: int, name: str, role: { enum: ['viewer', 'analyst', 'admin'] }, createdTs: num }),
  UserList: obj({ users: arr(J('User')) }),
  UserEnvelope: obj({ user: J('User') }),
  Token: obj({
    id: str,
    user: str,
    role: str,
    label: str,
    createdTs: num,
    lastUsedTs: nullable(num),
    revokedTs: nullable(num),
  }),
  TokenList: obj({ tokens: arr(J('Token')) }),
  CreatedToken: obj({ token: J('Token'), secret: { type: 'string', description: 'shown once; keep it' } }),
  Revoked: obj({ revoked: str }),
  Series: {
    type: 'object',
    description: 'Per-minute values; `ts` holds the minute starts (ms epoch, event time).',
    properties: {
      stepMs: int,
      ts: arr(num),
      requests: arr(int),
      errors: arr(int),
      serverErrors: arr(int),
      alerts: arr(int),
      incidents: arr(int),
    },
    required: ['stepMs', 'ts'],
  },
  Overview: {
    type: 'object',
    description: 'src/server/routes/dashboard.ts; docs/dashboard.md.',
    properties: {
      now: num,
      series: J('Series'),
      totals: { type: 'object', additionalProperties: int },
      topEndpoints: arr(
        obj(
          {
            endpoint: str,
            incidents: int,
            open: int,
            actors: int,
            severity: str,
            requests: num,
            alerts: int,
            traffic: int,
          },
          ['endpoint', 'incidents'],
        ),
      ),
      topActors: arr(
        obj(
          {
            kind: str,
            value: str,
            incidents: int,
            openIncidents: int,
            severity: str,
            types: arr(str),
            requests: nullable(int),
          },
          ['kind', 'value', 'incidents'],
        ),
      ),
      busiestActors: arr(
        obj({ kind: str, value: str, requests: int, errors: int, lastTs: num, flagged: { type: 'boolean' } }),
      ),
      sensitive: obj({
        endpoints: arr({ type: 'object' }),
        byType: arr(obj({ type: str, endpoints: int, findings: int, distinctValues: int })),
        flaggedReceived: arr(obj({ type: str, requests: int, actors: int })),
      }),
      inventory: nullable(obj({ id: int, ts: num, endpoints: int })),
      ingest: { type: 'object' },
      pipeline: nullable({ type: 'object' }),
      readModel: { type: 'object' },
    },
    required: ['series', 'totals', 'topEndpoints', 'topActors', 'sensitive'],
  },
  EndpointRow: {
    type: 'object',
    properties: {
      endpoint: str,
      method: str,
      template: str,
      scenario: nullable(str),
      auth: nullable(str),
      sensitive: obj({ request: arr(str), response: arr(str) }),
      inventoryRequests: int,
      live: nullable({ type: 'object' }),
      incidents: int,
      risk: obj({ score: int, level: { enum: ['low', 'medium', 'high'] }, reasons: arr(str) }),
      shadow: { type: 'boolean' },
      zombie: { type: 'boolean' },
      notes: arr(str),
    },
    required: ['endpoint', 'method', 'template', 'risk', 'shadow', 'zombie'],
  },
  EndpointList: obj({
    inventory: nullable(obj({ id: int, ts: num, from: nullable(str), to: nullable(str) })),
    endpoints: arr(J('EndpointRow')),
  }),
  EndpointDetail: obj(
    {
      endpoint: str,
      row: nullable(J('EndpointRow')),
      inventory: nullable({ type: 'object', description: 'the inventory entry (docs/inventory.md)' }),
      profile: obj({ id: nullable(int), ts: nullable(num) }),
      thresholds: arr({ type: 'object' }),
      series: nullable(J('Series')),
      incidents: arr(J('IncidentSummary')),
    },
    ['endpoint', 'thresholds', 'incidents'],
  ),
  ActorDetail: obj(
    {
      actor: J('Actor'),
      tracked: { type: 'boolean' },
      summary: nullable({ type: 'object' }),
      requests: arr({
        type: 'object',
        description:
          'ts, method, path, endpoint, status, userAgent, ip, token, user, device, source, line, raw',
      }),
      alerts: arr({ type: 'object' }),
      incidents: arr(J('IncidentSummary')),
      decisions: arr(J('Decision')),
      linked: arr(obj({ kind: str, value: str, via: arr(str), incidents: arr(str) })),
    },
    ['actor', 'tracked', 'requests', 'alerts', 'incidents', 'decisions', 'linked'],
  ),
  IncidentGraph: obj({
    incident: str,
    nodes: arr(obj({ kind: str, value: str, requests: nullable(int), flagged: { type: 'boolean' } })),
    edges: arr(obj({ a: int, b: int, via: arr(str) })),
    more: int,
  }),
};

/** A zod schema as JSON Schema for the document (the input side: what a client sends). */
function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params: object[] = [];
    for (const m of r.path.matchAll(/\{(\w+)\}/g))
      params.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    if (r.query !== undefined) {
      const js = jsonSchema(r.query) as { properties?: Record<string, object>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {}))
        params.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
    }
    if (r.role === 'viewer' && r.path === '/api/v1/events')
      params.push({
        name: 'token',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'the API token, for EventSource',
      });
    const responses: Record<string, object> = {};
    const okContent = r.ok.mediaType
      ? { [r.ok.mediaType]: { schema: { type: 'string' } } }
      : { 'application/json': { schema: J(r.ok.schema ?? 'Any') } };
    responses[String(r.ok.status)] = { description: r.ok.description ?? 'OK', content: okContent };
    const errs = new Set<number>(r.errors ?? []);
    if (r.role !== null) {
      errs.add(401);
      if (r.role !== 'viewer') errs.add(403);
    }
    if (r.body !== undefined || r.query !== undefined) errs.add(400);
    for (const st of [...errs].sort())
      responses[String(st)] = {
        description: ERROR_STATUS[st] ?? 'Error',
        content: { 'application/json': { schema: J('Error') } },
      };
    const op: Record<string, unknown> = {
      tags: [r.tag],
      summary: r.summary,
      ...(r.description === undefined ? {} : { description: r.description }),
      operationId: `${r.method}${r.path
        .replace(/^\/api\/v1/, '')
        .replace(/\{(\w+)\}/g, 'By_$1')
        .replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      ...(r.role === null ? { security: [] } : { 'x-apiwarden-role': r.role }),
      ...(params.length === 0 ? {} : { parameters: params }),
      responses,
    };
    if (r.body !== undefined) {
      op.requestBody =
        'mediaType' in r.body
          ? {
              required: true,
              description: r.body.description,
              content: { [r.body.mediaType]: { schema: {} } },
            }
          : { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'apiwarden server API',
      version: '1',
      description:
        'Incidents, decisions, exports, ingest and live updates of `apiwarden serve` (docs/server.md). Every JSON answer is `application/json; charset=utf-8` with `x-content-type-options: nosniff`; errors are `{error: {code, message, field?}}`. Roles: viewer < analyst < admin; x-apiwarden-role names the least role of each operation.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: ['service', 'access', 'incidents', 'decisions', 'documents', 'ingest', 'audit', 'dashboard'].map(
      (name) => ({ name }),
    ),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token (awt_…): Authorization: Bearer <token>',
        },
      },
      schemas,
    },
  };
}
