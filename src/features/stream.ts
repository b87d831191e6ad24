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
import { ExactThenHll, QuantileSketch } from './sketch/index.js';
import type { AggSpec, FeatureSpec, Filter, KeyPart, NumericField, ValueField } from './spec.js';

/** One feature value of one key for one window. */
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

export function valueOf(e: FeatureEvent, f: ValueField): string | null {
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
  add(e: FeatureEvent, engine: FeatureState): void;
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

class DistinctAcc implements Acc {
  n = 0;
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  private readonly set: ExactThenHll;
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
    const v = valueOf(e, this.field);
    if (v !== null) this.set.add(v);
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
    let v = valueOf(e, this.field);
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
  add(e: FeatureEvent, s: FeatureState): void {
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

function addTo(acc: Acc, e: FeatureEvent, s: FeatureState): void {
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

interface Session {
  start: number;
  last: number;
  acc: Acc;
}

class FeatureState {
  /** Fixed windows (tumbling, hopping): window start → key → accumulator. */
  private readonly windows = new Map<number, Map<string, Acc>>();
  private readonly sessions = new Map<string, Session>();
  private keys = 0;
  watermark = Number.NEGATIVE_INFINITY;
  late = 0;
  overflow = 0;
  private readonly size: number;
  private readonly advance: number;
  private readonly lateness: number;

  constructor(
    readonly spec: FeatureSpec,
    readonly engine: StreamEngine,
    private readonly maxKeys: number,
  ) {
    const w = spec.window;
    this.size = w.type === 'session' ? 0 : w.sizeMs;
    this.advance = w.type === 'hopping' ? w.advanceMs : this.size;
    this.lateness = w.latenessMs;
  }

  add(e: FeatureEvent, out: Snapshot[]): void {
    const spec = this.spec;
    if (!passes(e, spec.filter)) return;
    const key = keyOf(e, spec.key);
    if (key === null) return;
    if (spec.window.type === 'session') {
      this.addSession(e, key, out);
      return;
    }
    const last = Math.floor(e.ts / this.advance) * this.advance;
    for (let start = last; start > e.ts - this.size; start -= this.advance) {
      if (start + this.size <= this.watermark) {
        this.late++;
        continue;
      }
      let keys = this.windows.get(start);
      if (keys === undefined) {
        keys = new Map();
        this.windows.set(start, keys);
      }
      let acc = keys.get(key);
      if (acc === undefined) {
        if (this.keys >= this.maxKeys) {
          this.overflow++;
          continue;
        }
        acc = makeAcc(spec.agg, start);
        keys.set(key, acc);
        this.keys++;
      }
      addTo(acc, e, this);
    }
  }

  private addSession(e: FeatureEvent, key: string, out: Snapshot[]): void {
    const gap = (this.spec.window as { gapMs: number }).gapMs;
    let s = this.sessions.get(key);
    if (s !== undefined && e.ts > s.last + gap) {
      this.emitSession(key, s, out);
      this.sessions.delete(key);
      this.keys--;
      s = undefined;
    }
    if (s === undefined) {
      if (e.ts + gap <= this.watermark) {
        this.late++;
        return;
      }
      if (this.keys >= this.maxKeys) {
        this.overflow++;
        return;
      }
      s = { start: e.ts, last: e.ts, acc: makeAcc(this.spec.agg, e.ts) };
      this.sessions.set(key, s);
      this.keys++;
    }
    if (e.ts < s.start) s.start = e.ts;
    if (e.ts > s.last) s.last = e.ts;
    addTo(s.acc, e, this);
  }

  private emitSession(key: string, s: Session, out: Snapshot[]): void {
    const end = s.last + 1;
    out.push({
      feature: this.spec.name,
      key,
      windowStart: s.start,
      windowEnd: end,
      events: s.acc.n,
      value: s.acc.value(s.start, end),
    });
  }

  /** Moves the watermark to `maxTs - lateness` (never back) and closes what ended at or before it. */
  advanceTo(maxTs: number, out: Snapshot[]): void {
    const wm = maxTs - this.lateness;
    if (wm <= this.watermark) return;
    this.watermark = wm;
    this.close(out, false);
  }

  close(out: Snapshot[], all: boolean): void {
    if (this.spec.window.type === 'session') {
      const gap = this.spec.window.gapMs;
      const done: [string, Session][] = [];
      for (const [k, s] of this.sessions) if (all || s.last + gap <= this.watermark) done.push([k, s]);
      done.sort((a, b) => a[1].start - b[1].start || (a[0] < b[0] ? -1 : 1));
      for (const [k, s] of done) {
        this.emitSession(k, s, out);
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
      const end = st + this.size;
      const sorted = [...keys.keys()].sort();
      for (const k of sorted) {
        const acc = keys.get(k)!;
        out.push({
          feature: this.spec.name,
          key: k,
          windowStart: st,
          windowEnd: end,
          events: acc.n,
          value: acc.value(st, end),
        });
      }
      this.keys -= keys.size;
      this.windows.delete(st);
    }
  }

  /** Current values of open windows, without closing them. */
  peek(out: Snapshot[]): void {
    if (this.spec.window.type === 'session') {
      for (const [k, s] of this.sessions)
        out.push({
          feature: this.spec.name,
          key: k,
          windowStart: s.start,
          windowEnd: s.last + 1,
          events: s.acc.n,
          value: s.acc.value(s.start, s.last + 1),
        });
      return;
    }
    for (const [st, keys] of this.windows)
      for (const [k, acc] of keys)
        out.push({
          feature: this.spec.name,
          key: k,
          windowStart: st,
          windowEnd: st + this.size,
          events: acc.n,
          value: acc.value(st, st + this.size),
        });
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
  private readonly states: FeatureState[];
  private maxTs = Number.NEGATIVE_INFINITY;
  private events = 0;
  /** Global first-seen time of every endpoint (new_endpoint_share); bounded. */
  private readonly seen = new Map<string, number>();

  constructor(
    readonly specs: readonly FeatureSpec[],
    o: StreamOptions = {},
  ) {
    const max = o.maxKeys ?? 200_000;
    this.states = specs.map((s) => new FeatureState(s, this, max));
  }

  firstSeen(endpoint: string): number {
    return this.seen.get(endpoint) ?? Number.POSITIVE_INFINITY;
  }

  /** Applies one event; returns the snapshots of windows it closed (in a deterministic order). */
  push(e: FeatureEvent): Snapshot[] {
    const out: Snapshot[] = [];
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
      features[s.spec.name] = { late: s.late, overflow: s.overflow, trackedKeys: s.trackedKeys };
    return { events: this.events, features };
  }
}
