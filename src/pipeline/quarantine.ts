/**
 * Bad input loses nothing: every malformed record is counted by reason, and the first `maxRecords` are kept
 * with their origin, reason and (scrubbed, truncated) text in a JSON-lines file, so they can be inspected
 * and replayed after a fix.
 */

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { MalformedReason } from '../core/result.js';

export interface QuarantineRecord {
  source: string;
  line: number;
  reason: MalformedReason;
  detail?: string;
  /** The record as read, credentials scrubbed, cut to `sampleChars`. */
  record: string;
  /** Length of the whole record when it was cut. */
  length?: number;
}

export interface QuarantineOptions {
  /** File to write, or null to only count. */
  path: string | null;
  maxRecords: number;
  sampleChars: number;
  /** Removes credentials from a raw record before it is written. */
  scrub: (s: string) => string;
}

export class Quarantine {
  /** Malformed records by reason. */
  readonly counts = new Map<MalformedReason, number>();
  total = 0;
  kept = 0;
  private out: WriteStream | null = null;
  private pending = '';

  constructor(private readonly options: QuarantineOptions) {}

  add(
    source: string,
    line: number,
    reason: MalformedReason,
    detail: string | undefined,
    raw: string,
    length = raw.length,
  ): void {
    this.total++;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (this.options.path === null || this.kept >= this.options.maxRecords) return;
    this.kept++;
    const rec: QuarantineRecord = {
      source,
      line,
      reason,
      ...(detail === undefined ? {} : { detail }),
      record: this.options.scrub(raw.slice(0, this.options.sampleChars)),
      ...(length > this.options.sampleChars ? { length } : {}),
    };
    this.pending += `${JSON.stringify(rec)}\n`;
  }

  /** Writes what was added since the last flush. Called once per batch, so writes are few and large. */
  async flush(): Promise<void> {
    if (this.pending === '' || this.options.path === null) return;
    if (this.out === null) this.out = createWriteStream(this.options.path);
    const chunk = this.pending;
    this.pending = '';
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    const out = this.out;
    if (out === null) return;
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }

  /** Counts by reason, largest first. */
  byReason(): { reason: MalformedReason; count: number }[] {
    return [...this.counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
  }
}
