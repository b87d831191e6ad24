/**
 * A 64-bit string hash for sketches, written for V8.
 *
 * The input is the string's UTF-16 code units, read with `charCodeAt`, two per 32-bit word: the string is
 * never encoded to UTF-8, so no bytes are allocated, and every string (including non-ASCII text and lone
 * surrogates) hashes by the same rule. A consequence worth knowing: the hash of a string is not the hash of
 * its UTF-8 bytes, so another engine (DuckDB's `hash()`, say) cannot reproduce it. Sketches built here are
 * compared with other engines through their estimates, never through their hash values.
 *
 * The construction is the MurmurHash3 family's, cut down to two 32-bit lanes (a 64-bit state): each block of
 * four code units is two words; each word is multiplied, rotated and multiplied again (Murmur's `c1`/`c2`
 * constants), xor-ed into its lane, and the lane is rotated, added to the other lane and stepped by
 * `x * 5 + c`. Because each lane adds the other after every block, a change anywhere in the input reaches
 * both halves. The finalizer xors in the length (so "a" and "a\0" differ), cross-adds the lanes, runs
 * Murmur's `fmix32` avalanche on each and cross-adds again, so every input bit affects every output bit.
 *
 * Distribution quality, measured by hash.test.ts on seeded inputs (docs/sketches.md has the numbers):
 * flipping one bit of a code unit flips each of the 64 output bits with probability 1/2: over 16 x 64
 * (input bit, output bit) cells of 4000 trials each the worst deviation is 0.022, what chance alone gives
 * (strict avalanche). Five 10-bit slices of the hash (top, middle and bottom of both halves) pass a
 * chi-square test over 1024 buckets for sequential keys (`user-1`, `user-2`, ...), URL paths, decimal
 * numbers, hex ids and random non-ASCII text (worst statistic 1127 for 1023 degrees of freedom; 1252 is
 * the 1e-6 tail), and the HyperLogLog rank of the bits after a 14-bit index is geometric (chi-square). That is what HyperLogLog needs: the top `p` bits of `hi` pick a register and the
 * position of the first set bit in the remaining 64 - p bits is geometric with parameter 1/2.
 *
 * It is not a cryptographic hash and it is not keyed by a secret unless the `seed` is one: someone who knows
 * the seed can search for inputs that collide or that all land in one HyperLogLog register. A deployment
 * that counts attacker-chosen strings and worries about that can pick a random seed at install time (both
 * engines of a parity test must then use the same seed).
 */

/** Where a 64-bit hash is written: two unsigned 32-bit halves. Reuse one object to hash without allocating. */
export interface Hash64 {
  hi: number;
  lo: number;
}

// Murmur3's block multipliers: odd, with well-mixed bits; the rotations between them are Murmur's too.
const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
// Lane step constants (odd, arbitrary digits) and lane start values (fractional digits of pi), so that the
// lanes differ from the first block even with seed 0.
const N1 = 0x561ccd1b;
const N2 = 0x0bcaa747;
const S1 = 0x243f6a88 | 0;
const S2 = 0x85a308d3 | 0;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Hashes `s` with `seed` into `out` (unsigned halves). Allocation-free. */
export function hash64Into(s: string, seed: number, out: Hash64): void {
  const n = s.length;
  let h1 = (seed ^ S1) | 0;
  let h2 = (seed ^ S2) | 0;
  const end = n - (n & 3);
  let i = 0;
  for (; i < end; i += 4) {
    let k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);

    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + N1) | 0;

    k2 = Math.imul(k2, C2);
    k2 = (k2 << 17) | (k2 >>> 15);
    k2 = Math.imul(k2, C1);
    h2 ^= k2;
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (h2 + h1) | 0;
    h2 = (Math.imul(h2, 5) + N2) | 0;
  }

  // The last one to three code units: mixed like a block word but without the lane step, as Murmur does.
  const rest = n & 3;
  if (rest !== 0) {
    let k1 = s.charCodeAt(i);
    if (rest > 1) k1 |= s.charCodeAt(i + 1) << 16;
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    if (rest === 3) {
      let k2 = Math.imul(s.charCodeAt(i + 2), C2);
      k2 = (k2 << 17) | (k2 >>> 15);
      h2 ^= Math.imul(k2, C1);
    }
  }

  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  out.hi = h1 >>> 0;
  out.lo = h2 >>> 0;
}

const scratch: Hash64 = { hi: 0, lo: 0 };

/** The 64-bit hash as two halves in a new array (convenient, allocates: not for hot paths). */
export function hash64(s: string, seed = 0): [hi: number, lo: number] {
  hash64Into(s, seed, scratch);
  return [scratch.hi, scratch.lo];
}

/** The high half of the 64-bit hash: a 32-bit hash with the same distribution. */
export function hash32(s: string, seed = 0): number {
  hash64Into(s, seed, scratch);
  return scratch.hi;
}

/**
 * The 64-bit hash as a hex string of 16 digits (`hi` then `lo`): for tests and debugging output.
 */
export function hash64Hex(s: string, seed = 0): string {
  hash64Into(s, seed, scratch);
  return scratch.hi.toString(16).padStart(8, '0') + scratch.lo.toString(16).padStart(8, '0');
}
