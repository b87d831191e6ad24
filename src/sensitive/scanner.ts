/**
 * The sensitive-data scanner the inventory and leakage detection call: it finds personal data, credentials and
 * secrets in the parts of an event (path, query, headers, bodies) and returns findings that name the type and
 * the field, with a mask for people and a hash for counting. Raw values stay inside this module.
 */
import type { ApiEvent, QueryParams } from '../core/event.js';
import { decodeQueryComponent } from '../core/path.js';
import { CustomMatcher } from './custom.js';
import { Detector, type Span } from './detect.js';
import { isPasswordKey } from './keys.js';
import { hashValue, maskValue } from './mask.js';
import {
  BUILTIN_TYPES,
  type BuiltinType,
  type CustomTypeConfig,
  type Finding,
  isBuiltinType,
} from './types.js';

export interface ScannerOptions {
  /** Custom types (config `sensitive.custom`); their patterns must pass `patternProblem`. */
  custom?: CustomTypeConfig[];
  /** Built-in types not to report (config `sensitive.disabled`). */
  disabled?: string[];
  /**
   * When set, hashes are HMAC-SHA-256 under this key instead of plain SHA-256 (config `sensitive.hashKey`):
   * the same value still gets the same hash within a deployment, but nobody without the key can confirm a
   * guessed phone number or SSN against a stored hash.
   */
  hashKey?: string | null;
  /** At most this many findings per scanned part (path, one query value, one body ...). Default 10,000. */
  maxFindings?: number;
  /** "Now" for the birth dates of CN IDs (tests pin it); default the clock. */
  nowMs?: number;
}

/**
 * Request headers that never carry the API's data: addressing and proxy headers (every request has IPs there,
 * and `ApiEvent.ip` already is the client), the browser's own identity, and the headers the normalizer has
 * already redacted.
 */
const SKIP_HEADERS = new Set([
  'host',
  'x-forwarded-for',
  'x-real-ip',
  'forwarded',
  'via',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-original-forwarded-for',
  'cf-connecting-ip',
  'true-client-ip',
  'x-client-ip',
  'x-envoy-external-address',
  'user-agent',
  'referer',
  'cookie',
  'set-cookie',
]);

const MAX_KEY_IN_PATH = 64;
const MAX_HASH_MEMO = 16_384;

/** The key a field path ends with (`body.user.passport_no` → `passport_no`), or null for `text` / `path`. */
function keyOf(field: string): string | null {
  const dot = field.lastIndexOf('.');
  if (dot === -1) return null;
  let k = field.slice(dot + 1);
  while (k.endsWith('[]')) k = k.slice(0, -2);
  return k === '' ? null : k;
}

/** A value of a JSON document being walked; `seg` is `[]` for array elements, null for object members. */
interface JsonNode {
  v: unknown;
  key: string | null;
  parent: JsonNode | null;
  seg: string | null;
}

/** `body.items[].phone`: the field path of a JSON node, from its ancestors. */
function pathOf(node: JsonNode): string {
  let path = '';
  for (let n: JsonNode | null = node; n !== null; n = n.parent) {
    const seg = n.seg ?? (n.key === null ? '' : `.${pathKey(n.key)}`);
    path = seg + path;
  }
  return path;
}

/** A JSON key as it appears in a field path: cut when absurdly long (keys are attacker-controlled). */
const pathKey = (k: string): string => (k.length > MAX_KEY_IN_PATH ? `${k.slice(0, MAX_KEY_IN_PATH)}…` : k);

/**
 * True for `a=1&b=2`-shaped text: printable ASCII without spaces (form encoding turns those into `+` and
 * `%20`), a `=` in the first pair, and not JSON or markup.
 */
function looksLikeForm(s: string): boolean {
  const eq = s.indexOf('=');
  if (eq <= 0) return false;
  const amp = s.indexOf('&');
  if (amp !== -1 && amp < eq) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 123 || c === 60 || c === 34) return false;
  }
  return true;
}

export class SensitiveScanner {
  private readonly detector: Detector;
  private readonly custom: CustomMatcher | null;
  private readonly hashKey: Buffer | null;
  private readonly maxFindings: number;
  /** Reused between calls: spans never outlive the call that made them. */
  private readonly spans: Span[] = [];
  /**
   * normalized value → hash, because the same customers' data comes back again and again and a SHA-256 is
   * most of the cost of a finding. In memory only (like the credential cache of the normalizer) and bounded:
   * attackers can make endless distinct values.
   */
  private readonly hashes = new Map<string, string>();

  constructor(options: ScannerOptions = {}) {
    const disabled = new Set(options.disabled ?? []);
    for (const d of disabled)
      if (!isBuiltinType(d))
        throw new Error(`unknown sensitive type '${d}' in disabled (valid: ${BUILTIN_TYPES.join(', ')})`);
    const enabled = new Set<BuiltinType>(BUILTIN_TYPES.filter((t) => !disabled.has(t)));
    this.maxFindings = options.maxFindings ?? 10_000;
    this.detector = new Detector({ enabled, maxSpans: this.maxFindings, nowMs: options.nowMs });
    const custom = options.custom ?? [];
    for (const c of custom)
      if (isBuiltinType(c.name))
        throw new Error(`custom sensitive type '${c.name}' has a built-in type's name`);
    this.custom = custom.length === 0 ? null : new CustomMatcher(custom);
    this.hashKey = options.hashKey ? Buffer.from(options.hashKey, 'utf8') : null;
  }

  /**
   * Findings in a text. `field` is where the text was (default `text`); its last segment is the field name
   * that gives context (`query.passport` makes nine digits a passport number, `body.password` makes the whole
   * text a password).
   */
  scanText(text: string, field = 'text'): Finding[] {
    const out: Finding[] = [];
    this.scanInto(text, field, keyOf(field), out);
    return out;
  }

  /** Walks a JSON value (object/array) giving each finding its field path; keys give context (password fields, passport). */
  scanJson(value: unknown, prefix = 'body'): Finding[] {
    const out: Finding[] = [];
    this.jsonInto(value, prefix, out);
    return out;
  }

  /**
   * A body string: JSON when it parses, form-urlencoded when it looks like it, else text. Fields are
   * `body.<json.path>` (array elements as `[]`: `body.items[].phone`), `body.<form key>`, or `body`. `side`
   * says which body it is; both are scanned alike today, and `scanEvent` keeps them apart.
   */
  scanBody(body: string, side: 'request' | 'response'): Finding[] {
    const out: Finding[] = [];
    this.bodyInto(body, side, out);
    return out;
  }

  /** Query parameters (`ApiEvent.query`): fields `query.<key>`, every value of a repeated key. */
  scanQuery(query: Record<string, string> | QueryParams | null): Finding[] {
    const out: Finding[] = [];
    this.queryInto(query, out);
    return out;
  }

  /**
   * Everything in one event: path, query, request body -> request; response body -> response. The last
   * event's result is kept: the inventory and the enricher both ask about the same event, one after the
   * other, and bodies are the costly part of a pass. Callers read the result; they do not change it.
   */
  scanEvent(e: ApiEvent): { request: Finding[]; response: Finding[] } {
    if (e === this.lastEvent) return this.lastResult!;
    const r = this.scanEventOnce(e);
    this.lastEvent = e;
    this.lastResult = r;
    return r;
  }

  private lastEvent: ApiEvent | null = null;
  private lastResult: { request: Finding[]; response: Finding[] } | null = null;

  private scanEventOnce(e: ApiEvent): { request: Finding[]; response: Finding[] } {
    const request: Finding[] = [];
    const response: Finding[] = [];
    this.scanInto(e.path, 'path', null, request);
    this.queryInto(e.query, request);
    if (e.requestHeaders !== undefined) this.headersInto(e.requestHeaders, request);
    if (e.requestBody !== undefined && e.requestBody !== '') this.bodyInto(e.requestBody, 'request', request);
    if (e.responseHeaders !== undefined) this.headersInto(e.responseHeaders, response);
    if (e.responseBody !== undefined && e.responseBody !== '')
      this.bodyInto(e.responseBody, 'response', response);
    return { request, response };
  }

  // -------------------------------------------------------------------------------------------------------

  private bodyInto(body: string, _side: 'request' | 'response', out: Finding[]): void {
    let k = 0;
    while (k < body.length && body.charCodeAt(k) <= 32) k++;
    const c = body.charCodeAt(k);
    if (c === 123 || c === 91 || c === 34) {
      let parsed: unknown;
      let ok = true;
      try {
        parsed = JSON.parse(body);
      } catch {
        // Not JSON after all (or cut at the capture size): scanned as text below.
        ok = false;
      }
      if (ok) {
        this.jsonInto(parsed, 'body', out);
        return;
      }
    } else if (looksLikeForm(body)) {
      this.formInto(body, out);
      return;
    }
    this.scanInto(body, 'body', null, out);
  }

  private formInto(body: string, out: Finding[]): void {
    for (const pair of body.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const key = decodeQueryComponent(pair.slice(0, eq));
      this.scanInto(decodeQueryComponent(pair.slice(eq + 1)), `body.${pathKey(key)}`, key, out);
    }
  }

  private queryInto(query: Record<string, string> | QueryParams | null, out: Finding[]): void {
    if (query === null) return;
    for (const key of Object.keys(query)) {
      const v = query[key]!;
      const field = `query.${pathKey(key)}`;
      if (typeof v === 'string') this.scanInto(v, field, key, out);
      else for (const one of v) this.scanInto(one, field, key, out);
    }
  }

  private headersInto(headers: Record<string, string>, out: Finding[]): void {
    for (const name of Object.keys(headers)) {
      if (SKIP_HEADERS.has(name)) continue;
      this.scanInto(headers[name]!, `header.${pathKey(name)}`, name, out);
    }
  }

  /**
   * Depth-first over the JSON value with an explicit stack (no recursion limit to hit on deeply nested
   * attacker input), in document order. Array elements keep the key of their array for context. A node's
   * field path is built only when something is found in it (most values hold nothing).
   */
  private jsonInto(value: unknown, prefix: string, out: Finding[]): void {
    const stack: JsonNode[] = [{ v: value, key: null, parent: null, seg: prefix }];
    while (stack.length > 0 && out.length < this.maxFindings) {
      const node = stack.pop()!;
      const v = node.v;
      if (typeof v === 'string') this.scanNode(v, node, out);
      else if (typeof v === 'number') {
        // Phone and card numbers are sometimes JSON numbers; small numbers cannot be anything we look for,
        // except under a password key (a numeric PIN-like password).
        if (Number.isSafeInteger(v) && (v >= 1e8 || (node.key !== null && isPasswordKey(node.key))))
          this.scanNode(String(v), node, out);
      } else if (Array.isArray(v)) {
        for (let k = v.length - 1; k >= 0; k--)
          stack.push({ v: v[k], key: node.key, parent: node, seg: '[]' });
      } else if (v !== null && typeof v === 'object') {
        const keys = Object.keys(v);
        for (let k = keys.length - 1; k >= 0; k--) {
          const name = keys[k]!;
          stack.push({ v: (v as Record<string, unknown>)[name], key: name, parent: node, seg: null });
        }
      }
    }
  }

  private scanNode(text: string, node: JsonNode, out: Finding[]): void {
    const before = out.length;
    this.scanInto(text, '', node.key, out);
    if (out.length === before) return;
    const field = pathOf(node);
    for (let k = before; k < out.length; k++) out[k]!.field = field;
  }

  private scanInto(text: string, field: string, key: string | null, out: Finding[]): void {
    if (text === '' || out.length >= this.maxFindings) return;
    const spans = this.spans;
    this.detector.scanValue(text, key, spans);
    if (this.custom !== null) this.custom.scan(text, key, spans, this.maxFindings);
    if (spans.length === 0) return;
    for (const s of spans) {
      if (out.length >= this.maxFindings) break;
      const f: Finding = {
        type: s.type,
        field,
        masked: maskValue(s.type, s.value, s.kind),
        hash: this.hashOf(s.value),
      };
      if (s.kind !== null) f.kind = s.kind;
      out.push(f);
    }
    spans.length = 0;
  }

  private hashOf(value: string): string {
    let h = this.hashes.get(value);
    if (h === undefined) {
      h = hashValue(value, this.hashKey);
      if (this.hashes.size >= MAX_HASH_MEMO) this.hashes.clear();
      this.hashes.set(value, h);
    }
    return h;
  }
}
