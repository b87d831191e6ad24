/**
 * A real single-node Kafka 4.x broker (KRaft) for tests, run by the scripts in scripts/kafka/ from the jars
 * Maven Central has (see docs/scaling.md, "Running a real broker here").
 *
 *   const kafka = await startKafka();          // fetch.sh (cached after the first run), then start.sh
 *   ... new Producer({ bootstrapBrokers: [kafka.bootstrap], ... }) ...
 *   await kafka.restart();                     // SIGTERM and start again: same data, same ports
 *   await kafka.restart({ kill: true });       // a crash (SIGKILL) and recovery
 *   await kafka.dispose();                     // stop it and remove its data dir (call it in afterAll)
 *
 * Each broker gets free ports of its own and a new data dir under the OS temp dir, so test files can run
 * brokers side by side. It is started with `--watch-pid <this process>`: a watchdog stops it if this process
 * dies without disposing of it, and an exit handler SIGKILLs it on a normal exit.
 *
 * Fails (never skips) with a KafkaStartError naming the step (java, fetch, start, stop) and the output or log
 * tail when Java 17+, Maven or Maven Central is missing, or the broker does not come up.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KAFKA_SCRIPTS = join(import.meta.dirname, '..', '..', 'scripts', 'kafka');

export type KafkaStep = 'java' | 'fetch' | 'start' | 'stop';

export class KafkaStartError extends Error {
  constructor(
    readonly step: KafkaStep,
    message: string,
  ) {
    super(`Kafka test broker, step "${step}": ${message}`);
    this.name = 'KafkaStartError';
  }
}

export interface StartKafkaOptions {
  /** Address to listen on and advertise (default 127.0.0.1). */
  host?: string;
  /** How long start.sh waits for the broker, in seconds (default 90). */
  startTimeoutS?: number;
  /** How long fetch.sh may take, in ms (default 10 min: the first fetch downloads ~45 MB). */
  fetchTimeoutMs?: number;
  /** Keep the data dir on dispose() (also when KAFKA_KEEP_DATA=1 is set), e.g. to read broker.log. */
  keepDataDir?: boolean;
}

export interface RestartOptions {
  /** SIGKILL (a crash) instead of SIGTERM. */
  kill?: boolean;
  /** Stay down this long before starting again. */
  downMs?: number;
}

export interface KafkaBroker {
  /** host:port for bootstrapBrokers. */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The broker's directory: server.properties, logs/ (its data), broker.log, broker.pid. */
  readonly dataDir: string;
  /** DATA_DIR/broker.log: the broker's own log, appended on each start. */
  readonly logFile: string;
  /** The current JVM's pid (changes on restart); 0 while stopped. */
  readonly pid: number;
  /**
   * ms: fetchMs in fetch.sh (tiny when the jars are cached); startMs in start.sh (format + JVM + ready),
   * readyMs of that from launching the JVM to "Kafka Server started"; the same for each restart() (restartMs
   * includes the stop).
   */
  readonly timings: {
    fetchMs: number;
    fetchCached: boolean;
    startMs: number;
    readyMs: number;
    restartMs: number[];
    restartReadyMs: number[];
  };
  /** Graceful stop (SIGTERM, SIGKILL after 30 s); the data is kept and restart() starts it again. */
  stop(): Promise<void>;
  /** SIGKILL: a crash; the data is kept and restart() recovers it. */
  kill(): Promise<void>;
  /** Stop (or kill) and start again on the same data and ports; starts a stopped broker. */
  restart(options?: RestartOptions): Promise<void>;
  /** The last lines of broker.log. */
  logTail(lines?: number): string;
  /** Stop the broker and remove the data dir (unless kept); idempotent. */
  dispose(): Promise<void>;
}

interface Run {
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], step: KafkaStep, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      join(KAFKA_SCRIPTS, script),
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: process.env },
      (error, stdout, stderr) => {
        if (error) {
          const why =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? `${script} not found or not executable in ${KAFKA_SCRIPTS}`
              : error.killed
                ? `${script} did not finish within ${Math.round(timeoutMs / 1000)} s`
                : `${[script, ...args].join(' ')} exited with ${error.code ?? error.signal}`;
          reject(new KafkaStartError(step, `${why}\n${tail(`${stderr}${stdout}`, 60)}`));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The `key=value` lines start.sh prints. */
function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/** Two distinct free TCP ports on host (both held open until both are known). */
async function freePorts(host: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Java 17+ on PATH, or a KafkaStartError("java"). */
function checkJava(): void {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error) {
    throw new KafkaStartError(
      'java',
      `cannot run java (${r.error.message}): Kafka 4.x needs Java 17+ (apt-get install openjdk-17-jre-headless)`,
    );
  }
  const version = /version "(\d+)/.exec(r.stderr)?.[1];
  if (version !== undefined && Number(version) < 17) {
    throw new KafkaStartError('java', `Java ${version} found, Kafka 4.x needs Java 17+:\n${r.stderr}`);
  }
}

/**
 * Fetches the broker's jars (scripts/kafka/fetch.sh: from Maven Central the first time, then cached in
 * $APIWARDEN_KAFKA_HOME/lib, default ~/.cache/apiwarden/kafka/lib). Returns how long it took.
 */
export async function fetchKafkaJars(timeoutMs = 600_000): Promise<{ ms: number; cached: boolean }> {
  checkJava();
  const t0 = performance.now();
  const { stdout } = await run('fetch.sh', [], 'fetch', timeoutMs);
  return { ms: performance.now() - t0, cached: /, cached\)$/m.test(stdout) };
}

/** Starts a broker on free ports with a new data dir; see the file's comment. */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const host = options.host ?? '127.0.0.1';
  const startTimeoutS = options.startTimeoutS ?? 90;
  const scriptTimeoutMs = (startTimeoutS + 60) * 1000;
  const keep = options.keepDataDir === true || process.env.KAFKA_KEEP_DATA === '1';

  const fetched = await fetchKafkaJars(options.fetchTimeoutMs);
  const [port, controllerPort] = await freePorts(host, 2);
  const dataDir = mkdtempSync(join(tmpdir(), 'apiwarden-kafka-'));
  const logFile = join(dataDir, 'broker.log');
  const startArgs = [
    '--data-dir',
    dataDir,
    '--timeout',
    String(startTimeoutS),
    '--watch-pid',
    String(process.pid),
  ];

  let pid = 0;
  let disposed = false;
  const killOnExit = (): void => {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const logTail = (lines = 40): string =>
    existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), lines) : `(no ${logFile})`;

  const started = (stdout: string): number => {
    const values = parseKeyValues(stdout);
    pid = Number(values.get('pid') ?? 0);
    return Number(values.get('start_ms') ?? Number.NaN);
  };

  process.on('exit', killOnExit);
  let readyMs: number;
  const tStart = performance.now();
  try {
    const { stdout } = await run(
      'start.sh',
      [...startArgs, '--host', host, '--port', String(port), '--controller-port', String(controllerPort)],
      'start',
      scriptTimeoutMs,
    );
    readyMs = started(stdout);
  } catch (error) {
    process.off('exit', killOnExit);
    await run('stop.sh', ['--data-dir', dataDir, '--kill'], 'stop', 60_000).catch(() => undefined);
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  const timings = {
    fetchMs: fetched.ms,
    fetchCached: fetched.cached,
    startMs: performance.now() - tStart,
    readyMs,
    restartMs: [] as number[],
    restartReadyMs: [] as number[],
  };
  const stopWith = async (kill: boolean): Promise<void> => {
    await run('stop.sh', ['--data-dir', dataDir, ...(kill ? ['--kill'] : [])], 'stop', 90_000);
    pid = 0;
  };

  return {
    bootstrap: `${host}:${port}`,
    host,
    port,
    controllerPort,
    dataDir,
    logFile,
    get pid() {
      return pid;
    },
    timings,
    stop: () => stopWith(false),
    kill: () => stopWith(true),
    async restart(restart: RestartOptions = {}) {
      const t0 = performance.now();
      await stopWith(restart.kill === true);
      if (restart.downMs) await new Promise((resolve) => setTimeout(resolve, restart.downMs));
      const { stdout } = await run('start.sh', startArgs, 'start', scriptTimeoutMs);
      timings.restartReadyMs.push(started(stdout));
      timings.restartMs.push(performance.now() - t0);
    },
    logTail,
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await stopWith(false);
      } finally {
        process.off('exit', killOnExit);
        if (!keep) rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
