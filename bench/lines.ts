/**
 * Throughput check for the line framer (not a test: timings vary by machine).
 * Run: npm run build && node dist/bench/lines.js
 */
import { LineFramer } from '../src/sources/lines.js';

const LINE = '10.0.0.1 - - [01/Jan/2025:00:00:00 +0000] "GET /api/v1/users/42 HTTP/1.1" 200 512\n';
const CHUNK = 1 << 20;

function run(label: string, line: string, totalLines: number): void {
  const perChunk = Math.floor(CHUNK / Buffer.byteLength(line));
  const chunk = Buffer.from(line.repeat(perChunk));
  const chunks = Math.ceil(totalLines / perChunk);
  let lines = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  const framer = new LineFramer('bench', { maxLineBytes: 64 * 1024, sampleChars: 200 });
  for (let i = 0; i < chunks; i++) {
    // A slice starting mid-line makes every chunk carry a partial line, as with real reads.
    const data = i === 0 ? chunk : chunk.subarray(i % 7);
    for (const batch of framer.push(data)) {
      lines += batch.records.length;
      sink += batch.records[batch.records.length - 1]?.length ?? 0;
    }
  }
  for (const batch of framer.end()) lines += batch.records.length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = (chunks * CHUNK) / 1e6 / seconds;
  console.log(
    `${label}: ${lines} lines in ${seconds.toFixed(3)}s = ${(lines / seconds / 1e6).toFixed(2)}M lines/s, ${mb.toFixed(0)} MB/s (${sink > 0 ? 'ok' : '?'})`,
  );
}

for (let round = 0; round < 3; round++) {
  run('short lines (6 B)', 'abcde\n', 20_000_000);
  run('access log lines (~88 B)', LINE, 10_000_000);
  run('CRLF access log lines', LINE.replace('\n', '\r\n'), 10_000_000);
}
