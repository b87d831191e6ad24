/**
 * The live demo under load. Run: `npm run bench:demo [-- --speed X --seconds S --users U --history H]`.
 *
 * Starts the real live demo (startLiveDemo: history, learning, server on a free port, replay through
 * `serverApp.ingest`) in a temporary directory and lets it run for `--seconds` at `--speed`, sampling every
 * 5 s. Prints one JSON object on stdout:
 * - `start`: history events, learning seconds, seconds until the server listened, seconds until the first
 *   incidents were stored (`readySec`);
 * - `samples`: per 5 s: wall seconds, the simulated clock, events ingested, how far the replay runs behind its
 *   target clock (simulated minutes), incidents, decisions, RSS and heap (MB);
 * - `summary`: events/s over the run (through ingest, detection, the event store and the state), the
 *   simulated hours covered, RSS at the first and the last third of the run and its peak, the final lag.
 * `--speed max` replays as fast as the process takes it (a very high speed): the ingest throughput.
 * Memory target: RSS and the heap after GC stay flat over the run (bounded segments, a bounded event-store
 * buffer). `npm run bench:demo` runs node with --expose-gc so `heapAfterGcMB` is measured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveDemo } from '../src/cli/demo.js';
import { arg } from './args.js';

const speedArg = arg('--speed', '600');
const speed = speedArg === 'max' ? 100_000 : Number(speedArg);
const seconds = Number(arg('--seconds', '180'));
const users = Number(arg('--users', '14000'));
const historyHours = Number(arg('--history', '12'));

const dir = await mkdtemp(join(tmpdir(), 'aw-bench-demo-'));
const t0 = performance.now();
let readySec: number | null = null;
const demo = await startLiveDemo({
  dataDir: join(dir, 'data'),
  port: 0,
  speed,
  users,
  historyHours,
  log: (m) => process.stderr.write(`${m}\n`),
});
const listenSec = (performance.now() - t0) / 1000;
demo.ready.then(() => {
  readySec = (performance.now() - t0) / 1000;
});
const mb = (n: number) => Math.round(n / 1e5) / 10;
const count = async (sql: string) => (await demo.state.db.query<{ n: number }>(sql))[0]?.n ?? 0;
const samples: {
  sec: number;
  simTime: string | null;
  events: number;
  lagMin: number;
  incidents: number;
  decisions: number;
  rssMB: number;
  heapMB: number;
  /** Heap used right after a full GC (only with node --expose-gc): what is really kept. */
  heapAfterGcMB: number | null;
}[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
const heapAfterGc = (): number | null => {
  if (gc === undefined) return null;
  gc();
  return mb(process.memoryUsage().heapUsed);
};
const replayStart = performance.now();
let peakRss = 0;
while ((performance.now() - replayStart) / 1000 < seconds) {
  await new Promise((r) => setTimeout(r, 5000));
  const s = demo.stats();
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  samples.push({
    sec: Math.round((performance.now() - replayStart) / 1000),
    simTime: s.simTime === null ? null : new Date(s.simTime).toISOString().slice(0, 16),
    events: s.eventsIngested,
    lagMin: Math.round(s.lagMs / 60_000),
    incidents: await count('SELECT count(*)::int AS n FROM incidents'),
    decisions: await count('SELECT count(*)::int AS n FROM decisions'),
    rssMB: mb(m.rss),
    heapMB: mb(m.heapUsed),
    heapAfterGcMB: heapAfterGc(),
  });
  process.stderr.write(`${JSON.stringify(samples[samples.length - 1])}\n`);
}
const wall = (performance.now() - replayStart) / 1000;
const stats = demo.stats();
await demo.close();
await rm(dir, { recursive: true, force: true });
const third = Math.max(1, Math.floor(samples.length / 3));
const avg = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)) * 10) / 10;
const last = samples[samples.length - 1];
process.stdout.write(
  `${JSON.stringify(
    {
      speed,
      seconds,
      users,
      start: {
        historyHours,
        historyEvents: demo.timings.historyEvents,
        learnSec: Math.round(demo.timings.learnSec * 10) / 10,
        listenSec: Math.round(listenSec * 10) / 10,
        readySec: readySec === null ? null : Math.round((readySec as number) * 10) / 10,
      },
      summary: {
        events: stats.eventsIngested,
        eventsPerSec: Math.round(stats.eventsIngested / wall),
        simulatedHours:
          stats.simTime === null
            ? 0
            : Math.round(((stats.simTime - Date.UTC(2026, 2, 2, 14)) / 3.6e6) * 10) / 10,
        stretches: stats.stretch + 1,
        incidents: last?.incidents ?? 0,
        decisions: last?.decisions ?? 0,
        rssMBFirstThird: avg(samples.slice(0, third).map((s) => s.rssMB)),
        rssMBLastThird: avg(samples.slice(-third).map((s) => s.rssMB)),
        peakRssMB: mb(peakRss),
        heapAfterGcMBFirstThird:
          gc === undefined ? null : avg(samples.slice(0, third).map((s) => s.heapAfterGcMB ?? 0)),
        heapAfterGcMBLastThird:
          gc === undefined ? null : avg(samples.slice(-third).map((s) => s.heapAfterGcMB ?? 0)),
        finalLagMin: last?.lagMin ?? 0,
      },
      samples,
    },
    null,
    2,
  )}\n`,
);
