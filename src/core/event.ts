/**
 * The normalized API event: every parser produces this, everything downstream consumes it.
 * Field-by-field documentation lives in docs/formats.md ("The event model"); keep the two in step.
 */

/** Where an event came from, so every finding can be traced back to the raw line. */
export interface Origin {
  /** The input: a file path, `stdin`, later `kafka:topic/partition`. */
  source: string;
  /** 1-based line number in that input (for HAR: the entry index, 1-based; for Kafka: the offset). */
  line: number;
}

/** Query string values: a repeated key keeps every value, in order. */
export type QueryParams = Record<string, string | string[]>;

export interface ApiEvent {
  /** Event time: when the request was received, milliseconds since the Unix epoch, UTC. */
  ts: number;
  /** The client IP after trusted-proxy resolution (X-Forwarded-For / X-Real-IP). */
  ip: string;
  /** HTTP method, upper-case as sent (`GET`); `-` when the request line was absent or unparseable. */
  method: string;
  /** The Host the request was addressed to, lower-case, without a default port; `null` when unknown. */
  host: string | null;
  /** The request path: no query, percent-decoded where safe, dot-segments resolved, `//` folded. */
  path: string;
  /** Query parameters, decoded; credentials under known credential keys are replaced by `[token:<id>]`. */
  query: QueryParams | null;
  /** Response status code; 0 when the client closed before a response (nginx 499 stays 499). */
  status: number;
  /** Response bytes sent to the client (body, or whole response when that is all the log has). */
  bytesOut: number | null;
  /** Request bytes received (request length or body length, per format). */
  bytesIn: number | null;
  /** Request duration in milliseconds (fractional). */
  latencyMs: number | null;
  userAgent: string | null;
  /** Referer with credential query values redacted like `query`. */
  referer: string | null;
  /** Actor: a credential identified ONLY as the first 16 hex chars of its SHA-256. */
  token: string | null;
  /** Actor: JWT `sub` (decoded, not verified), gateway consumer, or authenticated remote user. */
  user: string | null;
  /** Actor: device id from the configured header or cookie. */
  device: string | null;
  /** HTTP version as logged (`HTTP/1.1`), or null. */
  protocol: string | null;
  /** Request headers, lower-case names, present only when header capture is on; credentials redacted. */
  requestHeaders?: Record<string, string>;
  /** Response headers, lower-case names, present only when header capture is on. */
  responseHeaders?: Record<string, string>;
  /** Request body, truncated to the configured size, present only when body capture is on. */
  requestBody?: string;
  /** Response body, truncated to the configured size, present only when body capture is on. */
  responseBody?: string;
  /** True when a captured body was cut to the configured size. */
  bodyTruncated?: boolean;
  origin: Origin;
}

/** The actor kinds of the glossary; each is a field of ApiEvent. */
export const ACTOR_KINDS = ['ip', 'device', 'token', 'user'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];
