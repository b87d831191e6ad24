/**
 * Batch-engine speed. Run: `npm run bench:batch [-- --hours H --users U --repeat R]`.
 *
 * Simulated traffic (default: 24 h of 62,000 customers, all campaigns, as bench/features.ts) goes through the
 * APISIX parser and the enricher, into the event store (hour partitions in a temporary directory; the write is
 * timed too). Then the batch engine computes the default feature set over the store: best of `--repeat`,
 * including reading the Parquet files. Prints one JSON object.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatch } from '../src/features/batch.js';
import { defaultFeatures } from '../src/features/defaults.js';
import { EventStore, eventsDir } from '../src/store/events.js';
import { arg } from './args.js';
import { simulatedDay } from './events.js';

const hours = Number(arg('--hours', '24'));
const users = Number(arg('--users', '62000'));
const repeat = Number(arg('--repeat', '3'));

const { events } = simulatedDay(hours, users);

const dir = await mkdtemp(join(tmpdir(), 'apiwarden-bench-batch-'));
try {
  const w = performance.now();
  const store = new EventStore(dir);
  for (let i = 0; i < events.length; i += 50_000) await store.append(events.slice(i, i + 50_000));
  await store.close();
  const writeSec = (performance.now() - w) / 1000;
  let bytes = 0;
  let files = 0;
  for (const f of await readdir(eventsDir(dir), { recursive: true }))
    if (f.endsWith('.parquet')) {
      files++;
      bytes += (await stat(join(eventsDir(dir), f))).size;
    }
  process.stderr.write(`store: ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${writeSec.toFixed(1)} s\n`);

  const specs = defaultFeatures();
  let best = Number.POSITIVE_INFINITY;
  let rows = 0;
  for (let k = 0; k < repeat; k++) {
    const s = performance.now();
    rows = (await runBatch(specs, { dir })).length;
    const sec = (performance.now() - s) / 1000;
    best = Math.min(best, sec);
    process.stderr.write(`pass ${k + 1}: ${sec.toFixed(3)} s\n`);
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'batch',
        hours,
        users,
        events: events.length,
        features: specs.length,
        rows,
        storeWriteSec: Number(writeSec.toFixed(3)),
        storeFiles: files,
        storeBytes: bytes,
        batchSec: Number(best.toFixed(3)),
        eventsPerSec: Math.round(events.length / best),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
