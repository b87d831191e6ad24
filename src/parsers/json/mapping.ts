/**
 * The generic `json` format: any JSON-lines log, read through a mapping from event fields to field paths
 * declared in the config file (`input.jsonMapping`):
 *
 *   input:
 *     format: json
 *     jsonMapping:
 *       ts: time                       # {"time": "2024-03-05T10:11:12Z", …}
 *       ip: remote.ip                  # {"remote": {"ip": "203.0.113.7"}}
 *       method: req.method
 *       target: req.url                # path and query, or an absolute URL
 *       status: res.code
 *       latencyMs: took_ms
 *       userAgent: req.headers.user-agent
 *       headers: req.headers
 *
 * Paths are dotted: `a.b.c` reads `o.a.b.c`; a key that itself contains dots is found too (`"http.status"`
 * as one key matches the path `http.status`, at any level). Array elements are addressed by index (`a.0`).
 *
 * MAPPABLE_KEYS below is the list of keys, with what each one expects. Required: one time key, `ip`,
 * `status`. Times: `ts` takes an ISO 8601 / RFC 3339 string, a Common Log Format string
 * (`10/Oct/2000:13:55:36 -0700`) or an epoch number (or numeric string) of any unit — seconds,
 * milliseconds, microseconds or nanoseconds, told apart by magnitude (valid for 2001–2286); `tsSeconds`,
 * `tsMs`, `tsUs`, `tsNs` take an epoch number of that exact unit. Durations: `latencyMs`, `latencySeconds`,
 * `latencyUs`, `latencyNs`, each in its unit. At most one key of each group.
 */

/** Every key a mapping may use, with a description for errors and docs. */
export const MAPPABLE_KEYS = {
  ts: 'event time: ISO 8601 string, CLF string, or epoch number/numeric string of any unit (by magnitude)',
  tsSeconds: 'event time as epoch seconds (fraction allowed)',
  tsMs: 'event time as epoch milliseconds',
  tsUs: 'event time as epoch microseconds',
  tsNs: 'event time as epoch nanoseconds',
  ip: 'connecting peer address (a port, `ip:port` / `[v6]:port`, is removed)',
  forwardedFor: 'raw X-Forwarded-For value (believed only when the peer is a trusted proxy)',
  realIp: 'raw X-Real-IP value (believed only when the peer is a trusted proxy)',
  requestLine: 'whole request line, `GET /path?q HTTP/1.1`',
  method: 'HTTP method',
  target: 'request target with query: `/path?q` or an absolute URL',
  path: 'request path (used when no target / request line is mapped)',
  query: 'raw query string without `?` (used with `path`)',
  host: 'Host the request was addressed to',
  protocol: 'HTTP version, `HTTP/1.1`',
  status: 'response status code (number or numeric string)',
  bytesOut: 'response bytes sent',
  bytesIn: 'request bytes received',
  latencyMs: 'duration in milliseconds',
  latencySeconds: 'duration in seconds',
  latencyUs: 'duration in microseconds',
  latencyNs: 'duration in nanoseconds',
  userAgent: 'User-Agent',
  referer: 'Referer',
  user: 'authenticated user name as the server logged it',
  consumer: 'API gateway consumer / application name',
  headers: 'request headers: an object {name: value} or an array of {name, value}',
  responseHeaders: 'response headers: an object {name: value} or an array of {name, value}',
  cookies: 'cookies: an object {name: value}',
  requestBody: 'request body (a string; other JSON values are serialized)',
  responseBody: 'response body (a string; other JSON values are serialized)',
} as const;

export type MappableKey = keyof typeof MAPPABLE_KEYS;

export const TIME_KEYS = ['ts', 'tsSeconds', 'tsMs', 'tsUs', 'tsNs'] as const;
export const LATENCY_KEYS = ['latencyMs', 'latencySeconds', 'latencyUs', 'latencyNs'] as const;
const REQUIRED = ['ip', 'status'] as const;

export const isMappableKey = (k: string): k is MappableKey => Object.hasOwn(MAPPABLE_KEYS, k);

/** A validated mapping: each mapped key with its path. */
export type JsonMapping = Partial<Record<MappableKey, string>>;

/**
 * Checks a mapping from the config file. Returns the problems as messages that name the bad key and, for
 * unknown keys, list the valid ones; an empty array means the mapping is usable.
 */
export function validateJsonMapping(mapping: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const valid = Object.keys(MAPPABLE_KEYS).join(', ');
  for (const [k, v] of Object.entries(mapping)) {
    if (!isMappableKey(k)) {
      errors.push(`jsonMapping: unknown key '${k}' (valid keys: ${valid})`);
      continue;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      errors.push(`jsonMapping.${k}: expected a field path such as 'req.method', got ${JSON.stringify(v)}`);
    } else if (v.startsWith('.') || v.endsWith('.') || v.includes('..')) {
      errors.push(`jsonMapping.${k}: '${v}' is not a field path (empty segment)`);
    }
  }
  const times = TIME_KEYS.filter((k) => mapping[k] !== undefined);
  if (times.length === 0) {
    errors.push(`jsonMapping: no event time mapped: set one of ${TIME_KEYS.join(', ')}`);
  } else if (times.length > 1) {
    errors.push(
      `jsonMapping: map only one of ${times.join(', ')} (they are the same field in different units)`,
    );
  }
  const lats = LATENCY_KEYS.filter((k) => mapping[k] !== undefined);
  if (lats.length > 1) {
    errors.push(
      `jsonMapping: map only one of ${lats.join(', ')} (they are the same field in different units)`,
    );
  }
  for (const k of REQUIRED) {
    if (mapping[k] === undefined) errors.push(`jsonMapping: '${k}' is required (${MAPPABLE_KEYS[k]})`);
  }
  return errors;
}

/** A compiled field path: reads a value out of a parsed object, undefined when absent. */
export type Getter = (o: Record<string, unknown>) => unknown;

/**
 * Compiles a dotted path. At each level the rest of the path is first tried as one literal key (for keys
 * with dots in them), then the next segment.
 */
export function compilePath(path: string): Getter {
  const segs = path.split('.');
  if (segs.length === 1) return (o) => o[path];
  if (segs.length === 2) {
    const [a, b] = segs as [string, string];
    return (o) => {
      const whole = o[path];
      if (whole !== undefined) return whole;
      const x = o[a];
      return typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[b] : undefined;
    };
  }
  const rests = segs.map((_, i) => segs.slice(i).join('.'));
  return (o) => {
    let cur: unknown = o;
    for (let i = 0; i < segs.length; i++) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      const c = cur as Record<string, unknown>;
      if (i < segs.length - 1) {
        const whole = c[rests[i]!];
        if (whole !== undefined) return whole;
      }
      cur = c[segs[i]!];
    }
    return cur;
  };
}
