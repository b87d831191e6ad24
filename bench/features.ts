/**
 * Stream-engine throughput. Run: `npm run bench:features [-- --hours H --users U --repeat R]`.
 *
 * Simulated traffic (default: 24 h of 62,000 customers, about 1.0 M requests, all campaigns) goes through the
 * APISIX parser and the enricher (templates, scenarios, sensitive hashes) once, into memory. Then only the
 * stream engine with the default feature set is timed: every event through pushTo (a visitor handed one
 * reused row object, as the detection pipeline reads rows) and, separately, through push (new row objects,
 * as the features CLI collects them), then flush; best of `--repeat` each.
 * State per tracked key: heap growth (after a forced GC) with every window still open, at the middle of the
 * run, divided by the keys tracked across all features. Prints one JSON object.
 */
import { defaultFeatures } from '../src/features/defaults.js';
import { StreamEngine } from '../src/features/stream.js';
import { arg } from './args.js';
import { simulatedDay } from './events.js';

const hours = Number(arg('--hours', '24'));
const users = Number(arg('--users', '62000'));
const repeat = Number(arg('--repeat', '3'));
const gc = (globalThis as { gc?: () => void }).gc;

const { events, prepareSec } = simulatedDay(hours, users);

const specs = defaultFeatures();
// Two ways out of the engine: pushTo (a visitor handed one reused row object: what the detection pipeline
// uses) and push (a new array of new objects per call: what the features CLI uses).
let best = Number.POSITIVE_INFINITY;
let bestArray = Number.POSITIVE_INFINITY;
let rows = 0;
let rowsArray = 0;
for (let k = 0; k < repeat; k++) {
  let engine = new StreamEngine(specs);
  let s = performance.now();
  let n = 0;
  const count = () => {
    n++;
  };
  for (let i = 0; i < events.length; i++) engine.pushTo(events[i]!, count);
  n += engine.flush().length;
  let sec = (performance.now() - s) / 1000;
  rows = n;
  best = Math.min(best, sec);
  process.stderr.write(`pass ${k + 1} (pushTo): ${sec.toFixed(3)} s\n`);
  engine = new StreamEngine(specs);
  s = performance.now();
  n = 0;
  for (let i = 0; i < events.length; i++) n += engine.push(events[i]!).length;
  n += engine.flush().length;
  sec = (performance.now() - s) / 1000;
  rowsArray = n;
  bestArray = Math.min(bestArray, sec);
  process.stderr.write(`pass ${k + 1} (push): ${sec.toFixed(3)} s\n`);
}

// State per key: open windows at mid-run.
gc?.();
const before = process.memoryUsage().heapUsed;
const engine = new StreamEngine(specs);
const half = events.length >> 1;
for (let i = 0; i < half; i++) engine.push(events[i]!);
gc?.();
const after = process.memoryUsage().heapUsed;
let keys = 0;
for (const f of Object.values(engine.stats().features)) keys += f.trackedKeys;

process.stdout.write(
  `${JSON.stringify(
    {
      node: process.version,
      options: { hours, users, repeat, features: specs.length },
      events: events.length,
      prepareSec: Math.round(prepareSec * 10) / 10,
      stream: {
        bestSec: Math.round(best * 1000) / 1000,
        eventsPerSec: Math.round(events.length / best),
        api: 'pushTo (visitor, one reused row object)',
        target: 300_000,
        met: events.length / best >= 300_000,
        snapshotRows: rows,
      },
      streamArrayApi: {
        bestSec: Math.round(bestArray * 1000) / 1000,
        eventsPerSec: Math.round(events.length / bestArray),
        api: 'push (new Snapshot objects per call)',
        snapshotRows: rowsArray,
      },
      state: {
        measuredWithGc: gc !== undefined,
        trackedKeysAtMidRun: keys,
        heapBytes: after - before,
        bytesPerTrackedKey: keys === 0 ? null : Math.round((after - before) / keys),
      },
    },
    null,
    2,
  )}\n`,
);
