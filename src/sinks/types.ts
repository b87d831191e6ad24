/** Where parsed events go. Sinks receive batches and apply back-pressure by returning a promise. */
import type { ApiEvent } from '../core/event.js';

export interface EventSink {
  write(events: readonly ApiEvent[]): Promise<void>;
  /** Flushes and finishes the output; the sink is unusable afterwards. */
  close(): Promise<void>;
}

/** Discards events (parse-only runs: counting, validation, benchmarks). */
export class NullSink implements EventSink {
  async write(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Keeps events in memory (tests, small inputs). */
export class MemorySink implements EventSink {
  readonly events: ApiEvent[] = [];
  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) this.events.push(e);
  }
  async close(): Promise<void> {}
}
