/**
 * Mergeable per-endpoint statistics: a log-bucket latency histogram, bounded value tallies for parameters and
 * a bounded JSON-schema inference for bodies. Endpoints found early under a literal path are merged into their
 * template at the end, so everything here merges.
 */
import { type ValueFormat, type ValueType, valueType } from './shape.js';

/** Latency histogram: buckets of ~5% relative width from 0.01 ms to ~10 min; quantiles within 5%. */
export class LogHistogram {
  static readonly BASE = 1.05;
  static readonly MIN = 0.01;
  static readonly SIZE = 370;
  readonly counts = new Uint32Array(LogHistogram.SIZE);
  n = 0;
  max = 0;

  add(v: number): void {
    if (!(v >= 0)) return;
    const i =
      v <= LogHistogram.MIN
        ? 0
        : Math.min(
            LogHistogram.SIZE - 1,
            1 + Math.floor(Math.log(v / LogHistogram.MIN) / Math.log(LogHistogram.BASE)),
          );
    this.counts[i]!++;
    this.n++;
    if (v > this.max) this.max = v;
  }

  merge(o: LogHistogram): void {
    for (let i = 0; i < LogHistogram.SIZE; i++) this.counts[i]! += o.counts[i]!;
    this.n += o.n;
    if (o.max > this.max) this.max = o.max;
  }

  /** The q-quantile (bucket midpoint), or null with no data. */
  quantile(q: number): number | null {
    if (this.n === 0) return null;
    const target = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < LogHistogram.SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= target) {
        if (i === 0) return LogHistogram.MIN;
        const lo = LogHistogram.MIN * LogHistogram.BASE ** (i - 1);
        return Math.min(this.max, Math.round(lo * Math.sqrt(LogHistogram.BASE) * 1000) / 1000);
      }
    }
    return this.max;
  }
}

/** At most this many distinct values are tallied per parameter (enough to spot an enumeration). */
export const MAX_VALUES = 24;
/** A parameter whose distinct values stay at or below this, over at least ENUM_MIN_COUNT requests, is an enum. */
export const ENUM_MAX = 12;
export const ENUM_MIN_COUNT = 30;

/** What was seen of one parameter (query key, or body field path). */
export class ParamStats {
  /** Requests that carried it. */
  count = 0;
  readonly types: Record<string, number> = {};
  readonly formats: Record<string, number> = {};
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** Distinct values with counts, until more than MAX_VALUES are seen (then `overflow`). */
  values: Map<string, number> | null = new Map();
  maxLength = 0;

  addString(v: string): void {
    const t = valueType(v);
    this.note(t.type, t.format, v);
    if (t.type === 'integer' || t.type === 'number') this.range(Number(v));
  }

  /** A JSON value (body field): its JSON type decides. */
  addJson(v: unknown): void {
    if (typeof v === 'string') {
      const t = valueType(v);
      // A JSON string that holds digits is still a string on the wire.
      this.note('string', t.type === 'string' ? t.format : null, v);
    } else if (typeof v === 'number') {
      this.note(Number.isInteger(v) ? 'integer' : 'number', null, String(v));
      this.range(v);
    } else if (typeof v === 'boolean') this.note('boolean', null, String(v));
    else if (v === null) this.note('null', null, 'null');
    else if (Array.isArray(v)) this.note('array', null, null);
    else this.note('object', null, null);
  }

  private note(type: string, format: ValueFormat, v: string | null): void {
    this.count++;
    this.types[type] = (this.types[type] ?? 0) + 1;
    if (format !== null) this.formats[format] = (this.formats[format] ?? 0) + 1;
    if (v === null) return;
    if (v.length > this.maxLength) this.maxLength = v.length;
    // Credentials are never tallied, even redacted.
    if (format === 'credential' || this.values === null) return;
    const key = v.length > 64 ? `${v.slice(0, 64)}…` : v;
    const c = this.values.get(key);
    if (c !== undefined) this.values.set(key, c + 1);
    else if (this.values.size < MAX_VALUES) this.values.set(key, 1);
    else this.values = null;
  }

  private range(x: number): void {
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  merge(o: ParamStats): void {
    this.count += o.count;
    for (const k in o.types) this.types[k] = (this.types[k] ?? 0) + o.types[k]!;
    for (const k in o.formats) this.formats[k] = (this.formats[k] ?? 0) + o.formats[k]!;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    if (o.maxLength > this.maxLength) this.maxLength = o.maxLength;
    if (this.values === null || o.values === null) this.values = null;
    else {
      for (const [v, c] of o.values) {
        const cur = this.values.get(v);
        if (cur !== undefined) this.values.set(v, cur + c);
        else if (this.values.size < MAX_VALUES) this.values.set(v, c);
        else {
          this.values = null;
          break;
        }
      }
    }
  }

  /** The dominant type, widened: integer + number → number; anything with string → string. */
  type(): ValueType | 'null' | 'array' | 'object' {
    const ks = Object.keys(this.types);
    if (ks.length === 1) return ks[0] as ValueType;
    const has = (k: string) => (this.types[k] ?? 0) > 0;
    if (has('string')) return 'string';
    if (has('number') || has('integer')) return has('number') ? 'number' : 'integer';
    return (ks.sort((a, b) => this.types[b]! - this.types[a]!)[0] ?? 'string') as ValueType;
  }

  /** A format held by at least 95% of values. */
  format(): string | null {
    for (const k in this.formats) if (this.formats[k]! >= this.count * 0.95) return k;
    return null;
  }

  enumValues(): string[] | null {
    if (this.values === null || this.count < ENUM_MIN_COUNT || this.values.size > ENUM_MAX) return null;
    // Redacted values (passwords) and credentials are not an enumeration.
    if (this.format() === 'credential' || this.values.has('[redacted]')) return null;
    return [...this.values.keys()].sort();
  }
}

/** A map of ParamStats by name, mergeable. */
export class ParamSet {
  readonly params = new Map<string, ParamStats>();
  /** Requests this set saw (for required-rate). */
  requests = 0;
  /** Cap on distinct names: attackers can send endless keys. */
  static readonly MAX_PARAMS = 200;

  get(name: string): ParamStats | null {
    let p = this.params.get(name);
    if (p === undefined) {
      if (this.params.size >= ParamSet.MAX_PARAMS) return null;
      p = new ParamStats();
      this.params.set(name, p);
    }
    return p;
  }

  merge(o: ParamSet): void {
    this.requests += o.requests;
    for (const [k, v] of o.params) {
      const p = this.get(k);
      if (p !== null) p.merge(v);
    }
  }
}

/** Bounded JSON schema inference: the union of what the sampled bodies showed. */
export interface SchemaNode {
  types: Record<string, number>;
  /** Object properties, with how many object instances held each. */
  properties?: Map<string, SchemaNode>;
  objects?: number;
  items?: SchemaNode;
}

const MAX_DEPTH = 6;
const MAX_PROPS = 64;

export function newSchema(): SchemaNode {
  return { types: {} };
}

export function addToSchema(s: SchemaNode, v: unknown, depth = 0): void {
  const t =
    v === null
      ? 'null'
      : Array.isArray(v)
        ? 'array'
        : typeof v === 'number'
          ? Number.isInteger(v)
            ? 'integer'
            : 'number'
          : typeof v;
  s.types[t] = (s.types[t] ?? 0) + 1;
  if (depth >= MAX_DEPTH) return;
  if (t === 'object') {
    s.objects = (s.objects ?? 0) + 1;
    s.properties ??= new Map();
    for (const k in v as Record<string, unknown>) {
      let p = s.properties.get(k);
      if (p === undefined) {
        if (s.properties.size >= MAX_PROPS) continue;
        p = newSchema();
        s.properties.set(k, p);
      }
      addToSchema(p, (v as Record<string, unknown>)[k], depth + 1);
    }
  } else if (t === 'array') {
    s.items ??= newSchema();
    const a = v as unknown[];
    for (let i = 0; i < Math.min(a.length, 20); i++) addToSchema(s.items, a[i], depth + 1);
  }
}

export function mergeSchema(a: SchemaNode, b: SchemaNode): void {
  for (const k in b.types) a.types[k] = (a.types[k] ?? 0) + b.types[k]!;
  if (b.objects !== undefined) a.objects = (a.objects ?? 0) + b.objects;
  if (b.properties !== undefined) {
    a.properties ??= new Map();
    for (const [k, v] of b.properties) {
      const p = a.properties.get(k);
      if (p === undefined) {
        if (a.properties.size < MAX_PROPS) a.properties.set(k, v);
      } else mergeSchema(p, v);
    }
  }
  if (b.items !== undefined) {
    if (a.items === undefined) a.items = b.items;
    else mergeSchema(a.items, b.items);
  }
}

/** JSON Schema (2020-12, as OpenAPI 3.1 uses it) of an inferred node. */
export function toJsonSchema(s: SchemaNode): Record<string, unknown> {
  const types = Object.keys(s.types).map((t) => (t === 'integer' && s.types.number ? 'number' : t));
  const uniq = [...new Set(types)].filter((t) => !(t === 'integer' && types.includes('number')));
  const out: Record<string, unknown> = { type: uniq.length === 1 ? uniq[0] : uniq.sort() };
  if (s.properties !== undefined) {
    const props: Record<string, unknown> = {};
    const required: string[] = [];
    for (const [k, v] of s.properties) {
      props[k] = toJsonSchema(v);
      let n = 0;
      for (const c of Object.values(v.types)) n += c;
      if (s.objects !== undefined && n >= s.objects) required.push(k);
    }
    out.properties = props;
    if (required.length > 0) out.required = required;
  }
  if (s.items !== undefined) out.items = toJsonSchema(s.items);
  return out;
}
