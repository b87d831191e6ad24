/**
 * A simulation read back the way apiwarden reads a real log: every request rendered in one format and parsed
 * by that format's own parser and the shared normalizer. Tests, benchmarks and the demo use it to get
 * ApiEvents with known answers without writing files.
 */
import type { ApiEvent } from '../core/event.js';
import { Normalizer } from '../core/normalize.js';
import { DEFAULT_EVENT_OPTIONS, type EventOptions } from '../core/options.js';
import { isMalformed } from '../core/result.js';
import { buildParser } from '../parsers/registry.js';
import type { LineParser } from '../parsers/types.js';
import { type RenderFormat, render } from './render.js';
import type { Simulation } from './simulate.js';

/**
 * The simulation's requests as events, in order; `options` override the event options (e.g. body capture).
 * Lines are rendered as `apiwarden simulate` writes them; one that does not parse is a bug and throws.
 */
export function* simulatedEvents(
  sim: Simulation,
  format: RenderFormat,
  options: Partial<EventOptions> = {},
): Generator<ApiEvent> {
  const built = buildParser(format, { normalizer: new Normalizer({ ...DEFAULT_EVENT_OPTIONS, ...options }) });
  if (!built.ok) throw new Error(built.error);
  const parser = built.parser as LineParser;
  for (const batch of sim.run()) {
    for (const r of batch) {
      const line = r.index + 1;
      const e = parser.parseLine(render(format, r, line, true), { source: format, line });
      if (isMalformed(e))
        throw new Error(`simulated ${format} line ${line} did not parse: ${e.reason}: ${e.detail}`);
      yield e;
    }
  }
}
