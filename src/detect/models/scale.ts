/**
 * Column scalers applied before the models: v' = (f(v) - center) / scale per column, where f is the
 * identity or, for the columns chosen with `log1p`, sign(v) * log1p(|v|) (plain log1p for the non-negative
 * counts, sizes and durations it is meant for, and still defined for a negative value).
 *
 *   'standard': center = mean, scale = standard deviation (population, ddof 0, as scikit-learn's
 *               StandardScaler); a constant column gets scale 1.
 *   'robust':   center = median, scale = interquartile range q75 - q25 (linear interpolation between order
 *               statistics, as numpy.percentile and scikit-learn's RobustScaler); when the IQR is 0 (more
 *               than half the rows share a value) the standard deviation is used instead, and 1 when the
 *               column is constant.
 *
 * API:
 *   Scaler.fit(x, { method = 'robust', log1p?: boolean | readonly number[] }) -> scaler
 *   scaler.transform(x) -> new Matrix          scaler.transformRow(src, srcOffset, dst, dstOffset)
 *   scaler.toJSON() -> { kind: 'scaler', version: 1, ... }    Scaler.fromJSON(json) -> scaler
 *   scaler.center, scaler.scale (Float64Array per column), scaler.log (Uint8Array, 1 = log1p column)
 */

import { checkFitMatrix, checkScoreMatrix, JsonReader, plain } from './common.js';
import { type Matrix, matrix } from './types.js';

export type ScaleMethod = 'standard' | 'robust';
const METHODS: readonly ScaleMethod[] = ['standard', 'robust'];

export interface ScalerOptions {
  /** Default 'robust'. */
  method?: ScaleMethod;
  /** log1p every column (true) or the listed column indices. */
  log1p?: boolean | readonly number[];
}

const VERSION = 1;

function slog(v: number): number {
  return v >= 0 ? Math.log1p(v) : -Math.log1p(-v);
}

/** Linear-interpolation quantile of sorted values (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  return sorted[lo]! + frac * (sorted[hi]! - sorted[lo]!);
}

export class Scaler {
  readonly kind = 'scaler';
  readonly cols: number;
  readonly method: ScaleMethod;
  readonly center: Float64Array;
  readonly scale: Float64Array;
  readonly log: Uint8Array;
  private readonly inv: Float64Array;

  private constructor(method: ScaleMethod, center: Float64Array, scale: Float64Array, log: Uint8Array) {
    this.cols = center.length;
    this.method = method;
    this.center = center;
    this.scale = scale;
    this.log = log;
    this.inv = scale.map((s) => 1 / s);
  }

  static fit(x: Matrix, opts: ScalerOptions = {}): Scaler {
    const who = 'Scaler.fit';
    checkFitMatrix(x, who);
    const method = opts.method ?? 'robust';
    if (!METHODS.includes(method))
      throw new RangeError(`${who}: method must be 'standard' or 'robust', got ${method}`);
    const { rows, cols, data } = x;
    const log = new Uint8Array(cols);
    if (opts.log1p === true) log.fill(1);
    else if (Array.isArray(opts.log1p)) {
      for (const j of opts.log1p as readonly number[]) {
        if (!Number.isInteger(j) || j < 0 || j >= cols)
          throw new RangeError(`${who}: log1p column ${j} is not a column index in 0..${cols - 1}`);
        log[j] = 1;
      }
    } else if (opts.log1p !== undefined && opts.log1p !== false)
      throw new TypeError(`${who}: log1p must be a boolean or an array of column indices`);

    const center = new Float64Array(cols);
    const scale = new Float64Array(cols);
    const col = new Float64Array(rows);
    for (let j = 0; j < cols; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < rows; i++) {
        const raw = data[i * cols + j]!;
        const v = log[j] ? slog(raw) : raw;
        col[i] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let mean = 0;
      for (let i = 0; i < rows; i++) mean += col[i]!;
      mean /= rows;
      let ss = 0;
      for (let i = 0; i < rows; i++) {
        const d = col[i]! - mean;
        ss += d * d;
      }
      const std = lo === hi ? 1 : Math.sqrt(ss / rows);
      if (method === 'standard') {
        center[j] = mean;
        scale[j] = std;
      } else {
        col.sort();
        center[j] = quantile(col, 0.5);
        const iqr = quantile(col, 0.75) - quantile(col, 0.25);
        scale[j] = iqr > 0 ? iqr : std;
      }
    }
    return new Scaler(method, center, scale, log);
  }

  /** Scales `cols` values from src[srcOffset..] into dst[dstOffset..] (src and dst may be the same). */
  transformRow(src: ArrayLike<number>, srcOffset: number, dst: Float64Array, dstOffset: number): void {
    const { cols, center, inv, log } = this;
    for (let j = 0; j < cols; j++) {
      const raw = src[srcOffset + j]!;
      const v = log[j] ? slog(raw) : raw;
      dst[dstOffset + j] = (v - center[j]!) * inv[j]!;
    }
  }

  transform(x: Matrix): Matrix {
    checkScoreMatrix(x, this.cols, 'Scaler.transform');
    const out = matrix(x.rows, x.cols);
    for (let i = 0; i < x.rows; i++) this.transformRow(x.data, i * x.cols, out.data, i * x.cols);
    return out;
  }

  toJSON(): { kind: string; version: number } & Record<string, unknown> {
    return {
      kind: this.kind,
      version: VERSION,
      method: this.method,
      center: plain(this.center),
      scale: plain(this.scale),
      log1p: plain(this.log),
    };
  }

  static fromJSON(json: unknown): Scaler {
    const r = new JsonReader(json, 'scaler', VERSION);
    const method = r.oneOf('method', METHODS);
    const center = r.f64('center');
    if (center.length === 0) r.fail('center', 'must have at least one column');
    const scale = r.f64('scale', center.length);
    for (let j = 0; j < scale.length; j++)
      if (!(scale[j]! > 0)) r.fail('scale', `value ${j} must be > 0, got ${scale[j]}`);
    const log = Uint8Array.from(r.i32('log1p', center.length, 0, 1));
    return new Scaler(method, center, scale, log);
  }
}
