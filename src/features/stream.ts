/**
 * The stream engine: computes feature specs incrementally over event-time windows. Time is the events' own;
 * the watermark is the highest event time seen minus each feature's allowed lateness (or what an injected
 * clock says, through `advanceTo`). A window closes when its end is at or below the watermark and emits one
 * snapshot row per key; an event for a window already closed is late: counted, not applied. Replaying a file
 * and living through it give the same rows, because nothing depends on wall time unless a clock is injected.
 *
 * Memory is bounded: state exists only for open windows; each feature tracks at most `maxKeys` keys at once
 * (events of further keys are counted in `overflow` and skipped).
 */

import type { FeatureEvent } from './enrich.js';
import { ExactThenHll, hash64Into, QuantileSketch } from './sketch/index.js';
import type { AggSpec, FeatureSpec, Filter, KeyPart, NumericField, ValueField } from './spec.js';

/** One feature value of one key for one window (emitted only when at least one event passed its filter). */
export interface Snapshot {
  feature: string;
  /** Key parts joined by U+001F (the unit separator), in the spec's key order. */
  key: string;
  windowStart: number;
  windowEnd: number;
  /** Events of the key in the window that passed the filter. */
  events: number;
  value: number | null;
}

export const KEY_SEP = '\u001f';

/** Returned when an event closed nothing (no allocation per event); never mutated. */
const NONE: Snapshot[] = Object.freeze([]) as unknown as Snapshot[];

// -----------------------------------------------------------------------------------------------------------
// Field access and filters

function keyOf(e: FeatureEvent, parts: readonly KeyPart[]): string | null {
  let k = '';
  for (let i = 0; i < parts.length; i++) {
    const v = e[parts[i]!];
    if (v === null || v === '') return null;
    k = i === 0 ? v : k + KEY_SEP + v;
  }
  return k;
}

export function fieldValue(e: FeatureEvent, f: ValueField): string | null {
  switch (f) {
    case 'path':
      return e.path;
    case 'user_agent':
      return e.userAgent;
    case 'status':
      return String(e.status);
    default:
      return e[f];
  }
}

export function numberOf(e: FeatureEvent, f: NumericField): number | null {
  return f === 'latency_ms' ? e.latencyMs : f === 'bytes_out' ? e.bytesOut : e.bytesIn;
}

const STATUS_CLASS = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export function passes(e: FeatureEvent, f: Filter | undefined): boolean {
  if (f === undefined) return true;
  if (f.scenario !== undefined && !f.scenario.includes(e.scenario)) return false;
  if (f.status !== undefined && !f.status.includes(STATUS_CLASS[Math.floor(e.status / 100) - 1] as never))
    return false;
  if (f.method !== undefined && !f.method.includes(e.method)) return false;
  if (f.static !== undefined && (e.scenario === 'static') !== f.static) return false;
  return true;
}

// -----------------------------------------------------------------------------------------------------------
// Accumulators

interface Acc {
  n: number;
  first: number;
  last: number;
  add(e: FeatureEvent, engine: GroupState): void;
  value(start: number, end: number): number | null;
}

class CountAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  constructor(private readonly rate: boolean) {}
  add(): void {}
  value(start: number, end: number): number | null {
    if (!this.rate) return this.n;
    return this.n / Math.max(1, (end - start) / 60_000);
  }
}

/** Scratch for string hashes: ExactThenHll.add(v) is addHash(hash64(v, 0)). */
const hashScratch = { hi: 0, lo: 0 };

class DistinctAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private readonly set: ExactThenHll;
  private lastValue: string | null = null;
  constructor(
    private readonly field: ValueField | null,
    exactLimit: number | undefined,
  ) {
    this.set = new ExactThenHll(exactLimit === undefined ? {} : { exactLimit });
  }
  add(e: FeatureEvent): void {
    if (this.field === null) {
      for (const h of e.sensitive) this.set.add(h);
      return;
    }
    const v = fieldValue(e, this.field);
    // A key often repeats its last value (its user agent, its endpoint): a set needs it once.
    if (v === null || v === this.lastValue) return;
    this.lastValue = v;
    hash64Into(v, 0, hashScratch);
    this.set.addHash(hashScratch.hi, hashScratch.lo);
  }
  value(): number {
    return this.set.count();
  }
}

class RatioAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  hits = 0;
  constructor(private readonly where: Filter) {}
  add(e: FeatureEvent): void {
    if (passes(e, this.where)) this.hits++;
  }
  value(): number {
    return this.hits / this.n;
  }
}

/** Exact value counts (at most MAX_ENTROPY_VALUES distinct; further values share one bucket). */
const MAX_ENTROPY_VALUES = 10_000;
class EntropyAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private readonly counts = new Map<string, number>();
  private counted = 0;
  constructor(private readonly field: ValueField) {}
  add(e: FeatureEvent): void {
    let v = fieldValue(e, this.field);
    if (v === null) return;
    this.counted++;
    const c = this.counts.get(v);
    if (c === undefined && this.counts.size >= MAX_ENTROPY_VALUES) v = '\u0000other';
    this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
  }
  value(): number | null {
    if (this.counted === 0) return null;
    let h = 0;
    for (const c of this.counts.values()) {
      const p = c / this.counted;
      h -= p * Math.log2(p);
    }
    return h;
  }
}

class QuantileAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private readonly sketch = new QuantileSketch();
  constructor(
    private readonly field: NumericField,
    private readonly q: number,
  ) {}
  add(e: FeatureEvent): void {
    const x = numberOf(e, this.field);
    // Negative values (ALB's -1 "no answer") are not measurements: the batch engine filters them the same way.
    if (x !== null && x >= 0) this.sketch.add(x);
  }
  value(): number | null {
    return this.sketch.quantile(this.q);
  }
}

class SumAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private sum = 0;
  private seen = 0;
  constructor(private readonly field: NumericField) {}
  add(e: FeatureEvent): void {
    const x = numberOf(e, this.field);
    if (x !== null && x >= 0) {
      this.sum += x;
      this.seen++;
    }
  }
  value(): number | null {
    return this.seen === 0 ? null : this.sum;
  }
}

/** Gaps between consecutive events in arrival order (time order for ordered input): Welford's mean/variance. */
class InterarrivalAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private prev = Number.NaN;
  private gaps = 0;
  private mean = 0;
  private m2 = 0;
  constructor(private readonly cv: boolean) {}
  add(e: FeatureEvent): void {
    if (!Number.isNaN(this.prev)) {
      const g = e.ts - this.prev;
      this.gaps++;
      const d = g - this.mean;
      this.mean += d / this.gaps;
      this.m2 += d * (g - this.mean);
    }
    this.prev = e.ts;
  }
  value(): number | null {
    if (!this.cv) return this.gaps === 0 ? null : this.mean;
    if (this.gaps < 2 || this.mean === 0) return null;
    return Math.sqrt(this.m2 / this.gaps) / this.mean;
  }
}

class SequentialAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private prev: number | null = null;
  private pairs = 0;
  private hits = 0;
  add(e: FeatureEvent): void {
    const id = e.numericId;
    if (id === null) return;
    if (this.prev !== null) {
      this.pairs++;
      const d = Math.abs(id - this.prev);
      if (d >= 1 && d <= 2) this.hits++;
    }
    this.prev = id;
  }
  value(): number | null {
    return this.pairs < 2 ? null : this.hits / this.pairs;
  }
}

class NewEndpointAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private fresh = 0;
  constructor(private readonly windowStart: number) {}
  add(e: FeatureEvent, s: GroupState): void {
    if (s.engine.firstSeen(e.endpoint) >= this.windowStart) this.fresh++;
  }
  value(): number {
    return this.fresh / this.n;
  }
}

function makeAcc(a: AggSpec, windowStart: number): Acc {
  switch (a.fn) {
    case 'count':
      return new CountAcc(false);
    case 'rate_per_min':
      return new CountAcc(true);
    case 'distinct':
      return new DistinctAcc(a.field, a.exactLimit);
    case 'sensitive_distinct':
      return new DistinctAcc(null, undefined);
    case 'ratio':
      return new RatioAcc(a.where);
    case 'entropy':
      return new EntropyAcc(a.field);
    case 'quantile':
      return new QuantileAcc(a.field, a.q);
    case 'sum':
      return new SumAcc(a.field);
    case 'interarrival_mean':
      return new InterarrivalAcc(false);
    case 'interarrival_cv':
      return new InterarrivalAcc(true);
    case 'sequential_id_score':
      return new SequentialAcc();
    case 'new_endpoint_share':
      return new NewEndpointAcc(windowStart);
  }
}

function addTo(acc: Acc, e: FeatureEvent, s: GroupState): void {
  acc.n++;
  if (e.ts < acc.first) acc.first = e.ts;
  if (e.ts > acc.last) acc.last = e.ts;
  acc.add(e, s);
}

// -----------------------------------------------------------------------------------------------------------
// Per-feature window state

export interface StreamOptions {
  /** Keys tracked at once per feature (default 200,000). */
  maxKeys?: number;
}

/** One key's accumulators in one window: one slot per feature of the group, null until an event passes. */
type Row = (Acc | null)[];

interface Session {
  start: number;
  last: number;
  row: Row;
}

/**
 * Features that share a key and a window are computed together: one map lookup per event finds the key's row
 * of accumulators, and each feature's filter decides whether its slot takes the event.
 */
class GroupState {
  /** Fixed windows (tumbling, hopping): window start → key → row. */
  private readonly windows = new Map<number, Map<string, Row>>();
  private readonly sessions = new Map<string, Session>();
  private keys = 0;
  watermark = Number.NEGATIVE_INFINITY;
  late = 0;
  overflow = 0;
  private readonly size: number;
  private readonly advance: number;
  private readonly lateness: number;
  private readonly gap: number;
  private readonly keyParts: readonly KeyPart[];
  private readonly n: number;
  /** The earliest open fixed window's start: nothing can close before the watermark passes its end. */
  private minStart = Number.POSITIVE_INFINITY;
  /** Sessions are swept when the watermark has moved a quarter gap since the last sweep (not per event). */
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** The newest window touched, cached: most events fall in it. */
  private curStart = Number.NaN;
  private curKeys: Map<string, Row> | undefined = undefined;

  constructor(
    readonly specs: readonly FeatureSpec[],
    readonly engine: StreamEngine,
    private readonly maxKeys: number,
  ) {
    const w = specs[0]!.window;
    this.size = w.type === 'session' ? 0 : w.sizeMs;
    this.advance = w.type === 'hopping' ? w.advanceMs : this.size;
    this.lateness = w.latenessMs;
    this.gap = w.type === 'session' ? w.gapMs : 0;
    this.keyParts = specs[0]!.key;
    this.n = specs.length;
  }

  /** Which features of the group take the event (null: none). */
  private passing(e: FeatureEvent): boolean[] | null {
    let any = false;
    const ok = this.scratch;
    for (let i = 0; i < this.n; i++) {
      ok[i] = passes(e, this.specs[i]!.filter);
      if (ok[i]) any = true;
    }
    return any ? ok : null;
  }
  private readonly scratch: boolean[] = [];

  private fill(row: Row, ok: boolean[], e: FeatureEvent, start: number): void {
    for (let i = 0; i < this.n; i++) {
      if (!ok[i]) continue;
      let acc = row[i];
      if (acc === null || acc === undefined) {
        acc = makeAcc(this.specs[i]!.agg, start);
        row[i] = acc;
      }
      addTo(acc, e, this);
    }
  }

  private newRow(): Row {
    const r: Row = new Array(this.n);
    for (let i = 0; i < this.n; i++) r[i] = null;
    return r;
  }

  add(e: FeatureEvent, out: Snapshot[]): void {
    const ok = this.passing(e);
    if (ok === null) return;
    const key = keyOf(e, this.keyParts);
    if (key === null) return;
    if (this.gap > 0) {
      this.addSession(e, key, ok, out);
      return;
    }
    const last = Math.floor(e.ts / this.advance) * this.advance;
    for (let start = last; start > e.ts - this.size; start -= this.advance) {
      if (start + this.size <= this.watermark) {
        this.late++;
        continue;
      }
      let keys = start === this.curStart ? this.curKeys : this.windows.get(start);
      if (keys === undefined) {
        keys = new Map();
        this.windows.set(start, keys);
        if (start < this.minStart) this.minStart = start;
      }
      if (start === last) {
        this.curStart = start;
        this.curKeys = keys;
      }
      let row = keys.get(key);
      if (row === undefined) {
        if (this.keys >= this.maxKeys) {
          this.overflow++;
          continue;
        }
        row = this.newRow();
        keys.set(key, row);
        this.keys++;
      }
      this.fill(row, ok, e, start);
    }
  }

  private addSession(e: FeatureEvent, key: string, ok: boolean[], out: Snapshot[]): void {
    let s = this.sessions.get(key);
    if (s !== undefined && e.ts > s.last + this.gap) {
      this.emit(key, s.start, s.last + 1, s.row, out);
      this.sessions.delete(key);
      this.keys--;
      s = undefined;
    }
    if (s === undefined) {
      if (e.ts + this.gap <= this.watermark) {
        this.late++;
        return;
      }
      if (this.keys >= this.maxKeys) {
        this.overflow++;
        return;
      }
      s = { start: e.ts, last: e.ts, row: this.newRow() };
      this.sessions.set(key, s);
      this.keys++;
    }
    if (e.ts < s.start) s.start = e.ts;
    if (e.ts > s.last) s.last = e.ts;
    this.fill(s.row, ok, e, s.start);
  }

  private emit(key: string, start: number, end: number, row: Row, out: Snapshot[]): void {
    for (let i = 0; i < this.n; i++) {
      const acc = row[i];
      if (acc === null || acc === undefined) continue;
      out.push({
        feature: this.specs[i]!.name,
        key,
        windowStart: start,
        windowEnd: end,
        events: acc.n,
        value: acc.value(start, end),
      });
    }
  }

  /** Moves the watermark to `maxTs - lateness` (never back) and closes what ended at or before it. */
  advanceTo(maxTs: number, out: Snapshot[]): void {
    const wm = maxTs - this.lateness;
    if (wm <= this.watermark) return;
    this.watermark = wm;
    if (this.gap > 0) {
      if (wm - this.lastSweep < this.gap / 4) return;
      this.lastSweep = wm;
    } else if (wm < this.minStart + this.size) return;
    this.close(out, false);
  }

  close(out: Snapshot[], all: boolean): void {
    if (this.gap > 0) {
      const done: [string, Session][] = [];
      for (const [k, s] of this.sessions) if (all || s.last + this.gap <= this.watermark) done.push([k, s]);
      done.sort((a, b) => a[1].start - b[1].start || (a[0] < b[0] ? -1 : 1));
      for (const [k, s] of done) {
        this.emit(k, s.start, s.last + 1, s.row, out);
        this.sessions.delete(k);
        this.keys--;
      }
      return;
    }
    const starts = [...this.windows.keys()]
      .filter((st) => all || st + this.size <= this.watermark)
      .sort((a, b) => a - b);
    for (const st of starts) {
      const keys = this.windows.get(st)!;
      // Keys come out in the order they first appeared in the window: deterministic for a given input.
      for (const [k, row] of keys) this.emit(k, st, st + this.size, row, out);
      this.keys -= keys.size;
      this.windows.delete(st);
      if (st === this.curStart) {
        this.curStart = Number.NaN;
        this.curKeys = undefined;
      }
    }
    this.minStart = Number.POSITIVE_INFINITY;
    for (const st of this.windows.keys()) if (st < this.minStart) this.minStart = st;
  }

  /** Current values of open windows, without closing them. */
  peek(out: Snapshot[]): void {
    if (this.gap > 0) {
      for (const [k, s] of this.sessions) this.emit(k, s.start, s.last + 1, s.row, out);
      return;
    }
    for (const [st, keys] of this.windows)
      for (const [k, row] of keys) this.emit(k, st, st + this.size, row, out);
  }

  get trackedKeys(): number {
    return this.keys;
  }
}

export interface StreamStats {
  events: number;
  /** Per feature: late events dropped, events skipped because the key cap was reached, keys tracked now. */
  features: Record<string, { late: number; overflow: number; trackedKeys: number }>;
}

export class StreamEngine {
  private readonly states: GroupState[];
  private maxTs = Number.NEGATIVE_INFINITY;
  private events = 0;
  /** Global first-seen time of every endpoint (new_endpoint_share); bounded. */
  private readonly seen = new Map<string, number>();

  constructor(
    readonly specs: readonly FeatureSpec[],
    o: StreamOptions = {},
  ) {
    const max = o.maxKeys ?? 200_000;
    // Group features by key and window; the group keeps the specs' order.
    const groups = new Map<string, FeatureSpec[]>();
    for (const sp of specs) {
      const g = `${sp.key.join(',')}|${JSON.stringify(sp.window)}`;
      const l = groups.get(g);
      if (l === undefined) groups.set(g, [sp]);
      else l.push(sp);
    }
    this.states = [...groups.values()].map((g) => new GroupState(g, this, max));
  }

  firstSeen(endpoint: string): number {
    return this.seen.get(endpoint) ?? Number.POSITIVE_INFINITY;
  }

  private pending: Snapshot[] = [];

  /** Applies one event; returns the snapshots of windows it closed (in a deterministic order). */
  push(e: FeatureEvent): Snapshot[] {
    const out = this.pending;
    this.events++;
    const f = this.seen.get(e.endpoint);
    if (f === undefined) {
      if (this.seen.size < 1_000_000) this.seen.set(e.endpoint, e.ts);
    } else if (e.ts < f) this.seen.set(e.endpoint, e.ts);
    for (let i = 0; i < this.states.length; i++) this.states[i]!.add(e, out);
    if (e.ts > this.maxTs) {
      this.maxTs = e.ts;
      for (let i = 0; i < this.states.length; i++) this.states[i]!.advanceTo(e.ts, out);
    }
    if (out.length === 0) return NONE;
    this.pending = [];
    return out;
  }

  /** An injected clock moves event time forward without events (live mode: windows close on time). */
  advanceTo(ts: number): Snapshot[] {
    const out: Snapshot[] = [];
    if (ts > this.maxTs) {
      this.maxTs = ts;
      for (const s of this.states) s.advanceTo(ts, out);
    }
    return out;
  }

  /** Closes every open window (end of a replay). */
  flush(): Snapshot[] {
    const out: Snapshot[] = [];
    for (const s of this.states) s.close(out, true);
    return out;
  }

  /** The open windows' current values (on demand), leaving them open. */
  snapshot(): Snapshot[] {
    const out: Snapshot[] = [];
    for (const s of this.states) s.peek(out);
    return out;
  }

  stats(): StreamStats {
    const features: StreamStats['features'] = {};
    for (const s of this.states)
      for (const sp of s.specs)
        features[sp.name] = { late: s.late, overflow: s.overflow, trackedKeys: s.trackedKeys };
    return { events: this.events, features };
  }
}
