/**
 * Data egress per actor: how many distinct sensitive values (phones, IDs, cards ...) each actor received in
 * responses, per tumbling event-time window. This is the feature leakage detection builds on: a support agent
 * reads a few dozen customers' profiles an hour, a scraper of the export endpoint reads thousands.
 *
 * Values are counted by their finding hash, never held raw. Windows close on the watermark (the latest event
 * time seen minus the allowed lateness), so replaying a log and living through it give the same records.
 */
import type { Finding } from './types.js';

export interface EgressRecord {
  actor: string;
  /** Window bounds, ms since the epoch: [windowStart, windowEnd). */
  windowStart: number;
  windowEnd: number;
  /** Distinct sensitive values received in the window (by hash). Exact unless `approximate`. */
  distinctValues: number;
  /** Distinct values per type. Exact unless `approximate`. */
  byType: Record<string, number>;
  /** Requests the actor made in the window: every observed one, with or without findings. */
  requests: number;
  /** Requests whose response carried at least one finding. */
  requestsWithFindings: number;
  /**
   * True when the window went past `maxDistinct` distinct values: `distinctValues` and `byType` are then
   * HyperLogLog estimates (about 2.3% standard error) rather than exact counts.
   */
  approximate: boolean;
}

export interface EgressOptions {
  /** Tumbling window size. Default 5 minutes. */
  windowMs?: number;
  /**
   * Distinct hashes kept exactly per actor and window. Beyond it the window switches to HyperLogLog sketches
   * (2 KiB for the total and 2 KiB per type seen), so memory per actor-window is bounded whatever the actor
   * downloads. Default 1,000.
   */
  maxDistinct?: number;
  /** How late an event may arrive (behind the latest event time seen) and still count. Default 0. */
  allowedLatenessMs?: number;
  /** Also emit records for actor-windows with requests but no sensitive values. Default false. */
  emitEmpty?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// HyperLogLog over the finding hashes (already uniform: 64 bits of SHA-256 as 16 hex characters)

const HLL_BITS = 11;
const HLL_M = 1 << HLL_BITS;
const HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_M);

/** A HyperLogLog sketch with 2^11 one-byte registers. */
export class Hll {
  private readonly reg = new Uint8Array(HLL_M);

  /** Adds a 16-hex-character hash: the top 11 bits pick the register, the next 53 give the rank. */
  add(hash: string): void {
    const hi = Number.parseInt(hash.slice(0, 8), 16) >>> 0;
    const lo = Number.parseInt(hash.slice(8, 16), 16) >>> 0;
    const idx = hi >>> (32 - HLL_BITS);
    const rest = (hi << HLL_BITS) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - HLL_BITS + Math.clz32(lo) + 1;
    if (rank > this.reg[idx]!) this.reg[idx] = rank;
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let j = 0; j < HLL_M; j++) {
      const r = this.reg[j]!;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const e = (HLL_ALPHA * HLL_M * HLL_M) / sum;
    // Small cardinalities: linear counting is the better estimator (Flajolet et al.).
    return e <= 2.5 * HLL_M && zeros > 0 ? HLL_M * Math.log(HLL_M / zeros) : e;
  }
}

// ---------------------------------------------------------------------------------------------------------

interface ActorWindow {
  /** hash → type while exact; null once the window switched to sketches. */
  exact: Map<string, string> | null;
  byType: Map<string, number>;
  total: Hll | null;
  perType: Map<string, Hll> | null;
  requests: number;
  withFindings: number;
}

/**
 * Tracks distinct sensitive values per actor per tumbling window. Feed it every response (`observe`) in
 * roughly event-time order; it returns the records of the windows that the advancing watermark closed.
 * `flush()` closes everything at the end of a replay.
 */
export class EgressTracker {
  readonly windowMs: number;
  private readonly maxDistinct: number;
  private readonly lateness: number;
  private readonly emitEmpty: boolean;
  /** windowStart → actor → state. */
  private readonly windows = new Map<number, Map<string, ActorWindow>>();
  private watermark = Number.NEGATIVE_INFINITY;
  private late = 0;

  constructor(options: EgressOptions = {}) {
    this.windowMs = options.windowMs ?? 300_000;
    this.maxDistinct = options.maxDistinct ?? 1000;
    this.lateness = options.allowedLatenessMs ?? 0;
    this.emitEmpty = options.emitEmpty ?? false;
    if (!(this.windowMs > 0) || !(this.maxDistinct >= 1) || !(this.lateness >= 0))
      throw new Error('EgressTracker: windowMs and maxDistinct must be positive, allowedLatenessMs >= 0');
  }

  /**
   * One response received by `actor` at `tsMs` with its findings. Returns the records of windows closed by
   * this event's advance of the watermark (often none). An event for an already closed window is dropped and
   * counted in `stats().lateEvents`.
   */
  observe(actor: string, tsMs: number, findings: readonly Finding[]): EgressRecord[] {
    const start = Math.floor(tsMs / this.windowMs) * this.windowMs;
    if (start + this.windowMs <= this.watermark) {
      this.late++;
      return [];
    }
    let byActor = this.windows.get(start);
    if (byActor === undefined) {
      byActor = new Map();
      this.windows.set(start, byActor);
    }
    let w = byActor.get(actor);
    if (w === undefined) {
      w = { exact: new Map(), byType: new Map(), total: null, perType: null, requests: 0, withFindings: 0 };
      byActor.set(actor, w);
    }
    w.requests++;
    if (findings.length > 0) {
      w.withFindings++;
      for (const f of findings) this.add(w, f.type, f.hash);
    }
    return this.advance(tsMs - this.lateness);
  }

  /** Moves the watermark (never backwards) and returns the records of the windows that closed. */
  advance(watermarkMs: number): EgressRecord[] {
    if (watermarkMs <= this.watermark) return [];
    this.watermark = watermarkMs;
    return this.close((start) => start + this.windowMs <= watermarkMs);
  }

  /** Closes every open window (end of input). */
  flush(): EgressRecord[] {
    return this.close(() => true);
  }

  stats(): { openWindows: number; actorWindows: number; exactHashesKept: number; lateEvents: number } {
    let actorWindows = 0;
    let kept = 0;
    for (const byActor of this.windows.values()) {
      actorWindows += byActor.size;
      for (const w of byActor.values()) kept += w.exact?.size ?? 0;
    }
    return { openWindows: this.windows.size, actorWindows, exactHashesKept: kept, lateEvents: this.late };
  }

  private add(w: ActorWindow, type: string, hash: string): void {
    if (w.exact !== null) {
      if (w.exact.has(hash)) return;
      if (w.exact.size < this.maxDistinct) {
        w.exact.set(hash, type);
        w.byType.set(type, (w.byType.get(type) ?? 0) + 1);
        return;
      }
      // Past the cap: move what is known into sketches and forget the hashes.
      w.total = new Hll();
      w.perType = new Map();
      for (const [h, t] of w.exact) this.sketch(w, t, h);
      w.exact = null;
    }
    this.sketch(w, type, hash);
  }

  private sketch(w: ActorWindow, type: string, hash: string): void {
    w.total!.add(hash);
    let s = w.perType!.get(type);
    if (s === undefined) {
      s = new Hll();
      w.perType!.set(type, s);
    }
    s.add(hash);
  }

  private close(due: (start: number) => boolean): EgressRecord[] {
    const starts = [...this.windows.keys()].filter(due).sort((a, b) => a - b);
    const out: EgressRecord[] = [];
    for (const start of starts) {
      for (const [actor, w] of this.windows.get(start)!) {
        const approximate = w.exact === null;
        const distinctValues = approximate ? Math.round(w.total!.estimate()) : w.exact!.size;
        if (distinctValues === 0 && !this.emitEmpty) continue;
        const byType: Record<string, number> = {};
        if (approximate) for (const [t, s] of w.perType!) byType[t] = Math.round(s.estimate());
        else for (const [t, n] of w.byType) byType[t] = n;
        out.push({
          actor,
          windowStart: start,
          windowEnd: start + this.windowMs,
          distinctValues,
          byType,
          requests: w.requests,
          requestsWithFindings: w.withFindings,
          approximate,
        });
      }
      this.windows.delete(start);
    }
    return out;
  }
}
