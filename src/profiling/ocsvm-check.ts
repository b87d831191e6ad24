/**
 * The second opinion on a period's outliers, as the seed did it: a One-Class SVM (src/detect/models/ocsvm.ts,
 * exact SMO) over the period's log-scaled peaks. The period's OCSVM threshold is the smallest value above
 * the median that the SVM puts outside its boundary. A seeded sample of at most MAX_SAMPLE values keeps it
 * cheap (it runs per period and feature).
 */
import { OneClassSvm } from '../detect/models/ocsvm.js';

const MAX_SAMPLE = 400;
/** Share of values the SVM may leave outside (nu). */
const NU = 0.02;

export function ocsvmPeriodThreshold(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 20) return null;
  const x = new Float64Array(Math.min(n, MAX_SAMPLE));
  // An even stride through the values (their order is the actors' arrival order): deterministic.
  const step = n / x.length;
  for (let i = 0; i < x.length; i++) x[i] = Math.log1p(Math.max(0, values[Math.floor(i * step)]!));
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi - lo < 1e-9) return null;
  const model = OneClassSvm.fit({ rows: x.length, cols: 1, data: x }, { nu: NU, gamma: 'scale', seed: 1 });
  const sorted = Float64Array.from(values, (v) => Math.log1p(Math.max(0, v))).sort();
  const median = sorted[sorted.length >> 1]!;
  const one = new Float64Array(1);
  let prev = Number.NaN;
  for (const v of sorted) {
    if (v <= median || v === prev) continue;
    prev = v;
    one[0] = v;
    if (model.decisionRow(one, 0) < 0) return Math.round(Math.expm1(v) * 1e6) / 1e6;
  }
  return null;
}
