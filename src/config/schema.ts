/**
 * The configuration file (YAML), validated in two passes: this strict schema (shape, types, units; no I/O),
 * then `checkConfig` in context (does the format exist, does it have what it needs). Every key is documented
 * in docs/configuration.md.
 */
import { z } from 'zod';
import { parseCidr } from '../core/net.js';
import { DEFAULT_EVENT_OPTIONS } from '../core/options.js';
import { ANOMALY_TYPES } from '../detect/types.js';
import { INTEL_CATEGORIES, INTEL_KINDS, MIN_REFRESH_MS } from '../enrich/intel.js';
import { notificationsSchema } from '../respond/notify.js';
import { responseSchema } from '../respond/policy.js';
import { MAX_CUSTOM_TYPES, patternProblem } from '../sensitive/custom.js';
import { BUILTIN_TYPES, isBuiltinType, VALIDATOR_NAMES } from '../sensitive/types.js';

const cidr = z.string().refine((s) => parseCidr(s) !== null, {
  message: 'expected an IP address or CIDR such as 10.0.0.0/8 or 2001:db8::/32',
});
const headerName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'expected an HTTP header name such as x-device-id' })
  .transform((s) => s.toLowerCase());
const bytes = (def: number) =>
  z
    .number()
    .int()
    .positive()
    .max(1 << 30)
    .default(def);

export const eventsSchema = z.strictObject({
  trustedProxies: z.array(cidr).default(DEFAULT_EVENT_OPTIONS.trustedProxies),
  deviceHeader: headerName.default(DEFAULT_EVENT_OPTIONS.deviceHeader),
  deviceCookie: z.string().min(1).nullable().default(DEFAULT_EVENT_OPTIONS.deviceCookie),
  apiKeyHeaders: z.array(headerName).default(DEFAULT_EVENT_OPTIONS.apiKeyHeaders),
  credentialCookies: z.array(z.string().min(1)).default(DEFAULT_EVENT_OPTIONS.credentialCookies),
  credentialQueryKeys: z.array(z.string().min(1)).default(DEFAULT_EVENT_OPTIONS.credentialQueryKeys),
  captureHeaders: z.boolean().default(false),
  captureBodies: z.boolean().default(false),
  maxBodyBytes: bytes(DEFAULT_EVENT_OPTIONS.maxBodyBytes),
});

export const inputSchema = z.strictObject({
  /** A format name from `apiwarden formats`, or `auto`. */
  format: z.string().min(1).default('auto'),
  /** nginx `log_format` / Apache `LogFormat` string for the `nginx` / `apache` formats. */
  logFormat: z.string().min(1).optional(),
  /** Field paths for the generic `json` format. */
  jsonMapping: z.record(z.string(), z.string()).optional(),
  maxLineBytes: bytes(1 << 20),
  maxDocumentBytes: bytes(256 << 20),
  follow: z.boolean().default(false),
  pollMs: z.number().int().min(10).max(60_000).default(250),
  startAt: z.enum(['beginning', 'end']).default('beginning'),
});

export const quarantineSchema = z.strictObject({
  /** Where malformed records are kept (JSON lines); null keeps none. */
  path: z.string().min(1).nullable().default(null),
  /** How many malformed records are kept at most (all are counted). */
  maxRecords: z.number().int().min(0).max(10_000_000).default(1000),
  /** Characters of each malformed record kept. */
  sampleChars: z
    .number()
    .int()
    .min(16)
    .max(1 << 20)
    .default(2048),
});

const flagsOk = (f: string): boolean => /^[imsu]*$/.test(f) && new Set(f).size === f.length;

/** A custom sensitive type (docs/sensitive.md, "Custom types"). */
export const customTypeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, {
        message:
          'expected a type name of lower-case letters, digits and _ starting with a letter, such as employee_id',
      })
      .refine((n) => !isBuiltinType(n), {
        message: `is the name of a built-in type; choose another name (built-in: ${BUILTIN_TYPES.join(', ')})`,
      }),
    /** A JavaScript regular expression source; its first capture group, when it has one, is the value. */
    pattern: z.string().min(1, { message: 'expected a regular expression such as \\bEMP-\\d{6}\\b' }),
    validator: z
      .enum(VALIDATOR_NAMES, { message: `expected one of ${VALIDATOR_NAMES.join(', ')}` })
      .optional(),
    /** Keywords of which one must appear near the match or in the field name. */
    context: z
      .array(z.string().min(1))
      .min(1, { message: 'expected at least one keyword, or no context key' })
      .optional(),
    flags: z
      .string()
      .refine(flagsOk, {
        message: 'expected RegExp flags among i, m, s, u, each at most once (g is added by the scanner)',
      })
      .optional(),
  })
  .superRefine((t, ctx) => {
    // Compiled here, so a bad pattern stops the run at start-up with its field named, not at the first body.
    if (t.flags !== undefined && !flagsOk(t.flags)) return;
    const problem = patternProblem(t.pattern, t.flags ?? '');
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
  });

export const sensitiveSchema = z.strictObject({
  custom: z
    .array(customTypeSchema)
    .max(MAX_CUSTOM_TYPES, { message: `expected at most ${MAX_CUSTOM_TYPES} custom types` })
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((t, i) => {
        if (seen.has(t.name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `'${t.name}' is defined twice; give each custom type its own name`,
          });
        seen.add(t.name);
      });
    }),
  /** Built-in types not to report. */
  disabled: z
    .array(z.enum(BUILTIN_TYPES, { message: `expected a built-in type: ${BUILTIN_TYPES.join(', ')}` }))
    .default([]),
  /** A secret that makes finding hashes HMAC-SHA-256 (so hashes of phone numbers cannot be brute-forced). */
  hashKey: z
    .string()
    .min(16, {
      message: 'expected at least 16 characters of a random secret (e.g. the output of openssl rand -hex 32)',
    })
    .nullable()
    .default(null),
});

/** One threat-intel list (docs/intel.md, "Configuration"). */
export const intelSourceSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
      message: 'expected a list name of letters, digits, _ . - (at most 64), such as tor-exits',
    }),
    kind: z.enum(INTEL_KINDS, { message: `expected one of ${INTEL_KINDS.join(', ')}` }),
    /** Default per kind: tor → tor, aws and gcp → datacenter, useragent → scanner; required for ip. */
    category: z
      .enum(INTEL_CATEGORIES, { message: `expected one of ${INTEL_CATEGORIES.join(', ')}` })
      .optional(),
    /** Whose network the list names (aws and gcp set their own). */
    provider: z.string().min(1).max(64).optional(),
    file: z.string().min(1, { message: 'expected a path to the list file' }).optional(),
    url: z
      .string()
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
        message: 'expected an http:// or https:// URL such as https://check.torproject.org/torbulkexitlist',
      })
      .optional(),
    refreshMs: z
      .number()
      .int()
      .min(MIN_REFRESH_MS, { message: `expected at least ${MIN_REFRESH_MS} (one minute)` })
      .max(7 * 86_400_000, { message: 'expected at most 604800000 (a week)' })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.file !== undefined && s.url !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'give either file or url, not both; remove one of them',
      });
    if (s.file === undefined && s.url === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'says nowhere to read the list from; add file: <path> or url: <http(s) URL>',
      });
    if (s.kind === 'ip' && s.category === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['category'],
        message: `is required for kind ip; choose one of ${INTEL_CATEGORIES.join(', ')}`,
      });
  });

export const intelSchema = z.strictObject({
  sources: z
    .array(intelSourceSchema)
    .max(64, { message: 'expected at most 64 intel sources' })
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((s, i) => {
        if (seen.has(s.name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `'${s.name}' is used twice; give each intel source its own name`,
          });
        seen.add(s.name);
      });
    }),
  /** How long one download may take. */
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** The largest list accepted (a file or a download). */
  maxBytes: bytes(64 << 20),
});

/**
 * A detection rule (docs/detection.md, "Rules"): a detection feature judged against a static limit (`above`),
 * or against the profile's statistics of that feature: a z-score (`zAbove`), a robust z-score with the median
 * and MAD (`robustZAbove`), or a percentile of the actors' peaks (`percentileAbove`). Exactly one of the four.
 * Feature names are checked against the detection feature set when the rules are built.
 */
export const ruleSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
      message: 'expected a rule name of letters, digits, _ . - (at most 64), such as login-burst',
    }),
    feature: z.string().min(1, { message: 'expected a detection feature name, such as rpm_by_ip_endpoint' }),
    /** Only this endpoint (`METHOD /template`), for per-endpoint features. */
    endpoint: z.string().min(1).optional(),
    above: z.number().min(0).optional(),
    zAbove: z.number().positive().optional(),
    robustZAbove: z.number().positive().optional(),
    percentileAbove: z.number().gt(0).lt(100).optional(),
    type: z.enum(ANOMALY_TYPES, { message: `expected one of ${ANOMALY_TYPES.join(', ')}` }),
    severity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
  })
  .superRefine((r, ctx) => {
    const given = (['above', 'zAbove', 'robustZAbove', 'percentileAbove'] as const).filter(
      (k) => r[k] !== undefined,
    );
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: given.length === 0 ? [] : [given[1]!],
        message:
          given.length === 0
            ? 'give one limit: above (static), zAbove, robustZAbove or percentileAbove'
            : `give one limit, not ${given.join(' and ')}; keep one of them`,
      });
  });

export const detectionSchema = z.strictObject({
  rules: z
    .array(ruleSchema)
    .max(256, { message: 'expected at most 256 rules' })
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((r, i) => {
        if (seen.has(r.name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `'${r.name}' is used twice; give each rule its own name`,
          });
        seen.add(r.name);
      });
    }),
});

export const configSchema = z.strictObject({
  input: inputSchema.default(inputSchema.parse({})),
  events: eventsSchema.default(eventsSchema.parse({})),
  quarantine: quarantineSchema.default(quarantineSchema.parse({})),
  sensitive: sensitiveSchema.default(sensitiveSchema.parse({})),
  intel: intelSchema.default(intelSchema.parse({})),
  detection: detectionSchema.default(detectionSchema.parse({})),
  /** Decisions, their policy and allow-lists (docs/operations.md). */
  response: responseSchema.prefault({}),
  /** Signed webhooks and Slack messages for incidents and decisions (docs/notifications.md). */
  notifications: notificationsSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type InputConfig = z.infer<typeof inputSchema>;
export type SensitiveConfig = z.infer<typeof sensitiveSchema>;
export type IntelConfig = z.infer<typeof intelSchema>;
export type IntelSourceConfig = z.infer<typeof intelSourceSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export const defaultConfig = (): Config => configSchema.parse({});
