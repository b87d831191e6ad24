/**
 * A live server with real detections for the dashboard's browser tests, with the same shape as the demo's
 * `startLiveDemo` (src/cli/demo.ts), so the tests can switch to the demo by changing one import:
 *
 *   1. a few simulated hours of the shop API (src/simulate) with every attack campaign, rendered as APISIX
 *      JSON lines with bodies (sensitive data, parameters);
 *   2. the profile and the inventory learned from them, as `apiwarden analyze` does (pass 1), stored in a
 *      PGlite state in `dataDir`;
 *   3. `createApp` on a free port; then `ready`: the same lines replayed through `serverApp.ingest` (the one
 *      ingest path, as POST /api/v1/ingest), also written to an event store so backtests run, and the
 *      pipeline's segment ended so its incidents (and the policy's decisions) are stored.
 *
 * Small and fast on purpose: 300 customers over 6 hours is ~21,000 requests, about 15 s in all.
 */
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import { ParamProfiler } from '../../src/detect/params.js';
import { ProfilingRun } from '../../src/detect/run.js';
import { Enricher } from '../../src/features/enrich.js';
import { Inventory } from '../../src/inventory/catalog.js';
import { SensitiveScanner } from '../../src/sensitive/scanner.js';
import { createApp } from '../../src/server/app.js';
import { listen } from '../../src/server/listen.js';
import { ATTACK_TYPES } from '../../src/simulate/attacks.js';
import { render } from '../../src/simulate/render.js';
import { simulatedEvents } from '../../src/simulate/replay.js';
import { DEFAULT_START, type SimulateOptions, Simulation } from '../../src/simulate/simulate.js';
import { EventStore } from '../../src/store/events.js';
import { openState } from '../../src/store/state/pg-state.js';

export interface LiveDemoOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  dataDir: string;
  /** Replay speed (ignored here: the fixture replays as fast as it can). */
  speed?: number;
  seed?: number;
  users?: number;
  log?: (m: string) => void;
}

export interface LiveDemo {
  url: string;
  adminToken: string;
  /** Resolves once the first incidents are stored. */
  ready: Promise<void>;
  close(): Promise<void>;
  /** The event store backtests read (the fixture has one; the demo may not). */
  storeDir?: string;
}

const BATCH = 2000;

export async function startLiveDemo(o: LiveDemoOptions): Promise<LiveDemo> {
  const log = o.log ?? (() => {});
  const sim: SimulateOptions = {
    seed: o.seed ?? 7,
    start: DEFAULT_START,
    hours: 6,
    users: o.users ?? 300,
    attacks: ATTACK_TYPES,
    attackScale: 1,
  };
  const capture = { captureBodies: true, captureHeaders: true };

  // Pass 1: the profile and the inventory, as `apiwarden analyze` learns them.
  const scanner = new SensitiveScanner();
  const inventory = new Inventory({ scanner });
  const enricher = new Enricher(scanner);
  const learn = new ProfilingRun({});
  const params = new ParamProfiler({ selfTrained: true });
  for (const e of simulatedEvents(new Simulation(sim), 'apisix', capture)) {
    inventory.add(e);
    params.add(e);
    learn.push(enricher.enrich(e));
  }
  const profile = learn.build();
  profile.params = params.finish().toJSON();
  log('learned the profile and the inventory');

  const state = await openState({ dataDir: o.dataDir });
  const first = await state.firstAdminToken();
  if (first === null) throw new Error(`${o.dataDir}: the state already has users; give an empty directory`);
  await state.putProfile(profile);
  await state.putInventory(inventory.report());

  const storeDir = join(o.dataDir, 'events');
  const config = defaultConfig();
  config.events = { ...config.events, ...capture };
  const server = await createApp({ state, config, storeDir, log, statsIntervalMs: 1000, expireEveryMs: 0 });
  const listening = await listen(server.app, o.host ?? '127.0.0.1', o.port ?? 0);
  log(`listening on ${listening.url}`);

  const ready = (async () => {
    const store = new EventStore(storeDir);
    const storeEnricher = new Enricher(new SensitiveScanner());
    const replay = async (lines: string[]) => {
      const b = await server.ingest(lines.join('\n'), {
        format: 'apisix',
        envelope: 'none',
        source: 'replay',
      });
      await store.append(b.events.map((e) => storeEnricher.enrich(e)));
    };
    let lines: string[] = [];
    for (const batch of new Simulation(sim).run()) {
      for (const r of batch) lines.push(render('apisix', r, r.index + 1, true));
      if (lines.length >= BATCH) {
        await replay(lines);
        lines = [];
      }
    }
    if (lines.length > 0) await replay(lines);
    await store.close();
    const seg = await server.sink.endSegment!();
    log(`replayed ${seg.events} events: ${seg.alerts.length} alerts, ${seg.incidents.length} incidents`);
  })();

  return {
    url: listening.url,
    adminToken: first.secret,
    ready,
    storeDir,
    close: async () => {
      await ready.catch(() => {});
      server.hub.close();
      await listening.close(1000);
      await server.close();
      await state.close();
    },
  };
}
