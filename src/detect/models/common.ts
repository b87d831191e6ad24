/**
 * Helpers shared by the models in this folder: a small seeded PRNG, input validation with errors that say
 * what is wrong and where, the "top contributions" step of every `explain`, and readers for `fromJSON`
 * that throw an Error naming the malformed field.
 *
 * API:
 *   new Rng(seed) -> rng.next() in [0, 1), rng.int(n) in [0, n), rng.gaussian()
 *   checkFitMatrix(x, who) / checkScoreMatrix(x, cols, who) / checkRow(row, cols, who)
 *   topContributions(weights, row, top, names, who) -> Contribution[]
 *   JsonReader: new JsonReader(obj, kind, version) -> .int(field) .num(field) .f64(field, len) .i32(field, len) ...
 */

import type { Contribution, Matrix } from './types.js';

/**
 * mulberry32 seeded with a splitmix32 mix of the seed: 32-bit state, fast, good enough for sampling and
 * random thresholds, and identical on every platform (integer ops only, then one exact division).
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // Fold the high bits in, then scramble once so that nearby seeds give unrelated streams.
    let s = (seed >>> 0) ^ Math.floor(seed / 4294967296);
    s = (s + 0x9e3779b9) | 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35);
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n), n >= 1. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; one of the pair is thrown away to keep the state simple). */
  gaussian(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** A seed option: absent means 0; otherwise a safe integer. */
export function seedOf(seed: number | undefined, who: string): number {
  if (seed === undefined) return 0;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${who}: seed must be a safe integer, got ${seed}`);
  return seed;
}

function checkShape(x: Matrix, who: string): void {
  if (x === null || typeof x !== 'object' || !(x.data instanceof Float64Array))
    throw new TypeError(`${who}: expected a Matrix { rows, cols, data: Float64Array }`);
  if (!Number.isInteger(x.rows) || x.rows < 0 || !Number.isInteger(x.cols) || x.cols < 0)
    throw new RangeError(`${who}: bad matrix shape ${x.rows} x ${x.cols}`);
  if (x.data.length !== x.rows * x.cols)
    throw new RangeError(
      `${who}: matrix is ${x.rows} x ${x.cols} but has ${x.data.length} values (expected ${x.rows * x.cols})`,
    );
}

function checkFinite(data: Float64Array, cols: number, who: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 for finite numbers and NaN for NaN and +-Infinity.
    if (v - v !== 0) {
      const r = Math.floor(i / cols);
      throw new RangeError(
        `${who}: row ${r}, column ${i - r * cols} is ${v} (values must be finite numbers)`,
      );
    }
  }
}

/** Training input: at least one row and one column, every value finite. */
export function checkFitMatrix(x: Matrix, who: string): void {
  checkShape(x, who);
  if (x.rows === 0 || x.cols === 0) throw new RangeError(`${who}: empty matrix (${x.rows} x ${x.cols})`);
  checkFinite(x.data, x.cols, who);
}

/** Scoring input: the model's column count, every value finite (zero rows is fine). */
export function checkScoreMatrix(x: Matrix, cols: number, who: string): void {
  checkShape(x, who);
  if (x.cols !== cols) throw new RangeError(`${who}: matrix has ${x.cols} columns, the model has ${cols}`);
  checkFinite(x.data, cols, who);
}

/** One row for `explain`: `cols` finite values. */
export function checkRow(row: ArrayLike<number>, cols: number, who: string): void {
  if (row === null || typeof row !== 'object' || typeof row.length !== 'number')
    throw new TypeError(`${who}: row must be an array of numbers`);
  if (row.length !== cols)
    throw new RangeError(`${who}: row has ${row.length} values, the model has ${cols}`);
  for (let j = 0; j < cols; j++) {
    const v = row[j]!;
    if (typeof v !== 'number' || v - v !== 0)
      throw new RangeError(`${who}: row value ${j} is ${v} (values must be finite numbers)`);
  }
}

/**
 * The contributions with a positive weight, largest first (ties: lower column first), at most `top`.
 * `top` defaults to every column; `names`, when given, must name every column.
 */
export function topContributions(
  weights: Float64Array,
  row: ArrayLike<number>,
  top: number | undefined,
  names: readonly string[] | undefined,
  who: string,
): Contribution[] {
  const cols = weights.length;
  const limit = top ?? cols;
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`${who}: top must be a non-negative integer, got ${top}`);
  if (names !== undefined && names.length !== cols)
    throw new RangeError(`${who}: ${names.length} names given for ${cols} columns`);
  const order: number[] = [];
  for (let j = 0; j < cols; j++) if (weights[j]! > 0) order.push(j);
  order.sort((a, b) => weights[b]! - weights[a]! || a - b);
  const out: Contribution[] = [];
  for (let k = 0; k < order.length && k < limit; k++) {
    const j = order[k]!;
    const c: Contribution = { index: j, value: row[j]!, weight: weights[j]! };
    if (names !== undefined) c.name = names[j]!;
    out.push(c);
  }
  return out;
}

/**
 * Reads the fields of a serialized model, throwing `<kind>.fromJSON: field "<name>" ...` on the first
 * malformed one. Numbers must be finite; arrays are plain JSON arrays (a typed array is accepted too, so
 * that `fromJSON(model.toJSON())` works without a JSON round trip).
 */
export class JsonReader {
  readonly obj: Record<string, unknown>;
  private readonly who: string;

  constructor(json: unknown, kind: string, version: number) {
    this.who = `${kind}.fromJSON`;
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new TypeError(`${this.who}: expected an object, got ${json === null ? 'null' : typeof json}`);
    this.obj = json as Record<string, unknown>;
    if (this.obj.kind !== kind)
      throw new TypeError(
        `${this.who}: field "kind" must be "${kind}", got ${JSON.stringify(this.obj.kind)}`,
      );
    if (this.obj.version !== version)
      throw new TypeError(
        `${this.who}: field "version" must be ${version}, got ${JSON.stringify(this.obj.version)}`,
      );
  }

  fail(field: string, what: string): never {
    throw new TypeError(`${this.who}: field "${field}" ${what}`);
  }

  num(field: string, min = -Infinity, max = Infinity): number {
    const v = this.obj[field];
    if (typeof v !== 'number' || v - v !== 0) this.fail(field, `must be a finite number, got ${show(v)}`);
    if (v < min || v > max) this.fail(field, `must be in [${min}, ${max}], got ${v}`);
    return v;
  }

  int(field: string, min = -Infinity, max = Infinity): number {
    const v = this.num(field, min, max);
    if (!Number.isInteger(v)) this.fail(field, `must be an integer, got ${v}`);
    return v;
  }

  bool(field: string): boolean {
    const v = this.obj[field];
    if (typeof v !== 'boolean') this.fail(field, `must be a boolean, got ${show(v)}`);
    return v;
  }

  oneOf<T extends string>(field: string, options: readonly T[]): T {
    const v = this.obj[field];
    if (typeof v !== 'string' || !options.includes(v as T))
      this.fail(field, `must be one of ${options.map((o) => `"${o}"`).join(', ')}, got ${show(v)}`);
    return v as T;
  }

  private array(field: string, length: number | undefined): ArrayLike<unknown> {
    const v = this.obj[field];
    const ok =
      Array.isArray(v) || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;
    if (!ok) this.fail(field, `must be an array, got ${show(v)}`);
    const a = v as ArrayLike<unknown>;
    if (length !== undefined && a.length !== length)
      this.fail(field, `must have ${length} values, got ${a.length}`);
    return a;
  }

  f64(field: string, length?: number): Float64Array {
    const a = this.array(field, length);
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v !== 'number' || v - v !== 0)
        this.fail(field, `value ${i} must be a finite number, got ${show(v)}`);
      out[i] = v;
    }
    return out;
  }

  i32(field: string, length?: number, min = -2147483648, max = 2147483647): Int32Array {
    const a = this.array(field, length);
    const out = new Int32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        this.fail(field, `value ${i} must be an integer in [${min}, ${max}], got ${show(v)}`);
      out[i] = v;
    }
    return out;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** A typed array as a plain array for `toJSON` (JSON numbers round-trip doubles exactly). */
export function plain(a: Float64Array | Int32Array | Uint8Array): number[] {
  return Array.from(a);
}
