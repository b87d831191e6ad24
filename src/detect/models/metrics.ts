/**
 * Ranking metrics for anomaly scores against 0/1 labels (1 = anomaly), exact and tie-aware, equal to
 * scikit-learn's:
 *
 *   rocAuc(scores, labels)            roc_auc_score: the Mann-Whitney U statistic with tied scores given
 *                                     their average rank, U / (positives * negatives)
 *   averagePrecision(scores, labels)  average_precision_score: sum over distinct score thresholds (high to
 *                                     low, tied scores taken together) of (recall gain) * precision
 *
 * Labels are numbers 0/1 or booleans. Both throw when the lengths differ, a score is not finite, a label is
 * not 0/1, or (rocAuc) only one class is present / (averagePrecision) there is no positive.
 */

function check(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, who: string): Uint8Array {
  if (scores.length !== labels.length)
    throw new RangeError(`${who}: ${scores.length} scores but ${labels.length} labels`);
  const y = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const s = scores[i]!;
    if (typeof s !== 'number' || s - s !== 0)
      throw new RangeError(`${who}: score ${i} is ${s} (must be finite)`);
    const l = labels[i];
    if (l === 1 || l === true) y[i] = 1;
    else if (l !== 0 && l !== false)
      throw new RangeError(`${who}: label ${i} is ${l} (must be 0/1 or a boolean)`);
  }
  return y;
}

/** Indices sorted by score, descending (stable). */
function byScoreDesc(scores: ArrayLike<number>): Int32Array {
  const order = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

/** Area under the ROC curve, ties counted half (average ranks). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const who = 'rocAuc';
  const y = check(scores, labels, who);
  const n = y.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  const neg = n - pos;
  if (pos === 0 || neg === 0)
    throw new RangeError(`${who}: needs both classes, got ${pos} positive and ${neg} negative labels`);
  const order = byScoreDesc(scores);
  // Walk from the highest score down; rank r counts from the bottom (1 = lowest score).
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const s = scores[order[i]!]!;
    let p = 0;
    while (j < n && scores[order[j]!]! === s) {
      p += y[order[j]!]!;
      j++;
    }
    // Positions i..j-1 from the top are ranks n-i .. n-j+1; their average is (2n - i - j + 1) / 2.
    rankSum += (p * (2 * n - i - j + 1)) / 2;
    i = j;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Average precision (area under the step precision-recall curve, scikit-learn's definition). */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const who = 'averagePrecision';
  const y = check(scores, labels, who);
  const n = y.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  if (pos === 0) throw new RangeError(`${who}: needs at least one positive label`);
  const order = byScoreDesc(scores);
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const s = scores[order[i]!]!;
    while (i < n && scores[order[i]!]! === s) {
      tp += y[order[i]!]!;
      seen++;
      i++;
    }
    const recall = tp / pos;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
  }
  return ap;
}
