/**
 * Simulator throughput. Run: `npm run bench:simulate [-- --hours H --users U --repeat R --formats a,b]`.
 *
 * Prints one JSON object on stdout:
 * - `generate`: the engine alone (agents, answers, labels; no rendering): requests/s, best of `--repeat`
 *   runs, each on a fresh Simulation;
 * - `render.<format>`: rendering the same requests as lines of each format (in memory, no I/O), lines/s;
 * - `write`: `writeSimulation` end to end (engine + rendering of the chosen formats + files + labels) into a
 *   temp directory: requests/s and wall seconds, peak RSS of the process.
 * Targets: generate >= 100,000 requests/s; 24 h of the default site (~250 k requests) written in a few seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACK_TYPES } from '../src/simulate/attacks.js';
import type { SimRequest } from '../src/simulate/engine.js';
import { isRenderFormat, RENDER_FORMATS, type RenderFormat, render } from '../src/simulate/render.js';
import { DEFAULT_START, Simulation, writeSimulation } from '../src/simulate/simulate.js';
import { arg } from './args.js';

const hours = Number(arg('--hours', '24'));
const users = Number(arg('--users', '14000'));
const repeat = Number(arg('--repeat', '3'));
const formats = arg('--formats', 'combined,apisix').split(',').filter(isRenderFormat) as RenderFormat[];
const options = { seed: 1, start: DEFAULT_START, hours, users, attacks: ATTACK_TYPES, attackScale: 1 };

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const timer = setInterval(sampleRss, 50);

let best = Number.POSITIVE_INFINITY;
let requests = 0;
let kept: SimRequest[] = [];
for (let k = 0; k < repeat; k++) {
  const t0 = performance.now();
  const s = new Simulation(options);
  const all: SimRequest[] = [];
  for (const b of s.run()) for (const r of b) all.push(r);
  s.labels();
  const sec = (performance.now() - t0) / 1000;
  if (sec < best) best = sec;
  requests = all.length;
  kept = all;
  process.stderr.write(`generate pass ${k + 1}: ${requests} requests in ${sec.toFixed(3)} s\n`);
}

const renderRates: Record<string, number> = {};
for (const f of RENDER_FORMATS) {
  let bestR = Number.POSITIVE_INFINITY;
  for (let k = 0; k < repeat; k++) {
    const t0 = performance.now();
    let bytes = 0;
    for (const r of kept) bytes += render(f, r, r.index + 1, true).length;
    const sec = (performance.now() - t0) / 1000;
    if (bytes > 0 && sec < bestR) bestR = sec;
  }
  renderRates[f] = Math.round(kept.length / bestR);
}
kept = [];

const dir = mkdtempSync(join(tmpdir(), 'aw-bench-sim-'));
const w0 = performance.now();
const summary = await writeSimulation(new Simulation(options), { dir, formats, gzip: false });
const writeSec = (performance.now() - w0) / 1000;
rmSync(dir, { recursive: true, force: true });
sampleRss();
clearInterval(timer);

process.stdout.write(
  `${JSON.stringify(
    {
      node: process.version,
      options: { hours, users, repeat, formats },
      requests,
      generate: {
        bestSec: Math.round(best * 1000) / 1000,
        requestsPerSec: Math.round(requests / best),
        target: 100_000,
        met: requests / best >= 100_000,
      },
      render: renderRates,
      write: {
        formats,
        seconds: Math.round(writeSec * 1000) / 1000,
        requestsPerSec: Math.round(summary.requests / writeSec),
        bytes: Object.fromEntries(Object.entries(summary.files).map(([f, x]) => [f, x.bytes])),
      },
      peakRssMiB: Math.round(peakRss / 2 ** 20),
    },
    null,
    2,
  )}\n`,
);
