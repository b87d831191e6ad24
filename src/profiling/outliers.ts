/**
 * Outliers of one period's per-actor values, the seed's way: DBSCAN over the values (log scale, so that
 * "twice as many" is the same distance everywhere), everything outside every dense cluster and above the bulk
 * is an outlier. In one dimension DBSCAN needs no index: on sorted values a point's eps-neighbourhood is a
 * contiguous run, found with two pointers, so a period of n actors costs O(n log n).
 *
 * eps is learned from the data: the median k-distance (the distance from each value to its k-th nearest
 * neighbour, k = minPts - 1), floored at EPS_FLOOR so that small counts (1, 2, 3 requests) are neighbours
 * rather than separate clusters. The median, not a high quantile: a few attackers in a quiet period must not
 * stretch eps over themselves.
 */

export interface PeriodOutliers {
  /** Actors (values) in the period. */
  n: number;
  /** The largest value inside a cluster: the edge of normal. */
  inlierMax: number;
  /** The smallest outlier above the bulk (the seed's period threshold), or null when there is none. */
  minOutlier: number | null;
  outliers: number;
  eps: number;
}

/** log1p distance below which two values are always neighbours: about a factor of two. */
export const EPS_FLOOR = Math.LN2;

export function periodOutliers(values: ArrayLike<number>, minPts = 5): PeriodOutliers {
  const n = values.length;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.log1p(Math.max(0, values[i]!));
  x.sort();
  if (n === 0) return { n: 0, inlierMax: 0, minOutlier: null, outliers: 0, eps: 0 };
  const k = Math.min(minPts - 1, n - 1);
  // k-distance on sorted values: the k-th neighbour is among x[i-k..i+k]; the smallest window of k+1
  // consecutive values that contains i gives it.
  const kd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = Number.POSITIVE_INFINITY;
    for (let s = Math.max(0, i - k); s <= i && s + k < n; s++) {
      const d = Math.max(x[i]! - x[s]!, x[s + k]! - x[i]!);
      if (d < best) best = d;
    }
    kd[i] = best === Number.POSITIVE_INFINITY ? 0 : best;
  }
  const sortedKd = Float64Array.from(kd).sort();
  const eps = Math.max(EPS_FLOOR, sortedKd[Math.floor(0.5 * (n - 1))]!);
  // Core points: at least minPts values within eps (itself included).
  const core = new Uint8Array(n);
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    while (x[i]! - x[lo]! > eps) lo++;
    if (hi < i) hi = i;
    while (hi + 1 < n && x[hi + 1]! - x[i]! <= eps) hi++;
    if (hi - lo + 1 >= minPts) core[i] = 1;
  }
  // A point is in a cluster when a core point lies within eps of it (itself included).
  const inCluster = new Uint8Array(n);
  let lastCore = -1;
  for (let i = 0; i < n; i++) {
    if (core[i]) lastCore = i;
    if (lastCore >= 0 && x[i]! - x[lastCore]! <= eps) inCluster[i] = 1;
  }
  let nextCore = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (core[i]) nextCore = i;
    if (nextCore >= 0 && x[nextCore]! - x[i]! <= eps) inCluster[i] = 1;
  }
  // The bulk: the cluster that holds the median. Outliers are what lies above it: noise, and further clusters
  // (a crowd that behaves alike but apart from everyone else — a botnet — is not normal for being a crowd; a
  // crowd that is normal, like a flash sale, is connected to the bulk and part of it).
  const median = n >> 1;
  let bulkEnd = median;
  while (bulkEnd + 1 < n && inCluster[bulkEnd + 1] && x[bulkEnd + 1]! - x[bulkEnd]! <= eps) bulkEnd++;
  if (!inCluster[median]) bulkEnd = median;
  const inlierMax = x[bulkEnd]!;
  let minOutlier: number | null = null;
  let outliers = 0;
  let i = bulkEnd + 1;
  while (i < n) {
    if (!inCluster[i]) {
      if (minOutlier === null) minOutlier = x[i]!;
      outliers++;
      i++;
      continue;
    }
    // A further cluster: [i, j].
    let j = i;
    while (j + 1 < n && inCluster[j + 1] && x[j + 1]! - x[j]! <= eps) j++;
    if (minOutlier === null) minOutlier = x[i]!;
    outliers += j - i + 1;
    i = j + 1;
  }
  const back = (v: number) => Math.round(Math.expm1(v) * 1e6) / 1e6;
  return {
    n,
    inlierMax: back(inlierMax),
    minOutlier: minOutlier === null ? null : back(minOutlier),
    outliers,
    eps,
  };
}
