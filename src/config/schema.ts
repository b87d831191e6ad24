/**
 * The configuration file (YAML), validated in two passes: this strict schema (shape, types, units; no I/O),
 * then `checkConfig` in context (does the format exist, does it have what it needs). Every key is documented
 * in docs/configuration.md.
 */
import { z } from 'zod';
import { parseCidr } from '../core/net.js';
import { DEFAULT_EVENT_OPTIONS } from '../core/options.js';

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

export const configSchema = z.strictObject({
  input: inputSchema.default(inputSchema.parse({})),
  events: eventsSchema.default(eventsSchema.parse({})),
  quarantine: quarantineSchema.default(quarantineSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type InputConfig = z.infer<typeof inputSchema>;
export const defaultConfig = (): Config => configSchema.parse({});
