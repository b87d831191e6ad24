/**
 * The stream engine: computes feature specs incrementally over event-time windows. Time is the events' own;
 * the watermark is the highest event time seen minus each feature's allowed lateness (or what an injected
 * clock says, through `advanceTo`). A window closes when its end is at or below the watermark and emits one
 * snapshot row per key; an event for a window already closed is late: counted, not applied. Replaying a file
 * and living through it give the same rows, because nothing depends on wall time unless a clock is injected.
 *
 * Memory is bounded: state exists only for open windows; each feature tracks at most `maxKeys` keys at once
 * (events of further keys are counted in `overflow` and skipped). Keys are kept as they come (often slices of
 * the input's read chunks, which they keep alive while their window is open: at most the input of the longest
 * window); copying them on insert cost 15% of the throughput, measured.
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

/**
 * Where closed windows go: an array that collects new Snapshot objects (push), or a visitor that is handed
 * one reused Snapshot per row (pushTo: no allocation per row; the visitor must copy what it keeps).
 */
interface Visitor {
  visit: (s: Snapshot) => void;
  scratch: Snapshot;
}
type Out = Snapshot[] | Visitor;

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
//
// The state of a key in a window lives in a slot of the group's slab: one Float64Array holds every scalar
// accumulator (counts, hits, sums, Welford moments, previous ids) at fixed offsets, so a new key-window costs
// no object allocation at all. Only sets, value counts and quantile sketches are objects, made when the first
// event reaches them. Measured: this halved the garbage per event and raised throughput (docs/features.md).

/** Object-backed accumulators (sets, value counts, sketches). */
interface ObjAcc {
  add(e: FeatureEvent): void;
  value(): number | null;
}

/** Scratch for string hashes: ExactThenHll.add(v) is addHash(hash64(v, 0)). */
const hashScratch = { hi: 0, lo: 0 };

class DistinctAcc implements ObjAcc {
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

/** Exact value counts (at most MAX_ENTROPY_VALUES distinct; further values share one bucket). */
const MAX_ENTROPY_VALUES = 10_000;
class EntropyAcc implements ObjAcc {
  private readonly counts = new Map<string, number>();
  private counted = 0;
  constructor(private readonly field: ValueField) {}
  add(e: FeatureEvent): void {
    let v = fieldValue(e, this.field);
    if (v === null) return;
    this.counted++;
    let c = this.counts.get(v);
    if (c === undefined && this.counts.size >= MAX_ENTROPY_VALUES) {
      v = '\u0000other';
      c = this.counts.get(v);
    }
    this.counts.set(v, (c ?? 0) + 1);
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

class QuantileAcc implements ObjAcc {
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

// Operation codes, and the scalar width of each in a slot (offset 0 is always the feature's event count `n`).
const COUNT = 0;
const RATE = 1;
const RATIO = 2; // [n, hits]
const SUM = 3; // [n, sum, seen]
const IA_MEAN = 4; // [n, prev, gaps, mean, m2]
const IA_CV = 5; // same layout
const SEQUENTIAL = 6; // [n, prev (NaN: none), pairs, hits]
const NEW_ENDPOINT = 7; // [n, fresh, window start at the first event]
const OBJECT = 8; // [n] + an ObjAcc in the object slab

function opOf(a: AggSpec): [op: number, width: number] {
  switch (a.fn) {
    case 'count':
      return [COUNT, 1];
    case 'rate_per_min':
      return [RATE, 1];
    case 'ratio':
      return [RATIO, 2];
    case 'sum':
      return [SUM, 3];
    case 'interarrival_mean':
      return [IA_MEAN, 5];
    case 'interarrival_cv':
      return [IA_CV, 5];
    case 'sequential_id_score':
      return [SEQUENTIAL, 4];
    case 'new_endpoint_share':
      return [NEW_ENDPOINT, 3];
    case 'distinct':
    case 'sensitive_distinct':
    case 'entropy':
    case 'quantile':
      return [OBJECT, 1];
  }
}

function makeObjAcc(a: AggSpec): ObjAcc {
  switch (a.fn) {
    case 'distinct':
      return new DistinctAcc(a.field, a.exactLimit);
    case 'sensitive_distinct':
      return new DistinctAcc(null, undefined);
    case 'entropy':
      return new EntropyAcc(a.field);
    case 'quantile':
      return new QuantileAcc(a.field, a.q);
    default:
      throw new Error(`not an object accumulator: ${a.fn}`);
  }
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
  slot: number;
}

/**
 * Features that share a key and a window are computed together: one map lookup per event finds the key's slot,
 * and each feature's filter decides whether its part of the slot takes the event.
 */
class GroupState {
  /** Fixed windows (tumbling, hopping): window start → key → slot. */
  private readonly windows = new Map<number, Map<string, number>>();
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
  private curKeys: Map<string, number> | undefined = undefined;

  // The slab: slot s holds scalars at vals[s * stride + off[i]] and objects at objs[s * objStride + obj[i]].
  private readonly op: Int32Array;
  private readonly off: Int32Array;
  private readonly obj: Int32Array;
  private readonly stride: number;
  private readonly objStride: number;
  private vals: Float64Array;
  private objs: (ObjAcc | null)[] = [];
  private capacity = 0;
  private nextSlot = 0;
  private readonly free: number[] = [];
  private readonly ok: Uint8Array;
  private readonly filters: (Filter | undefined)[];

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
    this.op = new Int32Array(this.n);
    this.off = new Int32Array(this.n);
    this.obj = new Int32Array(this.n).fill(-1);
    this.ok = new Uint8Array(this.n);
    this.filters = specs.map((s) => s.filter);
    let stride = 0;
    let objStride = 0;
    for (let i = 0; i < this.n; i++) {
      const [op, width] = opOf(specs[i]!.agg);
      this.op[i] = op;
      this.off[i] = stride;
      stride += width;
      if (op === OBJECT) this.obj[i] = objStride++;
    }
    this.stride = stride;
    this.objStride = objStride;
    this.vals = new Float64Array(0);
  }

  private allocSlot(): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.nextSlot++;
      if (s >= this.capacity) {
        const cap = Math.max(64, this.capacity * 2);
        const v = new Float64Array(cap * this.stride);
        v.set(this.vals);
        this.vals = v;
        for (let i = this.objs.length; i < cap * this.objStride; i++) this.objs.push(null);
        this.capacity = cap;
      }
    }
    const base = s * this.stride;
    this.vals.fill(0, base, base + this.stride);
    for (let i = 0; i < this.n; i++) {
      const op = this.op[i]!;
      // "No previous event / id" is NaN, so that 0 can be a real previous value.
      if (op === IA_MEAN || op === IA_CV || op === SEQUENTIAL)
        this.vals[base + this.off[i]! + 1] = Number.NaN;
    }
    return s;
  }

  private releaseSlot(s: number): void {
    const ob = s * this.objStride;
    for (let i = 0; i < this.objStride; i++) this.objs[ob + i] = null;
    this.free.push(s);
  }

  /** Which features of the group take the event (in `ok`); false when none does. */
  private passing(e: FeatureEvent): boolean {
    let any = false;
    const ok = this.ok;
    for (let i = 0; i < this.n; i++) {
      const p = passes(e, this.filters[i]);
      ok[i] = p ? 1 : 0;
      if (p) any = true;
    }
    return any;
  }

  private fill(slot: number, e: FeatureEvent, start: number): void {
    const v = this.vals;
    const base = slot * this.stride;
    for (let i = 0; i < this.n; i++) {
      if (this.ok[i] === 0) continue;
      const b = base + this.off[i]!;
      v[b]++;
      switch (this.op[i]) {
        case RATIO:
          if (passes(e, (this.specs[i]!.agg as { where: Filter }).where)) v[b + 1]++;
          break;
        case SUM: {
          const x = numberOf(e, (this.specs[i]!.agg as { field: NumericField }).field);
          if (x !== null && x >= 0) {
            v[b + 1] += x;
            v[b + 2]++;
          }
          break;
        }
        case IA_MEAN:
        case IA_CV: {
          // Gaps between consecutive events in arrival order (time order for ordered input): Welford.
          const prev = v[b + 1]!;
          if (!Number.isNaN(prev)) {
            const g = e.ts - prev;
            const gaps = ++v[b + 2]!;
            const mean = v[b + 3]!;
            const d = g - mean;
            const m = mean + d / gaps;
            v[b + 3] = m;
            v[b + 4]! += d * (g - m);
          }
          v[b + 1] = e.ts;
          break;
        }
        case SEQUENTIAL: {
          const id = e.numericId;
          if (id === null) break;
          const prev = v[b + 1]!;
          if (!Number.isNaN(prev)) {
            v[b + 2]++;
            const d = Math.abs(id - prev);
            if (d >= 1 && d <= 2) v[b + 3]++;
          }
          v[b + 1] = id;
          break;
        }
        case NEW_ENDPOINT:
          if (v[b] === 1) v[b + 2] = start;
          if (this.engine.firstSeen(e.endpoint) >= v[b + 2]!) v[b + 1]++;
          break;
        case OBJECT: {
          const k = slot * this.objStride + this.obj[i]!;
          let acc = this.objs[k];
          if (acc === null || acc === undefined) {
            acc = makeObjAcc(this.specs[i]!.agg);
            this.objs[k] = acc;
          }
          acc.add(e);
          break;
        }
      }
    }
  }

  private value(i: number, b: number, start: number, end: number, slot: number): number | null {
    const v = this.vals;
    switch (this.op[i]) {
      case COUNT:
        return v[b]!;
      case RATE:
        return v[b]! / Math.max(1, (end - start) / 60_000);
      case RATIO:
      case NEW_ENDPOINT:
        return v[b + 1]! / v[b]!;
      case SUM:
        return v[b + 2] === 0 ? null : v[b + 1]!;
      case IA_MEAN:
        return v[b + 2] === 0 ? null : v[b + 3]!;
      case IA_CV: {
        const gaps = v[b + 2]!;
        const mean = v[b + 3]!;
        if (gaps < 2 || mean === 0) return null;
        return Math.sqrt(v[b + 4]! / gaps) / mean;
      }
      case SEQUENTIAL:
        return v[b + 2]! < 2 ? null : v[b + 3]! / v[b + 2]!;
      default:
        return this.objs[slot * this.objStride + this.obj[i]!]!.value();
    }
  }

  add(e: FeatureEvent, out: Out): void {
    if (!this.passing(e)) return;
    const key = keyOf(e, this.keyParts);
    if (key === null) return;
    if (this.gap > 0) {
      this.addSession(e, key, out);
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
      let slot = keys.get(key);
      if (slot === undefined) {
        if (this.keys >= this.maxKeys) {
          this.overflow++;
          continue;
        }
        slot = this.allocSlot();
        keys.set(key, slot);
        this.keys++;
      }
      this.fill(slot, e, start);
    }
  }

  private addSession(e: FeatureEvent, key: string, out: Out): void {
    let s = this.sessions.get(key);
    if (s !== undefined && e.ts > s.last + this.gap) {
      this.emit(key, s.start, s.last + 1, s.slot, out);
      this.releaseSlot(s.slot);
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
      s = { start: e.ts, last: e.ts, slot: this.allocSlot() };
      this.sessions.set(key, s);
      this.keys++;
    }
    if (e.ts < s.start) s.start = e.ts;
    if (e.ts > s.last) s.last = e.ts;
    this.fill(s.slot, e, s.start);
  }

  private emit(key: string, start: number, end: number, slot: number, out: Out): void {
    const base = slot * this.stride;
    for (let i = 0; i < this.n; i++) {
      const b = base + this.off[i]!;
      const n = this.vals[b]!;
      if (n === 0) continue;
      const value = this.value(i, b, start, end, slot);
      if (Array.isArray(out)) {
        out.push({ feature: this.specs[i]!.name, key, windowStart: start, windowEnd: end, events: n, value });
        continue;
      }
      const x = out.scratch;
      x.feature = this.specs[i]!.name;
      x.key = key;
      x.windowStart = start;
      x.windowEnd = end;
      x.events = n;
      x.value = value;
      out.visit(x);
    }
  }

  /** Moves the watermark to `maxTs - lateness` (never back) and closes what ended at or before it. */
  advanceTo(maxTs: number, out: Out): void {
    const wm = maxTs - this.lateness;
    if (wm <= this.watermark) return;
    this.watermark = wm;
    if (this.gap > 0) {
      if (wm - this.lastSweep < this.gap / 4) return;
      this.lastSweep = wm;
    } else if (wm < this.minStart + this.size) return;
    this.close(out, false);
  }

  close(out: Out, all: boolean): void {
    if (this.gap > 0) {
      const done: [string, Session][] = [];
      for (const [k, s] of this.sessions) if (all || s.last + this.gap <= this.watermark) done.push([k, s]);
      done.sort((a, b) => a[1].start - b[1].start || (a[0] < b[0] ? -1 : 1));
      for (const [k, s] of done) {
        this.emit(k, s.start, s.last + 1, s.slot, out);
        this.releaseSlot(s.slot);
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
      for (const [k, slot] of keys) {
        this.emit(k, st, st + this.size, slot, out);
        this.releaseSlot(slot);
      }
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
  peek(out: Out): void {
    if (this.gap > 0) {
      for (const [k, s] of this.sessions) this.emit(k, s.start, s.last + 1, s.slot, out);
      return;
    }
    for (const [st, keys] of this.windows)
      for (const [k, slot] of keys) this.emit(k, st, st + this.size, slot, out);
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

  private readonly visitor: Visitor = {
    visit: () => {},
    scratch: { feature: '', key: '', windowStart: 0, windowEnd: 0, events: 0, value: null },
  };

  /**
   * Applies one event and hands every row it closed to `visit`, as one reused Snapshot object (valid during the
   * call only: copy what you keep). The same rows, in the same order, as push(); no allocation per row.
   */
  pushTo(e: FeatureEvent, visit: (s: Snapshot) => void): void {
    const out = this.visitor;
    out.visit = visit;
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
  }

  /** An injected clock moves event time forward without events (live mode: windows close on time). */
  advanceTo(ts: number): Snapshot[] {
    const out: Out = [];
    if (ts > this.maxTs) {
      this.maxTs = ts;
      for (const s of this.states) s.advanceTo(ts, out);
    }
    return out;
  }

  /** Closes every open window (end of a replay). */
  flush(): Snapshot[] {
    const out: Out = [];
    for (const s of this.states) s.close(out, true);
    return out;
  }

  /** The open windows' current values (on demand), leaving them open. */
  snapshot(): Snapshot[] {
    const out: Out = [];
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
