/**
 * Feature specs: a feature is data — a key, a window, an aggregation and an optional filter — declared once
 * and computed by both engines (the stream engine, incrementally; the batch engine, as SQL over the store).
 * docs/features.md documents every field and the default set.
 */
import { z } from 'zod';

/** Fields of an enriched event a key can be made of. */
export const KEY_PARTS = ['ip', 'device', 'token', 'user', 'endpoint', 'host'] as const;
export type KeyPart = (typeof KEY_PARTS)[number];

/** Fields distinct counts and entropies can range over. */
export const VALUE_FIELDS = [
  'ip',
  'device',
  'token',
  'user',
  'endpoint',
  'path',
  'user_agent',
  'status',
  'host',
] as const;
export type ValueField = (typeof VALUE_FIELDS)[number];

/** Numeric fields quantiles and sums can range over. */
export const NUMERIC_FIELDS = ['latency_ms', 'bytes_out', 'bytes_in'] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

const ms = (what: string) =>
  z
    .number({ error: `${what} must be a number of milliseconds` })
    .int()
    .positive();

export const filterSchema = z.strictObject({
  /** Only events of these scenarios (src/inventory/scenario.ts). */
  scenario: z.array(z.string()).min(1).optional(),
  status: z.array(z.enum(STATUS_CLASSES)).min(1).optional(),
  method: z.array(z.string()).min(1).optional(),
  /** true: only static assets; false: everything but static assets. */
  static: z.boolean().optional(),
});
export type Filter = z.infer<typeof filterSchema>;

export const windowSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('tumbling'),
    sizeMs: ms('window.sizeMs'),
    latenessMs: z.number().int().min(0).default(0),
  }),
  z.strictObject({
    type: z.literal('hopping'),
    sizeMs: ms('window.sizeMs'),
    advanceMs: ms('window.advanceMs'),
    latenessMs: z.number().int().min(0).default(0),
  }),
  z.strictObject({
    type: z.literal('session'),
    gapMs: ms('window.gapMs'),
    latenessMs: z.number().int().min(0).default(0),
  }),
]);
export type WindowSpec = z.infer<typeof windowSchema>;

export const aggSchema = z.discriminatedUnion('fn', [
  z.strictObject({ fn: z.literal('count') }),
  /** Events per minute of the window (session windows: of the session's span, at least one minute). */
  z.strictObject({ fn: z.literal('rate_per_min') }),
  /** Distinct values: exact up to `exactLimit` (default 1024), HyperLogLog (p = 14) above. */
  z.strictObject({
    fn: z.literal('distinct'),
    field: z.enum(VALUE_FIELDS),
    exactLimit: z.number().int().positive().optional(),
  }),
  /** Share of the key's events in the window that also pass `where`. */
  z.strictObject({ fn: z.literal('ratio'), where: filterSchema }),
  /** Shannon entropy in bits of the field's values. */
  z.strictObject({ fn: z.literal('entropy'), field: z.enum(VALUE_FIELDS) }),
  /** The q-quantile (quantile_disc rank), within 1% relative error. */
  z.strictObject({ fn: z.literal('quantile'), field: z.enum(NUMERIC_FIELDS), q: z.number().min(0).max(1) }),
  z.strictObject({ fn: z.literal('sum'), field: z.enum(NUMERIC_FIELDS) }),
  /** Mean gap between consecutive events, ms (null below two events). */
  z.strictObject({ fn: z.literal('interarrival_mean') }),
  /** Coefficient of variation of the gaps (null below three events): near 0 for metronomic bots. */
  z.strictObject({ fn: z.literal('interarrival_cv') }),
  /** Share of consecutive numeric ids (last integer path segment) that step by 1 or 2: crawlers walk ids. */
  z.strictObject({ fn: z.literal('sequential_id_score') }),
  /** Distinct sensitive values received in responses (by hash). */
  z.strictObject({ fn: z.literal('sensitive_distinct') }),
  /** Share of events to endpoints first seen (by anyone) inside this window. */
  z.strictObject({ fn: z.literal('new_endpoint_share') }),
]);
export type AggSpec = z.infer<typeof aggSchema>;

export const featureSchema = z.strictObject({
  /** snake_case, unique: `requests_per_min_by_ip`. */
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'name must be snake_case: lower-case letters, digits and _'),
  description: z.string().optional(),
  key: z.array(z.enum(KEY_PARTS)).min(1).max(3),
  window: windowSchema,
  agg: aggSchema,
  filter: filterSchema.optional(),
});
export type FeatureSpec = z.infer<typeof featureSchema>;
export type FeatureInput = z.input<typeof featureSchema>;

/** Validates a list of feature specs; errors name the feature and the field. */
export function parseFeatures(
  input: unknown,
): { ok: true; value: FeatureSpec[] } | { ok: false; error: string[] } {
  const r = z.array(featureSchema).safeParse(input);
  if (!r.success) {
    return {
      ok: false,
      error: r.error.issues.map((i) => {
        const [idx, ...rest] = i.path;
        const name =
          Array.isArray(input) && typeof idx === 'number'
            ? (input[idx] as { name?: unknown })?.name
            : undefined;
        return `features[${String(idx)}]${typeof name === 'string' ? ` (${name})` : ''}.${rest.join('.')}: ${i.message}`;
      }),
    };
  }
  const seen = new Set<string>();
  const errors: string[] = [];
  r.data.forEach((f, i) => {
    if (seen.has(f.name)) errors.push(`features[${i}] (${f.name}).name: duplicate feature name`);
    seen.add(f.name);
    if (f.window.type === 'hopping' && f.window.sizeMs % f.window.advanceMs !== 0)
      errors.push(`features[${i}] (${f.name}).window.advanceMs: must divide sizeMs (${f.window.sizeMs})`);
  });
  return errors.length > 0 ? { ok: false, error: errors } : { ok: true, value: r.data };
}
