/**
 * AWS Application Load Balancer access logs: one space-separated entry per line, some fields in double quotes
 * (AWS docs, "Access log entries" for Application Load Balancers):
 *
 *   type time elb client:port target:port request_processing_time target_processing_time
 *   response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request"
 *   "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn"
 *   matched_rule_priority request_creation_time "actions_executed" "redirect_url" "error_reason"
 *   "target:port_list" "target_status_code_list" "classification" "classification_reason" conn_trace_id …
 *
 * AWS appends new fields at the end and tells parsers to ignore the ones they do not expect: only the first
 * 22 fields are read, and at least the first 13 (through "request") must be present.
 *
 * - ts: `request_creation_time` (when the load balancer received the request), else `time` (when it
 *   generated the response; for WebSockets when the connection closed).
 * - `client:port` is `ip:port` with IPv6 addresses unbracketed (`2001:db8::7:51234`): the port is what
 *   follows the last colon. The client is the peer: ALB logs no X-Forwarded-For.
 * - latency = request_processing_time + target_processing_time + response_processing_time (seconds, to ms).
 *   A time the load balancer could not measure is -1 and is left out of the sum; all three -1 → null.
 * - status is `elb_status_code` (what the client got), not `target_status_code`.
 * - `received_bytes` / `sent_bytes` are whole requests / responses (headers included) → bytesIn / bytesOut.
 * - "request" is `METHOD scheme://host:port/path?query HTTP/x.y`; the host comes from it (`:80`/`:443`
 *   dropped by the Normalizer). A request ALB could not parse is logged `"- - - "`: method and path `-`.
 */
import type { ApiEvent, Origin } from '../core/event.js';
import { EventDraft, type Normalizer } from '../core/normalize.js';
import { Malformed } from '../core/result.js';
import { IsoTimeParser } from './json/common.js';
import type { FormatSpec, LineParser, ParserContext } from './types.js';

/** Fields read: through request_creation_time. */
const WANTED = 22;
/** Fields that must be there: through "request". */
const REQUIRED = 13;

const F_TIME = 1;
const F_CLIENT = 3;
const F_REQ_TIME = 5;
const F_TARGET_TIME = 6;
const F_RESP_TIME = 7;
const F_STATUS = 8;
const F_RECEIVED = 10;
const F_SENT = 11;
const F_REQUEST = 12;
const F_USER_AGENT = 13;
const F_CREATED = 21;

/**
 * Splits up to `max` fields into `out`; returns how many. A field starting with `"` runs to the next `"`
 * that ends the field (followed by a space or the end of the line); `\"` and `\\` inside are unescaped.
 */
function splitFields(line: string, out: string[], max: number): number {
  const n = line.length;
  let i = 0;
  let count = 0;
  while (i < n && count < max) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (line.charCodeAt(i) === 34 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q === -1) {
          // Unterminated quote: the rest of the line is the field.
          j = n;
          break;
        }
        if (line.charCodeAt(q - 1) === 92 /* \ */ && q - 1 >= i + 1) {
          escaped = true;
          j = q + 1;
          continue;
        }
        if (q + 1 < n && line.charCodeAt(q + 1) !== 32) {
          j = q + 1;
          continue;
        }
        j = q;
        break;
      }
      const raw = line.slice(i + 1, j);
      out[count++] = escaped ? raw.replace(/\\(["\\])/g, '$1') : raw;
      i = j + 1;
    } else {
      let j = line.indexOf(' ', i);
      if (j === -1) j = n;
      out[count++] = line.slice(i, j);
      i = j;
    }
  }
  return count;
}

/** Seconds as logged (`0.001`, `-1`) to ms; NaN for -1 and junk. */
function seconds(s: string): number {
  if (s === '-1' || s === '-') return Number.NaN;
  const n = Number(s);
  return s !== '' && n >= 0 ? n * 1000 : Number.NaN;
}

const int = (s: string): number => (s === '-' || s === '' ? Number.NaN : Number(s));

/** `ip:port` → ip, for IPv4 and unbracketed IPv6 alike (`[v6]:port` is accepted too). */
export function albClientIp(s: string): string {
  if (s.charCodeAt(0) === 91 /* [ */) {
    const end = s.indexOf(']');
    return end === -1 ? s : s.slice(1, end);
  }
  const colon = s.lastIndexOf(':');
  return colon === -1 ? s : s.slice(0, colon);
}

export class AlbParser implements LineParser {
  readonly format = 'alb';
  readonly framing = 'line' as const;
  private readonly draft = new EventDraft();
  private readonly fields: string[] = new Array<string>(WANTED).fill('');
  private readonly created = new IsoTimeParser();
  private readonly time = new IsoTimeParser();

  constructor(private readonly normalizer: Normalizer) {}

  parseLine(line: string, origin: Origin): ApiEvent | Malformed {
    const f = this.fields;
    const count = splitFields(line, f, WANTED);
    if (count < REQUIRED) {
      return new Malformed(
        'format_mismatch',
        `expected at least ${REQUIRED} fields of an ALB entry, found ${count}`,
      );
    }
    const d = this.draft.reset();
    let ts = count > F_CREATED ? this.created.parse(f[F_CREATED]!) : Number.NaN;
    if (Number.isNaN(ts)) ts = this.time.parse(f[F_TIME]!);
    if (Number.isNaN(ts))
      return new Malformed('bad_timestamp', `time '${f[F_TIME]!.slice(0, 40)}' is not ISO 8601`);
    d.ts = ts;
    const client = f[F_CLIENT]!;
    d.peer = client === '-' ? '' : albClientIp(client);

    const a = seconds(f[F_REQ_TIME]!);
    const b = seconds(f[F_TARGET_TIME]!);
    const c = seconds(f[F_RESP_TIME]!);
    if (!(Number.isNaN(a) && Number.isNaN(b) && Number.isNaN(c))) {
      // Sum in µs to keep `0.001 + 0.002` an exact 3 ms.
      const us =
        (Number.isNaN(a) ? 0 : Math.round(a * 1000)) +
        (Number.isNaN(b) ? 0 : Math.round(b * 1000)) +
        (Number.isNaN(c) ? 0 : Math.round(c * 1000));
      d.latencyMs = us / 1000;
    }
    d.status = int(f[F_STATUS]!);
    d.bytesIn = int(f[F_RECEIVED]!);
    d.bytesOut = int(f[F_SENT]!);
    const req = f[F_REQUEST]!.trim();
    d.requestLine = req.startsWith('- ') || req === '' ? '-' : req;
    if (count > F_USER_AGENT) d.userAgent = f[F_USER_AGENT]!;
    return this.normalizer.finalize(d, origin);
  }
}

const ALB_LINE =
  /^(?:https?|h2|grpcs|wss?) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z \S+ \S+ \S+ -?[\d.]+ -?[\d.]+ -?[\d.]+ /;
const DETECT_LINES = 20;

/**
 * Share of the first non-blank sample lines that start like an ALB entry. The sample's last line may be cut:
 * unless the sample ends with a newline, that line counts only when it matches.
 */
export function detectAlb(sample: string): number {
  const lines = sample.split('\n');
  const cut = !sample.endsWith('\n');
  let seen = 0;
  let hits = 0;
  for (let i = 0; i < lines.length && seen < DETECT_LINES; i++) {
    const l = lines[i]!;
    if (l.trim() === '') continue;
    const hit = ALB_LINE.test(l);
    if (!hit && cut && i === lines.length - 1) break;
    seen++;
    if (hit) hits++;
  }
  return seen === 0 ? 0 : hits / seen;
}

export const albFormat: FormatSpec = {
  name: 'alb',
  description: 'AWS Application Load Balancer access logs',
  framing: 'line',
  create: (ctx: ParserContext) => new AlbParser(ctx.normalizer),
  detect: detectAlb,
};
