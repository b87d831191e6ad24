/**
 * The JSON API's inputs as zod schemas: request bodies and query strings. The routes validate with these
 * and the OpenAPI document (openapi.ts) is generated from the same schemas, so the two cannot drift. A
 * failed check is a 400 naming the field (`scope.value`, `limit`).
 *
 * Strings that end up in the state (notes, reasons, names) are bounded in length here; what they contain is
 * data wherever it goes (bound SQL parameters, escaped JSON).
 */
import { z } from 'zod';
import { INCIDENT_STATUSES } from '../detect/incidents.js';
import { ANOMALY_TYPES, SEVERITIES } from '../detect/types.js';
import { EXPORT_TARGETS } from '../respond/export/index.js';
import { parseDuration } from '../respond/policy.js';
import { checkScope } from '../respond/scope.js';
import { DECISION_ACTIONS, DECISION_STATUSES, SCOPE_KINDS } from '../respond/types.js';
import { ROLES } from '../store/state/pg-state.js';

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { message: `expected one of ${values.join(', ')}` });

/** A query-string integer in [min, max]. */
const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const text = (max: number) => z.string().max(max, { message: `at most ${max} characters` });
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const name = (max: number) =>
  z
    .string()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `at most ${max} characters` })
    .regex(NO_CONTROL, { message: 'no control characters' });

export const pageQuery = {
  limit: queryInt(1, 500).optional(),
  cursor: z.string().max(512).optional(),
  order: oneOf(['asc', 'desc'] as const).optional(),
};

export const incidentListQuery = z.object({
  status: oneOf(INCIDENT_STATUSES).optional(),
  type: oneOf(ANOMALY_TYPES).optional(),
  minSeverity: oneOf(SEVERITIES).optional(),
  assignee: z.string().max(200).optional(),
  ...pageQuery,
});

export const transitionBody = z.strictObject({
  to: oneOf(INCIDENT_STATUSES),
  note: text(10_000).optional(),
  assignee: name(200).optional(),
});

export const noteBody = z.strictObject({ text: text(10_000).min(1, { message: 'must not be empty' }) });
export const assignBody = z.strictObject({ assignee: name(200) });

export const decisionListQuery = z.object({
  status: oneOf(DECISION_STATUSES).optional(),
  incident: z.string().max(200).optional(),
  ...pageQuery,
});

export const scopeSchema = z
  .strictObject({
    kind: oneOf(SCOPE_KINDS),
    value: z.string().min(1, { message: 'must not be empty' }).max(1000),
    endpoint: z.string().max(2000).optional(),
  })
  .superRefine((s, ctx) => {
    // The same checks as the CLI's --scope (src/respond/scope.ts).
    const r = checkScope(s.kind, s.value, s.endpoint);
    if (!r.ok)
      ctx.addIssue({
        code: 'custom',
        message: r.error.message,
        path: [r.error.part === 'scope' ? 'value' : r.error.part],
      });
  });

export const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000_000),
  perSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400 * 365),
});

/** `30m`, `1h`, `7d`; null: until revoked. */
const ttlSchema = z
  .string()
  .nullable()
  .superRefine((s, ctx) => {
    if (s !== null && parseDuration(s) === null)
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration such as 30m, 1h or 7d, or null, got '${s}'`,
      });
  });

export const manualDecisionBody = z.strictObject({
  action: oneOf(DECISION_ACTIONS),
  scope: scopeSchema,
  /** Default 1h, as the CLI. */
  ttl: ttlSchema.optional(),
  rateLimit: rateLimitSchema.optional(),
  reason: text(1000).optional(),
  incidentId: z.string().min(1).max(200).optional(),
});

export const revokeBody = z.strictObject({ reason: text(1000).optional() });

/** An ISO 8601 time or ms since the epoch. */
const timeSchema = z.union([z.number().finite(), z.string()]).transform((v, ctx) => {
  const t = typeof v === 'number' ? v : Date.parse(v);
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 time or ms since the epoch, got '${v}'` });
    return z.NEVER;
  }
  return t;
});

export const backtestBody = z
  .strictObject({
    /** These decisions (default: proposed and active ones). */
    decisions: z.array(z.string().max(200)).max(1000).optional(),
    /** Every decision in the state, whatever its status. */
    all: z.boolean().optional(),
    /** A hypothetical decision instead. */
    scope: scopeSchema.optional(),
    action: oneOf(DECISION_ACTIONS).optional(),
    rateLimit: rateLimitSchema.optional(),
    from: timeSchema.optional(),
    to: timeSchema.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.scope !== undefined && (b.decisions !== undefined || b.all === true))
      ctx.addIssue({
        code: 'custom',
        message: 'give scope (a hypothetical decision) or decisions/all, not both',
        path: ['scope'],
      });
  });

export const exportParams = z.object({ target: oneOf(EXPORT_TARGETS) });
export const exportQuery = z.object({
  file: z.string().max(500).optional(),
  awsScope: oneOf(['REGIONAL', 'CLOUDFRONT'] as const).optional(),
});

export const createUserBody = z.strictObject({ name: name(100), role: oneOf(ROLES) });
export const setRoleBody = z.strictObject({ role: oneOf(ROLES) });
export const createTokenBody = z.strictObject({
  user: name(100),
  label: text(200).regex(NO_CONTROL, { message: 'no control characters' }).optional(),
});
export const tokensQuery = z.object({ user: z.string().max(100).optional() });

export const auditQuery = z.object({
  target: z.string().max(500).optional(),
  /** Entries after this sequence number (the cursor). */
  afterSeq: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: queryInt(1, 1000).optional(),
});

export const ingestQuery = z.object({
  format: z.string().max(64).optional(),
  envelope: z
    .string()
    .max(64)
    .regex(/^[\w.-]+$/, { message: 'expected auto, none or a field name' })
    .optional(),
});

const actorSchema = z.looseObject({
  kind: oneOf(['ip', 'device', 'token', 'user'] as const),
  value: z.string(),
});

/** An incident as `apiwarden analyze` writes it (incidents.jsonl); the fields the state relies on are checked. */
export const incidentSchema = z.looseObject({
  id: z.string().min(1).max(200),
  type: oneOf(ANOMALY_TYPES),
  types: z.array(oneOf(ANOMALY_TYPES)),
  severity: oneOf(SEVERITIES),
  score: z.number(),
  confidence: z.number(),
  actors: z.array(actorSchema).min(1),
  endpoints: z.array(z.string()),
  firstEventTs: z.number(),
  detectedTs: z.number(),
  lastEventTs: z.number(),
  requests: z.number(),
  alerts: z.array(z.string()),
  evidence: z.array(z.looseObject({ feature: z.string() })),
  explanation: z.string(),
});

export const importBody = z.strictObject({ incidents: z.array(incidentSchema).max(10_000) });

export const inventoryBody = z.looseObject({
  version: z.literal(1),
  events: z.number(),
  endpoints: z.array(z.looseObject({ method: z.string(), template: z.string() })),
});
