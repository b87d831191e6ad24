/**
 * A model of behaviour: every address's 10-minute window becomes a vector of eleven numbers (requests,
 * endpoints, error share, asset share, failed logins, OTP requests, ids read, id steps of 1-2, bytes per request, POST
 * share, paths answered 4xx), log-scaled, plus two threat-intel columns when intel is configured (listed_ip:
 * the address is on a non-allow list; listed_agent: the share of its requests whose agent is on one).
 *
 * Three models are fitted on the training windows, three different ideas of "unlike the rest":
 * - an Isolation Forest (src/detect/models/iforest.ts): how few random cuts isolate the window;
 * - K-Means distance over robust-scaled rows (src/detect/models/kmeans.ts): how far from the nearest of 8
 *   centroids, in that cluster's typical radii; unlike the forest it keeps growing beyond the training range;
 * - DBSCAN as a density model (src/detect/models/dbscan.ts): how far, in eps, from the nearest core point
 *   (a window with at least minPts windows within eps) of normal behaviour. minPts is 2 x columns (Sander et al.
 *   1998's rule), eps the knee of the training rows' k-distance curve: both come from the data's own density,
 *   not from a guess about its units. The core points are kept (at most MAX_CORES, a seeded sample) in a
 *   KD-tree for the nearest-neighbour query.
 * Each model's lines are its 99th and 99.9th training percentiles. A window is abnormal when at least two of
 * the three models put it beyond their 99th and at least one beyond its 99.9th: no single model's blind spot
 * (the forest cannot tell values beyond the training range apart; a centroid can sit between two clusters;
 * density is blind where the training data was sparse) raises an alert alone.
 *
 * Intel columns are features, never the only reason (docs/intel.md): a listed window is flagged only if the
 * same window with its intel columns cleared is still beyond the 99th percentile of two models. So intel can
 * lift an unusual window over the line and raises the scores of an abnormal one, but an ordinary window from
 * a listed address stays quiet. A profile learned without intel has no intel columns in its models: a column
 * that was 0 for every training window adds, for a distance model, exactly its value squared to the squared
 * distance (every centroid and core point is at 0 there), which is how they are scored; the forest cannot
 * split on such a column and does not see it. With no intel configured, the columns are 0 and every score is
 * that of the eleven-column models.
 *
 * A finding is explained by the features that isolated it (mass reduction), those farthest from its centroid
 * and from its nearest core point, and named by its most specific behavioural feature (failed logins →
 * credential stuffing, ids read → crawler, bytes → exfiltration …). Windows with fewer than MIN_REQUESTS
 * requests are not judged: too little to say.
 */
import { owned } from '../../core/strings.js';
import type { FeatureEvent } from '../../features/enrich.js';
import type { Detector, DetectorContext, IntelCategories } from '../detector.js';
import { coreDistances, DBSCAN, kneeEps } from '../models/dbscan.js';
import { IsolationForest } from '../models/iforest.js';
import { KMeans } from '../models/kmeans.js';
import { Scaler } from '../models/scale.js';
import type { Contribution } from '../models/types.js';
import type { AnomalyType, Evidence } from '../types.js';

export const BEHAVIOUR_FEATURES = [
  'requests',
  'endpoints',
  'error_share',
  'asset_share',
  'auth_failures',
  'otp_requests',
  'ids_read',
  'id_steps',
  'bytes_per_request',
  'post_share',
  'paths_4xx',
] as const;
/** The intel columns, after the behavioural ones; 0 when no intel is configured. */
export const BEHAVIOUR_INTEL_FEATURES = ['listed_ip', 'listed_agent'] as const;
const ALL_FEATURES: readonly string[] = [...BEHAVIOUR_FEATURES, ...BEHAVIOUR_INTEL_FEATURES];
/** Behavioural columns, and all columns of a window's row. */
const BEH = BEHAVIOUR_FEATURES.length;
const COLS = ALL_FEATURES.length;
const LISTED_IP = BEH;
const LISTED_AGENT = BEH + 1;
const TYPE_OF: Record<(typeof BEHAVIOUR_FEATURES)[number], AnomalyType> = {
  requests: 'high_frequency',
  endpoints: 'scanner',
  error_share: 'scanner',
  asset_share: 'crawler',
  auth_failures: 'credential_stuffing',
  otp_requests: 'otp_abuse',
  ids_read: 'crawler',
  id_steps: 'crawler',
  bytes_per_request: 'data_exfiltration',
  post_share: 'high_frequency',
  paths_4xx: 'scanner',
};
const SPECIFIC = new Set<string>([
  'auth_failures',
  'otp_requests',
  'ids_read',
  'id_steps',
  'bytes_per_request',
  'paths_4xx',
]);
export const BEHAVIOUR_WINDOW_MS = 600_000;
const MIN_REQUESTS = 10;
const MAX_LIST = 32;
const MAX_ACTORS = 200_000;
/** DBSCAN runs on at most this many training windows (a seeded sample) and keeps at most MAX_CORES cores. */
const DBSCAN_SAMPLE = 5_000;
const MAX_CORES = 2_000;
/** Core points are stored rounded to 1e-4 robust units (an IQR / 10,000): a compact profile. */
const CORE_DECIMALS = 4;
/** The behaviour model's format (profile.json → models.behaviour.version). */
export const BEHAVIOUR_MODEL_VERSION = 2;

/** Threat intel for the windows: the categories of the lists naming an address and an agent. */
export type IntelOf = (ip: string, userAgent: string | null) => IntelCategories;

/** Named on a non-allow list, and on no allow list (an allow list lowers suspicion). */
const listed = (c: readonly string[]): boolean => c.some((x) => x !== 'allow') && !c.includes('allow');

interface Acc {
  all: number;
  api: number;
  statics: number;
  err: number;
  auth: number;
  otp: number;
  ids: number;
  steps: number;
  bytes: number;
  post: number;
  prevId: number;
  endpoints: string[];
  paths4xx: string[];
  first: number;
  last: number;
  /** Intel only: the agent last looked up (undefined: none yet), whether it is listed, requests with one. */
  agent: string | null | undefined;
  agentListed: boolean;
  listedAgent: number;
}

/** Per-address 10-minute windows in event time, closed by the watermark; each closed window is a row. */
export class BehaviourWindows {
  private window = Number.NaN;
  private acc = new Map<string, Acc>();
  overflow = 0;

  constructor(
    private readonly onRow: (ip: string, row: Float64Array, acc: Acc, start: number) => void,
    private readonly intelOf?: IntelOf,
  ) {}

  add(e: FeatureEvent): void {
    const w = Math.floor(e.ts / BEHAVIOUR_WINDOW_MS);
    if (Number.isNaN(this.window)) this.window = w;
    if (w > this.window) {
      this.close();
      this.window = w;
    } else if (w < this.window) return;
    let a = this.acc.get(e.ip);
    if (a === undefined) {
      if (this.acc.size >= MAX_ACTORS) {
        this.overflow++;
        return;
      }
      a = {
        all: 0,
        api: 0,
        statics: 0,
        err: 0,
        auth: 0,
        otp: 0,
        ids: 0,
        steps: 0,
        bytes: 0,
        post: 0,
        prevId: Number.NaN,
        endpoints: [],
        paths4xx: [],
        first: e.ts,
        last: e.ts,
        agent: undefined,
        agentListed: false,
        listedAgent: 0,
      };
      this.acc.set(owned(e.ip), a);
    }
    a.all++;
    a.last = e.ts;
    if (this.intelOf !== undefined) {
      // One lookup per change of agent (an address usually keeps one).
      if (e.userAgent !== a.agent) {
        a.agent = e.userAgent === null ? null : owned(e.userAgent);
        a.agentListed = e.userAgent !== null && listed(this.intelOf(e.ip, e.userAgent).agent);
      }
      if (a.agentListed) a.listedAgent++;
    }
    if (e.scenario === 'static') {
      a.statics++;
      return;
    }
    a.api++;
    if (e.status >= 400 && e.status < 500) {
      a.err++;
      if (a.paths4xx.length < MAX_LIST && !a.paths4xx.includes(e.path)) a.paths4xx.push(e.path);
    }
    if (e.scenario === 'authentication' && e.status >= 400 && e.status < 500) a.auth++;
    if (e.scenario === 'otp') a.otp++;
    if (e.numericId !== null) {
      a.ids++;
      const d = Math.abs(e.numericId - a.prevId);
      if (d >= 1 && d <= 2) a.steps++;
      a.prevId = e.numericId;
    }
    if (e.bytesOut !== null && e.bytesOut > 0) a.bytes += e.bytesOut;
    if (e.method === 'POST') a.post++;
    if (a.endpoints.length < MAX_LIST && !a.endpoints.includes(e.endpoint)) a.endpoints.push(e.endpoint);
  }

  finish(): void {
    if (!Number.isNaN(this.window)) this.close();
  }

  private close(): void {
    const start = this.window * BEHAVIOUR_WINDOW_MS;
    const row = new Float64Array(COLS);
    for (const [ip, a] of this.acc) {
      if (a.api < MIN_REQUESTS) continue;
      row[0] = Math.log1p(a.api);
      row[1] = Math.log1p(a.endpoints.length);
      row[2] = a.err / a.api;
      row[3] = a.statics / a.all;
      row[4] = Math.log1p(a.auth);
      row[5] = Math.log1p(a.otp);
      row[6] = Math.log1p(a.ids);
      row[7] = a.ids < 3 ? 0 : a.steps / (a.ids - 1);
      row[8] = Math.log1p(a.bytes / a.api);
      row[9] = a.post / a.api;
      row[10] = Math.log1p(a.paths4xx.length);
      row[LISTED_IP] = 0;
      row[LISTED_AGENT] = 0;
      if (this.intelOf !== undefined) {
        const address = this.intelOf(ip, null).address;
        // An allow-listed address counts as unlisted, its agent too.
        if (!address.includes('allow')) {
          row[LISTED_IP] = listed(address) ? 1 : 0;
          row[LISTED_AGENT] = a.listedAgent / a.all;
        }
      }
      this.onRow(ip, row, a, start);
    }
    this.acc = new Map();
  }
}

/** A quantile of sorted values (the lower order statistic). */
const quantile = (v: Float64Array, p: number) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1)))]!;

/** Training rows (a uniform reservoir of at most `max`), then the models and their lines. */
export class BehaviourTrainer {
  private readonly rows: Float64Array;
  private n = 0;
  private seen = 0;
  private state = 0x9e3779b9;
  readonly windows: BehaviourWindows;

  constructor(
    private readonly max = 100_000,
    intelOf?: IntelOf,
  ) {
    this.rows = new Float64Array(max * COLS);
    this.windows = new BehaviourWindows((_ip, row) => this.take(row), intelOf);
  }

  private take(row: Float64Array): void {
    this.seen++;
    let slot = this.n;
    if (this.n >= this.max) {
      // xorshift32: deterministic reservoir sampling.
      this.state ^= this.state << 13;
      this.state ^= this.state >>> 17;
      this.state ^= this.state << 5;
      slot = (this.state >>> 0) % this.seen;
      if (slot >= this.max) return;
    } else this.n++;
    this.rows.set(row, slot * COLS);
  }

  /** null when there were too few windows to learn from. */
  build(): BehaviourModelJson | null {
    this.windows.finish();
    const n = this.n;
    if (n < 200) return null;
    // The intel columns are fitted only when some training window was listed: a column that is 0 throughout
    // carries nothing to learn (and leaves the eleven-column models exactly as they were).
    let intel = false;
    for (let i = 0; i < n && !intel; i++)
      intel = this.rows[i * COLS + LISTED_IP] !== 0 || this.rows[i * COLS + LISTED_AGENT] !== 0;
    const cols = intel ? COLS : BEH;
    const data = new Float64Array(n * cols);
    for (let i = 0; i < n; i++) data.set(this.rows.subarray(i * COLS, i * COLS + cols), i * cols);
    const x = { rows: n, cols, data };
    const model = IsolationForest.fit(x, { trees: 100, sampleSize: 256, seed: 1 });
    const scores = model.score(x).sort();
    // Distance models on robust-scaled behaviour; the intel columns (0 or 1, a share) are left as they are:
    // one unit, like one interquartile range of a behavioural feature.
    const beh = new Float64Array(n * BEH);
    for (let i = 0; i < n; i++) beh.set(this.rows.subarray(i * COLS, i * COLS + BEH), i * BEH);
    const scaler = Scaler.fit({ rows: n, cols: BEH, data: beh }, { method: 'robust' });
    const xs = { rows: n, cols, data: new Float64Array(n * cols) };
    for (let i = 0; i < n; i++) {
      scaler.transformRow(beh, i * BEH, xs.data, i * cols);
      for (let j = BEH; j < cols; j++) xs.data[i * cols + j] = this.rows[i * COLS + j]!;
    }
    // K-Means distance: unlike the forest, it keeps growing beyond the training range.
    const kmeans = KMeans.fit(xs, { k: Math.min(8, n), seed: 1, nInit: 2 });
    const kscores = kmeans.score(xs).sort();
    const dbscan = fitDensity(xs);
    const dscores = dbscan.score(xs).sort();
    return {
      version: BEHAVIOUR_MODEL_VERSION,
      features: ALL_FEATURES.slice(0, cols),
      windowMs: BEHAVIOUR_WINDOW_MS,
      trainingWindows: this.seen,
      threshold: quantile(scores, 0.999),
      support: quantile(scores, 0.99),
      iforest: model.toJSON(),
      kmeans: kmeans.toJSON(),
      scaler: scaler.toJSON(),
      kmeansThreshold: quantile(kscores, 0.999),
      kmeansSupport: quantile(kscores, 0.99),
      dbscan: dbscan.toJSON(),
      dbscanThreshold: quantile(dscores, 0.999),
      dbscanSupport: quantile(dscores, 0.99),
    };
  }
}

/**
 * DBSCAN on (a seeded sample of) the scaled training rows: minPts 2 x columns, eps at the knee of their
 * core-distance curve (one robust unit if every row is a duplicate), reduced to at most MAX_CORES distinct
 * core points rounded to CORE_DECIMALS.
 */
function fitDensity(xs: { rows: number; cols: number; data: Float64Array }): DBSCAN {
  const { rows, cols } = xs;
  let sample = xs;
  if (rows > DBSCAN_SAMPLE) {
    // Partial Fisher-Yates with a fixed seed (xorshift32, as the reservoir), rows back in order.
    const idx = new Int32Array(rows);
    for (let i = 0; i < rows; i++) idx[i] = i;
    let st = 0x2545f491;
    for (let i = 0; i < DBSCAN_SAMPLE; i++) {
      st ^= st << 13;
      st ^= st >>> 17;
      st ^= st << 5;
      const j = i + ((st >>> 0) % (rows - i));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    const pick = idx.subarray(0, DBSCAN_SAMPLE).sort();
    const data = new Float64Array(DBSCAN_SAMPLE * cols);
    for (let k = 0; k < DBSCAN_SAMPLE; k++)
      data.set(xs.data.subarray(pick[k]! * cols, (pick[k]! + 1) * cols), k * cols);
    sample = { rows: DBSCAN_SAMPLE, cols, data };
  }
  const minPts = Math.min(2 * cols, sample.rows);
  const eps = kneeEps(coreDistances(sample, minPts)) || 1;
  return DBSCAN.fit(sample, { eps, minPts }).reduced({
    maxCores: MAX_CORES,
    seed: 1,
    decimals: CORE_DECIMALS,
  });
}

export interface BehaviourModelJson {
  /** BEHAVIOUR_MODEL_VERSION. */
  version: number;
  /** The columns the models were fitted on: the eleven behavioural ones, then the intel ones if learned. */
  features: string[];
  windowMs: number;
  trainingWindows: number;
  /** Isolation Forest: the 99.9th and 99th percentile of the training windows' scores. */
  threshold: number;
  support: number;
  iforest: ReturnType<IsolationForest['toJSON']>;
  /** K-Means (k 8) distance over robust-scaled rows, and its 99.9th and 99th percentiles. */
  kmeans: ReturnType<KMeans['toJSON']>;
  /** The robust scaler of the eleven behavioural columns (intel columns are not scaled). */
  scaler: ReturnType<Scaler['toJSON']>;
  kmeansThreshold: number;
  kmeansSupport: number;
  /** DBSCAN density: core points (at most 2,000), eps, minPts; its 99.9th and 99th percentiles. */
  dbscan: ReturnType<DBSCAN['toJSON']>;
  dbscanThreshold: number;
  dbscanSupport: number;
}

interface Loaded {
  cols: number;
  forest: IsolationForest;
  kmeans: KMeans;
  scaler: Scaler;
  dbscan: DBSCAN;
  /** Per model (forest, K-Means, DBSCAN): the 99th and 99.9th percentile lines. */
  high: Float64Array;
  veryHigh: Float64Array;
}

/** The models of a behaviour model document; throws with the field at fault. */
function load(json: unknown): Loaded {
  if (json === null || typeof json !== 'object') throw new TypeError('must be an object');
  const j = json as Partial<BehaviourModelJson>;
  if (j.version !== BEHAVIOUR_MODEL_VERSION)
    throw new TypeError(
      `version ${JSON.stringify(j.version)} is not ${BEHAVIOUR_MODEL_VERSION} (learned by another apiwarden; learn the profile again)`,
    );
  const f = j.features;
  const cols = Array.isArray(f) ? f.length : -1;
  if ((cols !== BEH && cols !== COLS) || !f!.every((name, i) => name === ALL_FEATURES[i]))
    throw new TypeError(
      `features must be [${BEHAVIOUR_FEATURES.join(', ')}], optionally followed by ${BEHAVIOUR_INTEL_FEATURES.join(', ')}`,
    );
  const lines = [
    'support',
    'threshold',
    'kmeansSupport',
    'kmeansThreshold',
    'dbscanSupport',
    'dbscanThreshold',
  ];
  for (const k of lines) {
    const v = (j as Record<string, unknown>)[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${k} must be a number`);
  }
  const forest = IsolationForest.fromJSON(j.iforest);
  const kmeans = KMeans.fromJSON(j.kmeans);
  const scaler = Scaler.fromJSON(j.scaler);
  const dbscan = DBSCAN.fromJSON(j.dbscan);
  if (forest.cols !== cols || kmeans.cols !== cols || dbscan.cols !== cols || scaler.cols !== BEH)
    throw new TypeError(
      `the models have ${forest.cols} / ${kmeans.cols} / ${dbscan.cols} columns and the scaler ${scaler.cols}; expected ${cols} and ${BEH}`,
    );
  return {
    cols,
    forest,
    kmeans,
    scaler,
    dbscan,
    high: Float64Array.of(j.support!, j.kmeansSupport!, j.dbscanSupport!),
    veryHigh: Float64Array.of(j.threshold!, j.kmeansThreshold!, j.dbscanThreshold!),
  };
}

/** Why a profile's behaviour model cannot be used, or null when it can (readProfile). */
export function behaviourModelProblem(json: unknown): string | null {
  try {
    load(json);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const MODEL_NAMES = ['isolation', 'centroid distance', 'core-point distance'] as const;

export class BehaviourDetector implements Detector {
  readonly name = 'behaviour_model';
  /** Windows the models voted abnormal only thanks to their intel columns: not reported. */
  intelOnly = 0;
  private readonly m: Loaded;
  private readonly scaled = new Float64Array(COLS);
  private readonly bare = new Float64Array(COLS);
  private readonly scores = new Float64Array(3);
  private readonly bareScores = new Float64Array(3);
  private readonly windows: BehaviourWindows;

  constructor(
    private readonly ctx: DetectorContext,
    json: BehaviourModelJson,
  ) {
    this.m = load(json);
    const intelOf =
      ctx.intelOf === undefined ? undefined : (ip: string, ua: string | null) => ctx.intelOf!(ip, ua);
    this.windows = new BehaviourWindows((ip, row, a, start) => this.judge(ip, row, a, start), intelOf);
  }

  onEvent(e: FeatureEvent): void {
    this.windows.add(e);
  }

  finish(): void {
    this.windows.finish();
  }

  /** The three models' scores of a full row (forest, K-Means, DBSCAN) into `out`; the scaled row is kept. */
  score(row: Float64Array, out: Float64Array): void {
    const { m, scaled } = this;
    out[0] = m.forest.scoreRow(row, 0);
    m.scaler.transformRow(row, 0, scaled, 0);
    scaled[LISTED_IP] = row[LISTED_IP]!;
    scaled[LISTED_AGENT] = row[LISTED_AGENT]!;
    let k = m.kmeans.scoreRow(scaled, 0);
    let d = m.dbscan.scoreRow(scaled, 0);
    const extra = m.cols === BEH ? row[LISTED_IP]! ** 2 + row[LISTED_AGENT]! ** 2 : 0;
    if (extra > 0) {
      // Intel columns the models were not fitted on: 0 at every centroid and core point.
      const s = m.kmeans.scales[m.kmeans.nearest(scaled, 0)]!;
      k = Math.sqrt(k * k + extra / (s * s));
      d = Math.sqrt(d * d + extra / (m.dbscan.eps * m.dbscan.eps));
    }
    out[1] = k;
    out[2] = d;
  }

  /** How many models put the scores beyond their 99th and beyond their 99.9th percentile. */
  private votes(s: Float64Array): { high: number; veryHigh: number } {
    let high = 0;
    let veryHigh = 0;
    for (let i = 0; i < 3; i++) {
      if (s[i]! > this.m.high[i]!) high++;
      if (s[i]! > this.m.veryHigh[i]!) veryHigh++;
    }
    return { high, veryHigh };
  }

  /** A distance model's per-feature shares of its squared score, intel columns it was not fitted on included. */
  private distanceShares(model: KMeans | DBSCAN, scale: number): Contribution[] {
    const { m, scaled } = this;
    const w = model.explain(scaled.subarray(0, m.cols), undefined, ALL_FEATURES.slice(0, m.cols));
    if (m.cols === BEH)
      for (let j = BEH; j < COLS; j++)
        if (scaled[j] !== 0)
          w.push({
            index: j,
            name: ALL_FEATURES[j]!,
            value: scaled[j]!,
            weight: scaled[j]! ** 2 / scale ** 2,
          });
    let total = 0;
    for (const c of w) total += c.weight;
    for (const c of w) c.weight /= total || 1;
    return w.sort((a, b) => b.weight - a.weight || a.index - b.index);
  }

  private judge(ip: string, row: Float64Array, a: Acc, start: number): void {
    const m = this.m;
    const s = this.scores;
    this.score(row, s);
    const v = this.votes(s);
    // Two models beyond their 99th percentile, one of them beyond its 99.9th.
    if (v.high < 2 || v.veryHigh < 1) return;
    const isListed = row[LISTED_IP] !== 0 || row[LISTED_AGENT] !== 0;
    if (isListed) {
      // Intel is never the only reason: without its intel columns the window must still be unusual.
      this.bare.set(row);
      this.bare[LISTED_IP] = 0;
      this.bare[LISTED_AGENT] = 0;
      this.score(this.bare, this.bareScores);
      if (this.votes(this.bareScores).high < 2) {
        this.intelOnly++;
        return;
      }
      this.score(row, s); // restores this.scaled for the explanations
    }
    const names = ALL_FEATURES.slice(0, m.cols);
    const why = m.forest.explain(row.subarray(0, m.cols), undefined, names);
    const near = this.distanceShares(m.kmeans, m.kmeans.scales[m.kmeans.nearest(this.scaled, 0)]!);
    const dense = this.distanceShares(m.dbscan, m.dbscan.eps);
    // The behaviour is named from the behavioural features only, their shares taken among themselves.
    const behaviourOnly = (w: Contribution[]): Contribution[] => {
      const b = w.filter((c) => c.index < BEH);
      let t = 0;
      for (const c of b) t += c.weight;
      return b.map((c) => ({ ...c, weight: c.weight / (t || 1) }));
    };
    const bWhy = behaviourOnly(why);
    const bDense = behaviourOnly(dense);
    // Named by the most specific feature holding at least a tenth of a model's explanation (failed logins say
    // more than "many requests", which goes with every abuse), and only when it is high (few bytes per request
    // is no exfiltration): the forest's first, then the density model's, then the centroid's — the forest
    // cannot see a feature that was constant in training, the distances can. Else the top driver.
    const specific = (w: Contribution[]) =>
      w.find(
        (c) =>
          c.weight >= 0.1 &&
          SPECIFIC.has(ALL_FEATURES[c.index]!) &&
          row[c.index]! > m.scaler.center[c.index]!,
      );
    const drivers = bWhy.length > 0 ? bWhy : bDense;
    const named = specific(bWhy) ?? specific(bDense) ?? specific(behaviourOnly(near)) ?? drivers[0];
    if (named === undefined) return;
    const feature = BEHAVIOUR_FEATURES[named.index]!;
    const end = start + BEHAVIOUR_WINDOW_MS;
    // Per model, its excess e: 0 at its 99th percentile, 1 at its 99.9th; the score is x / (1 + x) for x the
    // mean of log2(1 + e): 0.5 when the models sit on average at their 99.9th percentile lines, growing
    // slowly beyond (no single model's runaway distance decides it).
    let excess = 0;
    for (let i = 0; i < 3; i++)
      excess += Math.log2(
        1 + Math.max(0, (s[i]! - m.high[i]!) / Math.max(1e-9, m.veryHigh[i]! - m.high[i]!)),
      );
    excess /= 3;
    const top = (w: Contribution[]) =>
      w
        .slice(0, 3)
        .map((c) => `${c.name} ${(c.weight * 100).toFixed(0)}%`)
        .join(', ');
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    const evidence: Evidence[] = [
      ...why.slice(0, 4).map((c) => ({
        feature: `iforest.${c.name}`,
        value: r3(row[c.index]!),
        source: 'model',
        note: `share of the isolation ${(c.weight * 100).toFixed(0)}% (score ${s[0]!.toFixed(3)}; lines ${m.high[0]!.toFixed(3)} / ${m.veryHigh[0]!.toFixed(3)})`,
        windowStart: start,
        windowEnd: end,
      })),
      {
        feature: 'kmeans.distance',
        value: r3(s[1]!),
        threshold: r3(m.veryHigh[1]!),
        source: 'model',
        note: `distance to the nearest of ${m.kmeans.k} behaviour centroids over its cluster's median (99th percentile ${m.high[1]!.toFixed(2)}); most from ${top(near)}`,
        windowStart: start,
        windowEnd: end,
      },
      {
        feature: 'dbscan.distance',
        value: r3(s[2]!),
        threshold: r3(m.veryHigh[2]!),
        source: 'model',
        note: `distance to the nearest of ${m.dbscan.cores} core points of normal behaviour over eps ${m.dbscan.eps.toFixed(3)} (99th percentile ${m.high[2]!.toFixed(2)}); most from ${top(dense)}`,
        windowStart: start,
        windowEnd: end,
      },
    ];
    let intelNote = '';
    if (isListed) {
      const cols: string[] = [];
      for (const j of [LISTED_IP, LISTED_AGENT]) {
        if (row[j] === 0) continue;
        cols.push(ALL_FEATURES[j]!);
        const share = dense.find((c) => c.index === j)?.weight ?? 0;
        evidence.push({
          feature: `behaviour.${ALL_FEATURES[j]}`,
          value: r3(row[j]!),
          source: 'intel',
          note: `${j === LISTED_IP ? 'the address is on an intel list' : 'share of requests whose agent is on an intel list'}: ${(share * 100).toFixed(0)}% of the core-point distance; the window is beyond the 99th percentile of ${this.votes(this.bareScores).high} models without it`,
          windowStart: start,
          windowEnd: end,
        });
      }
      const bare = this.bareScores;
      intelNote = `; its intel columns (${cols.join(', ')}) weigh in its scores (without them ${MODEL_NAMES.map((n, i) => `${n} ${bare[i]!.toFixed(i === 0 ? 3 : 1)}`).join(', ')}), but the behaviour is unusual without them`;
    }
    this.ctx.emit({
      type: TYPE_OF[feature],
      detector: this.name,
      actors: [{ kind: 'ip', value: ip }],
      endpoints: a.endpoints.slice(0, 8),
      windowStart: start,
      detectedTs: end,
      firstEventTs: a.first,
      lastEventTs: a.last,
      requests: a.all,
      score: excess / (1 + excess),
      // 0.5 when two models agree, up to 0.8 when all three are beyond their 99.9th percentile.
      confidence: 0.5 + 0.1 * (v.high - 2) + 0.1 * (v.veryHigh - 1),
      evidence,
      explanation: `ip ${ip}: its 10-minute behaviour is rarer than 99.9% of the training windows for ${v.veryHigh} of 3 models and than 99% for ${v.high} (${MODEL_NAMES.map((n, i) => `${n} ${s[i]!.toFixed(i === 0 ? 3 : 1)}`).join(', ')}), mostly for ${drivers
        .slice(0, 5)
        .map((c) => `${c.name} (${(c.weight * 100).toFixed(0)}%)`)
        .join(', ')}; farthest from normal density in ${top(dense)}${intelNote}.`,
    });
  }
}
