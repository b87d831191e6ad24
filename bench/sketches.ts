/**
 * Sketch benchmark. Run: `npm run bench:sketches [-- --quick] [-- --compare DIR]`.
 *
 * Prints one JSON object (progress on stderr): the hash's throughput; HyperLogLog adds/s, count() time,
 * state bytes and relative error per cardinality (with the classic estimator's error on the same registers,
 * for comparison); the exact-then-HLL counter's bytes; the quantile sketch's adds/s, bytes per key at 10 /
 * 1k / 100k values (payload, serialized, and measured heap per key) and its error at p50 / p90 / p99 on
 * log-normal, uniform and bimodal data.
 *
 * `--compare DIR` also measures the `tdigest` and `hdr-histogram-js` npm packages the same way, loaded from
 * DIR/node_modules (they are not dependencies: `npm install --prefix DIR tdigest hdr-histogram-js`).
 * `--quick` runs fewer repetitions (a smoke run of a few seconds, same JSON shape).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Hash64, hash64Into } from '../src/features/sketch/hash.js';
import {
  classicEstimate,
  ExactThenHll,
  ertlEstimate,
  HyperLogLog,
  hllStandardError,
} from '../src/features/sketch/hll.js';
import { QuantileSketch, quantileRank } from '../src/features/sketch/quantiles.js';
import { Rng } from '../src/simulate/random.js';

const quick = process.argv.includes('--quick');
const compareAt = process.argv.indexOf('--compare');
const compareDir = compareAt >= 0 ? (process.argv[compareAt + 1] ?? process.cwd()) : null;
const REPEAT = quick ? 1 : 3;

// A full GC before each heap measurement; --expose-gc cannot be passed through the npm script.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const log = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

/** Best wall time of `REPEAT` runs of fn, in seconds. */
function best(fn: () => void): number {
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

/** Bytes of heap plus array buffers that `make(i)` for i < n keeps alive, per object. */
function heapPerObject<T>(n: number, make: (i: number) => T): number {
  const keep: T[] = new Array(n);
  gc();
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < n; i++) keep[i] = make(i);
  gc();
  gc();
  const after = process.memoryUsage();
  const delta = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  sink += keep.length; // keeps the objects alive until measured
  // The array of references itself (8 bytes a slot at most) is not the objects' cost.
  return Math.round(delta / n - 8);
}

// ---------------------------------------------------------------------------------------------------------
// Hash

log('hash');
const N_KEYS = 1_000_000;
const paths: string[] = new Array(N_KEYS);
const ips: string[] = new Array(N_KEYS);
for (let i = 0; i < N_KEYS; i++) {
  paths[i] = `/api/v1/products/${i}/reviews?page=${i % 7}`;
  ips[i] = `198.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}
const scratch: Hash64 = { hi: 0, lo: 0 };
let sink = 0;
function hashAll(keys: string[]): void {
  for (let i = 0; i < keys.length; i++) {
    hash64Into(keys[i]!, 0, scratch);
    sink ^= scratch.lo;
  }
}
const hashPathSec = best(() => hashAll(paths));
const hashIpSec = best(() => hashAll(ips));
const hash = {
  pathsPerSec: Math.round(N_KEYS / hashPathSec),
  pathAvgChars: round(paths.reduce((a, s) => a + s.length, 0) / N_KEYS),
  ipsPerSec: Math.round(N_KEYS / hashIpSec),
  ipAvgChars: round(ips.reduce((a, s) => a + s.length, 0) / N_KEYS),
};

// ---------------------------------------------------------------------------------------------------------
// HyperLogLog

log('hll: speed');
const hlo = new Uint32Array(N_KEYS);
const hhi = new Uint32Array(N_KEYS);
for (let i = 0; i < N_KEYS; i++) {
  hash64Into(paths[i]!, 0, scratch);
  hhi[i] = scratch.hi;
  hlo[i] = scratch.lo;
}
const addStringSec = best(() => {
  const h = new HyperLogLog();
  for (let i = 0; i < N_KEYS; i++) h.add(paths[i]!);
  sink ^= h.count();
});
const addHashSec = best(() => {
  const h = new HyperLogLog();
  for (let i = 0; i < N_KEYS; i++) h.addHash(hhi[i]!, hlo[i]!);
  sink ^= h.count();
});
// The sparse phase alone: 3000 distinct values into fresh sketches (hash-table inserts).
const SPARSE_N = 3000;
const SPARSE_SKETCHES = 300;
const addSparseSec = best(() => {
  for (let k = 0; k < SPARSE_SKETCHES; k++) {
    const h = new HyperLogLog();
    const base = k * SPARSE_N;
    for (let i = 0; i < SPARSE_N; i++) h.addHash(hhi[base + i]!, hlo[base + i]!);
    sink ^= h.count();
  }
});

function countNs(h: HyperLogLog): number {
  const calls = 100_000;
  const sec = best(() => {
    for (let i = 0; i < calls; i++) sink += h.count();
  });
  return round((sec * 1e9) / calls);
}
const sparseForCount = new HyperLogLog();
for (let i = 0; i < 1000; i++) sparseForCount.addHash(hhi[i]!, hlo[i]!);
const denseForCount = new HyperLogLog();
for (let i = 0; i < N_KEYS; i++) denseForCount.addHash(hhi[i]!, hlo[i]!);

log('hll: error per cardinality');
const CARDS = [10, 100, 1000, 10_000, 100_000, 1_000_000];
const RUNS = quick ? 4 : 20;
interface ErrAcc {
  hll: number[];
  ertlDense: number[];
  classicDense: number[];
}
const errs = new Map<number, ErrAcc>(CARDS.map((n) => [n, { hll: [], ertlDense: [], classicDense: [] }]));
const sizes = new Map<number, { sparse: boolean; bytes: number; serialized: number }>();
const rng = new Rng(2024);
for (let run = 0; run < RUNS; run++) {
  // Each run: fresh random 64-bit values (as if from distinct strings), one sparse-first sketch and one
  // dense-from-the-start twin whose registers both estimators read.
  const h = new HyperLogLog();
  const dense = new HyperLogLog({ sparse: false });
  let next = 0;
  for (let i = 1; i <= CARDS[CARDS.length - 1]!; i++) {
    const hi = (rng.next() * 2 ** 32) >>> 0;
    const lo = (rng.next() * 2 ** 32) >>> 0;
    h.addHash(hi, lo);
    dense.addHash(hi, lo);
    if (i === CARDS[next]) {
      const e = errs.get(i)!;
      const hist = dense.histogram()!;
      e.hll.push(h.count() / i - 1);
      e.ertlDense.push(ertlEstimate(hist, dense.m, 64 - dense.p) / i - 1);
      e.classicDense.push(classicEstimate(hist, dense.m, 64 - dense.p) / i - 1);
      if (run === 0) sizes.set(i, { sparse: h.sparse, bytes: h.bytes(), serialized: h.serialize().length });
      next++;
    }
  }
}
const summarize = (a: number[]) => ({
  meanAbsPct: round((100 * a.reduce((s, x) => s + Math.abs(x), 0)) / a.length),
  maxAbsPct: round(100 * Math.max(...a.map(Math.abs))),
  biasPct: round((100 * a.reduce((s, x) => s + x, 0)) / a.length),
});
const hllPerCardinality = CARDS.map((n) => ({
  n,
  ...sizes.get(n)!,
  error: summarize(errs.get(n)!.hll),
  denseErtl: summarize(errs.get(n)!.ertlDense),
  denseClassic: summarize(errs.get(n)!.classicDense),
}));
// The classic estimator's trouble spot: between 2.5 m (where linear counting stops) and 5 m.
log('hll: estimator comparison around the linear-counting threshold');
const MID = [20_000, 30_000, 40_000, 50_000, 60_000, 80_000];
const mid = new Map<number, { ertl: number[]; classic: number[] }>(
  MID.map((n) => [n, { ertl: [], classic: [] }]),
);
for (let run = 0; run < RUNS * 2; run++) {
  const dense = new HyperLogLog({ sparse: false });
  let next = 0;
  for (let i = 1; i <= MID[MID.length - 1]!; i++) {
    dense.addHash((rng.next() * 2 ** 32) >>> 0, (rng.next() * 2 ** 32) >>> 0);
    if (i === MID[next]) {
      const hist = dense.histogram()!;
      mid.get(i)!.ertl.push(ertlEstimate(hist, dense.m, 64 - dense.p) / i - 1);
      mid.get(i)!.classic.push(classicEstimate(hist, dense.m, 64 - dense.p) / i - 1);
      next++;
    }
  }
}

log('hll: exact-then-hll');
const distinctSizes = [10, 100, 1000, 1025, 10_000, 100_000].map((n) => {
  const c = new ExactThenHll();
  for (let i = 0; i < n; i++) c.addHash(hhi[i]!, hlo[i]!);
  return {
    n,
    exact: c.exact,
    count: round(c.count(), 6),
    bytes: c.bytes(),
    serialized: c.serialize().length,
  };
});
const distinctHeap = [1, 10, 100].map((n) => ({
  valuesPerKey: n,
  heapBytesPerKey: heapPerObject(quick ? 2000 : 20_000, (k) => {
    const c = new ExactThenHll();
    for (let i = 0; i < n; i++) c.addHash(hhi[(k * n + i) % N_KEYS]!, hlo[(k * n + i) % N_KEYS]!);
    return c;
  }),
}));

const hll = {
  p: 14,
  standardErrorPct: round(100 * hllStandardError(14)),
  addStringPerSec: Math.round(N_KEYS / addStringSec),
  addHashPerSec: Math.round(N_KEYS / addHashSec),
  addHashSparsePerSec: Math.round((SPARSE_N * SPARSE_SKETCHES) / addSparseSec),
  countNs: { sparse: countNs(sparseForCount), dense: countNs(denseForCount) },
  runs: RUNS,
  perCardinality: hllPerCardinality,
  estimatorsAroundThreshold: MID.map((n) => ({
    n,
    ertl: summarize(mid.get(n)!.ertl),
    classic: summarize(mid.get(n)!.classic),
  })),
  exactThenHll: { exactLimit: 1024, sizes: distinctSizes, heap: distinctHeap },
};

// ---------------------------------------------------------------------------------------------------------
// Quantiles

interface QuantileImpl {
  name: string;
  make(): unknown;
  add(s: unknown, x: number): void;
  quantile(s: unknown, q: number): number;
  bytes(s: unknown): number | null;
  serialized(s: unknown): number | null;
  merge(a: unknown, b: unknown): void;
}

const ours: QuantileImpl = {
  name: 'ours (DDSketch-style, alpha 1%)',
  make: () => new QuantileSketch(),
  add: (s, x) => (s as QuantileSketch).add(x),
  quantile: (s, q) => (s as QuantileSketch).quantile(q)!,
  bytes: (s) => (s as QuantileSketch).bytes(),
  serialized: (s) => (s as QuantileSketch).serialize().length,
  merge: (a, b) => (a as QuantileSketch).merge(b as QuantileSketch),
};

type Gen = (r: Rng) => number;
const DISTS: Record<string, Gen> = {
  logNormal: (r) => r.logNormal(40, 1.2),
  uniform: (r) => r.uniform(0, 5000),
  bimodal: (r) => (r.chance(0.7) ? r.logNormal(2, 0.3) : r.logNormal(300, 0.4)),
};
const N_VALUES = 1_000_000;
const latencies = new Float64Array(N_VALUES);
{
  const r = new Rng(77);
  for (let i = 0; i < N_VALUES; i++) latencies[i] = DISTS.logNormal!(r);
}

function measureQuantiles(impl: QuantileImpl) {
  log(`quantiles: ${impl.name}`);
  const addSec = best(() => {
    const s = impl.make();
    for (let i = 0; i < N_VALUES; i++) impl.add(s, latencies[i]!);
    sink += impl.quantile(s, 0.5);
  });
  // Many small keys: 100k sketches of 10 values each, creation included (the per-key path of a stream).
  const smallKeys = quick ? 20_000 : 100_000;
  const addSmallSec = best(() => {
    for (let k = 0; k < smallKeys; k++) {
      const s = impl.make();
      for (let i = 0; i < 10; i++) impl.add(s, latencies[(k * 10 + i) % N_VALUES]!);
      sink += impl.quantile(s, 0.9);
    }
  });
  const big = impl.make();
  for (let i = 0; i < 100_000; i++) impl.add(big, latencies[i]!);
  const qCalls = 20_000;
  const qSec = best(() => {
    for (let i = 0; i < qCalls; i++) sink += impl.quantile(big, 0.99);
  });
  const merges = 2000;
  const parts = Array.from({ length: 8 }, (_, k) => {
    const s = impl.make();
    for (let i = 0; i < 1000; i++) impl.add(s, latencies[k * 1000 + i]!);
    return s;
  });
  const mergeSec = best(() => {
    for (let i = 0; i < merges; i++) {
      const acc = impl.make();
      impl.merge(acc, parts[i & 7]!);
      sink += impl.quantile(acc, 0.5);
    }
  });

  const perKey = [10, 1000, 100_000].map((n) => {
    const s = impl.make();
    for (let i = 0; i < n; i++) impl.add(s, latencies[i]!);
    const objects = n === 10 ? 20_000 : n === 1000 ? 2000 : 50;
    return {
      values: n,
      bytes: impl.bytes(s),
      serialized: impl.serialized(s),
      heapBytesPerKey: heapPerObject(quick ? Math.max(5, objects / 10) : objects, (k) => {
        const t = impl.make();
        for (let i = 0; i < n; i++) impl.add(t, latencies[(k * 7919 + i) % N_VALUES]!);
        return t;
      }),
    };
  });

  const accuracy: Record<string, unknown> = {};
  for (const [name, gen] of Object.entries(DISTS)) {
    const worst: Record<string, number> = { p50: 0, p90: 0, p99: 0, p999: 0 };
    let worstAny = 0;
    for (const seed of [1, 2, 3]) {
      const r = new Rng(seed);
      const values = new Float64Array(100_000);
      const s = impl.make();
      for (let i = 0; i < values.length; i++) {
        values[i] = gen(r);
        impl.add(s, values[i]!);
      }
      values.sort();
      for (const q of [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]) {
        const exact = values[quantileRank(q, values.length)]!;
        const e = Math.abs(impl.quantile(s, q) - exact) / exact;
        worstAny = Math.max(worstAny, e);
        const key = q === 0.5 ? 'p50' : q === 0.9 ? 'p90' : q === 0.99 ? 'p99' : q === 0.999 ? 'p999' : null;
        if (key) worst[key] = Math.max(worst[key]!, e);
      }
    }
    accuracy[name] = {
      maxRelErrPct: Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, round(100 * v)])),
      maxRelErrAnyQuantilePct: round(100 * worstAny),
    };
  }
  return {
    name: impl.name,
    addsPerSec: Math.round(N_VALUES / addSec),
    smallKeyAddsPerSec: Math.round((smallKeys * 10) / addSmallSec),
    quantileNs: round((qSec * 1e9) / qCalls),
    mergeUs: round((mergeSec * 1e6) / merges),
    perKey,
    accuracyAt100k: accuracy,
  };
}

/** Loads the comparison packages from DIR/node_modules (CommonJS). */
function comparisonImpls(dir: string): QuantileImpl[] {
  const req = createRequire(path.join(path.resolve(dir), 'noop.js'));
  const out: QuantileImpl[] = [];
  try {
    const { TDigest } = req('tdigest') as {
      TDigest: new (delta?: number, k?: number, cx?: number) => unknown;
    };
    type TD = {
      push(x: number): void;
      percentile(q: number): number;
      compress(): void;
      toArray(): unknown[];
      push_centroid(c: unknown[]): void;
      size(): number;
    };
    out.push({
      name: `tdigest ${req('tdigest/package.json').version} (delta 0.01)`,
      make: () => new TDigest(0.01),
      add: (s, x) => (s as TD).push(x),
      quantile: (s, q) => (s as TD).percentile(q),
      // Centroids as (mean, count) doubles: the least a port could keep.
      bytes: (s) => (s as TD).size() * 16,
      serialized: (s) => JSON.stringify((s as TD).toArray()).length,
      merge: (a, b) => (a as TD).push_centroid((b as TD).toArray()),
    });
  } catch (e) {
    log(`tdigest not loaded from ${dir}: ${(e as Error).message}`);
  }
  try {
    const hdr = req('hdr-histogram-js') as {
      build(r: object): unknown;
      encodeIntoCompressedBase64(h: unknown): string;
    };
    type H = {
      recordValue(v: number): void;
      getValueAtPercentile(p: number): number;
      estimatedFootprintInBytes: number;
      add(o: unknown): void;
    };
    // Microseconds as integers, 2 significant digits (~1 % resolution), packed counts: HDR's smallest setup.
    const make = () =>
      hdr.build({
        numberOfSignificantValueDigits: 2,
        bitBucketSize: 'packed',
        lowestDiscernibleValue: 1,
        autoResize: true,
      });
    out.push({
      name: `hdr-histogram-js ${req('hdr-histogram-js/package.json').version} (2 digits, packed, us)`,
      make,
      add: (s, x) => (s as H).recordValue(Math.round(x * 1000)),
      quantile: (s, q) => (s as H).getValueAtPercentile(q * 100) / 1000,
      bytes: (s) => (s as H).estimatedFootprintInBytes,
      serialized: (s) => hdr.encodeIntoCompressedBase64(s).length,
      merge: (a, b) => (a as H).add(b),
    });
  } catch (e) {
    log(`hdr-histogram-js not loaded from ${dir}: ${(e as Error).message}`);
  }
  return out;
}

const quantiles = measureQuantiles(ours);
const comparison = compareDir === null ? null : comparisonImpls(compareDir).map(measureQuantiles);
// Every measured loop feeds `sink`; reading it here keeps the optimizer from dropping them.
if (Number.isNaN(sink)) log('sink is NaN');

process.stdout.write(
  `${JSON.stringify(
    {
      machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null },
      quick,
      hash,
      hll,
      quantiles,
      comparison,
    },
    null,
    2,
  )}\n`,
);
