/**
 * What a request carries, as named parameters for the param profiler and scorer: path parameters (the
 * template's `{…}` positions), query values, and the fields of a JSON request body flattened to dot paths
 * (`body.items[].qty`). Each value has a scope — the path, query and top-level body fields share scope 0, each
 * nested object and array element has its own — so relations are learned between values of one object.
 * Bounded: a body is parsed only when it looks like JSON and fits the size cap; depth, array elements and the
 * number of values per request are capped, and long names are cut.
 */
import type { ApiEvent } from '../core/event.js';
import { type Observed, observeJson, observeString } from './params-value.js';

export interface ExtractLimits {
  /** Larger request bodies are not parsed (default 65,536 characters). */
  maxBodyBytes: number;
  /** Values taken from one request (path + query + body); the rest are counted in `dropped` (default 256). */
  maxValues: number;
  /** Nesting depth followed into a JSON body (default 8). */
  maxDepth: number;
  /** Elements read from one array (default 50). */
  maxArray: number;
  /** Longer names are cut and end with `…` (default 128). */
  maxNameLength: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxBodyBytes: 65_536,
  maxValues: 256,
  maxDepth: 8,
  maxArray: 50,
  maxNameLength: 128,
};

export interface ParamValue {
  name: string;
  /** 0 for path, query and top-level body fields; one number per nested object or array element. */
  scope: number;
  o: Observed;
  /** Where it came from. */
  from: 'path' | 'query' | 'body';
}

export type BodyState = 'none' | 'json' | 'not_json' | 'too_large' | 'truncated';

export interface RequestParams {
  values: ParamValue[];
  body: BodyState;
  /** Values over the per-request cap, not taken. */
  dropped: number;
}

/** Cuts a name to the limit. */
function cut(name: string, max: number): string {
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}

/**
 * Collects a request's parameters. `pathParams` are [segment index, name] pairs of the template's parameter
 * positions (`/api/v1/users/{id}` → [[4, 'path.id']]).
 */
export function requestParams(
  e: ApiEvent,
  pathParams: readonly (readonly [number, string])[],
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): RequestParams {
  const values: ParamValue[] = [];
  let dropped = 0;
  const max = limits.maxValues;
  if (pathParams.length > 0) {
    const segs = e.path.split('/');
    for (const [i, name] of pathParams) {
      const s = segs[i];
      if (s !== undefined && s !== '') values.push({ name, scope: 0, o: observeString(s), from: 'path' });
    }
  }
  const q = e.query;
  if (q !== null) {
    for (const k in q) {
      const v = q[k]!;
      const name = cut(`query.${k}`, limits.maxNameLength);
      if (typeof v === 'string') {
        if (values.length < max) values.push({ name, scope: 0, o: observeString(v), from: 'query' });
        else dropped++;
      } else
        for (const x of v) {
          if (values.length < max) values.push({ name, scope: 0, o: observeString(x), from: 'query' });
          else dropped++;
        }
    }
  }
  let body: BodyState = 'none';
  const b = e.requestBody;
  if (b !== undefined && b.length > 0) {
    const c = b.charCodeAt(0);
    if (e.bodyTruncated === true) body = 'truncated';
    else if (c !== 123 && c !== 91) body = 'not_json';
    else if (b.length > limits.maxBodyBytes) body = 'too_large';
    else {
      let j: unknown;
      try {
        j = JSON.parse(b);
        body = 'json';
      } catch {
        body = 'not_json';
      }
      if (body === 'json') {
        const st = { scope: 0, dropped: 0 };
        walk(j, 'body', 0, 0, values, limits, st);
        dropped += st.dropped;
      }
    }
  }
  return { values, body, dropped };
}

function walk(
  v: unknown,
  name: string,
  scope: number,
  depth: number,
  out: ParamValue[],
  limits: ExtractLimits,
  st: { scope: number; dropped: number },
): void {
  if (out.length >= limits.maxValues) {
    st.dropped++;
    return;
  }
  if (v === null || typeof v !== 'object') {
    out.push({ name, scope, o: observeJson(v), from: 'body' });
    return;
  }
  // The container itself is a value (its kind is checked: a string where an object was is a finding).
  if (name !== 'body') out.push({ name, scope, o: observeJson(v), from: 'body' });
  if (depth >= limits.maxDepth) return;
  if (Array.isArray(v)) {
    const item = cut(`${name}[]`, limits.maxNameLength);
    const n = Math.min(v.length, limits.maxArray);
    for (let i = 0; i < n; i++) {
      walk(v[i], item, scope, depth + 1, out, limits, st);
    }
    return;
  }
  // A nested object has its own scope; the body's top-level object shares scope 0 with path and query.
  const s = name === 'body' ? scope : ++st.scope;
  const o = v as Record<string, unknown>;
  for (const k in o) walk(o[k], cut(`${name}.${k}`, limits.maxNameLength), s, depth + 1, out, limits, st);
}

/** Whether a template token is a parameter (`{id}`). */
export const isParamToken = (t: string): boolean =>
  t.length > 2 && t.charCodeAt(0) === 123 && t.charCodeAt(t.length - 1) === 125;

/**
 * The path parameters of a template: [segment index, name] with names from the tokens (`path.id`); a name
 * used twice gets the segment index (`path.id_5`).
 */
export function templateParams(template: string): [number, string][] {
  const out: [number, string][] = [];
  const seen = new Set<string>();
  const segs = template.split('/');
  for (let i = 1; i < segs.length; i++) {
    const t = segs[i]!;
    if (!isParamToken(t)) continue;
    let name = `path.${t.slice(1, -1)}`;
    if (seen.has(name)) name = `${name}_${i}`;
    seen.add(name);
    out.push([i, name]);
  }
  return out;
}
