/**
 * A model of behaviour: every address's 10-minute window becomes a vector of eleven numbers (requests,
 * endpoints, error share, asset share, failed logins, OTP requests, ids read, id steps of 1-2, bytes per request, POST
 * share, paths answered 4xx), log-scaled. Two models are fitted on the training windows: an Isolation Forest
 * (src/detect/models/iforest.ts) and K-Means distance over robust-scaled rows (src/detect/models/kmeans.ts;
 * unlike the forest it keeps growing beyond the training range). A window is judged abnormal when one model
 * puts it beyond its 99.9th training percentile and the other beyond its 99th. It is explained by the features
 * that isolated it (mass reduction) and those farthest from the centroid, and the top feature names the behaviour
 * (failed logins → credential stuffing, ids read → crawler, bytes → exfiltration …). Windows with fewer than
 * MIN_REQUESTS requests are not judged: too little to say.
 */
import { owned } from '../../core/strings.js';
import type { FeatureEvent } from '../../features/enrich.js';
import type { Detector, DetectorContext } from '../detector.js';
import { IsolationForest } from '../models/iforest.js';
import { KMeans } from '../models/kmeans.js';
import { Scaler } from '../models/scale.js';
import type { AnomalyType } from '../types.js';

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
const COLS = BEHAVIOUR_FEATURES.length;
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
}

/** Per-address 10-minute windows in event time, closed by the watermark; each closed window is a row. */
export class BehaviourWindows {
  private window = Number.NaN;
  private acc = new Map<string, Acc>();
  overflow = 0;

  constructor(private readonly onRow: (ip: string, row: Float64Array, acc: Acc, start: number) => void) {}

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
      };
      this.acc.set(owned(e.ip), a);
    }
    a.all++;
    a.last = e.ts;
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
      this.onRow(ip, row, a, start);
    }
    this.acc = new Map();
  }
}

/** Training rows (a uniform reservoir of at most `max`), then the model and its alert line. */
export class BehaviourTrainer {
  private readonly rows: Float64Array;
  private n = 0;
  private seen = 0;
  private state = 0x9e3779b9;
  readonly windows: BehaviourWindows;

  constructor(private readonly max = 100_000) {
    this.rows = new Float64Array(max * COLS);
    this.windows = new BehaviourWindows((_ip, row) => this.take(row));
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
    if (this.n < 200) return null;
    const x = { rows: this.n, cols: COLS, data: this.rows.subarray(0, this.n * COLS) };
    const model = IsolationForest.fit(x, { trees: 100, sampleSize: 256, seed: 1 });
    const q = (v: Float64Array, p: number) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1)))]!;
    const scores = model.score(x).sort();
    // K-Means distance on robust-scaled rows: unlike the forest, it keeps growing beyond the training range.
    const scaler = Scaler.fit(x, { method: 'robust' });
    const xs = scaler.transform(x);
    const kmeans = KMeans.fit(xs, { k: Math.min(8, this.n), seed: 1, nInit: 2 });
    const kscores = kmeans.score(xs).sort();
    return {
      features: [...BEHAVIOUR_FEATURES],
      windowMs: BEHAVIOUR_WINDOW_MS,
      trainingWindows: this.seen,
      threshold: q(scores, 0.999),
      support: q(scores, 0.99),
      iforest: model.toJSON(),
      kmeans: kmeans.toJSON(),
      scaler: scaler.toJSON(),
      kmeansThreshold: q(kscores, 0.999),
      kmeansSupport: q(kscores, 0.99),
    };
  }
}

export interface BehaviourModelJson {
  features: string[];
  windowMs: number;
  trainingWindows: number;
  /** Isolation Forest: the 99.9th and 99th percentile of the training windows' scores. */
  threshold: number;
  support: number;
  iforest: ReturnType<IsolationForest['toJSON']>;
  /** K-Means (k 8) distance over robust-scaled rows, and its 99.9th and 99th percentiles. */
  kmeans: ReturnType<KMeans['toJSON']>;
  scaler: ReturnType<Scaler['toJSON']>;
  kmeansThreshold: number;
  kmeansSupport: number;
}

export class BehaviourDetector implements Detector {
  readonly name = 'behaviour_model';
  private readonly model: IsolationForest;
  private readonly kmeans: KMeans;
  private readonly scaler: Scaler;
  private readonly scaled = new Float64Array(COLS);
  private readonly windows: BehaviourWindows;

  constructor(
    private readonly ctx: DetectorContext,
    private readonly json: BehaviourModelJson,
  ) {
    this.model = IsolationForest.fromJSON(json.iforest);
    this.kmeans = KMeans.fromJSON(json.kmeans);
    this.scaler = Scaler.fromJSON(json.scaler);
    this.windows = new BehaviourWindows((ip, row, a, start) => this.judge(ip, row, a, start));
  }

  onEvent(e: FeatureEvent): void {
    this.windows.add(e);
  }

  finish(): void {
    this.windows.finish();
  }

  private judge(ip: string, row: Float64Array, a: Acc, start: number): void {
    const score = this.model.scoreRow(row, 0);
    this.scaler.transformRow(row, 0, this.scaled, 0);
    const dist = this.kmeans.scoreRow(this.scaled, 0);
    const j = this.json;
    // Two models must agree: one beyond its 99.9th percentile, the other beyond its 99th.
    const forest = score > j.threshold && dist > j.kmeansSupport;
    const centroids = dist > j.kmeansThreshold && score > j.support;
    if (!forest && !centroids) return;
    const why = this.model.explain(row, 5, BEHAVIOUR_FEATURES);
    if (why.length === 0) return;
    // The behaviour is named by the most specific feature with at least a tenth of the isolation (failed logins
    // say more than "many requests", which goes with every abuse).
    const named = why.find((c) => c.weight >= 0.1 && SPECIFIC.has(BEHAVIOUR_FEATURES[c.index]!)) ?? why[0]!;
    const feature = BEHAVIOUR_FEATURES[named.index]!;
    const end = start + BEHAVIOUR_WINDOW_MS;
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
      score: Math.min(1, Math.max(0, (score - j.support) / Math.max(1e-9, 1 - j.support))),
      confidence: 0.5,
      evidence: [
        ...why.map((c) => ({
          feature: `iforest.${c.name ?? BEHAVIOUR_FEATURES[c.index]}`,
          value: Math.round(row[c.index]! * 1000) / 1000,
          source: 'model',
          note: `share of the isolation ${(c.weight * 100).toFixed(0)}% (score ${score.toFixed(3)}; lines ${j.support.toFixed(3)} / ${j.threshold.toFixed(3)})`,
          windowStart: start,
          windowEnd: end,
        })),
        {
          feature: 'kmeans.distance',
          value: Math.round(dist * 1000) / 1000,
          threshold: Math.round(j.kmeansThreshold * 1000) / 1000,
          source: 'model',
          note: `distance to the nearest of ${8} behaviour centroids over its cluster's median; most from ${this.kmeans
            .explain(this.scaled, 2, BEHAVIOUR_FEATURES)
            .map((c) => c.name)
            .join(', ')}`,
          windowStart: start,
          windowEnd: end,
        },
      ],
      explanation: `ip ${ip}: its 10-minute behaviour is rarer than 99.9% of the training windows for one model and 99% for the other (isolation ${score.toFixed(3)}, centroid distance ${dist.toFixed(1)}), mostly for ${why.map((c) => `${BEHAVIOUR_FEATURES[c.index]} (${(c.weight * 100).toFixed(0)}%)`).join(', ')}.`,
    });
  }
}
