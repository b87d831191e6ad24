import { describe, expect, it } from 'vitest';
import { Rng } from '../../simulate/random.js';
import { hash64 } from './hash.js';
import { ExactThenHll, HyperLogLog, hllStandardError } from './hll.js';

const CHECKPOINTS = [
  10, 100, 1000, 3000, 5000, 10_000, 20_000, 30_000, 40_000, 50_000, 100_000, 300_000, 1_000_000,
];

/**
 * Adds `seed`-prefixed distinct keys to a fresh sketch and records the relative error at each checkpoint.
 * Every run uses different strings (and a different hash seed), so runs are independent samples.
 */
function errorRun(seed: number, p: number, upTo: number): Map<number, number> {
  const hll = new HyperLogLog({ p, seed });
  const out = new Map<number, number>();
  let next = 0;
  for (let i = 1; i <= upTo; i++) {
    hll.add(`run${seed}/client-${i}`);
    if (i === CHECKPOINTS[next]) {
      out.set(i, hll.count() / i - 1);
      next++;
    }
  }
  return out;
}

describe('HyperLogLog', () => {
  it('is within 3 standard errors at every cardinality from 10 to 1e6 (p = 14, 8 seeded runs)', () => {
    const se = hllStandardError(14); // 0.8125 %
    const runs = [1, 2, 3, 4, 5, 6, 7, 8].map((s) => errorRun(s, 14, 1_000_000));
    let sumSq = 0;
    let denseSamples = 0;
    for (const n of CHECKPOINTS) {
      const errs = runs.map((r) => r.get(n)!);
      if (n <= 3000) {
        // Sparse: linear counting over 2^25 buckets, off by a few collisions at most.
        for (const e of errs) expect(Math.abs(e), `n=${n}`).toBeLessThan(0.001);
        continue;
      }
      for (const e of errs) expect(Math.abs(e), `n=${n}`).toBeLessThan(3 * se);
      // No bias: the mean of 8 runs is within ~2.8 of its own standard errors (se / sqrt(8)) of zero.
      const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
      expect(Math.abs(mean), `bias at n=${n}`).toBeLessThan(se);
      for (const e of errs) sumSq += e * e;
      denseSamples += errs.length;
    }
    // The spread matches the theory: RMS error across all dense checkpoints close to 1.04 / sqrt(m).
    expect(Math.sqrt(sumSq / denseSamples)).toBeLessThan(1.3 * se);
  });

  it('honours other precisions (p = 10: 3.25 % standard error; p = 4 starts dense)', () => {
    for (const s of [1, 2, 3, 4]) {
      for (const [n, e] of errorRun(s, 10, 100_000))
        if (n > 200) expect(Math.abs(e), `n=${n}`).toBeLessThan(3 * hllStandardError(10));
    }
    const tiny = new HyperLogLog({ p: 4 });
    expect(tiny.sparse).toBe(false);
    expect(tiny.bytes()).toBe(16 + (64 - 4 + 2) * 4); // registers + histogram
    for (let i = 0; i < 1000; i++) tiny.add(String(i));
    expect(Math.abs(tiny.count() / 1000 - 1)).toBeLessThan(3 * hllStandardError(4));
    expect(() => new HyperLogLog({ p: 3 })).toThrow(RangeError);
    expect(() => new HyperLogLog({ p: 19 })).toThrow(RangeError);
  });

  it('counts 0 when empty and ignores repeats', () => {
    const h = new HyperLogLog();
    expect(h.count()).toBe(0);
    for (let k = 0; k < 5; k++) for (let i = 0; i < 20_000; i++) h.add(`k${i}`);
    expect(h.sparse).toBe(false);
    expect(Math.abs(h.count() / 20_000 - 1)).toBeLessThan(3 * hllStandardError(14));
  });

  it('goes dense only when the sparse table would outgrow the registers', () => {
    const h = new HyperLogLog({ p: 14 });
    let i = 0;
    while (h.sparse) h.add(`x${i++}`);
    // 3/4 of m/4 slots is 3072 entries; a few values may share a 25-bit index.
    expect(i).toBeGreaterThan(3000);
    expect(i).toBeLessThan(3100);
    expect(h.bytes()).toBe(16384 + 52 * 4);
  });

  it('merges into the same state as counting the union, whatever the representations', () => {
    const cases: [number, number][] = [
      [500, 800], // sparse + sparse
      [2000, 2500], // sparse + sparse -> dense
      [500, 50_000], // sparse + dense
      [50_000, 500], // dense + sparse
      [40_000, 60_000], // dense + dense
    ];
    for (const [na, nb] of cases) {
      const a = new HyperLogLog();
      const b = new HyperLogLog();
      const union = new HyperLogLog();
      // Overlapping ranges: a has [0, na), b has [na/2, na/2 + nb).
      for (let i = 0; i < na; i++) a.add(`v${i}`);
      for (let i = Math.floor(na / 2); i < Math.floor(na / 2) + nb; i++) b.add(`v${i}`);
      for (let i = 0; i < Math.max(na, Math.floor(na / 2) + nb); i++) union.add(`v${i}`);
      const ab = a.clone();
      ab.merge(b);
      const ba = b.clone();
      ba.merge(a);
      expect(ab.serialize(), `${na}+${nb}`).toEqual(union.serialize());
      expect(ba.serialize(), `${nb}+${na}`).toEqual(union.serialize());
      expect(ab.count()).toBe(union.count());
    }
  });

  it('refuses to merge sketches with a different precision or seed', () => {
    expect(() => new HyperLogLog({ p: 14 }).merge(new HyperLogLog({ p: 12 }))).toThrow(RangeError);
    expect(() => new HyperLogLog({ seed: 1 }).merge(new HyperLogLog({ seed: 2 }))).toThrow(RangeError);
  });

  it('serializes compactly and round-trips in both representations', () => {
    for (const n of [0, 1, 100, 3000, 10_000, 200_000]) {
      const h = new HyperLogLog({ seed: 5 });
      for (let i = 0; i < n; i++) h.add(`id-${i}`);
      const bytes = h.serialize();
      const back = HyperLogLog.deserialize(bytes);
      expect(back.ok).toBe(true);
      if (!back.ok) continue;
      expect(back.value.count()).toBe(h.count());
      expect(back.value.sparse).toBe(h.sparse);
      expect(back.value.serialize()).toEqual(bytes);
      // Sparse: a few bytes per value; dense: 6 bits per register (12 KiB at p = 14).
      if (h.sparse) expect(bytes.length).toBeLessThanOrEqual(7 + 4 + n * 4);
      else expect(bytes.length).toBe(7 + 12288);
      // Adding more after a round trip continues the same sketch.
      back.value.add('one more');
      h.add('one more');
      expect(back.value.count()).toBe(h.count());
    }
  });

  it('rejects truncated or corrupted bytes with an error value', () => {
    const h = new HyperLogLog();
    for (let i = 0; i < 100; i++) h.add(String(i));
    const b = h.serialize();
    expect(HyperLogLog.deserialize(b.subarray(0, 5)).ok).toBe(false);
    expect(HyperLogLog.deserialize(b.subarray(0, b.length - 1)).ok).toBe(false);
    expect(HyperLogLog.deserialize(new Uint8Array([...b, 0])).ok).toBe(false);
    const badVersion = b.slice();
    badVersion[0] = 99;
    expect(HyperLogLog.deserialize(badVersion)).toEqual({
      ok: false,
      error: 'HyperLogLog: unknown format version 99',
    });
    const badP = b.slice();
    badP[2] = 30;
    expect(HyperLogLog.deserialize(badP).ok).toBe(false);
    const dense = new HyperLogLog({ p: 4 });
    dense.add('x');
    const d = dense.serialize();
    d[7] = 63; // register 0 = 63 > 64 - 4 + 1
    expect(HyperLogLog.deserialize(d).ok).toBe(false);
  });

  it('accepts precomputed hashes: addHash(hash64(s)) is add(s)', () => {
    const a = new HyperLogLog({ seed: 3 });
    const b = new HyperLogLog({ seed: 3 });
    const rng = new Rng(4);
    for (let i = 0; i < 20_000; i++) {
      const s = rng.hex(12);
      a.add(s);
      const [hi, lo] = hash64(s, 3);
      b.addHash(hi, lo);
    }
    expect(a.serialize()).toEqual(b.serialize());
  });
});

describe('ExactThenHll', () => {
  it('is exact up to the bound, then within the HyperLogLog error', () => {
    const c = new ExactThenHll({ exactLimit: 1024 });
    for (let i = 1; i <= 1024; i++) {
      c.add(`/api/v1/products/${i}`);
      c.add(`/api/v1/products/${i}`); // repeats never count
      expect(c.count()).toBe(i);
    }
    expect(c.exact).toBe(true);
    expect(c.bytes()).toBe(2048 * 8); // 1024 hashes at load <= 3/4 need 2048 slots of 8 bytes
    c.add('/api/v1/products/1025');
    expect(c.exact).toBe(false);
    // Just past the bound the HyperLogLog is sparse: still within a value or two.
    expect(Math.abs(c.count() - 1025)).toBeLessThan(1.5);
    for (let i = 1026; i <= 100_000; i++) c.add(`/api/v1/products/${i}`);
    expect(Math.abs(c.count() / 100_000 - 1)).toBeLessThan(3 * hllStandardError(14));
  });

  it('keeps 11 to 22 bytes per value whatever the length of the values', () => {
    const c = new ExactThenHll();
    expect(c.bytes()).toBe(0);
    const long = 'x'.repeat(4000);
    for (let i = 0; i < 8; i++) c.add(long + i);
    expect(c.bytes()).toBe(8 * 16); // the small array: two doubles per hash
    for (let i = 8; i < 100; i++) c.add(long + i);
    expect(c.count()).toBe(100);
    expect(c.bytes()).toBe(256 * 8); // 100 > 3/4 of 128 slots
  });

  it('counts the all-zero hash like any other, in the small array and in the table', () => {
    const c = new ExactThenHll({ exactLimit: 20 });
    c.addHash(0, 0);
    c.addHash(0, 0);
    c.addHash(0, 1);
    expect(c.count()).toBe(2);
    for (let i = 2; i < 12; i++) c.addHash(0, i); // past 8: the table, where (0, 0) is a flag
    c.addHash(0, 0);
    expect(c.count()).toBe(12);
    const back = ExactThenHll.deserialize(c.serialize());
    expect(back.ok && back.value.count()).toBe(12);
    expect(back.ok && back.value.serialize()).toEqual(c.serialize());
  });

  it('merges exact + exact (staying exact or crossing the bound), exact + hll and hll + hll like the union', () => {
    const cases: [number, number][] = [
      [300, 400],
      [900, 900],
      [100, 5000],
      [5000, 100],
      [20_000, 30_000],
    ];
    for (const [na, nb] of cases) {
      const a = new ExactThenHll();
      const b = new ExactThenHll();
      const union = new ExactThenHll();
      for (let i = 0; i < na; i++) a.add(`ip-${i}`);
      for (let i = na - 50; i < na - 50 + nb; i++) b.add(`ip-${i}`);
      for (let i = 0; i < na - 50 + nb; i++) union.add(`ip-${i}`);
      const ab = a.clone();
      ab.merge(b);
      const ba = b.clone();
      ba.merge(a);
      expect(ab.exact, `${na}+${nb}`).toBe(union.exact);
      expect(ab.count(), `${na}+${nb}`).toBe(union.count());
      expect(ab.serialize()).toEqual(union.serialize());
      expect(ba.serialize()).toEqual(union.serialize());
      if (union.exact) expect(union.count()).toBe(na - 50 + nb);
    }
    expect(() => new ExactThenHll({ exactLimit: 10 }).merge(new ExactThenHll({ exactLimit: 20 }))).toThrow(
      RangeError,
    );
  });

  it('round-trips through bytes in both modes and rejects bad input', () => {
    for (const n of [0, 10, 1024, 1025, 50_000]) {
      const c = new ExactThenHll({ seed: 9 });
      for (let i = 0; i < n; i++) c.add(`u${i}`);
      const bytes = c.serialize();
      const back = ExactThenHll.deserialize(bytes);
      expect(back.ok).toBe(true);
      if (!back.ok) continue;
      expect(back.value.exact).toBe(c.exact);
      expect(back.value.count()).toBe(c.count());
      expect(back.value.serialize()).toEqual(bytes);
    }
    const c = new ExactThenHll();
    c.add('a');
    c.add('b');
    const b = c.serialize();
    expect(ExactThenHll.deserialize(b.subarray(0, b.length - 3)).ok).toBe(false);
    const dup = new Uint8Array([
      ...b.subarray(0, b.length - 16),
      ...b.subarray(b.length - 8),
      ...b.subarray(b.length - 8),
    ]);
    expect(ExactThenHll.deserialize(dup)).toEqual({ ok: false, error: 'distinct counter: duplicate hashes' });
  });

  it('with exactLimit 0 is a plain HyperLogLog', () => {
    const c = new ExactThenHll({ exactLimit: 0 });
    expect(c.exact).toBe(false);
    c.add('a');
    expect(c.count()).toBeCloseTo(1, 5);
  });
});
