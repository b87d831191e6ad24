/**
 * Threshold profiling (docs/profiling.md). Per detection feature — per endpoint and actor kind for the rate
 * features, per actor kind for the others — and per period (an hour of the training range): each actor's peak
 * value in the period, outliers by DBSCAN (src/profiling/outliers.ts). The seed's numbers are kept: the
 * period's threshold is its smallest outlier, the seed's reference is the largest of those. The threshold we
 * recommend is the edge of normal instead — the largest value inside the bulk, over all periods — which an
 * attack inside the training range cannot drag upward (a lone burst is an outlier, not part of the bulk).
 * Each number carries its evidence: actors, periods, outliers, and a confidence from how many support it.
 * Endpoints with too little traffic borrow the pooled profile of their scenario (cold start).
 */

import { owned } from '../core/strings.js';
import { type BehaviourModelJson, behaviourModelProblem } from '../detect/detectors/behaviour.js';
import { type Signal, splitKey } from '../detect/features.js';
import { KEY_SEP, type Snapshot } from '../features/stream.js';
import { ocsvmPeriodThreshold } from './ocsvm-check.js';
import { periodOutliers } from './outliers.js';

export const PROFILE_VERSION = 1;
export const DEFAULT_PERIOD_MS = 3_600_000;
/** A period with fewer actors says nothing about outliers. */
const MIN_PERIOD_ACTORS = 8;
/** Fewer actors than this per period on average: the periods are pooled into one. */
const SPARSE_ACTORS = 30;
/** An endpoint needs this many actor-periods of its own; otherwise it borrows its scenario's threshold. */
const MIN_SUPPORT = 30;
/**
 * Habitual: over the threshold in at least 3 periods and in HABITUAL_SHARE of the periods it was active, and
 * active in at least HABITUAL_SHARE of all periods (a campaign of a few hours is not a habit).
 */
const HABITUAL_SHARE = 0.25;
const MAX_HABITUAL = 10_000;

export interface Threshold {
  /** Values above this are abnormal (the edge of normal, over all periods). */
  threshold: number;
  /** The seed's reference: the largest of the periods' smallest outliers (null: no period had one). */
  seedThreshold: number | null;
  /** 0..1, from the actors and periods behind the number. */
  confidence: number;
  /** Actor-periods the number was learned from. */
  actors: number;
  periods: number;
  outliers: number;
  /** Median, 99th and 99.9th percentile of the actors' peak values. */
  p50: number;
  p99: number;
  p999: number;
  /** Mean and standard deviation of the peaks, and their median absolute deviation (statistical rules). */
  mean: number;
  std: number;
  mad: number;
  /** Set when the endpoint had too little traffic and borrowed its scenario's pooled threshold. */
  borrowedFrom?: string;
  /** Set when no period had enough actors and the periods were pooled into one (half confidence). */
  pooledPeriods?: boolean;
  /**
   * The One-Class SVM's second opinion (population and per-endpoint thresholds learned from their own
   * traffic): the largest over periods of the smallest value above the median outside the SVM's boundary
   * (null: the SVM left nothing above the median outside).
   */
  ocsvmThreshold?: number | null;
}

export interface FeatureProfile {
  actor: string;
  unit: string;
  perEndpoint: boolean;
  /** Over every actor (and, per endpoint features, every endpoint) of the training range. */
  population: Threshold | null;
  /** Per endpoint (per-endpoint features only). */
  endpoints: Record<string, Threshold & { scenario: string }>;
  /** Pooled per scenario: the cold-start fallback. */
  scenarios: Record<string, Threshold>;
}

export interface Profile {
  kind: 'apiwarden-profile';
  version: number;
  /** Training range (ms epoch) and period length. */
  from: number;
  to: number;
  periodMs: number;
  method: string;
  features: Record<string, FeatureProfile>;
  /**
   * Per feature: actors that crossed its threshold in many periods while active most of the training range —
   * a schedule, a partner's sweep, an office's NAT — with their own usual peak (the median of their period
   * peaks). They are judged against themselves: a value over twice their own usual peak.
   */
  habitual: Record<string, Record<string, number>>;
  /** Per-endpoint parameter profiles for forged-parameter scoring (docs/params.md), when learned. */
  params?: unknown;
  /**
   * Fitted models (src/detect/detectors/behaviour.ts), when there was enough traffic: the behaviour model's
   * Isolation Forest, K-Means and DBSCAN core points with their percentile lines (docs/profiling.md).
   */
  models?: { behaviour?: BehaviourModelJson };
}

const METHOD =
  'per period: each actor’s peak value; DBSCAN on log1p(values) with eps = max(ln 2, median k-distance), ' +
  'minPts 5; threshold = max over periods of the largest in-cluster value; seedThreshold = max over periods ' +
  'of the smallest outlier; ocsvmThreshold = max over periods of the smallest value above the ' +
  'median outside a One-Class SVM (nu 0.02, RBF, gamma scale) fitted on the period; ' +
  'confidence = (1 - e^(-actors/100)) * (1 - e^(-periods/3))';

/** Per group: period → actor → peak value. */
type Peaks = Map<number, Map<string, number>>;

function addPeak(g: Peaks, period: number, actor: string, v: number): void {
  let m = g.get(period);
  if (m === undefined) {
    m = new Map();
    g.set(period, m);
  }
  const old = m.get(actor);
  if (old === undefined) m.set(owned(actor), v);
  else if (v > old) m.set(actor, v);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** `ocsvm`: also compute the One-Class SVM's period thresholds (population thresholds; see ocsvm-check.ts). */
export function learnThreshold(g: Peaks, ocsvm = false): Threshold | null {
  let ocsvmThreshold: number | null = null;
  let actors = 0;
  let periods = 0;
  let outliers = 0;
  let threshold = Number.NEGATIVE_INFINITY;
  let seed: number | null = null;
  const all: number[] = [];
  for (const m of g.values()) {
    const vals = [...m.values()];
    for (const v of vals) all.push(v);
    if (vals.length < MIN_PERIOD_ACTORS) continue;
    const o = periodOutliers(vals);
    periods++;
    actors += o.n;
    outliers += o.outliers;
    if (o.inlierMax > threshold) threshold = o.inlierMax;
    if (o.minOutlier !== null && (seed === null || o.minOutlier > seed)) seed = o.minOutlier;
    if (ocsvm) {
      const t = ocsvmPeriodThreshold(vals);
      if (t !== null && (ocsvmThreshold === null || t > ocsvmThreshold)) ocsvmThreshold = t;
    }
  }
  let pooled = false;
  if (periods === 0 || actors < SPARSE_ACTORS * periods) {
    // Too few actors per period (an endpoint a handful of clients call all day, a rare behaviour like OTP
    // requests): one period's bulk is a handful of actors, which a few attackers can outnumber. Pool them.
    if (all.length < MIN_SUPPORT) return null;
    const o = periodOutliers(all);
    periods = g.size;
    actors = o.n;
    outliers = o.outliers;
    threshold = o.inlierMax;
    seed = o.minOutlier;
    if (ocsvm) ocsvmThreshold = ocsvmPeriodThreshold(all);
    pooled = true;
  }
  const sorted = Float64Array.from(all).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / Math.max(1, sorted.length);
  let sq = 0;
  for (const v of sorted) sq += (v - mean) * (v - mean);
  const median = quantile(sorted, 0.5);
  const dev = Float64Array.from(sorted, (v) => Math.abs(v - median)).sort();
  return {
    threshold: round(threshold),
    seedThreshold: seed === null ? null : round(seed),
    confidence: round((1 - Math.exp(-actors / 100)) * (1 - Math.exp(-periods / 3)) * (pooled ? 0.5 : 1)),
    actors,
    periods,
    outliers,
    p50: round(median),
    p99: round(quantile(sorted, 0.99)),
    p999: round(quantile(sorted, 0.999)),
    mean: round(mean),
    std: round(Math.sqrt(sq / Math.max(1, sorted.length))),
    mad: round(quantile(dev, 0.5)),
    ...(pooled ? { pooledPeriods: true } : {}),
    ...(ocsvm ? { ocsvmThreshold } : {}),
  };
}

/** Learns a profile from the snapshots of the detection features, fed in any order. */
export class ProfileBuilder {
  private readonly signals = new Map<string, Signal>();
  /** feature → endpoint ('' for population features) → peaks */
  private readonly groups = new Map<string, Map<string, Peaks>>();
  private from = Number.POSITIVE_INFINITY;
  private to = Number.NEGATIVE_INFINITY;

  constructor(
    signals: readonly Signal[],
    private readonly scenarioOf: (endpoint: string) => string,
    private readonly periodMs = DEFAULT_PERIOD_MS,
    /** Endpoints that get their own entry (default: all); the others still count in the pools. */
    private readonly listed: (endpoint: string) => boolean = () => true,
  ) {
    for (const s of signals) this.signals.set(s.feature, s);
  }

  add(s: Snapshot): void {
    const sig = this.signals.get(s.feature);
    if (sig === undefined || s.value === null || s.events < sig.minEvents) return;
    if (s.windowStart < this.from) this.from = s.windowStart;
    if (s.windowEnd > this.to) this.to = s.windowEnd;
    let byEndpoint = this.groups.get(s.feature);
    if (byEndpoint === undefined) {
      byEndpoint = new Map();
      this.groups.set(s.feature, byEndpoint);
    }
    const [actor, ep] = splitKey(sig, s.key);
    const endpoint = ep ?? '';
    let g = byEndpoint.get(endpoint);
    if (g === undefined) {
      g = new Map();
      byEndpoint.set(endpoint, g);
    }
    addPeak(g, Math.floor(s.windowStart / this.periodMs) * this.periodMs, actor, s.value);
  }

  build(): Profile {
    const features: Record<string, FeatureProfile> = {};
    const habitual: Record<string, Record<string, number>> = {};
    for (const [feature, byEndpoint] of this.groups) {
      const sig = this.signals.get(feature)!;
      const fp: FeatureProfile = {
        actor: sig.actor,
        unit: sig.unit,
        perEndpoint: sig.perEndpoint,
        population: null,
        endpoints: {},
        scenarios: {},
      };
      // Pools: the population, and per scenario (endpoint-qualified actors, so each endpoint's actors count).
      const pool: Peaks = new Map();
      const byScenario = new Map<string, Peaks>();
      for (const [endpoint, g] of byEndpoint) {
        const scenario = endpoint === '' ? '' : this.scenarioOf(endpoint);
        let sp = byScenario.get(scenario);
        if (sp === undefined) {
          sp = new Map();
          byScenario.set(scenario, sp);
        }
        for (const [period, m] of g)
          for (const [actor, v] of m) {
            const a = endpoint === '' ? actor : `${actor}${KEY_SEP}${endpoint}`;
            addPeak(pool, period, a, v);
            addPeak(sp, period, a, v);
          }
      }
      fp.population = learnThreshold(pool, true);
      if (sig.perEndpoint) {
        for (const [scenario, sp] of byScenario) {
          const t = learnThreshold(sp);
          if (t !== null) fp.scenarios[scenario] = t;
        }
        for (const [endpoint, g] of byEndpoint) {
          if (!this.listed(endpoint)) continue;
          const scenario = this.scenarioOf(endpoint);
          const own = learnThreshold(g, true);
          if (own !== null && own.actors >= MIN_SUPPORT) fp.endpoints[endpoint] = { ...own, scenario };
          else {
            const borrowed = fp.scenarios[scenario] ?? fp.population;
            if (borrowed !== null && borrowed !== undefined)
              fp.endpoints[endpoint] = {
                ...borrowed,
                scenario,
                borrowedFrom: fp.scenarios[scenario] !== undefined ? `scenario:${scenario}` : 'population',
              };
          }
        }
      }
      features[feature] = fp;
      // Habitual actors: over the threshold in many periods, active through most of the range.
      const crossings = new Map<string, number>();
      const active = new Map<string, number[]>();
      const periods = new Set<number>();
      for (const [endpoint, g] of byEndpoint) {
        const t = endpoint === '' ? fp.population : fp.endpoints[endpoint];
        if (t === null || t === undefined) continue;
        for (const [period, m] of g) {
          periods.add(period);
          for (const [actor, v] of m) {
            const peaks = active.get(actor);
            if (peaks === undefined) active.set(actor, [v]);
            else peaks.push(v);
            if (v > t.threshold) crossings.set(actor, (crossings.get(actor) ?? 0) + 1);
          }
        }
      }
      const own: [string, number][] = [];
      for (const [actor, c] of crossings) {
        const peaks = active.get(actor)!;
        if (c < 3 || c < HABITUAL_SHARE * peaks.length || peaks.length < HABITUAL_SHARE * periods.size)
          continue;
        peaks.sort((a, b) => a - b);
        own.push([actor, peaks[peaks.length >> 1]!]);
      }
      own.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      if (own.length > 0) habitual[feature] = Object.fromEntries(own.slice(0, MAX_HABITUAL));
    }
    return {
      kind: 'apiwarden-profile',
      version: PROFILE_VERSION,
      from: Number.isFinite(this.from) ? this.from : 0,
      to: Number.isFinite(this.to) ? this.to : 0,
      periodMs: this.periodMs,
      method: METHOD,
      features,
      habitual,
    };
  }
}

/** The threshold a snapshot of `feature` for `endpoint` is judged against (null: nothing learned). */
export function thresholdFor(
  p: Profile,
  feature: string,
  endpoint: string | null,
  scenario: string,
): Threshold | null {
  const fp = p.features[feature];
  if (fp === undefined) return null;
  if (!fp.perEndpoint || endpoint === null) return fp.population;
  return fp.endpoints[endpoint] ?? fp.scenarios[scenario] ?? fp.population;
}

/** Reads a profile file's text: the kind and version are checked, and the shape of every threshold. */
export function readProfile(text: string): { ok: true; value: Profile } | { ok: false; error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON (${(e as Error).message})` };
  }
  const p = doc as Partial<Profile> | null;
  if (p === null || typeof p !== 'object' || p.kind !== 'apiwarden-profile')
    return {
      ok: false,
      error:
        'not an apiwarden profile (expected "kind": "apiwarden-profile"; write one with apiwarden profile)',
    };
  if (p.version !== PROFILE_VERSION)
    return {
      ok: false,
      error: `profile version ${String(p.version)} is not supported (this apiwarden reads version ${PROFILE_VERSION}); learn it again with apiwarden profile`,
    };
  if (typeof p.features !== 'object' || p.features === null)
    return { ok: false, error: 'field "features" must be an object' };
  for (const [name, f] of Object.entries(p.features)) {
    const all: [string, unknown][] = [
      ['population', f.population],
      ...Object.entries(f.endpoints ?? {}).map(([k, v]) => [`endpoints["${k}"]`, v] as [string, unknown]),
      ...Object.entries(f.scenarios ?? {}).map(([k, v]) => [`scenarios["${k}"]`, v] as [string, unknown]),
    ];
    for (const [where, t] of all) {
      if (t === null && where === 'population') continue;
      const th = (t as Threshold | undefined)?.threshold;
      if (typeof th !== 'number' || !Number.isFinite(th))
        return { ok: false, error: `features["${name}"].${where}.threshold must be a number` };
    }
  }
  if (typeof p.habitual !== 'object' || p.habitual === null)
    return { ok: false, error: 'field "habitual" must be an object' };
  if (p.models !== undefined) {
    if (typeof p.models !== 'object' || p.models === null)
      return { ok: false, error: 'field "models" must be an object' };
    if (p.models.behaviour !== undefined) {
      const problem = behaviourModelProblem(p.models.behaviour);
      if (problem !== null) return { ok: false, error: `models.behaviour: ${problem}` };
    }
  }
  return { ok: true, value: p as Profile };
}
