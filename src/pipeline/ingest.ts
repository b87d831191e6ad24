/**
 * The ingest stage: source → parser → sink, with every malformed record counted and quarantined. Replay of
 * files and live follow mode are the same loop; only the source differs.
 */
import type { ApiEvent } from '../core/event.js';
import { isMalformed, Malformed } from '../core/result.js';
import type { Parser } from '../parsers/types.js';
import type { EventSink } from '../sinks/types.js';
import type { ReadOptions, Source } from '../sources/types.js';
import type { Quarantine } from './quarantine.js';

export interface IngestStats {
  /** Records read (lines, or documents), blank lines included. */
  records: number;
  /** Blank lines, skipped without counting as malformed. */
  blank: number;
  events: number;
  malformed: number;
  bytesRead: number;
  /** Inputs seen, in the order they were read. */
  inputs: string[];
  /** Earliest and latest event time (ms), or null when there were no events. */
  firstTs: number | null;
  lastTs: number | null;
  elapsedMs: number;
}

export interface IngestOptions {
  source: Source;
  parser: Parser;
  read: Omit<ReadOptions, 'framing'>;
  sink: EventSink;
  quarantine: Quarantine;
  /** Called after each batch with the running totals (the CLI throttles its progress bar itself). */
  onBatch?: (stats: IngestStats) => void;
}

export async function ingest(o: IngestOptions): Promise<IngestStats> {
  const started = performance.now();
  const stats: IngestStats = {
    records: 0,
    blank: 0,
    events: 0,
    malformed: 0,
    bytesRead: 0,
    inputs: [],
    firstTs: null,
    lastTs: null,
    elapsedMs: 0,
  };
  const { parser, quarantine } = o;
  let lastInput = '';
  let out: ApiEvent[] = [];
  let minTs = Number.POSITIVE_INFINITY;
  let maxTs = Number.NEGATIVE_INFINITY;
  const docSink = {
    input: '',
    event(e: ApiEvent) {
      out.push(e);
    },
    malformed(position: number, m: Malformed, sample: string) {
      quarantine.add(docSink.input, position, m.reason, m.detail, sample);
    },
  };

  for await (const batch of o.source.read({ ...o.read, framing: parser.framing })) {
    if (batch.input !== lastInput) {
      lastInput = batch.input;
      stats.inputs.push(batch.input);
    }
    const recs = batch.records;
    stats.records += recs.length + (batch.rejects?.length ?? 0);
    stats.bytesRead += batch.bytesRead;
    if (parser.framing === 'line') {
      const input = batch.input;
      for (let i = 0; i < recs.length; i++) {
        const line = recs[i]!;
        if (line.length === 0) {
          stats.blank++;
          continue;
        }
        const r = parser.parseLine(line, { source: input, line: batch.first + i });
        if (isMalformed(r)) quarantine.add(input, batch.first + i, r.reason, r.detail, line);
        else out.push(r);
      }
    } else {
      docSink.input = batch.input;
      for (let i = 0; i < recs.length; i++) {
        const doc = recs[i]!;
        if (doc.trim() === '') {
          stats.blank++;
          continue;
        }
        parser.parseDocument(doc, batch.input, docSink);
      }
    }
    if (batch.rejects) {
      for (const r of batch.rejects) {
        const size = r.bytes === undefined ? undefined : `record of ${r.bytes} bytes`;
        const m = new Malformed(r.reason, r.message ?? size);
        quarantine.add(batch.input, r.position, m.reason, m.detail, r.sample, r.bytes ?? r.sample.length);
      }
    }
    for (let i = 0; i < out.length; i++) {
      const ts = out[i]!.ts;
      if (ts < minTs) minTs = ts;
      if (ts > maxTs) maxTs = ts;
    }
    stats.events += out.length;
    stats.malformed = quarantine.total;
    if (out.length > 0) await o.sink.write(out);
    out = [];
    await quarantine.flush();
    if (o.onBatch) {
      stats.elapsedMs = performance.now() - started;
      o.onBatch(stats);
    }
  }
  stats.malformed = quarantine.total;
  stats.firstTs = stats.events > 0 ? minTs : null;
  stats.lastTs = stats.events > 0 ? maxTs : null;
  stats.elapsedMs = performance.now() - started;
  return stats;
}
