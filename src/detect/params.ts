/**
 * Forged-parameter detection at request level, like a WAF in detect mode, learned from traffic (docs/params.md).
 *
 * `ParamProfiler` is fed training events and learns, per endpoint (method + template, decided by the inventory's
 * templater) and per parameter (path parameters, query keys, JSON body fields as dot paths), what values look
 * like: wire kind and type, numeric range and sign with a bounded sample, lengths, character classes, a bounded
 * tally of values (an enumeration while it stays small), how often the parameter is present, and relations —
 * a numeric value that is a function of an id-like value of the same object (learned per id, bounded), a value
 * that equals the caller's user — plus the endpoint's response status mix. `finish()` gives a `ParamProfile`,
 * which serializes to versioned JSON.
 *
 * `ParamScorer` scores one request against a profile: every check that fails gives a reason with the
 * probability of seeing it in normal traffic, estimated from the training counts (little training → no strong
 * finding), turned into a weight; reasons combine by noisy-OR (see `combine`).
 */
import type { ApiEvent } from '../core/event.js';
import { owned } from '../core/strings.js';
import { ID_SHAPES, PARAM_NAME, segmentShape } from '../inventory/shape.js';
import { SpecTemplates, Templater } from '../inventory/templater.js';
import {
  DEFAULT_EXTRACT_LIMITS,
  type ExtractLimits,
  isParamToken,
  type ParamValue,
  requestParams,
  templateParams,
} from './params-request.js';
import {
  CHAR_CLASSES,
  callerHash,
  charMask,
  clockOffset,
  DEFAULT_VALUE_LIMITS,
  FORMAT_TYPES,
  type NumericJson,
  type NumericStats,
  type Observed,
  observeString,
  type ParamJson,
  ParamStats,
  quantile,
  sameIdSpace,
  stringType,
  type ValueLimits,
  type ValueType,
  type WireKind,
} from './params-value.js';

export { type ParamJson, ParamStats } from './params-value.js';

// ------------------------------------------------------------------------------------------------------------
// Options and limits

export interface ParamProfilerOptions {
  /** Endpoint keys profiled; events of further keys are counted as skipped (default 5,000). */
  maxEndpoints?: number;
  /** Parameter names per endpoint; values of further names are counted in `paramsOverflow` (default 200). */
  maxParams?: number;
  /** Distinct values tallied per parameter before it stops being an enumeration (default 64). */
  maxValues?: number;
  /** Numeric sample per parameter (default 256). */
  sampleSize?: number;
  /** Larger request bodies are not parsed (default 65,536). */
  maxBodyBytes?: number;
  /** Candidate (id, value) parameter pairs tracked per endpoint (default 32). */
  maxRelationPairs?: number;
  /** Ids remembered per pair (default 2,048). */
  maxRelationIds?: number;
  /** Ids remembered over all pairs of all endpoints (default 500,000). */
  relationBudget?: number;
  /** Distinct word-like segments that make a path position a parameter (templater, default 20). */
  minCardinality?: number;
  /**
   * The training traffic is the traffic to be judged, not vetted as normal (`apiwarden analyze` learning from
   * its inputs): the profile is marked so, and its scorers let no caller vouch for itself (ScorerOptions).
   */
  selfTrained?: boolean;
}

export interface ProfileLimits {
  maxEndpoints: number;
  maxParams: number;
  maxValues: number;
  maxValueLength: number;
  sampleSize: number;
  maxBodyBytes: number;
  maxRelationPairs: number;
  maxRelationIds: number;
  relationBudget: number;
}

const DEFAULT_LIMITS: ProfileLimits = {
  maxEndpoints: 5_000,
  maxParams: 200,
  maxValues: DEFAULT_VALUE_LIMITS.maxValues,
  maxValueLength: DEFAULT_VALUE_LIMITS.maxValueLength,
  sampleSize: DEFAULT_VALUE_LIMITS.sampleSize,
  maxBodyBytes: DEFAULT_EXTRACT_LIMITS.maxBodyBytes,
  maxRelationPairs: 32,
  maxRelationIds: 2_048,
  relationBudget: 500_000,
};

/** A relation candidate is dropped when more than this share of its repeated ids disagreed … */
const RELATION_MAX_MISMATCH = 0.1;
/** … or when two ids share a value this often by chance (the value is nearly constant: no information). */
const RELATION_MAX_CHANCE = 0.5;
/** A relation holds when agreeing by chance as often as its repeated ids agreed is at most this likely. */
const RELATION_MAX_ACCIDENT = 0.01;

// ------------------------------------------------------------------------------------------------------------
// The profile (JSON form)

export const PROFILE_FORMAT = 'apiwarden-param-profile';
export const PROFILE_VERSION = 1;

/**
 * A relation candidate: `y` (numeric) may be a function of `x` (id-like) in the same object of a request. Kept
 * unless refuted; whether it holds is decided when scoring (alone, or pooled with the same names elsewhere).
 */
export interface RelationJson {
  x: string;
  y: string;
  /** The chance that two ids have the same y by accident: Σ share², over the ids' values. */
  chance: number;
  /** Observations of the pair. */
  observations: number;
  /** Observations whose x value had been seen before (a repeated id) … */
  checks: number;
  /** … and of those, how many had another y than the first one seen for that id. */
  mismatches: number;
  /** Observations whose id was not remembered (the map was full). */
  overflow: number;
  /** x value → y, for the ids whose y never changed (null-prototype). */
  map: Record<string, number>;
}

export interface EndpointJson {
  method: string;
  template: string;
  /** Training requests. */
  requests: number;
  /** Of those, requests with a JSON body that was parsed (body fields' presence is relative to these). */
  jsonBodies: number;
  /** Requests by response status. */
  status: Record<string, number>;
  /** By parameter name: `path.id`, `query.code`, `body.items[].qty` (null-prototype). */
  params: Record<string, ParamJson>;
  /** Values of parameter names beyond `maxParams` (attacker-made keys): not profiled. */
  paramsOverflow: number;
  relations: RelationJson[];
}

export interface ParamProfileJson {
  format: typeof PROFILE_FORMAT;
  version: typeof PROFILE_VERSION;
  /** Training events profiled. */
  requests: number;
  /** Training events not profiled (no request line, or the endpoint cap was reached). */
  skipped: number;
  /** First and last training event time (ISO 8601), null without events. */
  from: string | null;
  to: string | null;
  limits: ProfileLimits;
  /** Present (true) when learned from the traffic it was made to judge (ParamProfilerOptions.selfTrained). */
  selfTrained?: true;
  endpoints: EndpointJson[];
}

export class ProfileError extends Error {}

// ------------------------------------------------------------------------------------------------------------
// Training

/** Candidate relation between an id-like parameter x and a numeric parameter y (training). */
class PairAcc {
  /** x value → the first y seen with it. */
  map = new Map<string, number>();
  /** Ids whose y changed. */
  conflicts = new Set<string>();
  observations = 0;
  checks = 0;
  mismatches = 0;
  overflow = 0;
  dead = false;

  constructor(
    readonly x: string,
    readonly y: string,
  ) {}
}

class RelationBudget {
  constructor(public left: number) {}
}

class EndpointAcc {
  requests = 0;
  jsonBodies = 0;
  readonly status = new Map<number, number>();
  readonly params = new Map<string, ParamStats>();
  paramsOverflow = 0;
  readonly pairs = new Map<string, PairAcc>();

  constructor(
    readonly method: string,
    readonly host: string,
    readonly key: string,
  ) {}
}

/** Values of one scope considered for relation pairs in training. */
const PAIR_SCOPE_VALUES = 16;

/** A request's values grouped by scope, in order. */
function byScope(values: readonly ParamValue[]): Map<number, ParamValue[]> {
  const m = new Map<number, ParamValue[]>();
  for (const v of values) {
    const l = m.get(v.scope);
    if (l === undefined) m.set(v.scope, [v]);
    else l.push(v);
  }
  return m;
}

/** Types that can be an id (the x of a relation). */
const ID_TYPES: ReadonlySet<ValueType> = new Set(['integer', 'uuid', 'hex', 'string']);

const isIdLike = (o: Observed): boolean =>
  ID_TYPES.has(o.type) &&
  o.text !== null &&
  o.text.length <= 64 &&
  (o.type !== 'string' || o.text.indexOf(' ') < 0);

export class ParamProfiler {
  private readonly limits: ProfileLimits;
  private readonly valueLimits: ValueLimits;
  private readonly extract: ExtractLimits;
  private readonly templater: Templater;
  private readonly accs = new Map<string, EndpointAcc>();
  private readonly budget: RelationBudget;
  /** Path parameter positions of each key (key → [index, internal name]). */
  private readonly keyParams = new Map<string, [number, string][]>();
  private seq = 0;
  events = 0;
  skipped = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private readonly selfTrained: boolean;

  constructor(o: ParamProfilerOptions = {}) {
    this.selfTrained = o.selfTrained ?? false;
    this.limits = {
      ...DEFAULT_LIMITS,
      ...Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k in DEFAULT_LIMITS)),
    };
    this.valueLimits = {
      maxValues: this.limits.maxValues,
      maxValueLength: this.limits.maxValueLength,
      sampleSize: this.limits.sampleSize,
    };
    this.extract = { ...DEFAULT_EXTRACT_LIMITS, maxBodyBytes: this.limits.maxBodyBytes };
    this.templater = new Templater(
      o.minCardinality === undefined ? {} : { minCardinality: o.minCardinality },
    );
    this.budget = new RelationBudget(this.limits.relationBudget);
  }

  add(e: ApiEvent): void {
    if (e.method === '-' || e.path === '-' || e.path === '') {
      this.skipped++;
      return;
    }
    const host = e.host ?? '';
    const key = this.templater.add(host, e.path, e.status !== 404);
    const id = `${e.method} ${host} ${key}`;
    let a = this.accs.get(id);
    if (a === undefined) {
      if (this.accs.size >= this.limits.maxEndpoints) {
        this.skipped++;
        return;
      }
      a = new EndpointAcc(e.method, host, key);
      this.accs.set(id, a);
    }
    this.events++;
    if (e.ts < this.first) this.first = e.ts;
    if (e.ts > this.last) this.last = e.ts;
    const request = this.seq++;
    a.requests++;
    a.status.set(e.status, (a.status.get(e.status) ?? 0) + 1);
    let kp = this.keyParams.get(key);
    if (kp === undefined) {
      // Internal names by position (`path@4`); the final template names them (see finish).
      kp = templateParams(key).map(([i]) => [i, `path@${i}`]);
      if (this.keyParams.size < this.limits.maxEndpoints * 4) this.keyParams.set(key, kp);
    }
    const r = requestParams(e, kp, this.extract);
    if (r.body === 'json') a.jsonBodies++;
    const user = e.user;
    const ut = user === null ? null : stringType(user);
    const userType = ut === 'secret' ? null : ut;
    // The caller, as LearnSink caps it: its token, else its user, else its address (robust extremes).
    const caller = callerHash(e.token ?? e.user ?? e.ip);
    for (const v of r.values) {
      let p = a.params.get(v.name);
      if (p === undefined) {
        if (a.params.size >= this.limits.maxParams) {
          a.paramsOverflow++;
          continue;
        }
        p = new ParamStats(this.valueLimits);
        a.params.set(v.name, p);
      }
      p.add(v.o, request, e.ts, 1, caller);
      // The actor relation: scalar values of the caller's id type (query and path values, JSON strings and
      // numbers), so callers from another id namespace (staff accounts) neither learn nor break it.
      if (
        userType !== null &&
        v.o.text !== null &&
        (v.o.kind === 'str' || v.o.kind === 'num') &&
        sameIdSpace(userType, v.o.type)
      )
        p.compareActor(v.o.text, user!);
    }
    this.pairsOf(a, r.values);
  }

  /** Feeds the (id-like x, numeric y) pairs of each scope to the endpoint's relation candidates. */
  private pairsOf(a: EndpointAcc, values: ParamValue[]): void {
    if (values.length < 2) return;
    for (const vs of byScope(values).values()) {
      // The first PAIR_SCOPE_VALUES values of a scope: pairs are quadratic, and bodies are attacker-made.
      const n = Math.min(vs.length, PAIR_SCOPE_VALUES);
      for (let i = 0; i < n; i++) {
        const x = vs[i]!;
        if (!isIdLike(x.o)) continue;
        for (let j = 0; j < n; j++) {
          const y = vs[j]!;
          if (j === i || Number.isNaN(y.o.num) || y.name === x.name) continue;
          const k = `${x.name}\n${y.name}`;
          let pair = a.pairs.get(k);
          if (pair === undefined) {
            if (a.pairs.size >= this.limits.maxRelationPairs) continue;
            pair = new PairAcc(x.name, y.name);
            a.pairs.set(k, pair);
          }
          if (!pair.dead) this.observePair(pair, x.o.text!, y.o.num);
        }
      }
    }
  }

  private observePair(p: PairAcc, x: string, y: number): void {
    p.observations++;
    const cur = p.map.get(x);
    if (cur === undefined) {
      if (p.map.size < this.limits.maxRelationIds && this.budget.left > 0) {
        p.map.set(owned(x), y);
        this.budget.left--;
      } else p.overflow++;
    } else {
      p.checks++;
      if (cur !== y) {
        p.mismatches++;
        p.conflicts.add(owned(x));
      }
    }
    // Give up on pairs that are clearly not functions, or whose ids never repeat: their memory goes back.
    if (
      (p.checks >= 30 && p.mismatches > p.checks * 0.3) ||
      (p.observations >= 500 && p.checks < p.observations * 0.02)
    ) {
      p.dead = true;
      this.budget.left += p.map.size;
      p.map = new Map();
      p.conflicts = new Set();
    }
  }

  /** Resolves every key into its template, merges keys of one endpoint and returns the profile. */
  finish(): ParamProfile {
    const groups = new Map<string, EndpointProfile>();
    const pairGroups = new Map<string, Map<string, PairAcc>>();
    for (const a of this.accs.values()) {
      const template = this.templater.resolve(a.host, a.key);
      const name = `${a.method} ${template}`;
      let g = groups.get(name);
      if (g === undefined) {
        g = new EndpointProfile(a.method, template);
        groups.set(name, g);
        pairGroups.set(name, new Map());
      }
      // Path parameter names come from the final template; literal segments that became parameters count too.
      const tparams = templateParams(template);
      const rename = new Map<string, string>();
      for (const [i, n] of tparams) rename.set(`path@${i}`, n);
      const ren = (n: string) => rename.get(n) ?? n;
      g.requests += a.requests;
      g.jsonBodies += a.jsonBodies;
      for (const [s, c] of a.status) g.status.set(s, (g.status.get(s) ?? 0) + c);
      g.paramsOverflow += a.paramsOverflow;
      for (const [n, p] of a.params) g.mergeParam(ren(n), p, this.limits.maxParams);
      if (a.key !== template) {
        const ks = a.key.split('/');
        for (const [i, n] of tparams) {
          const t = ks[i];
          if (t === undefined || isParamToken(t)) continue;
          const p = new ParamStats(this.valueLimits);
          p.add(observeString(t), 0, 0, Math.min(a.requests, 1_000));
          g.mergeParam(n, p, this.limits.maxParams);
        }
      }
      const pg = pairGroups.get(name)!;
      for (const p of a.pairs.values()) {
        if (p.dead) continue;
        const x = ren(p.x);
        const y = ren(p.y);
        const k = `${x}\n${y}`;
        const cur = pg.get(k);
        if (cur === undefined) {
          const q = new PairAcc(x, y);
          mergePair(q, p);
          pg.set(k, q);
        } else mergePair(cur, p);
      }
    }
    for (const [name, g] of groups) {
      for (const p of pairGroups.get(name)!.values()) {
        const r = relationOf(p);
        if (r !== null) g.relations.push(r);
      }
    }
    const endpoints = [...groups.values()].sort(
      (a, b) => a.template.localeCompare(b.template) || a.method.localeCompare(b.method),
    );
    return new ParamProfile(
      endpoints,
      this.events,
      this.skipped,
      this.events === 0 ? null : new Date(this.first).toISOString(),
      this.events === 0 ? null : new Date(this.last).toISOString(),
      this.limits,
      this.selfTrained,
    );
  }
}

function mergePair(into: PairAcc, o: PairAcc): void {
  into.observations += o.observations;
  into.checks += o.checks;
  into.mismatches += o.mismatches;
  into.overflow += o.overflow;
  for (const c of o.conflicts) into.conflicts.add(c);
  for (const [x, y] of o.map) {
    const cur = into.map.get(x);
    if (cur === undefined) into.map.set(x, y);
    else {
      into.checks++;
      if (cur !== y) {
        into.mismatches++;
        into.conflicts.add(x);
      }
    }
  }
}

/** The relation candidate a pair shows, or null when refuted (mismatches) or uninformative (a near-constant y). */
function relationOf(p: PairAcc): RelationJson | null {
  if (p.mismatches > p.checks * RELATION_MAX_MISMATCH) return null;
  const map = Object.create(null) as Record<string, number>;
  const byValue = new Map<number, number>();
  let ids = 0;
  for (const [x, y] of p.map) {
    if (p.conflicts.has(x)) continue;
    map[x] = y;
    ids++;
    byValue.set(y, (byValue.get(y) ?? 0) + 1);
  }
  if (ids < 3) return null;
  let chance = 0;
  for (const c of byValue.values()) chance += (c / ids) ** 2;
  if (chance > RELATION_MAX_CHANCE) return null;
  return {
    x: p.x,
    y: p.y,
    chance: Math.round(chance * 1e6) / 1e6,
    observations: p.observations,
    checks: p.checks,
    mismatches: p.mismatches,
    overflow: p.overflow,
    map,
  };
}

// ------------------------------------------------------------------------------------------------------------
// The profile

export class EndpointProfile {
  requests = 0;
  jsonBodies = 0;
  readonly status = new Map<number, number>();
  readonly params = new Map<string, ParamStats>();
  paramsOverflow = 0;
  readonly relations: RelationJson[] = [];

  constructor(
    readonly method: string,
    readonly template: string,
  ) {}

  mergeParam(name: string, p: ParamStats, maxParams: number): void {
    const cur = this.params.get(name);
    if (cur !== undefined) cur.merge(p);
    else if (this.params.size < maxParams) this.params.set(name, p);
    else this.paramsOverflow += p.values;
  }

  toJSON(): EndpointJson {
    const params = Object.create(null) as Record<string, ParamJson>;
    for (const n of [...this.params.keys()].sort()) params[n] = this.params.get(n)!.toJSON();
    const status: Record<string, number> = {};
    for (const s of [...this.status.keys()].sort((a, b) => a - b)) status[String(s)] = this.status.get(s)!;
    return {
      method: this.method,
      template: this.template,
      requests: this.requests,
      jsonBodies: this.jsonBodies,
      status,
      params,
      paramsOverflow: this.paramsOverflow,
      relations: this.relations
        .slice()
        .sort((a, b) => a.x.localeCompare(b.x) || a.y.localeCompare(b.y))
        .map((r) => ({ ...r, map: sortedMap(r.map) })),
    };
  }
}

function sortedMap(m: Record<string, number>): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

export class ParamProfile {
  readonly endpoints: Map<string, EndpointProfile>;

  constructor(
    endpoints: EndpointProfile[],
    readonly requests: number,
    readonly skipped: number,
    readonly from: string | null,
    readonly to: string | null,
    readonly limits: ProfileLimits,
    /** Learned from the traffic it was made to judge, not vetted as normal (ParamProfilerOptions). */
    readonly selfTrained = false,
  ) {
    this.endpoints = new Map(endpoints.map((e) => [`${e.method} ${e.template}`, e]));
  }

  toJSON(): ParamProfileJson {
    return {
      format: PROFILE_FORMAT,
      version: PROFILE_VERSION,
      requests: this.requests,
      skipped: this.skipped,
      from: this.from,
      to: this.to,
      limits: { ...this.limits },
      ...(this.selfTrained ? { selfTrained: true as const } : {}),
      endpoints: [...this.endpoints.values()].map((e) => e.toJSON()),
    };
  }

  /** Restores a profile from its JSON form (as parsed); throws ProfileError naming the first problem. */
  static fromJSON(j: unknown): ParamProfile {
    const o = obj(j, 'profile');
    if (o.format !== PROFILE_FORMAT)
      throw new ProfileError(`not an apiwarden param profile (format is not '${PROFILE_FORMAT}')`);
    if (o.version !== PROFILE_VERSION)
      throw new ProfileError(
        `param profile version ${String(o.version)} is not supported (this apiwarden reads version ${PROFILE_VERSION})`,
      );
    const lim = obj(o.limits, 'limits');
    const limits = { ...DEFAULT_LIMITS };
    for (const k of Object.keys(DEFAULT_LIMITS) as (keyof ProfileLimits)[])
      if (lim[k] !== undefined) limits[k] = num(lim[k], `limits.${k}`);
    const valueLimits: ValueLimits = {
      maxValues: limits.maxValues,
      maxValueLength: limits.maxValueLength,
      sampleSize: limits.sampleSize,
    };
    const eps = arr(o.endpoints, 'endpoints').map((x, i) => {
      const at = `endpoints[${i}]`;
      const e = obj(x, at);
      const ep = new EndpointProfile(str(e.method, `${at}.method`), str(e.template, `${at}.template`));
      ep.requests = num(e.requests, `${at}.requests`);
      ep.jsonBodies = num(e.jsonBodies, `${at}.jsonBodies`);
      ep.paramsOverflow = num(e.paramsOverflow, `${at}.paramsOverflow`);
      const st = counts(e.status, `${at}.status`);
      for (const k in st) ep.status.set(Number(k), st[k]!);
      const ps = obj(e.params, `${at}.params`);
      for (const name of Object.keys(ps))
        ep.params.set(
          name,
          ParamStats.fromJSON(paramJson(ps[name], `${at}.params[${JSON.stringify(name)}]`), valueLimits),
        );
      for (const [k, r] of arr(e.relations, `${at}.relations`).entries()) {
        const ra = `${at}.relations[${k}]`;
        const ro = obj(r, ra);
        ep.relations.push({
          x: str(ro.x, `${ra}.x`),
          y: str(ro.y, `${ra}.y`),
          chance: num(ro.chance, `${ra}.chance`),
          observations: num(ro.observations, `${ra}.observations`),
          checks: num(ro.checks, `${ra}.checks`),
          mismatches: num(ro.mismatches, `${ra}.mismatches`),
          overflow: num(ro.overflow, `${ra}.overflow`),
          map: counts(ro.map, `${ra}.map`, true),
        });
      }
      return ep;
    });
    return new ParamProfile(
      eps,
      num(o.requests, 'requests'),
      num(o.skipped, 'skipped'),
      o.from === null ? null : str(o.from, 'from'),
      o.to === null ? null : str(o.to, 'to'),
      limits,
      o.selfTrained === undefined ? false : bool(o.selfTrained, 'selfTrained'),
    );
  }
}

// Hand-written validation: records are keyed by attacker-controlled strings (`__proto__` included), so they
// are copied into null-prototype objects, never assigned onto plain ones.
function obj(v: unknown, at: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ProfileError(`${at}: expected an object`);
  return v as Record<string, unknown>;
}
function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ProfileError(`${at}: expected an array`);
  return v;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new ProfileError(`${at}: expected a string`);
  return v;
}
function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new ProfileError(`${at}: expected true or false`);
  return v;
}
function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProfileError(`${at}: expected a number`);
  return v;
}
function counts(v: unknown, at: string, anyNumber = false): Record<string, number> {
  const o = obj(v, at);
  const out = Object.create(null) as Record<string, number>;
  for (const k of Object.keys(o)) {
    const n = num(o[k], `${at}[${JSON.stringify(k)}]`);
    if (!anyNumber && n < 0) throw new ProfileError(`${at}[${JSON.stringify(k)}]: expected a count`);
    out[k] = n;
  }
  return out;
}
function numericJson(v: unknown, at: string): NumericJson | null {
  if (v === null || v === undefined) return null;
  const o = obj(v, at);
  return {
    n: num(o.n, `${at}.n`),
    min: num(o.min, `${at}.min`),
    max: num(o.max, `${at}.max`),
    negative: num(o.negative, `${at}.negative`),
    zero: num(o.zero, `${at}.zero`),
    fractional: num(o.fractional, `${at}.fractional`),
    sample: arr(o.sample, `${at}.sample`).map((x, i) => num(x, `${at}.sample[${i}]`)),
    ...(o.low === undefined ? {} : { low: num(o.low, `${at}.low`) }),
    ...(o.high === undefined ? {} : { high: num(o.high, `${at}.high`) }),
  };
}
function paramJson(v: unknown, at: string): ParamJson {
  const o = obj(v, at);
  const actor = obj(o.actor, `${at}.actor`);
  return {
    requests: num(o.requests, `${at}.requests`),
    values: num(o.values, `${at}.values`),
    kinds: counts(o.kinds, `${at}.kinds`),
    types: counts(o.types, `${at}.types`),
    lengths: counts(o.lengths, `${at}.lengths`),
    minLength: num(o.minLength, `${at}.minLength`),
    maxLength: num(o.maxLength, `${at}.maxLength`),
    charset: counts(o.charset, `${at}.charset`),
    numeric: numericJson(o.numeric, `${at}.numeric`),
    clock: numericJson(o.clock, `${at}.clock`),
    tally: o.tally === null ? null : counts(o.tally, `${at}.tally`),
    actor: {
      compared: num(actor.compared, `${at}.actor.compared`),
      equal: num(actor.equal, `${at}.actor.equal`),
      users: num(actor.users, `${at}.actor.users`),
      others: actor.others === null ? null : counts(actor.others, `${at}.actor.others`),
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// Scoring

export type Check =
  | 'type'
  | 'range'
  | 'length'
  | 'charset'
  | 'enum'
  | 'format'
  | 'missing'
  | 'unknown_param'
  | 'relation'
  | 'status';

export interface Reason {
  /** `query.price`, `body.items[].qty`, `path.id`; `status` for the status check. */
  param: string;
  check: Check;
  /** What the request had, readable (values cut to 80 characters). */
  observed: string;
  /** What training showed. */
  expected: string;
  /** How strongly this finding says "forged", in [0, 1] (see docs/params.md). */
  weight: number;
}

export interface ScoreResult {
  /** In [0, 1]: the noisy-OR of the reasons' weights (strongest per parameter in full, the others halved). */
  score: number;
  /** Strongest first; at most `maxReasons` (the score counts them all). */
  reasons: Reason[];
  /** `METHOD /template`; for an endpoint the profile does not have, the path with id-shaped segments as `{id}`. */
  endpoint: string;
  /** Training requests of the endpoint (0: unseen, scored 0). */
  trained: number;
}

export interface ScorerOptions {
  /** Reasons below this weight are dropped (default 0.01). */
  minWeight?: number;
  /** Reasons listed per request (default 12). */
  maxReasons?: number;
  extract?: Partial<ExtractLimits>;
  /**
   * The profile was learned from the traffic it judges, not vetted as normal (`apiwarden analyze` learning from
   * its inputs; default: the profile's own mark): what a caller did in training cannot vouch for that caller.
   * Its reads of other users' ids do not exempt it from the actor relation, and the share of callers reading
   * other ids is counted without it (leave one out). Population statistics need no such care: each caller's
   * influence on them is bounded.
   */
  selfTrained?: boolean;
}

/**
 * The weight of a finding whose probability in normal traffic is `p`, with s = log10(1/p):
 * w = 0.02 + 0.98·(1 − e^(−0.4·(s − 1)²)) for s > 1, else 0.02·s. A request goes through about ten checks, so
 * a 1-in-10 finding is expected in every request: it weighs at most 0.02 (enough to order requests, never to
 * flag one). p = 0.1 → 0.02, 0.01 → 0.34, 0.001 → 0.80, 1e-4 → 0.97.
 */
export function weightOf(p: number): number {
  const s = -Math.log10(Math.max(p, 1e-12));
  if (s <= 1) return s > 0 ? 0.02 * s : 0;
  return 0.02 + 0.98 * (1 - Math.exp(-0.4 * (s - 1) * (s - 1)));
}

/** How much a 4xx answer says about the request itself (HTTP semantics; 5xx and < 400 say nothing). */
export function statusFactor(status: number): number {
  if (status < 400 || status >= 500) return 0;
  switch (status) {
    case 400:
    case 401:
    case 403:
    case 405:
    case 406:
    case 411:
    case 413:
    case 414:
    case 415:
    case 422:
    case 431:
      return 1; // the server judged the request itself invalid or not allowed
    case 409:
    case 412:
    case 428:
      return 0.5; // a conflict with state (sold out, edited meanwhile)
    case 429:
      return 0.3; // volume, not content
    case 408:
    case 499:
      return 0; // the client was slow or went away
    default:
      return 0.7; // 404, 410 and the rest: the thing asked for is not there
  }
}

/**
 * Combines reasons into a score: per parameter, the strongest reason counts in full and the others at half
 * weight (they often describe the same bad value); across parameters, noisy-OR: 1 − Π(1 − w).
 */
export function combine(reasons: readonly Reason[]): number {
  const best = new Map<string, number>();
  for (const r of reasons) if (r.weight > (best.get(r.param) ?? -1)) best.set(r.param, r.weight);
  let keep = 1;
  const used = new Set<string>();
  for (const r of reasons) {
    const full = !used.has(r.param) && r.weight === best.get(r.param);
    if (full) used.add(r.param);
    keep *= 1 - (full ? r.weight : r.weight / 2);
  }
  return 1 - keep;
}

const show = (s: string): string => (s.length <= 80 ? s : `${s.slice(0, 77)}…(${s.length} chars)`);
const valueText = (o: Observed): string =>
  o.text === null ? (o.kind === 'arr' ? '[…]' : '{…}') : show(o.text);
const pct = (x: number): string => `${Math.round(x * 100)}%`;
const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : String(Math.round(x * 1e4) / 1e4));
const leaf = (name: string): string => name.slice(Math.max(name.lastIndexOf('.'), name.lastIndexOf(']')) + 1);

/** Which learned types a value type fits into (besides itself). */
function fitsInto(t: ValueType): readonly ValueType[] {
  switch (t) {
    case 'integer':
      return ['decimal', 'hex', 'phone', 'string'];
    case 'decimal':
    case 'boolean':
    case 'uuid':
    case 'hex':
    case 'email':
    case 'phone':
    case 'date':
    case 'datetime':
    case 'empty':
      return ['string'];
    default:
      return [];
  }
}

/** A relation as scored: one endpoint's candidate, or the pool of every candidate with the same names. */
interface Relation {
  checks: number;
  mismatches: number;
  chance: number;
  map: Map<string, number>;
  /** Where it was learned, for the reason text. */
  where: string;
}

/** Whether a relation holds: its repeated ids agreed, and agreeing that often by accident is unlikely. */
function holds(r: Relation): boolean {
  const agreed = r.checks - r.mismatches;
  return (
    agreed >= 2 &&
    r.mismatches <= r.checks * RELATION_MAX_MISMATCH &&
    r.chance ** agreed <= RELATION_MAX_ACCIDENT
  );
}

/**
 * An actor relation as scored: the endpoints where one parameter is the caller's own id, pooled by resource
 * (a path parameter with the template up to it, `/api/v1/users/{id}`, so `…/profile`, `…/addresses` and
 * `…/cards` share their callers; a query or body parameter by its name). `callers` sums each endpoint's
 * callers; `others` holds each endpoint's callers seen with another id.
 */
interface ActorPool {
  callers: number;
  others: ReadonlyMap<string, number>[];
  /** Where it was learned, for the reason text. */
  where: string;
}

/** A relation candidate of an endpoint, with the relation used to score it (null: it does not hold). */
interface Rel {
  r: RelationJson;
  use: Relation | null;
}

/** An endpoint prepared for scoring. */
class Prepared {
  readonly pathParams: [number, string][];
  /** Parameters present in most requests (candidates for `missing`). */
  readonly required: [string, ParamStats][] = [];
  /** Parameter names seen in exactly one training request (Good-Turing: how often new names appear). */
  readonly singletons: number;
  readonly rels: Rel[] = [];
  /** Actor relations: parameter name → its pool (see ParamScorer.poolActors). */
  readonly actor = new Map<string, ActorPool>();
  /** Parameters that are the caller's own id on this endpoint alone (pooled by the scorer). */
  readonly actorParams: [string, ParamStats][] = [];

  constructor(readonly ep: EndpointProfile) {
    this.pathParams = templateParams(ep.template);
    let single = 0;
    for (const [name, p] of ep.params) {
      if (p.requests === 1) single++;
      const top = name.startsWith('query.') || (name.startsWith('body.') && !/[.[]/.test(name.slice(5)));
      const denom = name.startsWith('body.') ? ep.jsonBodies : ep.requests;
      if (top && denom > 0 && p.requests >= denom * 0.8) this.required.push([name, p]);
      if (p.isActorId()) this.actorParams.push([name, p]);
    }
    this.singletons = single;
  }
}

export class ParamScorer {
  private readonly matcher = new SpecTemplates();
  private readonly prepared = new Map<string, Prepared>();
  private readonly minWeight: number;
  private readonly maxReasons: number;
  private readonly extract: ExtractLimits;
  private readonly selfTrained: boolean;

  constructor(
    readonly profile: ParamProfile,
    o: ScorerOptions = {},
  ) {
    this.selfTrained = o.selfTrained ?? profile.selfTrained;
    this.minWeight = o.minWeight ?? 0.01;
    this.maxReasons = o.maxReasons ?? 12;
    this.extract = { ...DEFAULT_EXTRACT_LIMITS, maxBodyBytes: profile.limits.maxBodyBytes, ...o.extract };
    for (const [k, ep] of profile.endpoints) {
      this.matcher.add(ep.template);
      this.prepared.set(k, new Prepared(ep));
    }
    this.poolRelations();
    this.poolActors();
  }

  /**
   * Actor relations of one resource are pooled (see ActorPool): an endpoint that few callers use (the cards
   * of a user) is judged with the callers of its siblings (the profile), and a caller seen reading other ids
   * on one of them is seen on the resource.
   */
  private poolActors(): void {
    const pools = new Map<string, { pool: ActorPool; endpoints: number }>();
    for (const p of this.prepared.values())
      for (const [name, st] of p.actorParams) {
        let k = name;
        if (name.startsWith('path.')) {
          const at = p.pathParams.find(([, n]) => n === name);
          if (at !== undefined)
            k = `${p.ep.template
              .split('/')
              .slice(0, at[0] + 1)
              .join('/')}\n${name}`;
        }
        let g = pools.get(k);
        if (g === undefined) {
          g = { pool: { callers: 0, others: [], where: '' }, endpoints: 0 };
          pools.set(k, g);
        }
        g.pool.callers += st.actorUserCount;
        g.pool.others.push(st.actorOthers!);
        g.endpoints++;
        const [prefix] = k.split('\n');
        g.pool.where = g.endpoints === 1 ? 'this endpoint' : `${g.endpoints} endpoints of ${prefix}`;
        p.actor.set(name, g.pool);
      }
  }

  /**
   * Relation candidates with the same names (by their last component: `product_id` → `price`) on several
   * endpoints are pooled: ids from every endpoint, agreements counted within each and across them. An
   * endpoint uses the pool when it holds and its own candidate otherwise (when that holds alone).
   */
  private poolRelations(): void {
    const groups = new Map<string, Rel[]>();
    for (const p of this.prepared.values())
      for (const r of p.ep.relations) {
        const rel: Rel = { r, use: null };
        p.rels.push(rel);
        const k = `${leaf(r.x)}\n${leaf(r.y)}`;
        let g = groups.get(k);
        if (g === undefined) {
          g = [];
          groups.set(k, g);
        }
        g.push(rel);
      }
    for (const [k, g] of groups) {
      const pool: Relation = { checks: 0, mismatches: 0, chance: 0, map: new Map(), where: '' };
      const conflicts = new Set<string>();
      let ids = 0;
      for (const { r } of g) {
        pool.checks += r.checks;
        pool.mismatches += r.mismatches;
        for (const x of Object.keys(r.map)) {
          const y = r.map[x]!;
          const cur = pool.map.get(x);
          ids++;
          if (cur === undefined) pool.map.set(x, y);
          else {
            pool.checks++;
            if (cur !== y) {
              pool.mismatches++;
              conflicts.add(x);
            }
          }
        }
        pool.chance += r.chance * Object.keys(r.map).length;
      }
      for (const x of conflicts) pool.map.delete(x);
      pool.chance /= Math.max(1, ids);
      const [lx, ly] = k.split('\n') as [string, string];
      pool.where = g.length === 1 ? 'this endpoint' : `${g.length} endpoints with ${lx} and ${ly}`;
      const pooled = holds(pool);
      for (const rel of g) {
        const own: Relation = {
          checks: rel.r.checks,
          mismatches: rel.r.mismatches,
          chance: rel.r.chance,
          map: new Map(Object.entries(rel.r.map)),
          where: 'this endpoint',
        };
        rel.use = pooled ? pool : holds(own) ? own : null;
      }
    }
  }

  /** The endpoint an event belongs to, and its profile (null when the profile does not have it). */
  endpointOf(e: ApiEvent): { name: string; prepared: Prepared | null } {
    const t = this.matcher.match(e.path);
    if (t !== null) {
      const name = `${e.method} ${t}`;
      const p = this.prepared.get(name);
      if (p !== undefined) return { name, prepared: p };
    }
    return { name: `${e.method} ${shapeKey(e.path)}`, prepared: null };
  }

  score(e: ApiEvent): ScoreResult {
    if (e.method === '-' || e.path === '-' || e.path === '')
      return { score: 0, reasons: [], endpoint: '-', trained: 0 };
    const { name, prepared } = this.endpointOf(e);
    if (prepared === null) return { score: 0, reasons: [], endpoint: name, trained: 0 };
    const ep = prepared.ep;
    const reasons: Reason[] = [];
    const add = (param: string, check: Check, observed: string, expected: string, w: number) => {
      if (w >= this.minWeight)
        reasons.push({ param, check, observed, expected, weight: Math.round(w * 1e4) / 1e4 });
    };
    const r = requestParams(e, prepared.pathParams, this.extract);
    const json = r.body === 'json';
    const seen = new Set<string>();
    for (const v of r.values) {
      const first = !seen.has(v.name);
      seen.add(v.name);
      const p = ep.params.get(v.name);
      if (p === undefined) {
        if (first) {
          if (ep.paramsOverflow > 0 || (v.from === 'body' && ep.jsonBodies === 0)) continue;
          // Good-Turing: the chance that a request carries a name never seen is about (names seen once) / requests.
          const prob = kt(prepared.singletons, ep.requests);
          add(
            v.name,
            'unknown_param',
            valueText(v.o),
            `not one of the ${ep.params.size} parameters seen in ${ep.requests} requests`,
            weightOf(prob),
          );
        }
        continue;
      }
      this.checkValue(v, p, e.ts, add);
    }
    // Missing: parameters (query and top-level body fields) present in nearly every training request.
    for (const [pname, p] of prepared.required) {
      if (seen.has(pname)) continue;
      const body = pname.startsWith('body.');
      if (body && !json) continue;
      const denom = body ? ep.jsonBodies : ep.requests;
      const prob = kt(denom - p.requests, denom);
      add(
        pname,
        'missing',
        'absent',
        `present in ${pct(p.requests / denom)} of ${denom} training requests`,
        weightOf(prob),
      );
    }
    this.checkRelations(prepared, r.values, e.user, add);
    // Status: a rejection the endpoint rarely gives.
    const f = statusFactor(e.status);
    if (f > 0) {
      const c = ep.status.get(e.status) ?? 0;
      const prob = kt(c, ep.requests);
      add('status', 'status', String(e.status), statusMix(ep), f * weightOf(prob));
    }
    reasons.sort((a, b) => b.weight - a.weight || a.param.localeCompare(b.param));
    const score = Math.round(combine(reasons) * 1e4) / 1e4;
    if (reasons.length > this.maxReasons) reasons.length = this.maxReasons;
    return { score, reasons, endpoint: name, trained: ep.requests };
  }

  private checkValue(
    v: ParamValue,
    p: ParamStats,
    ts: number,
    add: (param: string, check: Check, observed: string, expected: string, w: number) => void,
  ): void {
    const o = v.o;
    const n = p.values;
    const text = valueText(o);
    // Wire kind (JSON bodies): a string where numbers were, an object where strings were.
    const kc = p.kinds[o.kind] ?? 0;
    if (kc < n) {
      const w = weightOf(kt(kc, n));
      if (w >= this.minWeight) {
        add(
          v.name,
          'type',
          `${text} (JSON ${KIND_NAME[o.kind]})`,
          shares(p.kinds as Record<string, number>, n, KIND_NAME),
          w,
        );
        return;
      }
    }
    // Type / format.
    let compat = p.types[o.type] ?? 0;
    for (const u of fitsInto(o.type)) {
      if (u === 'hex' && o.text !== null && (o.text.length < p.minLength || o.text.length > p.maxLength))
        continue;
      compat += p.types[u] ?? 0;
    }
    if (compat < n) {
      const prob = kt(compat, n);
      const dominant = dominantType(p);
      const check: Check = FORMAT_TYPES.has(dominant) ? 'format' : 'type';
      const w = weightOf(prob);
      if (w >= this.minWeight) {
        add(v.name, check, `${text} (${o.type})`, shares(p.types as Record<string, number>, n), w);
        return;
      }
    }
    if (o.type === 'secret' || o.text === null) return;
    // Numeric range and sign.
    const numeric = !Number.isNaN(o.num) && p.num.n > 0;
    if (numeric) {
      const off = p.isClock() ? clockOffset(o.num, ts) : null;
      if (off !== null) this.checkRange(v.name, off, p.clock, add, 's from the request time');
      else this.checkRange(v.name, o.num, p.num, add);
    }
    // Length and characters of text (a number's are its range's business).
    if (o.kind === 'str' && !numeric) {
      // Length.
      const len = o.text.length;
      if (p.lengths.size > 0 && (len < p.minLength || len > p.maxLength)) {
        const sigma = lengthSpread(p);
        const z = len > p.maxLength ? (len - p.maxLength) / sigma : (p.minLength - len) / sigma;
        const prob = floor(Math.exp(-z), n);
        add(
          v.name,
          'length',
          `${len} characters`,
          p.minLength === p.maxLength ? `exactly ${p.maxLength}` : `${p.minLength}..${p.maxLength}`,
          weightOf(prob),
        );
      }
      // Character classes never (or rarely) seen in this parameter.
      const m = charMask(o.text);
      let strs = 0;
      for (const c of p.lengths.values()) strs += c;
      if (strs > 0) {
        let minProb = 1;
        const rare: string[] = [];
        for (let i = 0; i < CHAR_CLASSES.length; i++) {
          if (!(m & (1 << i))) continue;
          const prob = kt(p.classCount(i), strs);
          if (prob < 0.05) rare.push(CHAR_CLASSES[i]!);
          if (prob < minProb) minProb = prob;
        }
        if (rare.length > 0) {
          const seen: string[] = [];
          for (let i = 0; i < CHAR_CLASSES.length; i++) if (p.classCount(i) > 0) seen.push(CHAR_CLASSES[i]!);
          // Free text (no enumeration) varies more: half weight.
          const f = p.tally === null ? 0.5 : 1;
          add(
            v.name,
            'charset',
            `${text} has ${rare.join(', ')}`,
            `characters: ${seen.join(', ') || 'none'}`,
            f * weightOf(floor(minProb, strs)),
          );
        }
      }
    }
    // Enumeration: a value never seen where a small set repeats (not for numbers: the range covers them).
    if (p.tally !== null && Number.isNaN(o.num) && !p.tally.has(o.text) && p.num.n < p.values / 2) {
      let singles = 0;
      for (const c of p.tally.values()) if (c === 1) singles++;
      const prob = kt(singles, n);
      add(v.name, 'enum', text, `one of ${enumText(p.tally)}`, weightOf(prob));
    }
  }

  private checkRange(
    name: string,
    x: number,
    s: NumericStats,
    add: (param: string, check: Check, observed: string, expected: string, w: number) => void,
    unit = '',
  ): void {
    const n = s.n;
    // The robust extremes: values beyond them came from too few callers to widen the range (NumericStats).
    const lo = s.low();
    const hi = s.high();
    const u = unit === '' ? '' : ` ${unit}`;
    const span = `${fmt(lo)}..${fmt(hi)}${u}`;
    const trimmed = lo > s.min || hi < s.max;
    const exact = trimmed ? `; ${fmt(s.min)}..${fmt(s.max)} with values too few callers sent` : '';
    const seen = `${fmt(x)}${u}`;
    // Sign: a non-positive value where training had none (quantities, amounts, counts).
    if (x <= 0 && lo > 0) {
      add(
        name,
        'range',
        seen,
        `> 0 (${s.min > 0 ? 'all' : 'nearly all'} ${n} training values were positive: ${span}${exact})`,
        weightOf(kt(0, n)),
      );
      return;
    }
    if (x < 0 && lo >= 0) {
      add(
        name,
        'range',
        seen,
        `>= 0 (${s.negative === 0 ? 'no' : 'nearly no'} negative value in ${n} training values: ${span}${exact})`,
        weightOf(kt(0, n)),
      );
      return;
    }
    if (x >= lo && x <= hi) return;
    // Beyond the robust extremes: an exponential tail whose scale is the mean excess over the 90th (10th)
    // percentile of the sample inside them, in log space when the values are positive and span a decade or more.
    const log = lo > 0 && x > 0 && hi >= lo * 10;
    const tf = log ? Math.log : (v: number) => v;
    const sorted = s.sortedSample();
    const t = (trimmed ? sorted.filter((v) => v >= lo && v <= hi) : sorted).map(tf);
    const upper = x > hi;
    let scale = tailScale(t, upper);
    // Inside the exact extremes (values a few callers sent): whole numbers differ by at least one, so a
    // concentrated parameter (a page that is nearly always 2) is not made strict by its own trim.
    if (!log && x >= s.min && x <= s.max && s.fractional === 0) scale = Math.max(scale, 1);
    const excess = upper ? tf(x) - tf(hi) : tf(lo) - tf(x);
    // A constant (no spread at all): any other value is new.
    const prob = scale > 0 ? floor(Math.exp(-excess / scale), n) : kt(0, n);
    add(
      name,
      'range',
      seen,
      `${span} (median ${fmt(quantile(sorted, 0.5))}, ${n} values${exact})`,
      weightOf(prob),
    );
  }

  private checkRelations(
    prepared: Prepared,
    values: ParamValue[],
    user: string | null,
    add: (param: string, check: Check, observed: string, expected: string, w: number) => void,
  ): void {
    let scopes: Map<number, ParamValue[]> | null = null;
    for (const { r, use } of prepared.rels) {
      if (use === null) continue;
      scopes ??= byScope(values);
      // Every (x, y) pair of one scope: each line of an order is checked.
      for (const vs of scopes.values()) {
        const xv = vs.find((v) => v.name === r.x);
        if (xv === undefined || xv.o.text === null) continue;
        const yv = vs.find((v) => v.name === r.y);
        if (yv === undefined || Number.isNaN(yv.o.num)) continue;
        const id = xv.o.text;
        const expected = use.map.get(id);
        if (expected === undefined || expected === yv.o.num) continue;
        const rel = Math.abs(yv.o.num - expected) / Math.max(Math.abs(expected), 1e-9);
        const prob = kt(use.mismatches, use.checks);
        add(
          r.y,
          'relation',
          `${fmt(yv.o.num)} with ${r.x} = ${show(id)}`,
          `${fmt(expected)} (${leaf(r.y)} is a function of ${leaf(r.x)} on ${use.where}: ${use.checks - use.mismatches} of ${use.checks} repeated ids agreed)`,
          Math.min(1, rel / 0.05) * weightOf(prob),
        );
      }
    }
    if (user !== null && prepared.actor.size > 0) {
      const userType = stringType(user);
      for (const v of values) {
        const pool = prepared.actor.get(v.name);
        if (pool === undefined || v.o.text === null || v.o.text === user || !sameIdSpace(userType, v.o.type))
          continue;
        let others = 0;
        let seen = 0;
        for (const o of pool.others) {
          others += o.size;
          if (o.has(user)) seen++;
        }
        if (seen > 0 && !this.selfTrained) continue;
        // How often a caller reads ids that are not their own: the share of callers that ever did (without
        // this one when the profile was learned from this traffic).
        others -= seen;
        const callers = pool.callers - seen;
        const prob = kt(others, callers);
        add(
          v.name,
          'relation',
          `${show(v.o.text)}, the caller is user ${show(user)}`,
          `the caller's own user id (for ${callers - others} of ${callers} training callers on ${pool.where}${pool.others.length > 1 ? ', counted per endpoint' : ''}${others > 0 ? `; ${others} other${others === 1 ? ' caller' : 's'} read other ids${this.selfTrained ? '' : ' and are exempt'}` : ''}${seen > 0 ? '; this caller did too, in training traffic not vetted as normal' : ''})`,
          weightOf(prob),
        );
      }
    }
  }
}

const KIND_NAME: Record<WireKind, string> = {
  str: 'string',
  num: 'number',
  bool: 'boolean',
  null: 'null',
  obj: 'object',
  arr: 'array',
};

/**
 * The probability of an event seen `c` times in `n` (Krichevsky–Trofimov, add-½): (c + ½) / (n + 1). An event
 * never seen in n observations is 1 / (2n + 2): little training can never make a strong finding.
 */
function kt(c: number, n: number): number {
  return (c + 0.5) / (n + 1);
}

/** A model probability never below what `n` observations can tell apart (an event never seen in them). */
function floor(p: number, n: number): number {
  return Math.max(p, kt(0, n));
}

function dominantType(p: ParamStats): ValueType {
  let best: ValueType = 'string';
  let bestN = -1;
  for (const k in p.types) {
    const c = p.types[k as ValueType]!;
    if (c > bestN) [best, bestN] = [k as ValueType, c];
  }
  return best;
}

function shares(counts: Record<string, number>, n: number, names?: Record<string, string>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, c]) => `${names?.[k] ?? k} (${pct(c / Math.max(1, n))})`)
    .join(', ');
}

function enumText(tally: Map<string, number>): string {
  const vs = [...tally.entries()].sort((a, b) => b[1] - a[1]);
  const head = vs.slice(0, 8).map(([v]) => show(v));
  return `${head.join(', ')}${vs.length > 8 ? ` … (${vs.length} values)` : ''}`;
}

function statusMix(ep: EndpointProfile): string {
  const all = [...ep.status.entries()].sort((a, b) => b[1] - a[1]);
  return `${all
    .slice(0, 4)
    .map(([s, c]) => `${s} (${pct(c / ep.requests)})`)
    .join(', ')} of ${ep.requests} requests`;
}

/**
 * The scale of an exponential tail fitted beyond the 90th percentile (upper) or below the 10th (lower) of a
 * sorted sample: the mean excess; at least a quarter of the interquartile spread, so a few tied values do not
 * make it zero. 0 for a constant.
 */
function tailScale(t: readonly number[], upper: boolean): number {
  const u = quantile(t, upper ? 0.9 : 0.1);
  let sum = 0;
  let k = 0;
  for (const v of t) {
    const d = upper ? v - u : u - v;
    if (d > 0) {
      sum += d;
      k++;
    }
  }
  const iqr = quantile(t, 0.75) - quantile(t, 0.25);
  const range = t.length > 0 ? t[t.length - 1]! - t[0]! : 0;
  return Math.max(k > 0 ? sum / k : 0, iqr / 4, range / Math.max(4, t.length));
}

function lengthSpread(p: ParamStats): number {
  const ks = [...p.lengths.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const k of ks) total += p.lengths.get(k)!;
  const at = (q: number) => {
    let seen = 0;
    for (const k of ks) {
      seen += p.lengths.get(k)!;
      if (seen >= q * total) return k;
    }
    return ks.at(-1)!;
  };
  return Math.max(0.5, (at(0.9) - at(0.1)) / 2.56);
}

/** A path with id-shaped segments replaced (for endpoints the profile does not have). */
export function shapeKey(path: string): string {
  const segs = path.split('/');
  for (let i = 1; i < segs.length; i++) {
    const sh = segmentShape(segs[i]!);
    if (ID_SHAPES.has(sh)) segs[i] = `{${PARAM_NAME[sh]}}`;
  }
  const key = segs.join('/') || '/';
  return key.length <= 256 ? key : `${key.slice(0, 255)}…`;
}
