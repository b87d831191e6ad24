/**
 * Token buckets per key (an API token's id): a sender may burst up to `burst` requests and then goes at
 * `perSec`. The ingest route takes one unit per request before it reads the body, so a flood is refused
 * for the price of a header parse. Buckets that have refilled completely are forgotten, so memory follows
 * the senders active in the last few seconds, not every token ever seen.
 */
export interface RateLimitOptions {
  /** Requests per second, sustained. */
  perSec: number;
  /** Requests that may come at once after a quiet period. */
  burst: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSec: number };

const MAX_KEYS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, { level: number; ts: number }>();

  constructor(
    readonly opts: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(opts.perSec > 0) || !(opts.burst >= 1))
      throw new Error(`rate limit: perSec must be > 0 and burst >= 1, got ${opts.perSec} and ${opts.burst}`);
  }

  take(key: string): Take {
    const now = this.now();
    const { perSec, burst } = this.opts;
    const b = this.buckets.get(key);
    let level = burst;
    if (b !== undefined) level = Math.min(burst, b.level + ((now - b.ts) / 1000) * perSec);
    if (level < 1) {
      if (b !== undefined) {
        b.level = level;
        b.ts = now;
      }
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - level) / perSec)) };
    }
    if (b === undefined && this.buckets.size >= MAX_KEYS) this.sweep(now);
    this.buckets.set(key, { level: level - 1, ts: now });
    return { ok: true };
  }

  /** Forgets buckets that are full again. */
  private sweep(now: number): void {
    const { perSec, burst } = this.opts;
    for (const [k, b] of this.buckets)
      if (b.level + ((now - b.ts) / 1000) * perSec >= burst) this.buckets.delete(k);
  }
}
