/**
 * Inventory throughput. Run: `npm run bench:inventory [-- --hours H --users U --repeat R]`.
 *
 * Events come from the simulator through the real parsers (combined and APISIX with bodies and headers
 * captured) and are held in memory; then only `Inventory.add` + `report()` is timed, best of `--repeat`.
 * Prints one JSON object: events/s per format and the templating-only rate (Templater.add on paths).
 */
import type { ApiEvent } from '../src/core/event.js';
import { Inventory } from '../src/inventory/catalog.js';
import { Templater } from '../src/inventory/templater.js';
import { SensitiveScanner } from '../src/sensitive/scanner.js';
import { simulatedEvents } from '../src/simulate/replay.js';
import { arg } from './args.js';
import { benchSimulation } from './events.js';

const hours = Number(arg('--hours', '24'));
const users = Number(arg('--users', '14000'));
const repeat = Number(arg('--repeat', '3'));

function events(format: 'combined' | 'apisix'): ApiEvent[] {
  const sim = benchSimulation(hours, users);
  return [...simulatedEvents(sim, format, { captureBodies: true, captureHeaders: true })];
}

const result: Record<string, unknown> = { node: process.version, options: { hours, users, repeat } };
for (const format of ['combined', 'apisix'] as const) {
  const evs = events(format);
  let best = Number.POSITIVE_INFINITY;
  let endpoints = 0;
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    const inv = new Inventory();
    for (const e of evs) inv.add(e);
    endpoints = inv.report().endpoints.length;
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  let bestS = Number.POSITIVE_INFINITY;
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    const inv = new Inventory({ scanner: new SensitiveScanner() });
    for (const e of evs) inv.add(e);
    inv.report();
    bestS = Math.min(bestS, (performance.now() - t0) / 1000);
  }
  let bestT = Number.POSITIVE_INFINITY;
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    const t = new Templater();
    for (const e of evs) t.add(e.host ?? '', e.path, e.status !== 404);
    bestT = Math.min(bestT, (performance.now() - t0) / 1000);
  }
  result[format] = {
    events: evs.length,
    endpoints,
    inventoryEventsPerSec: Math.round(evs.length / best),
    inventoryWithSensitiveScanEventsPerSec: Math.round(evs.length / bestS),
    templatingEventsPerSec: Math.round(evs.length / bestT),
  };
  process.stderr.write(`${format}: done\n`);
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
