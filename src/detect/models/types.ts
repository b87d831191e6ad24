/**
 * The shared shape of the unsupervised models (Isolation Forest, One-Class SVM, K-Means distance, DBSCAN):
 * rows of numbers in a row-major Float64Array, a score per row where higher means more anomalous, a
 * per-row explanation by the features that drove the score, and a JSON form that restores the same model.
 * Every model is seeded: the same data, options and seed give the same model and the same scores.
 */

/** Row-major matrix: row i, column j is `data[i * cols + j]`. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols)
    throw new RangeError(`matrix: expected ${rows * cols} values, got ${d.length}`);
  return { rows, cols, data: d };
}

/** Builds a matrix from arrays of rows (tests and small inputs; hot paths fill `data` directly). */
export function fromRows(rows: ArrayLike<number>[]): Matrix {
  const cols = rows.length > 0 ? rows[0]!.length : 0;
  const m = matrix(rows.length, cols);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.length !== cols)
      throw new RangeError(`fromRows: row ${i} has ${r.length} values, expected ${cols}`);
    for (let j = 0; j < cols; j++) m.data[i * cols + j] = r[j]!;
  }
  return m;
}

/** One feature's share in a row's score: `index` into the columns, `name` when names were given. */
export interface Contribution {
  index: number;
  name?: string;
  /** The row's value of the feature. */
  value: number;
  /** How much the feature pushed the score up (model-specific unit; larger = more responsible). */
  weight: number;
}

/** What every fitted model offers. */
export interface AnomalyModel {
  /** `iforest` | `ocsvm` | `ocsvm-rff` | `kmeans` | `dbscan` */
  readonly kind: string;
  /** Number of input columns the model was fitted on. */
  readonly cols: number;
  /** One score per row; higher = more anomalous. */
  score(x: Matrix): Float64Array;
  /** Score of one row, read from `data` at `offset` (no allocation on the hot path). */
  scoreRow(data: Float64Array, offset: number): number;
  /** The features that drove the row's score, most responsible first, at most `top` of them. */
  explain(row: ArrayLike<number>, top?: number, names?: readonly string[]): Contribution[];
  /** A plain JSON object from which the model's `fromJSON` restores an identical model. */
  toJSON(): { kind: string; version: number } & Record<string, unknown>;
}
