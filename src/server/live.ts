/**
 * Live updates for the dashboard: `GET /api/v1/events` as Server-Sent Events. The hub fans out what the
 * server changes (incidents, decisions) and ingest statistics to every open stream; each stream is a
 * ReadableStream whose `cancel` (the client went away) and the request's abort signal both unsubscribe it
 * and stop its heartbeat, so nothing outlives a disconnect.
 *
 * Bounded everywhere: at most `maxClients` streams (503 beyond), at most `maxQueued` undelivered messages per
 * stream (a client that stops reading is closed and reconnects, instead of growing the heap), and the last
 * `replay` messages kept so that EventSource's automatic reconnect (`Last-Event-ID`) misses nothing short.
 * Heartbeat comments keep proxies from timing out an idle stream.
 */
import { safeJson } from './http.js';

export const LIVE_EVENTS = [
  'incident.new',
  'incident.updated',
  'decision.new',
  'decision.approved',
  'decision.revoked',
  'decision.expired',
  'ingest.stats',
] as const;
export type LiveEventType = (typeof LIVE_EVENTS)[number];

export interface LiveMessage {
  id: number;
  type: LiveEventType;
  data: unknown;
}

export interface LiveOptions {
  /** Heartbeat comment period (default 15 s). */
  heartbeatMs?: number;
  maxClients?: number;
  maxQueued?: number;
  /** Messages kept for reconnecting clients. */
  replay?: number;
}

type Subscriber = (m: LiveMessage) => void;

const enc = new TextEncoder();

const frame = (m: LiveMessage) => enc.encode(`id: ${m.id}\nevent: ${m.type}\ndata: ${safeJson(m.data)}\n\n`);

export class LiveHub {
  private readonly subs = new Set<Subscriber>();
  private readonly closers = new Set<() => void>();
  private readonly recent: LiveMessage[] = [];
  private seq = 0;
  readonly heartbeatMs: number;
  readonly maxClients: number;
  readonly maxQueued: number;
  private readonly replay: number;

  constructor(o: LiveOptions = {}) {
    this.heartbeatMs = o.heartbeatMs ?? 15_000;
    this.maxClients = o.maxClients ?? 1000;
    this.maxQueued = o.maxQueued ?? 1000;
    this.replay = o.replay ?? 256;
  }

  get clients(): number {
    return this.subs.size;
  }

  publish(type: LiveEventType, data: unknown): void {
    const m: LiveMessage = { id: ++this.seq, type, data };
    this.recent.push(m);
    if (this.recent.length > this.replay) this.recent.shift();
    for (const s of this.subs) s(m);
  }

  /** Messages after `lastId` still kept (for Last-Event-ID). */
  since(lastId: number): LiveMessage[] {
    return this.recent.filter((m) => m.id > lastId);
  }

  /**
   * An SSE response body subscribed to the hub until the client disconnects (`signal`) or the hub closes.
   * Returns null when the hub is full.
   */
  stream(signal: AbortSignal, lastEventId?: number): ReadableStream<Uint8Array> | null {
    if (this.subs.size >= this.maxClients) return null;
    let cleanup = () => {};
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          let done = false;
          const send = (m: LiveMessage) => {
            if (done) return;
            if ((controller.desiredSize ?? 0) <= 0) {
              // The client does not keep up: close; EventSource reconnects with Last-Event-ID.
              controller.enqueue(enc.encode(': too far behind, closing\n\n'));
              cleanup();
              controller.close();
              return;
            }
            controller.enqueue(frame(m));
          };
          const beat = setInterval(() => {
            if (!done) controller.enqueue(enc.encode(`: heartbeat ${Date.now()}\n\n`));
          }, this.heartbeatMs);
          beat.unref?.();
          const close = () => {
            if (done) return;
            cleanup();
            try {
              controller.close();
            } catch {
              // already closed or errored
            }
          };
          cleanup = () => {
            if (done) return;
            done = true;
            clearInterval(beat);
            this.subs.delete(send);
            this.closers.delete(close);
            signal.removeEventListener('abort', close);
          };
          this.subs.add(send);
          this.closers.add(close);
          signal.addEventListener('abort', close);
          controller.enqueue(enc.encode(`retry: 5000\n: connected\n\n`));
          if (lastEventId !== undefined) for (const m of this.since(lastEventId)) send(m);
        },
        cancel: () => cleanup(),
      },
      { highWaterMark: this.maxQueued },
    );
  }

  /** Ends every open stream (shutdown). */
  close(): void {
    for (const c of [...this.closers]) c();
  }
}
