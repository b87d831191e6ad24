/**
 * `apiwarden demo` (what `npm start` runs): the whole product, live, on simulated traffic (docs/demo.md).
 *
 *   history (attack-free, seeded) ─► learn: profile + inventory (analyze's pass 1) ─► state (PGlite)
 *                                 └► event store (Parquet; backtests)
 *   server (createApp + listen): API, dashboard, SSE, live pipeline (event-clock segments, store append)
 *   live replay: stretch after stretch of the same world with seeded campaigns, rendered as APISIX lines
 *                and fed to serverApp.ingest (the path POST /api/v1/ingest takes) at an accelerated clock
 *
 * `startLiveDemo` is the whole of it behind a function (the e2e tests call it); `runDemo` is the command.
 * `apiwarden demo --offline` keeps the earlier demo: simulate a day into files, print what it holds, analyze
 * it and score the incidents against the labels, then exit.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig } from '../config/schema.js';
import type { ApiEvent } from '../core/event.js';
import { dropLockFile, takeLockFile } from '../core/lockfile.js';
import type { FeatureEvent } from '../features/enrich.js';
import { Inventory } from '../inventory/catalog.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import { createApp, type ServerApp } from '../server/app.js';
import { type Listening, listen } from '../server/listen.js';
import type { PipelineStats } from '../server/pipeline.js';
import { ATTACK_TYPES } from '../simulate/attacks.js';
import type { SimRequest } from '../simulate/engine.js';
import { render } from '../simulate/render.js';
import { simulatedEvents } from '../simulate/replay.js';
import { DEFAULT_START, type Labels, Simulation, writeSimulation } from '../simulate/simulate.js';
import { SimulatedWorld } from '../simulate/world.js';
import { EventStore } from '../store/events.js';
import { openState, type PgStateStore } from '../store/state/pg-state.js';
import { LearnSink, runAnalyze } from './analyze.js';
import { runEval } from './eval.js';
import { duration, int } from './human.js';
import { InventorySink, inventoryTable } from './inventory.js';
import { CliError, humanSummary, type Io, parseInputs } from './parse.js';
import { TrafficReport } from './report.js';
import { DEFAULT_USERS, simulateSummary } from './simulate.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Defaults of the live demo (measured on a 2-core machine: docs/demo.md). */
export const DEMO_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  speed: 60,
  seed: 1,
  users: DEFAULT_USERS,
  /** Attack-free history the profile is learned from, ending where the live replay starts. */
  historyHours: 12,
  /** Simulated length of one live stretch (its own campaigns). */
  stretchHours: 2,
  /** Live detection segments on the event clock (15 simulated minutes: 15 s at 60x). */
  segmentMinutes: 15,
  /** Event store retention in event time (the simulated clock runs 60 h per hour at 60x). */
  retentionHours: 48,
} as const;

/** The live part starts at 14:00 on the simulator's default day (a weekday afternoon). */
export const DEMO_LIVE_START = DEFAULT_START + 14 * HOUR;

/** Files and folders a demo data directory holds (a previous demo's are removed when it starts again). */
const MARKER = 'apiwarden-demo.json';
const LOCK = 'demo.lock';
const DEMO_ENTRIES = new Set([MARKER, LOCK, 'state.pglite', 'state.pglite.lock', 'store']);

export interface LiveDemoOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** The demo's data: state.pglite, store/ (event store). Must be empty, new, or a previous demo's. */
  dataDir: string;
  /** Simulated seconds per wall second (default 60). */
  speed?: number;
  /** The world's seed (customers, partners; campaigns are seeded per stretch from it). */
  seed?: number;
  /** Registered customers (default 14,000: about 10,000 requests per simulated hour). */
  users?: number;
  /** Hours of attack-free history to learn from (default 12). */
  historyHours?: number;
  /** Simulated hours per live stretch (default 2). */
  stretchHours?: number;
  /** Live detection segment length in simulated minutes (default 15). */
  segmentMinutes?: number;
  /** Stop after this many stretches (default: never; `--once` is 1). */
  stretches?: number;
  /** Remove the data directory on close (the CLI's temporary directory). */
  removeOnClose?: boolean;
  log?: (m: string) => void;
  /** Sees each batch's events after it was ingested (tests). */
  onBatch?: (events: readonly ApiEvent[]) => void;
}

export interface LiveDemoStats {
  /** The simulated clock: the latest event time ingested (ms). */
  simTime: number | null;
  stretch: number;
  eventsIngested: number;
  /** Events per wall second, since the replay started. */
  eventsPerSec: number;
  /** Simulated ms the replay is behind its target clock (0 when on time). */
  lagMs: number;
  pipeline: PipelineStats | null;
}

export interface LiveDemo {
  /** The dashboard's address with the admin token in the fragment: `http://127.0.0.1:8080/#token=…`. */
  url: string;
  /** `http://host:port` */
  baseUrl: string;
  adminToken: string;
  /** Resolves once the first incidents are stored. */
  ready: Promise<void>;
  /** Resolves when the replay ends (after `stretches`, or on close); rejects if it failed. */
  finished: Promise<void>;
  /** Seconds the start took: learning the history, and the whole start. */
  timings: { historyEvents: number; learnSec: number; startSec: number };
  stats(): LiveDemoStats;
  /** Stops the replay, judges and stores the open segment, closes the server and the state. */
  close(): Promise<void>;
  readonly server: ServerApp;
  readonly state: PgStateStore;
  readonly dataDir: string;
}

/** Demo data directories open in this process (the lock file protects against other processes). */
const openHere = new Set<string>();

async function claimDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((e: Error) => {
    throw new CliError(`cannot create the demo data directory ${dir}: ${e.message}`);
  });
  const busy = `${dir} is in use by an apiwarden demo that is still running`;
  if (openHere.has(dir))
    throw new CliError(`${busy} in this process; close it first, or pick another --data-dir`);
  takeLockFile(
    join(dir, LOCK),
    (pid) => new CliError(`${busy} (process ${pid}); stop it (Ctrl-C), or pick another --data-dir`),
  );
  openHere.add(dir);
  try {
    const entries = await readdir(dir);
    const marked = entries.includes(MARKER);
    const foreign = entries.filter((e) => !DEMO_ENTRIES.has(e));
    if (!marked && entries.some((e) => e !== LOCK))
      throw new CliError(
        `${dir} is not empty and holds no previous demo (${MARKER}); the demo starts from scratch in its data directory: pick a new or empty --data-dir`,
        2,
      );
    if (foreign.length > 0)
      throw new CliError(
        `${dir} holds files a demo does not write (${foreign.slice(0, 3).join(', ')}); pick a new or empty --data-dir`,
        2,
      );
    // A previous demo's data: start again from scratch.
    for (const e of entries) if (e !== LOCK) await rm(join(dir, e), { recursive: true, force: true });
  } catch (e) {
    releaseDataDir(dir);
    throw e;
  }
}

function releaseDataDir(dir: string): void {
  openHere.delete(dir);
  dropLockFile(join(dir, LOCK));
}

const positive = (name: string, v: number, min: number, max: number): number => {
  if (!Number.isFinite(v) || v < min || v > max)
    throw new CliError(`${name} must be a number from ${min} to ${max}, got ${v}`, 2);
  return v;
};

/**
 * Starts the live demo: learns from a simulated history, serves the API and the dashboard, and replays
 * fresh simulated traffic through the server's ingest path at `speed` times real time until closed.
 */
export async function startLiveDemo(o: LiveDemoOptions): Promise<LiveDemo> {
  const started = performance.now();
  const log = o.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const host = o.host ?? DEMO_DEFAULTS.host;
  const port = o.port ?? DEMO_DEFAULTS.port;
  const speed = positive('--speed', o.speed ?? DEMO_DEFAULTS.speed, 1, 100_000);
  const seed = o.seed ?? DEMO_DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw new CliError(`--seed must be a whole number from 0 to ${2 ** 32 - 1}, got ${seed}`, 2);
  const users = o.users ?? DEMO_DEFAULTS.users;
  if (!Number.isInteger(users) || users < 50 || users > 1_000_000)
    throw new CliError(`--users must be a whole number from 50 to 1000000, got ${users}`, 2);
  const historyHours = positive('historyHours', o.historyHours ?? DEMO_DEFAULTS.historyHours, 1, 24 * 14);
  const stretchHours = positive('stretchHours', o.stretchHours ?? DEMO_DEFAULTS.stretchHours, 0.25, 48);
  const segmentMs = positive('segmentMinutes', o.segmentMinutes ?? DEMO_DEFAULTS.segmentMinutes, 1, 60) * MIN;
  const dataDir = resolve(o.dataDir);

  await claimDataDir(dataDir);
  let state: PgStateStore | null = null;
  let opening: Promise<PgStateStore> | null = null;
  let store: EventStore | null = null;
  let server: ServerApp | null = null;
  let listening: Listening | null = null;
  try {
    await writeFile(
      join(dataDir, MARKER),
      `${JSON.stringify({ kind: 'apiwarden-demo', seed, users, speed, historyHours, startedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    const config = defaultConfig();
    // As analyze does: headers and bodies captured, so parameter profiles and sensitive data see them.
    config.events.captureBodies = true;
    config.events.captureHeaders = true;
    const world = new SimulatedWorld({
      seed,
      users,
      liveStart: DEMO_LIVE_START,
      stretchMs: stretchHours * HOUR,
    });

    // 1. The history: learn the profile and the inventory, and keep it in the event store.
    log(
      `apiwarden demo: learning from ${historyHours} h of simulated history (${int(users)} customers, seed ${seed})…`,
    );
    const t0 = performance.now();
    // The embedded database starts (WASM compile, migrations) while the history is learned.
    opening = openState({ dataDir });
    opening.catch(() => {});
    store = new EventStore(join(dataDir, 'store'), { retentionHours: DEMO_DEFAULTS.retentionHours });
    const scanner = new SensitiveScanner(config.sensitive);
    const inventory = new Inventory({ scanner });
    const toStore: FeatureEvent[] = [];
    const learn = new LearnSink(scanner, inventory, {}, (fe) => toStore.push(fe));
    let historyEvents = 0;
    const history = world.history(historyHours);
    const batch: ApiEvent[] = [];
    for (const e of simulatedEvents(history, 'apisix', config.events)) {
      batch.push(e);
      if (batch.length < 8192) continue;
      historyEvents += batch.length;
      await learn.write(batch.splice(0, batch.length));
      await store.append(toStore.splice(0, toStore.length));
    }
    historyEvents += batch.length;
    await learn.write(batch);
    await store.append(toStore.splice(0, toStore.length));
    const profile = learn.run.build();
    profile.params = learn.params.finish().toJSON();
    await store.flush();
    const learnSec = (performance.now() - t0) / 1000;
    log(
      `apiwarden demo: learned the profile and the inventory from ${int(historyEvents)} requests in ${learnSec.toFixed(1)} s`,
    );

    // 2. The state: the admin user and token, the inventory, the profile.
    state = await opening;
    const first = await state.firstAdminToken();
    if (first === null)
      throw new Error(
        `the demo's fresh state in ${dataDir} already had users: it was not created by this demo`,
      );
    await state.putInventory(inventory.report());
    await state.putProfile(profile);

    // 3. The server, with the live pipeline cutting segments on the event clock and appending to the store.
    server = await createApp({
      state,
      config,
      storeDir: join(dataDir, 'store'),
      pipeline: { segmentEventMs: segmentMs, segmentMs: Math.max(2_000, segmentMs / speed), store },
      log: (m) => log(`apiwarden: ${m}`),
    });
    store = null; // the pipeline owns it now (closed with the server)
    try {
      listening = await listen(server.app, host, port);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CliError(
        err.code === 'EADDRINUSE'
          ? `${host}:${port} is in use (another apiwarden demo or serve?); pick another port with --port (--port 0: any free port)`
          : `cannot listen on ${host}:${port}: ${err.message}`,
      );
    }
    const baseUrl = listening.url;
    const startSec = (performance.now() - started) / 1000;

    // 4. The live replay.
    const replay = new LiveReplay(world, server, state, {
      speed,
      ...(o.stretches === undefined ? {} : { stretches: o.stretches }),
      ...(o.onBatch === undefined ? {} : { onBatch: o.onBatch }),
      log,
    });
    // Started on the next turn, so the caller prints its banner before the replay's first line.
    const finished = new Promise<void>((r) => setImmediate(r)).then(() => replay.run());
    finished.catch(() => {});
    const srv = server;
    const st = state;
    const lis = listening;
    let closing: Promise<void> | null = null;
    return {
      url: `${baseUrl}/#token=${first.secret}`,
      baseUrl,
      adminToken: first.secret,
      ready: replay.ready,
      finished,
      timings: { historyEvents, learnSec, startSec },
      stats: () => replay.stats(),
      server: srv,
      state: st,
      dataDir,
      close: () => {
        closing ??= (async () => {
          replay.stop();
          await finished.catch(() => {});
          srv.hub.close();
          await lis.close();
          await srv.close();
          await st.close();
          releaseDataDir(dataDir);
          if (o.removeOnClose === true) await rm(dataDir, { recursive: true, force: true });
        })();
        return closing;
      },
    };
  } catch (e) {
    server?.hub.close();
    await listening?.close();
    await server?.close().catch(() => {});
    await store?.close().catch(() => {});
    if (opening !== null) await opening.then((s) => s.close()).catch(() => {});
    else await state?.close().catch(() => {});
    releaseDataDir(dataDir);
    if (o.removeOnClose === true) await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** Lines per ingest call at most (a catch-up after a pause goes in several calls, the event loop breathing). */
const MAX_BATCH = 10_000;
/** How often the replay ingests what has become due. */
const TICK_MS = 250;

interface ReplayOptions {
  speed: number;
  stretches?: number;
  log: (m: string) => void;
  onBatch?: (events: readonly ApiEvent[]) => void;
}

/**
 * Feeds the world's stretches, one after another, to the server's ingest at `speed` times real time: an event
 * at simulated time t is ingested at wall time (t − liveStart) / speed after the replay started, in batches
 * every ~250 ms. When the machine cannot keep up, the replay runs behind (reported as lag), never ahead.
 */
class LiveReplay {
  private stopped = false;
  private wake: (() => void) | null = null;
  private stretch = 0;
  private events = 0;
  private lastTs: number | null = null;
  private wall0 = 0;
  private lag = 0;
  private resolveReady!: () => void;
  readonly ready: Promise<void>;
  private isReady = false;

  constructor(
    private readonly world: SimulatedWorld,
    private readonly server: ServerApp,
    private readonly state: PgStateStore,
    private readonly o: ReplayOptions,
  ) {
    this.ready = new Promise((r) => {
      this.resolveReady = r;
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  stats(): LiveDemoStats {
    const sec = this.wall0 === 0 ? 0 : (performance.now() - this.wall0) / 1000;
    return {
      simTime: this.lastTs,
      stretch: this.stretch,
      eventsIngested: this.events,
      eventsPerSec: sec > 0 ? Math.round(this.events / sec) : 0,
      lagMs: this.lag,
      pipeline: this.server.sink.stats?.() ?? null,
    };
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return;
    await new Promise<void>((done) => {
      const t = setTimeout(finish, ms);
      function finish() {
        clearTimeout(t);
        done();
      }
      this.wake = finish;
    });
    this.wake = null;
  }

  private async checkReady(): Promise<void> {
    if (this.isReady) return;
    if ((this.server.sink.stats?.().incidents ?? 0) === 0) return;
    const rows = await this.state.db.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
    if ((rows[0]?.n ?? 0) > 0) {
      this.isReady = true;
      this.resolveReady();
    }
  }

  async run(): Promise<void> {
    const { speed } = this.o;
    const liveStart = this.world.o.liveStart;
    this.wall0 = performance.now();
    const simNow = () => liveStart + (performance.now() - this.wall0) * speed;
    const max = this.o.stretches ?? Number.POSITIVE_INFINITY;
    const ingest = async (lines: string[]) => {
      const b = await this.server.ingest(lines.join('\n'), {
        format: 'apisix',
        envelope: 'none',
        source: 'demo',
      });
      this.events += b.events.length;
      if (b.maxTs !== null) this.lastTs = b.maxTs;
      this.o.onBatch?.(b.events);
    };
    for (let k = 0; k < max && !this.stopped; k++) {
      this.stretch = k;
      const { plan, simulation } = this.world.stretch(k);
      this.o.log(
        `apiwarden demo: stretch ${k + 1}: ${new Date(plan.start).toISOString().slice(0, 16).replace('T', ' ')} to ${new Date(plan.end).toISOString().slice(11, 16)} (simulated), campaigns: ${plan.attacks.join(', ')}${plan.attackScale === 1 ? '' : ` at ${plan.attackScale}x`}${plan.upstreamIncident ? '; an upstream incident' : ''}`,
      );
      const requests = requestsOf(simulation);
      let next = requests.next();
      let lines: string[] = [];
      while (!this.stopped && next.done !== true) {
        const due = simNow();
        while (next.done !== true && next.value.ts <= due && lines.length < MAX_BATCH) {
          const r = next.value;
          lines.push(render('apisix', r, r.index + 1, true));
          next = requests.next();
        }
        if (lines.length > 0) {
          await ingest(lines);
          lines = [];
        }
        this.lag = next.done === true ? 0 : Math.max(0, due - next.value.ts);
        await this.checkReady();
        if (next.done === true) break;
        const wait = (next.value.ts - simNow()) / speed;
        if (wait > 0) await this.pause(Math.min(TICK_MS, wait));
        else await new Promise<void>((r) => setImmediate(r)); // behind: catch up, but let requests in
      }
    }
    // After the last stretch (--once): the open segment is judged now, not at the next idle tick.
    if (!this.stopped && this.server.sink.endSegment !== undefined) {
      await this.server.sink.endSegment();
      await this.checkReady();
    }
  }
}

function* requestsOf(simulation: Simulation): Generator<SimRequest, void> {
  for (const batch of simulation.run(2048)) yield* batch;
}

// ---------------------------------------------------------------------------------------------------------
// The command

export interface DemoFlags {
  host?: string;
  port?: number;
  speed?: number;
  seed?: number;
  users?: number;
  dataDir?: string;
  once?: boolean;
  offline?: boolean;
  out?: string;
}

/** The demo's progress line: simulated clock, events, rate, incidents and decisions. */
async function progressLine(demo: LiveDemo): Promise<string> {
  const s = demo.stats();
  const inc = await demo.state.db.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
  const dec = await demo.state.db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM decisions GROUP BY status',
  );
  const decisions = dec.reduce((a, r) => a + r.n, 0);
  const active = dec.find((r) => r.status === 'active')?.n ?? 0;
  const proposed = dec.find((r) => r.status === 'proposed')?.n ?? 0;
  const clock = s.simTime === null ? '--' : new Date(s.simTime).toISOString().slice(0, 16).replace('T', ' ');
  return `[${clock} simulated] ${int(s.eventsIngested)} events (${int(s.eventsPerSec)}/s), ${int(inc[0]?.n ?? 0)} incidents, ${int(decisions)} decisions (${int(active)} active, ${int(proposed)} proposed)${s.lagMs > 60_000 ? ` (the replay runs ${duration(s.lagMs)} of simulated time behind: a lower --speed keeps up)` : ''}`;
}

/** Resolves on SIGINT (the CLI's abort signal) or SIGTERM. */
function stopRequested(io: Io): { promise: Promise<string>; cancel(): void } {
  let cancel = () => {};
  const promise = new Promise<string>((done) => {
    const onTerm = () => finish('SIGTERM');
    const onHup = () => finish('SIGHUP'); // the terminal went away: still stop cleanly
    const onInt = () => finish('SIGINT');
    const onAbort = () => finish('SIGINT');
    const finish = (why: string) => {
      cancel();
      done(why);
    };
    cancel = () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      if (io.signal === undefined) process.off('SIGINT', onInt);
      io.signal?.removeEventListener('abort', onAbort);
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    if (io.signal === undefined) process.on('SIGINT', onInt);
    else if (io.signal.aborted) finish('SIGINT');
    else io.signal.addEventListener('abort', onAbort);
  });
  return { promise, cancel: () => cancel() };
}

export async function runDemo(io: Io, flags: DemoFlags = {}): Promise<number> {
  // --out only means something to the offline demo, and was its option before the live demo: it implies it.
  if (flags.offline === true || flags.out !== undefined) return runOfflineDemo(io, flags);
  const out = (s: string) => io.stdout.write(`${s}\n`);
  const temp = flags.dataDir === undefined;
  const dataDir = temp ? await mkdtemp(join(tmpdir(), 'apiwarden-demo-')) : resolve(flags.dataDir!);
  const stop = stopRequested(io);
  let demo: LiveDemo;
  try {
    demo = await startLiveDemo({
      dataDir,
      removeOnClose: temp,
      ...(flags.host === undefined ? {} : { host: flags.host }),
      ...(flags.port === undefined ? {} : { port: flags.port }),
      ...(flags.speed === undefined ? {} : { speed: flags.speed }),
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      ...(flags.users === undefined ? {} : { users: flags.users }),
      ...(flags.once === true ? { stretches: 1 } : {}),
      log: out,
    });
  } catch (e) {
    stop.cancel();
    throw e;
  }
  const speed = flags.speed ?? DEMO_DEFAULTS.speed;
  out('');
  out(`  Dashboard:  ${demo.url}`);
  out(
    `  API token:  ${demo.adminToken}   (user 'admin'; curl -H "Authorization: Bearer <token>" ${demo.baseUrl}/api/v1/incidents)`,
  );
  out(
    `  Data:       ${dataDir}${temp ? ' (temporary: removed when the demo stops; keep it with --data-dir)' : ''}`,
  );
  out(
    `  Replaying simulated shop-API traffic at ${speed}x (1 s = ${duration(speed * 1000)} simulated) with ${ATTACK_TYPES.length} kinds of attack; Ctrl-C stops.`,
  );
  out('');
  let ticker: NodeJS.Timeout | null = null;
  let code = 0;
  try {
    ticker = setInterval(() => {
      progressLine(demo).then(out, () => {});
    }, 10_000);
    ticker.unref();
    demo.ready.then(() => out('apiwarden demo: the first incidents are in: open the dashboard'));
    const why = await Promise.race([
      stop.promise,
      demo.finished.then(
        () => 'finished',
        (e: Error) => {
          io.stderr.write(`apiwarden: the replay failed: ${e.stack ?? e.message}\n`);
          code = 1;
          return 'failed';
        },
      ),
    ]);
    if (why.startsWith('SIG')) out(`apiwarden demo: ${why}: stopping`);
    out(await progressLine(demo).catch((e: Error) => `apiwarden demo: ${e.message}`));
  } finally {
    if (ticker !== null) clearInterval(ticker);
    stop.cancel();
    await demo.close();
  }
  out('apiwarden demo: stopped');
  return code;
}

// ---------------------------------------------------------------------------------------------------------
// The offline demo (apiwarden demo --offline): files, a report, analyze and eval.

async function runOfflineDemo(io: Io, flags: DemoFlags): Promise<number> {
  const dir = flags.out ?? join(tmpdir(), 'apiwarden-demo');
  io.stderr.write(
    `apiwarden demo: simulating 24 h of a shop API with ${ATTACK_TYPES.length} attack campaigns into ${dir}\n\n`,
  );
  const simulation = new Simulation({
    seed: flags.seed ?? 1,
    start: DEFAULT_START,
    hours: 24,
    users: flags.users ?? DEFAULT_USERS,
    attacks: ATTACK_TYPES,
    attackScale: 1,
  });
  const sim = await writeSimulation(simulation, { dir, formats: ['combined', 'apisix'], gzip: false });
  io.stdout.write(simulateSummary(sim, dir));
  const log = sim.files.apisix!.path;
  io.stdout.write(`\nparsing ${log} (APISIX http-logger JSON lines)\n\n`);
  const report = new TrafficReport();
  const inventory = new Inventory({ scanner: new SensitiveScanner() });
  const summary = await parseInputs(
    [log],
    { quarantine: 'none', progress: false, captureBodies: true, captureHeaders: true },
    io,
    new InventorySink(inventory, [report]),
  );
  io.stdout.write(humanSummary(summary));
  io.stdout.write(`\n${report.render()}`);
  io.stdout.write(`\n${inventoryTable(inventory.report())}`);
  io.stdout.write(`\n${groundTruth(simulation.labels())}`);
  // Detection: learn the profile from the day, judge it, and score the incidents against the labels.
  const analysis = join(dir, 'analysis');
  io.stdout.write(`\nanalyzing ${log} (apiwarden analyze --out ${analysis})\n\n`);
  await runAnalyze([log], { out: analysis, progress: false }, io);
  io.stdout.write('\nscored against the ground truth (apiwarden eval):\n\n');
  await runEval({ labels: join(dir, 'labels.json'), incidents: join(analysis, 'incidents.jsonl') }, io);
  io.stdout.write(
    `\nThe report: ${join(analysis, 'report.html')}\nNext: \`apiwarden demo\` for the live product, \`apiwarden analyze <your access.log> --out results/\` on your own logs, \`apiwarden serve --input <your access.log>\` to serve them live (see README.md).\n`,
  );
  return 0;
}

function groundTruth(l: Labels): string {
  const lines = ['ground truth (labels.json): what a detector should find'];
  for (const c of l.campaigns) {
    const a = c.actors;
    const who = [
      `${int(a.ips.length)} IP${a.ips.length === 1 ? '' : 's'}`,
      a.tokens.length > 0 ? `${int(a.tokens.length)} token${a.tokens.length === 1 ? '' : 's'}` : '',
      a.devices.length > 0 ? `${int(a.devices.length)} devices` : '',
    ]
      .filter((s) => s !== '')
      .join(', ');
    lines.push(
      `  ${c.id.padEnd(20)} ${(c.firstSeen ?? '').slice(11, 16)}-${(c.lastSeen ?? '').slice(11, 16)}  ${int(c.requests).padStart(6)} requests  ${who}`,
    );
  }
  lines.push('and what it should not flag:');
  for (const b of l.benign)
    lines.push(`  ${b.id.padEnd(20)} ${int(b.requests).padStart(6)} requests  ${b.description}`);
  return `${lines.join('\n')}\n`;
}

/** Reads a demo data directory's marker (tests, and a later `serve` over the same directory). */
export async function demoMarker(dir: string): Promise<Record<string, unknown> | null> {
  const p = join(dir, MARKER);
  if (!existsSync(p)) return null;
  return JSON.parse(await readFile(p, 'utf8')) as Record<string, unknown>;
}
