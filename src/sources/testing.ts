/** Test helpers for sources (imported by the tests only). */
import type { FrameReject, RecordBatch } from './types.js';

export interface Slot {
  input: string;
  position: number;
  record?: string;
  reject?: FrameReject;
}

/**
 * Flattens batches into one slot per position, checking the batch contract on the way: records at
 * `first + i`, rejects after them, and per input every position exactly once and in order (a restart at 1
 * starts a new generation).
 */
export function slots(batches: Iterable<RecordBatch>): Slot[] {
  const out: Slot[] = [];
  const next = new Map<string, number>();
  const expect = (input: string, position: number): void => {
    const want = next.get(input) ?? 1;
    if (position !== want && position !== 1) {
      throw new Error(`${input}: position ${position}, expected ${want}`);
    }
    next.set(input, position + 1);
  };
  for (const b of batches) {
    b.records.forEach((record, i) => {
      expect(b.input, b.first + i);
      out.push({ input: b.input, position: b.first + i, record });
    });
    for (const reject of b.rejects ?? []) {
      expect(b.input, reject.position);
      out.push({ input: b.input, position: reject.position, reject });
    }
  }
  return out;
}

export function records(batches: Iterable<RecordBatch>): string[] {
  return slots(batches).flatMap((s) => (s.record === undefined ? [] : [s.record]));
}

export async function collect(it: AsyncIterable<RecordBatch>): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

export async function* chunksOf(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
