import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../simulate/random.js';
import { QuantileSketch, quantileRank } from './quantiles.js';

const QS = [0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1];

/** The exact q-quantile by the sketch's rank definition (DuckDB's quantile_disc). */
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[quantileRank(q, sorted.length)]!;
}

type Gen = (rng: Rng) => number;
const DISTRIBUTIONS: Record<string, Gen> = {
  // Latency-like: median 40 ms, long tail.
  logNormal: (rng) => rng.logNormal(40, 1.2),
  uniform: (rng) => rng.uniform(0, 5000),
  // A cache: hits around 2 ms, misses around 300 ms.
  bimodal: (rng) => (rng.chance(0.7) ? rng.logNormal(2, 0.3) : rng.logNormal(300, 0.4)),
  // Response sizes: many zeros (204, 304), integers otherwise, a few huge.
  bytes: (rng) => (rng.chance(0.15) ? 0 : Math.round(rng.logNormal(2000, 1.5))),
};

function sample(gen: Gen, seed: number, n: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = gen(rng);
  return a;
}

/** The largest |estimate - exact| / exact over QS (absolute error where the exact value is below minValue). */
function worstRelativeError(sk: QuantileSketch, values: Float64Array): number {
  const sorted = values.slice().sort();
  let worst = 0;
  for (const q of QS) {
    const x = exactQuantile(sorted, q);
    const v = sk.quantile(q)!;
    const e = x >= sk.minValue ? Math.abs(v - x) / x : Math.abs(v - x) / sk.minValue;
    worst = Math.max(worst, e);
  }
  return worst;
}

// The guarantee is alpha; floating-point rounding at a bucket's edge may add a few ulps.
const slack = (alpha: number) => alpha * (1 + 1e-9);

describe('QuantileSketch', () => {
  it('keeps every quantile within 1 % of the exact one on log-normal, uniform, bimodal and byte-size data', () => {
    for (const [name, gen] of Object.entries(DISTRIBUTIONS)) {
      for (const n of [10, 1000, 100_000]) {
        for (const seed of [1, 2, 3]) {
          const values = sample(gen, seed * 1000 + n, n);
          const sk = new QuantileSketch();
          for (const v of values) sk.add(v);
          expect(sk.count).toBe(n);
          expect(worstRelativeError(sk, values), `${name} n=${n} seed=${seed}`).toBeLessThanOrEqual(
            slack(0.01),
          );
        }
      }
    }
  });

  it('honours other accuracies, and a coarser sketch really is coarser (the check can fail)', () => {
    const values = sample(DISTRIBUTIONS.logNormal!, 9, 50_000);
    for (const alpha of [0.001, 0.005, 0.02, 0.05]) {
      const sk = new QuantileSketch({ relativeAccuracy: alpha });
      for (const v of values) sk.add(v);
      const e = worstRelativeError(sk, values);
      expect(e, `alpha=${alpha}`).toBeLessThanOrEqual(slack(alpha));
      // The bound is nearly reached somewhere, so a sketch claiming alpha / 4 would fail this test.
      expect(e, `alpha=${alpha}`).toBeGreaterThan(alpha / 4);
    }
  });

  it('uses the rank DuckDB quantile_disc uses, float rounding included', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const qs = [0.001, 0.01, 0.1, 0.14, 0.25, 0.28, 0.3, 1 / 3, 0.5, 0.7, 0.9, 0.95, 0.99, 0.999];
    try {
      for (const n of [1, 2, 3, 7, 10, 25, 50, 99, 100, 101, 1000, 1001]) {
        const cols = qs.map((q, i) => `quantile_disc(x, ${q.toPrecision(17)}::DOUBLE) AS q${i}`).join(', ');
        const row = (await con.runAndReadAll(`SELECT ${cols} FROM range(0, ${n}) t(x)`)).getRows()[0]!;
        for (const [i, q] of qs.entries()) expect(quantileRank(q, n), `n=${n} q=${q}`).toBe(Number(row[i]));
      }
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });

  it('is exact at q = 0 and q = 1, and answers null when empty', () => {
    const sk = new QuantileSketch();
    expect(sk.quantile(0.5)).toBeNull();
    for (const v of [3.25, 17, 0.5, 250.25]) sk.add(v);
    expect(sk.quantile(0)).toBe(0.5);
    expect(sk.quantile(1)).toBe(250.25);
    expect(sk.min).toBe(0.5);
    expect(sk.max).toBe(250.25);
    expect(() => sk.quantile(1.5)).toThrow(RangeError);
  });

  it('counts zeros and values below minValue in a zero bucket, and rejects negatives, NaN and Infinity', () => {
    const sk = new QuantileSketch({ minValue: 0.001 });
    for (let i = 0; i < 50; i++) sk.add(0);
    sk.add(0.0004);
    for (let i = 0; i < 49; i++) sk.add(100);
    sk.add(-1);
    sk.add(Number.NaN);
    sk.add(Number.POSITIVE_INFINITY);
    expect(sk.count).toBe(100);
    expect(sk.zeroCount).toBe(51);
    expect(sk.rejected).toBe(3);
    expect(sk.quantile(0.5)).toBe(0); // rank 49: a zero
    expect(sk.quantile(0.51)).toBe(0); // rank 50: 0.0004, answered within minValue
    expect(Math.abs(sk.quantile(0.75)! - 100)).toBeLessThanOrEqual(1);
  });

  it('stays sparse and small for a few values, goes dense past the sparse limit', () => {
    const sk = new QuantileSketch();
    const rng = new Rng(3);
    for (let i = 0; i < 10; i++) sk.add(rng.logNormal(40, 1));
    expect(sk.buckets()).toBeLessThanOrEqual(10);
    expect(sk.bytes()).toBeLessThanOrEqual(128);
    for (let i = 0; i < 100_000; i++) sk.add(rng.logNormal(40, 1));
    // ln(max/min) / ln(gamma) buckets; log-normal(sigma 1) over 1e5 draws spans ~e^(+-4.5): ~450 buckets.
    expect(sk.bytes()).toBeLessThan(4 * 700);
    expect(sk.buckets()).toBeGreaterThan(64);
  });

  it('merges into exactly the sketch of the concatenated data, sparse or dense, in any order', () => {
    const rng = new Rng(5);
    const parts: Float64Array[] = [3, 40, 5000, 1, 80_000, 0].map((n) => {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = DISTRIBUTIONS.bimodal!(rng);
      return a;
    });
    const whole = new QuantileSketch();
    for (const p of parts) for (const v of p) whole.add(v);
    const sketches = parts.map((p) => {
      const s = new QuantileSketch();
      for (const v of p) s.add(v);
      return s;
    });
    const forward = new QuantileSketch();
    for (const s of sketches) forward.merge(s);
    const backward = new QuantileSketch();
    for (const s of [...sketches].reverse()) backward.merge(s);
    // Pairwise tree: ((0+1)+(2+3))+(4+5), starting from a dense sketch merged into sparse ones.
    const a = sketches[0]!.clone();
    a.merge(sketches[1]!);
    const b = sketches[2]!.clone();
    b.merge(sketches[3]!);
    const c = sketches[5]!.clone();
    c.merge(sketches[4]!);
    a.merge(b);
    a.merge(c);
    for (const m of [forward, backward, a]) {
      expect(m.serialize()).toEqual(whole.serialize());
      for (const q of QS) expect(m.quantile(q)).toBe(whole.quantile(q));
    }
    expect(() => new QuantileSketch().merge(new QuantileSketch({ relativeAccuracy: 0.02 }))).toThrow(
      RangeError,
    );
  });

  it('serializes compactly and round-trips, sparse and dense', () => {
    for (const n of [0, 1, 10, 1000, 100_000]) {
      const values = sample(DISTRIBUTIONS.bytes!, n + 1, n);
      const sk = new QuantileSketch();
      for (const v of values) sk.add(v);
      sk.add(-5);
      const bytes = sk.serialize();
      const back = QuantileSketch.deserialize(bytes);
      expect(back.ok, `n=${n}`).toBe(true);
      if (!back.ok) continue;
      const s2 = back.value;
      expect(s2.serialize()).toEqual(bytes);
      expect([s2.count, s2.zeroCount, s2.rejected, s2.min, s2.max]).toEqual([
        sk.count,
        sk.zeroCount,
        sk.rejected,
        sk.min,
        sk.max,
      ]);
      for (const q of QS) expect(s2.quantile(q)).toBe(sk.quantile(q));
      // ~3 bytes per bucket plus a 45-byte header.
      expect(bytes.length).toBeLessThanOrEqual(45 + 4 * sk.buckets());
    }
  });

  it('rejects truncated, inconsistent or corrupted bytes with an error value', () => {
    const sk = new QuantileSketch();
    for (let i = 1; i <= 100; i++) sk.add(i);
    const b = sk.serialize();
    expect(QuantileSketch.deserialize(b.subarray(0, 10)).ok).toBe(false);
    expect(QuantileSketch.deserialize(b.subarray(0, b.length - 1)).ok).toBe(false);
    expect(QuantileSketch.deserialize(new Uint8Array([...b, 1])).ok).toBe(false);
    const badAlpha = b.slice();
    new DataView(badAlpha.buffer).setFloat64(2, 2, true);
    expect(QuantileSketch.deserialize(badAlpha).ok).toBe(false);
    const badCount = b.slice();
    badCount[18] = 99; // count 100 -> 99: buckets no longer add up
    expect(QuantileSketch.deserialize(badCount)).toEqual({
      ok: false,
      error: 'QuantileSketch: bucket counts do not add up to count',
    });
  });

  it('refuses a bucket count beyond uint32 instead of wrapping around', () => {
    const full = new QuantileSketch();
    full.add(1);
    // 31 doubling merges put 2^31 values in one bucket; one more doubling would need 2^32.
    for (let i = 0; i < 31; i++) full.merge(full.clone());
    expect(full.count).toBe(2 ** 31);
    expect(full.quantile(0.5)).toBe(1);
    expect(() => full.merge(full.clone())).toThrow(RangeError);
  });
});
