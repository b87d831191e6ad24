/**
 * The benches' simulated day: 24 h (by default) of the shop with every campaign, read through the APISIX
 * parser with bodies and enriched with the sensitive scanner, held in memory as FeatureEvents (bodies dropped
 * once enriched: the engines read the enriched fields only).
 */
import { Enricher, type FeatureEvent } from '../src/features/enrich.js';
import { SensitiveScanner } from '../src/sensitive/scanner.js';
import { ATTACK_TYPES } from '../src/simulate/attacks.js';
import { simulatedEvents } from '../src/simulate/replay.js';
import { DEFAULT_START, Simulation } from '../src/simulate/simulate.js';

/** A seeded simulation of `hours` hours of `users` customers with every campaign. */
export const benchSimulation = (hours: number, users: number): Simulation =>
  new Simulation({ seed: 1, start: DEFAULT_START, hours, users, attacks: ATTACK_TYPES, attackScale: 1 });

export function simulatedDay(hours: number, users: number): { events: FeatureEvent[]; prepareSec: number } {
  const t0 = performance.now();
  const enricher = new Enricher(new SensitiveScanner());
  const events: FeatureEvent[] = [];
  for (const e of simulatedEvents(benchSimulation(hours, users), 'apisix', { captureBodies: true })) {
    delete e.responseBody;
    delete e.requestBody;
    events.push(enricher.enrich(e));
  }
  const prepareSec = (performance.now() - t0) / 1000;
  process.stderr.write(`prepared ${events.length} events in ${prepareSec.toFixed(1)} s\n`);
  return { events, prepareSec };
}
