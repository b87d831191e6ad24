/**
 * Probabilistic sketches for the feature engines (docs/sketches.md): a 64-bit string hash, HyperLogLog and
 * the exact-then-HyperLogLog distinct counter, and a relative-error quantile sketch. All of them merge, and
 * serialize to compact bytes whose layout starts with a format version.
 */
export { type Hash64, hash32, hash64, hash64Hex, hash64Into } from './hash.js';
export {
  DEFAULT_EXACT_LIMIT,
  DEFAULT_P,
  ExactThenHll,
  type ExactThenHllOptions,
  type HllOptions,
  HyperLogLog,
  hllStandardError,
} from './hll.js';
export {
  DEFAULT_MIN_VALUE,
  DEFAULT_RELATIVE_ACCURACY,
  QuantileSketch,
  type QuantileSketchOptions,
  quantileRank,
} from './quantiles.js';
