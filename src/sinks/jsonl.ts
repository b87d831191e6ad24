/** Events as JSON lines, to a file or a stream (stdout). */

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ApiEvent } from '../core/event.js';
import type { EventSink } from './types.js';

export class JsonlSink implements EventSink {
  private readonly out: Writable;
  private readonly owned: boolean;
  private failure: Error | null = null;

  /** `target` is a file path (created or truncated) or an open stream such as process.stdout. */
  constructor(target: string | Writable) {
    this.owned = typeof target === 'string';
    this.out = typeof target === 'string' ? createWriteStream(target, { highWaterMark: 1 << 20 }) : target;
    this.out.on('error', (e) => {
      this.failure = e;
    });
  }

  async write(events: readonly ApiEvent[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (events.length === 0) return;
    let chunk = '';
    for (let i = 0; i < events.length; i++) chunk += `${JSON.stringify(events[i])}\n`;
    if (!this.out.write(chunk)) await this.drained();
    if (this.failure) throw this.failure;
  }

  /** Waits for 'drain' (or an error), leaving no listener behind: this runs once per batch. */
  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.out.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        this.out.off('drain', onDrain);
        reject(e);
      };
      this.out.once('drain', onDrain);
      this.out.once('error', onError);
    });
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.owned) return;
    await new Promise<void>((resolve, reject) => {
      this.out.end((e?: Error | null) => (e ? reject(e) : resolve()));
    });
  }
}
