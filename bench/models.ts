/**
 * Anomaly models against scikit-learn. Run:
 * `npm run bench:models [-- --sizes 20000,200000 --repeat 3 --python /usr/bin/python3 --no-sklearn]`.
 *
 * For each size, one seeded data set (a mixture of Gaussian clusters in 8 columns with ~1.5 % planted anomalies,
 * labelled) is scored by our models in src/detect/models/ and by scikit-learn's on the SAME data in the same
 * run: the data goes to a temporary directory as raw float64 (little-endian, row-major) and
 * bench/models_sklearn.py fits the equivalent scikit-learn models with the same hyper-parameters. Both sides
 * report the best of `--repeat` wall times of fit and of score (ours: performance.now; sklearn: perf_counter
 * around fit and score only) and the ROC-AUC of the scores against the labels. Ratios are sklearn / ours: above
 * 1 means we are faster. See bench/README.md (bench:models) for what exactly is compared.
 *
 * Prints one JSON object on stdout, progress on stderr. Without Python or scikit-learn (or with
 * `--no-sklearn`), `sklearn` is null and `sklearnReason` says why; our numbers are still reported.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DBSCAN, dbscan } from '../src/detect/models/dbscan.js';
import { IsolationForest } from '../src/detect/models/iforest.js';
import { KMeans } from '../src/detect/models/kmeans.js';
import { rocAuc } from '../src/detect/models/metrics.js';
import { OneClassSvm, resolveGamma, sampleIndices } from '../src/detect/models/ocsvm.js';
import { RffOneClassSvm } from '../src/detect/models/ocsvm-rff.js';
import type { Matrix } from '../src/detect/models/types.js';
import { Rng } from '../src/simulate/random.js';
import { arg } from './args.js';

const sizes = arg('--sizes', '20000,200000')
  .split(',')
  .map((s) => Number(s.trim()));
const repeat = Number(arg('--repeat', '3'));
const python = arg('--python', '/usr/bin/python3');
const seed = Number(arg('--seed', '1'));
const sklearnThreadsArg = arg('--sklearn-threads', '');
const sklearnThreads = sklearnThreadsArg === '' ? null : Number(sklearnThreadsArg);
const noSklearn = process.argv.includes('--no-sklearn');

for (const n of sizes)
  if (!Number.isInteger(n) || n < 500) throw new RangeError(`--sizes: integers >= 500, got ${n}`);
if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`--repeat: an integer >= 1, got ${repeat}`);
if (sklearnThreads !== null && !(Number.isInteger(sklearnThreads) && sklearnThreads >= 1))
  throw new RangeError(`--sklearn-threads: an integer >= 1, got ${sklearnThreadsArg}`);

const log = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

// ---------------------------------------------------------------------------------------------------------
// Hyper-parameters, the same on both sides

const COLS = 8;
const CLUSTERS = 6;
const WEIGHTS = [0.3, 0.22, 0.17, 0.13, 0.1, 0.08];
const ANOMALY_RATE = 0.015;
const IFOREST = { trees: 100, sampleSize: 256, seed: 0 };
const NU = 0.05;
/** The exact One-Class SVM fits on a sample of at most this many rows (ours' default maxSamples). */
const OCSVM_MAX_SAMPLES = 10_000;
const OCSVM = { nu: NU, tol: 1e-3, cacheMb: 200, seed: 0 };
const RFF = { nu: NU, components: 256, seed: 0 };
const KMEANS = { k: CLUSTERS, nInit: 1, maxIter: 300, tol: 1e-4, seed: 0 };
/** DBSCAN on the first two columns (the clusters' centres lie on a circle there). */
const DBSCAN_COLS = 2;
const DBSCAN_MIN_PTS = 20;
/** eps at 20,000 rows; scaled by sqrt(20000 / rows) so that neighbourhoods hold as many rows at any size. */
const DBSCAN_EPS_20K = 0.3;

// ---------------------------------------------------------------------------------------------------------
// Data

interface Data {
  x: Matrix;
  y: Uint8Array;
  anomalies: number;
}

/**
 * `rows` rows of a mixture of CLUSTERS Gaussian clusters (weights WEIGHTS; per-column sd 0.25..0.7; centres on
 * a circle of radius 3 in columns 0-1, uniform in [-2, 2] elsewhere). Each row is, with probability
 * ANOMALY_RATE, an anomaly (label 1): half of them uniform in [-6, 6]^COLS ("global"), half a cluster row with
 * one or two columns pushed 5-8 of that cluster's sd away ("local", invisible in any other column). The
 * clusters depend on the seed only; the rows of a smaller size are a prefix of a larger one's.
 */
function generate(rows: number, seed: number): Data {
  const shape = new Rng(seed).derive('clusters');
  const centres = new Float64Array(CLUSTERS * COLS);
  const sds = new Float64Array(CLUSTERS * COLS);
  for (let c = 0; c < CLUSTERS; c++) {
    const angle = (2 * Math.PI * c) / CLUSTERS + shape.uniform(-0.2, 0.2);
    for (let j = 0; j < COLS; j++) {
      centres[c * COLS + j] =
        j === 0 ? 3 * Math.cos(angle) : j === 1 ? 3 * Math.sin(angle) : shape.uniform(-2, 2);
      sds[c * COLS + j] = shape.uniform(0.25, 0.7);
    }
  }
  const rng = new Rng(seed).derive('rows');
  const data = new Float64Array(rows * COLS);
  const y = new Uint8Array(rows);
  let anomalies = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * COLS;
    const anomaly = rng.chance(ANOMALY_RATE);
    if (anomaly && rng.chance(0.5)) {
      for (let j = 0; j < COLS; j++) data[o + j] = rng.uniform(-6, 6);
    } else {
      let u = rng.next();
      let c = 0;
      while (c < CLUSTERS - 1 && u >= WEIGHTS[c]!) u -= WEIGHTS[c++]!;
      for (let j = 0; j < COLS; j++) data[o + j] = centres[c * COLS + j]! + sds[c * COLS + j]! * rng.normal();
      if (anomaly) {
        const k = rng.chance(0.5) ? 1 : 2;
        for (let t = 0; t < k; t++) {
          const j = rng.int(0, COLS - 1);
          data[o + j] =
            centres[c * COLS + j]! + (rng.chance(0.5) ? 1 : -1) * rng.uniform(5, 8) * sds[c * COLS + j]!;
        }
      }
    }
    if (anomaly) {
      y[i] = 1;
      anomalies++;
    }
  }
  return { x: { rows, cols: COLS, data }, y, anomalies };
}

/** The first `cols` columns of x. */
function project(x: Matrix, cols: number): Matrix {
  const data = new Float64Array(x.rows * cols);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < cols; j++) data[i * cols + j] = x.data[i * x.cols + j]!;
  return { rows: x.rows, cols, data };
}

// ---------------------------------------------------------------------------------------------------------
// Timing and comparison

/** Best wall time of `repeat` runs of fn, in seconds, and the last result. */
function best<T>(fn: () => T): { sec: number; value: T } {
  let sec = Number.POSITIVE_INFINITY;
  let value!: T;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    value = fn();
    sec = Math.min(sec, (performance.now() - t0) / 1000);
  }
  return { sec, value };
}

/** Adjusted Rand index of two labelings (noise, -1, counted as one more label, as sklearn does). */
function adjustedRand(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  const comb2 = (m: number) => (m * (m - 1)) / 2;
  const cells = new Map<string, number>();
  const rowsA = new Map<number, number>();
  const colsB = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rowsA.set(a[i]!, (rowsA.get(a[i]!) ?? 0) + 1);
    colsB.set(b[i]!, (colsB.get(b[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const m of cells.values()) index += comb2(m);
  let sa = 0;
  for (const m of rowsA.values()) sa += comb2(m);
  let sb = 0;
  for (const m of colsB.values()) sb += comb2(m);
  const expected = (sa * sb) / comb2(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

interface Side {
  fitSec: number;
  scoreSec: number;
  rocAuc: number;
  [extra: string]: unknown;
}

interface ModelRun {
  params: Record<string, unknown>;
  ours: Side;
  sklearn: Side | null;
  ratios: { fit: number; score: number } | null;
  [extra: string]: unknown;
}

function side(fitSec: number, scoreSec: number, scores: Float64Array, y: Uint8Array, extra = {}): Side {
  return { fitSec: round(fitSec), scoreSec: round(scoreSec), rocAuc: round(rocAuc(scores, y), 4), ...extra };
}

// ---------------------------------------------------------------------------------------------------------
// scikit-learn

const scriptPath = [
  fileURLToPath(new URL('../../bench/models_sklearn.py', import.meta.url)), // dist/bench/models.js
  fileURLToPath(new URL('./models_sklearn.py', import.meta.url)), // run from bench/ directly
].find((p) => existsSync(p));

interface SklearnOut {
  python: string;
  sklearn: string;
  numpy: string;
  threadLimit: number | null;
  threadpools: { api: string; lib: string; threads: number }[];
  models: Record<string, Side>;
}

function runPython(
  configPath: string,
): Promise<{ out: SklearnOut | null; reason: string | null; sec: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      python,
      [scriptPath!, configPath],
      { maxBuffer: 16 << 20, timeout: 30 * 60_000 },
      (err, stdout, stderr) => {
        const sec = (performance.now() - t0) / 1000;
        let parsed: (SklearnOut & { error?: string }) | null = null;
        try {
          parsed = JSON.parse(stdout) as SklearnOut & { error?: string };
        } catch {
          parsed = null;
        }
        if (parsed?.error) resolve({ out: null, reason: parsed.error, sec });
        else if (err || !parsed) {
          const code = (err as NodeJS.ErrnoException | null)?.code;
          const why =
            code === 'ENOENT'
              ? `${python} not found (pass --python PATH; Debian/Ubuntu: apt-get install python3-sklearn)`
              : `${python} ${scriptPath} failed: ${err?.message ?? 'no JSON on stdout'} ${stderr.slice(-2000)}`;
          resolve({ out: null, reason: why.trim(), sec });
        } else resolve({ out: parsed, reason: null, sec });
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// One size

interface SizeResult {
  data: { rows: number; cols: number; anomalies: number; anomalyShare: number; generateSec: number };
  models: Record<string, ModelRun>;
  sklearnWallSec: number | null;
  sklearnReason: string | null;
  sklearnInfo: Omit<SklearnOut, 'models'> | null;
}

async function runSize(rows: number): Promise<SizeResult> {
  log(`rows ${rows}: generating`);
  const g0 = performance.now();
  const { x, y, anomalies } = generate(rows, seed);
  const generateSec = (performance.now() - g0) / 1000;
  // gamma 'scale' over the whole input (as ours resolves it), passed as a number to both sides: sklearn's
  // 'scale' would use the training sample only.
  const gamma = resolveGamma('bench', 'scale', x);
  const models: Record<string, ModelRun> = {};

  log(`rows ${rows}: IsolationForest`);
  {
    const fit = best(() => IsolationForest.fit(x, IFOREST));
    const score = best(() => fit.value.score(x));
    models.iforest = {
      params: { ...IFOREST },
      ours: side(fit.sec, score.sec, score.value, y),
      sklearn: null,
      ratios: null,
    };
  }

  log(`rows ${rows}: OneClassSvm (exact)`);
  const sample = sampleIndices(rows, Math.min(rows, OCSVM_MAX_SAMPLES), OCSVM.seed);
  {
    const fit = best(() => OneClassSvm.fit(x, { ...OCSVM, gamma, maxSamples: OCSVM_MAX_SAMPLES }));
    const score = best(() => fit.value.score(x));
    const m = fit.value;
    models.ocsvm = {
      params: { ...OCSVM, gamma: round(gamma, 6), maxSamples: OCSVM_MAX_SAMPLES },
      note:
        rows > OCSVM_MAX_SAMPLES
          ? `fitted on the same seeded sample of ${sample.length} of ${rows} rows on both sides; every row scored`
          : 'fitted on every row',
      ours: side(fit.sec, score.sec, score.value, y, {
        trainedRows: m.trainedRows,
        nSupport: m.nSupport,
        iterations: m.iterations,
      }),
      sklearn: null,
      ratios: null,
    };
  }

  log(`rows ${rows}: RffOneClassSvm`);
  let epochs = 0;
  {
    const fit = best(() => RffOneClassSvm.fit(x, { ...RFF, gamma }));
    const score = best(() => fit.value.score(x));
    epochs = fit.value.epochs;
    models.ocsvmRff = {
      params: { ...RFF, gamma: round(gamma, 6), epochs },
      note: 'sklearn: RBFSampler(n_components) + SGDOneClassSVM(max_iter = our epochs, tol=None)',
      ours: side(fit.sec, score.sec, score.value, y, { epochs }),
      sklearn: null,
      ratios: null,
    };
  }

  log(`rows ${rows}: KMeans`);
  {
    const fit = best(() => KMeans.fit(x, KMEANS));
    const score = best(() => fit.value.score(x));
    models.kmeans = {
      params: { ...KMEANS, normalize: 'median' },
      ours: side(fit.sec, score.sec, score.value, y, {
        inertia: round(fit.value.inertia, 6),
        iterations: fit.value.iterations,
      }),
      sklearn: null,
      ratios: null,
    };
  }

  log(`rows ${rows}: DBSCAN`);
  const eps = DBSCAN_EPS_20K * Math.sqrt(20_000 / rows);
  const x2 = project(x, DBSCAN_COLS);
  let ourLabels: Int32Array;
  {
    const opts = { eps, minPts: DBSCAN_MIN_PTS };
    const fit = best(() => dbscan(x2, opts));
    const model = best(() => DBSCAN.fit(x2, opts));
    const score = best(() => model.value.score(x2));
    ourLabels = fit.value.labels;
    let noise = 0;
    for (let i = 0; i < rows; i++) if (ourLabels[i] === -1) noise++;
    let cores = 0;
    for (let i = 0; i < rows; i++) cores += fit.value.core[i]!;
    models.dbscan = {
      params: { eps: round(eps, 6), minPts: DBSCAN_MIN_PTS, cols: `first ${DBSCAN_COLS}` },
      note:
        'fit = the clustering (ours dbscan(), sklearn DBSCAN.fit); score = distance to the nearest core point / eps ' +
        '(ours DBSCAN#score, sklearn NearestNeighbors(1) over the core points, its build included); ' +
        'ours.modelFitSec = DBSCAN.fit (clustering + core-point KD-tree + fit-row scores)',
      ours: side(fit.sec, score.sec, score.value, y, {
        modelFitSec: round(model.sec),
        clusters: fit.value.clusters,
        noise,
        cores,
      }),
      sklearn: null,
      ratios: null,
    };
  }

  let sklearnReason: string | null = null;
  let sklearnWallSec: number | null = null;
  let sklearnInfo: SizeResult['sklearnInfo'] = null;
  if (noSklearn) sklearnReason = 'skipped (--no-sklearn)';
  else if (!scriptPath) sklearnReason = 'bench/models_sklearn.py not found';
  else {
    const dir = await mkdtemp(join(os.tmpdir(), 'apiwarden-bench-models-'));
    try {
      const file = (name: string) => join(dir, name);
      const bytes = (a: Float64Array | Int32Array | Uint8Array) =>
        new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      if (os.endianness() !== 'LE')
        throw new Error('bench:models writes little-endian data; big-endian host');
      await writeFile(file('x.f64'), bytes(x.data));
      await writeFile(file('y.u8'), bytes(y));
      await writeFile(file('sample.i32'), bytes(sample));
      const config = {
        rows,
        cols: COLS,
        repeat,
        threads: sklearnThreads,
        x: file('x.f64'),
        y: file('y.u8'),
        ocsvmSample: file('sample.i32'),
        dbscanCols: DBSCAN_COLS,
        dbscanLabels: file('dbscan-labels.i32'),
        iforest: IFOREST,
        ocsvm: { ...OCSVM, gamma },
        rff: { ...RFF, gamma, epochs },
        kmeans: KMEANS,
        dbscan: { eps, minPts: DBSCAN_MIN_PTS },
      };
      await writeFile(file('config.json'), JSON.stringify(config));
      log(`rows ${rows}: scikit-learn (${python})`);
      const res = await runPython(file('config.json'));
      sklearnWallSec = round(res.sec);
      sklearnReason = res.reason;
      if (res.out) {
        const { models: sk, ...info } = res.out;
        sklearnInfo = info;
        for (const [name, run] of Object.entries(models)) {
          const s = sk[name];
          if (!s) continue;
          const { fitSec, scoreSec, rocAuc: auc, ...extra } = s;
          run.sklearn = { fitSec: round(fitSec), scoreSec: round(scoreSec), rocAuc: round(auc, 4), ...extra };
          run.ratios = { fit: round(fitSec / run.ours.fitSec), score: round(scoreSec / run.ours.scoreSec) };
        }
        const buf = await readFile(file('dbscan-labels.i32'));
        const skLabels = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        if (skLabels.length === rows) {
          let same = 0;
          for (let i = 0; i < rows; i++) if (skLabels[i] === ourLabels[i]) same++;
          models.dbscan!.labels = {
            identicalShare: round(same / rows, 6),
            adjustedRand: round(adjustedRand(ourLabels, skLabels), 6),
          };
        }
      }
    } catch (e) {
      sklearnReason = `bench:models: ${(e as Error).message}`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    data: {
      rows,
      cols: COLS,
      anomalies,
      anomalyShare: round(anomalies / rows),
      generateSec: round(generateSec),
    },
    models,
    sklearnWallSec,
    sklearnReason,
    sklearnInfo,
  };
}

// ---------------------------------------------------------------------------------------------------------

const t0 = performance.now();
const bySize: Record<string, SizeResult> = {};
for (const rows of sizes) bySize[rows] = await runSize(rows);

// Regrouped per model and size, the figures the issue asks for; ratios are sklearn / ours (> 1: we are faster).
const results: Record<string, Record<string, ModelRun>> = {};
for (const name of ['iforest', 'ocsvm', 'ocsvmRff', 'kmeans', 'dbscan']) {
  results[name] = {};
  for (const rows of sizes) results[name]![rows] = bySize[rows]!.models[name]!;
}
const first = sizes.map((n) => bySize[n]!).find((r) => r.sklearnInfo) ?? null;
const reasons = [...new Set(sizes.map((n) => bySize[n]!.sklearnReason).filter((r) => r !== null))];
// One line per model and size: the ratios and the two ROC-AUCs.
const summary: Record<string, Record<string, unknown>> = {};
for (const [name, bs] of Object.entries(results)) {
  summary[name] = {};
  for (const [rows, r] of Object.entries(bs))
    summary[name]![rows] = {
      fitRatio: r.ratios?.fit ?? null,
      scoreRatio: r.ratios?.score ?? null,
      rocAucOurs: r.ours.rocAuc,
      rocAucSklearn: r.sklearn?.rocAuc ?? null,
    };
}
const cpus = os.cpus();

const report = {
  machine: {
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? null,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
  },
  sizes,
  repeat,
  seed,
  data: {
    cols: COLS,
    clusters: CLUSTERS,
    anomalyRate: ANOMALY_RATE,
    bySize: Object.fromEntries(sizes.map((n) => [n, bySize[n]!.data])),
  },
  sklearn: first?.sklearnInfo ?? null,
  sklearnReason: reasons.length > 0 ? reasons.join('; ') : null,
  sklearnWallSec: Object.fromEntries(sizes.map((n) => [n, bySize[n]!.sklearnWallSec])),
  ratioMeaning: 'sklearn seconds / our seconds: > 1 means we are faster',
  summary,
  results,
  totalSec: round((performance.now() - t0) / 1000),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
