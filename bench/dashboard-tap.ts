/**
 * The dashboard's read model (src/server/traffic.ts) under load. Run: `npm run bench:tap [-- --quick]
 * [-- --events N] [-- --actors N]`.
 *
 * Prints one JSON object (progress on stderr):
 * - `throughput`: events per second through `TrafficTap.record` alone, through the ingest parser alone, and
 *   through both (what POST /api/v1/ingest costs before the detection pipeline), on simulated APISIX lines
 *   with bodies (~1 KB each) — the tap's share of the parse;
 * - `memory`: heap bytes per tracked actor with the default bounds filled (each actor holding its ring of
 *   requests with raw lines), measured with a full GC before and after, next to the tap's own estimate.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ApiEvent } from '../src/core/event.js';
import { DEFAULT_EVENT_OPTIONS } from '../src/core/options.js';
import { BatchParser } from '../src/server/ingest.js';
import { TrafficTap } from '../src/server/traffic.js';
import { ATTACK_TYPES } from '../src/simulate/attacks.js';
import { render } from '../src/simulate/render.js';
import { DEFAULT_START, Simulation } from '../src/simulate/simulate.js';
import { arg } from './args.js';

const quick = process.argv.includes('--quick');
const wanted = Number(arg('--events', quick ? '20000' : '300000'));
const actorsWanted = Number(arg('--actors', quick ? '500' : '5000'));
const REPEAT = quick ? 1 : 3;
const BATCH = 2000;

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const log = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

// Lines: simulated hours of the shop until there are enough (a busier population for more).
log(`simulating ${wanted} requests…`);
const lines: string[] = [];
for (let hours = 6; lines.length < wanted; hours *= 2) {
  lines.length = 0;
  const sim = new Simulation({
    seed: 3,
    start: DEFAULT_START,
    hours,
    users: Math.max(300, Math.round(wanted / 40)),
    attacks: ATTACK_TYPES,
    attackScale: 1,
  });
  for (const b of sim.run())
    for (const r of b) {
      if (lines.length >= wanted) break;
      lines.push(render('apisix', r, r.index + 1, true));
    }
}
const bodies: string[] = [];
for (let i = 0; i < lines.length; i += BATCH) bodies.push(lines.slice(i, i + BATCH).join('\n'));
const parser = new BatchParser({
  events: { ...DEFAULT_EVENT_OPTIONS, captureBodies: true, captureHeaders: true },
});
const req = { format: 'apisix', envelope: 'none', source: 'bench' };
const batches = bodies.map((b) => parser.parse(b, req));
const events = batches.reduce((n, b) => n + b.events.length, 0);
const meanLine = Math.round(lines.reduce((n, l) => n + l.length, 0) / lines.length);
log(`${events} events, ${meanLine} characters per line on average`);

function best(fn: () => void): number {
  let t = Number.POSITIVE_INFINITY;
  for (let r = 0; r < REPEAT; r++) {
    gc();
    const t0 = performance.now();
    fn();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

const tapSec = best(() => {
  const tap = new TrafficTap();
  for (const b of batches) tap.record(b.events, b.lines);
});
const parseSec = best(() => {
  for (const body of bodies) parser.parse(body, req);
});
const bothSec = best(() => {
  const tap = new TrafficTap();
  for (const body of bodies) {
    const b = parser.parse(body, req);
    tap.record(b.events, b.lines);
  }
});
log(`tap ${Math.round(events / tapSec)}/s, parse ${Math.round(events / parseSec)}/s`);

// Memory: `actorsWanted` distinct addresses (each also carrying a token: two actors per request), each
// sent enough requests to fill its ring, with the real lines.
const flat: { e: ApiEvent; line: string | null }[] = [];
for (const b of batches)
  for (let i = 0; i < b.events.length; i++) flat.push({ e: b.events[i]!, line: b.lines[i]! });
const perActor = 30;
const rounds: { evs: ApiEvent[]; ls: (string | null)[] }[] = [];
let k = 0;
for (let round = 0; round < perActor; round++) {
  const evs: ApiEvent[] = [];
  const ls: (string | null)[] = [];
  for (let a = 0; a < actorsWanted; a++) {
    const src = flat[k++ % flat.length]!;
    evs.push({
      ...src.e,
      ip: `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`,
      token: `t${a.toString(16).padStart(15, '0')}`,
      user: null,
      device: null,
    });
    ls.push(src.line);
  }
  rounds.push({ evs, ls });
}
function heapNow(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
/** Heap growth while the rounds go through a tap made with `o` (the tap kept alive until measured). */
function measure(o: ConstructorParameters<typeof TrafficTap>[0]) {
  const before = heapNow();
  const tap = new TrafficTap(o);
  for (const r of rounds) tap.record(r.evs, r.ls);
  const heapBytes = heapNow() - before;
  const st = tap.stats();
  return {
    trackedActors: st.actors,
    heapBytes,
    bytesPerTrackedActor: Math.round(heapBytes / st.actors),
    estimatedBytes: st.estimatedBytes,
    evictedActors: st.evictedActors,
  };
}
// What the tap itself keeps (its copies of paths, user agents and lines, records, tables, series): every
// actor kept (bounds out of the way), then with the default bounds.
const unbounded = measure({ maxActors: actorsWanted * 2, maxBytes: 2 ** 40 });
const defaults = measure({});
log(
  `${unbounded.bytesPerTrackedActor} bytes per tracked actor; ${Math.round(defaults.heapBytes / 2 ** 20)} MiB with the default bounds`,
);

console.log(
  JSON.stringify(
    {
      events,
      meanLineChars: meanLine,
      throughput: {
        tapEventsPerSec: Math.round(events / tapSec),
        parseEventsPerSec: Math.round(events / parseSec),
        parseAndTapEventsPerSec: Math.round(events / bothSec),
        tapShareOfIngest: round(tapSec / (tapSec + parseSec)),
      },
      memory: {
        actorsSent: actorsWanted * 2,
        requestsPerActor: perActor,
        unbounded,
        defaultBounds: defaults,
      },
      defaults: {
        horizonMinutes: 1440,
        maxEndpoints: 500,
        maxActors: 5000,
        requestsPerActor: 30,
        maxLineChars: 2048,
        maxBytes: 64 * 1024 * 1024,
      },
      node: process.version,
    },
    null,
    2,
  ),
);
