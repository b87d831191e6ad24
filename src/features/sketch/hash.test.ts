import { describe, expect, it } from 'vitest';
import { Rng } from '../../simulate/random.js';
import { type Hash64, hash32, hash64, hash64Hex, hash64Into } from './hash.js';

type HashFn = (s: string, out: Hash64) => void;
const ours: HashFn = (s, out) => hash64Into(s, 0, out);

/** FNV-1a in both halves with no finalizer: a classic that is fine for hash tables and poor at avalanche. */
const weakFnv: HashFn = (s, out) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  out.hi = h >>> 0;
  out.lo = Math.imul(h, 0x9e3779b1) >>> 0;
};

/** Java's String.hashCode: its top bits barely move for short sequential keys. */
const weakJava: HashFn = (s, out) => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  out.hi = h >>> 0;
  out.lo = h >>> 0;
};

function randomString(rng: Rng, nonAscii: boolean): string {
  const len = rng.int(1, 40);
  let s = '';
  for (let i = 0; i < len; i++) {
    if (!nonAscii) s += String.fromCharCode(rng.int(0x20, 0x7e));
    else {
      const k = rng.int(0, 3);
      if (k === 0) s += String.fromCharCode(rng.int(0x20, 0x7e));
      else if (k === 1) s += String.fromCharCode(rng.int(0xe0, 0x2ff));
      else if (k === 2) s += String.fromCharCode(rng.int(0x4e00, 0x9fff));
      else s += String.fromCodePoint(rng.int(0x1f300, 0x1faff)); // a surrogate pair
    }
  }
  return s;
}

/**
 * Strict avalanche: flip one bit of one code unit; each of the 64 output bits should flip with probability
 * 1/2. Returns the largest deviation from 1/2 over (input bit 0..15) x (output bit 0..63) cells.
 */
function avalancheMaxBias(fn: HashFn, seed: number, trialsPerInputBit: number): number {
  const rng = new Rng(seed);
  const flips = new Float64Array(16 * 64);
  const a: Hash64 = { hi: 0, lo: 0 };
  const b: Hash64 = { hi: 0, lo: 0 };
  for (let bit = 0; bit < 16; bit++) {
    for (let t = 0; t < trialsPerInputBit; t++) {
      const s = randomString(rng, t % 2 === 1);
      const pos = rng.int(0, s.length - 1);
      const flipped =
        s.slice(0, pos) + String.fromCharCode(s.charCodeAt(pos) ^ (1 << bit)) + s.slice(pos + 1);
      fn(s, a);
      fn(flipped, b);
      const dh = (a.hi ^ b.hi) >>> 0;
      const dl = (a.lo ^ b.lo) >>> 0;
      for (let o = 0; o < 32; o++) {
        flips[bit * 64 + o]! += (dh >>> o) & 1;
        flips[bit * 64 + 32 + o]! += (dl >>> o) & 1;
      }
    }
  }
  let worst = 0;
  for (let i = 0; i < flips.length; i++)
    worst = Math.max(worst, Math.abs(flips[i]! / trialsPerInputBit - 0.5));
  return worst;
}

/** Wilson-Hilferty: the chi-square value exceeded with probability ~1e-6 for `df` degrees of freedom. */
function chiSquareLimit(df: number): number {
  const z = 4.75;
  const c = 2 / (9 * df);
  return df * (1 - c + z * Math.sqrt(c)) ** 3;
}

/** The worst chi-square statistic over several 10-bit slices of the hash, 1024 buckets each. */
function worstChiSquare(fn: HashFn, keys: readonly string[]): { worst: number; limit: number } {
  const slices: ((h: Hash64) => number)[] = [
    (h) => h.hi >>> 22, // top bits of hi: the HyperLogLog register index
    (h) => (h.hi >>> 8) & 1023,
    (h) => h.hi & 1023,
    (h) => h.lo >>> 22,
    (h) => h.lo & 1023,
  ];
  const h: Hash64 = { hi: 0, lo: 0 };
  const counts = slices.map(() => new Float64Array(1024));
  for (const k of keys) {
    fn(k, h);
    for (let j = 0; j < slices.length; j++) counts[j]![slices[j]!(h)]!++;
  }
  const expected = keys.length / 1024;
  let worst = 0;
  for (const c of counts) {
    let x2 = 0;
    for (let i = 0; i < 1024; i++) x2 += (c[i]! - expected) ** 2 / expected;
    worst = Math.max(worst, x2);
  }
  return { worst, limit: chiSquareLimit(1023) };
}

/**
 * The HyperLogLog rank (1 + leading zeros) of the 50 bits after a 14-bit index must be geometric(1/2).
 * Chi-square over ranks 1..12 plus one ">12" cell.
 */
function rankChiSquare(fn: HashFn, keys: readonly string[]): { x2: number; limit: number } {
  const cells = new Float64Array(13);
  const h: Hash64 = { hi: 0, lo: 0 };
  for (const k of keys) {
    fn(k, h);
    const w = h.hi << 14;
    const r = w !== 0 ? Math.clz32(w) + 1 : 18 + Math.clz32(h.lo) + 1;
    cells[Math.min(r, 13) - 1]!++;
  }
  let x2 = 0;
  for (let r = 1; r <= 13; r++) {
    const p = r < 13 ? 2 ** -r : 2 ** -12;
    const e = keys.length * p;
    x2 += (cells[r - 1]! - e) ** 2 / e;
  }
  return { x2, limit: chiSquareLimit(12) };
}

const N = 1024 * 100;
function keySets(): Record<string, string[]> {
  const rng = new Rng(7);
  const seq: string[] = [];
  const paths: string[] = [];
  const numbers: string[] = [];
  const hex: string[] = [];
  const text: string[] = [];
  for (let i = 0; i < N; i++) {
    seq.push(`user-${i}`);
    paths.push(`/api/v1/products/${i}/reviews`);
    numbers.push(String(i));
    hex.push(rng.hex(32));
    text.push(randomString(rng, true));
  }
  return { seq, paths, numbers, hex, text: [...new Set(text)] };
}

describe('hash64', () => {
  it('is stable: serialized sketches depend on these exact values', () => {
    // If this test fails the hash changed, and every persisted HyperLogLog and distinct counter is invalid.
    expect(hash64Hex('')).toBe('6eaa8dfbf7c158e3');
    expect(hash64Hex('a')).toBe('86cc1d93136f87f8');
    expect(hash64Hex('/api/v1/products/42')).toBe('5e5257dd1663595c');
    expect(hash64Hex('/api/v1/products/42', 1)).toBe('49483ae1349f40cc');
    expect(hash64Hex('Grüße, 世界 🌍')).toBe('a8f6acd1e3102dee');
  });

  it('returns the same halves through every entry point', () => {
    const out: Hash64 = { hi: 0, lo: 0 };
    hash64Into('203.0.113.7', 9, out);
    expect(hash64('203.0.113.7', 9)).toEqual([out.hi, out.lo]);
    expect(hash32('203.0.113.7', 9)).toBe(out.hi);
    expect(out.hi).toBeGreaterThanOrEqual(0);
    expect(out.lo).toBeLessThan(2 ** 32);
  });

  it('hashes UTF-16 code units: the same units give the same hash however the string was built', () => {
    const s = 'ça coûte 5€ 🍕';
    const units: number[] = [];
    for (let i = 0; i < s.length; i++) units.push(s.charCodeAt(i));
    expect(hash64(String.fromCharCode(...units))).toEqual(hash64(s));
    expect(hash64(s.normalize('NFD'))).not.toEqual(hash64(s)); // different code units, different hash
    // A lone surrogate is just a code unit, and differs from the full pair.
    expect(hash64('\ud83c')).not.toEqual(hash64('\ud83c\udf55'));
  });

  it('tells apart strings that differ only in length, a trailing NUL, the seed or the order of blocks', () => {
    const seen = new Set<string>();
    for (const s of ['', '\0', '\0\0', '\0\0\0', '\0\0\0\0', 'a', 'a\0', 'abcdefgh', 'efghabcd', 'ab', 'ba'])
      seen.add(hash64Hex(s));
    expect(seen.size).toBe(11);
    expect(hash64Hex('x', 0)).not.toBe(hash64Hex('x', 1));
  });

  it('has no collisions among 500k structured keys (64-bit: expected ~7e-9)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 250_000; i++) {
      seen.add(hash64Hex(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
      seen.add(hash64Hex(`/api/v1/orders/${i}`));
    }
    expect(seen.size).toBe(500_000);
  });

  it('avalanches: each input bit flips each output bit with probability 1/2 +- 0.05', () => {
    // 4000 trials per input bit: one cell's standard deviation is 0.0079, so 0.05 is more than 6 of them.
    expect(avalancheMaxBias(ours, 11, 4000)).toBeLessThan(0.05);
    // The check has teeth: FNV-1a without a finalizer fails it by far.
    expect(avalancheMaxBias(weakFnv, 11, 1000)).toBeGreaterThan(0.2);
  });

  it('spreads sequential keys, paths, numbers, hex ids and non-ASCII text uniformly (chi-square, 1024 buckets)', () => {
    const sets = keySets();
    for (const [name, keys] of Object.entries(sets)) {
      const { worst, limit } = worstChiSquare(ours, keys);
      expect(worst, name).toBeLessThan(limit);
      const rank = rankChiSquare(ours, keys);
      expect(rank.x2, `${name} rank`).toBeLessThan(rank.limit);
    }
    // Java's hashCode on the same sequential keys does not pass: the test can fail.
    expect(worstChiSquare(weakJava, sets.seq!).worst).toBeGreaterThan(chiSquareLimit(1023) * 2);
  });
});
